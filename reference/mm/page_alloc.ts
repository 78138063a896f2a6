// The zoned buddy allocator: mm/page_alloc.c (5.10, 6.6; zone setup moved to
// mm/mm_init.c in 6.4, same behaviour). A PFN stands for a struct page *.
//
// What the model leaves out, and why no invariant changes:
// - Per-CPU page lists (order 0 in 5.10, order <= PAGE_ALLOC_COSTLY_ORDER in
//   6.6) only cache blocks that came from and go back to the buddy lists; they
//   move which block is handed out next, never alignment, zone or ownership.
// - Migratetypes, pageblocks, highatomic reserves and CMA free lists: one list
//   per order. All model allocations are pinned, so there is nothing to steal
//   from or migrate.
// - Reclaim, compaction, kswapd and OOM: nothing is reclaimable, so a blocking
//   allocation that fails at the MIN watermark fails (returns NULL) as well.
// - __free_one_page's tail placement (FPI_TO_TAIL aside) by shuffle or
//   buddy_merge_likely: a freed block always goes to the list head.
// - Boot memory is handed over lazily (see memblock.ts): the lists hold only
//   blocks carved so far, while every count of free pages includes the rest.
//   The eager kernel can pick a small boot block from a range edge before
//   splitting a big one; here the edge is reached later. Placement differs,
//   every block is still naturally aligned and inside one zone.
// Watermark and lowmem_reserve arithmetic follow the kernel as recalled and
// partly checked (6.6 __zone_watermark_ok read); spec §7.4 marks the rest
// UNVERIFIED. Exact numbers matter less than alignment, zone placement,
// no overlap and conservation.

import type { KernelVersion, MemoryRange } from '../config/profile.ts';
import { KernelBug, ModelError, PAGE_SHIFT, PFN_PHYS, PHYS_PFN, hex } from '../types.ts';
import { kenter, kexit, knote } from '../trace.ts';
import { gfpFlags, gfp_zone, gfpflags_allow_blocking } from '../include/linux/gfp.ts';
import { might_sleep_if } from '../include/linux/kernel.ts';
import {
  MAX_NR_ZONES,
  MAX_PAGE_ORDER_LARGEST,
  NR_PAGE_ORDERS,
  NUMA_NO_NODE,
  FreeList,
  ZoneType,
  zone_names,
  type FreeBlockNode,
  type PfnRange,
  type PglistData,
  type Zone,
} from './mmzone.ts';
import { bootBlockOrder, bootMaxBlockOrder, memblockFreePfnRanges, memblockMemoryPfnRanges, memblock_free_all } from './memblock.ts';

// Re-exported so users of the allocator need one import.
export { MAX_ORDER, MAX_PAGE_ORDER_LARGEST, NUMA_NO_NODE, ZoneType, zone_names } from './mmzone.ts';
export type { PglistData, Zone, PfnRange } from './mmzone.ts';

export interface MmConfig {
  kernel: KernelVersion;
  /** DRAM banks. */
  memory: readonly MemoryRange[];
  /** memblock reservations (never given to the buddy). */
  reserved: readonly MemoryRange[];
  CONFIG_ZONE_DMA: boolean;
  CONFIG_ZONE_DMA32: boolean;
  /** ZONE_DMA = below 2^zoneDmaBits. */
  zoneDmaBits: number;
  faults: ReadonlySet<string>;
}

// mm/internal.h alloc_flags (values identical in 5.10 and 6.6 where the name exists).
export const ALLOC_WMARK_MIN = 0;
export const ALLOC_WMARK_LOW = 1;
export const ALLOC_WMARK_HIGH = 2;
export const ALLOC_NO_WATERMARKS = 0x04;
export const ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1;
export const ALLOC_OOM = 0x08;
/** 5.10 only: __GFP_ATOMIC (or an RT task) may dip a further quarter below min. */
export const ALLOC_HARDER = 0x10;
/** 6.6 only: the caller cannot block (took ALLOC_HARDER's bit in v6.3). */
export const ALLOC_NON_BLOCK = 0x10;
/** 5.10 only: __GFP_HIGH, half of min. Same bit as __GFP_HIGH. */
export const ALLOC_HIGH = 0x20;
/** 6.6 only: __GFP_HIGH, half of min (renamed from ALLOC_HIGH in v6.3). */
export const ALLOC_MIN_RESERVE = 0x20;
export const ALLOC_CPUSET = 0x40;
export const ALLOC_CMA = 0x80;
export const ALLOC_NOFRAGMENT = 0x100;
/** 6.6 only. */
export const ALLOC_HIGHATOMIC = 0x200;
/** Same bit as __GFP_KSWAPD_RECLAIM. */
export const ALLOC_KSWAPD = 0x800;
/** 6.6 only. */
export const ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM;

/** mm/page_alloc.c sysctl_lowmem_reserve_ratio defaults by zone (5.10, 6.6); MOVABLE 0. */
export const sysctl_lowmem_reserve_ratio: readonly number[] = [256, 256, 32, 0];
/** mm/page_alloc.c watermark_scale_factor default (5.10, 6.6). */
export const watermark_scale_factor = 10;

/** mm/internal.h struct alloc_context (the fields the model uses). */
export interface AllocContext {
  highest_zoneidx: ZoneType;
  preferred_nid: number;
  nodemask: readonly number[] | null;
}

const LARGEST = MAX_PAGE_ORDER_LARGEST;
const FOUR_GIB_PFN = 2 ** (32 - PAGE_SHIFT);

