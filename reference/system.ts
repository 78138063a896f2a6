// Builds one whole machine from a Profile: memory, caches, page allocator, page
// tables, kmalloc, swiotlb, devices. The only entry point the model layer needs.

import type { Profile } from './config/profile.ts';
import { kconfigEnabled } from './config/profile.ts';
import type { MmConfig, PglistData } from './mm/page_alloc.ts';
import { buildMm } from './mm/page_alloc.ts';
import { PhysMemory } from './mm/memory.ts';
import { C920Caches, MODEL_GEOMETRY, SG2042_GEOMETRY } from './hw/c920-cache.ts';
import { createInitMm, memTypeConfig, SV39_LAYOUT, type HartMode, type MmStruct } from './arch/riscv/pgtable.ts';
import type { device } from './include/linux/device.ts';
import { PAGE_ALIGN, PAGE_SIZE_N } from './types.ts';
import type { MemoryRange } from './config/profile.ts';
import { kmallocCreate, type KmallocState, type SlabConfig } from './mm/slab.ts';
import { swiotlbInit, type CpuMemAccess, type IoTlbMem } from './kernel/dma/swiotlb.ts';
import { dmaDebugCreate, type DmaDebugState } from './kernel/dma/debug.ts';
import { cpuLoad, cpuMemset, cpuStore } from './hw/cpu.ts';
import { page_address, phys_to_virt, shareLeafTables, walkPageTable } from './arch/riscv/pgtable.ts';
import { coherentGlobalsCreate, dma_init_reserved_memory, type CoherentGlobals } from './kernel/dma/coherent.ts';
import { reservedMemBoot, type OfReservedMem } from './drivers/of/of_reserved_mem.ts';
import { ofPlatformPopulate } from './drivers/of/platform.ts';
import { dma_atomic_pool_init, type AtomicPoolState } from './kernel/dma/pool.ts';
import { cmaActivate, cmaReserve } from './kernel/dma/contiguous.ts';
import type { cma } from './mm/cma.ts';
import { L1_CACHE_BYTES, PAGE_SIZE } from './types.ts';
import { isTracing } from './trace.ts';
import { compileClone, reachable } from './boot-image.ts';
import { createTask, type task_struct } from './include/linux/sched.ts';

/** include/linux/memblock.h default (riscv defines none). */
const ARCH_LOW_ADDRESS_LIMIT = 0xffff_ffffn;
const IO_TLB_SIZE = 2048n;

export interface Machine {
  profile: Profile;
  faults: ReadonlySet<string>;
  mem: PhysMemory;
  caches: C920Caches;
  mm: PglistData;
  init_mm: MmStruct;
  hart: HartMode;
  /** The hart kernel code (memset, bounce copies, CMO loops) runs on. */
  kernelHart: number;
  devices: device[];
  /** swiotlb's io_tlb pool placement (reserved at boot), null when the profile has none. */
  swiotlbPool: { base: bigint; nslabs: number } | null;
  /** WARN()s the kernel printed, in order. */
  warnings: string[];
  /** Kconfig lookups are hot: resolved once. */
  cfg: (sym: string) => boolean;
  slab: KmallocState;
  io_tlb: IoTlbMem | null;
  /** The kernel hart's view of memory through the cacheable linear map (memcpy in swiotlb_bounce). */
  cpuMem: CpuMemAccess;
  /** dma_get_cache_alignment(): 6.6 riscv dma_cache_alignment; ARCH_DMA_MINALIGN-or-8 on 5.10. */
  dmaCacheAlignment: number;
  /** 6.6: CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC with a swiotlb pool (dma-debug skips the overlap report then). */
  bounceUnalignedKmalloc: boolean;
  /** CONFIG_DMA_API_DEBUG state, null when the option is off. */
  debug: DmaDebugState | null;
  /** The physical address behind a kernel virtual address (for the debug hooks); null if unmapped. */
  debugPhysOf: (va: bigint) => bigint | null;
  /** kernel/dma/pool.c atomic pools (CONFIG_DMA_COHERENT_POOL), null when the option is off. */
  atomicPools: AtomicPoolState | null;
  /** mm/cma.c cma_areas[] and dma_contiguous_default_area (CONFIG_DMA_CMA; empty otherwise). */
  cma: { areas: cma[]; default: cma | null };
  /** drivers/of/of_reserved_mem.c reserved_mem[] and the assigned-device list. */
  reservedMem: OfReservedMem;
  /** kernel/dma/coherent.c globals: the 6.6 global pool and its `linux,dma-default` region. */
  dmaCoherent: CoherentGlobals;
  /** `current`: the task the drivers' calls run in (shared with mm and init_mm for might_sleep). */
  current: task_struct;
}

