// reference/system.ts: what boot decides that system.test.ts leaves open —
// memblock's placement of the swiotlb pool when the free ranges have holes,
// fragments or come in another order, the linear-map cap at its edges, the
// Kconfig/platform combinations behind dma_get_cache_alignment() and the
// unaligned-kmalloc bounce, and the boot-image cache (one image per Profile
// object and StrykerJS mutant, never used for a traced run).
//
// Every test here boots a Profile object of its own (a spread copy): a Profile
// booted before gets a copy of its image, and then no line of bootMachine runs.
import { describe, expect, it, vi } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { buildMachine, mmConfigOf, type Machine } from '../../reference/system.ts';
import { compileClone } from '../../reference/boot-image.ts';
import { kmalloc_size_roundup } from '../../reference/mm/slab.ts';
import { dma_kmalloc_size_aligned } from '../../reference/kernel/dma/direct.h.ts';
import { debug_dma_map_page, debug_dma_mapping_error, debug_dma_unmap_page } from '../../reference/kernel/dma/debug.ts';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { SG2042_GEOMETRY } from '../../reference/hw/c920-cache.ts';
import { profileNamed } from '../support/machines.ts';
import { traceCalls } from './trace-calls.ts';

// Count the boot images made (compileClone runs once per image); the real function does the work.
vi.mock('../../reference/boot-image.ts', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../reference/boot-image.ts')>();
  return { ...mod, compileClone: vi.fn(mod.compileClone) };
});

const GiB = 1n << 30n;
const MiB = 1n << 20n;
const KiB = 1n << 10n;
/** 128 io_tlb slots of IO_TLB_SIZE (2 KiB): every built-in profile's pool. */
const POOL = 256n * KiB;

/** A fresh Profile object: never booted, so buildMachine really boots it. */
function fresh(name: string, patch: Partial<Profile> = {}): Profile {
  return { ...profileNamed(name), ...patch };
}

/** board-1g-6.6 (1 GiB at 0x8000_0000, the first 2 MiB reserved) with more reservations. */
function board(extraReserved: Profile['reserved'], patch: Partial<Profile> = {}): Profile {
  const p = profileNamed('board-1g-6.6');
  return { ...p, reserved: [...p.reserved, ...extraReserved], ...patch };
}

const managed = (m: Machine): number => m.mm.node_zones.reduce((n, z) => n + z.managed_pages, 0);

describe('swiotlb pool placement: memblock_alloc_low picks the highest fit (__memblock_find_range_top_down, 5.10 and 6.6)', () => {
  it('two free ranges below 4 GiB: the pool goes to the top of the upper one, not the first one found', () => {
    const m = buildMachine(board([{ base: 0xa000_0000n, size: MiB }]));
    expect(m.swiotlbPool).toEqual({ base: 0xc000_0000n - POOL, nslabs: 128 });
  });

  it('a free fragment at the top smaller than the pool is skipped (cand < this_start)', () => {
    // Reserved [0xbfff_0000, 0xbfff_f000) leaves 4 KiB free at the top of RAM.
    const m = buildMachine(board([{ base: 0xbfff_0000n, size: 0xf000n }]));
    expect(m.swiotlbPool?.base).toBe(0xbfff_0000n - POOL);
  });

  it('a free range exactly the pool size fits (cand == this_start)', () => {
    const m = buildMachine(board([{ base: 0xbff0_0000n, size: 0xc_0000n }]));
    expect(m.swiotlbPool?.base).toBe(0xbffc_0000n);
    expect(m.swiotlbPool!.base + POOL).toBe(0xc000_0000n);
  });

  it('bank order does not matter: memblock keeps its regions sorted (memblock_add_range), and phys_ram_base is the lowest', () => {
    const m = buildMachine(
      fresh('board-1g-6.6', {
        memory: [
          { base: 0xa000_0000n, size: 512n * MiB },
          { base: 0x8000_0000n, size: 512n * MiB },
        ],
      }),
    );
    expect(m.swiotlbPool?.base).toBe(0xc000_0000n - POOL);
    // arch/riscv/mm/init.c setup_bootmem (6.6): phys_ram_base = memblock_start_of_DRAM() & PMD_MASK.
    expect(m.init_mm.phys_ram_base).toBe(0x8000_0000n);
  });

  it('a reservation in a bank above 4 GiB does not widen the free range of a bank below it', () => {
    const m = buildMachine(
      board([{ base: 0x1_2000_0000n, size: MiB }], {
        memory: [
          { base: 0x8000_0000n, size: GiB },
          { base: 0x1_0000_0000n, size: GiB },
        ],
      }),
    );
    expect(m.swiotlbPool?.base).toBe(0xc000_0000n - POOL);
  });

  it('memblock never hands out the first page: with only [0, pool size) free below 4 GiB there is no pool', () => {
    // mm/memblock.c memblock_find_in_range_node: start = max(start, PAGE_SIZE) ("avoid allocating the first page").
    // swiotlb_init then finds no buffer and the machine runs without swiotlb.
    const m = buildMachine(
      fresh('board-1g-6.6', {
        memory: [
          { base: 0n, size: MiB },
          { base: 4n * GiB, size: GiB },
        ],
        reserved: [{ base: POOL, size: MiB - POOL }],
      }),
    );
    expect(m.swiotlbPool).toBeNull();
    expect(m.io_tlb).toBeNull();
  });

  it('the pool is taken out of the buddy allocator, all of it; without a pool nothing extra is', () => {
    // 1 GiB minus the 2 MiB firmware reservation, minus the 64 pages of the pool.
    expect(managed(buildMachine(fresh('board-1g-6.6')))).toBe(0x40000 - 512 - 64);
    const p = profileNamed('board-1g-6.6');
    expect(managed(buildMachine({ ...p, kconfig: { ...p.kconfig, CONFIG_SWIOTLB: false } }))).toBe(0x40000 - 512);
  });
});

