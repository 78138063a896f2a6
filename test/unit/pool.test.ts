// reference/kernel/dma/pool.ts: the atomic coherent pools (spec kernel-alloc.md §5, §4.6,
// §13 examples 3 and 6; historic-bugs.md A1, A3, A6, A8).
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { dma_alloc_attrs, dma_free_attrs } from '../../reference/kernel/dma/mapping.ts';
import {
  atomicPoolDefaultSize,
  atomicPoolsOf,
  atomicPoolSummary,
  atomic_pool_work_fn,
  dma_alloc_from_pool,
  dma_free_from_pool,
  dma_guess_pool,
  isAtomicPoolAddr,
} from '../../reference/kernel/dma/pool.ts';
import type { GenPool } from '../../reference/lib/genalloc.ts';
import { gen_pool_avail, gen_pool_size, gen_pool_virt_to_phys } from '../../reference/lib/genalloc.ts';
import { hartMemoryType, isLinearMapAddr, walkPageTable } from '../../reference/arch/riscv/pgtable.ts';
import { cpuLoad } from '../../reference/hw/cpu.ts';
import { allocatedPages, zoneOfPfn, ZoneType } from '../../reference/mm/page_alloc.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { DMA_BIT_MASK, ENOMEM, PAGE_SHIFT, PHYS_PFN } from '../../reference/types.ts';
import { dev } from '../support/machines.ts';

const KiB = 1n << 10n;
const MiB = 1n << 20n;
const GiB = 1n << 30n;

afterEach(() => setTracer(null));

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

function variant(name: string, patch: Partial<Profile>): Profile {
  return { ...profile(name), ...patch };
}

/** A machine whose RAM is all managed (no reservations, no swiotlb), so totalram_pages is exact. */
function plainRam(size: bigint, kernel: '5.10' | '6.6' = '6.6', cmdline = ''): Profile {
  const base = profile(kernel === '6.6' ? 'board-1g-6.6' : 'c920-sg2042-5.10-fixed');
  return {
    ...base,
    memory: [{ base: 0x8000_0000n, size }],
    reserved: [],
    cmdline,
    platform: { ...base.platform, swiotlbSlots: 0 },
  };
}

function traced<T>(f: () => T): { value: T; fns: string[] } {
  const t = new Tracer();
  setTracer(t);
  try {
    const value = f();
    return { value, fns: t.events.map((e) => e.fn) };
  } finally {
    setTracer(null);
  }
}

function chunkPhys(pool: GenPool): bigint[] {
  return pool.chunks.map((c) => c.phys_addr);
}

function guessWalk(m: Machine, gfp: number): (string | null)[] {
  const s = atomicPoolsOf(m);
  const name = (p: GenPool | null) =>
    p === null ? null : p === s.atomic_pool_kernel ? 'kernel' : p === s.atomic_pool_dma32 ? 'dma32' : p === s.atomic_pool_dma ? 'dma' : '?';
  const out: (string | null)[] = [];
  let p: GenPool | null = null;
  for (let i = 0; i < 5; i++) {
    p = dma_guess_pool(m, p, gfp);
    out.push(name(p));
    if (p === null) break;
  }
  return out;
}

