// Bitmaps as the kernel's lib/bitmap.c, lib/find_bit.c and include/linux/bitmap.h
// see them, over a Uint32Array: bit i lives in word i >>> 5 at position i & 31.
// The kernel's words are 64-bit unsigned longs; only the layout of bits matters
// to every function here, so 32-bit words give the same answers.
//
// Bits past the end of the array read as zero and writes to them are dropped.
// Only a fault (bitmap-area-end-off-by-one) makes a caller look there; the
// kernel would read whatever follows its allocation, the model reads zero.
//
// Hot paths (find_next_bit and friends run millions of times in property tests)
// scan a word at a time and allocate nothing. Each kernel-named function traces
// itself once; inside, they call untraced camelCase cores (findNextBit, ...), so
// the trace shows bitmap_find_next_zero_area_off but not its inner word scans,
// and the scans do not pay for tracing (about 3x faster). Callers pass
// non-negative integer indices; they are not validated here for speed.

import { EBUSY, ENOMEM, ModelError } from '../types.ts';
import { kenter, kexit, knote } from '../trace.ts';

/** Largest bitmap the model builds: indices must stay below 2^31 for the word arithmetic. */
export const BITMAP_MAX_BITS = 0x7fffffff;

const TWO32 = 4294967296;

/**
 * A zeroed bitmap of nbits bits, sized like the kernel's
 * BITS_TO_LONGS(nbits) 64-bit longs, so the tail padding the kernel has is there too.
 */
export function bitmapAlloc(nbits: number): Uint32Array {
  if (!Number.isInteger(nbits) || nbits < 0 || nbits > BITMAP_MAX_BITS) {
    throw new ModelError(`bitmapAlloc(${nbits}): bit count must be an integer in 0..2^31-1`);
  }
  return new Uint32Array(Math.ceil(nbits / 64) * 2);
}

/** Index of the lowest set bit of a non-zero 32-bit word. */
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Untraced find_next_bit for hot loops; kernel-named callers trace once around it. */
export function findNextBit(map: Uint32Array, size: number, offset: number): number {
  if (offset >= size) return size;
  const lim = Math.min(size, map.length * 32);
  if (offset >= lim) return size;
  const lastW = (lim - 1) >>> 5;
  let w = offset >>> 5;
  let word = map[w] & (0xffffffff << (offset & 31));
  for (;;) {
    if (word !== 0) {
      const bit = w * 32 + ctz32(word);
      return bit < lim ? bit : size;
    }
    if (++w > lastW) return size;
    word = map[w];
  }
}

/** lib/find_bit.c find_next_bit (5.10, 6.6): first set bit in [offset, size), else size. */
export function find_next_bit(map: Uint32Array, size: number, offset: number): number {
  kenter('find_next_bit');
  try {
    return findNextBit(map, size, offset);
  } finally {
    kexit();
  }
}

/** Untraced find_next_zero_bit for hot loops. */
export function findNextZeroBit(map: Uint32Array, size: number, offset: number): number {
  if (offset >= size) return size;
  // Past the array every bit reads zero, so the array end is the answer if reached.
  const lim = Math.min(size, map.length * 32);
  if (offset >= lim) return offset;
  const lastW = (lim - 1) >>> 5;
  let w = offset >>> 5;
  let word = ~map[w] & (0xffffffff << (offset & 31));
  for (;;) {
    if (word !== 0) {
      const bit = w * 32 + ctz32(word);
      return bit < lim ? bit : lim;
    }
    if (++w > lastW) return lim;
    word = ~map[w];
  }
}

/** lib/find_bit.c find_next_zero_bit (5.10, 6.6): first clear bit in [offset, size), else size. */
export function find_next_zero_bit(map: Uint32Array, size: number, offset: number): number {
  kenter('find_next_zero_bit');
  try {
    return findNextZeroBit(map, size, offset);
  } finally {
    kexit();
  }
}

/** Mask of bits lo..hi (inclusive, both 0..31) of one word, as an int32. */
function spanMask(lo: number, hi: number): number {
  return (0xffffffff << lo) & (0xffffffff >>> (31 - hi));
}

/** Untraced bitmap_set for hot paths. */
export function setBits(map: Uint32Array, start: number, len: number): void {
  const end = Math.min(start + len, map.length * 32);
  if (start >= end) return;
  const w0 = start >>> 5;
  const w1 = (end - 1) >>> 5;
  if (w0 === w1) {
    map[w0] |= spanMask(start & 31, (end - 1) & 31);
    return;
  }
  map[w0] |= 0xffffffff << (start & 31);
  for (let w = w0 + 1; w < w1; w++) map[w] = 0xffffffff;
  map[w1] |= 0xffffffff >>> (31 - ((end - 1) & 31));
}

/** Untraced bitmap_clear for hot paths. */
export function clearBits(map: Uint32Array, start: number, len: number): void {
  const end = Math.min(start + len, map.length * 32);
  if (start >= end) return;
  const w0 = start >>> 5;
  const w1 = (end - 1) >>> 5;
  if (w0 === w1) {
    map[w0] &= ~spanMask(start & 31, (end - 1) & 31);
    return;
  }
  map[w0] &= ~(0xffffffff << (start & 31));
  for (let w = w0 + 1; w < w1; w++) map[w] = 0;
  map[w1] &= ~(0xffffffff >>> (31 - ((end - 1) & 31)));
}

