// mm/page_alloc.c (5.10, 6.6) behaviour that the StrykerJS sample of the mm chunk
// found unpinned: free_area_init's ZONE_MOVABLE skip, the protection of an empty
// zone, __zone_watermark_ok's "a large enough free block" test once the boot
// memory is all handed out, 6.6 gfp_to_alloc_flags' cpuset rule, __get_free_pages,
// the holder count of a doubly handed-out block, and isCanonicalFreeState.
// bench/mutation-equivalents.md lists the survivors no test can kill.
import { describe, expect, it } from 'vitest';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { ZoneType, type PglistData } from '../../reference/mm/mmzone.ts';
import {
  ALLOC_CPUSET,
  ALLOC_WMARK_LOW,
  __free_pages,
  __get_free_pages,
  alloc_pages,
  allocatedBlocks,
  bootFreeRanges,
  buildMm,
  free_area_init,
  gfp_to_alloc_flags,
  isCanonicalFreeState,
  managedPages,
  nrFreePages,
  wmark_pages,
  zone_watermark_ok,
  type MmConfig,
} from '../../reference/mm/page_alloc.ts';
import { KernelBug } from '../../reference/types.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const BASE_PFN = 0x80000; // PA 0x8000_0000

/** One DMA32 zone of `size` at 0x8000_0000, nothing reserved; ZONE_DMA configured (24 bits) but empty. */
function small(kernel: KernelVersion, size: bigint, faults: string[] = []): MmConfig {
  return {
    kernel,
    memory: [{ base: 0x8000_0000n, size }],
    reserved: [],
    CONFIG_ZONE_DMA: true,
    CONFIG_ZONE_DMA32: true,
    zoneDmaBits: 24,
    faults: new Set(faults),
  };
}

/** Take every page of the node as order-`order` blocks, ignoring watermarks (__GFP_MEMALLOC). */
function takeAll(mm: PglistData, order: number): number[] {
  const G = gfpFlags(mm.kernel);
  const out: number[] = [];
  for (;;) {
    const p = alloc_pages(mm, G.GFP_KERNEL | G.__GFP_MEMALLOC | G.__GFP_NOWARN, order);
    if (p === null) return out;
    out.push(p);
  }
}

/**
 * A 4 MiB zone whose boot memory is all handed out, with every even page free
 * and every odd page held: 512 free pages, all order 0, none can merge.
 */
function fragmented(kernel: KernelVersion): PglistData {
  const mm = buildMm(small(kernel, 4n * MiB));
  const pages = takeAll(mm, 0);
  expect(pages.length).toBe(1024);
  for (const p of pages) if (p % 2 === 0) __free_pages(mm, p, 0);
  expect(bootFreeRanges(mm.node_zones[ZoneType.ZONE_DMA32])).toEqual([]);
  expect(nrFreePages(mm)).toBe(512);
  return mm;
}

describe('free_area_init (mm/page_alloc.c 5.10, mm/mm_init.c 6.6)', () => {
  it('ZONE_MOVABLE gets no arch range: max_zone_pfn[ZONE_MOVABLE] is skipped ("if (zone == ZONE_MOVABLE) continue")', () => {
    const mm = buildMm(small('6.6', 4n * MiB));
    // The node ends at 0x80400; the arch's NORMAL limit stops short of it and a
    // MOVABLE limit lies past it: the kernel still leaves ZONE_MOVABLE empty.
    free_area_init(mm, [0, 0, BASE_PFN + 0x100, BASE_PFN + 0x1000], [{ start: BASE_PFN, end: BASE_PFN + 0x400 }]);
    const movable = mm.node_zones[ZoneType.ZONE_MOVABLE];
    expect([movable.zone_start_pfn, movable.spanned_pages, movable.present_pages]).toEqual([BASE_PFN + 0x400, 0, 0]);
    expect(mm.node_present_pages).toBe(0x100);
  });

  it('a node with no whole page of memory boots with empty zones, and allocations fail', () => {
    for (const kernel of ['5.10', '6.6'] as const) {
      // memblock.memory rounded inward to pages is empty: no node span at all.
      const mm = buildMm({ ...small(kernel, 0x800n), memory: [{ base: 0x8000_0000n, size: 0x800n }] });
      expect([mm.node_start_pfn, mm.node_spanned_pages, mm.node_present_pages]).toEqual([0, 0, 0]);
      expect(managedPages(mm)).toBe(0);
      const G = gfpFlags(kernel);
      expect(alloc_pages(mm, G.GFP_KERNEL | G.__GFP_NOWARN, 0)).toBeNull();
    }
  });
});

describe('setup_per_zone_lowmem_reserve (5.10, 6.6)', () => {
  it('a zone with no managed pages protects nothing: "!zone_managed_pages(zone)" clears its lowmem_reserve', () => {
    // ZONE_DMA is configured (below 16 MiB) but the DRAM starts at 2 GiB.
    const mm = buildMm(small('5.10', GiB));
    const [dma, dma32] = mm.node_zones;
    expect(dma.managed_pages).toBe(0);
    expect(dma32.managed_pages).toBe(0x40000);
    expect(dma.lowmem_reserve).toEqual([0, 0, 0, 0]);
  });
});

