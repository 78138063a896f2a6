// kmalloc: include/linux/slab.h (size classes, kmalloc_index), mm/slab_common.c
// (cache creation, the 6.6 minimum-alignment aliasing, kmalloc_size_roundup) and
// SLUB's object placement (mm/slub.c), 5.10 and 6.6. Addresses are physical;
// the caller turns them into linear-map VAs with phys_to_virt.
//
// Why it is here: kmalloc's minimum alignment decides whether a small DMA
// buffer shares a 64-byte cache line with an unrelated object (spec
// riscv-c920-coherence.md §7(f)). Objects sit at i * size inside their slab
// page, so two kmalloc-16 objects share a line exactly when the kernel lets
// them (minimum alignment 8), and never when it guarantees 64.
//
// Minimum alignment per kernel (checked in the kernel sources named):
// - mainline 5.10 riscv: arch/riscv/include/asm/cache.h defines no
//   ARCH_DMA_MINALIGN (torvalds/linux@12db14909e0c, a pre-v6.0 stored copy),
//   so ARCH_KMALLOC_MINALIGN = __alignof__(unsigned long long) = 8.
// - vendor 5.10 C9xx (TH1520 BSP beagleboard/linux@de23366effeb, and the D1
//   tree rvboards/linux_kernel_for_d1@4ba106e8fdf2): ARCH_DMA_MINALIGN =
//   L1_CACHE_BYTES = 64 unconditionally, hence 5.10 slab.h makes
//   ARCH_KMALLOC_MINALIGN = KMALLOC_MIN_SIZE = 64 (checked in a 5.10.13 slab.h).
// - 6.6 with CONFIG_RISCV_DMA_NONCOHERENT (torvalds/linux@a940daa52167):
//   ARCH_DMA_MINALIGN 64, ARCH_KMALLOC_MINALIGN 8 (so the 8..96..192 caches
//   exist); at boot __kmalloc_minalign() = max(dma_get_cache_alignment(), 8),
//   or ARCH_KMALLOC_MINALIGN when CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC and the
//   swiotlb pool was allocated; caches smaller than that are aliased to the
//   next aligned one (kmalloc-8..32 -> kmalloc-64, kmalloc-96 -> kmalloc-128).
//
// What the model leaves out: per-CPU slabs and freelist order (objects are
// handed out lowest slab PFN first, lowest free index first: deterministic,
// same geometry), CONFIG_SLAB_FREELIST_RANDOM, debug red zones, memcg
// (KMALLOC_CGROUP; __GFP_ACCOUNT uses the normal caches), 6.6's
// CONFIG_RANDOM_KMALLOC_CACHES (off by default), NUMA. SLAB (still selectable
// in 6.6) is not modelled: SLUB is the default in both versions.
//
// Slab order rule (model): the smallest order whose slab holds 8 objects,
// capped at PAGE_ALLOC_COSTLY_ORDER (3): kmalloc-8..512 use order 0, 1k order
// 1, 2k order 2, 4k and 8k order 3. SLUB's calculate_order depends on the CPU
// count; only the number of objects per page changes, never their alignment.

import type { KernelVersion } from '../config/profile.ts';
import type { PglistData } from './mmzone.ts';
import { __free_pages, alloc_pages } from './page_alloc.ts';
import { gfpFlags } from '../include/linux/gfp.ts';
import { KernelBug, ModelError, PAGE_SHIFT, PAGE_SIZE, PFN_PHYS, PHYS_PFN, get_order, hex } from '../types.ts';
import { kenter, kexit, knote } from '../trace.ts';

/** SLUB: the largest kmalloc cache is order-1 (2 * PAGE_SIZE), both versions. */
export const KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1;
export const KMALLOC_MAX_CACHE_SIZE = 1 << KMALLOC_SHIFT_HIGH;
/** SLUB KMALLOC_SHIFT_MAX: MAX_ORDER + PAGE_SHIFT - 1 (5.10) = MAX_ORDER + PAGE_SHIFT (6.6) = 22. */
export const KMALLOC_SHIFT_MAX = 22;
export const KMALLOC_MAX_SIZE = 1 << KMALLOC_SHIFT_MAX;
/** include/linux/slab.h ZERO_SIZE_PTR ((void *)16): kmalloc(0). kfree ignores anything <= it. */
export const ZERO_SIZE_PTR = 16n;
/** include/linux/slab.h ARCH_SLAB_MINALIGN default (riscv with MMU): __alignof__(unsigned long long). */
export const ARCH_SLAB_MINALIGN = 8;
/** mm/internal.h PAGE_ALLOC_COSTLY_ORDER; the model's slab order cap. */
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/** mm/slab_common.c kmalloc_info[].size by index (SLUB part: up to KMALLOC_SHIFT_HIGH). */
const KMALLOC_INFO_SIZE: readonly number[] = [0, 96, 192, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];

