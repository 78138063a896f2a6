// Runs one (harness, invariant set, profile) property with fast-check and turns
// the outcome into a verdict with a shrunk, replayable counterexample.

import fc from 'fast-check';
import { minimizeOps } from './minimize.ts';
import type { Profile } from '../reference/config/profile.ts';
import { runSequence, type Harness, type SequenceFailure } from '../model/harness.ts';

export interface Counterexample {
  seed: number;
  path: string;
  /** The shrunk operation list, as data (replayable). */
  ops: unknown[];
  /** The same, readable. */
  trace: string[];
  failure: SequenceFailure;
  shrinks: number;
}

export interface PropertyResult {
  profile: string;
  harness: string;
  invariants: string[];
  verdict: 'holds' | 'violated';
  runs: number;
  counterexample?: Counterexample;
  ms: number;
}

export interface RunOptions {
  numRuns: number;
  seed: number;
  maxOps?: number;
  /** Replay: run exactly this path of the seed's generation. */
  path?: string;
}

export function sequenceArb<S, Op>(h: Harness<S, Op>, profile: Profile, maxOps: number): fc.Arbitrary<Op[]> {
  const ops = fc.array(h.ops(profile), { minLength: 1, maxLength: maxOps, size: 'large' });
  const sw = h.swarm;
  if (sw === undefined) return ops;
  // Half the sequences use every kind; the other half drop each kind with probability 1/4,
  // which leaves room for rare paths without starving scenarios that need many kinds.
  const keep = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
  const subset = fc.tuple(...sw.kinds.map(() => keep)).map((bits) => sw.kinds.filter((_, i) => bits[i]));
  const kinds = fc.oneof(fc.constant([...sw.kinds]), subset);
  return fc.tuple(kinds, ops).map(([on, list]) => list.filter((o) => on.includes(sw.kindOf(o))));
}

export function checkProperty<S, Op>(
  h: Harness<S, Op>,
  profile: Profile,
  invariants: readonly string[],
  opts: RunOptions,
): PropertyResult {
  const t0 = performance.now();
  const prop = fc.property(sequenceArb(h, profile, opts.maxOps ?? h.maxOps ?? 60), (ops) => {
    return runSequence(h, profile, ops, invariants) === null;
  });
  const details = fc.check(prop, {
    numRuns: opts.numRuns,
    seed: opts.seed,
    ...(opts.path !== undefined ? { path: opts.path, endOnFailure: true } : {}),
  });
  const base = {
    profile: profile.name,
    harness: h.name,
    invariants: [...invariants],
    runs: details.numRuns,
  };
  if (!details.failed || details.counterexample === null) {
    return { ...base, verdict: 'holds', ms: performance.now() - t0 };
  }
  const shrunk = details.counterexample[0] as Op[];
  const first = runSequence(h, profile, shrunk, invariants);
  const ops = first === null ? shrunk : minimizeOps(h, profile, shrunk, invariants, first.invariant);
  const failure = runSequence(h, profile, ops, invariants, true);
  if (failure === null) throw new Error(`counterexample for ${h.name} on ${profile.name} does not reproduce`);
  return {
    ...base,
    verdict: 'violated',
    counterexample: {
      seed: details.seed,
      path: details.counterexamplePath ?? '',
      ops: ops as unknown[],
      trace: failure.trace,
      failure,
      shrinks: details.numShrinks,
    },
    ms: performance.now() - t0,
  };
}

/** Re-executes a saved operation list (no generation, no shrinking). */
export function replayOps<S, Op>(h: Harness<S, Op>, profile: Profile, ops: readonly Op[], invariants: readonly string[]) {
  return runSequence(h, profile, ops, invariants, true);
}
