import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { ZoneType } from '../../reference/mm/mmzone.ts';
import { allocatedPages, buildMm, page_zonenum, type MmConfig } from '../../reference/mm/page_alloc.ts';
import {
  KMALLOC_MAX_CACHE_SIZE,
  KMALLOC_MAX_SIZE,
  KMALLOC_MIN_SIZE,
  ZERO_SIZE_PTR,
  __kmalloc_minalign,
  kfree,
  kmalloc,
  kmallocCaches,
  kmallocCreate,
  kmallocMinalign,
  kmallocObjects,
  kmallocSlabPages,
  kmalloc_index,
  kmalloc_size_roundup,
  ksize,
  type KmallocState,
  type SlabConfig,
} from '../../reference/mm/slab.ts';
import { KernelBug, ModelError, PAGE_SIZE, PHYS_PFN } from '../../reference/types.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;

function mmCfg(kernel: KernelVersion, zoneDma = false): MmConfig {
  return {
    kernel,
    memory: [{ base: 0x8000_0000n, size: GiB }],
    reserved: [{ base: 0x8000_0000n, size: 2n * MiB }],
    CONFIG_ZONE_DMA: zoneDma,
    CONFIG_ZONE_DMA32: true,
    zoneDmaBits: 32,
    faults: new Set(),
  };
}

type Variant = 'main510' | 'vendor510' | 'nc66' | 'bounce66' | 'coh66';

function cfgOf(v: Variant, faults: string[] = []): SlabConfig {
  const f = new Set(faults);
  switch (v) {
    case 'main510':
      return { kernel: '5.10', ARCH_KMALLOC_MINALIGN: 8, ARCH_DMA_MINALIGN: null, faults: f };
    case 'vendor510':
      return { kernel: '5.10', ARCH_KMALLOC_MINALIGN: 64, ARCH_DMA_MINALIGN: 64, faults: f };
    case 'nc66':
      return { kernel: '6.6', ARCH_KMALLOC_MINALIGN: 8, ARCH_DMA_MINALIGN: 64, faults: f };
    case 'bounce66':
      return { kernel: '6.6', ARCH_KMALLOC_MINALIGN: 8, ARCH_DMA_MINALIGN: 64, bounceUnalignedKmalloc: true, faults: f };
    case 'coh66':
      return { kernel: '6.6', ARCH_KMALLOC_MINALIGN: 8, ARCH_DMA_MINALIGN: null, faults: f };
  }
}

function make(v: Variant, faults: string[] = [], zoneDma = false): KmallocState {
  const cfg = cfgOf(v, faults);
  return kmallocCreate(buildMm(mmCfg(cfg.kernel, zoneDma)), cfg);
}

function K(st: KmallocState): number {
  return gfpFlags(st.cfg.kernel).GFP_KERNEL;
}

function alloc(st: KmallocState, size: number, gfp = K(st)): bigint {
  const pa = kmalloc(st, size, gfp);
  if (pa === null) throw new Error(`kmalloc(${size}) failed`);
  return pa;
}

const line = (pa: bigint): bigint => pa >> 6n;
const ALL = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
const FROM64 = [64, 128, 192, 256, 512, 1024, 2048, 4096, 8192];

