// Obviously-correct sorted interval set over integers (PFNs): what is live,
// with overlap detection. Shares no code with the allocators it checks.

export interface Interval {
  start: number;
  end: number; // exclusive
  tag: string;
}

export class IntervalSet {
  private readonly items: Interval[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The live interval that overlaps [start, end), if any. */
  overlapping(start: number, end: number): Interval | undefined {
    for (const it of this.items) if (it.start < end && start < it.end) return it;
    return undefined;
  }

  add(iv: Interval): void {
    let i = 0;
    while (i < this.items.length && this.items[i].start < iv.start) i++;
    this.items.splice(i, 0, iv);
  }

  remove(start: number): Interval | undefined {
    const i = this.items.findIndex((it) => it.start === start);
    if (i < 0) return undefined;
    return this.items.splice(i, 1)[0];
  }

  total(): number {
    let n = 0;
    for (const it of this.items) n += it.end - it.start;
    return n;
  }

  all(): readonly Interval[] {
    return this.items;
  }
}
