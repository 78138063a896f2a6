import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KernelVersion, MemoryRange } from '../../reference/config/profile.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import {
  MAX_ORDER,
  MAX_PAGE_ORDER_LARGEST,
  NUMA_NO_NODE,
  ZoneType,
  type PglistData,
} from '../../reference/mm/mmzone.ts';
import { __free_pages_memory, bootMaxBlockOrder, memblockFreePfnRanges } from '../../reference/mm/memblock.ts';
import {
  __alloc_pages,
  __alloc_pages_node,
  __alloc_pages_nodemask,
  __free_page,
  __free_pages,
  __get_free_pages,
  alloc_page,
  alloc_pages,
  alloc_pages_node,
  allocatedBlocks,
  allocatedPages,
  bootFreeRanges,
  buildMm,
  freeBlocks,
  free_pages,
  isCanonicalFreeState,
  managedPages,
  nrFreePages,
  page_to_phys,
  page_zonenum,
  zoneFreePages,
  zoneOfPfn,
  type MmConfig,
} from '../../reference/mm/page_alloc.ts';
import { KernelBug, ModelError, PHYS_PFN } from '../../reference/types.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const FOUR_GIB_PFN = 0x100000;

function board1g(kernel: KernelVersion, faults: string[] = [], reserved?: MemoryRange[]): MmConfig {
  return {
    kernel,
    memory: [{ base: 0x8000_0000n, size: GiB }],
    reserved: reserved ?? [{ base: 0x8000_0000n, size: 2n * MiB }],
    CONFIG_ZONE_DMA: false,
    CONFIG_ZONE_DMA32: true,
    zoneDmaBits: 24,
    faults: new Set(faults),
  };
}

function threeZone(kernel: KernelVersion, faults: string[] = []): MmConfig {
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
    faults: new Set(faults),
  };
}

function sg2042(kernel: KernelVersion, faults: string[] = []): MmConfig {
  return {
    kernel,
    memory: [0n, 1n, 2n, 3n].map((i) => ({ base: i * 32n * GiB, size: 32n * GiB })),
    reserved: [
      { base: 0n, size: 2n * MiB },
      { base: 2n * MiB, size: 30n * MiB },
    ],
    CONFIG_ZONE_DMA: false,
    CONFIG_ZONE_DMA32: true,
    zoneDmaBits: 24,
    faults: new Set(faults),
  };
}

function small(kernel: KernelVersion, faults: string[] = []): MmConfig {
  return {
    kernel,
    memory: [{ base: 0x8000_0000n, size: 16n * MiB }],
    reserved: [],
    CONFIG_ZONE_DMA: false,
    CONFIG_ZONE_DMA32: true,
    zoneDmaBits: 24,
    faults: new Set(faults),
  };
}

const KERNELS = ['5.10', '6.6'] as const;

function conserved(mm: PglistData): boolean {
  return nrFreePages(mm) + allocatedPages(mm) === managedPages(mm);
}

/** Allocated blocks sorted by pfn must not overlap. */
function noOverlap(mm: PglistData): boolean {
  const bs = [...allocatedBlocks(mm)].sort((a, b) => a.pfn - b.pfn);
  for (let i = 1; i < bs.length; i++) if (bs[i - 1].pfn + 2 ** bs[i - 1].order > bs[i].pfn) return false;
  return true;
}

function drain(mm: PglistData, gfp: number, order: number): number[] {
  const got: number[] = [];
  for (;;) {
    const p = alloc_pages(mm, gfp, order);
    if (p === null) return got;
    got.push(p);
  }
}

