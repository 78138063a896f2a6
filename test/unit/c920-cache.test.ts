import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  C920Caches,
  MODEL_GEOMETRY,
  SG2042_GEOMETRY,
  C906_GEOMETRY,
  type CacheGeometry,
} from '../../reference/hw/c920-cache.ts';
import { PhysMemory, POISON, lineOf } from '../../reference/mm/memory.ts';

const BASE = 0x8000_0000n;
const L = lineOf(BASE); // first line of RAM
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

function machine(geometry: CacheGeometry = MODEL_GEOMETRY) {
  const mem = new PhysMemory([{ base: BASE, size: 0x10_0000n }]);
  return { mem, c: new C920Caches(geometry, mem) };
}

/** hart 0 stores 0x11 over the whole first line: L1(0) D, L2(0) C(poison), memory poison. */
function dirtyLine() {
  const m = machine();
  m.c.store(0, BASE, bytes(64, 0x11));
  return m;
}

describe('geometry', () => {
  it('SG2042 and model shapes', () => {
    expect(SG2042_GEOMETRY.clusters * SG2042_GEOMETRY.hartsPerCluster).toBe(64);
    expect(SG2042_GEOMETRY.l1).toEqual({ sizeBytes: 65536, ways: 2 });
    expect(SG2042_GEOMETRY.l2).toEqual({ sizeBytes: 1 << 20, ways: 16 });
    const { c } = machine();
    expect(c.harts).toBe(4);
    expect([0, 1, 2, 3].map((h) => c.clusterOf(h))).toEqual([0, 0, 1, 1]);
    expect(() => c.load(4, BASE, 1)).toThrow(/no hart/);
  });
});

