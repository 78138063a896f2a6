// Built-in profiles. Memory maps are "-like": shaped after the boards (RAM
// below and above 4 GiB on SG2042-class machines, small boards with all RAM in
// ZONE_DMA32), not copied from a particular board's device tree. Kconfig sets
// list resolved symbols, as a real .config does (selects already applied).

import type { DeviceSpec, Expectation, KernelVersion, MemoryRange, PlatformSpec, Profile } from './profile.ts';
import { FAULTS, type FaultInfo, type FaultName } from './faults.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;

type Kconfig = Record<string, boolean | number | string>;

/** arch/riscv/Kconfig for 64-bit: ZONE_DMA32, SWIOTLB (the bounce pool every riscv64 kernel has). */
const RISCV64: Kconfig = { CONFIG_RISCV: true, CONFIG_64BIT: true, CONFIG_MMU: true, CONFIG_ZONE_DMA32: true, CONFIG_SWIOTLB: true };

/** Vendor 5.10 as the seed notes found it: no DMA_OPS, no arch sync hooks, no prep, no remap. */
const K510_VENDOR: Kconfig = { ...RISCV64 };

/** Vendor 5.10 with the missing options and the C920 non-coherency patch added. */
const K510_FIXED: Kconfig = {
  ...RISCV64,
  CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE: true,
  CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU: true,
  CONFIG_ARCH_HAS_DMA_PREP_COHERENT: true,
  CONFIG_DMA_DIRECT_REMAP: true,
  CONFIG_DMA_REMAP: true,
  CONFIG_DMA_COHERENT_POOL: true,
  CONFIG_THEAD_PATCH_NONCOHERENCY_MEMORY_MODEL: true,
};

function without(k: Kconfig, ...syms: string[]): Kconfig {
  return Object.fromEntries(Object.entries(k).filter(([s]) => !syms.includes(s)));
}

/** K510_FIXED less the arch sync hooks: the first half of what the seed notes had to add. */
const K510_NO_SYNC = without(K510_FIXED, 'CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE', 'CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU');
/** K510_FIXED less arch_dma_prep_coherent: the other half. */
const K510_NO_PREP = without(K510_FIXED, 'CONFIG_ARCH_HAS_DMA_PREP_COHERENT');

/** Mainline 6.6, RISCV_DMA_NONCOHERENT and what it selects (riscv-c920-coherence.md §2.1). */
const K66_NONCOHERENT: Kconfig = {
  ...RISCV64,
  CONFIG_RISCV_DMA_NONCOHERENT: true,
  CONFIG_ARCH_HAS_DMA_PREP_COHERENT: true,
  CONFIG_ARCH_HAS_SETUP_DMA_OPS: true,
  CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU: true,
  CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE: true,
  CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC: true,
  CONFIG_DMA_DIRECT_REMAP: true,
  CONFIG_DMA_COHERENT_POOL: true,
  CONFIG_ARCH_DMA_DEFAULT_COHERENT: true,
};
/** CMA as distribution kernels build it (kernel/dma/Kconfig defaults: 16 MiB, CMA_ALIGNMENT 8). */
const CMA: Kconfig = { CONFIG_CMA: true, CONFIG_DMA_CMA: true, CONFIG_CMA_SIZE_MBYTES: 16, CONFIG_CMA_SIZE_SEL_MBYTES: true, CONFIG_CMA_ALIGNMENT: 8 };

const K66_THEAD: Kconfig = { ...K66_NONCOHERENT, CONFIG_ERRATA_THEAD: true, CONFIG_ERRATA_THEAD_CMO: true, CONFIG_ERRATA_THEAD_PBMT: true };
const K66_STD: Kconfig = { ...K66_NONCOHERENT, CONFIG_RISCV_ISA_ZICBOM: true, CONFIG_RISCV_ISA_SVPBMT: true };