describe('kmalloc size classes', () => {
  it('creates the caches each configuration has', () => {
    expect(kmallocCaches(make('main510')).map((c) => c.object_size)).toEqual(ALL);
    expect(kmallocCaches(make('vendor510')).map((c) => c.object_size)).toEqual(FROM64);
    expect(kmallocCaches(make('nc66')).map((c) => c.object_size)).toEqual(FROM64);
    expect(kmallocCaches(make('bounce66')).map((c) => c.object_size)).toEqual(ALL);
    expect(kmallocCaches(make('coh66')).map((c) => c.object_size)).toEqual(ALL);
    expect(kmallocCaches(make('main510')).map((c) => c.name).slice(0, 5)).toEqual(['kmalloc-8', 'kmalloc-16', 'kmalloc-32', 'kmalloc-64', 'kmalloc-96']);
  });

  it('6.6 aliases caches below the boot-time alignment to the aligned cache', () => {
    const st = make('nc66');
    const n = st.kmalloc_caches.KMALLOC_NORMAL;
    expect(n[3]).toBe(n[6]); // kmalloc-8 -> kmalloc-64
    expect(n[5]).toBe(n[6]);
    expect(n[1]).toBe(n[7]); // kmalloc-96 -> kmalloc-128
    expect(n[2]?.object_size).toBe(192);
    expect(st.KMALLOC_MIN_SIZE).toBe(8);
    expect(st.minalign).toBe(64);
  });

  it('minimum alignment per version and switch', () => {
    expect(kmallocMinalign(cfgOf('main510'))).toBe(8);
    expect(kmallocMinalign(cfgOf('vendor510'))).toBe(64);
    expect(kmallocMinalign(cfgOf('nc66'))).toBe(64);
    expect(kmallocMinalign(cfgOf('bounce66'))).toBe(8);
    expect(kmallocMinalign(cfgOf('coh66'))).toBe(8);
    expect(kmallocMinalign({ ...cfgOf('nc66'), dma_cache_alignment: 1 })).toBe(8);
    expect(__kmalloc_minalign(cfgOf('nc66'))).toBe(64);
    expect(() => __kmalloc_minalign(cfgOf('main510'))).toThrow(ModelError);
    expect(KMALLOC_MIN_SIZE(cfgOf('vendor510'))).toBe(64);
    expect(KMALLOC_MIN_SIZE(cfgOf('vendor510', ['kmalloc-minalign-8']))).toBe(8);
  });

  it('kmalloc_index follows include/linux/slab.h', () => {
    const m = cfgOf('main510');
    const table: [number, number][] = [[0, 0], [1, 3], [8, 3], [9, 4], [64, 6], [65, 1], [96, 1], [97, 7], [128, 7], [129, 2], [192, 2], [193, 8], [8192, 13], [8193, 14], [64 << 20, 26]];
    for (const [s, i] of table) expect(kmalloc_index(s, m), `size ${s}`).toBe(i);
    const v = cfgOf('vendor510');
    expect(kmalloc_index(1, v)).toBe(6);
    expect(kmalloc_index(65, v)).toBe(7); // no kmalloc-96 with a 64-byte minimum
    expect(kmalloc_index(129, v)).toBe(2); // kmalloc-192 stays
    expect(() => kmalloc_index((64 << 20) + 1, m)).toThrow(KernelBug);
    expect(kmalloc_index(32 << 20, cfgOf('nc66'))).toBe(25);
    expect(() => kmalloc_index((32 << 20) + 1, cfgOf('nc66'))).toThrow(KernelBug);
  });

  it('kmalloc_size_roundup (6.6 only)', () => {
    const nc = cfgOf('nc66');
    const t: [number, number][] = [[0, 0], [1, 64], [64, 64], [65, 128], [96, 128], [129, 192], [200, 256], [8192, 8192], [8193, 16384], [KMALLOC_MAX_SIZE, KMALLOC_MAX_SIZE], [KMALLOC_MAX_SIZE + 1, KMALLOC_MAX_SIZE + 1]];
    for (const [s, r] of t) expect(kmalloc_size_roundup(s, nc), `size ${s}`).toBe(r);
    const b = cfgOf('bounce66');
    expect(kmalloc_size_roundup(1, b)).toBe(8);
    expect(kmalloc_size_roundup(90, b)).toBe(96);
    expect(() => kmalloc_size_roundup(1, cfgOf('main510'))).toThrow(ModelError);
  });

  it('rejects inconsistent configurations', () => {
    expect(() => kmallocCreate(buildMm(mmCfg('5.10')), { kernel: '5.10', ARCH_KMALLOC_MINALIGN: 8, ARCH_DMA_MINALIGN: 64, faults: new Set() })).toThrow(ModelError);
    expect(() => kmallocCreate(buildMm(mmCfg('6.6')), { kernel: '6.6', ARCH_KMALLOC_MINALIGN: 12, ARCH_DMA_MINALIGN: 64, faults: new Set() })).toThrow(ModelError);
    expect(() => kmallocCreate(buildMm(mmCfg('6.6')), cfgOf('main510'))).toThrow(ModelError);
  });
});

