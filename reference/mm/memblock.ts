// Boot-time memory hand-over: mm/memblock.c (5.10, 6.6). memblock knows the DRAM
// banks and the reservations; memblock_free_all gives everything else to the
// buddy allocator. The model does that lazily: a zone keeps its share as PFN
// ranges and mm/page_alloc.ts carves blocks from them (with the rule of
// __free_pages_memory below) only when a free list runs dry, so a 128 GiB map
// costs nothing until it is used.

import type { MemoryRange } from '../config/profile.ts';
import { ModelError, PAGE_SHIFT } from '../types.ts';
import { kenter, kexit, knote } from '../trace.ts';
import { MAX_PAGE_ORDER_LARGEST, type PfnRange, type PglistData } from './mmzone.ts';

const PAGE_MASK_N = (1n << BigInt(PAGE_SHIFT)) - 1n;

interface ByteRange {
  base: bigint;
  end: bigint;
}

/** Sorted, with overlapping and touching ranges joined (memblock merges adjacent regions). */
function mergeRanges(rs: readonly MemoryRange[]): ByteRange[] {
  const sorted = rs
    .map((r) => {
      if (r.size < 0n || r.base < 0n) throw new ModelError(`memblock: bad range base ${r.base} size ${r.size}`);
      return { base: r.base, end: r.base + r.size };
    })
    .filter((r) => r.end > r.base)
    .sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.base <= last.end) {
      if (r.end > last.end) last.end = r.end;
    } else out.push({ ...r });
  }
  return out;
}

/** Round a byte range inward to whole pages, as PFN_UP(start) .. PFN_DOWN(end). */
function pfnInward(r: ByteRange): PfnRange | null {
  const start = Number((r.base + PAGE_MASK_N) >> BigInt(PAGE_SHIFT));
  const end = Number(r.end >> BigInt(PAGE_SHIFT));
  return end > start ? { start, end } : null;
}

/** Model helper: memblock.memory as whole-page PFN ranges (what counts as present). */
export function memblockMemoryPfnRanges(memory: readonly MemoryRange[]): PfnRange[] {
  const out: PfnRange[] = [];
  for (const r of mergeRanges(memory)) {
    const p = pfnInward(r);
    if (p !== null) out.push(p);
  }
  return out;
}

/**
 * Model helper: for_each_free_mem_range as free_low_memory_core_early walks it
 * (mm/memblock.c, 5.10 and 6.6): memory minus reserved at byte granularity,
 * each piece then rounded inward to whole pages, so a partly reserved page is
 * never handed over.
 */
export function memblockFreePfnRanges(memory: readonly MemoryRange[], reserved: readonly MemoryRange[]): PfnRange[] {
  const res = mergeRanges(reserved);
  const out: PfnRange[] = [];
  for (const m of mergeRanges(memory)) {
    let cur = m.base;
    for (const r of res) {
      if (r.end <= cur || r.base >= m.end) continue;
      if (r.base > cur) {
        const p = pfnInward({ base: cur, end: r.base });
        if (p !== null) out.push(p);
      }
      if (r.end > cur) cur = r.end;
      if (cur >= m.end) break;
    }
    if (cur < m.end) {
      const p = pfnInward({ base: cur, end: m.end });
      if (p !== null) out.push(p);
    }
  }
  return out;
}

/** Count trailing zeros of pfn, capped at the largest order (an aligned 0 is "infinitely" aligned). */
function ffsCapped(pfn: number): number {
  // Only the low 11 bits matter for the cap; & keeps them exactly even above 2^32.
  const low = pfn & ((1 << (MAX_PAGE_ORDER_LARGEST + 1)) - 1);
  if (low === 0) return MAX_PAGE_ORDER_LARGEST;
  return Math.min(MAX_PAGE_ORDER_LARGEST, 31 - Math.clz32(low & -low));
}

/**
 * Model helper: the order of the next block __free_pages_memory hands over from
 * [start, end): min(largest order, __ffs(start)), lowered until the block fits.
 * `unaligned` is fault buddy-unaligned-carve: the __ffs limit is dropped, so a
 * block may start off its natural alignment.
 */
export function bootBlockOrder(start: number, end: number, unaligned: boolean): number {
  let order = unaligned ? MAX_PAGE_ORDER_LARGEST : ffsCapped(start);
  while (order > 0 && start + 2 ** order > end) order--;
  return order;
}

/**
 * Model helper: the largest block __free_pages_memory would produce from
 * [start, end), -1 when the range is empty. With the kernel rule that is the
 * largest order k <= 10 for which some 2^k-aligned block fits inside (the
 * greedy split is the minimal cover by aligned blocks); with the fault the first
 * block is the largest.
 */
export function bootMaxBlockOrder(start: number, end: number, unaligned: boolean): number {
  if (end <= start) return -1;
  if (unaligned) return bootBlockOrder(start, end, true);
  for (let k = MAX_PAGE_ORDER_LARGEST; k > 0; k--) {
    const size = 2 ** k;
    const first = Math.ceil(start / size) * size;
    if (first + size <= end) return k;
  }
  return 0;
}

/**
 * mm/memblock.c __free_pages_memory (5.10, 6.6), eager form: hands [start, end)
 * over block by block. The model's allocator uses the same rule lazily; this
 * form exists so tests can compare the two.
 */
export function __free_pages_memory(
  start: number,
  end: number,
  faults: ReadonlySet<string>,
  free: (pfn: number, order: number) => void,
): void {
  kenter('__free_pages_memory');
  try {
    const unaligned = faults.has('buddy-unaligned-carve');
    while (start < end) {
      const order = bootBlockOrder(start, end, unaligned);
      free(start, order);
      start += 2 ** order;
    }
  } finally {
    kexit();
  }
}

/**
 * mm/memblock.c memblock_free_all (5.10, 6.6), lazy form: every free memblock
 * range is split at zone boundaries and parked on its zone as boot memory; the
 * pages count as managed and free at once (in the kernel __free_pages_core adds
 * them to managed_pages as it frees them, which ends at the same totals). The
 * blocks themselves appear when page_alloc carves them. Deferred struct-page
 * init is not modelled.
 */
export function memblock_free_all(pgdat: PglistData, freeRanges: readonly PfnRange[]): number {
  kenter('memblock_free_all');
  try {
    let total = 0;
    for (const zone of pgdat.node_zones) {
      const zs = zone.zone_start_pfn;
      const ze = zs + zone.spanned_pages;
      if (ze <= zs) continue;
      for (const r of freeRanges) {
        const s = Math.max(r.start, zs);
        const e = Math.min(r.end, ze);
        if (e <= s) continue;
        zone.bootRanges.push({ start: s, end: e });
        zone.bootPages += e - s;
        zone.managed_pages += e - s;
        total += e - s;
      }
      zone.bootMaxOrder = null;
    }
    if (total === 0) knote('no free memory');
    return total;
  } finally {
    kexit();
  }
}
