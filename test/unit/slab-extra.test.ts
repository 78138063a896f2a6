// mm/slub.c + slab_common.c paths the main suite leaves out: running out of
// pages (slab_out_of_memory / NULL), the reclaimable caches, slab choice when
// several have room, large allocations with bad zone bits, ksize misuse.
import { describe, expect, it } from 'vitest';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { alloc_pages, allocatedPages, buildMm, nrFreePages, page_zonenum, type MmConfig } from '../../reference/mm/page_alloc.ts';
import { ZoneType } from '../../reference/mm/mmzone.ts';
import { ZERO_SIZE_PTR, kfree, kmalloc, kmallocCreate, kmalloc_type, ksize, type KmallocState } from '../../reference/mm/slab.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { ModelError, PAGE_SIZE, PHYS_PFN } from '../../reference/types.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;

function make(kernel: KernelVersion, memory = GiB): KmallocState {
  const mm: MmConfig = {
    kernel,
    memory: [{ base: 4n * GiB, size: memory }],
    reserved: [],
    CONFIG_ZONE_DMA: false,
    CONFIG_ZONE_DMA32: true,
    zoneDmaBits: 32,
    faults: new Set(),
  };
  // 5.10 mainline (no DMA minalign) and 6.6 non-coherent (ARCH_DMA_MINALIGN 64, kmalloc minalign 8).
  const cfg = kernel === '5.10' ? { ARCH_KMALLOC_MINALIGN: 8, ARCH_DMA_MINALIGN: null } : { ARCH_KMALLOC_MINALIGN: 8, ARCH_DMA_MINALIGN: 64 };
  return kmallocCreate(buildMm(mm), { kernel, ...cfg, faults: new Set() });
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

/** Takes every free page with order-0 allocations (GFP_KERNEL | __GFP_NOWARN), as a memory hog would. */
function drain(st: KmallocState): void {
  const G = gfpFlags(st.cfg.kernel);
  while (alloc_pages(st.mm, G.GFP_KERNEL | G.__GFP_NOWARN | G.__GFP_MEMALLOC, 0) !== null);
  expect(nrFreePages(st.mm)).toBe(0);
}

describe.each(['5.10', '6.6'] as const)('out of pages on %s', (kernel) => {
  it('kmalloc returns NULL; slab_out_of_memory is reported unless __GFP_NOWARN', () => {
    const st = make(kernel, 8n * MiB);
    const G = gfpFlags(kernel);
    const first = kmalloc(st, 64, G.GFP_KERNEL)!; // a kmalloc-64 slab exists now
    drain(st);
    // A cache with a partly used slab still serves from it: no new page needed.
    expect(kmalloc(st, 64, G.GFP_KERNEL)).toBe(first + 64n);
    let got: bigint | null = 0n;
    expect(notesOf(() => (got = kmalloc(st, 256, G.GFP_KERNEL)))).toContain('slab_out_of_memory');
    expect(got).toBeNull();
    expect(notesOf(() => (got = kmalloc(st, 256, G.GFP_KERNEL | G.__GFP_NOWARN)))).not.toContain('slab_out_of_memory');
    expect(got).toBeNull();
    // Large allocations fail the same way.
    expect(kmalloc(st, 64 * 1024, G.GFP_KERNEL | G.__GFP_NOWARN)).toBeNull();
  });
});

describe('kmalloc_type', () => {
  it('__GFP_RECLAIMABLE picks the reclaimable caches; __GFP_DMA without CONFIG_ZONE_DMA does not pick a DMA cache', () => {
    for (const kernel of ['5.10', '6.6'] as const) {
      const st = make(kernel);
      const G = gfpFlags(kernel);
      expect(kmalloc_type(st, G.GFP_KERNEL)).toBe('KMALLOC_NORMAL');
      expect(kmalloc_type(st, G.GFP_KERNEL | G.__GFP_RECLAIMABLE)).toBe('KMALLOC_RECLAIM');
      expect(kmalloc_type(st, G.GFP_KERNEL | G.__GFP_DMA | G.__GFP_RECLAIMABLE)).toBe('KMALLOC_RECLAIM');
      expect(kmalloc_type(st, G.GFP_KERNEL | G.__GFP_DMA)).toBe('KMALLOC_NORMAL');
      // The reclaimable and the normal cache of one size use different slab pages.
      const r = kmalloc(st, 64, G.GFP_KERNEL | G.__GFP_RECLAIMABLE)!;
      const n = kmalloc(st, 64, G.GFP_KERNEL)!;
      expect(PHYS_PFN(r)).not.toBe(PHYS_PFN(n));
      kfree(st, r);
      kfree(st, n);
    }
  });
});

describe('slab_alloc', () => {
  it('with several slabs that have room, the lowest-PFN one serves the next object', () => {
    const st = make('6.6');
    const G = gfpFlags('6.6');
    // kmalloc-4096: 8 objects per order-3 slab. Fill three slabs.
    const objs: bigint[] = [];
    for (let i = 0; i < 24; i++) objs.push(kmalloc(st, 4096, G.GFP_KERNEL)!);
    const slabs = [...new Set(objs.map((p) => PHYS_PFN(p) & ~7))].sort((a, b) => a - b);
    expect(slabs.length).toBe(3);
    // Free one object in the highest and one in the lowest slab: the lowest gets the next object.
    const inHigh = objs.find((p) => (PHYS_PFN(p) & ~7) === slabs[2])!;
    const inLow = objs.find((p) => (PHYS_PFN(p) & ~7) === slabs[0])!;
    kfree(st, inHigh);
    kfree(st, inLow);
    expect(kmalloc(st, 4096, G.GFP_KERNEL)).toBe(inLow);
    expect(kmalloc(st, 4096, G.GFP_KERNEL)).toBe(inHigh);
  });

  it('__GFP_ZERO without a zeroing hook still allocates (the hook is how the model observes the clear)', () => {
    const st = make('5.10');
    const G = gfpFlags('5.10');
    const p = kmalloc(st, 100, G.GFP_KERNEL | G.__GFP_ZERO)!;
    expect(ksize(st, p)).toBe(128);
  });
});

describe('kmalloc_large', () => {
  it('__GFP_DMA32 is not a valid slab flag: fixed up, the pages come from the normal zones as for any GFP_KERNEL', () => {
    for (const kernel of ['5.10', '6.6'] as const) {
      const st = make(kernel);
      const G = gfpFlags(kernel);
      let pa: bigint | null = null;
      const notes = notesOf(() => (pa = kmalloc(st, 3 * PAGE_SIZE, G.GFP_KERNEL | G.__GFP_DMA32)));
      expect(notes).toContain('Unexpected gfp: fixing up');
      expect(pa).not.toBeNull();
      expect(page_zonenum(st.mm, PHYS_PFN(pa!))).toBe(ZoneType.ZONE_NORMAL); // 4 GiB and up: ZONE_NORMAL
      expect(ksize(st, pa!)).toBe(4 * PAGE_SIZE);
      expect(allocatedPages(st.mm)).toBe(4);
    }
  });
});

describe('ksize', () => {
  it('ZERO_SIZE_PTR has size 0; an address kmalloc never handed out is a model misuse', () => {
    const st = make('6.6');
    expect(ksize(st, ZERO_SIZE_PTR)).toBe(0);
    expect(() => ksize(st, 4n * GiB + 0x1234n)).toThrow(ModelError);
    kfree(st, 0n);
    kfree(st, ZERO_SIZE_PTR);
  });
});