/**
 * ARCH_DMA_MINALIGN per kernel: 6.6 riscv with RISCV_DMA_NONCOHERENT defines it
 * as L1_CACHE_BYTES (64) and ARCH_KMALLOC_MINALIGN as 8. Mainline 5.10 riscv
 * has none, but the vendor 5.10 C9xx trees define ARCH_DMA_MINALIGN 64
 * unconditionally (beagleboard/linux@de23366effeb and rvboards D1
 * arch/riscv/include/asm/cache.h), so every 5.10 profile here (all vendor
 * trees) gets 64-byte kmalloc alignment.
 */
function slabConfigOf(p: Profile, faults: ReadonlySet<string>, noncoherentSupported: boolean, bounce: boolean): SlabConfig {
  if (p.kernel === '6.6') {
    const dmaMin = p.kconfig.CONFIG_RISCV_DMA_NONCOHERENT ? L1_CACHE_BYTES : null;
    return {
      kernel: '6.6',
      ARCH_KMALLOC_MINALIGN: 8,
      ARCH_DMA_MINALIGN: dmaMin,
      faults,
      dma_cache_alignment: dmaMin !== null && noncoherentSupported ? dmaMin : 1,
      bounceUnalignedKmalloc: bounce,
    };
  }
  return { kernel: '5.10', ARCH_KMALLOC_MINALIGN: 64, ARCH_DMA_MINALIGN: 64, faults };
}

/** 6.6 Sv39 drops RAM the linear map cannot reach (124 GiB); 5.10's covers 128 GiB. */
function visibleMemory(p: Profile): MemoryRange[] {
  const base = p.memory.reduce((m, b) => (b.base < m ? b.base : m), p.memory[0]?.base ?? 0n) & ~((2n << 20n) - 1n);
  const limit = base + SV39_LAYOUT[p.kernel].linearMapSize;
  const out: MemoryRange[] = [];
  for (const b of p.memory) {
    const end = b.base + b.size < limit ? b.base + b.size : limit;
    if (end > b.base) out.push({ base: b.base, size: end - b.base });
  }
  return out;
}

/**
 * swiotlb_init allocates its pool low: memblock_alloc_low(bytes, PAGE_SIZE) =
 * memblock_alloc_try_nid(.., MEMBLOCK_LOW_LIMIT, ARCH_LOW_ADDRESS_LIMIT) (5.10,
 * 6.6), which __memblock_find_range_top_down serves from the highest free
 * (memory minus reserved) range: cand = round_down(min(end, limit) - size,
 * align). riscv keeps the generic ARCH_LOW_ADDRESS_LIMIT 0xffffffff, an
 * inclusive bound that memblock uses as an exclusive end, so the last page
 * below 4 GiB stays unused; memblock also never hands out the first page.
 */
function swiotlbPlacement(p: Profile, memory: MemoryRange[]): { base: bigint; nslabs: number } | null {
  if (!kconfigEnabled(p, 'CONFIG_SWIOTLB') || p.platform.swiotlbSlots <= 0) return null;
  const bytes = PAGE_ALIGN(BigInt(p.platform.swiotlbSlots) * IO_TLB_SIZE);
  let best: bigint | null = null;
  for (const r of freeRanges(memory, p.reserved)) {
    const start = r.base > PAGE_SIZE_N ? r.base : PAGE_SIZE_N;
    const end = r.base + r.size < ARCH_LOW_ADDRESS_LIMIT ? r.base + r.size : ARCH_LOW_ADDRESS_LIMIT;
    if (end < bytes || end <= start) continue;
    const cand = (end - bytes) & ~(PAGE_SIZE_N - 1n);
    if (cand >= start && (best === null || cand > best)) best = cand;
  }
  return best === null ? null : { base: best, nslabs: p.platform.swiotlbSlots };
}

