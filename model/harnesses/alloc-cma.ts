// The alloc harness's CMA side: pages taken straight from dma_alloc_contiguous
// (what dma-direct and dma-iommu do before mapping and clearing them), and the
// refinement clause that replays every request the DMA layer made of a CMA
// area (reference/mm/cma.ts CmaRequest) on the area's oracle.

import type { Profile } from '../../reference/config/profile.ts';
import type { device } from '../../reference/include/linux/device.ts';
import type { Machine } from '../../reference/system.ts';
import type { cma, CmaRequest } from '../../reference/mm/cma.ts';
import { PAGE_SHIFT, PAGE_SIZE, get_order, hex } from '../../reference/types.ts';
import { CmaAreaOracle } from '../oracle/cma-oracle.ts';
import type { AllocState } from './alloc.ts';

function setV(st: AllocState, inv: string, msg: string): void {
  st.v[inv] ??= msg;
}

/** Pages dma_alloc_contiguous handed out (no mapping, no contents). */
export interface Contig {
  id: number;
  dev: device;
  pfn: number;
  size: bigint;
}

/** A CMA area and the oracle that watches its requests. */
export interface CmaTwin {
  area: cma;
  oracle: CmaAreaOracle;
}

/** CONFIG_CMA_ALIGNMENT as the .config sets it (kernel/dma/Kconfig default 8): the most alignment CMA promises. */
export function cmaAlignmentOf(p: Profile): number {
  return Number(p.kconfig.CONFIG_CMA_ALIGNMENT ?? 8);
}

export function contigRange(c: Contig): [bigint, bigint] {
  const start = BigInt(c.pfn) << BigInt(PAGE_SHIFT);
  return [start, start + c.size];
}

/** A fresh dma_alloc_contiguous result: CMA pages aligned to min(get_order(size), CONFIG_CMA_ALIGNMENT), overlapping nothing live. */
export function checkContig(st: AllocState, c: Contig): void {
  const m = st.m;
  const area = m.cma.areas.find((a) => c.pfn >= a.base_pfn && c.pfn < a.base_pfn + a.count);
  const order = Math.min(get_order(c.size), cmaAlignmentOf(m.profile));
  if (area === undefined) setV(st, 'no-overlap', `dma_alloc_contiguous gave pfn ${hex(c.pfn)}, in no CMA area`);
  else if (c.pfn % 2 ** order !== 0) setV(st, 'order-alignment', `CMA area ${area.name}: dma_alloc_contiguous(${c.size}) gave pfn ${hex(c.pfn)}, not aligned to 2^${order} pages (min(get_order, CONFIG_CMA_ALIGNMENT))`);
  const [start, end] = contigRange(c);
  for (const o of st.contigs) {
    if (o === c) continue;
    const [os, oe] = contigRange(o);
    if (start < oe && os < end) setV(st, 'no-overlap', `contiguous allocations #${c.id} [${hex(start)}, ${hex(end)}) and #${o.id} [${hex(os)}, ${hex(oe)}) overlap`);
  }
  for (const b of st.bufs) {
    const be = b.phys + BigInt(Math.ceil(b.size / PAGE_SIZE) * PAGE_SIZE);
    if (start < be && b.phys < end) setV(st, 'no-overlap', `contiguous allocation #${c.id} [${hex(start)}, ${hex(end)}) overlaps coherent buffer #${b.id} at ${hex(b.phys)}`);
  }
}

function describeRequest(area: cma, r: CmaRequest): string {
  switch (r.fn) {
    case 'cma_alloc_aligned':
      return `cma_alloc_aligned(${area.name}, size ${r.size})`;
    case 'dma_alloc_from_contiguous':
      return `dma_alloc_from_contiguous(${area.name}, count ${r.count}, align ${r.align})`;
    case 'cma_release':
      return `cma_release(${area.name}, pfn ${hex(r.pfn)}, count ${r.count})`;
  }
}

function pfnText(p: number | null): string {
  return p === null ? 'NULL' : `pfn ${hex(p)}`;
}

/**
 * Every request an operation made of a CMA area, replayed on the area's oracle
 * in order. Where the reference went another way the oracle follows it, so one
 * wrong answer is reported once and later answers are still compared.
 */
export function checkCmaRequests(st: AllocState): void {
  for (const { area, oracle } of st.cmaTwins) {
    const reqs = area.requests;
    if (reqs === undefined || reqs.length === 0) continue;
    for (const r of reqs.splice(0)) {
      if (r.fn === 'cma_release') {
        const want = oracle.release(r.pfn, r.count);
        if (want !== r.released) setV(st, 'refinement', `${describeRequest(area, r)} = ${r.released}, oracle: ${want}`);
        continue;
      }
      const count = r.fn === 'cma_alloc_aligned' ? Number(r.size >> BigInt(PAGE_SHIFT)) : r.count;
      const want = r.fn === 'cma_alloc_aligned' ? oracle.allocAligned(r.size) : oracle.allocFromContiguous(r.count, r.align);
      if (want === r.pfn) continue;
      const freeBefore = oracle.freePages + (want === null ? 0 : Math.ceil(count / 2 ** area.order_per_bit) * 2 ** area.order_per_bit);
      setV(st, 'refinement', `${describeRequest(area, r)} = ${pfnText(r.pfn)}, oracle: ${pfnText(want)} (lowest free run aligned to min(order, CONFIG_CMA_ALIGNMENT ${oracle.cap}); ${freeBefore} of ${oracle.pages} pages were free)`);
      if (want !== null) oracle.drop(want, count);
      if (r.pfn !== null) oracle.take(r.pfn, count);
    }
  }
}

/** One oracle per area, starting from what boot took (the atomic pools' CMA chunks); from here on each request is logged. */
export function cmaTwinsOf(m: Machine): CmaTwin[] {
  const cap = cmaAlignmentOf(m.profile);
  return m.cma.areas.map((area) => {
    area.requests = [];
    return { area, oracle: new CmaAreaOracle(area.base_pfn, area.count, area.order_per_bit, cap, area.allocated) };
  });
}
