// Every foundation harness, with all its invariants, on every correct profile.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COHERENCE_VARIANTS, CORRECT_PROFILES } from '../../reference/config/profiles.ts';
import { bitmapHarness } from '../../model/harnesses/bitmap.ts';
import { genpoolHarness } from '../../model/harnesses/genpool.ts';
import { buddyHarness } from '../../model/harnesses/buddy.ts';
import { checkProperty } from '../../properties/run.ts';
import { numRunsFor } from '../../properties/settings.ts';
import type { AnyHarness } from '../../properties/catalog.ts';

const seed = fc.readConfigureGlobal().seed ?? (Date.now() ^ 0x2a) | 0;
const runs = numRunsFor(1000);

describe.each(CORRECT_PROFILES.filter((p) => !COHERENCE_VARIANTS.has(p.name)).map((p) => [p.name, p] as const))('%s', (_name, profile) => {
  it.each([bitmapHarness, genpoolHarness, buddyHarness].map((h) => [h.name, h as AnyHarness] as const))(
    '%s invariants hold',
    (_h, h) => {
      const invs = h.invariants.map((i) => i.name);
      const r = checkProperty(h, profile, invs, { numRuns: runs, seed });
      const detail = r.counterexample
        ? `seed ${seed} path ${r.counterexample.path}: ${r.counterexample.failure.invariant}: ${r.counterexample.failure.message}\n${r.counterexample.trace.join('\n')}`
        : '';
      expect(r.verdict, detail).toBe('holds');
      expect(r.runs).toBe(runs);
    },
  );
});
