// A harness drives one subsystem of the reference with generated operation
// lists. Operations are plain JSON data (numbers and strings only) so that a
// shrunk counterexample can be printed, saved and replayed as is.

import './v8-tuning.ts';
import type fc from 'fast-check';
import type { Profile } from '../reference/config/profile.ts';
import type { Invariant } from '../properties/invariant.ts';

export interface Harness<S, Op> {
  readonly name: string;
  /** Which profiles this harness can run on. */
  appliesTo(profile: Profile): boolean;
  setup(profile: Profile): S;
  ops(profile: Profile): fc.Arbitrary<Op>;
  /**
   * Applies one operation to reference and model; may throw KernelBug where the
   * kernel would oops. With `explain`, returns the operation as it resolved
   * (real pool, size, returned address) for counterexample traces.
   */
  apply(state: S, op: Op, explain: boolean): string | void;
  /** Operations that end every sequence (e.g. free everything), so end-state invariants are always checked. */
  finalOps?(): readonly Op[];
  describe(op: Op): string;
  /** Longest generated sequence (default 60). */
  maxOps?: number;
  /** Swarm testing: each sequence enables a random subset of operation kinds, so rare paths get room. */
  swarm?: { kinds: readonly string[]; kindOf(op: Op): string };
  invariants: readonly Invariant<S>[];
}

export interface SequenceFailure {
  /** Index of the operation after which the violation was seen (ops.length + k for final op k). */
  step: number;
  op: string;
  invariant: string;
  message: string;
  /** Operations as they resolved, up to the failing one (only when run with explain). */
  trace: string[];
}

/**
 * Runs one sequence and checks `invariantNames` after every operation.
 * Returns the first violation, or null when every invariant held throughout.
 */
export function runSequence<S, Op>(
  h: Harness<S, Op>,
  profile: Profile,
  ops: readonly Op[],
  invariantNames: readonly string[],
  explain = false,
): SequenceFailure | null {
  const invs = h.invariants.filter((i) => invariantNames.includes(i.name));
  let state: S;
  try {
    state = h.setup(profile);
  } catch (e) {
    // The machine does not even boot (a kernel oops at boot is a violation of everything it was to check).
    const msg = e instanceof Error ? e.message : String(e);
    return { step: 0, op: 'boot', invariant: 'kernel-bug', message: `boot: ${msg}`, trace: explain ? [`boot -> ${msg}`] : [] };
  }
  const all = h.finalOps ? [...ops, ...h.finalOps()] : ops;
  const trace: string[] = [];
  for (let step = 0; step < all.length; step++) {
    const op = all[step];
    try {
      const line = h.apply(state, op, explain);
      if (explain) trace.push(line ?? h.describe(op));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (explain) trace.push(`${h.describe(op)}  -> ${msg}`);
      return { step, op: h.describe(op), invariant: 'kernel-bug', message: msg, trace };
    }
    for (const inv of invs) {
      const m = inv.check(state);
      if (m !== null) return { step, op: h.describe(op), invariant: inv.name, message: m, trace };
    }
  }
  return null;
}
