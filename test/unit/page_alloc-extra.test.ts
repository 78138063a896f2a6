// mm/page_alloc.c paths the main suite leaves out: zone_watermark_ok and its
// reserve reductions, the slow path's warnings, __GFP_ZERO, page_zone and
// freeing a PFN that no zone spans.
import { describe, expect, it } from 'vitest';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { ZoneType, zone_end_pfn, zone_managed_pages, managed_zone } from '../../reference/mm/mmzone.ts';
import {
  ALLOC_HIGH,
  ALLOC_MIN_RESERVE,
  ALLOC_OOM,
  ALLOC_WMARK_MIN,
  __free_pages,
  alloc_pages,
  buildMm,
  nrFreePages,
  page_zone,
  page_zonenum,
  wmark_pages,
  zoneFreePages,
  zone_watermark_ok,
  type MmConfig,
} from '../../reference/mm/page_alloc.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { KernelBug, ModelError, PHYS_PFN } from '../../reference/types.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;

function threeZone(kernel: KernelVersion): MmConfig {
  return {
    kernel,
    memory: [
      { base: 0n, size: 48n * MiB },
      { base: 4n * GiB, size: 24n * MiB },
    ],
    reserved: [{ base: 0n, size: 1n * MiB }],
    CONFIG_ZONE_DMA: true,
    CONFIG_ZONE_DMA32: true,
    zoneDmaBits: 24,
    faults: new Set(),
  };
}

function notesOf(run: () => void): string[] {
  const t = new Tracer();
  setTracer(t);
  try {
    run();
  } finally {
    setTracer(null);
  }
  return t.events.filter((e) => e.fn === '#').map((e) => e.detail ?? '');
}

describe('zone_watermark_ok', () => {
  for (const kernel of ['5.10', '6.6'] as const) {
    it(`${kernel}: free pages must exceed the mark; the reserve flags lower the mark as the kernel does`, () => {
      const mm = buildMm(threeZone(kernel));
      const z = mm.node_zones[ZoneType.ZONE_DMA32];
      const free = zoneFreePages(z);
      expect(free).toBeGreaterThan(0);
      // Exactly at the mark fails (free <= min), one below passes.
      expect(zone_watermark_ok(mm, z, 0, free, ZoneType.ZONE_DMA32, ALLOC_WMARK_MIN)).toBe(false);
      expect(zone_watermark_ok(mm, z, 0, free - 1, ZoneType.ZONE_DMA32, ALLOC_WMARK_MIN)).toBe(true);
      // An OOM victim may dip to half the mark: a mark of 2*free - 2 becomes free - 1.
      expect(zone_watermark_ok(mm, z, 0, 2 * free - 2, ZoneType.ZONE_DMA32, ALLOC_OOM)).toBe(true);
      expect(zone_watermark_ok(mm, z, 0, 2 * free - 2, ZoneType.ZONE_DMA32, 0)).toBe(false);
      // __GFP_HIGH (ALLOC_HIGH on 5.10, ALLOC_MIN_RESERVE on 6.6, the same bit) halves the mark too.
      const high = kernel === '5.10' ? ALLOC_HIGH : ALLOC_MIN_RESERVE;
      expect(zone_watermark_ok(mm, z, 0, 2 * free - 2, ZoneType.ZONE_DMA32, high)).toBe(true);
      // Order 10 costs 1023 pages off the free count before the comparison.
      expect(zone_watermark_ok(mm, z, 10, free - 1023, ZoneType.ZONE_DMA32, ALLOC_WMARK_MIN)).toBe(false);
      expect(zone_watermark_ok(mm, z, 10, free - 1024, ZoneType.ZONE_DMA32, ALLOC_WMARK_MIN)).toBe(true);
      expect(wmark_pages(z, ALLOC_WMARK_MIN)).toBe(z._watermark.min);
    });
  }
});

