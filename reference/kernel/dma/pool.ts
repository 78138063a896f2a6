// kernel/dma/pool.c (CONFIG_DMA_COHERENT_POOL; 5.10 and 6.6, spec kernel-alloc.md §5):
// the atomic coherent pools that serve dma_alloc_coherent when the caller
// cannot sleep and the memory would need a remap. Three gen_pools, one per
// zone, pre-filled at boot and grown by deferred work.
//
// The workqueue is not modelled: schedule_work only sets workPending, and the
// generated sequence decides when the work runs by calling atomic_pool_work_fn.
// riscv has no memory encryption, so set_memory_decrypted/encrypted are 0 and
// their error paths never run. debugfs (dma_pools/pool_size_*) is the counters
// in the state, read directly.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { gfpFlags, gfpToString } from '../../include/linux/gfp.ts';
import {
  gen_pool_add_virt,
  gen_pool_alloc,
  gen_pool_avail,
  gen_pool_create,
  gen_pool_destroy,
  gen_pool_first_fit_order_align,
  gen_pool_free,
  gen_pool_has_addr,
  gen_pool_set_algo,
  gen_pool_size,
  gen_pool_virt_to_phys,
  type GenPool,
} from '../../lib/genalloc.ts';
import { __free_pages, alloc_pages, managedPages, MAX_ORDER, NUMA_NO_NODE, ZoneType } from '../../mm/page_alloc.ts';
import { managed_zone } from '../../mm/mmzone.ts';
import { arch_dma_prep_coherent } from '../../arch/riscv/dma-noncoherent.ts';
import { hartMemoryType, page_address, pgprot_dmacoherent, PAGE_KERNEL, walkPageTable } from '../../arch/riscv/pgtable.ts';
import { cpuMemset } from '../../hw/cpu.ts';
import { dma_common_contiguous_remap, dma_common_free_remap } from './remap.ts';
import { dev_get_cma_area, dma_alloc_from_contiguous, memparse } from './contiguous.ts';
import { cma_get_base, cma_get_size } from '../../mm/cma.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { earlyParams, parameq } from '../../lib/cmdline.ts';
import { DMA_BIT_MASK, ENOMEM, ModelError, PAGE_SHIFT, PAGE_SIZE_N, PFN_PHYS, PHYS_PFN, get_order } from '../../types.ts';

const SZ_128K = 128n << 10n;
const SZ_1G = 1n << 30n;

export type AtomicPoolName = 'dma' | 'dma32' | 'kernel';

/** kernel/dma/pool.c file-scope state (5.10, 6.6), plus model bookkeeping in camelCase. */
export interface AtomicPoolState {
  atomic_pool_dma: GenPool | null;
  atomic_pool_dma32: GenPool | null;
  atomic_pool_kernel: GenPool | null;
  /** debugfs dma_pools/pool_size_*: bytes ever added to each zone's pool. */
  pool_size_dma: bigint;
  pool_size_dma32: bigint;
  pool_size_kernel: bigint;
  /** The floor: coherent_pool= or the RAM-scaled default. */
  atomic_pool_size: bigint;
  /** atomic_pool_work is queued (schedule_work ran and the work has not run since). */
  workPending: boolean;
  /** pr_info/pr_err lines and work events, in order. */
  log: string[];
  /** Model: which pools the initcall tried to create (a NULL pool here failed its initial expansion). */
  configured: Record<AtomicPoolName, boolean>;
  /** Model: dma_atomic_pool_init's return value (0 or -ENOMEM). */
  initResult: number;
  /** Model: result of each pool's last atomic_pool_expand (0, -ENOMEM), null before any. */
  lastExpand: Record<AtomicPoolName, number | null>;
}

/** Model helper: an empty pool.c state (everything NULL/0, as before the initcall). */
export function atomicPoolState(atomic_pool_size = 0n): AtomicPoolState {
  return {
    atomic_pool_dma: null,
    atomic_pool_dma32: null,
    atomic_pool_kernel: null,
    pool_size_dma: 0n,
    pool_size_dma32: 0n,
    pool_size_kernel: 0n,
    atomic_pool_size,
    workPending: false,
    log: [],
    configured: { dma: false, dma32: false, kernel: false },
    initResult: 0,
    lastExpand: { dma: null, dma32: null, kernel: null },
  };
}

