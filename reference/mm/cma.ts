// The Contiguous Memory Allocator: mm/cma.c (5.10, 6.6), spec kernel-alloc.md §8.3-8.4.
//
// Model simplification, and why no invariant changes: in the kernel an area's
// pages are lent to the buddy allocator as MIGRATE_CMA pageblocks, and
// cma_alloc takes them back with alloc_contig_range, migrating any movable
// pages away. Here the pages are withheld from the buddy allocator at boot
// (reference/system.ts hands each area to mmConfigOf as a reservation). Nothing
// in the model makes movable allocations, so the buddy would never have used
// those pages for anything but what it gives back: alloc_contig_range always
// succeeds and free_contig_range returns the pages to the area only. The pages
// still lie inside their zone's span (zoneOfPfn finds them), as in the kernel.
//
// Boot-time reservation (cma_declare_contiguous_nid, cma_init_reserved_mem)
// works on a model of memblock (CmaBootState) before the buddy exists;
// cma_activate_area runs on the built machine.

import type { Machine } from '../system.ts';
import type { KernelVersion, MemoryRange } from '../config/profile.ts';
import { EBUSY, EINVAL, ENOMEM, ENOSPC, KernelBug, ModelError, PAGE_SHIFT, PAGE_SIZE_N, PFN_PHYS, PHYS_PFN, hex } from '../types.ts';
import { kenter, kexit, knote } from '../trace.ts';
import { mutex_lock } from '../kernel/locking/mutex.ts';
import { bitmapAlloc, bitmap_clear, bitmap_find_next_zero_area_off, bitmap_set } from '../lib/bitmap.ts';
import { zoneOfPfn } from './page_alloc.ts';

const GiB4 = 1n << 32n;
const MiB = 1n << 20n;

/** include/linux/cma.h / mm/cma.h struct cma (the fields the model uses). */
export interface cma {
  name: string;
  base_pfn: number;
  /** Pages in the area; 0 after a failed activation (cma_alloc then returns NULL). */
  count: number;
  order_per_bit: number;
  bitmap: Uint32Array;
  /** Model: live allocations, first PFN -> pages (what cma_release may give back). */
  allocated: Map<number, number>;
  /**
   * Model observation, never read by the reference: when a harness sets it, every
   * request the DMA layer makes of this area is appended, as the caller made it
   * (before any CONFIG_CMA_ALIGNMENT cap), with its result, so an oracle can
   * check each one (see model/oracle/cma-oracle.ts).
   */
  requests?: CmaRequest[];
}

/** One request of kernel/dma/contiguous.c to an area, as the model observed it. */
export type CmaRequest =
  | { fn: 'cma_alloc_aligned'; size: bigint; pfn: number | null }
  | { fn: 'dma_alloc_from_contiguous'; count: number; align: number; pfn: number | null }
  | { fn: 'cma_release'; pfn: number; count: number; released: boolean };

// ---------------------------------------------------------------- boot (memblock model)

/** Model of what CMA reservation sees of memblock during setup_bootmem, plus cma_areas[]. */
export interface CmaBootState {
  kernel: KernelVersion;
  /** memblock.memory (the banks the kernel uses). */
  memory: readonly MemoryRange[];
  /** memblock.reserved; reservations made here are appended, memblock_free removes. */
  reserved: MemoryRange[];
  /** cma_areas[0..cma_area_count). */
  areas: { name: string; base: bigint; size: bigint; order_per_bit: number }[];
  /** MAX_CMA_AREAS = 1 + CONFIG_CMA_AREAS. */
  maxAreas: number;
  /** CONFIG_HUGETLB_PAGE: sets pageblock_order (see cmaMinAlignmentBytes). */
  hugetlbPage: boolean;
  /** Boot messages, in order. */
  log: string[];
}

/**
 * Smallest alignment of a CMA area in bytes. 5.10: PAGE_SIZE << max(MAX_ORDER - 1,
 * pageblock_order) = 4 MiB (MAX_ORDER - 1 = 10 dominates). 6.6: CMA_MIN_ALIGNMENT_BYTES
 * = PAGE_SIZE * pageblock_nr_pages, pageblock_order = min(HUGETLB_PAGE_ORDER, MAX_ORDER)
 * with CONFIG_HUGETLB_PAGE (riscv: 21 - 12 = 9 -> 2 MiB), else MAX_ORDER (10 -> 4 MiB).
 */