/** include/linux/slab.h enum kmalloc_cache_type (the types the model has). */
export type KmallocCacheType = 'KMALLOC_NORMAL' | 'KMALLOC_RECLAIM' | 'KMALLOC_DMA';
const TYPES: readonly KmallocCacheType[] = ['KMALLOC_NORMAL', 'KMALLOC_RECLAIM', 'KMALLOC_DMA'];
const NAME_PREFIX: Readonly<Record<KmallocCacheType, string>> = {
  KMALLOC_NORMAL: 'kmalloc-',
  KMALLOC_RECLAIM: 'kmalloc-rcl-',
  KMALLOC_DMA: 'dma-kmalloc-',
};

export interface SlabConfig {
  kernel: KernelVersion;
  /** The compile-time ARCH_KMALLOC_MINALIGN. 5.10: must equal ARCH_DMA_MINALIGN when that is > 8, else 8. */
  ARCH_KMALLOC_MINALIGN: number;
  /** null = the arch does not define it (mainline riscv 5.10; 6.6 without RISCV_DMA_NONCOHERENT). */
  ARCH_DMA_MINALIGN: number | null;
  faults: ReadonlySet<string>;
  /**
   * 6.6: dma_get_cache_alignment() when the kmalloc caches are created (riscv
   * dma_cache_alignment: ARCH_DMA_MINALIGN, or 1 when no non-coherent support
   * was probed). Default: ARCH_DMA_MINALIGN ?? 1. Ignored by 5.10.
   */
  dma_cache_alignment?: number;
  /**
   * 6.6: IS_ENABLED(CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC) && is_swiotlb_allocated()
   * at kmalloc cache creation. Default false. Ignored by 5.10.
   */
  bounceUnalignedKmalloc?: boolean;
  /** Model: called for __GFP_ZERO slab objects (the byte model lives elsewhere); large ones go through mm.zeroPages. */
  zeroObject?: (pa: bigint, len: number) => void;
}

/** mm/slab.h struct kmem_cache (the fields the model uses) plus model state. */
export interface KmemCache {
  readonly name: string;
  readonly type: KmallocCacheType;
  readonly object_size: number;
  /** Object stride inside a slab: ALIGN(object_size, align). */
  readonly size: number;
  readonly align: number;
  /** oo_order(s->oo). */
  readonly order: number;
  /** oo_objects(s->oo). */
  readonly objects: number;
  readonly min_partial: number;
  /** GFP bits every slab page of this cache is allocated with (s->allocflags). */
  readonly allocflags: number;
  /** Model: slabs of this cache, head pfn -> slab. */
  readonly slabs: Map<number, Slab>;
}

/** mm/slab.h struct slab (struct page in 5.10): one slab page (block). */
export interface Slab {
  readonly pfn: number;
  readonly cache: KmemCache;
  inuse: number;
  /** Model: requested size per object index, 0 = free. */
  readonly reqSize: number[];
}

interface LargeAlloc {
  readonly pfn: number;
  readonly order: number;
  readonly size: number;
}