/** Model helper: the machine's pool state; misuse when CONFIG_DMA_COHERENT_POOL is off. */
export function atomicPoolsOf(m: Machine): AtomicPoolState {
  const s = m.atomicPools;
  if (s === null) throw new ModelError('atomic pools: CONFIG_DMA_COHERENT_POOL is not set on this machine');
  return s;
}

/** Model helper: which of the three pools `pool` is, or null. */
export function atomicPoolName(s: AtomicPoolState, pool: GenPool | null): AtomicPoolName | null {
  if (pool === null) return null;
  if (pool === s.atomic_pool_kernel) return 'kernel';
  if (pool === s.atomic_pool_dma32) return 'dma32';
  if (pool === s.atomic_pool_dma) return 'dma';
  return null;
}

/** Model helper: the gfp each pool is created and grown with (dma_atomic_pool_init / atomic_pool_work_fn). */
export function atomicPoolGfp(m: Machine, name: AtomicPoolName): number {
  const G = gfpFlags(m.profile.kernel);
  if (name === 'dma') return G.GFP_KERNEL | G.GFP_DMA;
  if (name === 'dma32') return G.GFP_KERNEL | G.GFP_DMA32;
  return G.GFP_KERNEL;
}

/** Model helper: size/avail of each existing pool, for invariants and reports. */
export function atomicPoolSummary(m: Machine): { name: AtomicPoolName; size: bigint; avail: bigint; chunks: number }[] {
  const s = atomicPoolsOf(m);
  const out: { name: AtomicPoolName; size: bigint; avail: bigint; chunks: number }[] = [];
  const pools: [AtomicPoolName, GenPool | null][] = [
    ['dma', s.atomic_pool_dma],
    ['dma32', s.atomic_pool_dma32],
    ['kernel', s.atomic_pool_kernel],
  ];
  for (const [name, p] of pools) {
    if (p === null) continue;
    let size = 0n;
    let avail = 0n;
    for (const c of p.chunks) {
      size += c.end_addr - c.start_addr + 1n;
      avail += c.avail;
    }
    out.push({ name, size, avail, chunks: p.chunks.length });
  }
  return out;
}

// ---------------------------------------------------------------- command line

/**
 * Model helper: the values do_early_param hands the setup function of `name`, in order. A bare
 * `name` (no `=`) reaches it as NULL, which early_coherent_pool passes to memparse: a NULL
 * dereference at boot, refused here.
 */
function cmdlineValues(cmdline: string, name: string): string[] {
  const out: string[] = [];
  for (const { param, val } of earlyParams(cmdline)) {
    if (!parameq(param, name)) continue;
    if (val === null) throw new ModelError(`${name} without "=": its early_param handler would pass NULL to memparse`);
    out.push(val);
  }
  return out;
}

/** kernel/dma/pool.c early_coherent_pool (5.10, 6.6): early_param("coherent_pool"), the last one wins. */
export function early_coherent_pool(s: AtomicPoolState, p: string): number {
  kenter('early_coherent_pool');
  try {
    s.atomic_pool_size = memparse(p, 0).value;
    return 0;
  } finally {
    kexit();
  }
}

/**
 * Model helper: the default atomic_pool_size for a totalram_pages() (5.10, 6.6):
 * 128 KiB per GiB, at least 128 KiB, at most MAX_ORDER_NR_PAGES pages (4 MiB).
 * Fault pool-size-64x: the v5.8-rc1 formula of 1d659236fb43, which scaled by
 * totalram_pages >> PAGE_SHIFT (units of 16 MiB) and capped at 4 MiB.
 */
export function atomicPoolDefaultSize(totalram_pages: number, faults: ReadonlySet<string>): bigint {
  const MAX_ORDER_NR_PAGES = 1n << 10n; // 5.10 1 << (MAX_ORDER - 1), 6.6 1 << MAX_ORDER: both 1024
  const ram = BigInt(totalram_pages);
  if (faults.has('pool-size-64x')) {
    knote('fault pool-size-64x: max(totalram_pages >> PAGE_SHIFT, 1) * SZ_128K');
    const units = ram >> BigInt(PAGE_SHIFT);
    const size = (units > 1n ? units : 1n) * SZ_128K;
    const cap = 1n << BigInt(PAGE_SHIFT + 10);
    return size < cap ? size : cap;
  }
  let pages = ram / (SZ_1G / SZ_128K);
  if (pages > MAX_ORDER_NR_PAGES) pages = MAX_ORDER_NR_PAGES;
  const bytes = pages << BigInt(PAGE_SHIFT);
  return bytes > SZ_128K ? bytes : SZ_128K;
}