describe('sizing (§5.2, historic A1)', () => {
  it('128 KiB per GiB of managed RAM, at least 128 KiB, at most 4 MiB', () => {
    const none = new Set<string>();
    const pagesOf = (bytes: bigint) => Number(bytes >> BigInt(PAGE_SHIFT));
    expect(atomicPoolDefaultSize(pagesOf(GiB), none)).toBe(128n * KiB);
    expect(atomicPoolDefaultSize(pagesOf(8n * GiB), none)).toBe(1n * MiB);
    expect(atomicPoolDefaultSize(pagesOf(16n * GiB), none)).toBe(2n * MiB);
    expect(atomicPoolDefaultSize(pagesOf(32n * GiB), none)).toBe(4n * MiB);
    expect(atomicPoolDefaultSize(pagesOf(128n * GiB), none)).toBe(4n * MiB);
    expect(atomicPoolDefaultSize(pagesOf(256n * MiB), none)).toBe(128n * KiB);
    expect(atomicPoolDefaultSize(0, none)).toBe(128n * KiB);
    // The division truncates: a bit less than 2 GiB gives 252 KiB, not 256.
    expect(atomicPoolDefaultSize(pagesOf(2n * GiB) - 1, none)).toBe(252n * KiB);
  });

  it('the built machine sizes from the buddy managed pages: 1 GiB -> 128 KiB, 8 GiB -> 1 MiB, 32 GiB -> 4 MiB', () => {
    expect(atomicPoolsOf(buildMachine(plainRam(GiB))).atomic_pool_size).toBe(128n * KiB);
    expect(atomicPoolsOf(buildMachine(plainRam(8n * GiB))).atomic_pool_size).toBe(1n * MiB);
    expect(atomicPoolsOf(buildMachine(plainRam(32n * GiB))).atomic_pool_size).toBe(4n * MiB);
    expect(atomicPoolsOf(buildMachine(profile('c920-sg2042-6.6'))).atomic_pool_size).toBe(4n * MiB);
  });

  it('fault pool-size-64x: the 1d659236fb43 formula (units of 16 MiB, capped at 4 MiB)', () => {
    const f = new Set(['pool-size-64x']);
    const pagesOf = (bytes: bigint) => Number(bytes >> BigInt(PAGE_SHIFT));
    // The A1 minimal scenario: 256 MiB of RAM gets 2 MiB instead of 128 KiB.
    expect(atomicPoolDefaultSize(pagesOf(256n * MiB), f)).toBe(2n * MiB);
    expect(atomicPoolDefaultSize(pagesOf(GiB), f)).toBe(4n * MiB);
    expect(atomicPoolDefaultSize(pagesOf(8n * MiB), f)).toBe(128n * KiB);
    const m = buildMachine({ ...plainRam(GiB), faults: ['pool-size-64x'] });
    expect(atomicPoolsOf(m).atomic_pool_size).toBe(4n * MiB);
    // The pools really are 32x what the fixed kernel makes on this board.
    expect(gen_pool_size(atomicPoolsOf(m).atomic_pool_kernel!)).toBe(4n * MiB);
  });

  it('coherent_pool= overrides the default; 0 means the default; the last one wins', () => {
    expect(atomicPoolsOf(buildMachine(plainRam(GiB, '6.6', 'console=ttyS0 coherent_pool=2M'))).atomic_pool_size).toBe(2n * MiB);
    expect(atomicPoolsOf(buildMachine(plainRam(GiB, '6.6', 'coherent_pool=0'))).atomic_pool_size).toBe(128n * KiB);
    expect(atomicPoolsOf(buildMachine(plainRam(GiB, '6.6', 'coherent_pool=1M coherent_pool=256K'))).atomic_pool_size).toBe(256n * KiB);
    // memparse: base 0 and binary suffixes.
    expect(atomicPoolsOf(buildMachine(plainRam(GiB, '6.6', 'coherent_pool=0x80000'))).atomic_pool_size).toBe(512n * KiB);
    expect(atomicPoolsOf(buildMachine(plainRam(GiB, '6.6', 'coherent_pool=0400k'))).atomic_pool_size).toBe(256n * KiB);
    const m = buildMachine(plainRam(GiB, '6.6', 'coherent_pool=2M'));
    expect(atomicPoolSummary(m).map((p) => [p.name, p.size])).toEqual([
      ['dma32', 2n * MiB],
      ['kernel', 2n * MiB],
    ]);
  });

  it('a floor above MAX_ORDER still gets one 4 MiB chunk per pool (order cap), and a non-power size rounds up', () => {
    const big = buildMachine(plainRam(GiB, '6.6', 'coherent_pool=16M'));
    expect(gen_pool_size(atomicPoolsOf(big).atomic_pool_kernel!)).toBe(4n * MiB);
    const odd = buildMachine(plainRam(GiB, '6.6', 'coherent_pool=100K'));
    expect(atomicPoolsOf(odd).atomic_pool_size).toBe(100n * KiB);
    expect(gen_pool_size(atomicPoolsOf(odd).atomic_pool_kernel!)).toBe(128n * KiB);
  });
});

