// reference/kernel/dma/contiguous.ts: the three ways a CMA area is reserved
// (Kconfig, cma=, device tree) and their precedence, and the dma-direct entry
// points (spec kernel-alloc.md §8.1, §8.2, §8.4).
import { describe, expect, it } from 'vitest';
import type { Profile, ReservedMemorySpec } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  cmaReserve,
  dev_get_cma_area,
  dma_alloc_contiguous,
  dma_alloc_from_contiguous,
  dma_free_contiguous,
  dma_release_from_contiguous,
  memparse,
  type CmaPlan,
} from '../../reference/kernel/dma/contiguous.ts';
import { cma_alloc, type cma } from '../../reference/mm/cma.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { alloc_pages, allocatedPages, managedPages } from '../../reference/mm/page_alloc.ts';
import { dma_direct_alloc, dma_direct_free } from '../../reference/kernel/dma/direct.ts';
import { KernelBug, PAGE_SIZE_N } from '../../reference/types.ts';

import { profileNamed } from '../support/machines.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const G = gfpFlags('6.6');

const base = profileNamed;

/** A profile with CMA on (the atomic pools, another file's business, off). */
function withCma(name: string, patch: Partial<Profile> = {}): Profile {
  const p = base(name);
  return { ...p, ...patch, kconfig: { ...p.kconfig, CONFIG_CMA: true, CONFIG_DMA_CMA: true, CONFIG_DMA_COHERENT_POOL: false, ...(patch.kconfig ?? {}) } };
}

/** 1 GiB at 0x8000_0000 (the 'board-1g' map) on either kernel. */
function board(kernel: '5.10' | '6.6', patch: Partial<Profile> = {}): Profile {
  const p = withCma(kernel === '6.6' ? 'board-1g-6.6' : 'c920-sg2042-5.10-fixed', patch);
  return { ...p, memory: [{ base: 0x8000_0000n, size: GiB }], reserved: [{ base: 0x8000_0000n, size: 2n * MiB }], ...patch, kconfig: p.kconfig };
}

function reserve(p: Profile): CmaPlan {
  return cmaReserve(p, p.memory);
}

function dt(name: string, b: bigint, size: bigint, extra: Partial<ReservedMemorySpec> = {}): ReservedMemorySpec {
  return { name, base: b, size, compatible: 'shared-dma-pool', reusable: true, ...extra };
}

function areasOf(plan: CmaPlan): [string, bigint, bigint, boolean][] {
  return plan.areas.map((a) => [a.name, a.base, a.size, a.isDefault]);
}

describe('without CONFIG_DMA_CMA', () => {
  it('no area, dma_alloc_contiguous NULL, dma_free_contiguous is __free_pages', () => {
    const p = base('board-1g-6.6');
    expect(reserve(p).areas).toEqual([]);
    const m = buildMachine(p);
    expect(m.cma).toEqual({ areas: [], default: null });
    const dev = m.devices[0];
    expect(dma_alloc_contiguous(m, dev, 64n * 1024n, G.GFP_KERNEL)).toBeNull();
    expect(dma_alloc_from_contiguous(m, null, 4, 2, false)).toBeNull();
    const pfn = alloc_pages(m.mm, G.GFP_KERNEL, 2) as number;
    const held = allocatedPages(m.mm);
    dma_free_contiguous(m, dev, pfn, 16384n);
    expect(allocatedPages(m.mm)).toBe(held - 4);
  });
});