describe('__zone_watermark_ok: a high-order request needs a free block of that order', () => {
  for (const kernel of ['5.10', '6.6'] as const) {
    it(`${kernel}: enough free pages but only order-0 blocks and no boot memory left fails order 1, passes order 0`, () => {
      const mm = fragmented(kernel);
      const z = mm.node_zones[ZoneType.ZONE_DMA32];
      const mark = wmark_pages(z, ALLOC_WMARK_LOW);
      expect(512 - 1).toBeGreaterThan(mark); // the page count alone would pass
      expect(zone_watermark_ok(mm, z, 1, mark, ZoneType.ZONE_NORMAL, ALLOC_WMARK_LOW)).toBe(false);
      expect(zone_watermark_ok(mm, z, 0, mark, ZoneType.ZONE_NORMAL, ALLOC_WMARK_LOW)).toBe(true);
    });

    it(`${kernel}: a block freed back to the lists serves the order once boot memory is gone`, () => {
      const mm = fragmented(kernel);
      const G = gfpFlags(kernel);
      // Freeing odd page 1 merges it with free page 0: one order-1 block at the base.
      __free_pages(mm, BASE_PFN + 1, 0);
      expect(alloc_pages(mm, G.GFP_KERNEL, 1)).toBe(BASE_PFN);
    });
  }

  it('the largest order counts too: a free order-10 block passes an order-10 request', () => {
    const mm = buildMm(small('6.6', 16n * MiB));
    const blocks = takeAll(mm, 10);
    expect(blocks).toEqual([0, 1, 2, 3].map((i) => BASE_PFN + i * 1024));
    __free_pages(mm, blocks[1], 10);
    __free_pages(mm, blocks[3], 10);
    const G = gfpFlags('6.6');
    // 2048 free, less 1023, is above the low mark; the head of the order-10 list is the last freed.
    expect(alloc_pages(mm, G.GFP_KERNEL, 10)).toBe(blocks[3]);
  });
});

describe('prep_new_page', () => {
  it('__GFP_ZERO with no page-zeroing hook still hands the block out', () => {
    const mm = buildMm(small('5.10', 4n * MiB));
    expect(mm.zeroPages).toBeUndefined();
    const G = gfpFlags('5.10');
    expect(alloc_pages(mm, G.GFP_KERNEL | G.__GFP_ZERO, 0)).toBe(BASE_PFN);
  });

  it('buddy-split-keeps-upper: a block handed out three times has three holders, each can free it once', () => {
    const mm = buildMm(small('5.10', 4n * MiB, ['buddy-split-keeps-upper']));
    const G = gfpFlags('5.10');
    const p = alloc_pages(mm, G.GFP_KERNEL, 0)!;
    expect(alloc_pages(mm, G.GFP_KERNEL, 0)).toBe(p); // the fault re-listed it
    expect(alloc_pages(mm, G.GFP_KERNEL, 0)).toBe(p + 1);
    __free_pages(mm, p + 1, 0);
    __free_pages(mm, p, 0); // one holder of p frees: p merges with p + 1 and on up the split halves
    // The block at p is split again: p is handed out, and re-listed by the fault.
    expect(alloc_pages(mm, G.GFP_KERNEL, 0)).toBe(p);
    expect(alloc_pages(mm, G.GFP_KERNEL, 0)).toBe(p);
    expect([...allocatedBlocks(mm)].filter((b) => b.pfn === p)).toHaveLength(3);
    __free_pages(mm, p, 0);
    __free_pages(mm, p, 0);
    __free_pages(mm, p, 0);
    expect(() => __free_pages(mm, p, 0)).toThrow(KernelBug);
  });
});

describe('gfp_to_alloc_flags (6.6): non-blocking __GFP_HIGH ignores cpuset mems', () => {
  it('GFP_ATOMIC drops ALLOC_CPUSET, GFP_NOWAIT (no __GFP_HIGH) keeps it', () => {
    const mm = buildMm(small('6.6', 4n * MiB));
    const G = gfpFlags('6.6');
    expect(gfp_to_alloc_flags(mm, G.GFP_ATOMIC, 0) & ALLOC_CPUSET).toBe(0);
    expect(gfp_to_alloc_flags(mm, G.GFP_NOWAIT, 0) & ALLOC_CPUSET).toBe(ALLOC_CPUSET);
  });
});

describe('__get_free_pages (5.10, 6.6)', () => {
  const threeZone = (kernel: KernelVersion): MmConfig => ({
    ...small(kernel, 0n),
    memory: [
      { base: 0n, size: 48n * MiB },
      { base: 4n * GiB, size: 24n * MiB },
    ],
    reserved: [{ base: 0n, size: MiB }],
  });

  it('only __GFP_HIGHMEM is masked off: __GFP_DMA still picks ZONE_DMA', () => {
    const mm = buildMm(threeZone('6.6'));
    const G = gfpFlags('6.6');
    const pa = __get_free_pages(mm, G.GFP_KERNEL | G.__GFP_DMA, 0);
    expect(pa).toBeGreaterThan(0n);
    expect(pa).toBeLessThan(16n * MiB);
  });

  it('returns 0 when no page could be had', () => {
    const mm = buildMm(threeZone('5.10'));
    const G = gfpFlags('5.10');
    expect(__get_free_pages(mm, G.GFP_KERNEL | G.__GFP_NOWARN, 11)).toBe(0n);
  });
});

describe('isCanonicalFreeState', () => {
  it('a free buddy of another order does not count as mergeable', () => {
    const mm = buildMm(small('6.6', 4n * MiB));
    const G = gfpFlags('6.6');
    const a = alloc_pages(mm, G.GFP_KERNEL, 0)!;
    expect(a % 4).toBe(0);
    expect(alloc_pages(mm, G.GFP_KERNEL, 0)).toBe(a + 1);
    __free_pages(mm, a, 0);
    // Free: a (order 0, buddy a + 1 held) and a + 2 (order 1, buddy a: free but order 0).
    expect(isCanonicalFreeState(mm)).toBe(true);
  });
});
