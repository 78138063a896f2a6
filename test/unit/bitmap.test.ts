import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
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
  test_bit,
} from '../../reference/lib/bitmap.ts';
import { EBUSY, ENOMEM, ModelError } from '../../reference/types.ts';

const OFF_BY_ONE: ReadonlySet<string> = new Set(['bitmap-area-end-off-by-one']);

function fromBits(nbits: number, set: readonly number[]): Uint32Array {
  const m = bitmapAlloc(nbits);
  for (const b of set) bitmap_set(m, b, 1);
  return m;
}

function naiveBit(map: Uint32Array, i: number): boolean {
  return ((map[i >>> 5] >>> (i & 31)) & 1) === 1;
}

function naiveNext(map: Uint32Array, size: number, offset: number, want: boolean): number {
  for (let i = offset; i < size; i++) if (naiveBit(map, i) === want) return i;
  return size;
}

/** The kernel loop written with single-bit tests only, as a cross-check. */
function naiveArea(map: Uint32Array, size: number, start: number, nr: number, mask: number, off: number): number {
  for (;;) {
    let index = naiveNext(map, size, start, false);
    index = Math.floor((index + off + mask) / (mask + 1)) * (mask + 1) - off;
    const end = index + nr;
    if (end > size) return end;
    const i = naiveNext(map, end, index, true);
    if (i >= end) return index;
    start = i + 1;
  }
}

const bitmapArb = fc
  .integer({ min: 1, max: 300 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }),
      fc.integer({ min: 0, max: n + 40 }),
    ),
  );

describe('bitmapAlloc', () => {
  it('sizes like the kernel array of 64-bit longs, zeroed', () => {
    expect(bitmapAlloc(0).length).toBe(0);
    expect(bitmapAlloc(1).length).toBe(2);
    expect(bitmapAlloc(64).length).toBe(2);
    expect(bitmapAlloc(65).length).toBe(4);
    expect(bitmapAlloc(100).every((w) => w === 0)).toBe(true);
    expect(() => bitmapAlloc(-1)).toThrow(ModelError);
    expect(() => bitmapAlloc(2 ** 31)).toThrow(ModelError);
  });
});