describe('reservation by Kconfig', () => {
  it('CMA_SIZE_MBYTES default 16, placed top-down below riscv dma32_phys_limit = min(4 GiB, end of DRAM)', () => {
    expect(areasOf(reserve(board('6.6')))).toEqual([['reserved', 0xbf00_0000n, 16n * MiB, true]]);
    expect(areasOf(reserve(board('5.10')))).toEqual([['reserved', 0xbf00_0000n, 16n * MiB, true]]);
    // SG2042: 128 GiB from 0, the limit is 4 GiB.
    expect(areasOf(reserve(withCma('c920-sg2042-6.6')))).toEqual([['reserved', 0xff00_0000n, 16n * MiB, true]]);
    expect(areasOf(reserve(withCma('c920-sg2042-5.10-fixed')))).toEqual([['reserved', 0xff00_0000n, 16n * MiB, true]]);
  });

  it('size selection: MBYTES, PERCENTAGE (of memblock memory), MIN, MAX; size 0 makes no area', () => {
    const sel = (k: Record<string, boolean | number>) => reserve(board('6.6', { kconfig: k })).areas.map((a) => a.size);
    expect(sel({ CONFIG_CMA_SIZE_MBYTES: 64 })).toEqual([64n * MiB]);
    // 10 % of 262144 pages = 26214 pages, rounded up to the 4 MiB minimum alignment: 104 MiB.
    expect(sel({ CONFIG_CMA_SIZE_SEL_PERCENTAGE: true })).toEqual([104n * MiB]);
    expect(sel({ CONFIG_CMA_SIZE_SEL_PERCENTAGE: true, CONFIG_CMA_SIZE_PERCENTAGE: 1 })).toEqual([12n * MiB]);
    expect(sel({ CONFIG_CMA_SIZE_SEL_MIN: true })).toEqual([16n * MiB]);
    expect(sel({ CONFIG_CMA_SIZE_SEL_MAX: true })).toEqual([104n * MiB]);
    expect(sel({ CONFIG_CMA_SIZE_MBYTES: 0 })).toEqual([]);
  });

  it('the area is withheld from the buddy allocator and swiotlb is placed below it', () => {
    const m0 = buildMachine(base('board-1g-6.6'));
    const m = buildMachine(board('6.6'));
    expect(managedPages(m0.mm) - managedPages(m.mm)).toBe(4096);
    const pool = m.swiotlbPool;
    expect(pool).not.toBeNull();
    expect((pool as { base: bigint }).base + 128n * 2048n <= 0xbf00_0000n).toBe(true);
  });
});

describe('reservation by cma= (early_cma, memparse)', () => {
  it('memparse: base 0 (hex, octal, decimal) and K/M/G suffixes', () => {
    expect(memparse('64M', 0)).toEqual({ value: 64n * MiB, end: 3 });
    expect(memparse('0x1000k', 0)).toEqual({ value: 0x1000n << 10n, end: 7 });
    expect(memparse('010', 0)).toEqual({ value: 8n, end: 3 });
    expect(memparse('2G@', 0)).toEqual({ value: 2n * GiB, end: 2 });
    expect(memparse('foo', 0)).toEqual({ value: 0n, end: 0 });
  });

  it('cma=size overrides the Kconfig size; rounded up to the minimum alignment', () => {
    expect(areasOf(reserve(board('6.6', { cmdline: 'console=ttyS0 cma=64M' })))).toEqual([['reserved', 0xbc00_0000n, 64n * MiB, true]]);
    expect(reserve(board('5.10', { cmdline: 'cma=5M' })).areas[0].size).toBe(8n * MiB);
    expect(reserve(board('6.6', { cmdline: 'cma=5M', kconfig: { CONFIG_HUGETLB_PAGE: true } })).areas[0].size).toBe(6n * MiB);
  });

  it('cma=size@base is fixed; size@base-end is placed in [base, end)', () => {
    expect(areasOf(reserve(board('6.6', { cmdline: 'cma=32M@0xa0000000' })))).toEqual([['reserved', 0xa000_0000n, 32n * MiB, true]]);
    expect(areasOf(reserve(board('6.6', { cmdline: 'cma=32M@0x90000000-0xa0000000' })))).toEqual([['reserved', 0x9e00_0000n, 32n * MiB, true]]);
  });

  it('a fixed area above 4 GiB is refused on riscv: the limit is min_not_zero(end, dma32_phys_limit)', () => {
    const plan = reserve(withCma('c920-sg2042-6.6', { cmdline: 'cma=64M@0x100000000' }));
    expect(plan.areas).toEqual([]);
    expect(plan.log.some((l) => l.includes('exceeds limit'))).toBe(true);
    expect(plan.log).toContain('cma: Failed to reserve 64 MiB');
  });

  it('misaligned fixed base, or a base that is already reserved, gives no area', () => {
    const a = reserve(board('6.6', { cmdline: 'cma=16M@0xa0100000' }));
    expect(a.areas).toEqual([]);
    expect(a.log.some((l) => l.includes('must be aligned'))).toBe(true);
    expect(reserve(board('6.6', { cmdline: 'cma=16M@0x80000000' })).areas).toEqual([]);
  });

  it('cma=0 disables; text memparse cannot read counts as 0 (the kernel never rejects); bare "cma" is ignored', () => {
    expect(reserve(board('6.6', { cmdline: 'cma=0' })).areas).toEqual([]);
    const junk = reserve(board('6.6', { cmdline: 'cma=lots' }));
    expect(junk.areas).toEqual([]);
    expect(junk.log.some((l) => l.includes('parsed as 0'))).toBe(true);
    const bare = reserve(board('6.6', { cmdline: 'cma' }));
    expect(bare.log).toContain('Config string not provided');
    expect(bare.areas.map((x) => x.size)).toEqual([16n * MiB]);
  });

  it('the last cma= wins; arguments after "--" belong to init', () => {
    expect(reserve(board('6.6', { cmdline: 'cma=64M cma=32M' })).areas[0].size).toBe(32n * MiB);
    expect(reserve(board('6.6', { cmdline: 'quiet -- cma=64M' })).areas[0].size).toBe(16n * MiB);
  });
});