describe('load and store', () => {
  it('a load miss allocates Clean lines in L1 and L2 with memory bytes (poison when untouched)', () => {
    const { c } = machine();
    expect(c.load(0, BASE + 8n, 4)).toEqual(bytes(4, POISON));
    expect(c.lineState(0, 'L1', L)).toBe('C');
    expect(c.lineState(0, 'L2', L)).toBe('C');
    expect(c.lineState(1, 'L1', L)).toBe('I');
    expect(c.lineState(1, 'L2', L)).toBe('I');
  });

  it('a load spanning two lines allocates both', () => {
    const { c, mem } = machine();
    mem.write(BASE + 60n, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect([...c.load(0, BASE + 60n, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(c.lineState(0, 'L1', L)).toBe('C');
    expect(c.lineState(0, 'L1', L + 1)).toBe('C');
    expect(c.lineCount).toBe(4);
  });

  it('a store is write-allocate and write-back: L1 Dirty, L2 Clean with old bytes, memory untouched', () => {
    const { c, mem } = machine();
    c.store(0, BASE + 4n, Uint8Array.from([9, 9]));
    expect(c.lineState(0, 'L1', L)).toBe('D');
    expect(c.lineState(0, 'L2', L)).toBe('C');
    expect(c.lineBytes(0, 'L2', L)).toEqual(bytes(64, POISON));
    expect(mem.read(BASE + 4n, 2)).toEqual(bytes(2, POISON));
    expect([...c.load(0, BASE + 3n, 4)]).toEqual([POISON, 9, 9, POISON]);
  });
});

describe('evictLine', () => {
  it('L1 Dirty goes to L2 (Dirty), memory still old; L2 eviction then writes memory', () => {
    const { c, mem } = dirtyLine();
    c.evictLine(0, 'L1', L);
    expect(c.lineState(0, 'L1', L)).toBe('I');
    expect(c.lineState(0, 'L2', L)).toBe('D');
    expect(mem.read(BASE, 1)[0]).toBe(POISON);
    c.evictLine(0, 'L2', L);
    expect(c.lineState(0, 'L2', L)).toBe('I');
    expect(mem.read(BASE, 64)).toEqual(bytes(64, 0x11));
  });

  it('L2 eviction back-invalidates the cluster L1s, writing dirty L1 data down first', () => {
    const { c, mem } = dirtyLine();
    c.evictLine(1, 'L2', L); // hart 1 shares cluster 0 with hart 0
    expect(c.lineState(0, 'L1', L)).toBe('I');
    expect(c.lineState(0, 'L2', L)).toBe('I');
    expect(mem.read(BASE, 64)).toEqual(bytes(64, 0x11));
  });

  it('Clean lines are dropped silently; absent lines are a no-op', () => {
    const { c, mem } = machine();
    c.load(0, BASE, 1);
    c.evictLine(0, 'L2', L);
    expect(c.lineCount).toBe(0);
    expect(mem.touchedLines).toBe(0);
    c.evictLine(2, 'L1', L + 5);
    c.evictLine(2, 'L2', L + 5);
    expect(c.lineCount).toBe(0);
  });
});

describe('line maintenance primitives (broadcast)', () => {
  it("cleanLine 'L1' (cval1/cpal1) stops at L2: L1 C, L2 D, memory old", () => {
    const { c, mem } = dirtyLine();
    c.cleanLine(3, L, 'L1'); // issued on another cluster: still reaches hart 0's L1
    expect(c.lineState(0, 'L1', L)).toBe('C');
    expect(c.lineState(0, 'L2', L)).toBe('D');
    expect(c.lineBytes(0, 'L2', L)).toEqual(bytes(64, 0x11));
    expect(mem.read(BASE, 1)[0]).toBe(POISON);
  });

  it("cleanLine 'L1L2' writes memory and leaves copies Clean", () => {
    const { c, mem } = dirtyLine();
    c.cleanLine(2, L, 'L1L2');
    expect(c.lineState(0, 'L1', L)).toBe('C');
    expect(c.lineState(0, 'L2', L)).toBe('C');
    expect(mem.read(BASE, 64)).toEqual(bytes(64, 0x11));
  });

  it("invalLine drops without write-back ('L1' keeps the L2, 'L1L2' drops everything)", () => {
    const a = dirtyLine();
    a.c.invalLine(0, L, 'L1');
    expect(a.c.lineState(0, 'L1', L)).toBe('I');
    expect(a.c.lineState(0, 'L2', L)).toBe('C');
    expect(a.c.load(0, BASE, 1)[0]).toBe(POISON); // the store is lost
    const b = dirtyLine();
    b.c.evictLine(0, 'L1', L); // L2 D
    b.c.invalLine(0, L, 'L1L2');
    expect(b.c.lineCount).toBe(0);
    expect(b.mem.read(BASE, 1)[0]).toBe(POISON);
  });

  it("flushLine 'L1' moves dirty data into L2 and drops the L1; 'L1L2' reaches memory", () => {
    const a = dirtyLine();
    a.c.flushLine(0, L, 'L1');
    expect(a.c.lineState(0, 'L1', L)).toBe('I');
    expect(a.c.lineState(0, 'L2', L)).toBe('D');
    expect(a.mem.read(BASE, 1)[0]).toBe(POISON);
    const b = dirtyLine();
    b.c.flushLine(2, L, 'L1L2');
    expect(b.c.lineCount).toBe(0);
    expect(b.mem.read(BASE, 64)).toEqual(bytes(64, 0x11));
  });
});

describe('whole-cache maintenance', () => {
  it('l1CleanAll / l1InvalAll / l1FlushAll act on the local hart only', () => {
    const { c } = machine();
    c.store(0, BASE, bytes(1, 1));
    c.store(2, BASE + 64n, bytes(1, 2));
    c.l1CleanAll(0);
    expect(c.lineState(0, 'L1', L)).toBe('C');
    expect(c.lineState(0, 'L2', L)).toBe('D');
    expect(c.lineState(2, 'L1', L + 1)).toBe('D');
    c.store(0, BASE, bytes(1, 3));
    c.l1FlushAll(0);
    expect(c.lineState(0, 'L1', L)).toBe('I');
    expect(c.lineBytes(0, 'L2', L)![0]).toBe(3);
    c.l1InvalAll(2);
    expect(c.lineState(2, 'L1', L + 1)).toBe('I');
    expect(c.lineBytes(1, 'L2', L + 1)![0]).toBe(POISON); // store of 2 lost
  });

  it('l2CleanAll writes the L2 to memory but not newer L1 data', () => {
    const { c, mem } = dirtyLine();
    c.l1CleanAll(0); // L2 D = 0x11
    c.store(0, BASE, bytes(1, 0x22)); // L1 D newer
    c.l2CleanAll(0);
    expect(c.lineState(0, 'L2', L)).toBe('C');
    expect(c.lineState(0, 'L1', L)).toBe('D');
    expect(mem.read(BASE, 2)).toEqual(Uint8Array.from([0x11, 0x11]));
  });

  it('l2InvalAll empties the L2 and (inclusive) the cluster L1s, losing dirty data; other cluster untouched', () => {
    const { c, mem } = dirtyLine();
    c.store(2, BASE + 64n, bytes(1, 5));
    c.l2InvalAll(0);
    expect(c.lineState(0, 'L1', L)).toBe('I');
    expect(c.lineState(0, 'L2', L)).toBe('I');
    expect(mem.read(BASE, 1)[0]).toBe(POISON);
    expect(c.lineState(2, 'L1', L + 1)).toBe('D');
  });

  it('l2FlushAll writes L1 and L2 dirty data to memory and empties the cluster', () => {
    const { c, mem } = dirtyLine();
    c.l2FlushAll(0);
    expect(c.lineCount).toBe(0);
    expect(mem.read(BASE, 64)).toEqual(bytes(64, 0x11));
  });
});

describe('coherence among harts', () => {
  it('a store is seen by later loads on the same and on the other cluster', () => {
    const { c } = machine();
    c.load(1, BASE, 1);
    c.load(3, BASE, 1);
    c.store(0, BASE, bytes(1, 0x42));
    expect(c.lineState(1, 'L1', L)).toBe('I'); // other copies invalidated
    expect(c.lineState(1, 'L2', L)).toBe('I');
    expect(c.lineState(3, 'L1', L)).toBe('I');
    expect(c.load(1, BASE, 1)[0]).toBe(0x42);
    expect(c.lineState(0, 'L1', L)).toBe('C'); // owner wrote down to its L2
    expect(c.lineState(0, 'L2', L)).toBe('D');
    expect(c.load(3, BASE, 1)[0]).toBe(0x42);
    expect(c.lineState(1, 'L2', L)).toBe('C'); // cluster 1 copy; cluster 0 stays the owner
    c.store(3, BASE + 1n, bytes(1, 0x43));
    expect(c.lineState(0, 'L2', L)).toBe('I');
    expect(c.lineState(1, 'L2', L)).toBe('D'); // write-back duty moved with the line
    expect([...c.load(0, BASE, 2)]).toEqual([0x42, 0x43]);
    expect(c.checkInvariants()).toBeNull();
  });

  it('random sequences keep the invariants and every load returns the last store', () => {
    const line = fc.integer({ min: 0, max: 3 });
    const hart = fc.integer({ min: 0, max: 3 });
    const op = fc.oneof(
      fc.record({ k: fc.constant('load' as const), hart, line, off: fc.integer({ min: 0, max: 70 }) }),
      fc.record({ k: fc.constant('store' as const), hart, line, off: fc.integer({ min: 0, max: 70 }), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ k: fc.constant('evict' as const), hart, line, l2: fc.boolean() }),
      fc.record({ k: fc.constant('fill' as const), hart, line }),
      fc.record({ k: fc.constant('clean' as const), hart, line, l1: fc.boolean() }),
      fc.record({ k: fc.constant('flush' as const), hart, line, l1: fc.boolean() }),
      fc.record({ k: fc.constant('all' as const), hart, which: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { c, mem } = machine();
        const shadow = new Uint8Array(6 * 64).fill(POISON);
        for (const o of ops) {
          if (o.k === 'load' || o.k === 'store') {
            const pa = BASE + BigInt(o.line * 64 + o.off);
            const i = o.line * 64 + o.off;
            if (o.k === 'store') {
              c.store(o.hart, pa, Uint8Array.from([o.v, o.v ^ 0xff]));
              shadow[i] = o.v;
              shadow[i + 1] = o.v ^ 0xff;
            } else expect(c.load(o.hart, pa, 2)).toEqual(shadow.subarray(i, i + 2));
          } else if (o.k === 'evict') c.evictLine(o.hart, o.l2 ? 'L2' : 'L1', L + o.line);
          else if (o.k === 'fill') c.speculativeFill(o.hart, L + o.line);
          else if (o.k === 'clean') c.cleanLine(o.hart, L + o.line, o.l1 ? 'L1' : 'L1L2');
          else if (o.k === 'flush') c.flushLine(o.hart, L + o.line, o.l1 ? 'L1' : 'L1L2');
          else if (o.which === 0) c.l1CleanAll(o.hart);
          else if (o.which === 1) c.l1FlushAll(o.hart);
          else if (o.which === 2) c.l2FlushAll(c.clusterOf(o.hart));
          else c.l2CleanAll(c.clusterOf(o.hart));
          const bad = c.checkInvariants();
          if (bad !== null) throw new Error(bad);
        }
        expect(c.snoopRead(BASE, shadow.length)).toEqual(shadow);
        for (let h = 0; h < 4; h++) c.l1FlushAll(h);
        c.l2FlushAll(0);
        c.l2FlushAll(1);
        expect(c.lineCount).toBe(0);
        expect(mem.read(BASE, shadow.length)).toEqual(shadow);
      }),
      { numRuns: 200 },
    );
  });
});

describe('speculativeFill', () => {
  it('brings an absent line in Clean from memory, and leaves a present line alone', () => {
    const { c, mem } = machine();
    mem.write(BASE, bytes(1, 7));
    c.speculativeFill(2, L);
    expect(c.lineState(2, 'L1', L)).toBe('C');
    expect(c.lineBytes(1, 'L2', L)![0]).toBe(7);
    c.store(2, BASE, bytes(1, 8));
    c.speculativeFill(2, L);
    expect(c.lineState(2, 'L1', L)).toBe('D');
  });
});

describe('snooping device', () => {
  it('snoopRead sees dirty L1 and dirty L2 data without changing state', () => {
    const { c, mem } = dirtyLine();
    c.store(2, BASE + 64n, bytes(1, 0x33));
    c.evictLine(2, 'L1', L + 1); // L2(1) D
    const seen = c.snoopRead(BASE + 62n, 4);
    expect([...seen]).toEqual([0x11, 0x11, 0x33, POISON]);
    expect(c.lineState(0, 'L1', L)).toBe('D');
    expect(c.lineState(1, 'L2', L + 1)).toBe('D');
    expect(mem.read(BASE, 1)[0]).toBe(POISON);
  });

  it('snoopWrite keeps CPU bytes outside its range and later CPU loads see the device bytes', () => {
    const { c, mem } = dirtyLine();
    c.snoopWrite(BASE + 16n, bytes(8, 0x77));
    expect(c.lineState(0, 'L1', L)).toBe('I');
    expect([...mem.read(BASE + 14n, 4)]).toEqual([0x11, 0x11, 0x77, 0x77]);
    expect([...c.load(1, BASE + 23n, 2)]).toEqual([0x77, 0x11]);
  });
});

describe('inspection', () => {
  it('cachedLines lists every valid line with its level, place and state', () => {
    const { c } = dirtyLine();
    c.load(3, BASE + 128n, 1);
    const rows = [...c.cachedLines()].sort((a, b) => a.level.localeCompare(b.level) || a.where - b.where || a.line - b.line);
    expect(rows).toEqual([
      { level: 'L1', where: 0, line: L, state: 'D' },
      { level: 'L1', where: 3, line: L + 2, state: 'C' },
      { level: 'L2', where: 0, line: L, state: 'C' },
      { level: 'L2', where: 1, line: L + 2, state: 'C' },
    ]);
    expect(c.lineCount).toBe(4);
  });
});

describe('C906 (no L2)', () => {
  it('the L1 writes straight to memory; L2 operations are no-ops', () => {
    const { c, mem } = machine(C906_GEOMETRY);
    c.store(0, BASE, bytes(1, 9));
    expect(c.lineState(0, 'L2', L)).toBe('I');
    c.l2FlushAll(0);
    c.evictLine(0, 'L2', L);
    expect(c.lineState(0, 'L1', L)).toBe('D');
    c.cleanLine(0, L, 'L1'); // cval1 reaches memory when there is no L2 (spec §6: bug harmless on D1)
    expect(mem.read(BASE, 1)[0]).toBe(9);
    c.store(0, BASE, bytes(1, 10));
    c.evictLine(0, 'L1', L);
    expect(mem.read(BASE, 1)[0]).toBe(10);
  });
});

describe('nextLineInRange (range maintenance jumps over unheld lines)', () => {
  it('finds the lowest held line at any level and hart, or -1', () => {
    const m = machine();
    expect(m.c.nextLineInRange(L, L + 100)).toBe(-1);
    m.c.store(1, BASE + 64n * 7n, bytes(1, 1));
    m.c.load(0, BASE + 64n * 3n, 1);
    expect(m.c.nextLineInRange(L, L + 100)).toBe(L + 3);
    expect(m.c.nextLineInRange(L + 4, L + 100)).toBe(L + 7);
    expect(m.c.nextLineInRange(L + 8, L + 100)).toBe(-1);
    expect(m.c.nextLineInRange(L + 7, L + 7)).toBe(-1);
    // Narrow ranges scan the range instead of the held lines: same answers.
    expect(m.c.nextLineInRange(L + 7, L + 8)).toBe(L + 7);
    expect(m.c.nextLineInRange(L + 2, L + 4)).toBe(L + 3);
  });
});

describe('PhysMemory reads of untouched lines', () => {
  it('read poison or boot-zeroed bytes without making lines, and refuse non-RAM', () => {
    const mem = new PhysMemory([{ base: BASE, size: 0x10_0000n }]);
    mem.zeroLines(BASE + 0x1000n, 0x1000n);
    expect(Array.from(mem.read(BASE + 0xff0n, 32))).toEqual([...new Array(16).fill(POISON), ...new Array(16).fill(0)]);
    expect(mem.touchedLines).toBe(0);
    mem.write(BASE + 0x1000n, bytes(2, 9));
    expect(Array.from(mem.read(BASE + 0xfffn, 4))).toEqual([POISON, 9, 9, 0]);
    expect(() => mem.read(BASE + 0x10_0000n, 1)).toThrow(/outside RAM/);
    expect(() => mem.read(BASE - 1n, 1)).toThrow(/outside RAM/);
  });
});

describe('fast paths keep the slow paths meaning', () => {
  it('a whole-line write to an absent line is checked against RAM like any other', () => {
    const mem = new PhysMemory([{ base: BASE, size: 0x10_0000n }]);
    expect(() => mem.write(BASE + 0x10_0000n, bytes(64, 1))).toThrow(/outside RAM/);
    expect(mem.touchedLines).toBe(0);
    mem.write(BASE + 0x40n, bytes(64, 7));
    expect(Array.from(mem.read(BASE + 0x3fn, 66))).toEqual([POISON, ...new Array(64).fill(7), POISON]);
  });

  it('a whole-line store allocates the L2 line with the old bytes and the L1 line with the new ones', () => {
    const { mem, c } = machine();
    mem.write(BASE, bytes(64, 3));
    c.store(1, BASE, bytes(64, 9));
    expect(c.lineState(1, 'L1', L)).toBe('D');
    expect(Array.from(c.lineBytes(1, 'L1', L)!)).toEqual(new Array(64).fill(9));
    expect(c.lineState(0, 'L2', L)).toBe('C');
    expect(Array.from(c.lineBytes(0, 'L2', L)!)).toEqual(new Array(64).fill(3));
    // Dropping the L1 copy alone exposes the L2's (older) bytes, as on hardware.
    c.invalLine(0, L, 'L1');
    expect(Array.from(c.load(1, BASE, 2))).toEqual([3, 3]);
    expect(c.checkInvariants()).toBeNull();
  });

  it('a store or fill outside RAM leaves no line behind', () => {
    const { c } = machine();
    expect(() => c.store(0, BASE + 0x10_0000n, bytes(64, 1))).toThrow(/outside RAM/);
    expect(() => c.speculativeFill(3, lineOf(BASE + 0x10_0000n))).toThrow(/outside RAM/);
    expect(c.lineCount).toBe(0);
    expect(c.nextLineInRange(0, Number.MAX_SAFE_INTEGER)).toBe(-1);
    expect(c.checkInvariants()).toBeNull();
  });

  it('lineCount and nextLineInRange follow every copy made and dropped', () => {
    const { c } = machine();
    c.load(0, BASE + 0x80n, 1); // L1 h0 + L2 c0
    c.load(2, BASE + 0x80n, 1); // L1 h2 + L2 c1
    c.store(1, BASE + 0x1000n, bytes(1, 5)); // L1 h1 + L2 c0
    expect(c.lineCount).toBe(6);
    expect(c.nextLineInRange(L, L + 0x100)).toBe(L + 2);
    expect(c.nextLineInRange(L + 3, L + 0x100)).toBe(L + 0x40);
    c.flushLine(0, L + 2, 'L1');
    expect(c.lineCount).toBe(4);
    c.evictLine(1, 'L2', L + 0x40);
    expect(c.lineCount).toBe(2);
    c.l2FlushAll(1);
    c.l2FlushAll(0);
    expect(c.lineCount).toBe(0);
    expect(c.hasLineInRange(L, L + 0x100)).toBe(false);
    expect(c.checkInvariants()).toBeNull();
  });
});
