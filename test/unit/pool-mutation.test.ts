// reference/kernel/dma/pool.ts: exact outcomes that StrykerJS showed no other test
// pins down (bench/mutation-equivalents.md lists the survivors that cannot be killed).
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import {
  atomicPoolsOf,
  atomicPoolSummary,
  atomic_pool_work_fn,
  cma_in_zone,
  dma_alloc_from_pool,
  dma_atomic_pool_init,
  dma_free_from_pool,
  isAtomicPoolAddr,
} from '../../reference/kernel/dma/pool.ts';
import { gen_pool_avail, gen_pool_size } from '../../reference/lib/genalloc.ts';
import { alloc_pages, __free_pages, nrFreePages, zoneOfPfn, ZoneType } from '../../reference/mm/page_alloc.ts';
import { isLinearMapAddr, page_address } from '../../reference/arch/riscv/pgtable.ts';
import { ENOMEM, PHYS_PFN } from '../../reference/types.ts';
import { dev, fillVmallocSpace } from '../support/machines.ts';

const KiB = 1n << 10n;
const MiB = 1n << 20n;
const GiB = 1n << 30n;
const CMA = { CONFIG_CMA: true, CONFIG_DMA_CMA: true };

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

/** Take every free page the gfp can reach (largest blocks first); returns what was taken. */
function exhaust(m: Machine, gfp: number): [number, number][] {
  const taken: [number, number][] = [];
  for (let order = 10; order >= 0; order--) {
    for (let p = alloc_pages(m.mm, gfp, order); p !== null; p = alloc_pages(m.mm, gfp, order)) taken.push([p, order]);
  }
  return taken;
}

describe('pool state after the initcall', () => {
  it('board-1g-6.6: exact log, counters, configured pools and last expansions', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    const s = atomicPoolsOf(m);
    expect(s.log).toEqual([
      'DMA: preallocated 128 KiB GFP_KERNEL pool for atomic allocations',
      'DMA: preallocated 128 KiB GFP_KERNEL|__GFP_DMA32 pool for atomic allocations',
    ]);
    expect(s.configured).toEqual({ dma: false, dma32: true, kernel: true });
    expect(s.lastExpand.kernel).toBe(0);
    expect(s.lastExpand.dma32).toBe(0);
    expect(s.lastExpand.dma).toBeNull();
    expect(s.pool_size_kernel).toBe(128n * KiB);
    expect(s.pool_size_dma32).toBe(128n * KiB);
    expect(s.pool_size_dma).toBe(0n);
    expect(s.initResult).toBe(0);
  });

  it('three-zone-5.10: every pool succeeds, the initcall returns 0', () => {
    const m = buildMachine(profile('three-zone-5.10'));
    const s = atomicPoolsOf(m);
    expect(s.initResult).toBe(0);
    expect(s.lastExpand).toEqual({ dma: 0, dma32: 0, kernel: 0 });
  });

  it('6.6 with a managed ZONE_DMA creates the dma pool (has_managed_dma true)', () => {
    const p = profile('three-zone-5.10');
    const m = buildMachine({ ...p, kernel: '6.6', kconfig: { ...profile('board-1g-6.6').kconfig, CONFIG_ZONE_DMA: true }, platform: profile('board-1g-6.6').platform });
    const s = atomicPoolsOf(m);
    expect(s.configured.dma).toBe(true);
    expect(s.atomic_pool_dma).not.toBeNull();
    expect(zoneOfPfn(m.mm, PHYS_PFN(s.atomic_pool_dma!.chunks[0].phys_addr))?.idx).toBe(ZoneType.ZONE_DMA);
  });

  it('the initcall rerun with the page allocator exhausted: every pool NULL, -ENOMEM everywhere', () => {
    const m = buildMachine(profile('three-zone-5.10'));
    exhaust(m, gfpFlags('5.10').GFP_KERNEL);
    exhaust(m, gfpFlags('5.10').GFP_KERNEL | gfpFlags('5.10').GFP_DMA32);
    exhaust(m, gfpFlags('5.10').GFP_KERNEL | gfpFlags('5.10').GFP_DMA);
    expect(dma_atomic_pool_init(m)).toBe(-ENOMEM);
    const s = atomicPoolsOf(m);
    expect(s.atomic_pool_kernel).toBeNull();
    expect(s.atomic_pool_dma).toBeNull();
    expect(s.atomic_pool_dma32).toBeNull();
    expect(s.lastExpand).toEqual({ dma: -ENOMEM, dma32: -ENOMEM, kernel: -ENOMEM });
    expect(s.initResult).toBe(-ENOMEM);
    expect(s.configured).toEqual({ dma: true, dma32: true, kernel: true });
  });

  it('only the kernel pool fails: the initcall still returns -ENOMEM', () => {
    // board-1g: all RAM is DMA32, so the kernel pool fails exactly when DMA32 does; re-run with the
    // buddy empty and check both results separately.
    const m = buildMachine(profile('board-1g-6.6'));
    exhaust(m, gfpFlags('6.6').GFP_KERNEL);
    expect(dma_atomic_pool_init(m)).toBe(-ENOMEM);
    const s = atomicPoolsOf(m);
    expect(s.lastExpand.kernel).toBe(-ENOMEM);
    expect(s.lastExpand.dma32).toBe(-ENOMEM);
  });
});