describe('which pools exist (§5.2)', () => {
  it('riscv 6.6 (SG2042-like): kernel + dma32, no dma pool; each 4 MiB in its zone, remapped non-cacheable', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const s = atomicPoolsOf(m);
    expect(s.atomic_pool_dma).toBeNull();
    expect(s.configured).toEqual({ dma: false, dma32: true, kernel: true });
    expect(s.initResult).toBe(0);
    expect(s.pool_size_kernel).toBe(4n * MiB);
    expect(s.pool_size_dma32).toBe(4n * MiB);
    expect(s.pool_size_dma).toBe(0n);
    expect(s.workPending).toBe(false);
    for (const pa of chunkPhys(s.atomic_pool_dma32!)) {
      expect(zoneOfPfn(m.mm, PHYS_PFN(pa))?.idx).toBe(ZoneType.ZONE_DMA32);
      expect(pa + 4n * MiB - 1n <= DMA_BIT_MASK(32)).toBe(true);
    }
    for (const pa of chunkPhys(s.atomic_pool_kernel!)) expect(zoneOfPfn(m.mm, PHYS_PFN(pa))?.idx).toBe(ZoneType.ZONE_NORMAL);
    for (const pool of [s.atomic_pool_kernel!, s.atomic_pool_dma32!]) {
      const c = pool.chunks[0];
      expect(c.phys_addr % (4n * MiB)).toBe(0n); // one order-10 buddy block
      for (const va of [c.start_addr, c.end_addr]) {
        expect(isLinearMapAddr(m.init_mm, va)).toBe(false);
        const t = walkPageTable(m.init_mm, va)!;
        expect(hartMemoryType(t.pte, m.hart).kind).not.toBe('cacheable');
      }
    }
    expect(s.log).toEqual([
      'DMA: preallocated 4096 KiB GFP_KERNEL pool for atomic allocations',
      'DMA: preallocated 4096 KiB GFP_KERNEL|__GFP_DMA32 pool for atomic allocations',
    ]);
  });

  it('5.10 vendor-fixed SG2042: the same two pools, mapped with the vendor write-combine (non-cacheable) type', () => {
    const m = buildMachine(profile('c920-sg2042-5.10-fixed'));
    const s = atomicPoolsOf(m);
    expect(s.atomic_pool_dma).toBeNull();
    expect(s.atomic_pool_kernel).not.toBeNull();
    expect(s.atomic_pool_dma32).not.toBeNull();
    const c = s.atomic_pool_dma32!.chunks[0];
    expect(hartMemoryType(walkPageTable(m.init_mm, c.start_addr)!.pte, m.hart).kind).not.toBe('cacheable');
    // The boot-time prep (vendor memset + dma_wbinv_range) leaves the chunk zero in memory and uncached.
    expect(cpuLoad(m, 0, c.start_addr, 64).every((b) => b === 0)).toBe(true);
    expect(m.caches.lineCount).toBe(0);
  });

  it("'three-zone-5.10' (CONFIG_ZONE_DMA): dma, dma32 and kernel pools, each 128 KiB inside its zone", () => {
    const m = buildMachine(profile('three-zone-5.10'));
    const s = atomicPoolsOf(m);
    expect(atomicPoolSummary(m).map((p) => [p.name, p.size])).toEqual([
      ['dma', 128n * KiB],
      ['dma32', 128n * KiB],
      ['kernel', 128n * KiB],
    ]);
    expect(zoneOfPfn(m.mm, PHYS_PFN(s.atomic_pool_dma!.chunks[0].phys_addr))?.idx).toBe(ZoneType.ZONE_DMA);
    expect(zoneOfPfn(m.mm, PHYS_PFN(s.atomic_pool_dma32!.chunks[0].phys_addr))?.idx).toBe(ZoneType.ZONE_DMA32);
    expect(zoneOfPfn(m.mm, PHYS_PFN(s.atomic_pool_kernel!.chunks[0].phys_addr))?.idx).toBe(ZoneType.ZONE_NORMAL);
    expect(s.pool_size_dma).toBe(128n * KiB);
  });

  it('board with all RAM in ZONE_DMA32: the kernel pool falls back to DMA32 memory (GFP_KERNEL zonelist)', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    const s = atomicPoolsOf(m);
    expect(s.atomic_pool_size).toBe(128n * KiB);
    expect(zoneOfPfn(m.mm, PHYS_PFN(s.atomic_pool_kernel!.chunks[0].phys_addr))?.idx).toBe(ZoneType.ZONE_DMA32);
  });

  it('CONFIG_DMA_COHERENT_POOL unset: no pool state at all', () => {
    const m = buildMachine(profile('c920-sg2042-5.10-vendor'));
    expect(m.atomicPools).toBeNull();
    expect(() => atomicPoolsOf(m)).toThrow(/CONFIG_DMA_COHERENT_POOL/);
  });

  it('ZONE_DMA with no managed pages: 6.6 creates no dma pool (has_managed_dma); 5.10 tries and fails (historic A6)', () => {
    // RAM from 2 GiB: ZONE_DMA (below 16 MiB) is configured but empty.
    const k66 = { ...profile('board-1g-6.6').kconfig, CONFIG_ZONE_DMA: true };
    const m66 = buildMachine(variant('board-1g-6.6', { kconfig: k66 }));
    expect(atomicPoolsOf(m66).configured.dma).toBe(false);
    expect(atomicPoolsOf(m66).initResult).toBe(0);
    const p510 = variant('three-zone-5.10', { memory: [{ base: 0x8000_0000n, size: GiB }], reserved: [] });
    const m510 = buildMachine(p510);
    const s = atomicPoolsOf(m510);
    expect(s.configured.dma).toBe(true);
    expect(s.atomic_pool_dma).toBeNull();
    expect(s.initResult).toBe(-ENOMEM);
    expect(s.log.some((l) => l.startsWith('DMA: failed to allocate 128 KiB GFP_KERNEL|__GFP_DMA'))).toBe(true);
    // The other pools are still created.
    expect(s.atomic_pool_kernel).not.toBeNull();
    expect(s.atomic_pool_dma32).not.toBeNull();
  });

  it('fault pool-for-empty-zone: 6.6 tries the empty ZONE_DMA pool again, fails, and the initcall returns -ENOMEM', () => {
    const k66 = { ...profile('board-1g-6.6').kconfig, CONFIG_ZONE_DMA: true };
    const m = buildMachine(variant('board-1g-6.6', { kconfig: k66, faults: ['pool-for-empty-zone'] }));
    const s = atomicPoolsOf(m);
    expect(s.configured.dma).toBe(true);
    expect(s.atomic_pool_dma).toBeNull();
    expect(s.initResult).toBe(-ENOMEM);
    expect(s.lastExpand.dma).toBe(-ENOMEM);
  });
});