describe('buildMm: zones and boot hand-over', () => {
  it('1 GiB board at 0x8000_0000: all RAM in ZONE_DMA32', () => {
    for (const k of KERNELS) {
      const mm = buildMm(board1g(k));
      const [dma, dma32, normal, movable] = mm.node_zones;
      expect(dma.managed_pages).toBe(0);
      expect(dma32.zone_start_pfn).toBe(0x80000);
      expect(dma32.spanned_pages).toBe(0x40000);
      expect(dma32.present_pages).toBe(0x40000);
      expect(dma32.managed_pages).toBe(0x40000 - 512);
      expect(normal.managed_pages).toBe(0);
      expect(normal.spanned_pages).toBe(0);
      expect(movable.managed_pages).toBe(0);
      expect(nrFreePages(mm)).toBe(0x40000 - 512);
      expect(freeBlocks(dma32)).toEqual([]); // nothing carved yet
      // lowmem 261632 pages = 1046528 KiB; int_sqrt(16x) = 4091 KiB; 1022 pages.
      expect(mm.min_free_kbytes).toBe(4091);
      expect(dma32._watermark.min).toBe(1022);
      // max(1022 >> 2, mult_frac(261632, 10, 10000) = 261)
      expect(dma32._watermark.low).toBe(1022 + 261);
      expect(dma32._watermark.high).toBe(1022 + 522);
      expect(dma32.lowmem_reserve).toEqual([0, 0, 0, 0]);
    }
  });

  it('three zones with zone_dma_bits 24', () => {
    const mm = buildMm(threeZone('5.10'));
    const [dma, dma32, normal] = mm.node_zones;
    expect([dma.zone_start_pfn, dma.spanned_pages, dma.managed_pages]).toEqual([0, 4096, 3840]);
    expect([dma32.zone_start_pfn, dma32.present_pages, dma32.managed_pages]).toEqual([4096, 8192, 8192]);
    expect([normal.zone_start_pfn, normal.spanned_pages, normal.managed_pages]).toEqual([FOUR_GIB_PFN, 6144, 6144]);
    // ratios 256 / 256 / 32 over the managed pages of the zones above
    expect(dma.lowmem_reserve).toEqual([0, 32, 56, 56]);
    expect(dma32.lowmem_reserve).toEqual([0, 0, 24, 24]);
    expect(normal.lowmem_reserve).toEqual([0, 0, 0, 0]);
    expect(mm.min_free_kbytes).toBe(1078);
    expect([dma._watermark.min, dma32._watermark.min, normal._watermark.min]).toEqual([56, 121, 90]);
  });

  it('min_free_kbytes cap differs by version', () => {
    // A 128 GiB map: int_sqrt(lowmem_kbytes * 16) is about 46 MiB, under both caps.
    const a = buildMm(sg2042('5.10'));
    const b = buildMm(sg2042('6.6'));
    expect(a.min_free_kbytes).toBe(b.min_free_kbytes);
    expect(a.min_free_kbytes).toBeLessThan(65536);
    // 8 TiB: over both caps (about 362 MiB uncapped).
    const big = (k: KernelVersion): MmConfig => ({ ...sg2042(k), memory: [{ base: 0n, size: 8192n * GiB }] });
    expect(buildMm(big('5.10')).min_free_kbytes).toBe(65536);
    expect(buildMm(big('6.6')).min_free_kbytes).toBe(262144);
  });

  it('SG2042-like 128 GiB builds without materialising memory', () => {
    for (const k of KERNELS) {
      const mm = buildMm(sg2042(k));
      const [, dma32, normal] = mm.node_zones;
      expect(dma32.zone_start_pfn).toBe(0);
      expect(dma32.spanned_pages).toBe(FOUR_GIB_PFN);
      expect(dma32.managed_pages).toBe(FOUR_GIB_PFN - 8192);
      expect(normal.zone_start_pfn).toBe(FOUR_GIB_PFN);
      expect(normal.managed_pages).toBe(32 * FOUR_GIB_PFN - FOUR_GIB_PFN);
      expect(nrFreePages(mm)).toBe(32 * FOUR_GIB_PFN - 8192);
      expect(normal.freeMap.size + dma32.freeMap.size).toBe(0);
      const p = alloc_pages(mm, gfpFlags(k).GFP_KERNEL, 10);
      expect(p).toBe(FOUR_GIB_PFN); // first NORMAL block
      expect(normal.freeMap.size).toBe(0); // one block carved, taken whole
      expect(nrFreePages(mm)).toBe(32 * FOUR_GIB_PFN - 8192 - 1024);
    }
  });

  it('build is repeatable and cheap enough to do many times', () => {
    for (let i = 0; i < 200; i++) buildMm(sg2042(i % 2 === 0 ? '5.10' : '6.6'));
  });

  it('partly reserved pages are not handed over; adjacent banks merge', () => {
    const r = memblockFreePfnRanges(
      [
        { base: 0x1000n, size: 0x1800n },
        { base: 0x2800n, size: 0x1800n },
      ],
      [{ base: 0x2000n, size: 0x10n }],
    );
    // memory 0x1000..0x4000, reserved page 2 (partly) -> pages 1 and 3
    expect(r).toEqual([
      { start: 1, end: 2 },
      { start: 3, end: 4 },
    ]);
  });

  it('rejects a bad zoneDmaBits', () => {
    expect(() => buildMm({ ...threeZone('6.6'), zoneDmaBits: 70 })).toThrow(ModelError);
  });
});