describe('the initcall result when one pool fails', () => {
  it('three-zone-5.10, GFP_KERNEL exhausted: only the kernel pool fails (the lowmem reserve feeds the others)', () => {
    const m = buildMachine(profile('three-zone-5.10'));
    exhaust(m, gfpFlags('5.10').GFP_KERNEL);
    expect(dma_atomic_pool_init(m)).toBe(-ENOMEM);
    const s = atomicPoolsOf(m);
    expect(s.lastExpand).toEqual({ dma: 0, dma32: 0, kernel: -ENOMEM });
  });

  it('three-zone-5.10, GFP_DMA32 exhausted: only the dma32 pool fails', () => {
    const m = buildMachine(profile('three-zone-5.10'));
    const G = gfpFlags('5.10');
    exhaust(m, G.GFP_KERNEL | G.GFP_DMA32);
    expect(dma_atomic_pool_init(m)).toBe(-ENOMEM);
    expect(atomicPoolsOf(m).lastExpand).toEqual({ dma: 0, dma32: -ENOMEM, kernel: 0 });
  });

  it('without CONFIG_ZONE_DMA32 no dma32 pool is configured', () => {
    const base = profile('board-1g-6.6');
    const m = buildMachine({ ...base, kconfig: { ...base.kconfig, CONFIG_ZONE_DMA32: false } });
    const s = atomicPoolsOf(m);
    expect(s.configured).toEqual({ dma: false, dma32: false, kernel: true });
    expect(s.atomic_pool_dma32).toBeNull();
  });
});

describe('atomic_pool_expand without CONFIG_DMA_DIRECT_REMAP', () => {
  it('the chunk is the linear-map address of its pages (no vmap)', () => {
    const base = profile('board-1g-6.6');
    const m = buildMachine({ ...base, kconfig: { ...base.kconfig, CONFIG_DMA_DIRECT_REMAP: false } });
    const c = atomicPoolsOf(m).atomic_pool_kernel!.chunks[0];
    expect(isLinearMapAddr(m.init_mm, c.start_addr)).toBe(true);
    expect(c.start_addr).toBe(page_address(m.init_mm, PHYS_PFN(c.phys_addr)));
  });
});

describe('coherent_pool= parsing', () => {
  it('a later unrelated word does not override coherent_pool=; an inner quote stops memparse', () => {
    const base = profile('board-1g-6.6');
    const a = buildMachine({ ...base, cmdline: 'coherent_pool=2M console=ttyS0' });
    expect(atomicPoolsOf(a).atomic_pool_size).toBe(2n * MiB);
    const b = buildMachine({ ...base, cmdline: 'coherent_pool=2"M' });
    expect(atomicPoolsOf(b).atomic_pool_size).toBe(2n);
  });

  // lib/cmdline.c next_arg / kernel/params.c parse_args, as parse_early_param runs them (5.10, 6.6).
  it('as parse_early_param cuts the line: quotes stripped, "-" for "_" in the name, nothing after "--"', () => {
    const base = profile('board-1g-6.6');
    const size = (cmdline: string) => atomicPoolsOf(buildMachine({ ...base, cmdline })).atomic_pool_size;
    expect(size('coherent_pool="2M"')).toBe(2n * MiB);
    expect(size('"coherent_pool=1M"')).toBe(1n * MiB);
    expect(size('coherent-pool=1M')).toBe(1n * MiB);
    expect(size('coherent_pool=1M -- coherent_pool=2M')).toBe(1n * MiB);
  });

  it('a bare coherent_pool (no "=") would reach memparse as NULL: refused, not read as a default', () => {
    expect(() => buildMachine({ ...profile('board-1g-6.6'), cmdline: 'coherent_pool' })).toThrow(/coherent_pool without "="/);
  });
});