export function cmaMinAlignmentBytes(kernel: KernelVersion, hugetlbPage: boolean): bigint {
  if (kernel === '5.10') return PAGE_SIZE_N << 10n;
  return PAGE_SIZE_N << (hugetlbPage ? 9n : 10n);
}

function rangeEnd(r: MemoryRange): bigint {
  return r.base + r.size;
}

function sortedMerged(rs: readonly MemoryRange[]): { base: bigint; end: bigint }[] {
  const s = rs
    .filter((r) => r.size > 0n)
    .map((r) => ({ base: r.base, end: rangeEnd(r) }))
    .sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  const out: { base: bigint; end: bigint }[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last !== undefined && r.base <= last.end) {
      if (r.end > last.end) last.end = r.end;
    } else out.push({ ...r });
  }
  return out;
}

/** Model helper: for_each_free_mem_range, memory minus reserved, lowest first. */
export function memblockFreeRanges(boot: CmaBootState): { base: bigint; end: bigint }[] {
  const res = sortedMerged(boot.reserved);
  const out: { base: bigint; end: bigint }[] = [];
  for (const m of sortedMerged(boot.memory)) {
    let cur = m.base;
    for (const r of res) {
      if (r.end <= cur || r.base >= m.end) continue;
      if (r.base > cur) out.push({ base: cur, end: r.base });
      if (r.end > cur) cur = r.end;
    }
    if (cur < m.end) out.push({ base: cur, end: m.end });
  }
  return out;
}

/** Model helper: memblock_end_of_DRAM (5.10, 6.6). */
export function memblockEndOfDram(boot: Pick<CmaBootState, 'memory'>): bigint {
  return boot.memory.reduce((e, r) => (rangeEnd(r) > e ? rangeEnd(r) : e), 0n);
}

/** Model helper: memblock_phys_mem_size (5.10, 6.6). */
export function memblockPhysMemSize(boot: Pick<CmaBootState, 'memory'>): bigint {
  return sortedMerged(boot.memory).reduce((s, r) => s + (r.end - r.base), 0n);
}

/** Model helper: memblock_is_region_reserved (5.10, 6.6): does [base, base+size) intersect a reservation. */
export function memblockIsRegionReserved(boot: CmaBootState, base: bigint, size: bigint): boolean {
  const end = base + size;
  return boot.reserved.some((r) => r.size > 0n && r.base < end && base < rangeEnd(r));
}

/** Model helper: memblock_free / memblock_phys_free: the range leaves memblock.reserved, whoever reserved it. */
export function memblockFree(boot: CmaBootState, base: bigint, size: bigint): void {
  const end = base + size;
  const next: MemoryRange[] = [];
  for (const r of boot.reserved) {
    const rEnd = rangeEnd(r);
    if (rEnd <= base || r.base >= end) {
      next.push(r);
      continue;
    }
    if (r.base < base) next.push({ base: r.base, size: base - r.base });
    if (rEnd > end) next.push({ base: end, size: rEnd - end });
  }
  boot.reserved = next;
}

/**
 * Model helper: memblock_find_in_range_node + memblock_reserve as
 * memblock_alloc_range_nid uses them (5.10, 6.6): the first page is never
 * handed out; top-down takes the highest fit, cand = round_down(end - size,
 * align); bottom-up (6.6's CMA pass above 4 GiB) the lowest, round_up(start,
 * align). Returns 0 on failure, as the kernel does.
 */
function memblockAllocRange(boot: CmaBootState, size: bigint, align: bigint, start: bigint, end: bigint, bottomUp: boolean): bigint {
  const lo = start > PAGE_SIZE_N ? start : PAGE_SIZE_N;
  const hi = end > lo ? end : lo;
  const free = memblockFreeRanges(boot);
  if (bottomUp) free.sort((a, b) => (a.base < b.base ? -1 : 1));
  else free.sort((a, b) => (a.base < b.base ? 1 : -1));
  for (const r of free) {
    const s = r.base < lo ? lo : r.base > hi ? hi : r.base;
    const e = r.end < lo ? lo : r.end > hi ? hi : r.end;
    if (bottomUp) {
      const cand = ((s + align - 1n) / align) * align;
      if (cand < e && e - cand >= size) {
        boot.reserved.push({ base: cand, size });
        return cand;
      }
    } else {
      if (e < size) continue;
      const cand = ((e - size) / align) * align;
      if (cand >= s) {
        boot.reserved.push({ base: cand, size });
        return cand;
      }
    }
  }
  return 0n;
}

