// Shared constants, error conventions and exact-integer helpers for the reference.
// Addresses (physical, DMA, kernel virtual) and masks are bigint: 2^56 physical
// space and DMA_BIT_MASK(64) do not fit a double. Page frame numbers and bit
// indices stay `number`: a PFN of a 2^56 address is 2^44, well inside 2^53.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_SIZE_N = BigInt(PAGE_SIZE);
/** C920 and the Zicbom default: 64-byte cache lines / CMO blocks. */
export const L1_CACHE_BYTES = 64;

/** Kernel -errno values the reference returns. */
export const EPERM = 1;
export const ENOENT = 2;
export const ENOMEM = 12;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;

export const U64_MAX = (1n << 64n) - 1n;

/** Misuse of the model itself (never a condition the kernel handles: those return NULL/-errno). */
export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

/** A kernel BUG()/BUG_ON(): the kernel would oops; the model throws so the run stops there. */
export class KernelBug extends Error {
  constructor(message: string) {
    super(`kernel BUG: ${message}`);
    this.name = 'KernelBug';
  }
}

export function u64(x: bigint): bigint {
  return BigInt.asUintN(64, x);
}

/** include/linux/dma-mapping.h DMA_BIT_MASK(n) (5.10, 6.6). */
export function DMA_BIT_MASK(n: number): bigint {
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new ModelError(`DMA_BIT_MASK(${n}): n must be 0..64`);
  return n === 64 ? U64_MAX : (1n << BigInt(n)) - 1n;
}

/** include/linux/kernel.h min_not_zero (5.10, 6.6). */
export function min_not_zero(a: bigint, b: bigint): bigint {
  if (a === 0n) return b;
  if (b === 0n) return a;
  return a < b ? a : b;
}

/** include/linux/log2.h roundup_pow_of_two (5.10, 6.6); n >= 1. */
export function roundup_pow_of_two(n: number): number {
  if (n <= 1) return 1;
  return 2 ** Math.ceil(Math.log2(n));
}

/** include/asm-generic/getorder.h get_order (5.10, 6.6), for a byte size. */
export function get_order(size: bigint | number): number {
  const s = BigInt(size);
  if (s === 0n) return 64 - PAGE_SHIFT; // (0 - 1) >> PAGE_SHIFT has 52 bits set on 64-bit
  let x = (s - 1n) >> BigInt(PAGE_SHIFT);
  let order = 0;
  while (x > 0n) {
    order++;
    x >>= 1n;
  }
  return order;
}

/** include/linux/mm.h PAGE_ALIGN (5.10, 6.6). */
export function PAGE_ALIGN(x: bigint): bigint {
  return (x + PAGE_SIZE_N - 1n) & ~(PAGE_SIZE_N - 1n);
}

const PAGE_SHIFT_N = BigInt(PAGE_SHIFT);

export function PFN_PHYS(pfn: number): bigint {
  return BigInt(pfn) << PAGE_SHIFT_N;
}

export function PHYS_PFN(pa: bigint): number {
  return Number(pa >> PAGE_SHIFT_N);
}

export function hex(x: bigint | number): string {
  return '0x' + x.toString(16);
}