// ---------------------------------------------------------------- growth


/** kernel/dma/pool.c dma_atomic_pool_size_add (5.10, 6.6): the per-zone debugfs counter. */
function dma_atomic_pool_size_add(m: Machine, s: AtomicPoolState, gfp: number, size: bigint): void {
  kenter('dma_atomic_pool_size_add');
  try {
    const G = gfpFlags(m.profile.kernel);
    if (gfp & G.__GFP_DMA) s.pool_size_dma += size;
    else if (gfp & G.__GFP_DMA32) s.pool_size_dma32 += size;
    else s.pool_size_kernel += size;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/pool.c cma_in_zone (5.10, 6.6): may the default CMA area back a
 * pool of this zone? Its last byte must lie inside the zone's limit; a
 * no-zone request takes CMA wherever it is. Without CONFIG_DMA_CMA there is no
 * default area and the answer is false.
 * Fault pool-cma-wrong-zone (historic A3, before d7e673ec2c8e): the zone is
 * ignored, so any existing area counts as in zone.
 */
export function cma_in_zone(m: Machine, gfp: number): boolean {
  kenter('cma_in_zone');
  try {
    if (!m.cfg('CONFIG_DMA_CMA')) return false;
    const cma = dev_get_cma_area(m, null);
    if (cma === null) return false;
    const size = cma_get_size(cma);
    if (size === 0n) return false;
    if (m.faults.has('pool-cma-wrong-zone')) {
      knote('fault pool-cma-wrong-zone: zone not checked');
      return true;
    }
    const G = gfpFlags(m.profile.kernel);
    // CMA areas never straddle a zone boundary (cma_activate_area), so the end decides.
    const end = cma_get_base(cma) + size - 1n;
    if (m.cfg('CONFIG_ZONE_DMA') && gfp & G.GFP_DMA) return end <= DMA_BIT_MASK(m.profile.zoneDmaBits);
    if (m.cfg('CONFIG_ZONE_DMA32') && gfp & G.GFP_DMA32) return end <= DMA_BIT_MASK(32);
    return true;
  } finally {
    kexit();
  }
}

/**
 * The error paths of atomic_pool_expand free with __free_pages even when the
 * chunk came from CMA: the pages go to the page allocator while the CMA bitmap
 * still marks them busy. The model's CMA pages are not buddy pages (mm/cma.ts),
 * so such a chunk simply stays allocated in its area: leaked from CMA, as in
 * the kernel, and the buddy would only have used it for movable pages.
 */
function freeChunkPages(m: Machine, page: number, order: number, fromCma: boolean): void {
  if (fromCma) {
    knote('__free_pages on a CMA chunk: the CMA bitmap keeps it (leaked)');
    return;
  }
  __free_pages(m.mm, page, order);
}

/**
 * kernel/dma/pool.c atomic_pool_expand (5.10 caps the order at MAX_ORDER - 1,
 * 6.6 at MAX_ORDER: both order 10, 4 MiB): add one chunk of at most pool_size,
 * falling back one order at a time down to a single page. Returns 0 or -ENOMEM.
 */
export function atomic_pool_expand(m: Machine, pool: GenPool, pool_size_in: bigint, gfp: number): number {
  kenter('atomic_pool_expand');
  try {
    const s = atomicPoolsOf(m);
    const maxOrder = m.profile.kernel === '5.10' ? MAX_ORDER('5.10') - 1 : MAX_ORDER('6.6');
    let order = Math.min(get_order(pool_size_in), maxOrder);
    let page: number | null = null;
    let fromCma = false;
    let pool_size = 0n;
    for (;;) {
      pool_size = PAGE_SIZE_N << BigInt(order);
      if (cma_in_zone(m, gfp)) {
        page = dma_alloc_from_contiguous(m, null, 1 << order, order, false);
        fromCma = page !== null;
        if (fromCma) knote('chunk from CMA');
      }
      if (page === null) page = alloc_pages(m.mm, gfp, order);
      if (page !== null || order === 0) break;
      knote('order fallback');
      order--;
    }
    if (page === null) {
      knote('no page at any order: -ENOMEM');
      return -ENOMEM;
    }
    arch_dma_prep_coherent(m, page, pool_size);
    let addr: bigint;
    const remap = m.cfg('CONFIG_DMA_DIRECT_REMAP');
    if (remap) {
      const prot = pgprot_dmacoherent(PAGE_KERNEL(m.init_mm.cfg), m.init_mm.cfg);
      const va = dma_common_contiguous_remap(m, page, pool_size, prot, 'atomic_pool_expand');
      if (va === null) {
        knote('remap failed: free the pages');
        freeChunkPages(m, page, order, fromCma);
        return -ENOMEM;
      }
      addr = va;
    } else {
      addr = page_address(m.init_mm, page);
    }
    // set_memory_decrypted(page_to_virt(page), 1 << order): 0 on riscv (no memory encryption).
    if (gen_pool_add_virt(pool, addr, PFN_PHYS(page), pool_size, NUMA_NO_NODE) !== 0) {
      // Faithful quirk: the re-encrypt result (0) is returned, so the failure reads as success.
      knote('gen_pool_add_virt failed: unwind, return 0');
      if (remap) dma_common_free_remap(m, addr, pool_size);
      freeChunkPages(m, page, order, fromCma);
      return 0;
    }
    dma_atomic_pool_size_add(m, s, gfp, pool_size);
    return 0;
  } finally {
    kexit();
  }
}

/** kernel/dma/pool.c atomic_pool_resize (5.10, 6.6): below the floor → add a chunk as big as the pool (doubling). */
export function atomic_pool_resize(m: Machine, pool: GenPool | null, gfp: number): void {
  kenter('atomic_pool_resize');
  try {
    const s = atomicPoolsOf(m);
    if (pool === null || gen_pool_avail(pool) >= s.atomic_pool_size) return;
    const name = atomicPoolName(s, pool);
    const ret = atomic_pool_expand(m, pool, gen_pool_size(pool), gfp);
    if (name !== null) s.lastExpand[name] = ret;
    s.log.push(`atomic_pool_work: ${name ?? '?'} pool ${ret === 0 ? 'grown' : 'expansion failed'}, now ${gen_pool_size(pool) >> 10n} KiB`);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/pool.c atomic_pool_work_fn (5.10, 6.6): resize dma (CONFIG_ZONE_DMA),
 * dma32 (CONFIG_ZONE_DMA32), then kernel. The workqueue runs it only when
 * queued, so here it runs only when workPending; returns whether it ran. The
 * pending bit clears before the function body runs, as the workqueue does, so
 * nothing inside can re-queue it (expansion never schedules work).
 */
export function atomic_pool_work_fn(m: Machine): boolean {
  kenter('atomic_pool_work_fn');
  try {
    const s = atomicPoolsOf(m);
    if (!s.workPending) {
      knote('not queued: the work does not run');
      return false;
    }
    s.workPending = false;
    if (m.cfg('CONFIG_ZONE_DMA')) atomic_pool_resize(m, s.atomic_pool_dma, atomicPoolGfp(m, 'dma'));
    if (m.cfg('CONFIG_ZONE_DMA32')) atomic_pool_resize(m, s.atomic_pool_dma32, atomicPoolGfp(m, 'dma32'));
    atomic_pool_resize(m, s.atomic_pool_kernel, atomicPoolGfp(m, 'kernel'));
    return true;
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------- init

/**
 * kernel/dma/pool.c __dma_atomic_pool_init (5.10, 6.6): a page-granular,
 * order-aligned gen_pool with one initial chunk, or NULL (pool destroyed) when
 * no page at all could be had.
 */
export function __dma_atomic_pool_init(m: Machine, pool_size: bigint, gfp: number): GenPool | null {
  kenter('__dma_atomic_pool_init');
  try {
    const s = atomicPoolsOf(m);
    const pool = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE, m.faults, m.profile.kernel);
    gen_pool_set_algo(pool, gen_pool_first_fit_order_align, null);
    const ret = atomic_pool_expand(m, pool, pool_size, gfp);
    const flags = gfpToString(gfp, m.profile.kernel);
    if (ret !== 0) {
      gen_pool_destroy(pool);
      s.log.push(`DMA: failed to allocate ${pool_size >> 10n} KiB ${flags} pool for atomic allocation`);
      return null;
    }
    s.log.push(`DMA: preallocated ${gen_pool_size(pool) >> 10n} KiB ${flags} pool for atomic allocations`);
    return pool;
  } finally {
    kexit();
  }
}

/**
 * include/linux/mm.h totalram_pages (5.10, 6.6): the buddy's managed pages plus
 * the activated CMA areas, which the kernel lends to the buddy (and counts) at
 * core_initcall, before this postcore initcall; the model keeps them apart.
 */
function totalram_pages(m: Machine): number {
  kenter('totalram_pages');
  try {
    let n = managedPages(m.mm);
    for (const a of m.cma.areas) n += a.count;
    return n;
  } finally {
    kexit();
  }
}

/** mm/page_alloc.c has_managed_dma (6.6, since 5.17): ZONE_DMA exists and has managed pages. */
export function has_managed_dma(m: Machine): boolean {
  kenter('has_managed_dma');
  try {
    if (!m.cfg('CONFIG_ZONE_DMA')) return false;
    return managed_zone(m.mm.node_zones[ZoneType.ZONE_DMA]);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/pool.c dma_atomic_pool_init (postcore_initcall; 5.10, 6.6): size
 * the pools from coherent_pool= or totalram_pages (the buddy's managed pages),
 * then create kernel, dma, dma32 in that order. The dma pool exists on 5.10
 * whenever CONFIG_ZONE_DMA is set, on 6.6 only if has_managed_dma()
 * (a674e48c5443). Sets m.atomicPools; returns 0 or -ENOMEM (any pool failed).
 * Fault pool-for-empty-zone (historic A6): 6.6 creates the dma pool on
 * CONFIG_ZONE_DMA alone, as 5.10 does.
 */
export function dma_atomic_pool_init(m: Machine): number {
  kenter('dma_atomic_pool_init');
  try {
    const s = atomicPoolState();
    m.atomicPools = s;
    for (const v of cmdlineValues(m.profile.cmdline, 'coherent_pool')) early_coherent_pool(s, v);
    if (s.atomic_pool_size === 0n) {
      knote('no coherent_pool=: scale with totalram_pages');
      s.atomic_pool_size = atomicPoolDefaultSize(totalram_pages(m), m.faults);
    }
    let ret = 0;
    s.configured.kernel = true;
    s.atomic_pool_kernel = __dma_atomic_pool_init(m, s.atomic_pool_size, atomicPoolGfp(m, 'kernel'));
    s.lastExpand.kernel = s.atomic_pool_kernel === null ? -ENOMEM : 0;
    if (s.atomic_pool_kernel === null) ret = -ENOMEM;
    let wantDma: boolean;
    if (m.profile.kernel === '5.10') {
      wantDma = m.cfg('CONFIG_ZONE_DMA');
    } else if (m.faults.has('pool-for-empty-zone')) {
      knote('fault pool-for-empty-zone: CONFIG_ZONE_DMA instead of has_managed_dma()');
      wantDma = m.cfg('CONFIG_ZONE_DMA');
    } else {
      wantDma = has_managed_dma(m);
    }
    if (wantDma) {
      s.configured.dma = true;
      s.atomic_pool_dma = __dma_atomic_pool_init(m, s.atomic_pool_size, atomicPoolGfp(m, 'dma'));
      s.lastExpand.dma = s.atomic_pool_dma === null ? -ENOMEM : 0;
      if (s.atomic_pool_dma === null) ret = -ENOMEM;
    }
    if (m.cfg('CONFIG_ZONE_DMA32')) {
      s.configured.dma32 = true;
      s.atomic_pool_dma32 = __dma_atomic_pool_init(m, s.atomic_pool_size, atomicPoolGfp(m, 'dma32'));
      s.lastExpand.dma32 = s.atomic_pool_dma32 === null ? -ENOMEM : 0;
      if (s.atomic_pool_dma32 === null) ret = -ENOMEM;
    }
    s.initResult = ret;
    return ret;
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------- allocation

/**
 * kernel/dma/pool.c dma_guess_pool: the next pool to try after prev.
 * First pick: 5.10 GFP_DMA32 (with CONFIG_ZONE_DMA32) → dma32, GFP_DMA (with
 * CONFIG_ZONE_DMA) → dma, else kernel; 6.6 tests `atomic_pool_dma != NULL`
 * instead of CONFIG_ZONE_DMA. Then both: kernel → dma32 (or dma if there is
 * no dma32 pool), dma32 → dma, dma → NULL.
 */
export function dma_guess_pool(m: Machine, prev: GenPool | null, gfp: number): GenPool | null {
  kenter('dma_guess_pool');
  try {
    const s = atomicPoolsOf(m);
    const G = gfpFlags(m.profile.kernel);
    if (prev === null) {
      if (m.cfg('CONFIG_ZONE_DMA32') && gfp & G.GFP_DMA32) return s.atomic_pool_dma32;
      const dmaOk = m.profile.kernel === '5.10' ? m.cfg('CONFIG_ZONE_DMA') : s.atomic_pool_dma !== null;
      if (dmaOk && gfp & G.GFP_DMA) return s.atomic_pool_dma;
      return s.atomic_pool_kernel;
    }
    if (prev === s.atomic_pool_kernel) return s.atomic_pool_dma32 !== null ? s.atomic_pool_dma32 : s.atomic_pool_dma;
    if (prev === s.atomic_pool_dma32) return s.atomic_pool_dma;
    return null;
  } finally {
    kexit();
  }
}

/** The phys_addr_ok callback dma-direct passes (dma_coherent_ok); null for callers that do not care. */
export type PhysAddrOk = (m: Machine, dev: device, phys: bigint, size: bigint) => boolean;

export interface CpuAddrOut {
  cpu_addr: bigint;
}

/**
 * kernel/dma/pool.c __dma_alloc_from_pool (5.10, 6.6): carve size bytes from one
 * pool, give them back if the address does not suit the device, queue growth
 * when the pool fell below the floor, zero through the pool's own (remapped)
 * address. Returns the PFN or null.
 */
export function __dma_alloc_from_pool(
  m: Machine,
  dev: device,
  size: bigint,
  pool: GenPool,
  out: CpuAddrOut,
  phys_addr_ok: PhysAddrOk | null,
): number | null {
  kenter('__dma_alloc_from_pool');
  try {
    const s = atomicPoolsOf(m);
    const addr = gen_pool_alloc(pool, size);
    if (addr === 0n) {
      knote('pool has no room');
      return null;
    }
    const phys = gen_pool_virt_to_phys(pool, addr);
    if (phys_addr_ok !== null && !phys_addr_ok(m, dev, phys, size)) {
      knote('address unsuitable for the device: give it back');
      gen_pool_free(pool, addr, size);
      return null;
    }
    if (gen_pool_avail(pool) < s.atomic_pool_size) {
      if (!s.workPending) knote('schedule_work(atomic_pool_work)');
      s.workPending = true;
    }
    out.cpu_addr = addr;
    cpuMemset(m, m.kernelHart, addr, 0, Number(size));
    return PHYS_PFN(phys);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/pool.c dma_alloc_from_pool (5.10, 6.6): walk the pools in
 * dma_guess_pool order; none fits → WARN "Failed to get suitable pool" and NULL
 * (both versions warn regardless of __GFP_NOWARN).
 */
export function dma_alloc_from_pool(
  m: Machine,
  dev: device,
  size: bigint,
  out: CpuAddrOut,
  gfp: number,
  phys_addr_ok: PhysAddrOk | null,
): number | null {
  kenter('dma_alloc_from_pool');
  try {
    let pool: GenPool | null = null;
    while ((pool = dma_guess_pool(m, pool, gfp)) !== null) {
      const page = __dma_alloc_from_pool(m, dev, size, pool, out, phys_addr_ok);
      if (page !== null) return page;
    }
    m.warnings.push(`Failed to get suitable pool for ${dev.name}`);
    knote('WARN: Failed to get suitable pool');
    return null;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/pool.c dma_free_from_pool (5.10, 6.6): if [start, start+size) lies in
 * one chunk of a pool (walked with gfp 0: kernel, dma32-or-dma, dma), free it
 * there and return true; else false (not pool memory).
 */
export function dma_free_from_pool(m: Machine, _dev: device, start: bigint, size: bigint): boolean {
  kenter('dma_free_from_pool');
  try {
    if (m.atomicPools === null) return false; // !CONFIG_DMA_COHERENT_POOL stub
    let pool: GenPool | null = null;
    while ((pool = dma_guess_pool(m, pool, 0)) !== null) {
      if (!gen_pool_has_addr(pool, start, size)) continue;
      gen_pool_free(pool, start, size);
      return true;
    }
    return false;
  } finally {
    kexit();
  }
}

/** Model helper: is cpu_addr inside any chunk of any atomic pool? */
export function isAtomicPoolAddr(m: Machine, cpu_addr: bigint): boolean {
  const s = m.atomicPools;
  if (s === null) return false;
  for (const p of [s.atomic_pool_dma, s.atomic_pool_dma32, s.atomic_pool_kernel]) {
    if (p !== null && p.chunks.some((c) => cpu_addr >= c.start_addr && cpu_addr <= c.end_addr)) return true;
  }
  return false;
}
