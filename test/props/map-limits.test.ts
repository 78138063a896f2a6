// The map-limits harness (max-mapping-size) on every correct profile. Fewer
// sequences than the other property files: a bounced mapping of one swiotlb
// segment copies 256 KiB through the cache model (about 100 ms).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CORRECT_PROFILES } from '../../reference/config/profiles.ts';
import { mapLimitsHarness } from '../../model/harnesses/map-limits.ts';
import { checkProperty } from '../../properties/run.ts';
import { numRunsFor } from '../../properties/settings.ts';

const seed = fc.readConfigureGlobal().seed ?? (Date.now() ^ 0x2a) | 0;
const runs = numRunsFor(60);

describe('max-mapping-size holds on every correct profile', () => {
  it.each(CORRECT_PROFILES.map((p) => [p.name, p] as const))('%s', (_n, profile) => {
    const r = checkProperty(mapLimitsHarness, profile, ['max-mapping-size'], { numRuns: runs, seed });
    const c = r.counterexample;
    const detail = c ? `seed ${seed} path ${c.path}: ${c.failure.invariant}: ${c.failure.message}\n${c.trace.join('\n')}` : '';
    expect(r.verdict, detail).toBe('holds');
    expect(r.runs).toBe(runs);
  });
});