const SG2042_66: PlatformSpec = {
  geometry: 'model',
  maee: true,
  pbmte: false,
  cbomBlockSize: 0,
  menvcfgCbie: 0,
  cmoFlavour: 'thead-va',
  vendorCmo: null,
  memTypes: { scheme: 'thead-mae', theadTable: '5.19-6.6' },
  swiotlbSlots: 128,
};
const SG2042_510_VENDOR: PlatformSpec = {
  ...SG2042_66,
  cmoFlavour: 'none',
  memTypes: { scheme: 'vendor-5.10-static', theadTable: '5.19-6.6' },
};
const SG2042_510_FIXED: PlatformSpec = { ...SG2042_510_VENDOR, vendorCmo: 'sg2042-sophgo' };
const SG2044_66: PlatformSpec = {
  geometry: 'model',
  maee: false,
  pbmte: true,
  cbomBlockSize: 64,
  menvcfgCbie: 3,
  cmoFlavour: 'zicbom',
  vendorCmo: null,
  memTypes: { scheme: 'svpbmt', theadTable: '5.19-6.6' },
  swiotlbSlots: 128,
};

/** SG2042 peripherals sit under the root's dma-noncoherent; one 64-bit and one 32-bit master. */
const NONCOHERENT_DEVICES: DeviceSpec[] = [
  { name: 'dwmac0', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 },
  { name: 'sdhci0', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32 },
];

/** dwmac0's driver receives behind a header in the same struct (DeviceSpec.rxBehindHeader). */
const RX_HEADER_DEVICES: DeviceSpec[] = [{ ...NONCOHERENT_DEVICES[0], rxBehindHeader: true }, NONCOHERENT_DEVICES[1]];

/** SG2042-like: four 32 GiB DDR regions from 0 (one per NUMA node on the board; one node in the model). */
const SG2042_MEMORY: MemoryRange[] = [0n, 1n, 2n, 3n].map((i) => ({ base: i * 32n * GiB, size: 32n * GiB }));
/** OpenSBI at the bottom of DRAM and the kernel image above it. */
const SG2042_RESERVED: MemoryRange[] = [
  { base: 0n, size: 2n * MiB },
  { base: 2n * MiB, size: 30n * MiB },
];

interface MachineSpec {
  riscvDmaSyncPolicy?: Profile['riscvDmaSyncPolicy'];
  backports?: Profile['backports'];
  cmdline?: string;
  reservedMemory?: Profile['reservedMemory'];
  name: string;
  kernel: KernelVersion;
  description: string;
  memory: MemoryRange[];
  reserved: MemoryRange[];
  kconfig: Kconfig;
  platform: PlatformSpec;
  devices?: DeviceSpec[];
  expect?: Record<string, Expectation>;
  bugRef?: Profile['bugRef'];
}

function machine(m: MachineSpec): Profile {
  return {
    name: m.name,
    description: m.description,
    kernel: m.kernel,
    kconfig: m.kconfig,
    memory: m.memory,
    reserved: m.reserved,
    cmdline: m.cmdline ?? '',
    zoneDmaBits: 24,
    platform: m.platform,
    devices: m.devices ?? NONCOHERENT_DEVICES,
    ...(m.reservedMemory ? { reservedMemory: m.reservedMemory } : {}),
    ...(m.riscvDmaSyncPolicy ? { riscvDmaSyncPolicy: m.riscvDmaSyncPolicy } : {}),
    ...(m.backports ? { backports: m.backports } : {}),
    faults: [],
    expect: m.expect ?? {},
    expectDefault: 'holds',
    ...(m.bugRef ? { bugRef: m.bugRef } : {}),
  };
}

const SG2042 = { memory: SG2042_MEMORY, reserved: SG2042_RESERVED };

/** kdump-like memory: the low 1 MiB (all of ZONE_DMA, memblock-reserved), a crashkernel region in DMA32, a little above 4 GiB. */
const KDUMP_LIKE = {
  memory: [
    { base: 0n, size: MiB },
    { base: 0x3000_0000n, size: 64n * MiB },
    { base: 4n * GiB, size: 32n * MiB },
  ],
  reserved: [
    { base: 0n, size: MiB },
    { base: 0x3000_0000n, size: 2n * MiB },
  ],
};
/**
 * A PCIe NVMe (dma-coherent, 64-bit) whose host bridge dma-ranges cover CPU
 * [0, 1 GiB) and [2 GiB, 128 GiB) one to one, leaving RAM [1 GiB, 2 GiB)
 * unreachable: the top of RAM is covered, so the required-mask test finds the
 * device unlimited (the shape of the Ampere _DMA in a409d9600959).
 */