describe('dma_guess_pool (§5.5)', () => {
  it('6.6 riscv (no dma pool): no zone -> kernel, dma32; GFP_DMA32 -> dma32 only; GFP_DMA -> as no zone', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const G = gfpFlags('6.6');
    expect(guessWalk(m, 0)).toEqual(['kernel', 'dma32', null]);
    expect(guessWalk(m, G.GFP_ATOMIC)).toEqual(['kernel', 'dma32', null]);
    expect(guessWalk(m, G.GFP_ATOMIC | G.GFP_DMA32)).toEqual(['dma32', null]);
    expect(guessWalk(m, G.GFP_ATOMIC | G.GFP_DMA)).toEqual(['kernel', 'dma32', null]);
  });

  it('5.10 three zones: no zone -> kernel, dma32, dma; GFP_DMA32 -> dma32, dma; GFP_DMA -> dma', () => {
    const m = buildMachine(profile('three-zone-5.10'));
    const G = gfpFlags('5.10');
    expect(guessWalk(m, 0)).toEqual(['kernel', 'dma32', 'dma', null]);
    expect(guessWalk(m, G.GFP_DMA32)).toEqual(['dma32', 'dma', null]);
    expect(guessWalk(m, G.GFP_DMA)).toEqual(['dma', null]);
  });

  it('5.10 tests CONFIG_ZONE_DMA, 6.6 tests the pool: a failed dma pool ends a 5.10 GFP_DMA walk at once', () => {
    const p510 = variant('three-zone-5.10', { memory: [{ base: 0x8000_0000n, size: GiB }], reserved: [] });
    const m510 = buildMachine(p510);
    expect(guessWalk(m510, gfpFlags('5.10').GFP_DMA)).toEqual([null]);
    const k66 = { ...profile('board-1g-6.6').kconfig, CONFIG_ZONE_DMA: true };
    const m66 = buildMachine(variant('board-1g-6.6', { kconfig: k66, faults: ['pool-for-empty-zone'] }));
    expect(guessWalk(m66, gfpFlags('6.6').GFP_DMA)).toEqual(['kernel', 'dma32', null]);
  });

  it('5.10 without CONFIG_ZONE_DMA: GFP_DMA starts at the kernel pool', () => {
    const m = buildMachine(profile('c920-sg2042-5.10-fixed'));
    expect(guessWalk(m, gfpFlags('5.10').GFP_DMA)).toEqual(['kernel', 'dma32', null]);
  });
});

