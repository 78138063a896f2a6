// The main job: every invariant on every profile, each verdict compared with
// what the profile declares. Pure library code; cli/verify.ts is the shell.

import type { Profile } from '../reference/config/profile.ts';
import { expectationOf } from '../reference/config/profile.ts';
import { INVARIANTS, harnessesFor, HARNESSES } from './catalog.ts';
import { checkProperty, type Counterexample } from './run.ts';

/** Sequences an expected violation may take to show (the bench measures medians far below this). */
const DETECTION_RUNS = 5000;

export interface VerifyResult {
  profile: string;
  invariant: string;
  expected: 'holds' | 'violated';
  verdict: 'holds' | 'violated';
  runs: number;
  harnesses: string[];
  counterexample?: Counterexample & { harness: string };
  ms: number;
}

export interface VerifyOptions {
  runs: number;
  seed: number;
  invariants?: readonly string[];
  /** Replay one counterexample path (with a single profile and invariant). */
  path?: string;
  onResult?: (r: VerifyResult) => void;
}

export function verifyProfile(profile: Profile, opts: VerifyOptions): VerifyResult[] {
  const wanted = (opts.invariants ?? INVARIANTS).filter((inv) => expectationOf(profile, inv) !== 'n/a');
  // A correct profile checks each harness once with all its invariants; only a
  // failure (or an expected violation) needs per-invariant runs with their own shrinking.
  /** harness name -> the invariants one combined run showed to hold. */
  const together = new Map<string, ReadonlySet<string>>();
  if (opts.path === undefined) {
    for (const h of HARNESSES) {
      if (!h.appliesTo(profile)) continue;
      const invs = h.invariants.map((i) => i.name).filter((n) => wanted.includes(n) && expectationOf(profile, n) === 'holds');
      if (invs.length < 2) continue;
      const r = checkProperty(h, profile, invs, { numRuns: opts.runs, seed: opts.seed });
      if (r.verdict === 'holds') together.set(h.name, new Set(invs));
    }
  }
  const out: VerifyResult[] = [];
  for (const inv of wanted) {
    const expected = expectationOf(profile, inv) as 'holds' | 'violated';
    const hs = harnessesFor(inv).filter((h) => h.appliesTo(profile));
    const t0 = performance.now();
    let verdict: 'holds' | 'violated' = 'holds';
    let counterexample: VerifyResult['counterexample'];
    for (const h of hs) {
      if (together.get(h.name)?.has(inv)) continue;
      // An expected violation is a detection claim: give the search room (it stops at the first failure).
      const numRuns = expected === 'violated' ? Math.max(opts.runs, DETECTION_RUNS) : opts.runs;
      const r = checkProperty(h, profile, [inv], { numRuns, seed: opts.seed, ...(opts.path !== undefined ? { path: opts.path } : {}) });
      if (r.verdict === 'violated' && r.counterexample) {
        verdict = 'violated';
        counterexample = { ...r.counterexample, harness: h.name };
        break;
      }
    }
    const res: VerifyResult = {
      profile: profile.name,
      invariant: inv,
      expected,
      verdict,
      runs: opts.runs,
      harnesses: hs.map((h) => h.name),
      ...(counterexample ? { counterexample } : {}),
      ms: performance.now() - t0,
    };
    opts.onResult?.(res);
    out.push(res);
  }
  return out;
}