function checkOrderArg(order: number): void {
  if (!Number.isInteger(order) || order < 0) throw new ModelError(`order must be a non-negative integer, got ${order}`);
}

// ---------------------------------------------------------------- setup

function newZone(idx: ZoneType): Zone {
  const free_area = [];
  for (let o = 0; o < NR_PAGE_ORDERS; o++) free_area.push({ nr_free: 0, list: new FreeList() });
  return {
    name: zone_names[idx],
    idx,
    node: 0,
    zone_start_pfn: 0,
    spanned_pages: 0,
    present_pages: 0,
    managed_pages: 0,
    free_area,
    _watermark: { min: 0, low: 0, high: 0 },
    watermark_boost: 0,
    lowmem_reserve: new Array<number>(MAX_NR_ZONES).fill(0),
    freeMap: new Map(),
    listedFreePages: 0,
    bootRanges: [],
    bootIdx: 0,
    bootPages: 0,
    bootMaxOrder: -1,
  };
}

/**
 * mm/page_alloc.c free_area_init (5.10; mm/mm_init.c in 6.6): zone spans from
 * the per-zone PFN limits, clamped to the node's span; present pages are the
 * memblock.memory pages inside each span. ZONE_MOVABLE stays empty (no
 * kernelcore=/movablecore=).
 */
