// A property that cannot fail is a defect: each fault profile must make its
// target invariants fail, with a shrunk counterexample.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BROKEN_PROFILES, FAULT_PROFILES } from '../../reference/config/profiles.ts';
import { harnessesFor } from '../../properties/catalog.ts';
import { checkProperty } from '../../properties/run.ts';
import { numRunsFor } from '../../properties/settings.ts';

// Detection is a claim about the default settings, so it runs on a fixed seed unless FC_SEED says otherwise.
const seed = fc.readConfigureGlobal().seed ?? 42;
// fast-check stops at the first failure, so a generous bound only costs time when detection is hard.
// Detection is a claim about the default settings: a lower FC_NUM_RUNS (coverage runs, Stryker) must not weaken it.
const runs = Math.max(3000, numRunsFor(3000));

const cases = [...BROKEN_PROFILES, ...FAULT_PROFILES].flatMap((p) =>
  Object.entries(p.expect)
    .filter(([, v]) => v === 'violated')
    .map(([inv]) => [p.name, inv, p] as const),
);

describe('broken profiles and fault switches are detected', () => {
  it.each(cases)('%s breaks %s', (_n, inv, profile) => {
    const hs = harnessesFor(inv).filter((h) => h.appliesTo(profile));
    // The first harness (catalog order) that finds it is enough; the others would only spend their whole budget holding.
    let hit: ReturnType<typeof checkProperty> | undefined;
    for (const h of hs) {
      const r = checkProperty(h, profile, [inv], { numRuns: runs, seed });
      if (r.verdict === 'violated') {
        hit = r;
        break;
      }
    }
    expect(hit, `no harness found ${inv} broken on ${profile.name}`).toBeDefined();
    const c = hit!.counterexample!;
    // A machine that oopses at boot breaks everything it was to check.
    expect(c.failure.op === 'boot' ? inv : c.failure.invariant).toBe(inv);
    expect(c.trace.length).toBeGreaterThan(0);
    // How close this is to the shortest known (golden) scenario is a measurement over seeds
    // (bench/time-to-detect.ts: median ops against 'known'), not a claim about one seed: a seed may
    // find the bug along another path (a bounce buffer instead of the buffer itself) that is longer.
    console.log(
      `[${profile.name}] ${inv} broken after ${c.trace.length} ops (${c.shrinks} shrinks): ${c.failure.message}\n  ` +
        c.trace.join('\n  '),
    );
  });
});
