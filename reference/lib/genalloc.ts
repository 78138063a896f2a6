// lib/genalloc.c: the general-purpose special-memory allocator behind the DMA
// atomic pools and per-device coherent pools. A pool is a list of chunks, each
// a run of addresses with one bitmap bit per 2^min_alloc_order bytes.
//
// Single-threaded model: the kernel's lock-free bitmap_set_ll/bitmap_clear_ll
// retry path (a concurrent allocator won the race) never runs, and RCU list
// walks are plain array walks. Chunk bitmaps are never really allocated, so
// gen_pool_add_owner never returns -ENOMEM here.
//
// Version difference modelled (historic bug D2, fixed in v5.11-rc3 by
// 36845663843f): 5.10 kept nbits in an int, so the byte count nbits << order
// added to or taken from chunk->avail was computed in 32-bit int and
// sign-extended. Allocations of 2 GiB or more corrupt avail on 5.10 only.
// 5.10 here means v5.10 as released; whether a given 5.10.y vendor tree carries
// the backport is not known to the model.

import type { KernelVersion } from '../config/profile.ts';
import { KernelBug, ModelError, U64_MAX, hex, roundup_pow_of_two, u64 } from '../types.ts';
import { kenter, kexit, knote } from '../trace.ts';
import {
  BITMAP_MAX_BITS,
  bitmapAlloc,
  bitmap_find_next_zero_area,
  bitmap_find_next_zero_area_off,
  clearBits,
  findNextBit,
  findNextZeroBit,
  find_next_bit,
  setBits,
} from './bitmap.ts';

/** include/linux/genalloc.h genpool_algo_t: returns a start bit, or >= size for "no room". */
export type GenpoolAlgo = (
  map: Uint32Array,
  size: number,
  start: number,
  nr: number,
  data: unknown,
  pool: GenPool,
  start_addr: bigint,
) => number;

/** include/linux/genalloc.h struct gen_pool_chunk. */
export interface GenPoolChunk {
  phys_addr: bigint;
  start_addr: bigint;
  /** Inclusive: start_addr + size - 1 (the historic D3 fix). */
  end_addr: bigint;
  /** Free bytes, unrounded as the kernel keeps it; held as the u64 the kernel's size_t comparisons see. */
  avail: bigint;
  owner: unknown;
  bits: Uint32Array;
  nbits: number;
}

/** include/linux/genalloc.h struct gen_pool. */
export interface GenPool {
  min_alloc_order: number;
  algo: GenpoolAlgo;
  data: unknown;
  name: string | null;
  /** Kernel list order: newest chunk first. */
  chunks: GenPoolChunk[];
  faults: ReadonlySet<string>;
  nid: number;
  /** Selects the 5.10 int arithmetic of historic bug D2. */
  kernel: KernelVersion;
}

/** include/linux/genalloc.h struct genpool_data_align. */
export interface GenpoolDataAlign {
  align: number;
}

/** include/linux/genalloc.h struct genpool_data_fixed. */
export interface GenpoolDataFixed {
  offset: number;
}

export interface OwnerOut {
  owner: unknown;
}

export interface DmaOut {
  dma: bigint;
}

const NO_FAULTS: ReadonlySet<string> = new Set<string>();

/** lib/genalloc.c chunk_size (5.10, 6.6). */
export function chunk_size(chunk: GenPoolChunk): bigint {
  return u64(chunk.end_addr - chunk.start_addr + 1n);
}

/** Bytes that nbits units stand for when avail is adjusted: nbits << order. */
function unitsToBytes(pool: GenPool, nbits: number): bigint {
  const bytes = BigInt(nbits) << BigInt(pool.min_alloc_order);
  if (pool.kernel === '5.10') {
    // 5.10: int nbits, so the shift happens in int and is sign-extended into size_t (D2).
    const wrapped = u64(BigInt.asIntN(32, bytes));
    if (wrapped !== bytes) knote('5.10: nbits << order overflowed int');
    return wrapped;
  }
  // 6.6: unsigned long nbits, exact.
  return bytes;
}

/** Kernel nbits for a byte size: round up to whole units, in size_t. */
function sizeToUnits(pool: GenPool, size: bigint): number {
  const ord = BigInt(pool.min_alloc_order);
  return Number(u64(size + (1n << ord) - 1n) >> ord);
}

