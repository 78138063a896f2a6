// After fast-check's shrink: drop whole operations while the same invariant
// still fails. fast-check shrinks a list by removing runs and shrinking values
// from the counterexample it happened to find, so a sequence that needs a
// buffer, a store, a map and a read can keep two spare operations it would
// only shed by removing them one at a time out of order. Operations name
// buffers by index modulo the live ones, so any subsequence is still a valid
// sequence. Deterministic: the same input always gives the same output, so a
// replay (--seed/--path) ends at the same counterexample.

import { runSequence, type Harness, type SequenceFailure } from '../model/harness.ts';
import type { Profile } from '../reference/config/profile.ts';

/** Sequences tried at most (a shrunk counterexample is short; this only bounds a pathological one). */
const BUDGET = 2000;

function failsTheSame<S, Op>(h: Harness<S, Op>, profile: Profile, ops: readonly Op[], invariants: readonly string[], invariant: string): SequenceFailure | null {
  const f = runSequence(h, profile, ops, invariants);
  return f !== null && f.invariant === invariant ? f : null;
}

export function minimizeOps<S, Op>(h: Harness<S, Op>, profile: Profile, ops: readonly Op[], invariants: readonly string[], invariant: string): Op[] {
  let tries = 0;
  const fails = (cand: readonly Op[]): SequenceFailure | null => {
    tries++;
    return failsTheSame(h, profile, cand, invariants, invariant);
  };
  // Operations after the failing one never matter (final ops are appended by the harness).
  const cut = (cand: Op[], f: SequenceFailure): Op[] => (f.step < cand.length - 1 ? cand.slice(0, f.step + 1) : cand);
  const first = fails(ops);
  if (first === null) return [...ops];
  const dropEach = (start: Op[]): Op[] => {
    let best = start;
    for (let i = 0; i < best.length && tries < BUDGET; i++) {
      const cand = [...best.slice(0, i), ...best.slice(i + 1)];
      const f = fails(cand);
      if (f !== null) {
        best = cut(cand, f);
        i--;
      }
    }
    return best;
  };
  let best = dropEach(cut([...ops], first));
  // A local minimum for single deletions may still shorten once an operation moves earlier
  // (a CPU store before dma_map_single instead of inside a sync_for_cpu/sync_for_device pair).
  let improved = true;
  while (improved && tries < BUDGET) {
    improved = false;
    for (let i = 1; i < best.length && !improved && tries < BUDGET; i++) {
      for (let j = 0; j < i && !improved && tries < BUDGET; j++) {
        const cand = [...best.slice(0, j), best[i], ...best.slice(j, i), ...best.slice(i + 1)];
        const f = fails(cand);
        if (f === null) continue;
        const shorter = dropEach(cut(cand, f));
        if (shorter.length < best.length) {
          best = shorter;
          improved = true;
        }
      }
    }
  }
  return best;
}
