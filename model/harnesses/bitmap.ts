// Refinement of reference/lib/bitmap.ts against the linear-scan oracle: random
// operation lists on one bitmap, every result and the whole map compared.

import fc from 'fast-check';
import type { Harness } from '../harness.ts';
import type { Profile } from '../../reference/config/profile.ts';
import {
  bitmapAlloc,
  bitmap_clear,
  bitmap_find_free_region,
  bitmap_find_next_zero_area_off,
  bitmap_release_region,
  bitmap_set,
  find_next_bit,
  find_next_zero_bit,
  test_bit,
} from '../../reference/lib/bitmap.ts';
import { BitOracle } from '../oracle/bitscan.ts';
import { ENOMEM } from '../../reference/types.ts';

export type BitmapOp =
  | { k: 'set'; start: number; len: number }
  | { k: 'clear'; start: number; len: number }
  | { k: 'area'; start: number; nr: number; alignOrder: number; offset: number }
  | { k: 'region'; order: number }
  | { k: 'release'; pos: number; order: number }
  | { k: 'next_bit'; from: number }
  | { k: 'next_zero'; from: number };

export interface BitmapState {
  size: number;
  map: Uint32Array;
  oracle: BitOracle;
  faults: ReadonlySet<string>;
  mismatch: string | null;
}

/** Map sizes straddle word boundaries on purpose: 1..200 bits. */
function sizeFor(profile: Profile): number {
  // Deterministic per profile; the sequence itself varies the contents.
  let h = 0;
  for (const c of profile.name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return 33 + (h % 160);
}

const clampRange = (size: number, start: number, len: number) => ({ s: start, l: Math.min(len, size - start) });

export const bitmapHarness: Harness<BitmapState, BitmapOp> = {
  name: 'bitmap',
  appliesTo: () => true,
  setup(profile) {
    const size = sizeFor(profile);
    return { size, map: bitmapAlloc(size), oracle: new BitOracle(size), faults: new Set(profile.faults), mismatch: null };
  },
  ops(profile) {
    const size = sizeFor(profile);
    const idx = fc.nat({ max: size - 1 });
    return fc.oneof(
      { weight: 3, arbitrary: fc.record({ k: fc.constant('set' as const), start: idx, len: fc.integer({ min: 1, max: 40 }) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('clear' as const), start: idx, len: fc.integer({ min: 1, max: 40 }) }) },
      {
        weight: 5,
        arbitrary: fc.record({
          k: fc.constant('area' as const),
          start: idx,
          nr: fc.integer({ min: 1, max: 24 }),
          alignOrder: fc.nat({ max: 5 }),
          offset: fc.nat({ max: 31 }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('region' as const), order: fc.nat({ max: 6 }) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('release' as const), pos: idx, order: fc.nat({ max: 6 }) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('next_bit' as const), from: idx }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('next_zero' as const), from: idx }) },
    );
  },
  apply(st, op) {
    const { size, map, oracle } = st;
    switch (op.k) {
      case 'set':
      case 'clear': {
        const { s, l } = clampRange(size, op.start, op.len);
        if (op.k === 'set') {
          bitmap_set(map, s, l);
          oracle.set(s, l);
        } else {
          bitmap_clear(map, s, l);
          oracle.clear(s, l);
        }
        break;
      }
      case 'area': {
        const start = op.start;
        const mask = (1 << op.alignOrder) - 1;
        const off = op.offset & mask;
        const got = bitmap_find_next_zero_area_off(map, size, start, op.nr, mask, off, st.faults);
        const want = oracle.firstFit(start, op.nr, mask, off);
        const ok = want === null ? got > size : got === want;
        if (!ok) {
          st.mismatch = `bitmap_find_next_zero_area_off(size=${size}, start=${start}, nr=${op.nr}, align_mask=${mask}, align_offset=${off}) returned ${got}, oracle: ${want === null ? `failure (> ${size})` : want}`;
          break;
        }
        if (want !== null) {
          bitmap_set(map, want, op.nr);
          oracle.set(want, op.nr);
        }
        break;
      }
      case 'region': {
        const got = bitmap_find_free_region(map, size, op.order);
        const n = 1 << op.order;
        let want: number = -ENOMEM;
        for (let pos = 0; pos + n <= size; pos += n) {
          if (oracle.allClear(pos, n)) {
            want = pos;
            break;
          }
        }
        if (got !== want) st.mismatch = `bitmap_find_free_region(bits=${size}, order=${op.order}) returned ${got}, oracle: ${want}`;
        else if (want >= 0) oracle.set(want, n);
        break;
      }
      case 'release': {
        const n = 1 << op.order;
        const pos = Math.floor(op.pos / n) * n;
        if (pos + n > size) break; // releasing past the map is a caller bug, not generated
        bitmap_release_region(map, pos, op.order);
        oracle.clear(pos, n);
        break;
      }
      case 'next_bit':
      case 'next_zero': {
        const from = op.from;
        const got = op.k === 'next_bit' ? find_next_bit(map, size, from) : find_next_zero_bit(map, size, from);
        const want = op.k === 'next_bit' ? oracle.nextSet(from) : oracle.nextZero(from);
        if (got !== want) st.mismatch = `${op.k === 'next_bit' ? 'find_next_bit' : 'find_next_zero_bit'}(size=${size}, offset=${from}) returned ${got}, oracle: ${want}`;
        break;
      }
    }
    if (st.mismatch === null) {
      for (let i = 0; i < size; i++) {
        if (test_bit(i, map) !== oracle.bits[i]) {
          st.mismatch = `bit ${i} is ${test_bit(i, map) ? 'set' : 'clear'} in the bitmap but ${oracle.bits[i] ? 'set' : 'clear'} in the oracle`;
          break;
        }
      }
    }
  },
  describe(op) {
    switch (op.k) {
      case 'set':
        return `bitmap_set(start=${op.start}, len=${op.len})`;
      case 'clear':
        return `bitmap_clear(start=${op.start}, len=${op.len})`;
      case 'area':
        return `bitmap_find_next_zero_area_off(start=${op.start}, nr=${op.nr}, align_mask=${(1 << op.alignOrder) - 1}, align_offset=${op.offset & ((1 << op.alignOrder) - 1)})`;
      case 'region':
        return `bitmap_find_free_region(order=${op.order})`;
      case 'release':
        return `bitmap_release_region(pos=${Math.floor(op.pos / (1 << op.order)) * (1 << op.order)}, order=${op.order})`;
      case 'next_bit':
        return `find_next_bit(offset=${op.from})`;
      case 'next_zero':
        return `find_next_zero_bit(offset=${op.from})`;
    }
  },
  invariants: [
    {
      name: 'refinement',
      description: 'bitmap results and contents equal the linear-scan oracle',
      check: (st) => st.mismatch,
    },
  ],
};