/** lib/genalloc.c gen_pool_create (5.10, 6.6); the model never fails the kmalloc. */
export function gen_pool_create(
  min_alloc_order: number,
  nid: number,
  faults: ReadonlySet<string> = NO_FAULTS,
  kernel: KernelVersion = '6.6',
): GenPool {
  kenter('gen_pool_create');
  try {
    if (!Number.isInteger(min_alloc_order) || min_alloc_order < 0 || min_alloc_order > 40) {
      throw new ModelError(`gen_pool_create: min_alloc_order ${min_alloc_order} outside 0..40`);
    }
    return {
      min_alloc_order,
      algo: gen_pool_first_fit,
      data: null,
      name: null,
      chunks: [],
      faults,
      nid,
      kernel,
    };
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_add_owner (5.10, 6.6): 0 (the model never fails the vzalloc). */
export function gen_pool_add_owner(
  pool: GenPool,
  virt: bigint,
  phys: bigint,
  size: bigint,
  nid: number,
  owner: unknown,
): number {
  kenter('gen_pool_add_owner');
  try {
    if (size < 0n || virt < 0n) throw new ModelError('gen_pool_add_owner: negative address or size');
    const nbits = size >> BigInt(pool.min_alloc_order);
    if (nbits > BigInt(BITMAP_MAX_BITS)) {
      throw new ModelError(`gen_pool_add_owner: ${nbits} bits exceed the model's bitmap limit`);
    }
    const n = Number(nbits);
    pool.chunks.unshift({
      phys_addr: u64(phys),
      start_addr: virt,
      end_addr: u64(virt + size - 1n),
      avail: size,
      owner,
      bits: bitmapAlloc(n),
      nbits: n,
    });
    return 0;
  } finally {
    kexit();
  }
}

/** include/linux/genalloc.h gen_pool_add_virt (5.10, 6.6): no owner. */
export function gen_pool_add_virt(pool: GenPool, virt: bigint, phys: bigint, size: bigint, nid: number): number {
  kenter('gen_pool_add_virt');
  try {
    return gen_pool_add_owner(pool, virt, phys, size, nid, null);
  } finally {
    kexit();
  }
}

/** include/linux/genalloc.h gen_pool_add (5.10, 6.6): phys = -1. */
export function gen_pool_add(pool: GenPool, addr: bigint, size: bigint, nid: number): number {
  kenter('gen_pool_add');
  try {
    return gen_pool_add_virt(pool, addr, U64_MAX, size, nid);
  } finally {
    kexit();
  }
}

/**
 * lib/genalloc.c bitmap_set_ll (5.10, 6.6): set nr bits at start, or return the
 * count it could not set. All or nothing here: the kernel's partial, word-by-word effect only
 * shows on a lost race, which the single-threaded model never has.
 */
function bitmap_set_ll(map: Uint32Array, start: number, nr: number): number {
  kenter('bitmap_set_ll');
  try {
    if (findNextBit(map, start + nr, start) < start + nr) return nr;
    setBits(map, start, nr);
    return 0;
  } finally {
    kexit();
  }
}

/**
 * lib/genalloc.c bitmap_clear_ll (5.10, 6.6): clear nr bits at start, or return
 * the count left when a bit was already clear. All or nothing here; the caller BUGs on failure,
 * so the kernel's partly cleared words are never looked at again.
 */
function bitmap_clear_ll(map: Uint32Array, start: number, nr: number): number {
  kenter('bitmap_clear_ll');
  try {
    if (findNextZeroBit(map, start + nr, start) < start + nr) return nr;
    clearBits(map, start, nr);
    return 0;
  } finally {
    kexit();
  }
}

/**
 * lib/genalloc.c gen_pool_alloc_algo_owner (5.10, 6.6): an address, or 0n.
 * Chunks are tried newest first; a chunk whose avail is below the unrounded
 * size is skipped without looking at its bitmap.
 */
export function gen_pool_alloc_algo_owner(
  pool: GenPool,
  size: bigint,
  algo: GenpoolAlgo,
  data: unknown,
  ownerOut?: OwnerOut | null,
): bigint {
  kenter('gen_pool_alloc_algo_owner');
  try {
    if (ownerOut) ownerOut.owner = null;
    if (size === 0n) return 0n;
    const ord = BigInt(pool.min_alloc_order);
    const nbits = sizeToUnits(pool, size);
    for (const chunk of pool.chunks) {
      if (size > chunk.avail) {
        knote('skip chunk: size > avail');
        continue;
      }
      const end_bit = Number(chunk_size(chunk) >> ord);
      const start_bit = algo(chunk.bits, end_bit, 0, nbits, data, pool, chunk.start_addr);
      if (start_bit >= end_bit) {
        knote('no room in chunk');
        continue;
      }
      if (bitmap_set_ll(chunk.bits, start_bit, nbits) !== 0) {
        // The kernel would retry the algorithm from start_bit, and a deterministic
        // algorithm that returned a busy area returns it again: a livelock.
        throw new ModelError(`gen_pool algorithm ${algo.name} returned busy bits at ${start_bit}`);
      }
      if (pool.faults.has('genalloc-avail-not-decremented')) {
        knote('fault: avail not decremented');
      } else {
        chunk.avail = u64(chunk.avail - unitsToBytes(pool, nbits));
      }
      if (ownerOut) ownerOut.owner = chunk.owner;
      return u64(chunk.start_addr + (BigInt(start_bit) << ord));
    }
    return 0n;
  } finally {
    kexit();
  }
}

/** include/linux/genalloc.h gen_pool_alloc_algo (5.10, 6.6). */
export function gen_pool_alloc_algo(pool: GenPool, size: bigint, algo: GenpoolAlgo, data: unknown): bigint {
  kenter('gen_pool_alloc_algo');
  try {
    return gen_pool_alloc_algo_owner(pool, size, algo, data, null);
  } finally {
    kexit();
  }
}

/** include/linux/genalloc.h gen_pool_alloc_owner (5.10, 6.6). */
export function gen_pool_alloc_owner(pool: GenPool, size: bigint, ownerOut: OwnerOut | null): bigint {
  kenter('gen_pool_alloc_owner');
  try {
    return gen_pool_alloc_algo_owner(pool, size, pool.algo, pool.data, ownerOut);
  } finally {
    kexit();
  }
}

/** include/linux/genalloc.h gen_pool_alloc (5.10, 6.6): the pool's own algorithm. */
export function gen_pool_alloc(pool: GenPool, size: bigint): bigint {
  kenter('gen_pool_alloc');
  try {
    return gen_pool_alloc_algo_owner(pool, size, pool.algo, pool.data, null);
  } finally {
    kexit();
  }
}

/**
 * lib/genalloc.c gen_pool_dma_alloc_algo (5.10, 6.6): the address or null; dma gets
 * gen_pool_virt_to_phys of it. A null pool gives null.
 */
export function gen_pool_dma_alloc_algo(
  pool: GenPool | null,
  size: bigint,
  dmaOut: DmaOut | null,
  algo: GenpoolAlgo,
  data: unknown,
): bigint | null {
  kenter('gen_pool_dma_alloc_algo');
  try {
    if (pool === null) return null;
    const vaddr = gen_pool_alloc_algo(pool, size, algo, data);
    if (vaddr === 0n) return null;
    if (dmaOut) dmaOut.dma = gen_pool_virt_to_phys(pool, vaddr);
    return vaddr;
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_dma_alloc (5.10, 6.6): the pool's own algorithm. */
export function gen_pool_dma_alloc(pool: GenPool, size: bigint, dmaOut: DmaOut | null): bigint | null {
  kenter('gen_pool_dma_alloc');
  try {
    return gen_pool_dma_alloc_algo(pool, size, dmaOut, pool.algo, pool.data);
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_dma_alloc_align (5.10, 6.6): first_fit_align with align bytes. */
export function gen_pool_dma_alloc_align(
  pool: GenPool | null,
  size: bigint,
  dmaOut: DmaOut | null,
  align: number,
): bigint | null {
  kenter('gen_pool_dma_alloc_align');
  try {
    const data: GenpoolDataAlign = { align };
    return gen_pool_dma_alloc_algo(pool, size, dmaOut, gen_pool_first_fit_align, data);
  } finally {
    kexit();
  }
}

/**
 * lib/genalloc.c gen_pool_free_owner (5.10, 6.6). BUG if addr lies in no chunk,
 * if the range runs past its chunk's end, or if any of its bits is already clear.
 */
export function gen_pool_free_owner(pool: GenPool, addr: bigint, size: bigint, ownerOut?: OwnerOut | null): void {
  kenter('gen_pool_free_owner');
  try {
    if (ownerOut) ownerOut.owner = null;
    const ord = BigInt(pool.min_alloc_order);
    const nbits = sizeToUnits(pool, size);
    for (const chunk of pool.chunks) {
      if (addr < chunk.start_addr || addr > chunk.end_addr) continue;
      if (u64(addr + size - 1n) > chunk.end_addr) {
        throw new KernelBug(`gen_pool_free: ${hex(addr)}+${hex(size)} runs past chunk end ${hex(chunk.end_addr)}`);
      }
      const start_bit = Number((addr - chunk.start_addr) >> ord);
      if (bitmap_clear_ll(chunk.bits, start_bit, nbits) !== 0) {
        throw new KernelBug(`gen_pool_free: ${hex(addr)}+${hex(size)} frees bits that are not allocated`);
      }
      chunk.avail = u64(chunk.avail + unitsToBytes(pool, nbits));
      if (ownerOut) ownerOut.owner = chunk.owner;
      return;
    }
    throw new KernelBug(`gen_pool_free: ${hex(addr)} is in no chunk of the pool`);
  } finally {
    kexit();
  }
}

/** include/linux/genalloc.h gen_pool_free (5.10, 6.6). */
export function gen_pool_free(pool: GenPool, addr: bigint, size: bigint): void {
  kenter('gen_pool_free');
  try {
    gen_pool_free_owner(pool, addr, size, null);
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_for_each_chunk (5.10, 6.6). */
export function gen_pool_for_each_chunk<D = undefined>(
  pool: GenPool,
  func: (pool: GenPool, chunk: GenPoolChunk, data: D) => void,
  data?: D,
): void {
  kenter('gen_pool_for_each_chunk');
  try {
    for (const chunk of pool.chunks) func(pool, chunk, data as D);
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_has_addr (5.10, 6.6): whole range inside one chunk. */
export function gen_pool_has_addr(pool: GenPool, start: bigint, size: bigint): boolean {
  kenter('gen_pool_has_addr');
  try {
    const end = u64(start + size - 1n);
    for (const chunk of pool.chunks) {
      if (start >= chunk.start_addr && start <= chunk.end_addr) {
        if (end <= chunk.end_addr) return true;
      }
    }
    return false;
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_avail (5.10, 6.6): sum of chunk avail, in size_t. */
export function gen_pool_avail(pool: GenPool): bigint {
  kenter('gen_pool_avail');
  try {
    let avail = 0n;
    for (const chunk of pool.chunks) avail += chunk.avail;
    return u64(avail);
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_size (5.10, 6.6): sum of chunk sizes, in size_t. */
export function gen_pool_size(pool: GenPool): bigint {
  kenter('gen_pool_size');
  try {
    let size = 0n;
    for (const chunk of pool.chunks) size += chunk_size(chunk);
    return u64(size);
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_set_algo (5.10, 6.6): null means first fit. */
export function gen_pool_set_algo(pool: GenPool, algo: GenpoolAlgo | null, data: unknown): void {
  kenter('gen_pool_set_algo');
  try {
    pool.algo = algo ?? gen_pool_first_fit;
    pool.data = data;
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_virt_to_phys (5.10, 6.6): all ones when no chunk holds addr. */
export function gen_pool_virt_to_phys(pool: GenPool, addr: bigint): bigint {
  kenter('gen_pool_virt_to_phys');
  try {
    for (const chunk of pool.chunks) {
      if (addr >= chunk.start_addr && addr <= chunk.end_addr) {
        return u64(chunk.phys_addr + (addr - chunk.start_addr));
      }
    }
    knote('address in no chunk');
    return U64_MAX;
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_destroy (5.10, 6.6): BUG if any chunk still has a bit set. */
export function gen_pool_destroy(pool: GenPool): void {
  kenter('gen_pool_destroy');
  try {
    const ord = BigInt(pool.min_alloc_order);
    while (pool.chunks.length > 0) {
      const chunk = pool.chunks.shift() as GenPoolChunk;
      const end_bit = Number(chunk_size(chunk) >> ord);
      const bit = find_next_bit(chunk.bits, end_bit, 0);
      if (bit < end_bit) {
        throw new KernelBug(`gen_pool_destroy: chunk at ${hex(chunk.start_addr)} still has bit ${bit} allocated`);
      }
    }
  } finally {
    kexit();
  }
}

/** lib/genalloc.c gen_pool_first_fit (5.10, 6.6): first free run, no alignment. */
export function gen_pool_first_fit(
  map: Uint32Array,
  size: number,
  start: number,
  nr: number,
  _data: unknown,
  pool: GenPool,
  _start_addr: bigint,
): number {
  kenter('gen_pool_first_fit');
  try {
    return bitmap_find_next_zero_area(map, size, start, nr, 0, pool.faults);
  } finally {
    kexit();
  }
}

/**
 * lib/genalloc.c gen_pool_first_fit_align (5.10, 6.6): aligns the absolute address,
 * not the bit index: align_off is where the chunk start sits inside an align block.
 */
export function gen_pool_first_fit_align(
  map: Uint32Array,
  size: number,
  start: number,
  nr: number,
  data: unknown,
  pool: GenPool,
  start_addr: bigint,
): number {
  kenter('gen_pool_first_fit_align');
  try {
    const align = (data as GenpoolDataAlign | null)?.align;
    // struct genpool_data_align holds an int; 0 or less would wrap the kernel's mask.
    if (typeof align !== 'number' || !Number.isInteger(align) || align < 1 || align > 0x7fffffff) {
      throw new ModelError(`gen_pool_first_fit_align: align ${String(align)} must be an int >= 1`);
    }
    const order = pool.min_alloc_order;
    const unit = 2 ** order;
    const align_mask = Math.floor((align + unit - 1) / unit) - 1;
    const align_off = Number((start_addr & BigInt(align - 1)) >> BigInt(order));
    return bitmap_find_next_zero_area_off(map, size, start, nr, align_mask, align_off, pool.faults);
  } finally {
    kexit();
  }
}

/**
 * lib/genalloc.c gen_pool_fixed_alloc (5.10, 6.6): exactly data.offset bytes into
 * the chunk, or size (fail). An offset that is not a whole unit WARNs and fails.
 */
export function gen_pool_fixed_alloc(
  map: Uint32Array,
  size: number,
  start: number,
  nr: number,
  data: unknown,
  pool: GenPool,
  _start_addr: bigint,
): number {
  kenter('gen_pool_fixed_alloc');
  try {
    const offset = (data as GenpoolDataFixed | null)?.offset;
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
      throw new ModelError(`gen_pool_fixed_alloc: offset ${String(offset)} must be a non-negative integer`);
    }
    const unit = 2 ** pool.min_alloc_order;
    const offset_bit = Math.floor(offset / unit);
    if (offset % unit !== 0) {
      knote('WARN_ON: offset not a multiple of 1 << min_alloc_order');
      return size;
    }
    const start_bit = bitmap_find_next_zero_area(map, size, start + offset_bit, nr, 0, pool.faults);
    if (start_bit !== offset_bit) {
      knote('offset busy');
      return size;
    }
    return start_bit;
  } finally {
    kexit();
  }
}

/**
 * lib/genalloc.c gen_pool_first_fit_order_align (5.10, 6.6): the bit index is a
 * multiple of roundup_pow_of_two(nr), relative to the chunk's first bit.
 */
export function gen_pool_first_fit_order_align(
  map: Uint32Array,
  size: number,
  start: number,
  nr: number,
  _data: unknown,
  pool: GenPool,
  _start_addr: bigint,
): number {
  kenter('gen_pool_first_fit_order_align');
  try {
    let align_mask: number;
    if (pool.faults.has('genalloc-order-align-mask')) {
      knote('fault: align mask nr - 1');
      align_mask = nr - 1;
    } else {
      align_mask = roundup_pow_of_two(nr) - 1;
    }
    return bitmap_find_next_zero_area(map, size, start, nr, align_mask, pool.faults);
  } finally {
    kexit();
  }
}

/**
 * lib/genalloc.c gen_pool_best_fit (5.10, 6.6): the smallest free run that fits
 * (the first of equals); an exact fit ends the search at once.
 */
export function gen_pool_best_fit(
  map: Uint32Array,
  size: number,
  start: number,
  nr: number,
  _data: unknown,
  pool: GenPool,
  _start_addr: bigint,
): number {
  kenter('gen_pool_best_fit');
  try {
    let start_bit = size;
    let len = size + 1;
    let index = bitmap_find_next_zero_area(map, size, start, nr, 0, pool.faults);
    while (index < size) {
      const next_bit = findNextBit(map, size, index + nr);
      if (next_bit - index < len) {
        len = next_bit - index;
        start_bit = index;
        if (len === nr) return start_bit;
      }
      index = bitmap_find_next_zero_area(map, size, next_bit + 1, nr, 0, pool.faults);
    }
    return start_bit;
  } finally {
    kexit();
  }
}