describe('kmalloc placement', () => {
  it('with minimum alignment 8 two kmalloc-16 objects share a 64-byte line', () => {
    for (const v of ['main510', 'bounce66', 'coh66'] as const) {
      const st = make(v);
      const a = alloc(st, 16);
      const b = alloc(st, 16);
      expect(b - a).toBe(16n);
      expect(line(a)).toBe(line(b));
      expect(a % 8n).toBe(0n);
    }
  });

  it('with 64-byte minimum alignment neighbours never share a line', () => {
    for (const v of ['vendor510', 'nc66'] as const) {
      const st = make(v);
      const a = alloc(st, 16);
      const b = alloc(st, 16);
      expect(b - a).toBe(64n);
      expect(line(a)).not.toBe(line(b));
      expect(ksize(st, a)).toBe(64);
    }
  });

  it('kmalloc-96 objects straddle lines under minalign 8', () => {
    const st = make('main510');
    const objs = [alloc(st, 90), alloc(st, 90), alloc(st, 90)];
    expect(objs.map((p) => Number(p % 64n))).toEqual([0, 32, 0]);
    expect(line(objs[0] + 95n)).toBe(line(objs[1]));
  });

  it('hands out the lowest free object first and reuses freed ones', () => {
    const st = make('main510');
    const a = alloc(st, 32);
    const b = alloc(st, 32);
    const c = alloc(st, 32);
    expect([b - a, c - a]).toEqual([32n, 64n]);
    expect(a % BigInt(PAGE_SIZE)).toBe(0n);
    kfree(st, b);
    expect(alloc(st, 32)).toBe(b);
    kfree(st, a);
    kfree(st, c);
    expect(alloc(st, 20)).toBe(a);
  });

  it('objects of different caches never share a page', () => {
    const st = make('main510');
    const pfns = [8, 16, 32, 96, 192, 512].map((s) => PHYS_PFN(alloc(st, s)));
    expect(new Set(pfns).size).toBe(pfns.length);
  });

  it('large allocations are whole buddy blocks', () => {
    const st = make('nc66');
    const before = allocatedPages(st.mm);
    const p = alloc(st, KMALLOC_MAX_CACHE_SIZE + 1);
    expect(p % BigInt(PAGE_SIZE)).toBe(0n);
    expect(ksize(st, p)).toBe(16384);
    expect(st.mm.allocated.get(PHYS_PFN(p))).toBe(2);
    expect(allocatedPages(st.mm) - before).toBe(4);
    kfree(st, p + 100n); // an interior pointer frees the whole block (virt_to_head_page)
    expect(st.mm.allocated.has(PHYS_PFN(p))).toBe(false);
    const big = alloc(st, KMALLOC_MAX_SIZE);
    expect(st.mm.allocated.get(PHYS_PFN(big))).toBe(10);
    expect(kmalloc(st, KMALLOC_MAX_SIZE + 1, K(st))).toBeNull();
  });

  it('8192 is still a slab object, 8193 is not', () => {
    const st = make('main510');
    const p = alloc(st, 8192);
    expect(ksize(st, p)).toBe(8192);
    expect(st.mm.allocated.has(PHYS_PFN(p))).toBe(true);
    expect(st.slabOfPfn.has(PHYS_PFN(p))).toBe(true);
  });

  it('zero size, NULL and errors', () => {
    const st = make('main510');
    expect(kmalloc(st, 0, K(st))).toBe(ZERO_SIZE_PTR);
    expect(ksize(st, ZERO_SIZE_PTR)).toBe(0);
    kfree(st, ZERO_SIZE_PTR);
    kfree(st, 0n);
    const a = alloc(st, 64);
    expect(() => kfree(st, a + 8n)).toThrow(KernelBug);
    kfree(st, a);
    expect(() => kfree(st, a)).toThrow(KernelBug);
    expect(() => kfree(st, 0x9000_0000n)).toThrow(KernelBug);
    expect(() => ksize(st, a)).toThrow(ModelError);
  });

  it('__GFP_ZERO zeroes the object, not the slab page', () => {
    const zeroed: [bigint, number][] = [];
    const cfg = { ...cfgOf('main510'), zeroObject: (pa: bigint, len: number) => zeroed.push([pa, len]) };
    const st = kmallocCreate(buildMm(mmCfg('5.10')), cfg);
    let pages = 0;
    st.mm.zeroPages = () => pages++;
    const G = gfpFlags('5.10');
    const p = alloc(st, 100, G.GFP_KERNEL | G.__GFP_ZERO);
    expect(zeroed).toEqual([[p, 128]]);
    expect(pages).toBe(0);
    alloc(st, 20000, G.GFP_KERNEL | G.__GFP_ZERO);
    expect(pages).toBe(1);
  });

  it('__GFP_DMA32 is fixed up for slab pages; GFP_DMA uses dma-kmalloc caches with ZONE_DMA', () => {
    const t = new Tracer();
    setTracer(t);
    try {
      const st = make('main510');
      const G = gfpFlags('5.10');
      alloc(st, 64, G.GFP_KERNEL | G.__GFP_DMA32);
      expect(t.events.some((e) => e.detail === 'Unexpected gfp: fixing up')).toBe(true);
    } finally {
      setTracer(null);
    }
    const st = make('main510', [], true);
    const G = gfpFlags('5.10');
    const d = alloc(st, 64, G.GFP_KERNEL | G.__GFP_DMA);
    const n = alloc(st, 64);
    expect(PHYS_PFN(d)).not.toBe(PHYS_PFN(n));
    expect(st.slabOfPfn.get(PHYS_PFN(d))?.cache.name).toBe('dma-kmalloc-64');
    expect(page_zonenum(st.mm, PHYS_PFN(d))).toBe(ZoneType.ZONE_DMA);
    // Without CONFIG_ZONE_DMA, __GFP_DMA goes to the normal caches.
    const st2 = make('nc66');
    const G6 = gfpFlags('6.6');
    const a = alloc(st2, 64, G6.GFP_KERNEL | G6.__GFP_DMA);
    const b = alloc(st2, 64);
    expect(b - a).toBe(64n);
  });

  it('empty slabs beyond min_partial go back to the buddy allocator', () => {
    const st = make('main510');
    const before = allocatedPages(st.mm);
    const objs: bigint[] = [];
    for (let i = 0; i < 28; i++) objs.push(alloc(st, 8000));
    const c = kmallocCaches(st).find((x) => x.object_size === 8192);
    expect(c?.objects).toBe(4);
    expect(c?.order).toBe(3);
    expect(c?.slabs.size).toBe(7);
    for (const p of objs) kfree(st, p);
    expect(c?.slabs.size).toBe(c?.min_partial);
    expect(allocatedPages(st.mm) - before).toBe(kmallocSlabPages(st));
  });

  it('lists live objects', () => {
    const st = make('nc66');
    const a = alloc(st, 10);
    const b = alloc(st, 9000);
    const objs = [...kmallocObjects(st)].sort((x, y) => (x.pa < y.pa ? -1 : 1));
    expect(objs).toEqual(
      [
        { pa: a, size: 10, cacheSize: 64 },
        { pa: b, size: 9000, cacheSize: 16384 },
      ].sort((x, y) => (x.pa < y.pa ? -1 : 1)),
    );
  });
});

