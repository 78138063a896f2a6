// Built-in profiles. Memory maps are "-like": shaped after the boards (RAM
// below and above 4 GiB on SG2042-class machines, small boards with all RAM in
// ZONE_DMA32), not copied from a particular board's device tree.

import type { Expectation, KernelVersion, MemoryRange, Profile } from './profile.ts';
import { FAULTS, type FaultName } from './faults.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;

/** Kconfig every riscv64 profile shares (arch/riscv/Kconfig: 64BIT selects ZONE_DMA32). */
const RISCV64_BASE = {
  CONFIG_RISCV: true,
  CONFIG_64BIT: true,
  CONFIG_MMU: true,
  CONFIG_ZONE_DMA32: true,
  CONFIG_DMA_COHERENT_POOL: true,
} as const;

/** SG2042-like: four 32 GiB DDR regions from 0 (one per NUMA node on the board; one node in the model). */
const SG2042_MEMORY: MemoryRange[] = [0n, 1n, 2n, 3n].map((i) => ({ base: i * 32n * GiB, size: 32n * GiB }));
/** OpenSBI at the bottom of DRAM and the kernel image above it. */
const SG2042_RESERVED: MemoryRange[] = [
  { base: 0n, size: 2n * MiB },
  { base: 2n * MiB, size: 30n * MiB },
];

function machine(
  name: string,
  kernel: KernelVersion,
  description: string,
  memory: MemoryRange[],
  reserved: MemoryRange[],
  kconfig: Record<string, boolean | number | string> = {},
): Profile {
  return {
    name,
    description,
    kernel,
    kconfig: { ...RISCV64_BASE, ...kconfig },
    memory,
    reserved,
    cmdline: '',
    zoneDmaBits: 24,
    faults: [],
    expect: {},
    expectDefault: 'holds',
  };
}

export const CORRECT_PROFILES: readonly Profile[] = [
  machine('c920-sg2042-6.6', '6.6', 'SG2042-like (64x C920), mainline 6.6, 128 GiB from 0: ZONE_DMA32 below 4 GiB, ZONE_NORMAL above', SG2042_MEMORY, SG2042_RESERVED),
  machine('c920-sg2042-5.10-fixed', '5.10', 'SG2042-like, vendor 5.10 with the DMA options and C920 patch, 128 GiB from 0', SG2042_MEMORY, SG2042_RESERVED),
  machine('board-1g-6.6', '6.6', 'small board: 1 GiB at 0x8000_0000, all RAM in ZONE_DMA32 (ZONE_NORMAL empty)', [{ base: 0x8000_0000n, size: GiB }], [{ base: 0x8000_0000n, size: 2n * MiB }]),
  machine(
    'three-zone-5.10',
    '5.10',
    'synthetic: CONFIG_ZONE_DMA (zone_dma_bits 24) + DMA32 + NORMAL with small zones, so GFP_DMA and zone fallbacks are reached (arm64/x86-like zones, not a riscv config)',
    [
      { base: 0n, size: 48n * MiB },
      { base: 4n * GiB, size: 24n * MiB },
    ],
    [{ base: 0n, size: 1n * MiB }],
    { CONFIG_ZONE_DMA: true },
  ),
];

/** Which invariants each fault must break, and on which correct profile it runs. */
const FAULT_TARGETS: Partial<Record<FaultName, { base: string; breaks: string[] }>> = {
  'genalloc-order-align-mask': { base: 'c920-sg2042-6.6', breaks: ['order-alignment', 'refinement'] },
  'genalloc-avail-not-decremented': { base: 'c920-sg2042-6.6', breaks: ['conservation', 'refinement'] },
  'bitmap-area-end-off-by-one': { base: 'c920-sg2042-6.6', breaks: ['refinement'] },
  'buddy-no-merge': { base: 'three-zone-5.10', breaks: ['conservation'] },
  'buddy-split-keeps-upper': { base: 'three-zone-5.10', breaks: ['no-overlap'] },
  'buddy-unaligned-carve': { base: 'board-1g-6.6', breaks: ['order-alignment'] },
  'gfp-zone-dma32-as-normal': { base: 'c920-sg2042-6.6', breaks: ['zone'] },
};

export function faultProfile(fault: FaultName): Profile {
  const t = FAULT_TARGETS[fault];
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

export const FAULT_PROFILES: readonly Profile[] = (Object.keys(FAULT_TARGETS) as FaultName[]).map(faultProfile);

export const BUILTIN_PROFILES: readonly Profile[] = [...CORRECT_PROFILES, ...FAULT_PROFILES];

export function findProfile(name: string): Profile | undefined {
  return BUILTIN_PROFILES.find((p) => p.name === name);
}
