// Obviously-correct CMA oracle: what an area must answer to the DMA layer,
// stated as mm/cma.c and kernel/dma/contiguous.c promise it rather than as
// they compute it. cma_alloc gives the lowest run of free bits whose first PFN
// is a multiple of 2^align pages; the DMA layer asks for get_order(size) (or
// the caller's order) but never more than CONFIG_CMA_ALIGNMENT. One bit stands
// for 2^order_per_bit pages. Shares no code with reference/mm/cma.ts or
// reference/kernel/dma/contiguous.ts, which it checks.

import { BitOracle } from './bitscan.ts';

const PAGE = 4096n;

/** The smallest order o with 4 KiB << o >= size (0 for anything up to one page). */
export function pageOrder(size: bigint): number {
  let o = 0;
  while (PAGE << BigInt(o) < size) o++;
  return o;
}

export class CmaAreaOracle {
  private readonly bits: BitOracle;
  private readonly unit: number;

  /**
   * basePfn and pages describe the area as activated (pages 0 after a failed
   * activation); cap is CONFIG_CMA_ALIGNMENT; live lists what was allocated
   * before the oracle started watching, as (first PFN, pages).
   */
  constructor(
    readonly basePfn: number,
    readonly pages: number,
    readonly orderPerBit: number,
    readonly cap: number,
    live: Iterable<readonly [number, number]> = [],
  ) {
    this.unit = 2 ** orderPerBit;
    this.bits = new BitOracle(Math.floor(pages / this.unit));
    for (const [pfn, n] of live) this.take(pfn, n);
  }

  private bitCount(pages: number): number {
    return Math.ceil(pages / this.unit);
  }

  private bitOf(pfn: number): number {
    return Math.floor((pfn - this.basePfn) / this.unit);
  }

  /** The bits [first, first + n) of a page range, cut to the area (BitOracle does not check bounds). */
  private span(pfn: number, count: number): [number, number] {
    const first = Math.max(0, this.bitOf(pfn));
    const end = Math.min(this.bits.size, this.bitOf(pfn) + this.bitCount(count));
    return [first, Math.max(0, end - first)];
  }

  /** cma_alloc(area, count, align): the PFN, or null; the pages are then taken. */
  alloc(count: number, align: number): number | null {
    if (count === 0 || this.bits.size === 0) return null;
    const n = this.bitCount(count);
    const step = 2 ** align;
    for (let i = 0; i + n <= this.bits.size; i++) {
      const pfn = this.basePfn + i * this.unit;
      if (pfn % step !== 0) continue;
      if (this.bits.allClear(i, n)) {
        this.bits.set(i, n);
        return pfn;
      }
    }
    return null;
  }

  /** kernel/dma/contiguous.c cma_alloc_aligned(area, size): size >> PAGE_SHIFT pages at min(get_order(size), cap). */
  allocAligned(size: bigint): number | null {
    return this.alloc(Number(size / PAGE), Math.min(pageOrder(size), this.cap));
  }

  /** dma_alloc_from_contiguous(dev, count, align) on this area: the caller's order, capped. */
  allocFromContiguous(count: number, align: number): number | null {
    return this.alloc(count, Math.min(align, this.cap));
  }

  /** cma_release: false when the first page lies outside the area; else the pages' bits are free again. */
  release(pfn: number, count: number): boolean {
    if (pfn < this.basePfn || pfn >= this.basePfn + this.pages) return false;
    this.drop(pfn, count);
    return true;
  }

  /** Follow the reference where it went another way, so later answers stay comparable. */
  take(pfn: number, count: number): void {
    this.bits.set(...this.span(pfn, count));
  }

  drop(pfn: number, count: number): void {
    this.bits.clear(...this.span(pfn, count));
  }

  /** Free pages (whole bits), for messages. */
  get freePages(): number {
    let free = 0;
    for (const h of this.bits.holes()) free += h.len;
    return free * this.unit;
  }
}
