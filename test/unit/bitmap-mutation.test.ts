// Edge cases of reference/lib/bitmap.ts that the mutation run (npm run mutation)
// showed untested: trace names and nesting, branch notes, limits of the model's
// argument checks, ranges past the array, and __ALIGN_MASK beyond 2^32 and 2^53.
import { describe, expect, it } from 'vitest';
import {
  BITMAP_MAX_BITS,
  bitmapAlloc,
  bitmap_allocate_region,
  bitmap_clear,
  bitmap_find_free_region,
  bitmap_find_next_zero_area,
  bitmap_find_next_zero_area_off,
  bitmap_release_region,
  bitmap_set,
  find_next_bit,
  find_next_zero_bit,
  setBits,
  test_bit,
} from '../../reference/lib/bitmap.ts';
import { EBUSY, ENOMEM, ModelError } from '../../reference/types.ts';
import { traceCalls } from './trace-calls.ts';

function fromBits(nbits: number, set: number[]): Uint32Array {
  const m = bitmapAlloc(nbits);
  for (const b of set) setBits(m, b, 1); // untraced, so traces show only the call under test
  return m;
}

const full64 = () => Uint32Array.of(0xffffffff, 0xffffffff);

describe('trace: every kernel-named bitmap function enters under its name and exits', () => {
  const cases: [string, () => unknown, string[]][] = [
    ['find_next_bit', () => find_next_bit(fromBits(64, [5]), 64, 0), ['find_next_bit']],
    ['find_next_zero_bit', () => find_next_zero_bit(full64(), 64, 0), ['find_next_zero_bit']],
    ['bitmap_set', () => bitmap_set(bitmapAlloc(64), 3, 4), ['bitmap_set']],
    ['bitmap_clear', () => bitmap_clear(full64(), 3, 4), ['bitmap_clear']],
    ['test_bit', () => test_bit(3, bitmapAlloc(64)), ['test_bit']],
    [
      'bitmap_find_next_zero_area',
      () => bitmap_find_next_zero_area(bitmapAlloc(64), 64, 0, 4, 0),
      ['bitmap_find_next_zero_area', '  bitmap_find_next_zero_area_off'],
    ],
    [
      'bitmap_find_next_zero_area_off',
      () => bitmap_find_next_zero_area_off(bitmapAlloc(64), 64, 0, 4, 3, 1),
      ['bitmap_find_next_zero_area_off'],
    ],
    ['bitmap_find_free_region', () => bitmap_find_free_region(bitmapAlloc(64), 64, 2), ['bitmap_find_free_region']],
    ['bitmap_release_region', () => bitmap_release_region(full64(), 0, 2), ['bitmap_release_region']],
    ['bitmap_allocate_region', () => bitmap_allocate_region(bitmapAlloc(64), 0, 2), ['bitmap_allocate_region']],
  ];
  for (const [name, fn, calls] of cases) {
    it(name, () => {
      const r = traceCalls(fn);
      expect(r.calls).toEqual(calls);
      expect(r.depthAfter).toBe(0);
    });
  }
});

describe('branch notes', () => {
  it('a failed area search notes "no area: end > size"', () => {
    const r = traceCalls(() => bitmap_find_next_zero_area(fromBits(8, [0, 1, 2]), 8, 0, 6, 0));
    expect(r.result).toBe(9);
    expect(r.notes).toEqual(['no area: end > size']);
  });

  it('an area ending exactly at the end of the map is a plain success (no notes)', () => {
    const r = traceCalls(() => bitmap_find_next_zero_area(fromBits(8, [0, 1]), 8, 0, 6, 0));
    expect(r.result).toBe(2);
    expect(r.notes).toEqual([]);
    const f = traceCalls(() =>
      bitmap_find_next_zero_area(fromBits(8, [0, 1]), 8, 0, 6, 0, new Set(['bitmap-area-end-off-by-one'])),
    );
    expect(f.result).toBe(2);
    expect(f.notes).toEqual([]);
  });

  it('fault bitmap-area-end-off-by-one notes the area that ends past the map', () => {
    const r = traceCalls(() =>
      bitmap_find_next_zero_area(fromBits(8, [0, 1, 2]), 8, 0, 6, 0, new Set(['bitmap-area-end-off-by-one'])),
    );
    expect(r.result).toBe(3);
    expect(r.notes).toEqual(['fault: area ends past the map']);
  });

  it('bitmap_find_free_region notes "no free region"; bitmap_allocate_region notes "region busy"', () => {
    const a = traceCalls(() => bitmap_find_free_region(fromBits(8, [0, 4]), 8, 2));
    expect(a.result).toBe(-ENOMEM);
    expect(a.notes).toEqual(['no free region']);
    const b = traceCalls(() => bitmap_allocate_region(fromBits(8, [5]), 4, 2));
    expect(b.result).toBe(-EBUSY);
    expect(b.notes).toEqual(['region busy']);
  });
});