describe('dma_alloc_coherent(GFP_ATOMIC) through the pool (§4.6, §13 examples 3 and 6)', () => {
  it('non-coherent 32-bit device, 6.6: dma32 pool, zeroed, non-cacheable, growth scheduled; the work doubles the pool', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const G = gfpFlags('6.6');
    const d = dev(m, 'sdhci0');
    const s = atomicPoolsOf(m);
    const dma32 = s.atomic_pool_dma32!;
    const buddyBefore = allocatedPages(m.mm);
    const h = { dma_handle: 0n };
    const { value: cpu, fns } = traced(() => dma_alloc_attrs(m, d, 100n, h, G.GFP_ATOMIC, 0));
    expect(cpu).not.toBeNull();
    expect(fns).toContain('dma_direct_alloc_from_pool');
    expect(fns).toContain('__dma_alloc_from_pool');
    expect(fns).not.toContain('__dma_direct_alloc_pages');
    expect(allocatedPages(m.mm)).toBe(buddyBefore);
    // The first page of the only chunk, seen at the device through the identity map.
    expect(cpu).toBe(dma32.chunks[0].start_addr);
    expect(h.dma_handle).toBe(gen_pool_virt_to_phys(dma32, cpu!));
    expect(h.dma_handle + 4095n <= DMA_BIT_MASK(32)).toBe(true);
    expect(cpuLoad(m, 0, cpu!, 4096).every((b) => b === 0)).toBe(true);
    expect(hartMemoryType(walkPageTable(m.init_mm, cpu!)!.pte, m.hart).kind).not.toBe('cacheable');
    expect(gen_pool_avail(dma32)).toBe(4n * MiB - 4096n);
    expect(s.workPending).toBe(true);
    // The work runs when the sequence says so: dma32 doubles, kernel (still full) does not grow.
    expect(atomic_pool_work_fn(m)).toBe(true);
    expect(s.workPending).toBe(false);
    expect(gen_pool_size(dma32)).toBe(8n * MiB);
    expect(dma32.chunks.length).toBe(2);
    expect(gen_pool_size(s.atomic_pool_kernel!)).toBe(4n * MiB);
    expect(s.pool_size_dma32).toBe(8n * MiB);
    expect(s.lastExpand.dma32).toBe(0);
    // The new chunk is remapped non-cacheable too, and sits in DMA32.
    const fresh = dma32.chunks[0];
    expect(fresh.phys_addr + 4n * MiB - 1n <= DMA_BIT_MASK(32)).toBe(true);
    expect(hartMemoryType(walkPageTable(m.init_mm, fresh.start_addr)!.pte, m.hart).kind).not.toBe('cacheable');
    // Not queued any more: a second run does nothing.
    expect(atomic_pool_work_fn(m)).toBe(false);
    expect(gen_pool_size(dma32)).toBe(8n * MiB);
  });

  it('§13 example 6: 8 GiB -> 1 MiB pools; the first allocation schedules growth; the work makes 2 MiB', () => {
    const m = buildMachine(plainRam(8n * GiB));
    const s = atomicPoolsOf(m);
    const d = dev(m, 'dwmac0'); // 64-bit: no zone flag, the kernel pool first
    const cpu = dma_alloc_attrs(m, d, 4096n, { dma_handle: 0n }, gfpFlags('6.6').GFP_ATOMIC, 0);
    expect(cpu).not.toBeNull();
    expect(s.atomic_pool_kernel!.chunks.some((c) => cpu! >= c.start_addr && cpu! <= c.end_addr)).toBe(true);
    expect(s.workPending).toBe(true);
    atomic_pool_work_fn(m);
    expect(gen_pool_size(s.atomic_pool_kernel!)).toBe(2n * MiB);
    expect(gen_pool_avail(s.atomic_pool_kernel!)).toBe(2n * MiB - 4096n);
    expect(gen_pool_size(s.atomic_pool_dma32!)).toBe(1n * MiB);
  });

  it('allocations are order-aligned inside a chunk (gen_pool_first_fit_order_align), and freeing returns them', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const G = gfpFlags('6.6');
    const d = dev(m, 'dwmac0');
    const kernel = atomicPoolsOf(m).atomic_pool_kernel!;
    const start = kernel.chunks[0].start_addr;
    const a = dma_alloc_attrs(m, d, 4096n, { dma_handle: 0n }, G.GFP_ATOMIC, 0)!;
    const b = dma_alloc_attrs(m, d, 3n * 4096n, { dma_handle: 0n }, G.GFP_ATOMIC, 0)!;
    const c = dma_alloc_attrs(m, d, 4096n, { dma_handle: 0n }, G.GFP_ATOMIC, 0)!;
    const e = dma_alloc_attrs(m, d, 5000n, { dma_handle: 0n }, G.GFP_ATOMIC, 0)!;
    expect(a - start).toBe(0n);
    expect(b - start).toBe(4n * 4096n); // 3 pages: 4-page alignment
    expect(c - start).toBe(1n * 4096n); // first free single page
    expect(e - start).toBe(2n * 4096n); // 2 pages: even page index
    expect(gen_pool_avail(kernel)).toBe(4n * MiB - 7n * 4096n);
    const buddy = allocatedPages(m.mm);
    const { fns } = traced(() => dma_free_attrs(m, d, 3n * 4096n, b, 0n, 0));
    expect(fns).toContain('dma_free_from_pool');
    expect(fns).not.toContain('vunmap');
    expect(allocatedPages(m.mm)).toBe(buddy);
    dma_free_attrs(m, d, 4096n, a, 0n, 0);
    dma_free_attrs(m, d, 4096n, c, 0n, 0);
    dma_free_attrs(m, d, 5000n, e, 0n, 0);
    expect(gen_pool_avail(kernel)).toBe(4n * MiB);
    expect(isAtomicPoolAddr(m, a)).toBe(true);
  });

  it('property: pool allocations are order-aligned, zeroed, disjoint, and all come back', () => {
    const m0 = buildMachine(profile('board-1g-6.6'));
    void m0;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 * 4096 }), { minLength: 1, maxLength: 12 }), (sizes) => {
        const m = buildMachine(profile('board-1g-6.6'));
        const G = gfpFlags('6.6');
        const d = dev(m, 'dwmac0');
        const pool = atomicPoolsOf(m).atomic_pool_kernel!;
        const live: { cpu: bigint; size: bigint }[] = [];
        for (const n of sizes) {
          const size = BigInt(n);
          const cpu = dma_alloc_attrs(m, d, size, { dma_handle: 0n }, G.GFP_ATOMIC, 0);
          if (cpu === null) continue;
          const pages = (size + 4095n) >> 12n;
          let order = 0n;
          while (1n << order < pages) order++;
          const chunk = pool.chunks.find((c) => cpu >= c.start_addr && cpu <= c.end_addr);
          if (chunk === undefined) continue; // served by another pool
          expect((cpu - chunk.start_addr) % (4096n << order)).toBe(0n);
          expect(cpuLoad(m, 0, cpu, Number(size)).every((b) => b === 0)).toBe(true);
          for (const o of live) expect(cpu + size <= o.cpu || o.cpu + o.size <= cpu).toBe(true);
          live.push({ cpu, size });
        }
        for (const o of live) dma_free_attrs(m, d, o.size, o.cpu, 0n, 0);
        expect(gen_pool_avail(pool)).toBe(gen_pool_size(pool));
      }),
      { numRuns: 25 },
    );
  });

  it('5.10: the same pool path; a 24-bit device on three zones is served from the dma pool', () => {
    const p = profile('three-zone-5.10');
    const withDev = { ...p, devices: [...p.devices, { name: 'isa0', coherent: false, dmaMaskBits: 24, coherentMaskBits: 24 }] };
    const m = buildMachine(withDev);
    const G = gfpFlags('5.10');
    const s = atomicPoolsOf(m);
    const h = { dma_handle: 0n };
    const { value: cpu, fns } = traced(() => dma_alloc_attrs(m, dev(m, 'isa0'), 8192n, h, G.GFP_ATOMIC, 0));
    expect(fns).toContain('dma_direct_alloc_from_pool');
    expect(s.atomic_pool_dma!.chunks.some((c) => cpu! >= c.start_addr && cpu! <= c.end_addr)).toBe(true);
    expect(h.dma_handle + 8191n <= DMA_BIT_MASK(24)).toBe(true);
    const h32 = { dma_handle: 0n };
    const cpu32 = dma_alloc_attrs(m, dev(m, 'sdhci0'), 4096n, h32, G.GFP_ATOMIC, 0);
    expect(s.atomic_pool_dma32!.chunks.some((c) => cpu32! >= c.start_addr && cpu32! <= c.end_addr)).toBe(true);
  });

  it('a coherent device does not use the pool (§13 example 2); a blocking request does not either', () => {
    const m = buildMachine(profile('c920-sg2042-6.6-coherent-pcie'));
    const G = gfpFlags('6.6');
    const s = atomicPoolsOf(m);
    const { value: cpu, fns } = traced(() => dma_alloc_attrs(m, dev(m, 'nvme0'), 4096n, { dma_handle: 0n }, G.GFP_ATOMIC, 0));
    expect(cpu).not.toBeNull();
    expect(fns).not.toContain('dma_direct_alloc_from_pool');
    expect(fns).toContain('__dma_direct_alloc_pages');
    expect(isLinearMapAddr(m.init_mm, cpu!)).toBe(true);
    expect(isAtomicPoolAddr(m, cpu!)).toBe(false);
    const blocking = traced(() => dma_alloc_attrs(m, dev(m, 'sdhci0'), 4096n, { dma_handle: 0n }, G.GFP_KERNEL, 0));
    expect(blocking.fns).not.toContain('dma_direct_alloc_from_pool');
    expect(isAtomicPoolAddr(m, blocking.value!)).toBe(false);
    expect(gen_pool_avail(s.atomic_pool_kernel!)).toBe(4n * MiB);
    expect(gen_pool_avail(s.atomic_pool_dma32!)).toBe(4n * MiB);
    expect(s.workPending).toBe(false);
  });

  it('no pool fits: WARN "Failed to get suitable pool" and NULL, pools untouched', () => {
    const m = buildMachine(profile('board-1g-6.6')); // 128 KiB pools
    const G = gfpFlags('6.6');
    const cpu = dma_alloc_attrs(m, dev(m, 'sdhci0'), 256n * KiB, { dma_handle: 0n }, G.GFP_ATOMIC, 0);
    expect(cpu).toBeNull();
    expect(m.warnings).toContain('Failed to get suitable pool for sdhci0');
    expect(atomicPoolsOf(m).workPending).toBe(false);
  });

  it('an address the device cannot reach is given back and the next pool is tried', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const s = atomicPoolsOf(m);
    const d = dev(m, 'dwmac0');
    const kernelChunk = s.atomic_pool_kernel!.chunks[0].phys_addr;
    // Only the dma32 pool's memory passes this filter.
    const ok = (_m: Machine, _d: device, phys: bigint, size: bigint) => phys + size - 1n <= DMA_BIT_MASK(32);
    expect(kernelChunk > DMA_BIT_MASK(32)).toBe(true);
    const out = { cpu_addr: 0n };
    const pfn = dma_alloc_from_pool(m, d, 4096n, out, 0, ok);
    expect(pfn).not.toBeNull();
    expect(s.atomic_pool_dma32!.chunks[0].start_addr).toBe(out.cpu_addr);
    expect(gen_pool_avail(s.atomic_pool_kernel!)).toBe(4n * MiB);
    expect(dma_free_from_pool(m, d, out.cpu_addr, 4096n)).toBe(true);
    expect(dma_free_from_pool(m, d, out.cpu_addr + (64n * MiB), 4096n)).toBe(false);
  });
});