function isPowerOfTwo(x: bigint): boolean {
  return x > 0n && (x & (x - 1n)) === 0n;
}

function alignUp(x: bigint, a: bigint): bigint {
  return (x + a - 1n) & ~(a - 1n);
}

function mib(x: bigint): string {
  return (x / MiB).toString();
}

/**
 * mm/cma.c cma_init_reserved_mem (5.10, 6.6): record an already reserved range
 * as the next cma_areas[] entry. Returns its index, or -errno. 5.10 checks
 * alignment to PAGE_SIZE << max(MAX_ORDER - 1, pageblock_order), 6.6 to
 * CMA_MIN_ALIGNMENT_BYTES (cmaMinAlignmentBytes has both).
 */
export function cma_init_reserved_mem(boot: CmaBootState, base: bigint, size: bigint, order_per_bit: number, name: string | null): number {
  kenter('cma_init_reserved_mem');
  try {
    if (boot.areas.length === boot.maxAreas) {
      boot.log.push('cma: Not enough slots for CMA reserved regions!');
      return -ENOSPC;
    }
    if (size === 0n || !memblockIsRegionReserved(boot, base, size)) return -EINVAL;
    const alignment = cmaMinAlignmentBytes(boot.kernel, boot.hugetlbPage);
    if (((alignment >> BigInt(PAGE_SHIFT)) & ((1n << BigInt(order_per_bit)) - 1n)) !== 0n) return -EINVAL;
    if ((base & (alignment - 1n)) !== 0n || (size & (alignment - 1n)) !== 0n) {
      knote('not aligned');
      return -EINVAL;
    }
    boot.areas.push({ name: name ?? `cma${boot.areas.length}`, base, size, order_per_bit });
    return boot.areas.length - 1;
  } finally {
    kexit();
  }
}

/**
 * mm/cma.c cma_declare_contiguous_nid (5.10, 6.6): reserve `size` bytes at a
 * fixed base or anywhere in [base, limit), then cma_init_reserved_mem. Returns
 * the cma_areas[] index or -errno.
 *
 * Placement (a non-fixed area; spec §8.4 marks it UNVERIFIED, this is what the
 * model does): memblock top-down, the highest aligned fit below `limit`.
 * 6.6 (since 5.11, "mm: cma: allocate cma areas bottom-up") first tries
 * bottom-up in [4 GiB, limit) when memblock_end >= 4 GiB + size; riscv passes
 * dma32_phys_limit <= 4 GiB, so that pass never finds room and the result is
 * the 5.10 one. The highmem split is left out: riscv64 has no highmem, so
 * highmem_start is at or past the end of DRAM and the split never fires.
 */
