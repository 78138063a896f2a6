// The golden scenarios as a litmus table: every (scenario, profile) pair must
// give its recorded verdict; each violation prints its resolved trace.
import { describe, expect, it } from 'vitest';
import { GOLDEN_SCENARIOS, goldenProfile } from '../../model/scenarios.ts';
import { coherenceHarness } from '../../model/harnesses/coherence.ts';
import { runSequence } from '../../model/harness.ts';

const cases = GOLDEN_SCENARIOS.flatMap((s) => Object.entries(s.expect).map(([key, verdict]) => [s.name, key, verdict, s] as const));

describe('golden scenarios', () => {
  it.each(cases)('%s on %s: %s', (name, key, verdict, s) => {
    const profile = goldenProfile(key);
    expect(coherenceHarness.appliesTo(profile)).toBe(true);
    const r = runSequence(coherenceHarness, profile, s.ops, [s.invariant], true);
    if (verdict === 'holds') {
      expect(r, r ? `${r.message}\n  ${r.trace.join('\n  ')}` : '').toBeNull();
      return;
    }
    expect(r, `${name} was expected to violate ${s.invariant} on ${key}`).not.toBeNull();
    // The scenario must fail on its own invariant, not by oopsing in the model.
    expect(r!.invariant).toBe(s.invariant);
    console.log(`[${name} @ ${key}] ${s.invariant} violated at op ${r!.step + 1}/${s.ops.length}: ${r!.message}\n  ${r!.trace.join('\n  ')}`);
  });
});

describe('golden scenario table', () => {
  it('names are unique', () => {
    const names = GOLDEN_SCENARIOS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(GOLDEN_SCENARIOS.map((s) => [s.name, s] as const))('%s lists a holding and a violating profile', (_n, s) => {
    const verdicts = Object.values(s.expect);
    expect(verdicts).toContain('holds');
    expect(verdicts).toContain('violated');
    expect(s.ops.length).toBeGreaterThan(0);
    expect(s.source.length).toBeGreaterThan(0);
  });

  it('goldenProfile resolves names and fault suffixes, and rejects typos', () => {
    const p = goldenProfile('c920-sg2042-6.6');
    expect(p.faults).toEqual([]);
    const f = goldenProfile('c920-sg2042-6.6+cmo-clean-l1-only+cmo-inval-as-flush');
    expect(f.faults).toEqual(['cmo-clean-l1-only', 'cmo-inval-as-flush']);
    expect(f.kernel).toBe('6.6');
    expect(goldenProfile('c920-sg2042-5.10-vendor').kernel).toBe('5.10');
    expect(() => goldenProfile('no-such-board')).toThrow(/unknown profile/);
    expect(() => goldenProfile('c920-sg2042-6.6+no-such-fault')).toThrow(/unknown fault/);
  });
});