describe('model limits', () => {
  it('bitmapAlloc accepts BITMAP_MAX_BITS and refuses one more', () => {
    // 2^31 - 1 bits round up to 2^25 longs = 2^26 words (256 MiB, zero pages until touched).
    expect(bitmapAlloc(BITMAP_MAX_BITS).length).toBe(2 ** 26);
    expect(() => bitmapAlloc(BITMAP_MAX_BITS + 1)).toThrow(ModelError);
    expect(() => bitmapAlloc(-1)).toThrow(/bit count must be an integer in 0\.\.2\^31-1/);
  });

  it('region orders run 0..30; others are model misuse', () => {
    const m = full64();
    bitmap_release_region(m, 0, 30); // 2^30 bits from 0: the whole (short) map
    expect(Array.from(m)).toEqual([0, 0]);
    expect(bitmap_allocate_region(m, 0, 0)).toBe(0);
    for (const bad of [-1, 31, 1.5]) {
      expect(() => bitmap_find_free_region(bitmapAlloc(64), 64, bad)).toThrow(ModelError);
      expect(() => bitmap_release_region(bitmapAlloc(64), 0, bad)).toThrow(`bitmap region order ${bad} outside 0..30`);
    }
  });
});

describe('ranges at and past the end of the array', () => {
  it('find_next_zero_bit from an offset past the array returns that offset (bits there read zero)', () => {
    expect(find_next_zero_bit(full64(), 100, 70)).toBe(70);
    expect(find_next_zero_bit(full64(), 100, 64)).toBe(64);
    expect(find_next_zero_bit(full64(), 100, 99)).toBe(99);
  });

  it('bitmap_clear of an empty range, or of one past the array, changes nothing', () => {
    for (const [start, len] of [
      [32, 0],
      [0, 0],
      [64, 3],
      [100, 5],
      [33, 0],
    ]) {
      const m = full64();
      bitmap_clear(m, start, len);
      expect(Array.from(m), `clear(${start}, ${len})`).toEqual([0xffffffff, 0xffffffff]);
    }
  });

  it('bitmap_set of an empty range, or of one past the array, changes nothing', () => {
    for (const [start, len] of [
      [32, 0],
      [64, 3],
      [100, 5],
    ]) {
      const m = bitmapAlloc(64);
      bitmap_set(m, start, len);
      expect(Array.from(m), `set(${start}, ${len})`).toEqual([0, 0]);
    }
  });

  it('bitmap_find_free_region finds a region that fills the whole bitmap', () => {
    expect(bitmap_find_free_region(bitmapAlloc(4), 4, 2)).toBe(0);
    expect(bitmap_find_free_region(bitmapAlloc(64), 64, 6)).toBe(0);
    expect(bitmap_find_free_region(bitmapAlloc(64), 63, 6)).toBe(-ENOMEM);
  });
});

describe('__ALIGN_MASK stays exact where 32-bit and double arithmetic do not', () => {
  it('masks of 2^32 and 2^32 + 1 (bits above 31, not of the form 2^k - 1)', () => {
    const empty = bitmapAlloc(64);
    // (0 + 2^32) & ~2^32 = 0 and (1 + 2^32) & ~2^32 = 1
    expect(bitmap_find_next_zero_area(empty, 64, 0, 1, 2 ** 32)).toBe(0);
    expect(bitmap_find_next_zero_area(fromBits(64, [0]), 64, 0, 1, 2 ** 32)).toBe(1);
    // (0 + 2^32 + 1) & ~(2^32 + 1) = 0
    expect(bitmap_find_next_zero_area(empty, 64, 0, 1, 2 ** 32 + 1)).toBe(0);
    // (1 + 2^32 + 1) & ~(2^32 + 1) = 2
    expect(bitmap_find_next_zero_area(fromBits(64, [0]), 64, 0, 1, 2 ** 32 + 1)).toBe(2);
  });

  it('index + align_offset at 2^53: (2^53 + 3) & ~3 = 2^53, not the rounded double 2^53 + 4', () => {
    expect(bitmap_find_next_zero_area_off(bitmapAlloc(64), 64, 0, 1, 3, 2 ** 53)).toBe(0);
  });
});