export function cma_declare_contiguous_nid(
  boot: CmaBootState,
  baseIn: bigint,
  sizeIn: bigint,
  limitIn: bigint,
  alignmentIn: bigint,
  order_per_bit: number,
  fixedIn: boolean,
  name: string,
): number {
  kenter('cma_declare_contiguous_nid');
  try {
    const memblock_end = memblockEndOfDram(boot);
    let base = baseIn;
    let size = sizeIn;
    let limit = limitIn;
    let fixed = fixedIn;
    if (boot.areas.length === boot.maxAreas) {
      boot.log.push('cma: Not enough slots for CMA reserved regions!');
      return -ENOSPC;
    }
    if (size === 0n) return -EINVAL;
    if (alignmentIn !== 0n && !isPowerOfTwo(alignmentIn)) return -EINVAL;
    const minAlign = cmaMinAlignmentBytes(boot.kernel, boot.hugetlbPage);
    const alignment = alignmentIn > minAlign ? alignmentIn : minAlign;
    const fail = (ret: number): number => {
      boot.log.push(`cma: Failed to reserve ${mib(size)} MiB`);
      return ret;
    };
    if (fixed && (base & (alignment - 1n)) !== 0n) {
      boot.log.push(`cma: Region at ${hex(base)} must be aligned to ${hex(alignment)} bytes`);
      return fail(-EINVAL);
    }
    base = alignUp(base, alignment);
    size = alignUp(size, alignment);
    limit &= ~(alignment - 1n);
    if (base === 0n) fixed = false;
    if (((size >> BigInt(PAGE_SHIFT)) & ((1n << BigInt(order_per_bit)) - 1n)) !== 0n) return -EINVAL;
    if (limit === 0n || limit > memblock_end) limit = memblock_end;
    if (base + size > limit) {
      boot.log.push(`cma: Size (${hex(size)}) of region at ${hex(base)} exceeds limit (${hex(limit)})`);
      return fail(-EINVAL);
    }
    if (fixed) {
      if (memblockIsRegionReserved(boot, base, size)) {
        knote('fixed region already reserved');
        return fail(-EBUSY);
      }
      boot.reserved.push({ base, size });
    } else {
      let addr = 0n;
      if (boot.kernel === '6.6' && memblock_end >= GiB4 + size) {
        knote('6.6: try bottom-up above 4 GiB');
        addr = memblockAllocRange(boot, size, alignment, GiB4, limit, true);
      }
      if (addr === 0n) addr = memblockAllocRange(boot, size, alignment, base, limit, false);
      if (addr === 0n) {
        knote('no room below the limit');
        return fail(-ENOMEM);
      }
      base = addr;
    }
    const idx = cma_init_reserved_mem(boot, base, size, order_per_bit, name);
    if (idx < 0) {
      memblockFree(boot, base, size);
      return fail(idx);
    }
    boot.log.push(`cma: Reserved ${mib(size)} MiB at ${hex(base)}`);
    return idx;
  } finally {
    kexit();
  }
}

/** include/linux/cma.h cma_declare_contiguous (5.10, 6.6): cma_declare_contiguous_nid on NUMA_NO_NODE. */
export function cma_declare_contiguous(
  boot: CmaBootState,
  base: bigint,
  size: bigint,
  limit: bigint,
  alignment: bigint,
  order_per_bit: number,
  fixed: boolean,
  name: string,
): number {
  kenter('cma_declare_contiguous');
  try {
    return cma_declare_contiguous_nid(boot, base, size, limit, alignment, order_per_bit, fixed, name);
  } finally {
    kexit();
  }
}

/** Model helper: the struct cma cma_init_reserved_mem filled in, before activation (no bitmap yet). */
export function cmaObject(name: string, base: bigint, size: bigint, order_per_bit: number): cma {
  if ((base & (PAGE_SIZE_N - 1n)) !== 0n || (size & (PAGE_SIZE_N - 1n)) !== 0n) {
    throw new ModelError(`cma area ${name}: base ${hex(base)} / size ${hex(size)} not page aligned`);
  }
  return { name, base_pfn: PHYS_PFN(base), count: Number(size >> BigInt(PAGE_SHIFT)), order_per_bit, bitmap: new Uint32Array(0), allocated: new Map() };
}

/**
 * mm/cma.c cma_activate_area (5.10, 6.6): allocate the bitmap and require the
 * whole area to lie in one zone. On failure count becomes 0 and "could not be
 * activated" is logged; 6.6 then frees the pages to the buddy
 * (!reserve_pages_on_error), 5.10 leaks them. The model keeps them withheld
 * in both (a divergence for 6.6 that only a zone-straddling DT area reaches).
 */