const HOLEY_PCIE: DeviceSpec[] = [
  {
    name: 'nvme0',
    coherent: true,
    dmaMaskBits: 64,
    coherentMaskBits: 64,
    dmaRanges: [
      { cpu: 0n, dma: 0n, size: GiB },
      { cpu: 2n * GiB, dma: 2n * GiB, size: 126n * GiB },
    ],
  },
  { name: 'sdhci0', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32 },
];

export const CORRECT_PROFILES: readonly Profile[] = [
  machine({
    name: 'c920-sg2042-6.6',
    kernel: '6.6',
    description: 'SG2042-like (C920, XTheadMae + XTheadCmo), mainline 6.6 with the T-Head errata; 128 GiB from 0',
    ...SG2042,
    kconfig: K66_THEAD,
    platform: SG2042_66,
  }),
  machine({
    name: 'c920-sg2042-5.10-fixed',
    kernel: '5.10',
    description: 'SG2042-like, vendor 5.10 with the arch DMA options and the C920 patch (dma_wb_range/dma_wbinv_range, static MAE bits)',
    ...SG2042,
    kconfig: K510_FIXED,
    platform: SG2042_510_FIXED,
  }),
  machine({
    name: 'c920v2-sg2044-6.6',
    kernel: '6.6',
    description: 'SG2044-like (C920v2: standard Svpbmt and Zicbom, 64-byte blocks), mainline 6.6; 128 GiB from 0',
    ...SG2042,
    kconfig: K66_STD,
    platform: SG2044_66,
  }),
  machine({
    name: 'c920-sg2042-6.6-coherent-pcie',
    kernel: '6.6',
    description: 'SG2042-like on 6.6 with a dma-coherent PCIe master (the 2026 firmware) beside a non-coherent one',
    ...SG2042,
    kconfig: K66_THEAD,
    platform: SG2042_66,
    devices: [
      { name: 'nvme0', coherent: true, dmaMaskBits: 64, coherentMaskBits: 64 },
      { name: 'sdhci0', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32 },
    ],
  }),
  machine({
    name: 'board-1g-6.6',
    kernel: '6.6',
    description: 'small C910/C920 board: 1 GiB at 0x8000_0000, all RAM in ZONE_DMA32 (ZONE_NORMAL empty), mainline 6.6',
    memory: [{ base: 0x8000_0000n, size: GiB }],
    reserved: [{ base: 0x8000_0000n, size: 2n * MiB }],
    kconfig: K66_THEAD,
    platform: SG2042_66,
  }),
  machine({
    name: 'c920-sg2042-6.5-policy',
    kernel: '6.6',
    description:
      'c920-sg2042-6.6 with the 6.0-6.5 dma-noncoherent direction table (BIDIRECTIONAL flushed before DMA, FROM_DEVICE/BIDIRECTIONAL flushed after it) and the fixed cva encoding, as 6.1.y stable has it',
    ...SG2042,
    kconfig: K66_THEAD,
    platform: SG2042_66,
    riscvDmaSyncPolicy: '6.0-6.5',
  }),
  machine({
    name: 'c920-sg2042-6.6-cma',
    kernel: '6.6',
    description: 'c920-sg2042-6.6 with CONFIG_DMA_CMA and a 64 MiB linux,cma-default area in the device tree at 8 GiB (above ZONE_DMA32)',
    ...SG2042,
    kconfig: { ...K66_THEAD, ...CMA },
    platform: SG2042_66,
    reservedMemory: [{ name: 'linux,cma', base: 8n * GiB, size: 64n * MiB, compatible: 'shared-dma-pool', reusable: true, cmaDefault: true }],
  }),
  machine({
    name: 'c920-sg2042-5.10-cma',
    kernel: '5.10',
    description: 'c920-sg2042-5.10-fixed with CONFIG_DMA_CMA and cma=32M on the command line',
    ...SG2042,
    cmdline: 'cma=32M',
    kconfig: { ...K510_FIXED, ...CMA },
    platform: SG2042_510_FIXED,
  }),
  machine({
    name: 'board-1g-6.6-dt-pools',
    kernel: '6.6',
    description:
      'board-1g-6.6 with device-tree pools: sdhci0 behind dma-ranges (bus 0 = CPU 0x8000_0000, 1 GiB) with a 1 MiB no-map shared-dma-pool, a 32 MiB linux,cma-default area, coherent_pool=512K',
    memory: [{ base: 0x8000_0000n, size: GiB }],
    reserved: [{ base: 0x8000_0000n, size: 2n * MiB }],
    cmdline: 'coherent_pool=512K',
    kconfig: { ...K66_THEAD, ...CMA, CONFIG_DMA_DECLARE_COHERENT: true },
    platform: SG2042_66,
    devices: [
      { name: 'dwmac0', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 },
      {
        name: 'sdhci0',
        coherent: false,
        dmaMaskBits: 32,
        coherentMaskBits: 32,
        dmaRanges: [{ cpu: 0x8000_0000n, dma: 0n, size: GiB }],
        memoryRegion: 'sdhci-pool',
      },
    ],
    reservedMemory: [
      { name: 'sdhci-pool', base: 0xbe00_0000n, size: MiB, compatible: 'shared-dma-pool', noMap: true },
      { name: 'linux,cma', base: 0xb800_0000n, size: 32n * MiB, compatible: 'shared-dma-pool', reusable: true, cmaDefault: true },
    ],
  }),
  machine({
    name: 'board-1g-6.6-cma-align12',
    kernel: '6.6',
    description:
      'board-1g-6.6 with CONFIG_DMA_CMA, CONFIG_CMA_ALIGNMENT=12 (the Kconfig maximum: 16 MiB) and a 64 MiB linux,cma-default area at 0xb840_0000, 4 MiB past a 16 MiB boundary: the layout of historic D4b ("cma: fix calculation of aligned offset")',
    memory: [{ base: 0x8000_0000n, size: GiB }],
    reserved: [{ base: 0x8000_0000n, size: 2n * MiB }],
    kconfig: { ...K66_THEAD, ...CMA, CONFIG_CMA_ALIGNMENT: 12 },
    platform: SG2042_66,
    reservedMemory: [{ name: 'linux,cma', base: 0xb840_0000n, size: 64n * MiB, compatible: 'shared-dma-pool', reusable: true, cmaDefault: true }],
  }),
  machine({
    name: 'three-zone-5.10',
    kernel: '5.10',
    description:
      'synthetic: CONFIG_ZONE_DMA (zone_dma_bits 24) + DMA32 + NORMAL with small zones, so GFP_DMA and zone fallbacks are reached (arm64/x86-like zones, not a riscv config)',
    memory: [
      { base: 0n, size: 48n * MiB },
      { base: 4n * GiB, size: 24n * MiB },
    ],
    reserved: [{ base: 0n, size: 2n * MiB }],
    kconfig: { ...K510_FIXED, CONFIG_ZONE_DMA: true },
    platform: SG2042_510_FIXED,
  }),
  machine({
    name: 'kdump-like-6.6',
    kernel: '6.6',
    description:
      'synthetic (riscv has no ZONE_DMA): a 6.6 with CONFIG_ZONE_DMA (zone_dma_bits 24) whose ZONE_DMA has no managed pages, as in an x86_64 kdump kernel: the RAM it sees is the low 1 MiB (memblock-reserved in full), a crashkernel region in DMA32 and a little above 4 GiB',
    ...KDUMP_LIKE,
    kconfig: { ...K66_THEAD, CONFIG_ZONE_DMA: true },
    platform: SG2042_66,
  }),
  machine({
    name: 'c920-sg2042-6.6-dma-hole-a409d96',
    kernel: '6.6',
    description:
      'c920-sg2042-6.6-dma-hole with a409d9600959 "dma-mapping: fix dma_addressing_limited() if dma_range_map can\'t cover all system RAM" backported (with 8ae0e970319a and the 8324993f6030 loop fix): the hole makes nvme0 addressing limited, so dma_max_mapping_size is one swiotlb segment',
    ...SG2042,
    kconfig: K66_THEAD,
    platform: SG2042_66,
    devices: HOLEY_PCIE,
    backports: ['a409d9600959'],
  }),
  machine({
    name: 'c920-sg2042-6.8-mt',
    kernel: '6.6',
    description:
      "c920-sg2042-6.6 with the T-Head memory-type constants of v6.8 (dbfbda3bd6bf as fixed by c21f01481860: NC = B|SH 00110, IO = SO|SH 10010); all other code is the model's 6.6, not a 6.8 kernel (6.8 also moved the T-Head CMOs to physical addresses)",
    ...SG2042,
    kconfig: K66_THEAD,
    platform: { ...SG2042_66, memTypes: { scheme: 'thead-mae', theadTable: 'fixed' } },
  }),
  machine({
    name: 'c920-sg2042-6.6-rx-header',
    kernel: '6.6',
    description:
      "c920-sg2042-6.6 whose dwmac0 driver receives into a buffer right behind a header in one kmalloc'd struct and updates the header during DMA (the shared cache line DMA-API.rst forbids): 6.6 only invalidates after DMA, so the device's data wins and the header update in that line may be lost",
    ...SG2042,
    kconfig: K66_THEAD,
    platform: SG2042_66,
    devices: RX_HEADER_DEVICES,
  }),
];

