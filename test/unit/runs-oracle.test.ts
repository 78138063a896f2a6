// RunOracle answers exactly as BitOracle, the one-boolean-per-bit oracle it
// stands in for on maps of millions of bits; and GenPoolOracle uses it there.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BitOracle } from '../../model/oracle/bitscan.ts';
import { RunOracle } from '../../model/oracle/runs.ts';
import { GenPoolOracle } from '../../model/oracle/genpool-oracle.ts';

type Op =
  | { k: 'set' | 'clear'; start: number; len: number }
  | { k: 'fit'; start: number; nr: number; alignLog: number; off: number }
  | { k: 'clear?'; start: number; len: number };

describe('RunOracle', () => {
  it('agrees with BitOracle on set, clear, allClear, firstFit and holes', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constantFrom('set' as const, 'clear' as const), start: fc.nat({ max: 70 }), len: fc.nat({ max: 20 }) }),
      fc.record({ k: fc.constant('fit' as const), start: fc.nat({ max: 70 }), nr: fc.nat({ max: 24 }), alignLog: fc.nat({ max: 5 }), off: fc.nat({ max: 40 }) }),
      fc.record({ k: fc.constant('clear?' as const), start: fc.integer({ min: -2, max: 70 }), len: fc.nat({ max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(op, { maxLength: 40 }), (size, ops: Op[]) => {
        const b = new BitOracle(size);
        const r = new RunOracle(size);
        for (const o of ops) {
          if (o.k === 'set' || o.k === 'clear') {
            // The oracles' callers stay inside the map.
            const len = Math.min(o.len, Math.max(0, size - o.start));
            if (o.start >= size) continue;
            b[o.k](o.start, len);
            r[o.k](o.start, len);
          } else if (o.k === 'fit') {
            expect(r.firstFit(o.start, o.nr, 2 ** o.alignLog - 1, o.off)).toBe(b.firstFit(o.start, o.nr, 2 ** o.alignLog - 1, o.off));
          } else {
            expect(r.allClear(o.start, o.len)).toBe(b.allClear(o.start, o.len));
          }
          expect(r.holes()).toEqual(b.holes());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('merges touching runs and splits a run on a partial clear', () => {
    const r = new RunOracle(32);
    r.set(0, 4);
    r.set(4, 4);
    r.set(10, 2);
    expect(r.holes()).toEqual([
      { start: 8, len: 2 },
      { start: 12, len: 20 },
    ]);
    r.clear(2, 1);
    expect(r.allClear(2, 1)).toBe(true);
    expect(r.allClear(1, 2)).toBe(false);
    expect(r.firstFit(0, 2, 1, 0)).toBe(8);
    expect(r.firstFit(0, 2, 3, 1)).toBe(15);
  });

  it('GenPoolOracle keeps a 32 GiB chunk of 4 KiB granules as runs and allocates 4 GiB from it', () => {
    const o = new GenPoolOracle(12);
    o.addChunk(0x100_0000n, 0n, 32n << 30n);
    expect(o.chunks[0].bits).toBeInstanceOf(RunOracle);
    const a = o.alloc(4n << 30n, { algo: 'first_fit' })!;
    expect(a.addr).toBe(0x100_0000n);
    expect(o.chunks[0].avail).toBe(28n << 30n);
    const b = o.alloc(4096n, { algo: 'first_fit_order_align' })!;
    expect(b.addr).toBe(0x100_0000n + (4n << 30n));
    o.free(a);
    expect(o.alloc(8n << 30n, { algo: 'best_fit' })!.addr).toBe(0x100_0000n + (4n << 30n) + 4096n);
    const small = new GenPoolOracle(12);
    small.addChunk(0n, 0n, 1n << 20n);
    expect(small.chunks[0].bits).toBeInstanceOf(BitOracle);
  });
});
