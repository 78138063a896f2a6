// A profile is one machine: kernel version, Kconfig, memory map, command line,
// devices, hardware facts and the fault switches it runs with. Everything in
// reference/ is built from a Profile by reference/system.ts.

import type { FaultName } from './faults.ts';

export type KernelVersion = '5.10' | '6.6';

export interface MemoryRange {
  base: bigint;
  size: bigint;
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
  /** Fault switches: model defects that should make some invariant fail. */
  faults: readonly FaultName[];
  /** Expected verdict per invariant name. */
  expect: Readonly<Record<string, Expectation>>;
  /** Verdict of invariants not in `expect`: 'holds' for a correct machine, 'n/a' for a fault profile that targets a few. */
  expectDefault: Expectation;
}

export function expectationOf(p: Profile, invariant: string): Expectation {
  return p.expect[invariant] ?? p.expectDefault;
}

export function kconfigEnabled(p: Pick<Profile, 'kconfig'>, sym: string): boolean {
  const v = p.kconfig[sym];
  return v === true || (typeof v === 'string' && v !== '' && v !== 'n') || (typeof v === 'number');
}

export function hasFault(p: Pick<Profile, 'faults'>, f: FaultName): boolean {
  return p.faults.includes(f);
}