/**
 * Correct profiles equal to c920-sg2042-6.6 except where only the coherence harness looks (the
 * memory-type table, one driver's buffer layout). The alloc and foundation property suites skip
 * them to keep npm test short; verify still runs everything on them.
 */
export const COHERENCE_VARIANTS: ReadonlySet<string> = new Set(['c920-sg2042-6.8-mt', 'c920-sg2042-6.6-rx-header']);

/** TH1520-like: 4x C910 in one cluster, 8 GiB from 0 (the Lichee Pi 4A class), XTheadMae + XTheadCmo. */
const TH1520_MEMORY: MemoryRange[] = [{ base: 0n, size: 8n * GiB }];

/** Machines that are broken as shipped: the invariants they break are declared. */
export const BROKEN_PROFILES: readonly Profile[] = [
  machine({
    name: 'kdump-like-5.10',
    kernel: '5.10',
    description:
      'kdump-like-6.6 on 5.10: dma_atomic_pool_init creates the ZONE_DMA pool on CONFIG_ZONE_DMA alone, although the zone has no managed pages, so the pool fails at boot (fixed in 5.17 by a674e48c5443 "dma/pool: create dma atomic pool only if dma zone has managed pages")',
    ...KDUMP_LIKE,
    kconfig: { ...K510_FIXED, CONFIG_ZONE_DMA: true },
    platform: SG2042_510_FIXED,
    expect: { 'pool-floor': 'violated' },
    bugRef: { historic: 'A6', commit: 'a674e48c5443d12a8a43c3ac42367aa39505d506', title: 'dma/pool: create dma atomic pool only if dma zone has managed pages' },
  }),
  machine({
    name: 'c910-th1520-6.6-rc1',
    kernel: '6.6',
    description:
      'TH1520-like on v6.6-rc1: the T-Head clean alternative is th.dcache.cval1 (L1 only) until 8eb8fe67e2c8 "riscv: errata: fix T-Head dcache.cva encoding" (6.6-rc2); the eMMC corruption of the TH1520 reports',
    memory: TH1520_MEMORY,
    reserved: [{ base: 0n, size: 2n * MiB }],
    kconfig: K66_THEAD,
    platform: { ...SG2042_66, cmoFlavour: 'thead-va-cval1' },
    expect: { 'no-stale-read': 'violated' },
    bugRef: { historic: 'F2', commit: '8eb8fe67e2c84324398f5983c41b4f831d0705b3', title: 'riscv: errata: fix T-Head dcache.cva encoding' },
  }),
  {
    ...machine({
      name: 'c920v2-svpbmt-5.10-vendor-bits',
      kernel: '5.10',
      description:
        'the vendor 5.10 C920 patch (static XTheadMae bits in _PAGE_KERNEL) booted on a hart running standard Svpbmt (MAEE=0, PBMTE=1), as on C920R2S0-class cores: bits 62:60 are reserved or PBMT=3 there, so the first access through the linear map faults',
      ...{ memory: SG2042_MEMORY, reserved: SG2042_RESERVED },
      kconfig: K510_FIXED,
      platform: { ...SG2042_510_FIXED, maee: false, pbmte: true },
    }),
    expect: { 'no-stale-read': 'violated', 'pte-attributes': 'violated', 'zeroed-and-coherent': 'violated' },
    expectDefault: 'n/a',
    bugRef: { title: 'seed notes: vendor 5.10 static XTheadMae bits "not compatible with C920R2S0" (standard Svpbmt hart)' },
  },
  machine({
    name: 'c920-sg2042-5.10-vendor',
    kernel: '5.10',
    description:
      'SG2042-like, vendor 5.10 as the seed notes found it: CONFIG_DMA_OPS, ARCH_HAS_SYNC_DMA_FOR_{DEVICE,CPU} and ARCH_HAS_DMA_PREP_COHERENT unset, so every device counts as coherent and no cache maintenance runs',
    ...SG2042,
    kconfig: K510_VENDOR,
    platform: SG2042_510_VENDOR,
    expect: { 'no-stale-read': 'violated', 'pte-attributes': 'violated', 'zeroed-and-coherent': 'violated' },
    bugRef: { title: 'seed notes: vendor 5.10 BSP as shipped, ARCH_HAS_SYNC_DMA_FOR_{DEVICE,CPU} and ARCH_HAS_DMA_PREP_COHERENT unset' },
  }),
  {
    ...machine({
      name: 'c920-sg2042-5.10-gpu-32g',
      kernel: '5.10',
      description:
        'c920-sg2042-5.10-fixed with a PCIe graphics card whose driver manages its 32 GiB of on-board memory with gen_pool (gen_pool_create(PAGE_SHIFT) + gen_pool_add), the case of 36845663843f "lib/genalloc: fix the overflow when size is too big" (v5.11-rc3; 5.10.y has it from 5.10.7): v5.10 keeps nbits in an int, so nbits << PAGE_SHIFT overflows for allocations of 2 GiB or more and chunk->avail, hence gen_pool_avail, goes wrong',
      ...SG2042,
      kconfig: K510_FIXED,
      platform: SG2042_510_FIXED,
      devices: [...NONCOHERENT_DEVICES, { name: 'gpu0', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, deviceMemory: 32n * GiB }],
    }),
    expect: { conservation: 'violated', refinement: 'violated' },
    // Only the genpool harness reads the card's memory; the rest of the machine is c920-sg2042-5.10-fixed.
    expectDefault: 'n/a',
    bugRef: { historic: 'D2', commit: '36845663843fc59c5d794e3dc0641472e3e572da', title: 'lib/genalloc: fix the overflow when size is too big' },
  },
  machine({
    name: 'c920-sg2042-6.6-dma-hole',
    kernel: '6.6',
    description:
      'SG2042-like 6.6 with a PCIe NVMe whose dma-ranges leave RAM [1 GiB, 2 GiB) out (historic B8): dma_addressing_limited compares masks only until a409d9600959 (v6.7-rc1), so dma_max_mapping_size says SIZE_MAX and a transfer in the hole larger than one swiotlb segment fails to map',
    ...SG2042,
    kconfig: K66_THEAD,
    platform: SG2042_66,
    devices: HOLEY_PCIE,
    expect: { 'max-mapping-size': 'violated' },
    bugRef: {
      historic: 'B8',
      commit: 'a409d9600959f3c4b2a48946304c8e01b8d04072',
      title: "dma-mapping: fix dma_addressing_limited() if dma_range_map can't cover all system RAM",
    },
  }),
  machine({
    name: 'c920-sg2042-5.10-no-sync',
    kernel: '5.10',
    description:
      'c920-sg2042-5.10-fixed without CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE/CPU (seed notes: "should be configured ... if these configurations are set, the device is not DMA coherent"): dev_is_dma_coherent() is true for every device, so streaming maps do no cache maintenance and coherent buffers stay in the cacheable linear map',
    ...SG2042,
    kconfig: K510_NO_SYNC,
    platform: SG2042_510_FIXED,
    expect: { 'no-stale-read': 'violated', 'pte-attributes': 'violated', 'zeroed-and-coherent': 'violated' },
    bugRef: { title: 'seed notes: vendor 5.10 with CONFIG_ARCH_HAS_SYNC_DMA_FOR_{DEVICE,CPU} unset' },
  }),
  machine({
    name: 'c920-sg2042-5.10-no-prep',
    kernel: '5.10',
    description:
      'c920-sg2042-5.10-fixed without CONFIG_ARCH_HAS_DMA_PREP_COHERENT (seed notes: with it "a flush operation will be done before setting a memory space from cached to un-cached"): dirty lines of the linear alias survive the uncached remap and are later written back over the coherent buffer',
    ...SG2042,
    kconfig: K510_NO_PREP,
    platform: SG2042_510_FIXED,
    expect: { 'no-stale-read': 'violated' },
    bugRef: { title: 'seed notes: vendor 5.10 with CONFIG_ARCH_HAS_DMA_PREP_COHERENT unset' },
  }),
  machine({
    name: 'c920-sg2042-6.5-rx-header',
    kernel: '6.6',
    description:
      'c920-sg2042-6.6-rx-header with the 6.0-6.5 dma-noncoherent table (historic-bugs.md F4): sync_for_cpu flushes, so the header line the CPU dirtied during DMA is written back over the data the device put behind the header, until "riscv: dma-mapping: only invalidate after DMA, not flush" (6.6)',
    ...SG2042,
    kconfig: K66_THEAD,
    platform: SG2042_66,
    devices: RX_HEADER_DEVICES,
    riscvDmaSyncPolicy: '6.0-6.5',
    expect: { 'no-stale-read': 'violated' },
    bugRef: { historic: 'F4', title: 'riscv: dma-mapping: only invalidate after DMA, not flush' },
  }),
  machine({
    name: 'c920-sg2042-5.10-rx-header',
    kernel: '5.10',
    description:
      "c920-sg2042-5.10-fixed with the rx-header driver: the vendor C920 patch's arch_sync_dma_for_cpu cleans and invalidates (dma_wbinv_range) after FROM_DEVICE/BIDIRECTIONAL DMA, the same post-DMA flush as mainline 6.0-6.5 (historic-bugs.md F4)",
    ...SG2042,
    kconfig: K510_FIXED,
    platform: SG2042_510_FIXED,
    devices: RX_HEADER_DEVICES,
    expect: { 'no-stale-read': 'violated' },
    bugRef: { historic: 'F4', analogue: true, title: 'riscv: dma-mapping: only invalidate after DMA, not flush' },
  }),
];

export function faultProfile(fault: FaultName): Profile {
  const t = (FAULTS[fault] as FaultInfo).target;
  if (t === undefined) throw new Error(`fault ${fault} has no target profile yet`);
  const base = CORRECT_PROFILES.find((p) => p.name === t.base);
  if (base === undefined) throw new Error(`fault ${fault}: no base profile ${t.base}`);
  const expect: Record<string, Expectation> = {};
  for (const inv of t.breaks) expect[inv] = 'violated';
  return {
    ...base,
    name: `${base.name}+${fault}`,
    description: `${base.name} with fault ${fault}: ${FAULTS[fault].fn} ${FAULTS[fault].description}`,
    faults: [fault],
    expect,
    expectDefault: 'n/a',
  };
}

export const FAULT_PROFILES: readonly Profile[] = (Object.keys(FAULTS) as FaultName[]).filter((f) => (FAULTS[f] as FaultInfo).target !== undefined).map(faultProfile);

export const BUILTIN_PROFILES: readonly Profile[] = [...CORRECT_PROFILES, ...BROKEN_PROFILES, ...FAULT_PROFILES];

export function findProfile(name: string): Profile | undefined {
  return BUILTIN_PROFILES.find((p) => p.name === name);
}
