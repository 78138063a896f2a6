// Obviously-correct bitmap oracle: one boolean per bit and linear scans.
// Shares no code with reference/lib/bitmap.ts, which it checks.

/** What the gen_pool and CMA oracles need of a bit map. */
export interface BitSpace {
  readonly size: number;
  set(start: number, len: number): void;
  clear(start: number, len: number): void;
  allClear(start: number, len: number): boolean;
  firstFit(start: number, nr: number, alignMask: number, alignOffset: number): number | null;
  holes(): { start: number; len: number }[];
}

export class BitOracle implements BitSpace {
  readonly bits: boolean[];
  constructor(readonly size: number) {
    this.bits = new Array<boolean>(size).fill(false);
  }
  set(start: number, len: number): void {
    for (let i = start; i < start + len; i++) this.bits[i] = true;
  }
  clear(start: number, len: number): void {
    for (let i = start; i < start + len; i++) this.bits[i] = false;
  }
  /** First set bit at or after `from` in [0, limit), or limit. */
  nextSet(from: number, limit = this.size): number {
    for (let i = from; i < limit; i++) if (this.bits[i]) return i;
    return limit;
  }
  nextZero(from: number, limit = this.size): number {
    for (let i = from; i < limit; i++) if (!this.bits[i]) return i;
    return limit;
  }
  allClear(start: number, len: number): boolean {
    if (start < 0 || start + len > this.size) return false;
    for (let i = start; i < start + len; i++) if (this.bits[i]) return false;
    return true;
  }
  /**
   * Smallest index i >= start with (i + alignOffset) a multiple of alignMask + 1
   * and bits [i, i + nr) all clear inside the map; null if none.
   * alignMask must be 2^k - 1.
   */
  firstFit(start: number, nr: number, alignMask: number, alignOffset: number): number | null {
    const step = alignMask + 1;
    for (let i = start; i + nr <= this.size; i++) {
      if ((i + alignOffset) % step !== 0) continue;
      if (this.allClear(i, nr)) return i;
    }
    return null;
  }
  /** Maximal runs of clear bits, in address order. */
  holes(): { start: number; len: number }[] {
    const out: { start: number; len: number }[] = [];
    let i = 0;
    while (i < this.size) {
      if (this.bits[i]) {
        i++;
        continue;
      }
      const s = i;
      while (i < this.size && !this.bits[i]) i++;
      out.push({ start: s, len: i - s });
    }
    return out;
  }
}