describe('the linear-map cap (arch/riscv/mm/init.c setup_bootmem, memblock_cap_memory_range)', () => {
  const base66 = profileNamed('c920-sg2042-6.6');

  it('mmConfigOf without extra reservations keeps exactly the profile reservations', () => {
    expect(mmConfigOf(base66).reserved).toEqual(base66.reserved);
  });

  it('phys_ram_base is the lowest bank whatever the order of the banks', () => {
    const p: Profile = {
      ...base66,
      memory: [
        { base: 4n * GiB, size: 124n * GiB },
        { base: 0n, size: 2n * GiB },
      ],
    };
    // 6.6: the linear map covers 124 GiB from 0, so the upper bank loses its last 4 GiB.
    expect(mmConfigOf(p).memory).toEqual([
      { base: 4n * GiB, size: 120n * GiB },
      { base: 0n, size: 2n * GiB },
    ]);
  });

  it('phys_ram_base is DRAM start rounded down to PMD_SIZE (2 MiB), an aligned start stays', () => {
    const p: Profile = { ...base66, memory: [{ base: 0x8020_0000n, size: 126n * GiB }] };
    expect(mmConfigOf(p).memory).toEqual([{ base: 0x8020_0000n, size: 124n * GiB }]);
  });

  it('a bank starting exactly at the cap disappears (no empty region is left behind)', () => {
    const p: Profile = {
      ...base66,
      memory: [
        { base: 0n, size: 64n * GiB },
        { base: 124n * GiB, size: 8n * GiB },
      ],
    };
    expect(mmConfigOf(p).memory).toEqual([{ base: 0n, size: 64n * GiB }]);
  });

  it('no memory banks: nothing to cap', () => {
    expect(mmConfigOf({ ...base66, memory: [] }).memory).toEqual([]);
  });
});

describe('dma_get_cache_alignment and the unaligned-kmalloc bounce per kernel and platform', () => {
  it('6.6 Zicbom harts with CONFIG_RISCV_ISA_ZICBOM: riscv_noncoherent_supported(), so 64 and small kmalloc objects are not DMA-aligned', () => {
    // arch/riscv/kernel/setup.c (6.6): Zicbom available -> riscv_noncoherent_supported(); dma-noncoherent.c
    // riscv_set_dma_cache_alignment keeps ARCH_DMA_MINALIGN only then.
    const m = buildMachine(fresh('c920v2-sg2044-6.6'));
    expect(m.dmaCacheAlignment).toBe(64);
    expect(dma_kmalloc_size_aligned(m, 8n)).toBe(false);
  });

  it('6.6 harts without Zicbom, kernel built with CONFIG_RISCV_ISA_ZICBOM: no CMO support, alignment 1', () => {
    const p = profileNamed('board-1g-6.6');
    const m = buildMachine({
      ...p,
      platform: { ...p.platform, cmoFlavour: 'none' },
      kconfig: { ...p.kconfig, CONFIG_RISCV_ISA_ZICBOM: true },
    });
    expect(m.dmaCacheAlignment).toBe(1);
    expect(dma_kmalloc_size_aligned(m, 8n)).toBe(true);
  });

  it('vendor 5.10: dma_get_cache_alignment() is ARCH_DMA_MINALIGN (64), and there is no unaligned-kmalloc bounce', () => {
    const m = buildMachine(fresh('c920-sg2042-5.10-vendor'));
    expect(m.swiotlbPool).not.toBeNull();
    expect(m.dmaCacheAlignment).toBe(64);
    expect(m.bounceUnalignedKmalloc).toBe(false);
  });

  it('6.6 with a swiotlb pool but CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC unset: no bounce, kmalloc stays cache-line aligned', () => {
    const p = profileNamed('board-1g-6.6');
    const m = buildMachine({ ...p, kconfig: { ...p.kconfig, CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC: false } });
    expect(m.swiotlbPool).not.toBeNull();
    expect(m.bounceUnalignedKmalloc).toBe(false);
    expect(kmalloc_size_roundup(8, m.slab.cfg)).toBe(64);
  });
});