describe('atomicPoolSummary', () => {
  it('avail is the sum of the chunks avail, after an allocation', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    const out = { cpu_addr: 0n };
    expect(dma_alloc_from_pool(m, dev(m, 'sdhci0'), 8192n, out, 0, null)).not.toBeNull();
    const k = atomicPoolSummary(m).find((p) => p.name === 'kernel')!;
    expect(k.avail).toBe(120n * KiB);
    expect(k.size).toBe(128n * KiB);
  });
});

describe('atomic_pool_work_fn', () => {
  it('three zones: each pool below the floor doubles, lastExpand and the log name it', () => {
    const m = buildMachine(profile('three-zone-5.10'));
    const s = atomicPoolsOf(m);
    const G = gfpFlags('5.10');
    const d = dev(m, 'sdhci0');
    for (const gfp of [G.GFP_DMA, G.GFP_DMA32, 0]) expect(dma_alloc_from_pool(m, d, 4096n, { cpu_addr: 0n }, gfp, null)).not.toBeNull();
    expect(s.workPending).toBe(true);
    s.log.length = 0;
    expect(atomic_pool_work_fn(m)).toBe(true);
    expect(s.log).toEqual([
      'atomic_pool_work: dma pool grown, now 256 KiB',
      'atomic_pool_work: dma32 pool grown, now 256 KiB',
      'atomic_pool_work: kernel pool grown, now 256 KiB',
    ]);
    expect(gen_pool_size(s.atomic_pool_dma!)).toBe(256n * KiB);
    expect(s.lastExpand).toEqual({ dma: 0, dma32: 0, kernel: 0 });
  });

  it('growth with the zone exhausted fails with -ENOMEM; one free page is enough (order fallback to 0)', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    const s = atomicPoolsOf(m);
    const G = gfpFlags('6.6');
    expect(dma_alloc_from_pool(m, dev(m, 'sdhci0'), 4096n, { cpu_addr: 0n }, G.GFP_DMA32, null)).not.toBeNull();
    const taken = exhaust(m, G.GFP_KERNEL);
    s.log.length = 0;
    expect(atomic_pool_work_fn(m)).toBe(true);
    expect(s.lastExpand.dma32).toBe(-ENOMEM);
    expect(s.log).toEqual(['atomic_pool_work: dma32 pool expansion failed, now 128 KiB']); // kernel pool: at the floor
    expect(gen_pool_size(s.atomic_pool_dma32!)).toBe(128n * KiB);
    // Below the floor again: one order-0 page back in the buddy → the expansion falls back to it.
    expect(dma_alloc_from_pool(m, dev(m, 'sdhci0'), 4096n, { cpu_addr: 0n }, G.GFP_DMA32, null)).not.toBeNull();
    const [pfn, order] = taken.reduce((a, b) => (b[1] < a[1] ? b : a));
    __free_pages(m.mm, pfn, order);
    for (let i = 1; i < 1 << order; i++) expect(alloc_pages(m.mm, G.GFP_KERNEL, 0)).not.toBeNull();
    expect(atomic_pool_work_fn(m)).toBe(true);
    expect(s.lastExpand.dma32).toBe(0);
    expect(gen_pool_size(s.atomic_pool_dma32!)).toBe(132n * KiB);
  });
});

