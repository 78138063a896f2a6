// The coherence harness (no-stale-read, pte-attributes) on every correct profile.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COHERENCE_VARIANTS, CORRECT_PROFILES } from '../../reference/config/profiles.ts';
import { coherenceHarness } from '../../model/harnesses/coherence.ts';
import { checkProperty } from '../../properties/run.ts';
import { numRunsFor } from '../../properties/settings.ts';

const seed = fc.readConfigureGlobal().seed ?? (Date.now() ^ 0x2a) | 0;
const runs = numRunsFor(1000);

describe('coherence invariants hold on every correct profile', () => {
  it.each(CORRECT_PROFILES.map((p) => [p.name, p] as const))('%s', (_n, profile) => {
    // The variants differ from c920-sg2042-6.6 in one respect each, which a few hundred sequences reach.
    const n = COHERENCE_VARIANTS.has(profile.name) ? numRunsFor(300) : runs;
    const r = checkProperty(coherenceHarness, profile, ['no-stale-read', 'pte-attributes'], { numRuns: n, seed });
    const c = r.counterexample;
    const detail = c ? `seed ${seed} path ${c.path}: ${c.failure.invariant}: ${c.failure.message}\n${c.trace.join('\n')}` : '';
    expect(r.verdict, detail).toBe('holds');
    expect(r.runs).toBe(n);
  });
});
