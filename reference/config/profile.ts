// A profile is one machine: kernel version, Kconfig, memory map, command line,
// devices, hardware facts and the fault switches it runs with. Everything in
// reference/ is built from a Profile by reference/system.ts.

import type { FaultName } from './faults.ts';

export type KernelVersion = '5.10' | '6.6';

/**
 * Later mainline fixes a profile's kernel carries (a vendor tree or a stable
 * backport), by the fix's 12-digit SHA. Only fixes the reference can switch on
 * are listed: a409d9600959 "dma-mapping: fix dma_addressing_limited() if
 * dma_range_map can't cover all system RAM" (v6.7-rc1, with 8ae0e970319a and
 * the loop fix 8324993f6030), for 6.6.
 */
export const BACKPORTS = ['a409d9600959'] as const;
export type Backport = (typeof BACKPORTS)[number];

export interface MemoryRange {
  base: bigint;
  size: bigint;
}

/** A DMA master as the device tree and its driver describe it. */
export interface DeviceSpec {
  name: string;
  /** dma-coherent (snoops the CPU caches) vs dma-noncoherent / the root default. */
  coherent: boolean;
  /** What the driver asks for with dma_set_mask_and_coherent. */
  dmaMaskBits: number;
  coherentMaskBits: number;
  /** dma-ranges of the parent bus: CPU address, bus (DMA) address, size. */
  dmaRanges?: readonly { cpu: bigint; dma: bigint; size: bigint }[];
  /** memory-region phandle: the name of a reserved-memory node the driver claims (of_reserved_mem_device_init). */
  memoryRegion?: string;
  /**
   * Bytes of memory on the device itself (a graphics card's, as in 36845663843f
   * "lib/genalloc: fix the overflow when size is too big") that its driver
   * manages with gen_pool_create(PAGE_SHIFT) + gen_pool_add of the whole range.
   * Only the genpool harness looks at it.
   */
  deviceMemory?: bigint;
  /**
   * The driver receives into a buffer that follows a small header in the same kmalloc'd struct,
   * so the buffer starts off a cache-line boundary, and it updates the header while the device
   * owns the buffer: the line sharing DMA-API.rst forbids, as in historic-bugs.md F4's scenario.
   */
  rxBehindHeader?: boolean;
}

/** A /reserved-memory child node. */
export interface ReservedMemorySpec {
  name: string;
  base: bigint;
  size: bigint;
  compatible: 'shared-dma-pool' | 'restricted-dma-pool' | 'other';
  /** `reusable`: a CMA area (contiguous.c claims it); otherwise per-device coherent memory (coherent.c). */
  reusable?: boolean;
  /** `no-map`: not in the linear map. */
  noMap?: boolean;
  /** `linux,cma-default`. */
  cmaDefault?: boolean;
  /** `linux,dma-default` (the 6.6 global coherent pool). */
  dmaDefault?: boolean;
}

/** Hardware facts and what the kernel's boot code patched in for them. */
export interface PlatformSpec {
  /** Cache geometry name: 'sg2042' (16 clusters x 4 harts) or 'model' (2 x 2, same line and cache facts). */
  geometry: 'sg2042' | 'model';
  /** th.mxstatus.MAEE (XTheadMae) and menvcfg.PBMTE (Svpbmt) as firmware set them. */
  maee: boolean;
  pbmte: boolean;
  /** riscv,cbom-block-size from the device tree (0 = absent). */
  cbomBlockSize: number;
  /** menvcfg.CBIE as firmware set it (OpenSBI: 3 when Zicbom is present). */
  menvcfgCbie: 0 | 1 | 2 | 3;
  /** What ALT_CMO_OP / the vendor range helpers execute on this kernel + hart. */
  cmoFlavour: 'none' | 'zicbom' | 'thead-va-cval1' | 'thead-va' | 'thead-pa' | 'sophgo-pa';
  /** Vendor 5.10 dma_wb_range / dma_wbinv_range variant, when the C920 patch is in. */
  vendorCmo: 'th1520-beagleboard' | 'th1520-beagleboard-preinit' | 'sg2042-sophgo' | 'd1-c906' | null;
  /** How PTE memory-type bits are produced. */
  memTypes: { scheme: 'svpbmt' | 'thead-mae' | 'none' | 'vendor-5.10-static'; theadTable: '5.19-6.6' | '6.7-typo' | 'fixed' | 'sophgo' };
  /** io_tlb slots of 2 KiB (a model bound; the kernel default is 64 MiB); 0 = no swiotlb. */
  swiotlbSlots: number;
}

/** Expected verdict of an invariant on this profile; 'n/a' when it does not apply. */
export type Expectation = 'holds' | 'violated' | 'n/a';

export interface Profile {
  name: string;
  description: string;
  kernel: KernelVersion;
  /** Kconfig symbols with their CONFIG_ prefix; absent = not set. */
  kconfig: Readonly<Record<string, boolean | number | string>>;
  /** DRAM banks (device tree memory nodes). */
  memory: readonly MemoryRange[];
  /** memblock reservations never handed to the buddy allocator (firmware, kernel image). */
  reserved: readonly MemoryRange[];
  /** Kernel command line (coherent_pool=, cma=, ...). */
  cmdline: string;
  /** zone_dma_bits where CONFIG_ZONE_DMA is set (24 unless the arch says otherwise). */
  zoneDmaBits: number;
  platform: PlatformSpec;
  devices: readonly DeviceSpec[];
  /**
   * 6.6-model kernels only: which arch/riscv/mm/dma-noncoherent.c direction table
   * is built in. '6.0-6.5': FROM_DEVICE clean, BIDIRECTIONAL flush before DMA,
   * flush after (before Arnd's 6.6 "only invalidate after DMA, not flush" and
   * "skip invalidation before bidirectional DMA"); absent = the 6.6 table.
   */
  riscvDmaSyncPolicy?: '6.0-6.5' | '6.6';
  /** /reserved-memory nodes (CMA areas, per-device pools); absent = none. */
  reservedMemory?: readonly ReservedMemorySpec[];
  /** Later fixes this kernel carries; absent = none. */
  backports?: readonly Backport[];
  /** Fault switches: model defects that should make some invariant fail. */
  faults: readonly FaultName[];
  /** Expected verdict per invariant name. */
  expect: Readonly<Record<string, Expectation>>;
  /** Verdict of invariants not in `expect`: 'holds' for a correct machine, 'n/a' for a fault profile that targets a few. */
  expectDefault: Expectation;
  /** A broken profile: the kernel bug or configuration defect it ships with (historic-bugs.md id, fix commit, title). */
  bugRef?: { historic?: string; analogue?: boolean; commit?: string; title?: string };
}

export function expectationOf(p: Profile, invariant: string): Expectation {
  return p.expect[invariant] ?? p.expectDefault;
}

export function kconfigEnabled(p: Pick<Profile, 'kconfig'>, sym: string): boolean {
  const v = p.kconfig[sym];
  return v === true || (typeof v === 'string' && v !== '' && v !== 'n') || (typeof v === 'number');
}

export function hasBackport(p: Pick<Profile, 'backports'>, b: Backport): boolean {
  return p.backports?.includes(b) ?? false;
}

export function hasFault(p: Pick<Profile, 'faults'>, f: FaultName): boolean {
  return p.faults.includes(f);
}
