// The C920 cache model (reference/hw/c920-cache.ts, not a kernel file) as the
// StrykerJS sample of the pgtable-cache chunk left it: checkInvariants must
// report each broken invariant (the self-check the property tests lean on),
// hart / cluster numbers out of range are refused, and a store that takes a
// line from a clean copy in another cluster owes no write-back.
// bench/mutation-equivalents.md lists the survivors no test can kill.
import { describe, expect, it } from 'vitest';
import { C920Caches, MODEL_GEOMETRY } from '../../reference/hw/c920-cache.ts';
import { PhysMemory, lineOf } from '../../reference/mm/memory.ts';

const BASE = 0x8000_0000n;
const L = lineOf(BASE);

interface Copy {
  dirty: boolean;
  data: Uint8Array;
}
interface Entry {
  l1: (Copy | null)[];
  l2: (Copy | null)[];
  count: number;
}

function caches(): C920Caches {
  return new C920Caches(MODEL_GEOMETRY, new PhysMemory([{ base: BASE, size: 0x10_0000n }]));
}

/**
 * The private directory, to break an invariant on purpose: no legal access
 * sequence can, which is exactly what checkInvariants asserts. 2 clusters × 2 harts.
 */
function internals(c: C920Caches): { dir: Map<number, Entry>; copies: number } {
  return c as unknown as { dir: Map<number, Entry>; copies: number };
}

/** Line L clean in both clusters: harts 0 and 2 loaded it (L1 h0, L1 h2, L2 c0, L2 c1). */
function sharedClean(): { c: C920Caches; e: Entry } {
  const c = caches();
  c.load(0, BASE, 1);
  c.load(2, BASE, 1);
  expect(c.checkInvariants()).toBeNull();
  return { c, e: internals(c).dir.get(L)! };
}

describe('checkInvariants reports each broken invariant', () => {
  it('two L2 copies both Dirty (two clusters owing the same write-back)', () => {
    const { c, e } = sharedClean();
    e.l2[0]!.dirty = true;
    e.l2[1]!.dirty = true; // same bytes: only the second owner is wrong
    expect(c.checkInvariants()).toBe(`line ${L} dirty in L2 0 and L2 1`);
  });

  it('a clean L2 copy whose bytes differ from the dirty owner L2', () => {
    const { c, e } = sharedClean();
    c.evictLine(2, 'L1', L); // only the L2 copies are compared now
    e.l2[0]!.dirty = true;
    e.l2[1]!.data[63] ^= 1; // last byte of the line
    expect(c.checkInvariants()).toBe(`line ${L} in L2 1 differs from its dirty owner L2 0`);
  });

  it('a clean L1 copy whose bytes differ from its L2 line', () => {
    const { c, e } = sharedClean();
    e.l1[2]!.data[0] ^= 1;
    expect(c.checkInvariants()).toBe(`clean L1 line ${L} of hart 2 differs from L2 1`);
  });

  it('a directory entry whose count disagrees with the copies it holds', () => {
    const { c, e } = sharedClean();
    e.count++;
    internals(c).copies++;
    expect(c.checkInvariants()).toBe(`directory entry of line ${L} counts 5 copies, holds 4`);
  });

  it('an empty directory entry left behind (count 0 must have removed it)', () => {
    const { c } = sharedClean();
    internals(c).dir.set(L + 9, { l1: [null, null, null, null], l2: [null, null], count: 0 });
    expect(c.checkInvariants()).toBe(`directory entry of line ${L + 9} counts 0 copies, holds 0`);
  });

  it('a total copy count (lineCount) that disagrees with the directory', () => {
    const { c } = sharedClean();
    internals(c).copies++;
    expect(c.lineCount).toBe(5);
    expect(c.checkInvariants()).toBe('directory counts 5 copies, holds 4');
  });

  it('a dirty L1 line without its L2 line: checkInvariants names it, and a write-down refuses it', () => {
    const c = caches();
    c.store(0, BASE, Uint8Array.of(1));
    const e = internals(c).dir.get(L)!;
    e.l2[0] = null; // inclusivity broken behind the model's back
    e.count--;
    internals(c).copies--;
    expect(c.checkInvariants()).toBe(`L1 of hart 0 holds line ${L} absent from L2 0`);
    expect(() => c.cleanLine(0, L, 'L1')).toThrow(`inclusivity broken: line ${L} in L1 of hart 0 but not in L2 0`);
  });
});

describe('hart and cluster numbers are checked', () => {
  it('a hart that is negative, fractional or past the last one is refused', () => {
    const c = caches();
    expect(() => c.clusterOf(-1)).toThrow('no hart -1');
    expect(() => c.clusterOf(0.5)).toThrow('no hart 0.5');
    expect(() => c.clusterOf(4)).toThrow('no hart 4');
    expect(c.clusterOf(3)).toBe(1);
  });

  it('a cluster that is negative, fractional or past the last one is refused by the L2 operations', () => {
    const c = caches();
    expect(() => c.l2CleanAll(-1)).toThrow('no cluster -1');
    expect(() => c.l2CleanAll(0.5)).toThrow('no cluster 0.5');
    expect(() => c.l2CleanAll(2)).toThrow('no cluster 2');
    expect(() => c.lineState(2, 'L2', L)).toThrow('no cluster 2');
    c.l2CleanAll(1);
    expect(c.lineState(1, 'L2', L)).toBe('I');
  });
});

describe('store: write-back duty moves only from a Dirty owner', () => {
  it('taking a line that the other cluster held Clean leaves the own L2 copy Clean', () => {
    const { c } = sharedClean();
    c.store(0, BASE, Uint8Array.of(0x42));
    expect(c.lineState(1, 'L2', L)).toBe('I'); // the other cluster's copy is gone
    expect(c.lineState(0, 'L1', L)).toBe('D');
    expect(c.lineState(0, 'L2', L)).toBe('C'); // memory still equals it: nothing to write back
    expect(c.checkInvariants()).toBeNull();
  });
});