describe('CMA-backed chunks: cma_in_zone (§5.3, historic A3)', () => {
  const CMA = { CONFIG_CMA: true, CONFIG_DMA_CMA: true };

  it('a default area below 4 GiB backs the dma32 and kernel pools; totalram_pages counts the CMA pages', () => {
    const base = plainRam(8n * GiB);
    const m = buildMachine({ ...base, kconfig: { ...base.kconfig, ...CMA, CONFIG_CMA_SIZE_MBYTES: 64 } });
    const area = m.cma.default!;
    expect(area).not.toBeNull();
    const lo = BigInt(area.base_pfn) << 12n;
    const hi = lo + (BigInt(area.count) << 12n);
    expect(hi <= 1n << 32n).toBe(true);
    const s = atomicPoolsOf(m);
    // 8 GiB of RAM, 64 MiB of it in CMA: still exactly 1 MiB (the CMA pages are RAM the kernel counts).
    expect(s.atomic_pool_size).toBe(1n * MiB);
    for (const pool of [s.atomic_pool_kernel!, s.atomic_pool_dma32!]) {
      const pa = pool.chunks[0].phys_addr;
      expect(pa >= lo && pa + MiB <= hi).toBe(true);
      expect(area.allocated.get(PHYS_PFN(pa))).toBe(256);
    }
  });

  it('a default area above 4 GiB: the dma32 pool comes from the buddy in ZONE_DMA32, the kernel pool from CMA', () => {
    const p = profile('c920-sg2042-6.6');
    const node = { name: 'linux,cma', base: 8n * GiB, size: 64n * MiB, compatible: 'shared-dma-pool' as const, reusable: true, cmaDefault: true };
    const withCma = { ...p, kconfig: { ...p.kconfig, ...CMA }, reservedMemory: [node] };
    const m = buildMachine(withCma);
    const s = atomicPoolsOf(m);
    const inCma = (pa: bigint) => pa >= node.base && pa < node.base + node.size;
    expect(inCma(s.atomic_pool_kernel!.chunks[0].phys_addr)).toBe(true);
    const dma32pa = s.atomic_pool_dma32!.chunks[0].phys_addr;
    expect(inCma(dma32pa)).toBe(false);
    expect(zoneOfPfn(m.mm, PHYS_PFN(dma32pa))?.idx).toBe(ZoneType.ZONE_DMA32);
    const h = { dma_handle: 0n };
    expect(dma_alloc_attrs(m, dev(m, 'sdhci0'), 4096n, h, gfpFlags('6.6').GFP_ATOMIC, 0)).not.toBeNull();
    expect(h.dma_handle <= DMA_BIT_MASK(32)).toBe(true);

    // Fault pool-cma-wrong-zone: the dma32 pool is filled from CMA at 8 GiB, and a 32-bit device gets nothing.
    const bad = buildMachine({ ...withCma, faults: ['pool-cma-wrong-zone'] });
    const sb = atomicPoolsOf(bad);
    expect(inCma(sb.atomic_pool_dma32!.chunks[0].phys_addr)).toBe(true);
    expect(sb.atomic_pool_dma32!.chunks[0].phys_addr > DMA_BIT_MASK(32)).toBe(true);
    const cpu = dma_alloc_attrs(bad, dev(bad, 'sdhci0'), 4096n, { dma_handle: 0n }, gfpFlags('6.6').GFP_ATOMIC, 0);
    expect(cpu).toBeNull();
    expect(bad.warnings).toContain('Failed to get suitable pool for sdhci0');
    expect(gen_pool_avail(sb.atomic_pool_dma32!)).toBe(4n * MiB);
  });
});