describe('__dma_alloc_from_pool: when growth is queued', () => {
  it('avail still at or above the floor after the allocation: no work; below: work', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    const s = atomicPoolsOf(m);
    const d = dev(m, 'sdhci0');
    expect(dma_alloc_from_pool(m, d, 4096n, { cpu_addr: 0n }, 0, null)).not.toBeNull();
    expect(atomic_pool_work_fn(m)).toBe(true); // kernel pool 256 KiB, floor 128 KiB
    expect(gen_pool_avail(s.atomic_pool_kernel!)).toBe(252n * KiB);
    // 124 KiB more leaves exactly the floor: not below it.
    expect(dma_alloc_from_pool(m, d, 124n * KiB, { cpu_addr: 0n }, 0, null)).not.toBeNull();
    expect(gen_pool_avail(s.atomic_pool_kernel!)).toBe(128n * KiB);
    expect(s.workPending).toBe(false);
    expect(dma_alloc_from_pool(m, d, 4096n, { cpu_addr: 0n }, 0, null)).not.toBeNull();
    expect(s.workPending).toBe(true);
  });
});

describe('cma_in_zone', () => {
  it('false without CONFIG_DMA_CMA, and with CONFIG_DMA_CMA but no default area', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    expect(cma_in_zone(m, 0)).toBe(false);
    const base = profile('board-1g-6.6');
    const noArea = buildMachine({ ...base, kconfig: { ...base.kconfig, ...CMA, CONFIG_CMA_SIZE_MBYTES: 0 } });
    expect(noArea.cma.default).toBeNull();
    expect(cma_in_zone(noArea, 0)).toBe(false);
  });

  it('an area starting exactly at 4 GiB is outside ZONE_DMA32 (its last byte decides)', () => {
    const p = profile('c920-sg2042-6.6');
    const node = { name: 'linux,cma', base: 4n * GiB, size: 64n * MiB, compatible: 'shared-dma-pool' as const, reusable: true, cmaDefault: true };
    const m = buildMachine({ ...p, kconfig: { ...p.kconfig, ...CMA }, reservedMemory: [node] });
    const G = gfpFlags('6.6');
    expect(cma_in_zone(m, G.GFP_KERNEL | G.GFP_DMA32)).toBe(false);
    expect(cma_in_zone(m, G.GFP_KERNEL)).toBe(true);
  });

  it('three zones: an area in DMA32 above the 16 MiB ZONE_DMA limit backs dma32 and kernel, not dma', () => {
    const p = profile('three-zone-5.10');
    const node = { name: 'linux,cma', base: 32n * MiB, size: 8n * MiB, compatible: 'shared-dma-pool' as const, reusable: true, cmaDefault: true };
    const m = buildMachine({ ...p, kconfig: { ...p.kconfig, ...CMA }, reservedMemory: [node] });
    const G = gfpFlags('5.10');
    expect(m.cma.default).not.toBeNull();
    expect(cma_in_zone(m, G.GFP_KERNEL | G.GFP_DMA)).toBe(false);
    expect(cma_in_zone(m, G.GFP_KERNEL | G.GFP_DMA32)).toBe(true);
    expect(cma_in_zone(m, G.GFP_KERNEL)).toBe(true);
    // Ends on the last byte of ZONE_DMA (zone_dma_bits 24): still inside.
    const low = { ...node, base: 12n * MiB, size: 4n * MiB };
    const m2 = buildMachine({ ...p, kconfig: { ...p.kconfig, ...CMA }, reservedMemory: [low] });
    expect(cma_in_zone(m2, G.GFP_KERNEL | G.GFP_DMA)).toBe(true);
  });
});

describe('pool walks and address lookups', () => {
  it('freeing an address no pool holds walks kernel, dma32 and stops: false', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    expect(dma_free_from_pool(m, dev(m, 'sdhci0'), 0x1000n, 4096n)).toBe(false);
  });

  it('without CONFIG_DMA_COHERENT_POOL: dma_free_from_pool and isAtomicPoolAddr are false', () => {
    const base = profile('board-1g-6.6');
    const m = buildMachine({ ...base, kconfig: { ...base.kconfig, CONFIG_DMA_COHERENT_POOL: false } });
    expect(m.atomicPools).toBeNull();
    expect(dma_free_from_pool(m, dev(m, 'sdhci0'), 0x1000n, 4096n)).toBe(false);
    expect(isAtomicPoolAddr(m, 0x1000n)).toBe(false);
  });

  it('isAtomicPoolAddr: both chunk ends inclusive, a second chunk counts, below and above do not', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    const s = atomicPoolsOf(m);
    expect(dma_alloc_from_pool(m, dev(m, 'sdhci0'), 4096n, { cpu_addr: 0n }, 0, null)).not.toBeNull();
    atomic_pool_work_fn(m);
    const [c0, c1] = s.atomic_pool_kernel!.chunks;
    expect(c1).toBeDefined();
    expect(isAtomicPoolAddr(m, c0.end_addr)).toBe(true);
    expect(isAtomicPoolAddr(m, c1.start_addr)).toBe(true);
    expect(isAtomicPoolAddr(m, 0n)).toBe(false);
    expect(isAtomicPoolAddr(m, (1n << 64n) - 1n)).toBe(false);
  });
});