/** include/linux/bitmap.h bitmap_set / lib/bitmap.c __bitmap_set (5.10, 6.6). */
export function bitmap_set(map: Uint32Array, start: number, len: number): void {
  kenter('bitmap_set');
  try {
    setBits(map, start, len);
  } finally {
    kexit();
  }
}

/** include/linux/bitmap.h bitmap_clear / lib/bitmap.c __bitmap_clear (5.10, 6.6). */
export function bitmap_clear(map: Uint32Array, start: number, len: number): void {
  kenter('bitmap_clear');
  try {
    clearBits(map, start, len);
  } finally {
    kexit();
  }
}

/** include/asm-generic/bitops test_bit (5.10, 6.6). */
export function test_bit(nr: number, map: Uint32Array): boolean {
  kenter('test_bit');
  try {
    const w = nr >>> 5;
    return w < map.length && ((map[w] >>> (nr & 31)) & 1) === 1;
  } finally {
    kexit();
  }
}

/**
 * include/linux/kernel.h __ALIGN_MASK(x, mask) = (x + mask) & ~mask in unsigned long.
 * JS bit operators are 32-bit signed, so values at or above 2^31 split into a high
 * part (untouched: mask < 2^32 has no high bits) and a low 32-bit part.
 */
function alignMaskUp(x: number, mask: number): number {
  const v = x + mask;
  if (v <= 0x7fffffff) return v & ~mask;
  if (mask < TWO32 && v <= Number.MAX_SAFE_INTEGER) {
    const lo = v % TWO32;
    return v - lo + ((lo & ~mask) >>> 0);
  }
  const m = BigInt(mask);
  return Number(BigInt.asUintN(64, (BigInt(x) + m) & ~m));
}

/**
 * lib/bitmap.c bitmap_find_next_zero_area_off (5.10, 6.6).
 * Returns the first index >= start where nr clear bits begin and
 * (index + align_offset) is aligned to align_mask; on failure a value > size
 * (the end of the first candidate that ran off the map), not size itself.
 */
export function bitmap_find_next_zero_area_off(
  map: Uint32Array,
  size: number,
  start: number,
  nr: number,
  align_mask: number,
  align_offset: number,
  faults?: ReadonlySet<string>,
): number {
  kenter('bitmap_find_next_zero_area_off');
  try {
    // Fault: an area ending one bit past the map is accepted.
    const limit = faults !== undefined && faults.has('bitmap-area-end-off-by-one') ? size + 1 : size;
    for (;;) {
      let index = findNextZeroBit(map, size, start);
      index = alignMaskUp(index + align_offset, align_mask) - align_offset;
      const end = index + nr;
      if (end > limit) {
        knote('no area: end > size');
        return end;
      }
      if (end > size) knote('fault: area ends past the map');
      const i = findNextBit(map, end, index);
      if (i >= end) return index;
      start = i + 1;
    }
  } finally {
    kexit();
  }
}

/** include/linux/bitmap.h bitmap_find_next_zero_area (5.10, 6.6): align_offset 0. */
export function bitmap_find_next_zero_area(
  map: Uint32Array,
  size: number,
  start: number,
  nr: number,
  align_mask: number,
  faults?: ReadonlySet<string>,
): number {
  kenter('bitmap_find_next_zero_area');
  try {
    return bitmap_find_next_zero_area_off(map, size, start, nr, align_mask, 0, faults);
  } finally {
    kexit();
  }
}

function regionOrder(order: number): number {
  // The kernel computes 1U << order; beyond 30 the model's indices would not fit.
  if (!Number.isInteger(order) || order < 0 || order > 30) {
    throw new ModelError(`bitmap region order ${order} outside 0..30`);
  }
  return 2 ** order;
}

/**
 * lib/bitmap.c bitmap_find_free_region (5.10; 6.6 assumed identical, see spec §6.2):
 * the first naturally aligned run of 2^order clear bits within bits, set; else -ENOMEM.
 * The kernel tries pos = 0, n, 2n, ... in turn; skipping straight past known set
 * bits gives the same first free region without testing each one.
 */
export function bitmap_find_free_region(bitmap: Uint32Array, bits: number, order: number): number {
  kenter('bitmap_find_free_region');
  try {
    const n = regionOrder(order);
    let pos = 0;
    while (pos + n <= bits) {
      const z = findNextZeroBit(bitmap, bits, pos);
      pos = z - (z % n);
      if (pos + n > bits) break;
      const i = findNextBit(bitmap, pos + n, pos);
      if (i >= pos + n) {
        setBits(bitmap, pos, n);
        return pos;
      }
      pos = i + 1 + ((n - ((i + 1) % n)) % n);
    }
    knote('no free region');
    return -ENOMEM;
  } finally {
    kexit();
  }
}

/** lib/bitmap.c bitmap_release_region (5.10, 6.6): clear 2^order bits at pos, unconditionally. */
export function bitmap_release_region(bitmap: Uint32Array, pos: number, order: number): void {
  kenter('bitmap_release_region');
  try {
    clearBits(bitmap, pos, regionOrder(order));
  } finally {
    kexit();
  }
}

/** lib/bitmap.c bitmap_allocate_region (5.10, 6.6): 0, or -EBUSY if any bit of the region is set. */
export function bitmap_allocate_region(bitmap: Uint32Array, pos: number, order: number): number {
  kenter('bitmap_allocate_region');
  try {
    const n = regionOrder(order);
    if (findNextBit(bitmap, pos + n, pos) < pos + n) {
      knote('region busy');
      return -EBUSY;
    }
    setBits(bitmap, pos, n);
    return 0;
  } finally {
    kexit();
  }
}
