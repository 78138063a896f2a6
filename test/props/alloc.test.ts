// Split in two files so vitest runs the halves on both cores.
// The coherent allocation stack (pool-floor, coherent-ok-mask, zeroed-and-coherent,
// and the allocation side of order-alignment / no-overlap / conservation) on every correct profile.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COHERENCE_VARIANTS, CORRECT_PROFILES } from '../../reference/config/profiles.ts';
import { allocHarness } from '../../model/harnesses/alloc.ts';
import { checkProperty } from '../../properties/run.ts';
import { numRunsFor } from '../../properties/settings.ts';

const seed = fc.readConfigureGlobal().seed ?? (Date.now() ^ 0x2a) | 0;
const runs = numRunsFor(1000);
const invariants = allocHarness.invariants.map((i) => i.name);

describe('coherent allocation invariants hold on every correct profile (first half)', () => {
  it.each(CORRECT_PROFILES.filter((p) => !COHERENCE_VARIANTS.has(p.name)).filter((_, i) => i % 2 === 0).map((p) => [p.name, p] as const))('%s', (_n, profile) => {
    const r = checkProperty(allocHarness, profile, invariants, { numRuns: runs, seed });
    const c = r.counterexample;
    const detail = c ? `seed ${seed} path ${c.path}: ${c.failure.invariant}: ${c.failure.message}\n${c.trace.join('\n')}` : '';
    expect(r.verdict, detail).toBe('holds');
    expect(r.runs).toBe(runs);
  });
});