describe('reservation by the device tree (rmem_cma_setup)', () => {
  it('a linux,cma-default node becomes the default area; no Kconfig area is made then', () => {
    const plan = reserve(board('6.6', { reservedMemory: [dt('linux,cma', 0xa000_0000n, 64n * MiB, { cmaDefault: true })] }));
    expect(areasOf(plan)).toEqual([['linux,cma', 0xa000_0000n, 64n * MiB, true]]);
    expect(plan.log).toContain('Reserved memory: created CMA memory pool at 0xa0000000, size 64 MiB');
  });

  it('cma= on the command line bypasses the default node (and cma=0 leaves no area at all)', () => {
    const nodes = [dt('linux,cma', 0xa000_0000n, 64n * MiB, { cmaDefault: true })];
    const plan = reserve(board('6.6', { reservedMemory: nodes, cmdline: 'cma=32M' }));
    expect(plan.log).toContain('Reserved memory: bypass linux,cma node, using cmdline CMA params instead');
    expect(plan.log).toContain('OF: reserved mem: node linux,cma compatible matching fail');
    expect(areasOf(plan)).toEqual([['reserved', 0xbe00_0000n, 32n * MiB, true]]);
    expect(reserve(board('6.6', { reservedMemory: nodes, cmdline: 'cma=0' })).areas).toEqual([]);
    // The bypassed node's memory went back to memblock: the cma= area may take it.
    const reuse = reserve(board('6.6', { reservedMemory: nodes, cmdline: 'cma=32M@0xa0000000' }));
    expect(areasOf(reuse)).toEqual([['reserved', 0xa000_0000n, 32n * MiB, true]]);
  });

  it('a non-default node is an extra area beside the Kconfig default; the last default node wins', () => {
    const plan = reserve(board('6.6', { reservedMemory: [dt('cam', 0xa000_0000n, 8n * MiB)] }));
    expect(areasOf(plan)).toEqual([
      ['cam', 0xa000_0000n, 8n * MiB, false],
      ['reserved', 0xbf00_0000n, 16n * MiB, true],
    ]);
    const two = reserve(
      board('6.6', { reservedMemory: [dt('a', 0xa000_0000n, 8n * MiB, { cmaDefault: true }), dt('b', 0xa080_0000n, 8n * MiB, { cmaDefault: true })] }),
    );
    expect(areasOf(two).map((x) => [x[0], x[3]])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });

  it('alignment: 5.10 needs 4 MiB; 6.6 2 MiB with CONFIG_HUGETLB_PAGE (pageblock_order 9), else 4 MiB', () => {
    const node = [dt('linux,cma', 0xa020_0000n, 16n * MiB, { cmaDefault: true })];
    const k = { CONFIG_HUGETLB_PAGE: true };
    expect(reserve(board('6.6', { reservedMemory: node, kconfig: k })).areas[0].base).toBe(0xa020_0000n);
    const r510 = reserve(board('5.10', { reservedMemory: node, kconfig: k }));
    expect(r510.log).toContain('Reserved memory: incorrect alignment of CMA region');
    expect(areasOf(r510)).toEqual([['reserved', 0xbf00_0000n, 16n * MiB, true]]);
    expect(reserve(board('6.6', { reservedMemory: node })).log).toContain('Reserved memory: incorrect alignment of CMA region');
  });

  it('not reusable, or no-map, is not a CMA area', () => {
    const plan = reserve(
      board('6.6', {
        reservedMemory: [dt('coh', 0xa000_0000n, 4n * MiB, { reusable: false }), dt('nomap', 0xa040_0000n, 4n * MiB, { noMap: true })],
        kconfig: { CONFIG_CMA_SIZE_MBYTES: 0 },
      }),
    );
    expect(plan.areas).toEqual([]);
    expect(plan.log).toContain('OF: reserved mem: node nomap compatible matching fail');
  });

  it('a device whose memory-region names a claimed node gets it as dev->cma_area', () => {
    const devices = [
      { name: 'isp0', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32, memoryRegion: 'cam' },
      { name: 'sdhci0', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32 },
    ];
    const m = buildMachine(board('6.6', { devices, reservedMemory: [dt('cam', 0xa000_0000n, 8n * MiB)] }));
    const cam = m.cma.areas.find((a) => a.name === 'cam') as cma;
    expect(m.devices[0].cma_area).toBe(cam);
    expect(m.devices[1].cma_area).toBeNull();
    expect(dev_get_cma_area(m, m.devices[0])).toBe(cam);
    expect(dev_get_cma_area(m, m.devices[1])).toBe(m.cma.default);
    expect(dev_get_cma_area(m, null)?.name).toBe('reserved');
  });
});

function camMachine(kconfig: Record<string, boolean | number> = {}, faults: Profile['faults'] = []): Machine {
  const devices = [
    { name: 'isp0', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, memoryRegion: 'cam' },
    { name: 'eth0', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 },
  ];
  return buildMachine(board('6.6', { devices, reservedMemory: [dt('cam', 0xa000_0000n, 4n * MiB)], kconfig, faults }));
}

describe('dma_alloc_contiguous / dma_free_contiguous (§8.1, §8.2)', () => {
  it('non-blocking gfp -> NULL, even with room', () => {
    const m = camMachine();
    expect(dma_alloc_contiguous(m, m.devices[1], 64n * 1024n, G.GFP_ATOMIC)).toBeNull();
    expect(dma_alloc_contiguous(m, m.devices[0], 64n * 1024n, G.GFP_NOWAIT)).toBeNull();
  });

  it('no device area: one page -> NULL (buddy); larger -> default area, aligned to get_order(size)', () => {
    const m = camMachine();
    const d = m.devices[1];
    expect(dma_alloc_contiguous(m, d, PAGE_SIZE_N, G.GFP_KERNEL)).toBeNull();
    expect(dma_alloc_contiguous(m, d, 100n, G.GFP_KERNEL)).toBeNull();
    const p1 = dma_alloc_contiguous(m, d, 8192n, G.GFP_KERNEL) as number; // spec §13 example 1: order 1 -> even PFN
    expect(p1).toBe(0xbf000);
    const p2 = dma_alloc_contiguous(m, d, 4n * 4096n, G.GFP_KERNEL) as number;
    expect(p2).toBe(0xbf004);
    const p3 = dma_alloc_contiguous(m, d, 12288n, G.GFP_KERNEL) as number; // 3 pages, order 2
    expect(p3 % 4).toBe(0);
    expect(p3).toBe(0xbf008);
  });

  it('device area: any size, including one page; no fall-back to the default area when it is full', () => {
    const m = camMachine();
    const isp = m.devices[0];
    const one = dma_alloc_contiguous(m, isp, 4096n, G.GFP_KERNEL) as number;
    expect(one).toBe(0xa0000);
    expect(dma_alloc_contiguous(m, isp, 4n * MiB, G.GFP_KERNEL)).toBeNull(); // 1023 pages left
    dma_free_contiguous(m, isp, one, 4096n);
    expect(dma_alloc_contiguous(m, isp, 4n * MiB, G.GFP_KERNEL)).toBe(0xa0000);
    // Full: NULL although the default area has 16 MiB free.
    expect(dma_alloc_contiguous(m, isp, 4096n, G.GFP_KERNEL)).toBeNull();
    expect(dma_alloc_contiguous(m, isp, 8192n, G.GFP_KERNEL)).toBeNull();
    expect(m.cma.default?.allocated.size).toBe(0);
  });

  it('free: device area first (count = PAGE_ALIGN(size) pages); default area without one; else __free_pages', () => {
    const m = camMachine();
    const [isp, eth] = m.devices;
    const cam = isp.cma_area as cma;
    const p = dma_alloc_contiguous(m, isp, 5000n, G.GFP_KERNEL) as number;
    expect(cam.allocated.get(p)).toBe(1); // size >> PAGE_SHIFT: the caller page-aligns first
    dma_free_contiguous(m, isp, p, 4096n);
    expect(cam.allocated.size).toBe(0);
    const q = dma_alloc_contiguous(m, eth, 8192n, G.GFP_KERNEL) as number;
    dma_free_contiguous(m, eth, q, 8192n);
    expect(m.cma.default?.allocated.size).toBe(0);
    // Buddy pages freed through a device with its own area go to the buddy allocator.
    const b = alloc_pages(m.mm, G.GFP_KERNEL, 1) as number;
    const held = allocatedPages(m.mm);
    dma_free_contiguous(m, isp, b, 8192n);
    expect(allocatedPages(m.mm)).toBe(held - 2);
  });

  it('with a device area, default-area pages are not looked for: they reach __free_pages (a bad page)', () => {
    const m = camMachine();
    const [isp, eth] = m.devices;
    const q = dma_alloc_contiguous(m, eth, 8192n, G.GFP_KERNEL) as number;
    expect(() => dma_free_contiguous(m, isp, q, 8192n)).toThrow(KernelBug);
  });

  it('CONFIG_CMA_ALIGNMENT caps the alignment (default 8: 1 MiB); fault cma-alignment-uncapped does not', () => {
    for (const [faults, want] of [
      [[], 0xbf100],
      [['cma-alignment-uncapped'], 0xbf400],
    ] as const) {
      const m = camMachine({}, [...faults]);
      const d = m.devices[1];
      expect(dma_alloc_contiguous(m, d, 8192n, G.GFP_KERNEL)).toBe(0xbf000);
      expect(dma_alloc_contiguous(m, d, 4n * MiB, G.GFP_KERNEL)).toBe(want); // get_order = 10
    }
    const m4 = camMachine({ CONFIG_CMA_ALIGNMENT: 4 });
    expect(dma_alloc_contiguous(m4, m4.devices[1], 8192n, G.GFP_KERNEL)).toBe(0xbf000);
    expect(dma_alloc_contiguous(m4, m4.devices[1], 1n * MiB, G.GFP_KERNEL)).toBe(0xbf010);
  });

  it('dma_alloc_from_contiguous caps align too and uses dev_get_cma_area; release through the same area', () => {
    const m = camMachine();
    expect(dma_alloc_from_contiguous(m, null, 1, 0, false)).toBe(0xbf000);
    const p = dma_alloc_from_contiguous(m, null, 1024, 10, false) as number;
    expect(p).toBe(0xbf100);
    const mu = camMachine({}, ['cma-alignment-uncapped']);
    dma_alloc_from_contiguous(mu, null, 1, 0, false);
    expect(dma_alloc_from_contiguous(mu, null, 1024, 10, false)).toBe(0xbf400);
    expect(dma_release_from_contiguous(m, null, p, 1024)).toBe(true);
    expect(dma_release_from_contiguous(m, null, 0xa0000, 1)).toBe(false); // not in the default area
    expect(dma_alloc_from_contiguous(m, m.devices[0], 1, 0, false)).toBe(0xa0000);
    expect(dma_release_from_contiguous(m, m.devices[0], 0xa0000, 1)).toBe(true);
  });

  it('logs each request for an observer as the caller made it, before the cap (model observation)', () => {
    const m = camMachine({}, ['cma-alignment-uncapped']);
    const def = m.cma.default as cma;
    const cam = m.devices[0].cma_area as cma;
    def.requests = [];
    cam.requests = [];
    const a = dma_alloc_contiguous(m, m.devices[1], 4n * MiB, G.GFP_KERNEL);
    const b = dma_alloc_from_contiguous(m, null, 1024, 10, false);
    dma_alloc_contiguous(m, m.devices[0], 8192n, G.GFP_KERNEL);
    dma_release_from_contiguous(m, null, b as number, 1024);
    expect(def.requests).toEqual([
      { fn: 'cma_alloc_aligned', size: 4n * MiB, pfn: a },
      { fn: 'dma_alloc_from_contiguous', count: 1024, align: 10, pfn: b },
      { fn: 'cma_release', pfn: b, count: 1024, released: true },
    ]);
    expect(cam.requests).toEqual([{ fn: 'cma_alloc_aligned', size: 8192n, pfn: 0xa0000 }]);
  });

  it('historic D4b end to end: a 16 MiB dma_alloc_coherent on board-1g-6.6-cma-align12 is 16 MiB-aligned, 8 MiB-aligned with the fault', () => {
    const p = base('board-1g-6.6-cma-align12');
    for (const [faults, want] of [
      [[], 0xb900_0000n],
      [['cma-aligned-offset-wrong'], 0xb880_0000n],
    ] as const) {
      const m = buildMachine({ ...p, faults: [...faults] });
      const h = { dma_handle: 0n };
      expect(m.cma.default?.base_pfn).toBe(0xb8400);
      expect(dma_direct_alloc(m, m.devices[0], 16n * MiB, h, G.GFP_KERNEL, 0)).not.toBeNull();
      expect(h.dma_handle).toBe(want);
    }
  });

  it('exhaustion of the default area: NULL, and memory comes back after release', () => {
    const m = camMachine();
    const d = m.devices[1];
    const all = dma_alloc_contiguous(m, d, 16n * MiB, G.GFP_KERNEL) as number;
    expect(all).toBe(0xbf000);
    expect(dma_alloc_contiguous(m, d, 8192n, G.GFP_KERNEL)).toBeNull();
    expect(cma_alloc(m, m.cma.default, 1, 0, true)).toBeNull();
    dma_free_contiguous(m, d, all, 16n * MiB);
    expect(dma_alloc_contiguous(m, d, 8192n, G.GFP_KERNEL)).toBe(0xbf000);
  });

  it('dma_direct_alloc on a blocking path takes a multi-page buffer from CMA and frees it back', () => {
    const m = camMachine();
    const d = m.devices[1];
    const h = { dma_handle: 0n };
    const va = dma_direct_alloc(m, d, 3n * 4096n, h, G.GFP_KERNEL, 0);
    expect(va).not.toBeNull();
    expect(h.dma_handle).toBe(0xbf00_0000n);
    expect(m.cma.default?.allocated.get(0xbf000)).toBe(3);
    dma_direct_free(m, d, 3n * 4096n, va as bigint, h.dma_handle, 0);
    expect(m.cma.default?.allocated.size).toBe(0);
  });
});
