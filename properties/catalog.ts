// Which harness checks which invariant. verify and the property suites both
// read this table, so a new invariant is added in one place.

import type { Harness } from '../model/harness.ts';
import { bitmapHarness } from '../model/harnesses/bitmap.ts';
import { genpoolHarness } from '../model/harnesses/genpool.ts';
import { buddyHarness } from '../model/harnesses/buddy.ts';
import { coherenceHarness } from '../model/harnesses/coherence.ts';
import { allocHarness } from '../model/harnesses/alloc.ts';
import { dmaDebugHarness } from '../model/harnesses/dma-debug.ts';
import { mapLimitsHarness } from '../model/harnesses/map-limits.ts';

// Harnesses differ in state and op types; the catalog only passes them through.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyHarness = Harness<any, any>;

export const HARNESSES: readonly AnyHarness[] = [bitmapHarness, genpoolHarness, buddyHarness, coherenceHarness, allocHarness, dmaDebugHarness, mapLimitsHarness];

export function harness(name: string): AnyHarness | undefined {
  return HARNESSES.find((h) => h.name === name);
}

/** Invariant names in report order. */
export const INVARIANTS: readonly string[] = [
  'order-alignment',
  'no-overlap',
  'conservation',
  'zone',
  'refinement',
  'no-stale-read',
  'pte-attributes',
  'debug-agreement',
  'pool-floor',
  'coherent-ok-mask',
  'zeroed-and-coherent',
  'atomic-context',
  'max-mapping-size',
];

export function harnessesFor(invariant: string): AnyHarness[] {
  return HARNESSES.filter((h) => h.invariants.some((i) => i.name === invariant));
}
