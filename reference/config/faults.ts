// Fault switches: deliberate defects a profile can turn on so that a property
// has something to find. Each names the kernel function it breaks; historic
// kernel bugs carry their catalog entry and commit. The switches live in
// reference/config/faults/, one file per kernel area.

import { LIB_FAULTS } from './faults/lib.ts';
import { MM_FAULTS } from './faults/mm.ts';
import { RISCV_FAULTS } from './faults/riscv.ts';
import { DMA_FAULTS } from './faults/dma.ts';
import { POOL_FAULTS } from './faults/pool.ts';
import { CMA_FAULTS } from './faults/cma.ts';

export type { FaultInfo, FaultTarget } from './faults/types.ts';

export const FAULTS = { ...LIB_FAULTS, ...MM_FAULTS, ...RISCV_FAULTS, ...DMA_FAULTS, ...POOL_FAULTS, ...CMA_FAULTS };

export type FaultName = keyof typeof FAULTS;

export function isFaultName(s: string): s is FaultName {
  return Object.prototype.hasOwnProperty.call(FAULTS, s);
}