describe('zone span helpers', () => {
  it('page_zone / page_zonenum agree with the zone spans; a PFN in no zone is a model error', () => {
    const mm = buildMm(threeZone('6.6'));
    const dma = mm.node_zones[ZoneType.ZONE_DMA];
    expect(page_zonenum(mm, PHYS_PFN(2n * MiB))).toBe(ZoneType.ZONE_DMA);
    expect(page_zone(mm, PHYS_PFN(2n * MiB))).toBe(dma);
    expect(page_zonenum(mm, PHYS_PFN(4n * GiB))).toBe(ZoneType.ZONE_NORMAL);
    expect(zone_end_pfn(dma)).toBe(PHYS_PFN(16n * MiB));
    expect(zone_managed_pages(dma)).toBe(dma.managed_pages);
    expect(managed_zone(dma)).toBe(true);
    // 1 TiB is past every bank: no zone spans it.
    expect(() => page_zone(mm, PHYS_PFN(1n << 40n))).toThrow(ModelError);
    expect(() => page_zonenum(mm, PHYS_PFN(1n << 40n))).toThrow(ModelError);
  });

  it('freeing a PFN no zone spans is bad_page (a kernel BUG), and the free lists are untouched', () => {
    const mm = buildMm(threeZone('6.6'));
    const before = nrFreePages(mm);
    expect(() => __free_pages(mm, PHYS_PFN(1n << 40n), 0)).toThrow(KernelBug);
    expect(nrFreePages(mm)).toBe(before);
  });
});

describe('__alloc_pages_slowpath warnings', () => {
  /** Allocates order-10 GFP_DMA blocks until the 16 MiB ZONE_DMA is exhausted; returns the notes of the failing call. */
  function exhaustDma(kernel: KernelVersion, extra: (G: ReturnType<typeof gfpFlags>) => number): string[] {
    const mm = buildMm(threeZone(kernel));
    const G = gfpFlags(kernel);
    const gfp = G.GFP_KERNEL | G.GFP_DMA | extra(G);
    for (let i = 0; i < 16; i++) {
      let got: number | null = 0;
      const notes = notesOf(() => (got = alloc_pages(mm, gfp, 10)));
      if (got === null) return notes;
    }
    throw new Error('ZONE_DMA never ran out');
  }

  it('5.10: __GFP_ATOMIC together with __GFP_DIRECT_RECLAIM is a WARN_ON_ONCE and __GFP_ATOMIC is dropped', () => {
    const notes = exhaustDma('5.10', (G) => gfpFlags('5.10').__GFP_ATOMIC ?? G.__GFP_HIGH);
    expect(notes).toContain('WARN_ON_ONCE: __GFP_ATOMIC with __GFP_DIRECT_RECLAIM');
    expect(notes).toContain('warn_alloc: page allocation failure');
  });

  it('__GFP_NOFAIL from a blocking caller would loop forever in the kernel; __GFP_NOWARN silences warn_alloc', () => {
    for (const kernel of ['5.10', '6.6'] as const) {
      const nofail = exhaustDma(kernel, (G) => G.__GFP_NOFAIL);
      expect(nofail).toContain('__GFP_NOFAIL would retry forever');
      const quiet = exhaustDma(kernel, (G) => G.__GFP_NOWARN);
      expect(quiet).toContain('reclaim/compaction: nothing reclaimable');
      expect(quiet).not.toContain('warn_alloc: page allocation failure');
    }
  });

  it('__GFP_MEMALLOC may ignore the watermarks (unless __GFP_NOMEMALLOC)', () => {
    const notes = exhaustDma('6.6', (G) => G.__GFP_MEMALLOC);
    expect(notes).toContain('ALLOC_NO_WATERMARKS');
    const not = exhaustDma('6.6', (G) => G.__GFP_MEMALLOC | G.__GFP_NOMEMALLOC);
    expect(not).not.toContain('ALLOC_NO_WATERMARKS');
  });
});

describe('prep_new_page', () => {
  it('__GFP_ZERO clears exactly the allocated block through the zeroing hook', () => {
    const mm = buildMm(threeZone('6.6'));
    const zeroed: [number, number][] = [];
    mm.zeroPages = (pfn, order) => zeroed.push([pfn, order]);
    const G = gfpFlags('6.6');
    const pfn = alloc_pages(mm, G.GFP_KERNEL | G.__GFP_ZERO, 2)!;
    expect(zeroed).toEqual([[pfn, 2]]);
    alloc_pages(mm, G.GFP_KERNEL, 0);
    expect(zeroed.length).toBe(1);
  });
});