describe('boot carving rule', () => {
  it('lazy max order equals the eager __free_pages_memory split', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 22 }), fc.integer({ min: 1, max: 5000 }), (start, len) => {
        const end = start + len;
        let max = -1;
        let at = start;
        __free_pages_memory(start, end, new Set(), (pfn, order) => {
          expect(pfn).toBe(at);
          expect(pfn % 2 ** order).toBe(0);
          at += 2 ** order;
          max = Math.max(max, order);
        });
        expect(at).toBe(end);
        expect(bootMaxBlockOrder(start, end, false)).toBe(max);
      }),
    );
  });
});

describe('allocation', () => {
  it('first allocation follows the boot split (order-9 block at the reserved edge)', () => {
    const mm = buildMm(board1g('6.6'));
    const G = gfpFlags('6.6');
    expect(alloc_pages(mm, G.GFP_KERNEL, 0)).toBe(0x80200);
    expect(alloc_pages(mm, G.GFP_KERNEL, 0)).toBe(0x80201);
    expect(alloc_pages(mm, G.GFP_KERNEL, 10)).toBe(0x80400);
  });

  it('order-n blocks are aligned, zoned and never overlap (random sequences, both versions)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KERNELS),
        fc.boolean(),
        fc.array(
          fc.record({
            free: fc.boolean(),
            order: fc.integer({ min: 0, max: 10 }),
            zone: fc.constantFrom('dma', 'dma32', 'kernel', 'atomic'),
            pick: fc.nat(),
          }),
          { maxLength: 80 },
        ),
        (kernel, three, ops) => {
          const cfg = three ? threeZone(kernel) : board1g(kernel);
          const mm = buildMm(cfg);
          const G = gfpFlags(kernel);
          const start = nrFreePages(mm);
          const live: { pfn: number; order: number }[] = [];
          for (const op of ops) {
            if (op.free && live.length > 0) {
              const [b] = live.splice(op.pick % live.length, 1);
              __free_pages(mm, b.pfn, b.order);
            } else {
              const gfp =
                op.zone === 'dma' ? G.GFP_KERNEL | G.GFP_DMA : op.zone === 'dma32' ? G.GFP_KERNEL | G.GFP_DMA32 : op.zone === 'kernel' ? G.GFP_KERNEL : G.GFP_ATOMIC;
              const p = alloc_pages(mm, gfp, op.order);
              if (p === null) continue;
              expect(p % 2 ** op.order).toBe(0);
              const z = zoneOfPfn(mm, p);
              expect(z).not.toBeNull();
              expect(p + 2 ** op.order).toBeLessThanOrEqual(z!.zone_start_pfn + z!.spanned_pages);
              if (op.zone === 'dma32') expect(page_to_phys(p) + (4096n << BigInt(op.order))).toBeLessThanOrEqual(4n * GiB);
              if (op.zone === 'dma' && three) expect(page_zonenum(mm, p)).toBe(ZoneType.ZONE_DMA);
              expect(PHYS_PFN(page_to_phys(p))).toBe(p);
              live.push({ pfn: p, order: op.order });
            }
            expect(conserved(mm)).toBe(true);
          }
          expect(noOverlap(mm)).toBe(true);
          for (const b of live) __free_pages(mm, b.pfn, b.order);
          expect(isCanonicalFreeState(mm)).toBe(true);
          expect(nrFreePages(mm)).toBe(start);
          expect([...allocatedBlocks(mm)]).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('GFP_DMA32 never lands above 4 GiB; GFP_KERNEL falls back to DMA32 when NORMAL runs out', () => {
    for (const k of KERNELS) {
      const mm = buildMm(threeZone(k));
      const G = gfpFlags(k);
      const normal = mm.node_zones[ZoneType.ZONE_NORMAL];
      const got = drain(mm, G.GFP_KERNEL, 4);
      const firstLow = got.findIndex((p) => p < FOUR_GIB_PFN);
      expect(firstLow).toBeGreaterThan(0);
      expect(got.slice(0, firstLow).every((p) => page_zonenum(mm, p) === ZoneType.ZONE_NORMAL)).toBe(true);
      expect(page_zonenum(mm, got[firstLow])).toBe(ZoneType.ZONE_DMA32);
      // NORMAL stopped at its watermark, not at zero.
      expect(zoneFreePages(normal)).toBeGreaterThan(0);
      // Fresh state: GFP_DMA32 drains DMA32 and then DMA, never NORMAL.
      const mm2 = buildMm(threeZone(k));
      const d = drain(mm2, G.GFP_KERNEL | G.GFP_DMA32, 0);
      expect(d.length).toBeGreaterThan(8000);
      expect(d.every((p) => p < FOUR_GIB_PFN)).toBe(true);
      expect(d.some((p) => page_zonenum(mm2, p) === ZoneType.ZONE_DMA)).toBe(true);
      expect(zoneFreePages(mm2.node_zones[ZoneType.ZONE_NORMAL])).toBe(6144);
    }
  });

  it('order limits per version: 10 works, 11 fails in both', () => {
    for (const k of KERNELS) {
      const mm = buildMm(board1g(k));
      const G = gfpFlags(k);
      const t = new Tracer();
      setTracer(t);
      let p10: number | null;
      let p11: number | null;
      try {
        p10 = alloc_pages(mm, G.GFP_KERNEL, 10);
        t.clear();
        p11 = alloc_pages(mm, G.GFP_KERNEL, 11);
      } finally {
        setTracer(null);
      }
      expect(p10).not.toBeNull();
      expect(p10! % 1024).toBe(0);
      expect(p11).toBeNull();
      const notes = t.events.filter((e) => e.fn === '#').map((e) => e.detail);
      expect(notes).toContain(k === '5.10' ? 'order >= MAX_ORDER' : 'order > MAX_ORDER');
      expect(notes).toContain('WARN_ON_ONCE');
      expect(alloc_pages(mm, G.GFP_KERNEL | G.__GFP_NOWARN, 52)).toBeNull();
    }
    expect(MAX_ORDER('5.10')).toBe(11);
    expect(MAX_ORDER('6.6')).toBe(10);
    expect(MAX_PAGE_ORDER_LARGEST).toBe(10);
  });

  it('split/merge round trip returns to the canonical state and the original free count', () => {
    for (const k of KERNELS) {
      const mm = buildMm(board1g(k));
      const G = gfpFlags(k);
      const before = nrFreePages(mm);
      const got = [0, 3, 0, 1, 5, 0, 2, 9].map((o) => ({ pfn: alloc_pages(mm, G.GFP_KERNEL, o)!, order: o }));
      expect(isCanonicalFreeState(mm)).toBe(true);
      for (const b of got.reverse()) __free_pages(mm, b.pfn, b.order);
      expect(nrFreePages(mm)).toBe(before);
      expect(isCanonicalFreeState(mm)).toBe(true);
      // The order-9 request found the first boot block split and carved the next.
      // Everything merged back to those boot blocks: 0x80200/9 then 0x80400/10.
      const blocks = freeBlocks(mm.node_zones[ZoneType.ZONE_DMA32]);
      expect(blocks).toEqual([
        { pfn: 0x80200, order: 9 },
        { pfn: 0x80400, order: 10 },
      ]);
    }
  });

  it('free lists are LIFO', () => {
    const G = gfpFlags('6.6');
    const mm2 = buildMm(board1g('6.6'));
    const ps = [0, 1, 2, 3, 4].map(() => alloc_page(mm2, G.GFP_KERNEL)!);
    // ps[1] and ps[3] have allocated buddies, so they stay order-0 blocks.
    __free_page(mm2, ps[1]);
    __free_page(mm2, ps[3]);
    expect(alloc_page(mm2, G.GFP_KERNEL)).toBe(ps[3]);
    expect(alloc_page(mm2, G.GFP_KERNEL)).toBe(ps[1]);
  });

  it('reserved ranges are never allocated, even with the watermarks ignored', () => {
    for (const k of KERNELS) {
      const reserved = [
        { base: 0x8000_1000n, size: 0x3000n },
        { base: 0x8050_0800n, size: 0x1000n }, // straddles two pages
        { base: 0x80ff_f000n, size: 0x1000n }, // last page
      ];
      const cfg: MmConfig = { ...small(k), reserved };
      const mm = buildMm(cfg);
      expect(managedPages(mm)).toBe(4096 - 3 - 2 - 1);
      const G = gfpFlags(k);
      const all: { pfn: number; order: number }[] = [];
      for (let o = 10; o >= 0; o--) for (const p of drain(mm, G.GFP_ATOMIC | G.__GFP_MEMALLOC, o)) all.push({ pfn: p, order: o });
      expect(nrFreePages(mm)).toBe(0);
      expect(allocatedPages(mm)).toBe(managedPages(mm));
      const bad = new Set([0x80001, 0x80002, 0x80003, 0x80500, 0x80501, 0x80fff]);
      for (const b of all) for (let i = 0; i < 2 ** b.order; i++) expect(bad.has(b.pfn + i)).toBe(false);
      expect(noOverlap(mm)).toBe(true);
      expect(bootFreeRanges(mm.node_zones[ZoneType.ZONE_DMA32])).toEqual([]);
    }
  });

  it('watermarks: how deep each kind of request may go', () => {
    for (const k of KERNELS) {
      const G = gfpFlags(k);
      const depth = (gfp: number): number => {
        const mm = buildMm(small(k));
        drain(mm, gfp, 0);
        return nrFreePages(mm);
      };
      const mm = buildMm(small(k));
      const min = mm.node_zones[ZoneType.ZONE_DMA32]._watermark.min;
      expect(min).toBe(128); // min_free_kbytes 512 on 16 MiB
      expect(depth(G.GFP_KERNEL)).toBe(min);
      expect(depth(G.GFP_NOWAIT)).toBe(min);
      expect(depth(G.GFP_KERNEL | G.__GFP_HIGH)).toBe(min - min / 2);
      expect(depth(G.GFP_ATOMIC)).toBe(48); // min/2, then a quarter of that
      expect(depth(G.GFP_ATOMIC | G.__GFP_MEMALLOC)).toBe(0);
      expect(depth(G.GFP_ATOMIC | G.__GFP_MEMALLOC | G.__GFP_NOMEMALLOC)).toBe(min - min / 2);
    }
    // 5.10: __GFP_ATOMIC without __GFP_HIGH still gets ALLOC_HARDER (a quarter off).
    const a = gfpFlags('5.10');
    const mm = buildMm(small('5.10'));
    drain(mm, a.__GFP_ATOMIC | a.__GFP_KSWAPD_RECLAIM, 0);
    expect(nrFreePages(mm)).toBe(96);
  });

  it('__GFP_ZERO calls the zeroPages hook', () => {
    const mm = buildMm(board1g('5.10'));
    const G = gfpFlags('5.10');
    const seen: [number, number][] = [];
    mm.zeroPages = (pfn, order) => seen.push([pfn, order]);
    const p = alloc_pages(mm, G.GFP_KERNEL | G.__GFP_ZERO, 2)!;
    alloc_pages(mm, G.GFP_KERNEL, 2);
    expect(seen).toEqual([[p, 2]]);
  });

  it('node handling and the 5.10 / 6.6 entry points', () => {
    for (const k of KERNELS) {
      const mm = buildMm(board1g(k));
      const G = gfpFlags(k);
      expect(alloc_pages_node(mm, NUMA_NO_NODE, G.GFP_KERNEL, 0)).not.toBeNull();
      expect(() => __alloc_pages_node(mm, 1, G.GFP_KERNEL, 0)).toThrow(KernelBug);
      expect(() => __alloc_pages_node(mm, -1, G.GFP_KERNEL, 0)).toThrow(KernelBug);
      const t = new Tracer();
      setTracer(t);
      try {
        alloc_pages(mm, G.GFP_KERNEL, 1);
      } finally {
        setTracer(null);
      }
      const fns = t.events.filter((e) => e.fn !== '#').map((e) => e.fn);
      const head = ['alloc_pages', 'alloc_pages_node', '__alloc_pages_node', '__alloc_pages'];
      expect(fns.slice(0, 4)).toEqual(head);
      expect(fns[4]).toBe(k === '5.10' ? '__alloc_pages_nodemask' : 'prepare_alloc_pages');
      expect(fns).toContain('get_page_from_freelist');
      expect(fns).toContain('__rmqueue_smallest');
    }
    const m66 = buildMm(board1g('6.6'));
    expect(() => __alloc_pages_nodemask(m66, 0xcc0, 0, 0, null)).toThrow(ModelError);
    expect(__alloc_pages(m66, 0xcc0, 0, 0, [1])).toBeNull(); // nodemask without node 0
    const m510 = buildMm(board1g('5.10'));
    expect(() => __alloc_pages(m510, 0xcc0, 0, 0, [0])).toThrow(ModelError);
    expect(__alloc_pages_nodemask(m510, 0xcc0, 0, 0, [0])).not.toBeNull();
  });

  it('__get_free_pages / free_pages use physical addresses; 0 is a no-op', () => {
    const mm = buildMm(board1g('6.6'));
    const G = gfpFlags('6.6');
    const before = nrFreePages(mm);
    const a = __get_free_pages(mm, G.GFP_KERNEL, 1);
    expect(a).toBe(0x8020_0000n);
    free_pages(mm, 0n, 1);
    free_pages(mm, a, 1);
    expect(nrFreePages(mm)).toBe(before);
  });
});

describe('bad frees', () => {
  it('are KernelBug', () => {
    const mm = buildMm(board1g('6.6'));
    const G = gfpFlags('6.6');
    const p = alloc_pages(mm, G.GFP_KERNEL, 2)!;
    expect(() => __free_pages(mm, p + 1, 0)).toThrow(KernelBug); // tail page
    expect(() => __free_pages(mm, p, 1)).toThrow(KernelBug); // wrong order
    expect(() => __free_pages(mm, 0x90000, 0)).toThrow(KernelBug); // never allocated
    __free_pages(mm, p, 2);
    expect(() => __free_pages(mm, p, 2)).toThrow(KernelBug); // double free
    expect(() => __free_pages(mm, p, -1)).toThrow(ModelError);
    expect(conserved(mm)).toBe(true);
  });
});

describe('faults', () => {
  it('buddy-no-merge: frees never merge, so the state is not canonical', () => {
    const ok = buildMm(board1g('6.6'));
    const bad = buildMm(board1g('6.6', ['buddy-no-merge']));
    const G = gfpFlags('6.6');
    for (const mm of [ok, bad]) {
      const before = nrFreePages(mm);
      const p = alloc_pages(mm, G.GFP_KERNEL, 0)!;
      __free_pages(mm, p, 0);
      expect(nrFreePages(mm)).toBe(before);
    }
    expect(isCanonicalFreeState(ok)).toBe(true);
    expect(isCanonicalFreeState(bad)).toBe(false);
    // The unmerged halves still serve order-0 requests, but an order-9 request must carve elsewhere.
    expect(alloc_pages(ok, G.GFP_KERNEL, 9)).toBe(0x80200);
    expect(alloc_pages(bad, G.GFP_KERNEL, 9)).not.toBe(0x80200);
  });

  it('buddy-split-keeps-upper: two allocations get the same block', () => {
    const G = gfpFlags('5.10');
    const ok = buildMm(threeZone('5.10'));
    const bad = buildMm(threeZone('5.10', ['buddy-split-keeps-upper']));
    const a1 = alloc_pages(ok, G.GFP_KERNEL, 0);
    const a2 = alloc_pages(ok, G.GFP_KERNEL, 0);
    expect(a1).not.toBe(a2);
    const b1 = alloc_pages(bad, G.GFP_KERNEL, 0);
    const b2 = alloc_pages(bad, G.GFP_KERNEL, 0);
    expect(b1).toBe(b2);
    expect(noOverlap(bad)).toBe(false);
    expect(conserved(bad)).toBe(false);
    // Both holders can free; the structures stay usable.
    __free_pages(bad, b1!, 0);
    __free_pages(bad, b2!, 0);
    expect(() => __free_pages(bad, b1!, 0)).toThrow(KernelBug);
  });

  it('buddy-unaligned-carve: boot blocks start off their alignment', () => {
    const reserved = [{ base: 0x8000_0000n, size: 0x1000n }]; // free memory starts at pfn 0x80001
    const ok = buildMm(board1g('6.6', [], reserved));
    const bad = buildMm(board1g('6.6', ['buddy-unaligned-carve'], reserved));
    const G = gfpFlags('6.6');
    const p = alloc_pages(ok, G.GFP_KERNEL, 10)!;
    const q = alloc_pages(bad, G.GFP_KERNEL, 10)!;
    expect(p % 1024).toBe(0);
    expect(q).toBe(0x80001);
    expect(q % 1024).not.toBe(0);
    // Still never outside the zone's free memory.
    expect(zoneOfPfn(bad, q)!.idx).toBe(ZoneType.ZONE_DMA32);
  });

  it('gfp-zone-dma32-as-normal: GFP_DMA32 lands above 4 GiB on the SG2042 map', () => {
    const G = gfpFlags('6.6');
    const ok = buildMm(sg2042('6.6'));
    const bad = buildMm(sg2042('6.6', ['gfp-zone-dma32-as-normal']));
    expect(alloc_pages(ok, G.GFP_KERNEL | G.GFP_DMA32, 0)!).toBeLessThan(FOUR_GIB_PFN);
    expect(alloc_pages(bad, G.GFP_KERNEL | G.GFP_DMA32, 0)!).toBeGreaterThanOrEqual(FOUR_GIB_PFN);
  });
});
