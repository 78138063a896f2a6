// The bit oracle for maps too big for one boolean per bit (a 32 GiB chunk in
// 4 KiB granules has 2^23 bits): the set bits as a sorted list of disjoint
// runs, so cost follows the number of allocations, not the size of the map.
// Answers exactly as BitOracle does (test/unit/runs-oracle.test.ts compares
// them); shares no code with reference/lib/bitmap.ts.

import type { BitSpace } from './bitscan.ts';

interface Run {
  start: number;
  end: number; // exclusive
}

export class RunOracle implements BitSpace {
  /** Set bits, sorted, disjoint and never touching (touching runs are merged). */
  private runs: Run[] = [];
  constructor(readonly size: number) {}

  set(start: number, len: number): void {
    if (len <= 0) return;
    let s = start;
    let e = start + len;
    const keep: Run[] = [];
    for (const r of this.runs) {
      if (r.end < s || r.start > e) keep.push(r);
      else {
        s = Math.min(s, r.start);
        e = Math.max(e, r.end);
      }
    }
    keep.push({ start: s, end: e });
    this.runs = keep.sort((a, b) => a.start - b.start);
  }

  clear(start: number, len: number): void {
    if (len <= 0) return;
    const end = start + len;
    const out: Run[] = [];
    for (const r of this.runs) {
      if (r.end <= start || r.start >= end) {
        out.push(r);
        continue;
      }
      if (r.start < start) out.push({ start: r.start, end: start });
      if (r.end > end) out.push({ start: end, end: r.end });
    }
    this.runs = out;
  }

  allClear(start: number, len: number): boolean {
    if (start < 0 || start + len > this.size) return false;
    return len <= 0 || this.runs.every((r) => r.end <= start || r.start >= start + len);
  }

  /** Same contract as BitOracle.firstFit: the smallest aligned i >= start with [i, i + nr) clear inside the map. */
  firstFit(start: number, nr: number, alignMask: number, alignOffset: number): number | null {
    const step = alignMask + 1;
    const alignedFrom = (x: number) => x + ((step - ((x + alignOffset) % step)) % step);
    if (nr === 0) {
      const i = alignedFrom(start);
      return i <= this.size ? i : null;
    }
    for (const h of this.holes()) {
      const i = alignedFrom(Math.max(h.start, start));
      if (i + nr <= h.start + h.len) return i;
    }
    return null;
  }

  holes(): { start: number; len: number }[] {
    const out: { start: number; len: number }[] = [];
    let at = 0;
    for (const r of this.runs) {
      const s = Math.min(r.start, this.size);
      if (s > at) out.push({ start: at, len: s - at });
      at = Math.max(at, r.end);
    }
    if (at < this.size) out.push({ start: at, len: this.size - at });
    return out;
  }
}