describe('find_next_bit / find_next_zero_bit', () => {
  it('finds bits across word boundaries and returns size when none', () => {
    const m = fromBits(100, [3, 31, 32, 63, 64, 99]);
    expect(find_next_bit(m, 100, 0)).toBe(3);
    expect(find_next_bit(m, 100, 4)).toBe(31);
    expect(find_next_bit(m, 100, 33)).toBe(63);
    expect(find_next_bit(m, 100, 65)).toBe(99);
    expect(find_next_bit(m, 99, 65)).toBe(99); // bit 99 is outside size 99
    expect(find_next_bit(m, 90, 65)).toBe(90);
    expect(find_next_zero_bit(m, 100, 31)).toBe(33);
    expect(find_next_zero_bit(m, 100, 63)).toBe(65);
  });

  it('returns size when offset >= size', () => {
    const m = fromBits(64, [10]);
    expect(find_next_bit(m, 10, 10)).toBe(10);
    expect(find_next_bit(m, 10, 50)).toBe(10);
    expect(find_next_zero_bit(m, 10, 11)).toBe(10);
  });

  it('finds bit 31 (the sign bit of a word)', () => {
    const m = fromBits(64, [31]);
    expect(find_next_bit(m, 64, 0)).toBe(31);
    const full = bitmapAlloc(64);
    bitmap_set(full, 0, 64);
    bitmap_clear(full, 31, 1);
    expect(find_next_zero_bit(full, 64, 0)).toBe(31);
    expect(find_next_zero_bit(full, 64, 32)).toBe(64);
  });

  it('reads bits past the array as zero', () => {
    const m = bitmapAlloc(64);
    bitmap_set(m, 0, 64);
    expect(find_next_bit(m, 80, 60)).toBe(60);
    expect(find_next_bit(m, 80, 64)).toBe(80);
    expect(find_next_zero_bit(m, 80, 10)).toBe(64);
    expect(test_bit(70, m)).toBe(false);
  });

  it('agrees with a linear scan on random bitmaps', () => {
    fc.assert(
      fc.property(bitmapArb, ([n, set, offset]) => {
        const m = fromBits(n, set);
        for (const size of [n, Math.max(0, n - 7)]) {
          expect(find_next_bit(m, size, offset)).toBe(naiveNext(m, size, offset, true));
          expect(find_next_zero_bit(m, size, offset)).toBe(naiveNext(m, size, offset, false));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('bitmap_set / bitmap_clear / test_bit', () => {
  it('sets and clears runs inside one word and across many', () => {
    const m = bitmapAlloc(200);
    bitmap_set(m, 5, 3);
    expect([4, 5, 6, 7, 8].map((i) => test_bit(i, m))).toEqual([false, true, true, true, false]);
    bitmap_set(m, 30, 100);
    expect(find_next_bit(m, 200, 8)).toBe(30);
    expect(find_next_zero_bit(m, 200, 30)).toBe(130);
    bitmap_clear(m, 31, 98);
    expect(test_bit(30, m)).toBe(true);
    expect(test_bit(31, m)).toBe(false);
    expect(test_bit(128, m)).toBe(false);
    expect(test_bit(129, m)).toBe(true);
    bitmap_set(m, 64, 0);
    expect(test_bit(64, m)).toBe(false);
  });

  it('matches single-bit updates on random runs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 150 }), fc.integer({ min: 0, max: 80 })), {
          maxLength: 12,
        }),
        (ops) => {
          const m = bitmapAlloc(200);
          const ref: boolean[] = new Array<boolean>(256).fill(false);
          for (const [set, start, len] of ops) {
            if (set) bitmap_set(m, start, len);
            else bitmap_clear(m, start, len);
            for (let i = start; i < start + len; i++) ref[i] = set;
          }
          for (let i = 0; i < 256; i++) expect(test_bit(i, m)).toBe(ref[i]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('bitmap_find_next_zero_area_off', () => {
  it('finds the first fitting run after set bits', () => {
    const m = fromBits(64, [0, 1, 5]);
    expect(bitmap_find_next_zero_area(m, 64, 0, 3, 0)).toBe(2);
    expect(bitmap_find_next_zero_area(m, 64, 0, 4, 0)).toBe(6);
    expect(bitmap_find_next_zero_area(m, 64, 3, 1, 0)).toBe(3);
  });

  it('returns end (> size), not size, when the area runs off the map', () => {
    const m = fromBits(16, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // first free bit 12, 12 + 6 = 18 > 16
    expect(bitmap_find_next_zero_area(m, 16, 0, 6, 0)).toBe(18);
    expect(bitmap_find_next_zero_area(m, 16, 0, 4, 0)).toBe(12);
    // full map: index = size, end = size + nr
    const full = fromBits(16, [...Array(16).keys()]);
    expect(bitmap_find_next_zero_area(full, 16, 0, 3, 0)).toBe(19);
    // alignment pushes the candidate off the map
    const m2 = fromBits(16, [0]);
    expect(bitmap_find_next_zero_area(m2, 16, 0, 4, 15)).toBe(20);
  });

  it('aligns index + align_offset to align_mask (CMA offset example, spec D4)', () => {
    const m = bitmapAlloc(0x2000);
    // map base at pfn 0x400, 16 MiB alignment (mask 0xfff): correct offset 0x400
    const idx = bitmap_find_next_zero_area_off(m, 0x2000, 0, 1, 0xfff, 0x400);
    expect(idx).toBe(0xc00);
    expect((0x400 + idx) % 0x1000).toBe(0);
    // the buggy "distance to next boundary" offset yields pfn 0x800, not aligned
    expect(bitmap_find_next_zero_area_off(m, 0x2000, 0, 1, 0xfff, 0xc00)).toBe(0x400);
  });

  it('keeps the exact bitwise __ALIGN_MASK for masks that are not 2^k - 1', () => {
    const m = fromBits(64, [0]);
    // (1 + 2) & ~2 = 1
    expect(bitmap_find_next_zero_area(m, 64, 0, 3, 2)).toBe(1);
    const m2 = fromBits(64, [0, 1, 2]);
    // (3 + 2) & ~2 = 5
    expect(bitmap_find_next_zero_area(m2, 64, 0, 1, 2)).toBe(5);
  });

  it('is exact for align masks at and beyond 2^31', () => {
    const m = fromBits(64, [0]);
    expect(bitmap_find_next_zero_area(m, 64, 0, 4, 0x7fffffff)).toBe(2 ** 31 + 4);
    expect(bitmap_find_next_zero_area(bitmapAlloc(64), 64, 0, 4, 0x7fffffff)).toBe(0);
    // align_offset moves a huge mask back into the map: (1 + 0x7fffffff + 0x7fffffff) & ~mask = 2^31
    expect(bitmap_find_next_zero_area_off(m, 64, 0, 4, 0x7fffffff, 0x7fffffff)).toBe(1);
    expect(bitmap_find_next_zero_area(m, 64, 0, 1, 0xffffffff)).toBe(2 ** 32 + 1);
    expect(bitmap_find_next_zero_area(m, 64, 0, 1, 2 ** 33 - 1)).toBe(2 ** 33 + 1);
  });

  it('nr = 0 returns the first free (aligned) index', () => {
    expect(bitmap_find_next_zero_area(fromBits(8, [0, 1]), 8, 0, 0, 0)).toBe(2);
  });

  it('agrees with a single-bit rendition of the kernel loop', () => {
    fc.assert(
      fc.property(
        bitmapArb,
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 40 }),
        ([n, set, start], nr, maskOrder, off) => {
          const m = fromBits(n, set);
          const mask = 2 ** maskOrder - 1;
          expect(bitmap_find_next_zero_area_off(m, n, start, nr, mask, off)).toBe(naiveArea(m, n, start, nr, mask, off));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fault bitmap-area-end-off-by-one accepts an area one bit past the end', () => {
    const m = fromBits(8, [0, 1, 2, 3, 4]);
    expect(bitmap_find_next_zero_area(m, 8, 0, 4, 0)).toBe(9);
    expect(bitmap_find_next_zero_area(m, 8, 0, 4, 0, OFF_BY_ONE)).toBe(5);
    // two past the end is still refused
    expect(bitmap_find_next_zero_area(m, 8, 0, 5, 0, OFF_BY_ONE)).toBe(10);
    // an exactly fitting area is unaffected
    expect(bitmap_find_next_zero_area(m, 8, 0, 3, 0, OFF_BY_ONE)).toBe(5);
  });
});

describe('bitmap regions', () => {
  it('bitmap_find_free_region hands out aligned regions until exhausted', () => {
    const m = bitmapAlloc(16);
    expect(bitmap_find_free_region(m, 16, 2)).toBe(0);
    expect(bitmap_find_free_region(m, 16, 2)).toBe(4);
    expect(bitmap_find_free_region(m, 16, 2)).toBe(8);
    expect(bitmap_find_free_region(m, 16, 2)).toBe(12);
    expect(bitmap_find_free_region(m, 16, 2)).toBe(-ENOMEM);
    expect(find_next_zero_bit(m, 16, 0)).toBe(16);
    bitmap_release_region(m, 8, 2);
    expect(find_next_bit(m, 16, 8)).toBe(12);
    expect(bitmap_find_free_region(m, 16, 1)).toBe(8);
    expect(bitmap_find_free_region(m, 16, 1)).toBe(10);
    expect(bitmap_find_free_region(m, 16, 0)).toBe(-ENOMEM);
  });

  it('skips regions holding any set bit and ignores a partial tail region', () => {
    const m = fromBits(20, [5]);
    // regions of 4: [0,4) free
    expect(bitmap_find_free_region(m, 20, 2)).toBe(0);
    // [4,8) holds bit 5 -> [8,12)
    expect(bitmap_find_free_region(m, 20, 2)).toBe(8);
    // order 3 (8 bits): [0,8) and [8,16) busy, [16,24) exceeds 20 bits
    expect(bitmap_find_free_region(m, 20, 3)).toBe(-ENOMEM);
  });

  it('works on whole words for large orders', () => {
    const m = fromBits(256, [70]);
    expect(bitmap_find_free_region(m, 256, 6)).toBe(0);
    expect(bitmap_find_free_region(m, 256, 6)).toBe(128);
    expect(bitmap_find_free_region(m, 256, 6)).toBe(192);
    expect(bitmap_find_free_region(m, 256, 6)).toBe(-ENOMEM);
  });

  it('agrees with the kernel pos-by-pos loop', () => {
    fc.assert(
      fc.property(bitmapArb, fc.integer({ min: 0, max: 6 }), ([n, set], order) => {
        const m = fromBits(n, set);
        const r = 2 ** order;
        let expected = -ENOMEM;
        for (let pos = 0; pos + r <= n; pos += r) {
          if (naiveNext(m, pos + r, pos, true) >= pos + r) {
            expected = pos;
            break;
          }
        }
        expect(bitmap_find_free_region(m, n, order)).toBe(expected);
        if (expected >= 0) expect(find_next_zero_bit(m, expected + r, expected)).toBe(expected + r);
      }),
      { numRuns: 300 },
    );
  });

  it('bitmap_allocate_region is 0 or -EBUSY', () => {
    const m = fromBits(32, [9]);
    expect(bitmap_allocate_region(m, 8, 2)).toBe(-EBUSY);
    expect(test_bit(8, m)).toBe(false);
    expect(bitmap_allocate_region(m, 12, 2)).toBe(0);
    expect(find_next_bit(m, 32, 10)).toBe(12);
    expect(find_next_zero_bit(m, 32, 12)).toBe(16);
    expect(bitmap_allocate_region(m, 12, 1)).toBe(-EBUSY);
    bitmap_release_region(m, 12, 2);
    expect(find_next_bit(m, 32, 10)).toBe(32);
    expect(() => bitmap_allocate_region(m, 0, 31)).toThrow(ModelError);
  });
});
