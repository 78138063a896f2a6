// kernel/resource.c walk_system_ram_range (5.10, 6.6) over the "System RAM"
// resources arch/riscv/kernel/setup.c init_resources registers: one per
// memblock memory region (memblock joins touching banks), while a no-map
// region (memblock_mark_nomap from a no-map reserved-memory node) becomes
// "Reserved" instead and drops out. Reservations that stay mapped (kernel image,
// CMA, swiotlb) are still System RAM. Only the 6.6 linear-map RAM counts
// (m.init_mm.memory: setup_bootmem already removed what Sv39 cannot map).

import type { Machine } from '../system.ts';
import type { MemoryRange } from '../config/profile.ts';
import { memblockMemoryPfnRanges } from '../mm/memblock.ts';
import type { PfnRange } from '../mm/mmzone.ts';
import { kenter, kexit } from '../trace.ts';
import { EINVAL, ModelError } from '../types.ts';

/** Splits the ranges around the holes (both sorted; the holes need not lie inside). */
function subtract(ranges: readonly PfnRange[], holes: readonly PfnRange[]): PfnRange[] {
  let out = ranges.map((r) => ({ ...r }));
  for (const h of holes) {
    const next: PfnRange[] = [];
    for (const r of out) {
      if (h.end <= r.start || h.start >= r.end) {
        next.push(r);
        continue;
      }
      if (h.start > r.start) next.push({ start: r.start, end: h.start });
      if (h.end < r.end) next.push({ start: h.end, end: r.end });
    }
    out = next;
  }
  return out;
}

/**
 * Model helper: the System RAM resources in address order, as PFN ranges
 * (PFN_UP(start) .. PFN_DOWN(end + 1), which walk_system_ram_range hands on).
 */
export function systemRamResources(m: Machine): PfnRange[] {
  const memory: readonly MemoryRange[] = m.init_mm.memory ?? m.profile.memory;
  const nomap = m.reservedMem.reserved_mem
    // A no-map + reusable shared-dma-pool fails both rmem_cma_setup and rmem_dma_setup; 6.6
    // fdt_init_reserved_mem then clears nomap (memblock_clear_nomap): System RAM again. (5.10 calls
    // memblock_add instead, which leaves a static node's NOMAP flag set: not modelled.)
    .filter((r) => r.node.noMap === true && r.node.reusable !== true)
    .map((r) => ({ base: r.base, size: r.size }));
  return subtract(memblockMemoryPfnRanges(memory), memblockMemoryPfnRanges(nomap));
}

/**
 * kernel/resource.c walk_system_ram_range (5.10, 6.6): calls func(start_pfn,
 * nr_pages) for each System RAM resource inside [start_pfn, start_pfn +
 * nr_pages), clipped to it, until func returns non-zero; -EINVAL when no
 * resource was visited. The kernel computes the byte end in u64, so the
 * caller's "everything" (PFN_DOWN(ULONG_MAX) + 1 pages from 0) wraps to
 * ULONG_MAX: pass Infinity for that.
 */
export function walk_system_ram_range(m: Machine, start_pfn: number, nr_pages: number, func: (start_pfn: number, nr_pages: number) => number): number {
  kenter('walk_system_ram_range');
  try {
    if (!(nr_pages >= 0) || !Number.isInteger(start_pfn) || start_pfn < 0) throw new ModelError(`walk_system_ram_range(${start_pfn}, ${nr_pages})`);
    // The kernel's byte end, ((start_pfn + nr_pages) << PAGE_SHIFT) - 1, wraps to U64_MAX for (0, 0): everything.
    const end = start_pfn === 0 && nr_pages === 0 ? Infinity : start_pfn + nr_pages;
    let ret = -EINVAL;
    for (const r of systemRamResources(m)) {
      const pfn = Math.max(r.start, start_pfn);
      const end_pfn = Math.min(r.end, end);
      if (end_pfn <= pfn) continue;
      ret = func(pfn, end_pfn - pfn);
      if (ret !== 0) break;
    }
    return ret;
  } finally {
    kexit();
  }
}