/** memblock's free ranges: memory minus the reservations (for_each_free_mem_range). */
function freeRanges(memory: readonly MemoryRange[], reserved: readonly MemoryRange[]): MemoryRange[] {
  let out = memory.map((b) => ({ base: b.base, size: b.size }));
  for (const r of reserved) {
    const next: MemoryRange[] = [];
    for (const b of out) {
      const bEnd = b.base + b.size;
      const rEnd = r.base + r.size;
      if (rEnd <= b.base || r.base >= bEnd) {
        next.push(b);
        continue;
      }
      if (r.base > b.base) next.push({ base: b.base, size: r.base - b.base });
      if (rEnd < bEnd) next.push({ base: rEnd, size: bEnd - rEnd });
    }
    out = next;
  }
  return out;
}

export function mmConfigOf(p: Profile, extraReserved: readonly MemoryRange[] = []): MmConfig {
  return {
    kernel: p.kernel,
    memory: visibleMemory(p),
    reserved: [...p.reserved, ...extraReserved],
    CONFIG_ZONE_DMA: kconfigEnabled(p, 'CONFIG_ZONE_DMA'),
    CONFIG_ZONE_DMA32: kconfigEnabled(p, 'CONFIG_ZONE_DMA32'),
    zoneDmaBits: p.zoneDmaBits,
    faults: new Set(p.faults),
  };
}

/**
 * The booted machine for a profile. Untraced runs (every property run) get a
 * copy of a boot image made once per Profile object; traced runs (replays,
 * counterexample traces, kernel-path coverage) boot for real, so the boot's
 * kernel calls are in the trace. A boot that fails is never cached.
 */
export function buildMachine(p: Profile): Machine {
  if (isTracing()) return bootMachine(p);
  let img = bootImages.get(p);
  const mutant = activeMutant();
  if (img === undefined || img.mutant !== mutant) {
    const m = bootMachine(p);
    const shared = reachable(p);
    for (const t of shareLeafTables(m.init_mm)) shared.add(t);
    img = { copy: compileClone(m, shared), mutant };
    bootImages.set(p, img);
  }
  const m = img.copy();
  bindMachineHooks(m);
  return m;
}

const bootImages = new WeakMap<Profile, { copy: () => Machine; mutant: unknown }>();

/**
 * Under StrykerJS every mutant lives in the code at once and a global selects
 * the active one; an image booted under one mutant must not serve another.
 * In its coverage run (no active mutant) the global names the running test: an
 * image per test there, so every test that boots a machine is recorded as
 * covering the boot code. One image shared across tests credits the boot to
 * the first test alone, and StrykerJS would never run the others against a
 * boot mutant.
 */
function activeMutant(): unknown {
  const s = (globalThis as { __stryker__?: { activeMutant?: unknown; currentTestId?: unknown } }).__stryker__;
  if (s === undefined) return undefined;
  return s.activeMutant !== undefined ? s.activeMutant : s.currentTestId !== undefined ? `test:${String(s.currentTestId)}` : undefined;
}

/** The closures that capture the machine itself: made at boot, re-made for every copy. */
function bindMachineHooks(m: Machine): void {
  const init_mm = m.init_mm;
  // __GFP_ZERO pages: clear_page through the cacheable linear map.
  m.mm.zeroPages = (pfn, order) => cpuMemset(m, m.kernelHart, page_address(init_mm, pfn), 0, PAGE_SIZE << order);
  // __GFP_ZERO objects are cleared by the kernel through the cacheable linear map.
  (m.slab.cfg as { zeroObject?: SlabConfig['zeroObject'] }).zeroObject = (pa, len) => cpuMemset(m, m.kernelHart, phys_to_virt(init_mm, pa), 0, len);
  m.cpuMem = {
    load: (pa, len) => cpuLoad(m, m.kernelHart, phys_to_virt(init_mm, pa), len),
    store: (pa, data) => cpuStore(m, m.kernelHart, phys_to_virt(init_mm, pa), data),
  };
  m.debugPhysOf = (va) => walkPageTable(init_mm, va)?.pa ?? null;
}

