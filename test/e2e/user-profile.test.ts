// The user's own files end to end: a profile built from a .dtb and a .config
// runs every invariant. The SG2042 6.6 example holds everywhere; the vendor
// 5.10 .config on the same board loses data (no-stale-read), as the built-in
// c920-sg2042-5.10-vendor profile does.

import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildUserProfile } from '../../reference/config/user-profile.ts';
import { verifyProfile } from '../../properties/verify.ts';
import { numRunsFor } from '../../properties/settings.ts';

const ex = (f: string) => new URL(`../../examples/${f}`, import.meta.url);
const RUNS = numRunsFor(50);
const SEED = 20260;

describe('verify on a profile built from the user files', () => {
  it('examples/sg2042-like.dtb + sg2042-6.6.config: every invariant holds', () => {
    const { profile } = buildUserProfile({ dtb: readFileSync(ex('sg2042-like.dtb')), config: readFileSync(ex('sg2042-6.6.config'), 'utf8') });
    const results = verifyProfile(profile, { runs: RUNS, seed: SEED });
    expect(results.length).toBeGreaterThanOrEqual(11);
    for (const r of results) expect({ invariant: r.invariant, verdict: r.verdict, why: r.counterexample?.failure.message }).toEqual({ invariant: r.invariant, verdict: 'holds', why: undefined });
  });

  it('examples/sg2042-like.dtb + sg2042-5.10-vendor.config: no-stale-read is violated', () => {
    const { profile } = buildUserProfile({ dtb: readFileSync(ex('sg2042-like.dtb')), config: readFileSync(ex('sg2042-5.10-vendor.config'), 'utf8') });
    expect(profile.kernel).toBe('5.10');
    const [r] = verifyProfile(profile, { runs: RUNS, seed: SEED, invariants: ['no-stale-read'] });
    expect(r.verdict).toBe('violated');
    expect(r.expected).toBe('holds');
    expect(r.counterexample?.failure.message).toMatch(/read .* but its owner last wrote/);
  });
});