describe('fault kmalloc-minalign-8', () => {
  it('lets small objects share lines where the kernel guarantees 64', () => {
    for (const v of ['vendor510', 'nc66'] as const) {
      const st = make(v, ['kmalloc-minalign-8']);
      expect(st.minalign).toBe(8);
      const a = alloc(st, 16);
      const b = alloc(st, 16);
      expect(b - a).toBe(16n);
      expect(line(a)).toBe(line(b));
      expect(kmallocCaches(st)[0].object_size).toBe(8);
    }
  });
});

describe('kmalloc sequences (property)', () => {
  const variants: Variant[] = ['main510', 'vendor510', 'nc66', 'bounce66'];
  const op = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 20000 })) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  );

  it('alignment, no overlap, no shared line under 64-byte alignment, page conservation', () => {
    fc.assert(
      fc.property(fc.constantFrom(...variants), fc.boolean(), fc.array(op, { maxLength: 60 }), (v, fault, ops) => {
        const st = make(v, fault ? ['kmalloc-minalign-8'] : []);
        const base = allocatedPages(st.mm);
        const live: bigint[] = [];
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const p = kmalloc(st, o.size, K(st));
            if (p !== null) live.push(p);
          } else if (live.length > 0) {
            const [p] = live.splice(o.pick % live.length, 1);
            kfree(st, p);
          }
        }
        const objs = [...kmallocObjects(st)].sort((x, y) => (x.pa < y.pa ? -1 : x.pa > y.pa ? 1 : 0));
        expect(objs.length).toBe(live.length);
        for (let i = 0; i < objs.length; i++) {
          const o = objs[i];
          expect(o.pa % BigInt(st.minalign)).toBe(0n);
          if ((o.cacheSize & (o.cacheSize - 1)) === 0) expect(o.pa % BigInt(Math.min(o.cacheSize, PAGE_SIZE))).toBe(0n);
          expect(o.cacheSize).toBeGreaterThanOrEqual(o.size);
          if (i > 0) {
            const prev = objs[i - 1];
            expect(prev.pa + BigInt(prev.cacheSize)).toBeLessThanOrEqual(o.pa);
            if (st.minalign >= 64) expect(line(prev.pa + BigInt(prev.size) - 1n)).toBeLessThan(line(o.pa));
          }
        }
        let largePages = 0;
        for (const a of new Set(st.largeOfPfn.values())) largePages += 2 ** a.order;
        expect(allocatedPages(st.mm) - base).toBe(kmallocSlabPages(st) + largePages);
      }),
      { numRuns: 60 },
    );
  });
});