describe('fault pool-guess-inverted (historic A8)', () => {
  for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
    it(`${name}: blocking requests go to the pool, atomic ones to the remap path`, () => {
      const p = profile(name);
      const m = buildMachine({ ...p, faults: ['pool-guess-inverted'] });
      const G = gfpFlags(p.kernel);
      const d = dev(m, 'sdhci0');
      const blocking = traced(() => dma_alloc_attrs(m, d, 4096n, { dma_handle: 0n }, G.GFP_KERNEL, 0));
      expect(blocking.fns).toContain('dma_direct_alloc_from_pool');
      expect(isAtomicPoolAddr(m, blocking.value!)).toBe(true);
      const atomic = traced(() => dma_alloc_attrs(m, d, 4096n, { dma_handle: 0n }, G.GFP_ATOMIC, 0));
      expect(atomic.fns).not.toContain('dma_direct_alloc_from_pool');
      expect(atomic.fns).toContain('dma_common_contiguous_remap');
      expect(isAtomicPoolAddr(m, atomic.value!)).toBe(false);
      // The A8 symptom: a large blocking allocation fails with "Failed to get suitable pool".
      const big = dma_alloc_attrs(m, d, 8n * MiB, { dma_handle: 0n }, G.GFP_KERNEL, 0);
      expect(big).toBeNull();
      expect(m.warnings).toContain('Failed to get suitable pool for sdhci0');
    });
  }
});
