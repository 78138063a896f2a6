// atomic-context on every correct profile, with sequences made of what
// matters to it: devices of any mask, coherence and dma-ranges, allocations in
// atomic context (GFP_ATOMIC, GFP_NOWAIT) of any size, frees, and the pool refill
// work that lets the pools grow between them. The general alloc suites
// (alloc*.test.ts) check it too, among everything else.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CORRECT_PROFILES, findProfile } from '../../reference/config/profiles.ts';
import { allocHarness, type AllocOp } from '../../model/harnesses/alloc.ts';
import { runSequence } from '../../model/harness.ts';
import { INVARIANTS } from '../../properties/catalog.ts';
import { INVARIANT_DOCS } from '../../properties/invariant.ts';
import { numRunsFor } from '../../properties/settings.ts';

const seed = fc.readConfigureGlobal().seed ?? (Date.now() ^ 0xa7) | 0;
// Few sequences: building a 128 GiB machine dominates each one, and alloc*.test.ts runs 1000 per profile.
const runs = numRunsFor(15);

const atomicOp: fc.Arbitrary<AllocOp> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('add_device' as const),
      mask: fc.constantFrom(24, 28, 30, 32, 34, 36, 40, 48, 64),
      coherent: fc.boolean(),
      ranges: fc.constantFrom('none' as const, 'offset' as const, 'window' as const),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('alloc' as const),
      dev: fc.nat({ max: 7 }),
      size: fc.oneof(fc.integer({ min: 1, max: 5 * 4096 }), fc.constantFrom(65536, 1 << 20)),
      gfp: fc.constantFrom('GFP_ATOMIC' as const, 'GFP_NOWAIT' as const),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('free' as const), i: fc.nat({ max: 3 }) }) },
  { weight: 2, arbitrary: fc.constant({ k: 'pool_work' as const }) },
);

describe('atomic-context', () => {
  it('is a catalogued alloc invariant with its meaning', () => {
    expect(INVARIANTS).toContain('atomic-context');
    expect(INVARIANT_DOCS['atomic-context']).toMatch(/sleeping function called from invalid context/);
    expect(allocHarness.invariants.map((i) => i.name)).toContain('atomic-context');
  });

  it('the same sequences find the inverted pool predicate (historic A8) at once', () => {
    const bad = findProfile('c920-sg2042-6.6+pool-guess-inverted')!;
    const r = fc.check(
      fc.property(fc.array(atomicOp, { minLength: 1, maxLength: 30 }), (ops) => runSequence(allocHarness, bad, ops, ['atomic-context']) === null),
      { numRuns: runs, seed },
    );
    expect(r.failed).toBe(true);
  });

  it.each(CORRECT_PROFILES.map((p) => [p.name, p] as const))('holds on %s for atomic allocations', (_n, profile) => {
    const r = fc.check(
      fc.property(fc.array(atomicOp, { minLength: 1, maxLength: 30 }), (ops) => runSequence(allocHarness, profile, ops, ['atomic-context']) === null),
      { numRuns: runs, seed },
    );
    const detail = r.counterexample ? `seed ${seed}: ${runSequence(allocHarness, profile, r.counterexample[0], ['atomic-context'], true)?.message}` : '';
    expect(r.failed, detail).toBe(false);
    expect(r.numRuns).toBe(runs);
  });
});