export function free_area_init(pgdat: PglistData, max_zone_pfn: readonly number[], memory: readonly PfnRange[]): void {
  kenter('free_area_init');
  try {
    const nodeStart = memory.length > 0 ? memory[0].start : 0;
    const nodeEnd = memory.length > 0 ? memory[memory.length - 1].end : 0;
    pgdat.node_start_pfn = nodeStart;
    pgdat.node_spanned_pages = nodeEnd - nodeStart;
    const clamp = (x: number): number => Math.min(Math.max(x, nodeStart), nodeEnd);
    let lo = 0;
    let present = 0;
    for (let i = 0; i < MAX_NR_ZONES; i++) {
      const zone = pgdat.node_zones[i];
      if (i === ZoneType.ZONE_MOVABLE) {
        zone.zone_start_pfn = nodeEnd;
        continue;
      }
      const hi = Math.max(max_zone_pfn[i], lo);
      const start = clamp(lo);
      const end = clamp(hi);
      zone.zone_start_pfn = start;
      zone.spanned_pages = end - start;
      let p = 0;
      for (const r of memory) p += Math.max(0, Math.min(r.end, end) - Math.max(r.start, start));
      zone.present_pages = p;
      present += p;
      lo = hi;
    }
    pgdat.node_present_pages = present;
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c nr_free_buffer_pages (5.10, 6.6): managed pages above the high mark in zones GFP_USER may use. */
export function nr_free_buffer_pages(pgdat: PglistData): number {
  kenter('nr_free_buffer_pages');
  try {
    let sum = 0;
    for (let i = 0; i <= ZoneType.ZONE_NORMAL; i++) {
      const z = pgdat.node_zones[i];
      if (z.managed_pages > z._watermark.high) sum += z.managed_pages - z._watermark.high;
    }
    return sum;
  } finally {
    kexit();
  }
}

function int_sqrt(x: number): number {
  let r = Math.floor(Math.sqrt(x));
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  return r;
}

/** mm/page_alloc.c calculate_min_free_kbytes (6.6; inline in 5.10's init_per_zone_wmark_min). */
export function calculate_min_free_kbytes(pgdat: PglistData): void {
  kenter('calculate_min_free_kbytes');
  try {
    const lowmem_kbytes = nr_free_buffer_pages(pgdat) * (4096 >> 10);
    const v = int_sqrt(lowmem_kbytes * 16);
    // 5.10 caps at 64 MiB; the cap was raised to 256 MiB before 6.6.
    const cap = pgdat.kernel === '5.10' ? 65536 : 262144;
    pgdat.min_free_kbytes = Math.min(Math.max(v, 128), cap);
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c __setup_per_zone_wmarks (5.10, 6.6): WMARK_MIN shared out by managed pages, low/high above it. */
export function __setup_per_zone_wmarks(pgdat: PglistData): void {
  kenter('__setup_per_zone_wmarks');
  try {
    const pages_min = BigInt(pgdat.min_free_kbytes >> (PAGE_SHIFT - 10));
    let lowmem_pages = 0;
    for (const z of pgdat.node_zones) lowmem_pages += z.managed_pages; // no highmem on 64-bit
    for (const z of pgdat.node_zones) {
      const min = lowmem_pages === 0 ? 0 : Number((pages_min * BigInt(z.managed_pages)) / BigInt(lowmem_pages));
      // mult_frac(managed, watermark_scale_factor, 10000)
      const m = z.managed_pages;
      const scaled = Math.floor(m / 10000) * watermark_scale_factor + Math.floor(((m % 10000) * watermark_scale_factor) / 10000);
      const tmp = Math.max(min >> 2, scaled);
      z.watermark_boost = 0;
      z._watermark = { min, low: min + tmp, high: min + tmp * 2 };
    }
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c setup_per_zone_lowmem_reserve (5.10, 6.6): pages a lower zone keeps back from requests that could use a higher one. */
export function setup_per_zone_lowmem_reserve(pgdat: PglistData): void {
  kenter('setup_per_zone_lowmem_reserve');
  try {
    for (let i = 0; i < MAX_NR_ZONES - 1; i++) {
      const zone = pgdat.node_zones[i];
      const ratio = sysctl_lowmem_reserve_ratio[i];
      const clear = ratio === 0 || zone.managed_pages === 0;
      let managed = 0;
      for (let j = i + 1; j < MAX_NR_ZONES; j++) {
        if (clear) zone.lowmem_reserve[j] = 0;
        else {
          managed += pgdat.node_zones[j].managed_pages;
          zone.lowmem_reserve[j] = Math.floor(managed / ratio);
        }
      }
    }
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c init_per_zone_wmark_min (5.10, 6.6): min_free_kbytes =
 * int_sqrt(lowmem_kbytes * 16) clamped to [128, 65536] (5.10) / [128, 262144]
 * (6.6), then watermarks and lowmem reserves.
 */
export function init_per_zone_wmark_min(pgdat: PglistData): void {
  kenter('init_per_zone_wmark_min');
  try {
    if (pgdat.kernel === '6.6') calculate_min_free_kbytes(pgdat);
    else {
      // 5.10 computes it in place; the arithmetic is shared.
      const lowmem_kbytes = nr_free_buffer_pages(pgdat) * (4096 >> 10);
      pgdat.min_free_kbytes = Math.min(Math.max(int_sqrt(lowmem_kbytes * 16), 128), 65536);
    }
    __setup_per_zone_wmarks(pgdat);
    setup_per_zone_lowmem_reserve(pgdat);
  } finally {
    kexit();
  }
}

/**
 * Model helper: the memory-management state after boot (free_area_init,
 * memblock_free_all, init_per_zone_wmark_min). Costs O(banks + reservations),
 * whatever the RAM size.
 */
export function buildMm(cfg: MmConfig): PglistData {
  if (cfg.kernel !== '5.10' && cfg.kernel !== '6.6') throw new ModelError(`buildMm: unknown kernel ${String(cfg.kernel)}`);
  if (cfg.CONFIG_ZONE_DMA && (!Number.isInteger(cfg.zoneDmaBits) || cfg.zoneDmaBits < 0 || cfg.zoneDmaBits > 64)) {
    throw new ModelError(`buildMm: zoneDmaBits ${cfg.zoneDmaBits} out of range`);
  }
  const pgdat: PglistData = {
    kernel: cfg.kernel,
    node_id: 0,
    node_zones: [ZoneType.ZONE_DMA, ZoneType.ZONE_DMA32, ZoneType.ZONE_NORMAL, ZoneType.ZONE_MOVABLE].map(newZone),
    node_start_pfn: 0,
    node_spanned_pages: 0,
    node_present_pages: 0,
    zoneConfig: { CONFIG_ZONE_DMA: cfg.CONFIG_ZONE_DMA, CONFIG_ZONE_DMA32: cfg.CONFIG_ZONE_DMA32 },
    faults: cfg.faults,
    min_free_kbytes: 0,
    allocated: new Map(),
    allocatedExtra: new Map(),
    allocatedPages: 0,
  };
  const memory = memblockMemoryPfnRanges(cfg.memory);
  const dmaEnd = cfg.CONFIG_ZONE_DMA ? Math.floor(2 ** cfg.zoneDmaBits / 2 ** PAGE_SHIFT) : 0;
  const dma32End = cfg.CONFIG_ZONE_DMA32 ? FOUR_GIB_PFN : 0;
  const maxPfn = memory.length > 0 ? memory[memory.length - 1].end : 0;
  free_area_init(pgdat, [dmaEnd, dma32End, maxPfn, 0], memory);
  memblock_free_all(pgdat, memblockFreePfnRanges(cfg.memory, cfg.reserved));
  init_per_zone_wmark_min(pgdat);
  return pgdat;
}

// ---------------------------------------------------------------- free lists

function addToFreeList(zone: Zone, pfn: number, order: number, tail: boolean): void {
  const old = zone.freeMap.get(pfn);
  // Only a fault can list a block head twice; keep the structure sound and let
  // the properties see the overlap through the allocations instead.
  if (old !== undefined) delFromFreeList(zone, old);
  const node: FreeBlockNode = { pfn, order, prev: null, next: null };
  zone.freeMap.set(pfn, node);
  const area = zone.free_area[order];
  if (tail) area.list.addTail(node);
  else area.list.addHead(node);
  area.nr_free++;
  zone.listedFreePages += 2 ** order;
}

function delFromFreeList(zone: Zone, node: FreeBlockNode): void {
  zone.freeMap.delete(node.pfn);
  const area = zone.free_area[node.order];
  area.list.remove(node);
  area.nr_free--;
  zone.listedFreePages -= 2 ** node.order;
}

/** pfn ^ (1 << order) without 32-bit truncation: `&` sees the low bits exactly for any PFN below 2^53. */
function buddyPfn(pfn: number, order: number): number {
  const size = 1 << order;
  return (pfn & size) !== 0 ? pfn - size : pfn + size;
}

function bootMaxOrderOf(zone: Zone, unaligned: boolean): number {
  if (zone.bootMaxOrder === null) {
    let best = -1;
    for (let i = zone.bootIdx; i < zone.bootRanges.length && best < LARGEST; i++) {
      const r = zone.bootRanges[i];
      best = Math.max(best, bootMaxBlockOrder(r.start, r.end, unaligned));
    }
    zone.bootMaxOrder = best;
  }
  return zone.bootMaxOrder;
}

/**
 * Model helper: hand boot blocks to the buddy lists, lowest address first,
 * until one of at least `order` is listed or the boot memory is gone. Returns
 * whether anything was handed over.
 */
function handOverBoot(mm: PglistData, zone: Zone, order: number): boolean {
  const unaligned = mm.faults.has('buddy-unaligned-carve');
  let any = false;
  while (zone.bootIdx < zone.bootRanges.length) {
    const r = zone.bootRanges[zone.bootIdx];
    if (r.start >= r.end) {
      zone.bootIdx++;
      continue;
    }
    const o = bootBlockOrder(r.start, r.end, unaligned);
    const pfn = r.start;
    r.start += 2 ** o;
    zone.bootPages -= 2 ** o;
    zone.bootMaxOrder = null;
    any = true;
    memblock_free_pages(mm, zone, pfn, o);
    if (o >= order) return true;
  }
  return any;
}

/**
 * mm/page_alloc.c memblock_free_pages (5.10; mm/mm_init.c in 6.6): one boot
 * block through __free_pages_core, which frees with FPI_TO_TAIL so boot memory
 * queues behind recently freed blocks. managed_pages was already counted by
 * the lazy memblock_free_all.
 */
export function memblock_free_pages(mm: PglistData, zone: Zone, pfn: number, order: number): void {
  kenter('memblock_free_pages');
  try {
    __free_one_page(mm, zone, pfn, order, true);
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c __free_one_page (5.10, 6.6): merge with the buddy while it is
 * a free block of the same order in the same zone, up to the largest order;
 * put the result on its list (head; tail for FPI_TO_TAIL).
 * Fault buddy-no-merge: never merges.
 */
export function __free_one_page(mm: PglistData, zone: Zone, pfn: number, order: number, toTail = false): void {
  kenter('__free_one_page');
  try {
    if (mm.faults.has('buddy-no-merge')) knote('fault buddy-no-merge');
    else {
      while (order < LARGEST) {
        const b = buddyPfn(pfn, order);
        const node = zone.freeMap.get(b);
        if (node === undefined || node.order !== order) break;
        knote('merge');
        delFromFreeList(zone, node);
        pfn = Math.min(pfn, b); // buddy_pfn & pfn
        order++;
      }
    }
    addToFreeList(zone, pfn, order, toTail);
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c expand (5.10, 6.6): split a block of order `high` at `pfn`
 * down to `low`, listing each upper half at the head of its order; the caller
 * keeps the lowest sub-block. Fault buddy-split-keeps-upper: the sub-block
 * being handed out is listed too, so a later allocation gets it again.
 */
export function expand(mm: PglistData, zone: Zone, pfn: number, low: number, high: number): void {
  kenter('expand');
  try {
    const split = high > low;
    let size = 2 ** high;
    while (high > low) {
      high--;
      size /= 2;
      addToFreeList(zone, pfn + size, high, false);
    }
    if (split && mm.faults.has('buddy-split-keeps-upper')) {
      knote('fault buddy-split-keeps-upper');
      addToFreeList(zone, pfn, low, false);
    }
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c __rmqueue_smallest (5.10, 6.6): the head of the smallest
 * non-empty list of order >= `order`, split down. When all those lists are
 * empty the model hands over more boot memory and looks again.
 */
export function __rmqueue_smallest(mm: PglistData, zone: Zone, order: number): number | null {
  kenter('__rmqueue_smallest');
  try {
    for (;;) {
      for (let o = order; o <= LARGEST; o++) {
        const node = zone.free_area[o].list.head;
        if (node === null) continue;
        delFromFreeList(zone, node);
        expand(mm, zone, node.pfn, order, o);
        return node.pfn;
      }
      knote('lists empty: boot hand-over');
      if (!handOverBoot(mm, zone, order)) return null;
    }
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c rmqueue (5.10, 6.6): take a block from the zone. The per-CPU
 * lists (5.10: order 0; 6.6: rmqueue_pcplist for order <= 3) and the
 * highatomic reserve are not modelled, so every order goes to the buddy lists.
 */
export function rmqueue(mm: PglistData, zone: Zone, order: number, gfp: number, alloc_flags: number): number | null {
  kenter('rmqueue');
  try {
    return __rmqueue_smallest(mm, zone, order);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------- watermarks

/** include/linux/mmzone.h wmark_pages (5.10, 6.6): 0 min, 1 low, 2 high, plus the boost (always 0 here). */
export function wmark_pages(zone: Zone, i: number): number {
  kenter('wmark_pages');
  try {
    const w = zone._watermark;
    return (i === ALLOC_WMARK_MIN ? w.min : i === ALLOC_WMARK_LOW ? w.low : w.high) + zone.watermark_boost;
  } finally {
    kexit();
  }
}

function hasBlockOfAtLeast(mm: PglistData, z: Zone, order: number): boolean {
  for (let o = order; o <= LARGEST; o++) if (z.free_area[o].nr_free > 0) return true;
  return bootMaxOrderOf(z, mm.faults.has('buddy-unaligned-carve')) >= order;
}

/**
 * mm/page_alloc.c __zone_watermark_ok (5.10, 6.6): free pages (less the
 * 2^order - 1 a high-order request cannot use) must exceed the reduced min
 * plus lowmem_reserve[highest_zoneidx]; for order > 0 a large enough block must
 * exist (boot memory not yet carved counts).
 */
export function __zone_watermark_ok(
  mm: PglistData,
  z: Zone,
  order: number,
  mark: number,
  highest_zoneidx: ZoneType,
  alloc_flags: number,
  free_pages: number,
): boolean {
  kenter('__zone_watermark_ok');
  try {
    let min = mark;
    free_pages -= 2 ** order - 1;
    if (mm.kernel === '5.10') {
      // 5.10: ALLOC_HIGH halves min; ALLOC_HARDER takes a further quarter, an OOM victim a half.
      if (alloc_flags & ALLOC_HIGH) min -= Math.floor(min / 2);
      if (alloc_flags & (ALLOC_HARDER | ALLOC_OOM)) {
        if (alloc_flags & ALLOC_OOM) min -= Math.floor(min / 2);
        else min -= Math.floor(min / 4);
      }
    } else if (alloc_flags & ALLOC_RESERVES) {
      // 6.6: only __GFP_HIGH reaches below min; not blocking adds a quarter on top of that.
      if (alloc_flags & ALLOC_MIN_RESERVE) {
        min -= Math.floor(min / 2);
        if (alloc_flags & ALLOC_NON_BLOCK) min -= Math.floor(min / 4);
      }
      if (alloc_flags & ALLOC_OOM) min -= Math.floor(min / 2);
    }
    if (free_pages <= min + z.lowmem_reserve[highest_zoneidx]) {
      knote('below watermark');
      return false;
    }
    if (order === 0) return true;
    return hasBlockOfAtLeast(mm, z, order);
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c zone_watermark_ok (5.10, 6.6). */
export function zone_watermark_ok(
  mm: PglistData,
  z: Zone,
  order: number,
  mark: number,
  highest_zoneidx: ZoneType,
  alloc_flags: number,
): boolean {
  kenter('zone_watermark_ok');
  try {
    return __zone_watermark_ok(mm, z, order, mark, highest_zoneidx, alloc_flags, zoneFreePages(z));
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c zone_watermark_fast (5.10, 6.6): order 0 passes on the
 * unreduced mark at once; otherwise the full check. (5.10's GFP_ATOMIC
 * watermark-boost bypass never applies: the boost is 0.)
 */
export function zone_watermark_fast(
  mm: PglistData,
  z: Zone,
  order: number,
  mark: number,
  highest_zoneidx: ZoneType,
  alloc_flags: number,
  gfp: number,
): boolean {
  kenter('zone_watermark_fast');
  try {
    const free_pages = zoneFreePages(z);
    if (order === 0 && free_pages > mark + z.lowmem_reserve[highest_zoneidx]) return true;
    return __zone_watermark_ok(mm, z, order, mark, highest_zoneidx, alloc_flags, free_pages);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------- allocation

function recordAllocation(mm: PglistData, pfn: number, order: number): void {
  if (!mm.allocated.has(pfn)) mm.allocated.set(pfn, order);
  else {
    const extra = mm.allocatedExtra.get(pfn);
    if (extra === undefined) mm.allocatedExtra.set(pfn, [order]);
    else extra.push(order);
  }
  mm.allocatedPages += 2 ** order;
}

/**
 * mm/page_alloc.c prep_new_page (5.10, 6.6): the block now belongs to the
 * caller; __GFP_ZERO clears it (through the optional zeroPages hook). The
 * init_on_alloc boot option is not modelled.
 */
export function prep_new_page(mm: PglistData, pfn: number, order: number, gfp: number, alloc_flags: number): void {
  kenter('prep_new_page');
  try {
    recordAllocation(mm, pfn, order);
    if (gfp & gfpFlags(mm.kernel).__GFP_ZERO) {
      knote('__GFP_ZERO');
      if (mm.zeroPages !== undefined) mm.zeroPages(pfn, order);
    }
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c get_page_from_freelist (5.10, 6.6): walk the node's zonelist
 * from highest_zoneidx down (NORMAL, DMA32, DMA; only zones with managed
 * pages), take the first zone that passes the watermark of alloc_flags.
 */
export function get_page_from_freelist(
  mm: PglistData,
  gfp: number,
  order: number,
  alloc_flags: number,
  ac: AllocContext,
): number | null {
  kenter('get_page_from_freelist');
  try {
    if (ac.nodemask !== null && !ac.nodemask.includes(mm.node_id)) {
      knote('nodemask excludes node 0');
      return null;
    }
    for (let z = ac.highest_zoneidx; z >= 0; z--) {
      const zone = mm.node_zones[z];
      if (zone.managed_pages === 0) continue;
      if ((alloc_flags & ALLOC_NO_WATERMARKS) === 0) {
        const mark = wmark_pages(zone, alloc_flags & ALLOC_WMARK_MASK);
        if (!zone_watermark_fast(mm, zone, order, mark, ac.highest_zoneidx, alloc_flags, gfp)) continue;
      }
      const page = rmqueue(mm, zone, order, gfp, alloc_flags);
      if (page !== null) {
        prep_new_page(mm, page, order, gfp, alloc_flags);
        return page;
      }
    }
    return null;
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c gfp_to_alloc_flags (5.10, 6.6): slow-path flags, MIN mark.
 * 5.10: __GFP_HIGH -> ALLOC_HIGH; __GFP_ATOMIC (without __GFP_NOMEMALLOC) ->
 * ALLOC_HARDER. 6.6: __GFP_HIGH -> ALLOC_MIN_RESERVE; cannot block (without
 * __GFP_NOMEMALLOC) -> ALLOC_NON_BLOCK, plus ALLOC_HIGHATOMIC for order > 0.
 * Real-time tasks are not modelled.
 */
export function gfp_to_alloc_flags(mm: PglistData, gfp: number, order: number): number {
  kenter('gfp_to_alloc_flags');
  try {
    const G = gfpFlags(mm.kernel);
    let alloc_flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
    alloc_flags |= gfp & (G.__GFP_HIGH | G.__GFP_KSWAPD_RECLAIM); // ALLOC_HIGH / ALLOC_MIN_RESERVE, ALLOC_KSWAPD
    if (mm.kernel === '5.10') {
      if (gfp & gfpFlags('5.10').__GFP_ATOMIC) {
        if (!(gfp & G.__GFP_NOMEMALLOC)) alloc_flags |= ALLOC_HARDER;
        alloc_flags &= ~ALLOC_CPUSET;
      }
    } else if (!(gfp & G.__GFP_DIRECT_RECLAIM)) {
      if (!(gfp & G.__GFP_NOMEMALLOC)) {
        alloc_flags |= ALLOC_NON_BLOCK;
        if (order > 0) alloc_flags |= ALLOC_HIGHATOMIC;
      }
      if (alloc_flags & ALLOC_MIN_RESERVE) alloc_flags &= ~ALLOC_CPUSET;
    }
    return alloc_flags;
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c __gfp_pfmemalloc_flags (5.10, 6.6): __GFP_MEMALLOC ignores watermarks unless __GFP_NOMEMALLOC. */
export function __gfp_pfmemalloc_flags(mm: PglistData, gfp: number): number {
  kenter('__gfp_pfmemalloc_flags');
  try {
    const G = gfpFlags(mm.kernel);
    if (gfp & G.__GFP_NOMEMALLOC) return 0;
    if (gfp & G.__GFP_MEMALLOC) return ALLOC_NO_WATERMARKS;
    return 0; // PF_MEMALLOC tasks, softirq and OOM victims are not modelled
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c __alloc_pages_slowpath (5.10, 6.6), reduced to what the
 * model can change: one retry at the MIN mark with the reserve reductions, one
 * without watermarks for __GFP_MEMALLOC, then failure. Reclaim and compaction
 * have nothing to work on, so blocking callers fail too; a __GFP_NOFAIL caller
 * would loop forever in the kernel and gets NULL here (noted in the trace).
 */
export function __alloc_pages_slowpath(mm: PglistData, gfp: number, order: number, ac: AllocContext): number | null {
  kenter('__alloc_pages_slowpath');
  try {
    const G = gfpFlags(mm.kernel);
    const can_direct_reclaim = (gfp & G.__GFP_DIRECT_RECLAIM) !== 0;
    if (mm.kernel === '5.10') {
      const atomic = gfpFlags('5.10').__GFP_ATOMIC;
      if ((gfp & (atomic | G.__GFP_DIRECT_RECLAIM)) === (atomic | G.__GFP_DIRECT_RECLAIM)) {
        knote('WARN_ON_ONCE: __GFP_ATOMIC with __GFP_DIRECT_RECLAIM');
        gfp &= ~atomic;
      }
    }
    const alloc_flags = gfp_to_alloc_flags(mm, gfp, order);
    if (alloc_flags & ALLOC_KSWAPD) knote('wake_all_kswapds');
    let page = get_page_from_freelist(mm, gfp, order, alloc_flags, ac);
    if (page !== null) return page;
    const reserve_flags = __gfp_pfmemalloc_flags(mm, gfp);
    if (reserve_flags !== 0) {
      knote('ALLOC_NO_WATERMARKS');
      page = get_page_from_freelist(mm, gfp, order, reserve_flags | (alloc_flags & ALLOC_KSWAPD), ac);
      if (page !== null) return page;
    }
    if (!can_direct_reclaim) knote('cannot direct reclaim');
    else {
      knote('reclaim/compaction: nothing reclaimable');
      if (gfp & G.__GFP_NOFAIL) knote('__GFP_NOFAIL would retry forever');
    }
    if (!(gfp & G.__GFP_NOWARN)) knote('warn_alloc: page allocation failure');
    return null;
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c prepare_alloc_pages (5.10, 6.6): highest_zoneidx = gfp_zone(gfp),
 * zonelist of the preferred node. A caller that may reclaim may sleep: 5.10
 * might_sleep_if(gfp & __GFP_DIRECT_RECLAIM), 6.6 might_alloc(gfp), the same test.
 */
export function prepare_alloc_pages(
  mm: PglistData,
  gfp: number,
  order: number,
  preferred_nid: number,
  nodemask: readonly number[] | null,
): AllocContext {
  kenter('prepare_alloc_pages');
  try {
    might_sleep_if(mm.current, gfpflags_allow_blocking(gfp));
    return { highest_zoneidx: gfp_zone(gfp, mm.zoneConfig, mm.faults), preferred_nid, nodemask };
  } finally {
    kexit();
  }
}

/** The body shared by 5.10 __alloc_pages_nodemask and 6.6 __alloc_pages (runs inside their trace frame). */
function allocPagesBody(mm: PglistData, gfp: number, order: number, preferred_nid: number, nodemask: readonly number[] | null): number | null {
  checkOrderArg(order);
  const G = gfpFlags(mm.kernel);
  // 5.10: MAX_ORDER 11 is an exclusive bound; 6.6: MAX_ORDER 10 is inclusive.
  if (mm.kernel === '5.10' ? order >= 11 : order > 10) {
    knote(mm.kernel === '5.10' ? 'order >= MAX_ORDER' : 'order > MAX_ORDER');
    if (!(gfp & G.__GFP_NOWARN)) knote('WARN_ON_ONCE');
    return null;
  }
  gfp &= G.__GFP_BITS_MASK; // gfp_allowed_mask after boot
  const ac = prepare_alloc_pages(mm, gfp, order, preferred_nid, nodemask);
  const page = get_page_from_freelist(mm, gfp, order, ALLOC_WMARK_LOW, ac);
  if (page !== null) return page;
  return __alloc_pages_slowpath(mm, gfp, order, ac);
}

/** mm/page_alloc.c __alloc_pages_nodemask (5.10 only; 6.6 renamed it __alloc_pages). */
export function __alloc_pages_nodemask(
  mm: PglistData,
  gfp: number,
  order: number,
  preferred_nid: number,
  nodemask: readonly number[] | null,
): number | null {
  if (mm.kernel !== '5.10') throw new ModelError('__alloc_pages_nodemask does not exist in 6.6 (use __alloc_pages)');
  kenter('__alloc_pages_nodemask');
  try {
    return allocPagesBody(mm, gfp, order, preferred_nid, nodemask);
  } finally {
    kexit();
  }
}

/**
 * 6.6: mm/page_alloc.c __alloc_pages, the allocator's main entry.
 * 5.10: include/linux/gfp.h __alloc_pages, an inline wrapper (no nodemask
 * parameter) calling __alloc_pages_nodemask with a NULL nodemask.
 */
export function __alloc_pages(
  mm: PglistData,
  gfp: number,
  order: number,
  preferred_nid: number,
  nodemask: readonly number[] | null = null,
): number | null {
  kenter('__alloc_pages');
  try {
    if (mm.kernel === '5.10') {
      if (nodemask !== null) throw new ModelError('5.10 __alloc_pages takes no nodemask; call __alloc_pages_nodemask');
      return __alloc_pages_nodemask(mm, gfp, order, preferred_nid, null);
    }
    return allocPagesBody(mm, gfp, order, preferred_nid, nodemask);
  } finally {
    kexit();
  }
}

/**
 * include/linux/gfp.h __alloc_pages_node (5.10, 6.6): nid must be a real node
 * (VM_BUG_ON). The model has one node, so anything but 0 is that BUG.
 */
export function __alloc_pages_node(mm: PglistData, nid: number, gfp: number, order: number): number | null {
  kenter('__alloc_pages_node');
  try {
    if (nid !== mm.node_id) throw new KernelBug(`__alloc_pages_node: nid ${nid} is not a valid node (VM_BUG_ON)`);
    return mm.kernel === '5.10' ? __alloc_pages(mm, gfp, order, nid) : __alloc_pages(mm, gfp, order, nid, null);
  } finally {
    kexit();
  }
}

/** include/linux/gfp.h alloc_pages_node (5.10, 6.6): NUMA_NO_NODE means the local memory node. */
export function alloc_pages_node(mm: PglistData, nid: number, gfp: number, order: number): number | null {
  kenter('alloc_pages_node');
  try {
    if (nid === NUMA_NO_NODE) {
      knote('NUMA_NO_NODE -> numa_mem_id()');
      nid = mm.node_id;
    }
    return __alloc_pages_node(mm, nid, gfp, order);
  } finally {
    kexit();
  }
}

/** include/linux/gfp.h alloc_pages (5.10, 6.6; the !CONFIG_NUMA form: the local node). */
export function alloc_pages(mm: PglistData, gfp: number, order: number): number | null {
  kenter('alloc_pages');
  try {
    return alloc_pages_node(mm, mm.node_id, gfp, order);
  } finally {
    kexit();
  }
}

/** include/linux/gfp.h alloc_page (5.10, 6.6). */
export function alloc_page(mm: PglistData, gfp: number): number | null {
  kenter('alloc_page');
  try {
    return alloc_pages(mm, gfp, 0);
  } finally {
    kexit();
  }
}

/**
 * mm/page_alloc.c __get_free_pages (5.10, 6.6): the block's address, 0 on
 * failure. The model has no linear map here, so the address is physical.
 */
export function __get_free_pages(mm: PglistData, gfp: number, order: number): bigint {
  kenter('__get_free_pages');
  try {
    const page = alloc_pages(mm, gfp & ~gfpFlags(mm.kernel).__GFP_HIGHMEM, order);
    return page === null ? 0n : page_to_phys(page);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------- freeing

/**
 * mm/page_alloc.c free_pages_prepare (5.10, 6.6): the checks before a block
 * goes back. Freeing something that is not an allocated block head, or with
 * another order than it was allocated with, is a bad_page here (the kernel
 * reports bad_page or frees the wrong range; the model stops).
 */
export function free_pages_prepare(mm: PglistData, pfn: number, order: number): void {
  kenter('free_pages_prepare');
  try {
    const cur = mm.allocated.get(pfn);
    if (cur === undefined) throw new KernelBug(`bad_page: freeing pfn ${hex(pfn)} order ${order}, not an allocated block`);
    const extra = mm.allocatedExtra.get(pfn);
    if (cur === order) {
      if (extra !== undefined) {
        mm.allocated.set(pfn, extra.pop() as number);
        if (extra.length === 0) mm.allocatedExtra.delete(pfn);
      } else mm.allocated.delete(pfn);
    } else {
      const i = extra === undefined ? -1 : extra.indexOf(order);
      if (i < 0) throw new KernelBug(`bad_page: freeing pfn ${hex(pfn)} with order ${order}, allocated with order ${cur}`);
      (extra as number[]).splice(i, 1);
      if ((extra as number[]).length === 0) mm.allocatedExtra.delete(pfn);
    }
    mm.allocatedPages -= 2 ** order;
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c free_one_page (5.10, 6.6): __free_one_page under the zone lock. */
export function free_one_page(mm: PglistData, zone: Zone, pfn: number, order: number): void {
  kenter('free_one_page');
  try {
    __free_one_page(mm, zone, pfn, order, false);
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c __free_pages_ok (5.10, 6.6): checks, then back to the buddy lists (the per-CPU lists are not modelled). */
export function __free_pages_ok(mm: PglistData, pfn: number, order: number): void {
  kenter('__free_pages_ok');
  try {
    free_pages_prepare(mm, pfn, order);
    const zone = zoneOfPfn(mm, pfn);
    if (zone === null) throw new KernelBug(`bad_page: pfn ${hex(pfn)} is in no zone`);
    free_one_page(mm, zone, pfn, order);
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c __free_pages (5.10, 6.6): drop the only reference, free the block. */
export function __free_pages(mm: PglistData, pfn: number, order: number): void {
  kenter('__free_pages');
  try {
    checkOrderArg(order);
    __free_pages_ok(mm, pfn, order);
  } finally {
    kexit();
  }
}

/** include/linux/gfp.h __free_page (5.10, 6.6). */
export function __free_page(mm: PglistData, pfn: number): void {
  kenter('__free_page');
  try {
    __free_pages(mm, pfn, 0);
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c free_pages (5.10, 6.6): address 0 is a no-op; the address is physical in the model (see __get_free_pages). */
export function free_pages(mm: PglistData, addr: bigint, order: number): void {
  kenter('free_pages');
  try {
    if (addr === 0n) return;
    __free_pages(mm, PHYS_PFN(addr), order);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------- page helpers

/** include/asm-generic/memory_model.h page_to_pfn (5.10, 6.6): a page is its PFN in the model. */
export function page_to_pfn(page: number): number {
  return page;
}

/** include/asm-generic/memory_model.h pfn_to_page (5.10, 6.6). */
export function pfn_to_page(pfn: number): number {
  return pfn;
}

/** include/linux/mm.h page_to_phys (5.10, 6.6 via asm/page.h). */
export function page_to_phys(page: number): bigint {
  return PFN_PHYS(page);
}

/** include/linux/mm.h page_zonenum (5.10, 6.6). Throws ModelError for a PFN outside every zone. */
export function page_zonenum(mm: PglistData, page: number): ZoneType {
  kenter('page_zonenum');
  try {
    const z = zoneOfPfn(mm, page);
    if (z === null) throw new ModelError(`page_zonenum: pfn ${hex(page)} is in no zone`);
    return z.idx;
  } finally {
    kexit();
  }
}

/** include/linux/mm.h page_zone (5.10, 6.6). */
export function page_zone(mm: PglistData, page: number): Zone {
  kenter('page_zone');
  try {
    const z = zoneOfPfn(mm, page);
    if (z === null) throw new ModelError(`page_zone: pfn ${hex(page)} is in no zone`);
    return z;
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------- model helpers

/** Zone whose span holds pfn, or null. */
export function zoneOfPfn(mm: PglistData, pfn: number): Zone | null {
  for (const z of mm.node_zones) {
    if (pfn >= z.zone_start_pfn && pfn < z.zone_start_pfn + z.spanned_pages) return z;
  }
  return null;
}

/** NR_FREE_PAGES of a zone: listed blocks plus boot memory not yet carved. */
export function zoneFreePages(zone: Zone): number {
  return zone.listedFreePages + zone.bootPages;
}

/** global NR_FREE_PAGES (nr_free_pages()). */
export function nrFreePages(mm: PglistData): number {
  let n = 0;
  for (const z of mm.node_zones) n += z.listedFreePages + z.bootPages;
  return n;
}

export function managedPages(mm: PglistData): number {
  let n = 0;
  for (const z of mm.node_zones) n += z.managed_pages;
  return n;
}

/** Pages held by callers (a block held twice through a fault counts twice). */
export function allocatedPages(mm: PglistData): number {
  return mm.allocatedPages;
}

/** Every allocated block, one entry per holder. */
export function* allocatedBlocks(mm: PglistData): IterableIterator<{ pfn: number; order: number }> {
  for (const [pfn, order] of mm.allocated) yield { pfn, order };
  for (const [pfn, orders] of mm.allocatedExtra) for (const order of orders) yield { pfn, order };
}

/** The blocks on the zone's free lists (boot memory not yet carved is not included), by order then list position. */
export function freeBlocks(zone: Zone): { pfn: number; order: number }[] {
  const out: { pfn: number; order: number }[] = [];
  for (let o = 0; o < NR_PAGE_ORDERS; o++) for (const pfn of zone.free_area[o].list) out.push({ pfn, order: o });
  return out;
}

/** Boot memory of the zone not yet handed to the buddy lists. */
export function bootFreeRanges(zone: Zone): PfnRange[] {
  return zone.bootRanges.slice(zone.bootIdx).filter((r) => r.end > r.start).map((r) => ({ ...r }));
}

/** True iff no listed free block has a free buddy of the same order in its zone: everything that can merge has. */
export function isCanonicalFreeState(mm: PglistData): boolean {
  for (const z of mm.node_zones) {
    for (const node of z.freeMap.values()) {
      if (node.order >= LARGEST) continue;
      const b = z.freeMap.get(buddyPfn(node.pfn, node.order));
      if (b !== undefined && b.order === node.order) return false;
    }
  }
  return true;
}