/** Model: the kmalloc subsystem of one machine. */
export interface KmallocState {
  readonly mm: PglistData;
  readonly cfg: SlabConfig;
  /** Compile-time KMALLOC_MIN_SIZE (the fault lowers it to 8). */
  readonly KMALLOC_MIN_SIZE: number;
  readonly KMALLOC_SHIFT_LOW: number;
  /** The alignment kmalloc objects really get (6.6: __kmalloc_minalign()). */
  readonly minalign: number;
  /** kmalloc_caches[type][index]; 6.6 aliases share one object. */
  readonly kmalloc_caches: Readonly<Record<KmallocCacheType, (KmemCache | null)[]>>;
  /** Model: every pfn of every slab -> its slab. */
  readonly slabOfPfn: Map<number, Slab>;
  /** Model: every pfn of every large allocation -> the allocation. */
  readonly largeOfPfn: Map<number, LargeAlloc>;
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function ilog2(n: number): number {
  return 31 - Math.clz32(n);
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function hasMinalignFault(cfg: SlabConfig): boolean {
  return cfg.faults.has('kmalloc-minalign-8');
}

function checkConfig(cfg: SlabConfig): void {
  if (cfg.kernel !== '5.10' && cfg.kernel !== '6.6') throw new ModelError(`slab: unknown kernel ${String(cfg.kernel)}`);
  const km = cfg.ARCH_KMALLOC_MINALIGN;
  if (!isPow2(km) || km < 8 || km > 256) throw new ModelError(`ARCH_KMALLOC_MINALIGN ${km}: must be a power of two in 8..256`);
  const dm = cfg.ARCH_DMA_MINALIGN;
  if (dm !== null && !isPow2(dm)) throw new ModelError(`ARCH_DMA_MINALIGN ${dm}: must be a power of two`);
  if (cfg.kernel === '5.10') {
    // 5.10 slab.h derives it: ARCH_DMA_MINALIGN > 8 forces ARCH_KMALLOC_MINALIGN to it.
    const derived = dm !== null && dm > 8 ? dm : 8;
    if (km !== derived) {
      throw new ModelError(
        `5.10: ARCH_KMALLOC_MINALIGN ${km} cannot differ from ${derived} (derived from ARCH_DMA_MINALIGN ${String(dm)}); use fault kmalloc-minalign-8`,
      );
    }
  }
  const ca = cfg.dma_cache_alignment;
  if (ca !== undefined && !isPow2(ca)) throw new ModelError(`dma_cache_alignment ${ca}: must be a power of two`);
}

/** Compile-time ARCH_KMALLOC_MINALIGN as the model builds it (the fault lowers it to 8). */
function compileKmallocMinalign(cfg: SlabConfig): number {
  return hasMinalignFault(cfg) ? 8 : cfg.ARCH_KMALLOC_MINALIGN;
}

/** include/linux/slab.h KMALLOC_MIN_SIZE (5.10, 6.6): ARCH_KMALLOC_MINALIGN when above 8, else 8. */
export function KMALLOC_MIN_SIZE(cfg: SlabConfig): number {
  const m = compileKmallocMinalign(cfg);
  return m > 8 ? m : 8;
}

/**
 * mm/slab_common.c __kmalloc_minalign (6.6 only): max(dma_get_cache_alignment(),
 * ARCH_SLAB_MINALIGN), or ARCH_KMALLOC_MINALIGN instead of the cache alignment
 * when unaligned kmalloc buffers are bounced through swiotlb.
 * Fault kmalloc-minalign-8: 8 whatever the kernel guarantees.
 */
export function __kmalloc_minalign(cfg: SlabConfig): number {
  if (cfg.kernel !== '6.6') throw new ModelError('__kmalloc_minalign does not exist in 5.10');
  kenter('__kmalloc_minalign');
  try {
    if (hasMinalignFault(cfg)) {
      knote('fault kmalloc-minalign-8');
      return 8;
    }
    let minalign = cfg.dma_cache_alignment ?? cfg.ARCH_DMA_MINALIGN ?? 1;
    if (cfg.bounceUnalignedKmalloc === true) {
      knote('DMA_BOUNCE_UNALIGNED_KMALLOC && is_swiotlb_allocated');
      minalign = cfg.ARCH_KMALLOC_MINALIGN;
    }
    return Math.max(minalign, ARCH_SLAB_MINALIGN);
  } finally {
    kexit();
  }
}

/** Model helper: the alignment every kmalloc object gets, per version. */
export function kmallocMinalign(cfg: SlabConfig): number {
  checkConfig(cfg);
  // 5.10: the compile-time ARCH_KMALLOC_MINALIGN is all there is.
  if (cfg.kernel === '5.10') return compileKmallocMinalign(cfg);
  return Math.max(__kmalloc_minalign(cfg), compileKmallocMinalign(cfg));
}

/**
 * include/linux/slab.h kmalloc_index (5.10) / __kmalloc_index(size, true) (6.6):
 * the compile-time cache index for a size. 0 for size 0; 1 = kmalloc-96 and
 * 2 = kmalloc-192 only while KMALLOC_MIN_SIZE allows them; BUG() past the table
 * (64 MiB in 5.10, 32 MiB in 6.6). mm/slab_common.c kmalloc_slab's
 * size_index[] table, as set up by setup_kmalloc_cache_index_table, gives the
 * same index for every size up to 192.
 */
export function kmalloc_index(size: number, cfg: SlabConfig): number {
  kenter('kmalloc_index');
  try {
    if (!Number.isInteger(size) || size < 0) throw new ModelError(`kmalloc_index: bad size ${size}`);
    const minSize = KMALLOC_MIN_SIZE(cfg);
    if (size === 0) return 0;
    if (size <= minSize) return ilog2(minSize);
    if (minSize <= 32 && size > 64 && size <= 96) return 1;
    if (minSize <= 64 && size > 128 && size <= 192) return 2;
    const top = cfg.kernel === '5.10' ? 26 : 25;
    for (let i = 3; i <= top; i++) if (size <= 2 ** i) return i;
    throw new KernelBug(`kmalloc_index: size ${size} beyond the kmalloc table`);
  } finally {
    kexit();
  }
}

function sizeOfIndex(idx: number): number {
  return idx < KMALLOC_INFO_SIZE.length ? KMALLOC_INFO_SIZE[idx] : 2 ** idx;
}

/**
 * Model helper: which cache index really serves index `idx` after 6.6's
 * new_kmalloc_cache aliasing (sizes below the boot-time minimum alignment
 * share the next aligned cache), and that cache's object size.
 */
function alignedIndex(cfg: SlabConfig, idx: number, minalign: number): { idx: number; size: number } {
  const size = sizeOfIndex(idx);
  if (cfg.kernel === '6.6' && minalign > compileKmallocMinalign(cfg)) {
    const aligned = alignUp(size, minalign);
    return { idx: kmalloc_index(aligned, cfg), size: aligned };
  }
  return { idx, size };
}

/**
 * mm/slab_common.c kmalloc_size_roundup (6.6 only; added in 6.1): the object
 * size kmalloc(size) really returns: the serving cache's object size, whole
 * pages for large sizes, `size` itself for 0 and for sizes past
 * KMALLOC_MAX_SIZE.
 */
export function kmalloc_size_roundup(size: number, cfg: SlabConfig): number {
  if (cfg.kernel !== '6.6') throw new ModelError('kmalloc_size_roundup does not exist in 5.10');
  kenter('kmalloc_size_roundup');
  try {
    checkConfig(cfg);
    if (!Number.isInteger(size) || size < 0) throw new ModelError(`kmalloc_size_roundup: bad size ${size}`);
    if (size > 0 && size <= KMALLOC_MAX_CACHE_SIZE) {
      const minalign = kmallocMinalign(cfg);
      return alignedIndex(cfg, kmalloc_index(size, cfg), minalign).size;
    }
    if (size > 0 && size <= KMALLOC_MAX_SIZE) return PAGE_SIZE * 2 ** get_order(size);
    return size;
  } finally {
    kexit();
  }
}

/** Model: the slab order rule documented at the top of the file. */
function slabOrder(size: number): number {
  return Math.min(PAGE_ALLOC_COSTLY_ORDER, get_order(size * 8));
}

/** mm/slub.c set_min_partial (5.10, 6.6): ilog2(size) / 2 clamped to [MIN_PARTIAL 5, MAX_PARTIAL 10]. */
function minPartial(size: number): number {
  return Math.min(10, Math.max(5, Math.floor(ilog2(size) / 2)));
}

/**
 * mm/slab_common.c create_kmalloc_cache / create_boot_cache (5.10, 6.6):
 * align = ARCH_KMALLOC_MINALIGN, raised to the size for power-of-two sizes
 * (natural alignment, since 5.4); the object stride is the size aligned up.
 */
function create_kmalloc_cache(st: KmallocState, type: KmallocCacheType, size: number): KmemCache {
  kenter('create_kmalloc_cache');
  try {
    const G = gfpFlags(st.cfg.kernel);
    let align = compileKmallocMinalign(st.cfg);
    if (isPow2(size)) align = Math.max(align, size);
    const stride = alignUp(size, align);
    const order = slabOrder(stride);
    let allocflags = 0;
    // 5.10 sets __GFP_COMP only for order > 0; 6.6 always.
    if (st.cfg.kernel === '6.6' || order > 0) allocflags |= G.__GFP_COMP;
    if (type === 'KMALLOC_DMA') allocflags |= G.__GFP_DMA;
    if (type === 'KMALLOC_RECLAIM') allocflags |= G.__GFP_RECLAIMABLE;
    return {
      name: NAME_PREFIX[type] + (size >= 1024 && size % 1024 === 0 ? `${size / 1024}k` : `${size}`),
      type,
      object_size: size,
      size: stride,
      align,
      order,
      objects: Math.floor((PAGE_SIZE * 2 ** order) / stride),
      min_partial: minPartial(stride),
      allocflags,
      slabs: new Map(),
    };
  } finally {
    kexit();
  }
}

/**
 * mm/slab_common.c create_kmalloc_caches + new_kmalloc_cache (5.10, 6.6):
 * caches KMALLOC_SHIFT_LOW..KMALLOC_SHIFT_HIGH, plus kmalloc-96 when
 * KMALLOC_MIN_SIZE <= 32 and kmalloc-192 when it is <= 64. 6.6 aliases a
 * cache smaller than __kmalloc_minalign() to the cache of its aligned size.
 * DMA caches exist only with CONFIG_ZONE_DMA.
 */
function create_kmalloc_caches(st: KmallocState): void {
  kenter('create_kmalloc_caches');
  try {
    const minSize = st.KMALLOC_MIN_SIZE;
    const order: number[] = [];
    for (let i = st.KMALLOC_SHIFT_LOW; i <= KMALLOC_SHIFT_HIGH; i++) {
      order.push(i);
      if (minSize <= 32 && i === 6) order.push(1);
      if (minSize <= 64 && i === 7) order.push(2);
    }
    for (const type of TYPES) {
      if (type === 'KMALLOC_DMA' && !st.mm.zoneConfig.CONFIG_ZONE_DMA) continue;
      const caches = st.kmalloc_caches[type];
      for (const idx of order) {
        const a = alignedIndex(st.cfg, idx, st.minalign);
        if (caches[a.idx] === null) caches[a.idx] = create_kmalloc_cache(st, type, a.size);
        if (a.idx !== idx) {
          knote('kmalloc cache aliased to an aligned size');
          caches[idx] = caches[a.idx];
        }
      }
    }
  } finally {
    kexit();
  }
}

/** Model helper: kmem_cache_init's kmalloc part on top of a booted buddy allocator. */
export function kmallocCreate(mm: PglistData, cfg: SlabConfig): KmallocState {
  checkConfig(cfg);
  if (mm.kernel !== cfg.kernel) throw new ModelError(`kmallocCreate: mm is ${mm.kernel}, slab config ${cfg.kernel}`);
  const minSize = KMALLOC_MIN_SIZE(cfg);
  const mk = (): (KmemCache | null)[] => new Array<KmemCache | null>(KMALLOC_SHIFT_HIGH + 1).fill(null);
  const st: KmallocState = {
    mm,
    cfg,
    KMALLOC_MIN_SIZE: minSize,
    KMALLOC_SHIFT_LOW: ilog2(minSize),
    minalign: kmallocMinalign(cfg),
    kmalloc_caches: { KMALLOC_NORMAL: mk(), KMALLOC_RECLAIM: mk(), KMALLOC_DMA: mk() },
    slabOfPfn: new Map(),
    largeOfPfn: new Map(),
  };
  create_kmalloc_caches(st);
  return st;
}

/**
 * include/linux/slab.h kmalloc_type (5.10, 6.6 without CONFIG_MEMCG_KMEM):
 * __GFP_DMA wins (only with CONFIG_ZONE_DMA), then __GFP_RECLAIMABLE.
 */
export function kmalloc_type(st: KmallocState, flags: number): KmallocCacheType {
  kenter('kmalloc_type');
  try {
    const G = gfpFlags(st.cfg.kernel);
    if ((flags & (G.__GFP_DMA | G.__GFP_RECLAIMABLE)) === 0) return 'KMALLOC_NORMAL';
    if (flags & G.__GFP_DMA && st.mm.zoneConfig.CONFIG_ZONE_DMA) return 'KMALLOC_DMA';
    return flags & G.__GFP_RECLAIMABLE ? 'KMALLOC_RECLAIM' : 'KMALLOC_NORMAL';
  } finally {
    kexit();
  }
}

/** mm/slab_common.c kmalloc_slab (5.10, 6.6): the cache serving a size <= KMALLOC_MAX_CACHE_SIZE; null for size 0 (ZERO_SIZE_PTR). */
export function kmalloc_slab(st: KmallocState, size: number, flags: number): KmemCache | null {
  kenter('kmalloc_slab');
  try {
    if (size === 0) return null;
    const idx = kmalloc_index(size, st.cfg);
    const c = st.kmalloc_caches[kmalloc_type(st, flags)][idx];
    if (c === null) throw new ModelError(`kmalloc_slab: no cache for size ${size}`);
    return c;
  } finally {
    kexit();
  }
}

/** GFP_SLAB_BUG_MASK (mm/internal.h / mm/slab.h, 5.10 and 6.6): zone modifiers slab pages cannot honour. */
function gfpSlabBugMask(kernel: KernelVersion): number {
  const G = gfpFlags(kernel);
  return G.__GFP_DMA32 | G.__GFP_HIGHMEM | ~G.__GFP_BITS_MASK;
}

/**
 * mm/slab_common.c kmalloc_fix_flags (5.10, 6.6): warn "Unexpected gfp" and
 * strip the bits; the allocation goes on.
 */
export function kmalloc_fix_flags(kernel: KernelVersion, flags: number): number {
  kenter('kmalloc_fix_flags');
  try {
    knote('Unexpected gfp: fixing up');
    return flags & ~gfpSlabBugMask(kernel);
  } finally {
    kexit();
  }
}

/** mm/internal.h GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK: the caller's bits a slab page keeps. */
function slabPageGfpMask(kernel: KernelVersion): number {
  const G = gfpFlags(kernel);
  let m =
    G.__GFP_RECLAIM | G.__GFP_HIGH | G.__GFP_IO | G.__GFP_FS | G.__GFP_NOWARN | G.__GFP_RETRY_MAYFAIL |
    G.__GFP_NOFAIL | G.__GFP_NORETRY | G.__GFP_MEMALLOC | G.__GFP_NOMEMALLOC | G.__GFP_HARDWALL | G.__GFP_THISNODE;
  if (kernel === '5.10') m |= gfpFlags('5.10').__GFP_ATOMIC;
  return m;
}

/**
 * mm/slub.c new_slab / allocate_slab (5.10, 6.6): a fresh slab page from the
 * buddy allocator with the caller's reclaim bits plus the cache's allocflags.
 * Neither __GFP_ZERO nor the caller's zone modifiers reach the page allocator.
 */
export function new_slab(st: KmallocState, s: KmemCache, flags: number): Slab | null {
  kenter('new_slab');
  try {
    if (flags & gfpSlabBugMask(st.cfg.kernel)) flags = kmalloc_fix_flags(st.cfg.kernel, flags);
    const gfp = (flags & slabPageGfpMask(st.cfg.kernel)) | s.allocflags;
    const pfn = alloc_pages(st.mm, gfp, s.order);
    if (pfn === null) return null;
    // ZERO_SIZE_PTR and NULL are PAs 16 and 0 in this model: an object there could not be freed.
    if (pfn === 0) throw new ModelError('new_slab: PFN 0 as a slab page clashes with the NULL / ZERO_SIZE_PTR sentinels');
    const slab: Slab = { pfn, cache: s, inuse: 0, reqSize: new Array<number>(s.objects).fill(0) };
    s.slabs.set(pfn, slab);
    for (let i = 0; i < 2 ** s.order; i++) st.slabOfPfn.set(pfn + i, slab);
    return slab;
  } finally {
    kexit();
  }
}

/** mm/slub.c discard_slab (5.10, 6.6): an empty slab page goes back to the buddy allocator. */
export function discard_slab(st: KmallocState, slab: Slab): void {
  kenter('discard_slab');
  try {
    const s = slab.cache;
    s.slabs.delete(slab.pfn);
    for (let i = 0; i < 2 ** s.order; i++) st.slabOfPfn.delete(slab.pfn + i);
    __free_pages(st.mm, slab.pfn, s.order);
  } finally {
    kexit();
  }
}

/**
 * mm/slub.c slab_alloc (5.10, 6.6; slab_alloc_node): the lowest free object of
 * the lowest-PFN slab with room, else a new slab. Returns the object's PA.
 */
export function slab_alloc(st: KmallocState, s: KmemCache, flags: number, size: number): bigint | null {
  kenter('slab_alloc');
  try {
    let slab: Slab | null = null;
    for (const sl of s.slabs.values()) {
      if (sl.inuse < s.objects && (slab === null || sl.pfn < slab.pfn)) slab = sl;
    }
    if (slab === null) {
      knote('___slab_alloc: new slab');
      slab = new_slab(st, s, flags);
      if (slab === null) {
        if (!(flags & gfpFlags(st.cfg.kernel).__GFP_NOWARN)) knote('slab_out_of_memory');
        return null;
      }
    }
    const i = slab.reqSize.indexOf(0);
    slab.reqSize[i] = size;
    slab.inuse++;
    const pa = PFN_PHYS(slab.pfn) + BigInt(i * s.size);
    if (flags & gfpFlags(st.cfg.kernel).__GFP_ZERO) {
      knote('__GFP_ZERO');
      if (st.cfg.zeroObject !== undefined) st.cfg.zeroObject(pa, s.object_size);
    }
    return pa;
  } finally {
    kexit();
  }
}

/**
 * 5.10: mm/slab_common.c kmalloc_order (via kmalloc_large); 6.6: mm/slab_common.c
 * __kmalloc_large_node (via kmalloc_large). Whole pages, order get_order(size),
 * __GFP_COMP added, bad zone bits fixed up as for slabs.
 */
export function kmalloc_large(st: KmallocState, size: number, flags: number): bigint | null {
  kenter('kmalloc_large');
  try {
    kenter(st.cfg.kernel === '5.10' ? 'kmalloc_order' : '__kmalloc_large_node');
    try {
      const G = gfpFlags(st.cfg.kernel);
      if (flags & gfpSlabBugMask(st.cfg.kernel)) flags = kmalloc_fix_flags(st.cfg.kernel, flags);
      const order = get_order(size);
      const pfn = alloc_pages(st.mm, flags | G.__GFP_COMP, order);
      if (pfn === null) return null;
      if (pfn === 0) throw new ModelError('kmalloc_large: PFN 0 clashes with the NULL / ZERO_SIZE_PTR sentinels');
      const a: LargeAlloc = { pfn, order, size };
      for (let i = 0; i < 2 ** order; i++) st.largeOfPfn.set(pfn + i, a);
      return PFN_PHYS(pfn);
    } finally {
      kexit();
    }
  } finally {
    kexit();
  }
}

/**
 * include/linux/slab.h kmalloc -> __kmalloc (5.10, 6.6): above
 * KMALLOC_MAX_CACHE_SIZE whole pages, else an object of the serving cache.
 * Returns the object's physical address, ZERO_SIZE_PTR for size 0, null on
 * failure.
 */
export function kmalloc(st: KmallocState, size: number, gfp: number): bigint | null {
  kenter('kmalloc');
  try {
    if (!Number.isInteger(size) || size < 0) throw new ModelError(`kmalloc: bad size ${size}`);
    if (size > KMALLOC_MAX_CACHE_SIZE) return kmalloc_large(st, size, gfp);
    kenter('__kmalloc');
    try {
      const s = kmalloc_slab(st, size, gfp);
      if (s === null) {
        knote('ZERO_SIZE_PTR');
        return ZERO_SIZE_PTR;
      }
      return slab_alloc(st, s, gfp, size);
    } finally {
      kexit();
    }
  } finally {
    kexit();
  }
}

/**
 * mm/slub.c kfree (5.10, 6.6): NULL and ZERO_SIZE_PTR are ignored; a
 * non-slab (large) allocation frees its whole block, even through an
 * interior pointer (5.10 __free_pages, 6.6 free_large_kmalloc); a slab object
 * goes back to its slab, and an empty slab beyond min_partial goes back to the
 * buddy allocator. Freeing anything kmalloc did not hand out (double free,
 * interior pointer, foreign address) is a KernelBug: SLUB would corrupt its
 * freelist or trip CONFIG_SLAB_FREELIST_HARDENED.
 */
export function kfree(st: KmallocState, pa: bigint): void {
  kenter('kfree');
  try {
    if (pa <= ZERO_SIZE_PTR) {
      knote('ZERO_OR_NULL_PTR');
      return;
    }
    const pfn = PHYS_PFN(pa);
    const large = st.largeOfPfn.get(pfn);
    if (large !== undefined) {
      if (pa !== PFN_PHYS(large.pfn)) knote('kfree of an interior pointer to a large allocation');
      for (let i = 0; i < 2 ** large.order; i++) st.largeOfPfn.delete(large.pfn + i);
      // 5.10 calls __free_pages directly; 6.6 goes through free_large_kmalloc.
      if (st.cfg.kernel === '5.10') __free_pages(st.mm, large.pfn, large.order);
      else {
        kenter('free_large_kmalloc');
        try {
          __free_pages(st.mm, large.pfn, large.order);
        } finally {
          kexit();
        }
      }
      return;
    }
    const slab = st.slabOfPfn.get(pfn);
    if (slab === undefined) throw new KernelBug(`kfree(${hex(pa)}): not a kmalloc address`);
    slab_free(st, slab, pa);
  } finally {
    kexit();
  }
}

/** mm/slub.c slab_free (5.10, 6.6; __slab_free's empty-slab discard). */
export function slab_free(st: KmallocState, slab: Slab, pa: bigint): void {
  kenter('slab_free');
  try {
    const s = slab.cache;
    const off = Number(pa - PFN_PHYS(slab.pfn));
    const i = Math.floor(off / s.size);
    if (off % s.size !== 0 || i >= s.objects) throw new KernelBug(`kfree(${hex(pa)}): not the start of a ${s.name} object`);
    if (slab.reqSize[i] === 0) throw new KernelBug(`kfree(${hex(pa)}): double free of a ${s.name} object`);
    slab.reqSize[i] = 0;
    slab.inuse--;
    if (slab.inuse === 0) {
      let partial = 0;
      for (const sl of s.slabs.values()) if (sl !== slab && sl.inuse < s.objects) partial++;
      if (partial >= s.min_partial) {
        knote('slab_empty');
        discard_slab(st, slab);
      }
    }
  } finally {
    kexit();
  }
}

/**
 * mm/slab_common.c ksize / __ksize (5.10, 6.6): the usable size: the cache's
 * object stride for slab objects, the whole block for large ones, 0 for
 * ZERO_SIZE_PTR. An address kmalloc never handed out is a model misuse.
 */
export function ksize(st: KmallocState, pa: bigint): number {
  kenter('ksize');
  try {
    if (pa === ZERO_SIZE_PTR) return 0;
    const pfn = PHYS_PFN(pa);
    const large = st.largeOfPfn.get(pfn);
    if (large !== undefined) return PAGE_SIZE * 2 ** large.order;
    const slab = st.slabOfPfn.get(pfn);
    if (slab !== undefined) {
      const off = Number(pa - PFN_PHYS(slab.pfn));
      const i = Math.floor(off / slab.cache.size);
      if (i < slab.cache.objects && slab.reqSize[i] !== 0) return slab.cache.size;
    }
    throw new ModelError(`ksize(${hex(pa)}): not a live kmalloc object`);
  } finally {
    kexit();
  }
}

/** Model helper: every live kmalloc allocation, with the size asked for and the size it occupies. */
export function* kmallocObjects(st: KmallocState): Iterable<{ pa: bigint; size: number; cacheSize: number }> {
  const seen = new Set<LargeAlloc>();
  for (const a of st.largeOfPfn.values()) {
    if (seen.has(a)) continue;
    seen.add(a);
    yield { pa: PFN_PHYS(a.pfn), size: a.size, cacheSize: PAGE_SIZE * 2 ** a.order };
  }
  const caches = new Set<KmemCache>();
  for (const t of TYPES) for (const c of st.kmalloc_caches[t]) if (c !== null) caches.add(c);
  for (const c of caches) {
    for (const slab of c.slabs.values()) {
      for (let i = 0; i < c.objects; i++) {
        if (slab.reqSize[i] !== 0) yield { pa: PFN_PHYS(slab.pfn) + BigInt(i * c.size), size: slab.reqSize[i], cacheSize: c.size };
      }
    }
  }
}

/** Model helper: the distinct caches, smallest first (what /proc/slabinfo would list as kmalloc-*). */
export function kmallocCaches(st: KmallocState, type: KmallocCacheType = 'KMALLOC_NORMAL'): KmemCache[] {
  const out: KmemCache[] = [];
  for (const c of st.kmalloc_caches[type]) if (c !== null && !out.includes(c)) out.push(c);
  return out.sort((a, b) => a.size - b.size);
}

/** Model helper: slab pages currently held (for conservation checks against the buddy allocator). */
export function kmallocSlabPages(st: KmallocState): number {
  let n = 0;
  for (const t of TYPES) {
    const seen = new Set<KmemCache>();
    for (const c of st.kmalloc_caches[t]) {
      if (c === null || seen.has(c)) continue;
      seen.add(c);
      n += c.slabs.size * 2 ** c.order;
    }
  }
  return n;
}