function bootMachine(p: Profile): Machine {
  const faults = new Set<string>(p.faults);
  const memory = visibleMemory(p);
  // early_init_fdt_scan_reserved_mem: /reserved-memory nodes meet their handlers (coherent.c's shared-dma-pool);
  // the non-reusable ones stay out of the buddy allocator (no-map ones stay in PhysMemory, but are not RAM to memblock).
  const warnings: string[] = [];
  const dmaCoherent = coherentGlobalsCreate();
  const rmem = reservedMemBoot(p, warnings, dmaCoherent);
  // setup_bootmem reserves CMA (dma_contiguous_reserve) before mem_init places swiotlb.
  const cmaPlan = cmaReserve(p, memory);
  const cmaRanges = cmaPlan.areas.map((a) => ({ base: a.base, size: a.size }));
  const pool = swiotlbPlacement({ ...p, reserved: [...p.reserved, ...rmem.memblockReserved, ...cmaRanges] }, memory);
  const reservedExtra = [...rmem.memblockReserved, ...cmaRanges, ...(pool ? [{ base: pool.base, size: BigInt(pool.nslabs) * IO_TLB_SIZE }] : [])];
  const mem = new PhysMemory(p.memory);
  const geometry = p.platform.geometry === 'sg2042' ? SG2042_GEOMETRY : MODEL_GEOMETRY;
  const mm = buildMm(mmConfigOf(p, reservedExtra));
  const lowest = memory.reduce((m, b) => (b.base < m ? b.base : m), memory[0].base);
  const init_mm = createInitMm(memTypeConfig(p.platform.memTypes.scheme, p.platform.memTypes.theadTable, faults), {
    kernel: p.kernel,
    phys_ram_base: lowest,
    memory,
  });
  const cache = new Map<string, boolean>();
  const cfg = (sym: string) => {
    let v = cache.get(sym);
    if (v === undefined) cache.set(sym, (v = kconfigEnabled(p, sym)));
    return v;
  };
  const f = p.platform.cmoFlavour;
  const noncoherentSupported = (f === 'zicbom' && cfg('CONFIG_RISCV_ISA_ZICBOM')) || (f !== 'zicbom' && f !== 'none' && cfg('CONFIG_ERRATA_THEAD_CMO'));
  const bounce = p.kernel === '6.6' && cfg('CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC') && pool !== null;
  const slabCfg: SlabConfig = slabConfigOf(p, faults, noncoherentSupported, bounce);
  const caches = new C920Caches(geometry, mem);
  const m: Machine = {
    profile: p,
    faults,
    mem,
    caches,
    mm,
    init_mm,
    hart: { maee: p.platform.maee, pbmte: p.platform.pbmte },
    kernelHart: 0,
    devices: [],
    swiotlbPool: pool,
    warnings,
    cfg,
    slab: kmallocCreate(mm, slabCfg),
    io_tlb: null,
    cpuMem: { load: () => new Uint8Array(0), store: () => undefined },
    dmaCacheAlignment: slabCfg.kernel === '6.6' ? (slabCfg.dma_cache_alignment ?? 1) : (slabCfg.ARCH_DMA_MINALIGN ?? 1),
    bounceUnalignedKmalloc: bounce,
    debug: cfg('CONFIG_DMA_API_DEBUG') ? dmaDebugCreate(p.kernel, { faults }) : null,
    debugPhysOf: () => null,
    atomicPools: null,
    cma: { areas: [], default: null },
    reservedMem: rmem.state,
    dmaCoherent,
    current: createTask(42, 'kworker/0:1'),
  };
  mm.current = m.current;
  init_mm.current = m.current;
  bindMachineHooks(m);
  // core_initcall dma_init_reserved_memory (the 6.6 global pool), then of_platform_populate and each
  // driver's probe: of_dma_configure, dma_set_mask_and_coherent, of_reserved_mem_device_init. Probing
  // touches neither swiotlb nor the atomic pools, so running it before their setup below changes nothing.
  dma_init_reserved_memory(m);
  m.devices = ofPlatformPopulate(m, p.devices);
  // 5.10 profiles stand for 5.10.y with the swiotlb info-leak fix (ddbd89deb7d3 "swiotlb: fix info leak
  // with DMA_FROM_DEVICE", backported 2022): the map copies the original for every direction.
  // core_initcall cma_init_reserved_areas, and the drivers' memory-region claims.
  cmaActivate(m, cmaPlan);
  if (pool !== null) {
    // The boot-time memset of the pool happened long before any DMA and its lines were written back:
    // the pool reads zero from memory, recorded as a range rather than 4096 materialised lines.
    mem.zeroLines(pool.base, BigInt(pool.nslabs) * IO_TLB_SIZE);
    m.io_tlb = swiotlbInit(pool, p.kernel, faults, { alwaysBounceOnMap: !faults.has('swiotlb-from-device-no-copy') });
  }
  // postcore_initcall: after the buddy, swiotlb and CMA areas are up.
  if (cfg('CONFIG_DMA_COHERENT_POOL')) dma_atomic_pool_init(m);
  return m;
}