describe('dma_guess_pool order (kernel/dma/pool.c, 5.10 and 6.6)', () => {
  /** three-zone-5.10's memory (16 MiB ZONE_DMA) on a 6.6 kernel, with the Kconfig patched. */
  function threeZone66(kconfig: Record<string, boolean> = {}): Machine {
    const p = profile('three-zone-5.10');
    const b = profile('board-1g-6.6');
    return buildMachine({ ...p, kernel: '6.6', kconfig: { ...b.kconfig, CONFIG_ZONE_DMA: true, ...kconfig }, platform: b.platform });
  }
  const inZoneDma = (m: Machine, pfn: number | null) => pfn !== null && zoneOfPfn(m.mm, pfn)?.idx === ZoneType.ZONE_DMA;

  it('6.6: a GFP_DMA request goes to the dma pool first (`atomic_pool_dma && gfp & GFP_DMA`)', () => {
    const m = threeZone66();
    const G = gfpFlags('6.6');
    expect(atomicPoolsOf(m).atomic_pool_dma).not.toBeNull();
    // No address filter: whichever pool is tried first serves the request.
    const pfn = dma_alloc_from_pool(m, dev(m, 'sdhci0'), 4096n, { cpu_addr: 0n }, G.GFP_KERNEL | G.GFP_DMA, null);
    expect(inZoneDma(m, pfn)).toBe(true);
  });

  it('after the kernel pool, no dma32 pool: the dma pool is next (`atomic_pool_dma32 ? atomic_pool_dma32 : atomic_pool_dma`)', () => {
    // ZONE_DMA without ZONE_DMA32 (arm64-like zones): the kernel pool lies above 16 MiB.
    const m = threeZone66({ CONFIG_ZONE_DMA32: false });
    const s = atomicPoolsOf(m);
    expect(s.atomic_pool_dma32).toBeNull();
    expect(s.atomic_pool_dma).not.toBeNull();
    const below16M = (_m: Machine, _d: unknown, phys: bigint, size: bigint) => phys + size <= 16n * MiB;
    const pfn = dma_alloc_from_pool(m, dev(m, 'sdhci0'), 4096n, { cpu_addr: 0n }, 0, below16M);
    expect(inZoneDma(m, pfn)).toBe(true);
    expect(m.warnings).toEqual([]);
  });
});

describe('atomic_pool_expand with the vmalloc space exhausted', () => {
  it('the remap fails: the pages go back to the buddy and the expansion returns -ENOMEM', () => {
    // kernel/dma/pool.c atomic_pool_expand (5.10, 6.6): dma_common_contiguous_remap NULL →
    // goto free_page: __free_pages(page, order); return -ENOMEM.
    const m = buildMachine(profile('board-1g-6.6'));
    const s = atomicPoolsOf(m);
    const d = dev(m, 'sdhci0');
    expect(dma_alloc_from_pool(m, d, 4096n, { cpu_addr: 0n }, 0, null)).not.toBeNull();
    expect(s.workPending).toBe(true);
    fillVmallocSpace(m);
    const free = nrFreePages(m.mm);
    s.log.length = 0;
    expect(atomic_pool_work_fn(m)).toBe(true);
    expect(s.lastExpand.kernel).toBe(-ENOMEM);
    expect(s.log).toEqual(['atomic_pool_work: kernel pool expansion failed, now 128 KiB']);
    expect(gen_pool_size(s.atomic_pool_kernel!)).toBe(128n * KiB);
    expect(nrFreePages(m.mm)).toBe(free);
  });
});
