// Obviously-correct gen_pool oracle: each chunk is a BitOracle, every algorithm
// is a linear search stated the way lib/genalloc.c's comments promise it.
// Shares no code with reference/lib/genalloc.ts, which it checks.

import { BitOracle, type BitSpace } from './bitscan.ts';
import { RunOracle } from './runs.ts';

export type AlgoName = 'first_fit' | 'first_fit_align' | 'fixed' | 'first_fit_order_align' | 'best_fit';

export interface AlgoChoice {
  algo: AlgoName;
  /** first_fit_align: alignment in bytes (power of two). */
  align?: number;
  /** fixed: offset in bytes from the chunk start. */
  offset?: number;
}

export interface OracleChunk {
  start: bigint;
  phys: bigint;
  size: bigint;
  bits: BitSpace;
  avail: bigint;
}

export interface OracleAlloc {
  addr: bigint;
  chunk: OracleChunk;
  bit: number;
  nbits: number;
}

function pow2ceil(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class GenPoolOracle {
  /** Newest first, as the kernel's list_add_rcu leaves them. */
  readonly chunks: OracleChunk[] = [];
  constructor(readonly order: number) {}

  addChunk(start: bigint, phys: bigint, size: bigint): void {
    const nbits = Number(size >> BigInt(this.order));
    // One boolean per bit up to 64 Ki bits; a device's many-GiB chunk keeps its runs instead.
    const bits = nbits <= 1 << 16 ? new BitOracle(nbits) : new RunOracle(nbits);
    this.chunks.unshift({ start, phys, size, bits, avail: size });
  }

  nbitsFor(size: bigint): number {
    const unit = 1n << BigInt(this.order);
    return Number((size + unit - 1n) / unit);
  }

  private search(c: OracleChunk, nr: number, a: AlgoChoice): number | null {
    const b = c.bits;
    switch (a.algo) {
      case 'first_fit':
        return b.firstFit(0, nr, 0, 0);
      case 'first_fit_order_align':
        return b.firstFit(0, nr, pow2ceil(nr) - 1, 0);
      case 'first_fit_align': {
        const align = a.align ?? 1;
        const unit = 2 ** this.order;
        const mask = Math.ceil(align / unit) - 1;
        const off = Number(c.start % BigInt(align)) / unit;
        return b.firstFit(0, nr, mask, Math.floor(off));
      }
      case 'fixed': {
        const offset = a.offset ?? 0;
        const unit = 2 ** this.order;
        if (offset % unit !== 0) return null;
        const bit = offset / unit;
        return b.allClear(bit, nr) ? bit : null;
      }
      case 'best_fit': {
        let best: { start: number; len: number } | null = null;
        for (const h of b.holes()) if (h.len >= nr && (best === null || h.len < best.len)) best = h;
        return best === null ? null : best.start;
      }
    }
  }

  /** What gen_pool_alloc_algo must return for this request (and the state change it makes). */
  alloc(size: bigint, a: AlgoChoice): OracleAlloc | null {
    if (size === 0n) return null;
    const nr = this.nbitsFor(size);
    for (const c of this.chunks) {
      if (size > c.avail) continue;
      const bit = this.search(c, nr, a);
      if (bit === null) continue;
      c.bits.set(bit, nr);
      c.avail -= BigInt(nr) << BigInt(this.order);
      return { addr: c.start + (BigInt(bit) << BigInt(this.order)), chunk: c, bit, nbits: nr };
    }
    return null;
  }

  free(al: OracleAlloc): void {
    al.chunk.bits.clear(al.bit, al.nbits);
    al.chunk.avail += BigInt(al.nbits) << BigInt(this.order);
  }

  chunkOf(addr: bigint): OracleChunk | undefined {
    return this.chunks.find((c) => addr >= c.start && addr < c.start + c.size);
  }

  get totalSize(): bigint {
    return this.chunks.reduce((s, c) => s + c.size, 0n);
  }
}