describe('what else boot builds', () => {
  it('the cache geometry follows the platform: SG2042 has 16 clusters of 4 harts, the model 2 x 2', () => {
    const p = profileNamed('board-1g-6.6');
    const sg = buildMachine({ ...p, platform: { ...p.platform, geometry: 'sg2042' } });
    expect(sg.caches.geometry).toEqual(SG2042_GEOMETRY);
    expect(sg.caches.harts).toBe(64);
    expect(buildMachine(fresh('board-1g-6.6')).caches.harts).toBe(4);
  });

  it('CONFIG_DMA_API_DEBUG honours the profile faults: debug-unmap-skips-dir-check silences the direction check', () => {
    const p = profileNamed('board-1g-6.6');
    const m = buildMachine({ ...p, kconfig: { ...p.kconfig, CONFIG_DMA_API_DEBUG: true }, faults: ['debug-unmap-skips-dir-check'] });
    const d = { name: 'eth0' };
    debug_dma_map_page(m.debug!, d, 0x9000_0000n, 64n, DMA_TO_DEVICE, 0x9000_0000n, 0);
    debug_dma_mapping_error(m.debug!, d, 0x9000_0000n);
    debug_dma_unmap_page(m.debug!, d, 0x9000_0000n, 64n, DMA_FROM_DEVICE);
    expect(m.debug!.reports.map((r) => r.check)).toEqual([]);
  });
});

describe('boot images (buildMachine)', () => {
  const images = vi.mocked(compileClone);

  it('untraced builds of one Profile object boot once and copy the image after', () => {
    const p = fresh('board-1g-6.6');
    const before = images.mock.calls.length;
    buildMachine(p);
    buildMachine(p);
    expect(images.mock.calls.length - before).toBe(1);
  });

  it('a traced build boots for real even when an image exists, so the boot is in the trace', () => {
    const p = fresh('board-1g-6.6');
    buildMachine(p);
    const top = traceCalls(() => buildMachine(p)).calls.filter((c) => !c.startsWith(' '));
    expect(top).toEqual(expect.arrayContaining(['memblock_free_all', 'swiotlb_init', 'dma_atomic_pool_init']));
  });

  type StrykerGlobal = { activeMutant?: unknown; currentTestId?: unknown };
  /**
   * Runs `body` with a stand-in StrykerJS global (set(undefined) removes it), restoring the real one
   * after. `boots()` counts the images made since the start. Under StrykerJS each instrumented module
   * keeps the namespace it first met: boot (and copy) once before the global is swapped, so none of
   * them meets the stand-in.
   */
  function withStrykerGlobal(body: (set: (v: StrykerGlobal | undefined) => void, p: Profile, boots: () => number) => void): void {
    const g = globalThis as { __stryker__?: StrykerGlobal };
    const had = '__stryker__' in g;
    const saved = g.__stryker__;
    buildMachine(fresh('board-1g-6.6'));
    const p = fresh('board-1g-6.6');
    const before = images.mock.calls.length;
    const set = (v: StrykerGlobal | undefined) => {
      if (v === undefined) delete g.__stryker__;
      else g.__stryker__ = v;
    };
    try {
      body(set, p, () => images.mock.calls.length - before);
    } finally {
      set(had ? saved : undefined);
    }
  }

  it("StrykerJS's coverage run (no active mutant, a current test): an image per test, so each test's boot is its own coverage", () => {
    withStrykerGlobal((set, p, boots) => {
      set({ currentTestId: 't1' });
      buildMachine(p);
      buildMachine(p);
      expect(boots()).toBe(1);
      set({ currentTestId: 't2' });
      buildMachine(p);
      expect(boots()).toBe(2);
      // A mutant run sets no current test: one image per mutant, shared by its tests.
      set({ activeMutant: '7' });
      buildMachine(p);
      buildMachine(p);
      expect(boots()).toBe(3);
      // Between tests (no mutant, no current test) the image is the plain run's: no new boot after it.
      set({});
      buildMachine(p);
      expect(boots()).toBe(4);
      set(undefined);
      buildMachine(p);
      expect(boots()).toBe(4);
    });
  });

  it('an image made under one StrykerJS mutant never serves another; plain runs have no StrykerJS global', () => {
    withStrykerGlobal((set, p, boots) => {
      set({ activeMutant: 'a' });
      buildMachine(p);
      buildMachine(p);
      expect(boots()).toBe(1);
      set({ activeMutant: 'b' });
      buildMachine(p);
      expect(boots()).toBe(2);
      set(undefined);
      expect(buildMachine(p).swiotlbPool).not.toBeNull();
      expect(boots()).toBe(3);
    });
  });
});
