// The post-shrink minimizer only ever returns a subsequence (or a reordering)
// that still fails the same invariant, and it is deterministic.
import { describe, expect, it } from 'vitest';
import { minimizeOps } from '../../properties/minimize.ts';
import type { Harness } from '../../model/harness.ts';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import fc from 'fast-check';

type Op = 'a' | 'b' | 'x' | 'w';
/** Fails 'inv' once it has seen 'a' and later 'b'; a 'w' between them must come first ('x' are noise). */
const toy: Harness<{ seen: Op[] }, Op> = {
  name: 'toy',
  appliesTo: () => true,
  setup: () => ({ seen: [] }),
  ops: () => fc.constantFrom<Op>('a', 'b', 'x', 'w'),
  apply: (s, op) => {
    s.seen.push(op);
  },
  describe: (op) => op,
  invariants: [
    {
      name: 'inv',
      description: 'never a then b',
      check: (s) => {
        const a = s.seen.indexOf('a');
        const b = s.seen.lastIndexOf('b');
        return a >= 0 && b > a ? 'a then b' : null;
      },
    },
  ],
};

describe('minimizeOps', () => {
  const p = findProfile('c920-sg2042-6.6') as Profile;
  it('drops operations that do not matter and everything after the failure', () => {
    expect(minimizeOps(toy, p, ['x', 'a', 'x', 'x', 'b', 'x', 'a'], ['inv'], 'inv')).toEqual(['a', 'b']);
  });
  it('is deterministic (a replay ends at the same counterexample)', () => {
    const input: Op[] = ['b', 'x', 'w', 'a', 'x', 'b', 'w', 'b'];
    expect(minimizeOps(toy, p, input, ['inv'], 'inv')).toEqual(minimizeOps(toy, p, input, ['inv'], 'inv'));
    expect(minimizeOps(toy, p, input, ['inv'], 'inv')).toEqual(['a', 'b']);
  });
  // Moving an operation earlier is exercised by test/detect/faults.test.ts: cmo-clean-l1-only's seed-42
  // counterexample only reaches the golden scenario's 4 operations by moving the CPU store before the map.
  it('returns the input when it does not fail that invariant', () => {
    expect(minimizeOps(toy, p, ['b', 'a'], ['inv'], 'inv')).toEqual(['b', 'a']);
    expect(minimizeOps(toy, p, ['a', 'b'], ['inv'], 'other')).toEqual(['a', 'b']);
  });
});