export function cma_activate_area(m: Machine, area: cma, log: string[]): void {
  kenter('cma_activate_area');
  try {
    area.bitmap = bitmapAlloc(cma_bitmap_maxno(area));
    const first = zoneOfPfn(m.mm, area.base_pfn);
    const last = area.base_pfn + area.count - 1;
    let ok = first !== null;
    if (!ok) m.warnings.push(`WARN_ON_ONCE(!pfn_valid(pfn)) in cma_activate_area: pfn ${hex(area.base_pfn)}`);
    else if (first !== null && last >= first.zone_start_pfn + first.spanned_pages) {
      knote('area crosses a zone boundary');
      ok = false;
    }
    if (!ok) {
      area.bitmap = new Uint32Array(0);
      area.count = 0;
      log.push(`cma: CMA area ${area.name} could not be activated`);
    }
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------- run time

/** mm/cma.c cma_get_base (5.10, 6.6). */
export function cma_get_base(c: cma): bigint {
  return PFN_PHYS(c.base_pfn);
}

/** mm/cma.c cma_get_size (5.10, 6.6). */
export function cma_get_size(c: cma): bigint {
  return BigInt(c.count) << BigInt(PAGE_SHIFT);
}

/** mm/cma.c cma_get_name (5.10, 6.6). */
export function cma_get_name(c: cma): string {
  return c.name;
}

/** mm/cma.c cma_bitmap_aligned_mask (5.10, 6.6). */
export function cma_bitmap_aligned_mask(c: cma, align_order: number): number {
  if (align_order <= c.order_per_bit) return 0;
  return 2 ** (align_order - c.order_per_bit) - 1;
}

/**
 * mm/cma.c cma_bitmap_aligned_offset (5.10, 6.6): how far base_pfn lies past
 * the previous 2^align_order boundary, in bits: (base_pfn & (2^align - 1)) >> order_per_bit.
 * Unlike cma_bitmap_aligned_mask it has no align_order <= order_per_bit case:
 * base_pfn is a multiple of 2^order_per_bit (cma_init_reserved_mem checks), so
 * the shift leaves 0 there anyway.
 * Fault cma-aligned-offset-wrong: the v4.0..v4.12 form (b5be83e308f7, fixed by
 * "cma: fix calculation of aligned offset", historic D4b), which did return 0
 * for align_order <= order_per_bit and otherwise the distance to the *next*
 * boundary, (ALIGN(base_pfn, 2^align) - base_pfn) >> order_per_bit.
 * The two agree when base_pfn is aligned to 2^(align - 1), so the fault shows
 * only for an alignment more than twice the base's.
 */
export function cma_bitmap_aligned_offset(c: cma, align_order: number, faults: ReadonlySet<string>): number {
  const a = 2 ** align_order;
  const low = c.base_pfn % a;
  if (faults.has('cma-aligned-offset-wrong')) {
    knote('fault cma-aligned-offset-wrong: distance to the next boundary');
    if (align_order <= c.order_per_bit) return 0;
    return Math.floor((low === 0 ? 0 : a - low) / 2 ** c.order_per_bit);
  }
  return Math.floor(low / 2 ** c.order_per_bit);
}

/** mm/cma.c cma_bitmap_maxno (5.10, 6.6). */
export function cma_bitmap_maxno(c: cma): number {
  return Math.floor(c.count / 2 ** c.order_per_bit);
}

/** mm/cma.c cma_bitmap_pages_to_bits (5.10, 6.6): ALIGN(pages, 1 << order_per_bit) >> order_per_bit. */
export function cma_bitmap_pages_to_bits(c: cma, pages: number): number {
  const unit = 2 ** c.order_per_bit;
  return Math.ceil(pages / unit);
}

/** mm/cma.c cma_clear_bitmap (5.10, 6.6). */
export function cma_clear_bitmap(c: cma, pfn: number, count: number): void {
  kenter('cma_clear_bitmap');
  try {
    const bitmap_no = Math.floor((pfn - c.base_pfn) / 2 ** c.order_per_bit);
    bitmap_clear(c.bitmap, bitmap_no, cma_bitmap_pages_to_bits(c, count));
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c alloc_contig_range (5.10, 6.6) for a CMA range: always 0 in
 * the model. The pages are withheld from the buddy allocator (see the file
 * header), so there is nothing to isolate or migrate and -EBUSY never occurs.
 */
export function alloc_contig_range(_m: Machine, _start: number, _end: number): number {
  kenter('alloc_contig_range');
  try {
    return 0;
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c free_contig_range (5.10, 6.6): the pages go back to the area only (see the file header). */
export function free_contig_range(_m: Machine, _pfn: number, _nr_pages: number): void {
  kenter('free_contig_range');
  kexit();
}

function checkCount(fn: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ModelError(`${fn}: page count ${n} must be a non-negative integer`);
}

/**
 * mm/cma.c cma_alloc (5.10 size_t count + mutex; 6.6 unsigned long count +
 * spinlock, cma_mutex around alloc_contig_range and vm event counters: same
 * results). The mutexes make it a sleeping function in both. Returns the
 * first PFN, or null. The bitmap search keeps
 * base_pfn + (bitmap_no << order_per_bit) a multiple of 2^align.
 */
export function cma_alloc(m: Machine, c: cma | null, count: number, align: number, no_warn: boolean): number | null {
  kenter('cma_alloc');
  try {
    checkCount('cma_alloc', count);
    if (!Number.isInteger(align) || align < 0 || align > 52) throw new ModelError(`cma_alloc: align order ${align} outside 0..52`);
    if (c === null || c.count === 0 || c.bitmap.length === 0) {
      knote('no area');
      return null;
    }
    if (count === 0) return null;
    const mask = cma_bitmap_aligned_mask(c, align);
    const offset = cma_bitmap_aligned_offset(c, align, m.faults);
    const bitmap_maxno = cma_bitmap_maxno(c);
    const bitmap_count = cma_bitmap_pages_to_bits(c, count);
    let ret = -ENOMEM;
    let page: number | null = null;
    if (bitmap_count <= bitmap_maxno) {
      let start = 0;
      for (;;) {
        if (m.profile.kernel === '5.10') mutex_lock(m.current); // cma->lock is a mutex in 5.10, a spinlock in 6.6
        const bitmap_no = bitmap_find_next_zero_area_off(c.bitmap, bitmap_maxno, start, bitmap_count, mask, offset, m.faults);
        if (bitmap_no >= bitmap_maxno) break;
        bitmap_set(c.bitmap, bitmap_no, bitmap_count);
        const pfn = c.base_pfn + bitmap_no * 2 ** c.order_per_bit;
        mutex_lock(m.current); // cma_mutex serialises alloc_contig_range (5.10, 6.6)
        ret = alloc_contig_range(m, pfn, pfn + count);
        if (ret === 0) {
          page = pfn;
          break;
        }
        cma_clear_bitmap(c, pfn, count);
        if (ret !== -EBUSY) break;
        start = bitmap_no + mask + 1;
      }
    } else knote('request larger than the area');
    if (page === null) {
      knote(no_warn ? 'alloc failed (no_warn)' : 'alloc failed, req-size logged');
      return null;
    }
    c.allocated.set(page, count);
    return page;
  } finally {
    kexit();
  }
}

/**
 * mm/cma.c cma_release (5.10 unsigned int count; 6.6 unsigned long, via
 * cma_pages_valid): false when the first page is outside the area; a range
 * running past the area's end is VM_BUG_ON (a KernelBug here). Releasing pages
 * that are not allocated frees pages with a zero refcount: a KernelBug too, like
 * the buddy allocator's bad_page. A sub-range of an allocation may be released
 * (free_contig_range frees page by page); the rest stays allocated.
 */
export function cma_release(_m: Machine, c: cma | null, pfn: number, count: number): boolean {
  kenter('cma_release');
  try {
    checkCount('cma_release', count);
    if (c === null) return false;
    if (pfn < c.base_pfn || pfn >= c.base_pfn + c.count) {
      knote('not in this area');
      c.requests?.push({ fn: 'cma_release', pfn, count, released: false });
      return false;
    }
    if (pfn + count > c.base_pfn + c.count) {
      throw new KernelBug(`VM_BUG_ON in cma_release: pfn ${hex(pfn)} + ${count} runs past the end of area ${c.name}`);
    }
    releaseTracked(c, pfn, count);
    free_contig_range(_m, pfn, count);
    cma_clear_bitmap(c, pfn, count);
    c.requests?.push({ fn: 'cma_release', pfn, count, released: true });
    return true;
  } finally {
    kexit();
  }
}

/** Model bookkeeping for cma_release: every page of the range must be allocated; split what is partly released. */
function releaseTracked(c: cma, pfn: number, count: number): void {
  const end = pfn + count;
  const hits: [number, number][] = [];
  let covered = 0;
  for (const [s, n] of c.allocated) {
    const e = s + n;
    if (e <= pfn || s >= end) continue;
    hits.push([s, n]);
    covered += Math.min(e, end) - Math.max(s, pfn);
  }
  if (covered !== count) {
    throw new KernelBug(`bad_page: cma_release of pfn ${hex(pfn)} + ${count} in area ${c.name} frees pages that are not allocated`);
  }
  for (const [s, n] of hits) {
    c.allocated.delete(s);
    if (s < pfn) c.allocated.set(s, pfn - s);
    if (s + n > end) c.allocated.set(end, s + n - end);
  }
}
