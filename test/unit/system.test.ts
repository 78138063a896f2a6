// reference/system.ts buildMachine: what boot leaves behind for a profile.
import { describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile } from '../../reference/config/profile.ts';
import { BROKEN_PROFILES, CORRECT_PROFILES, findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, mmConfigOf } from '../../reference/system.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { alloc_pages, bootFreeRanges, freeBlocks } from '../../reference/mm/page_alloc.ts';
import { kmalloc, kmalloc_size_roundup } from '../../reference/mm/slab.ts';
import { page_address, phys_to_virt, SV39_LAYOUT } from '../../reference/arch/riscv/pgtable.ts';
import { dev_is_dma_coherent } from '../../reference/arch/riscv/dma-noncoherent.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { is_swiotlb_active, is_swiotlb_buffer } from '../../reference/kernel/dma/swiotlb.ts';
import { lineOf, POISON } from '../../reference/mm/memory.ts';
import { DMA_BIT_MASK, PAGE_SHIFT, U64_MAX } from '../../reference/types.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;
const POOL_BYTES = 128n * 2048n; // every built-in profile: 128 io_tlb slots of 2 KiB

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

function variant(name: string, patch: Partial<Profile>): Profile {
  return { ...profile(name), ...patch };
}

/** End PFN (exclusive) of the node's spanned memory. */
function nodeEndPfn(m: ReturnType<typeof buildMachine>): number {
  let end = 0;
  for (const z of m.mm.node_zones) if (z.spanned_pages > 0) end = Math.max(end, z.zone_start_pfn + z.spanned_pages);
  return end;
}

describe('memory the kernel can use', () => {
  it('6.6 Sv39 caps 128 GiB of SG2042 DRAM to the 124 GiB linear map; 5.10 keeps all 128 GiB', () => {
    const m66 = buildMachine(profile('c920-sg2042-6.6'));
    expect(BigInt(nodeEndPfn(m66)) << BigInt(PAGE_SHIFT)).toBe(124n * GiB);
    expect(SV39_LAYOUT['6.6'].linearMapSize).toBe(124n * GiB);
    const m510 = buildMachine(profile('c920-sg2042-5.10-fixed'));
    expect(BigInt(nodeEndPfn(m510)) << BigInt(PAGE_SHIFT)).toBe(128n * GiB);
  });

  it('the cap counts from phys_ram_base (DRAM start rounded down to 2 MiB), not from 0', () => {
    const p = variant('board-1g-6.6', { memory: [{ base: 0x8000_0000n, size: 126n * GiB }] });
    const m = buildMachine(p);
    expect(m.init_mm.phys_ram_base).toBe(0x8000_0000n);
    expect(BigInt(nodeEndPfn(m)) << BigInt(PAGE_SHIFT)).toBe(0x8000_0000n + 124n * GiB);
    // The physical DRAM above the cap still exists; only the kernel does not use it.
    expect(m.mem.isRam(0x8000_0000n + 125n * GiB)).toBe(true);
    // mmConfigOf is the same view the buddy allocator got.
    const cfg = mmConfigOf(p);
    expect(cfg.memory).toEqual([{ base: 0x8000_0000n, size: 124n * GiB }]);
  });

  it('a bank entirely above the cap disappears, a bank below stays whole', () => {
    const p = variant('c920-sg2042-6.6', {
      memory: [
        { base: 0n, size: 64n * GiB },
        { base: 200n * GiB, size: 8n * GiB },
      ],
    });
    expect(mmConfigOf(p).memory).toEqual([{ base: 0n, size: 64n * GiB }]);
  });

  it('zones on SG2042 6.6: no ZONE_DMA, DMA32 is the first 4 GiB, Normal the rest', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const [dma, dma32, normal] = m.mm.node_zones;
    expect(dma.spanned_pages).toBe(0);
    expect(dma32.zone_start_pfn).toBe(0);
    expect(dma32.spanned_pages).toBe(0x10_0000);
    // 32 MiB of firmware + kernel image and the 256 KiB swiotlb pool are reserved.
    expect(dma32.managed_pages).toBe(0x10_0000 - 8192 - 64);
    expect(normal.zone_start_pfn).toBe(0x10_0000);
    expect(normal.managed_pages).toBe(0x1f0_0000 - 0x10_0000);
  });
});

describe('swiotlb pool placement (memblock_alloc_low, top-down below ARCH_LOW_ADDRESS_LIMIT)', () => {
  it('SG2042: 256 KiB ending one page below 4 GiB (0xffffffff is an inclusive limit used as an exclusive end)', () => {
    for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed', 'c920v2-sg2044-6.6']) {
      const m = buildMachine(profile(name));
      expect(m.swiotlbPool).toEqual({ base: 0xfffb_f000n, nslabs: 128 });
      expect(m.io_tlb).not.toBeNull();
      expect(is_swiotlb_active(m.io_tlb!)).toBe(true);
      expect(is_swiotlb_buffer(m.io_tlb!, 0xfffb_f000n)).toBe(true);
      expect(is_swiotlb_buffer(m.io_tlb!, 0xfffb_f000n + POOL_BYTES - 1n)).toBe(true);
      expect(is_swiotlb_buffer(m.io_tlb!, 0xfffb_f000n + POOL_BYTES)).toBe(false);
    }
  });

  it('all RAM below 4 GiB: the pool sits at the top of RAM', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    expect(m.swiotlbPool?.base).toBe(0xc000_0000n - POOL_BYTES);
  });

  it('three-zone-5.10: the highest low bank is [0, 48 MiB), so the pool ends at 48 MiB', () => {
    const m = buildMachine(profile('three-zone-5.10'));
    expect(m.swiotlbPool?.base).toBe(48n * MiB - POOL_BYTES);
  });

  it('memblock never hands out reserved memory: a reservation at the top of low RAM pushes the pool below it', () => {
    const base = profile('board-1g-6.6');
    const p = variant('board-1g-6.6', { reserved: [...base.reserved, { base: 0xbff0_0000n, size: MiB }] });
    const m = buildMachine(p);
    expect(m.swiotlbPool?.base).toBe(0xbff0_0000n - POOL_BYTES);
  });

  it('the pool is reserved from the buddy allocator: no free block or boot range overlaps it', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    const lo = Number(m.swiotlbPool!.base >> 12n);
    const hi = lo + Number(POOL_BYTES >> 12n);
    for (const z of m.mm.node_zones) {
      for (const b of freeBlocks(z)) expect(b.pfn + 2 ** b.order <= lo || b.pfn >= hi).toBe(true);
      for (const r of bootFreeRanges(z)) expect(r.end <= lo || r.start >= hi).toBe(true);
    }
    // 1 GiB minus 2 MiB of firmware minus the pool.
    expect(m.mm.node_zones.reduce((n, z) => n + z.managed_pages, 0)).toBe(0x40000 - 512 - 64);
  });

  it('no pool without CONFIG_SWIOTLB or with zero slots; 6.6 then has no unaligned-kmalloc bounce', () => {
    const base = profile('c920-sg2042-6.6');
    const noSwiotlb = buildMachine({ ...base, kconfig: { ...base.kconfig, CONFIG_SWIOTLB: false } });
    expect(noSwiotlb.swiotlbPool).toBeNull();
    expect(noSwiotlb.io_tlb).toBeNull();
    expect(noSwiotlb.bounceUnalignedKmalloc).toBe(false);
    // Without the bounce pool 6.6 falls back to cache-line aligned kmalloc (__kmalloc_minalign).
    expect(kmalloc_size_roundup(8, noSwiotlb.slab.cfg)).toBe(64);
    const zero = buildMachine({ ...base, platform: { ...base.platform, swiotlbSlots: 0 } });
    expect(zero.swiotlbPool).toBeNull();
  });
});

describe('slab configuration per version', () => {
  it('6.6 RISCV_DMA_NONCOHERENT: ARCH_KMALLOC_MINALIGN 8, dma_get_cache_alignment 64, bounce of unaligned kmalloc', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    expect(m.dmaCacheAlignment).toBe(64);
    expect(m.bounceUnalignedKmalloc).toBe(true);
    expect(kmalloc_size_roundup(1, m.slab.cfg)).toBe(8);
    expect(kmalloc_size_roundup(65, m.slab.cfg)).toBe(96);
    const G = gfpFlags('6.6');
    const a = kmalloc(m.slab, 8, G.GFP_KERNEL)!;
    const b = kmalloc(m.slab, 8, G.GFP_KERNEL)!;
    // Two 8-byte objects share one 64-byte cache line: the reason 6.6 bounces them for DMA.
    expect(lineOf(a)).toBe(lineOf(b));
  });

  it('vendor 5.10: ARCH_DMA_MINALIGN 64 makes every kmalloc object line-aligned', () => {
    const m = buildMachine(profile('c920-sg2042-5.10-fixed'));
    expect(m.dmaCacheAlignment).toBe(64);
    expect(m.bounceUnalignedKmalloc).toBe(false);
    const G = gfpFlags('5.10');
    const a = kmalloc(m.slab, 8, G.GFP_KERNEL)!;
    const b = kmalloc(m.slab, 8, G.GFP_KERNEL)!;
    expect(a % 64n).toBe(0n);
    expect(b % 64n).toBe(0n);
    expect(lineOf(a)).not.toBe(lineOf(b));
  });

  it('6.6 without any CMO support probed (cmoFlavour none): dma_cache_alignment falls back to 1', () => {
    const base = profile('c920-sg2042-6.6');
    const m = buildMachine({ ...base, platform: { ...base.platform, cmoFlavour: 'none' } });
    expect(m.dmaCacheAlignment).toBe(1);
  });
});

describe('__GFP_ZERO through the machine', () => {
  it('alloc_pages(__GFP_ZERO) and kzalloc-style kmalloc read back zero, not poison', () => {
    for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
      const m = buildMachine(profile(name));
      const G = gfpFlags(m.profile.kernel);
      const pfn = alloc_pages(m.mm, G.GFP_KERNEL | G.__GFP_ZERO, 1)!;
      const bytes = cpuLoad(m, 1, page_address(m.init_mm, pfn), 8192);
      expect(bytes.every((x) => x === 0)).toBe(true);
      const obj = kmalloc(m.slab, 100, G.GFP_KERNEL | G.__GFP_ZERO)!;
      expect(cpuLoad(m, 2, phys_to_virt(m.init_mm, obj), 100).every((x) => x === 0)).toBe(true);
      // Without __GFP_ZERO the bytes are whatever was there: untouched RAM reads the poison byte.
      const raw = alloc_pages(m.mm, G.GFP_KERNEL, 0)!;
      expect(cpuLoad(m, 0, page_address(m.init_mm, raw), 4)).toEqual(new Uint8Array(4).fill(POISON));
    }
  });
});

describe('devices from DeviceSpec (of_dma_configure + dma_set_mask_and_coherent)', () => {
  const specs: DeviceSpec[] = [
    { name: 'plain', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32 },
    {
      name: 'ranged',
      coherent: false,
      dmaMaskBits: 64,
      coherentMaskBits: 64,
      dmaRanges: [
        { cpu: 0x8000_0000n, dma: 0n, size: 0x4000_0000n },
        { cpu: 0x1_0000_0000n, dma: 0x4000_0000n, size: 0x4000_0000n },
      ],
    },
    { name: 'below', coherent: true, dmaMaskBits: 64, coherentMaskBits: 40, dmaRanges: [{ cpu: 0n, dma: 0x10_0000_0000n, size: GiB }] },
  ];

  it('masks, range map with u64 offsets, bus_dma_limit = highest DMA end - 1', () => {
    const m = buildMachine(variant('c920-sg2042-6.6', { devices: specs }));
    const [plain, ranged, below] = m.devices;
    expect(plain.dma_mask).toBe(DMA_BIT_MASK(32));
    expect(plain.coherent_dma_mask).toBe(DMA_BIT_MASK(32));
    expect(plain.dma_range_map).toBeNull();
    expect(plain.bus_dma_limit).toBe(0n);
    expect(ranged.dma_range_map).toEqual([
      { cpu_start: 0x8000_0000n, dma_start: 0n, size: 0x4000_0000n, offset: 0x8000_0000n },
      { cpu_start: 0x1_0000_0000n, dma_start: 0x4000_0000n, size: 0x4000_0000n, offset: 0xc000_0000n },
    ]);
    expect(ranged.bus_dma_limit).toBe(0x7fff_ffffn);
    // cpu < dma: the offset wraps modulo 2^64.
    expect(below.dma_range_map?.[0].offset).toBe(U64_MAX + 1n - 0x10_0000_0000n);
    expect(below.bus_dma_limit).toBe(0x10_3fff_ffffn);
    expect(below.coherent_dma_mask).toBe(DMA_BIT_MASK(40));
  });

  it('6.6: arch_setup_dma_ops stores the device tree coherence in dev->dma_coherent', () => {
    const m = buildMachine(profile('c920-sg2042-6.6-coherent-pcie'));
    const [nvme, sdhci] = m.devices;
    expect(nvme.dma_coherent).toBe(true);
    expect(nvme.hwSnoops).toBe(true);
    expect(dev_is_dma_coherent(m, nvme)).toBe(true);
    expect(sdhci.dma_coherent).toBe(false);
    expect(dev_is_dma_coherent(m, sdhci)).toBe(false);
    expect(m.warnings).toEqual([]);
  });

  it('5.10 vendor trees: no ARCH_HAS_SETUP_DMA_OPS, dma_coherent stays 0 whatever the device tree says', () => {
    const m = buildMachine(variant('c920-sg2042-5.10-fixed', { devices: [specs[2]] }));
    expect(m.devices[0].dma_coherent).toBe(false);
    expect(dev_is_dma_coherent(m, m.devices[0])).toBe(false);
    expect(m.devices[0].hwSnoops).toBe(true);
  });

  it('vendor 5.10 as found: no sync hooks, so every device counts as coherent', () => {
    const m = buildMachine(BROKEN_PROFILES.find((p) => p.name === 'c920-sg2042-5.10-vendor')!);
    for (const d of m.devices) {
      expect(d.hwSnoops).toBe(false);
      expect(dev_is_dma_coherent(m, d)).toBe(true);
    }
  });

  it('boot WARNs of arch_setup_dma_ops reach m.warnings for non-coherent devices only', () => {
    const base = profile('c920v2-sg2044-6.6');
    const big = buildMachine({ ...base, platform: { ...base.platform, cbomBlockSize: 128 } });
    expect(big.warnings.filter((w) => w.includes('ARCH_DMA_MINALIGN smaller than riscv,cbom-block-size (64 < 128)'))).toHaveLength(2);
    const none = buildMachine(variant('c920-sg2042-6.6-coherent-pcie', { platform: { ...profile('c920-sg2042-6.6').platform, cmoFlavour: 'none' } }));
    expect(none.warnings).toEqual(['sdhci0: device non-coherent but no non-coherent operations supported']);
  });
});

describe('the rest of the machine', () => {
  it('every built-in profile builds, with no boot WARN (except the one that cannot boot)', () => {
    // The vendor 5.10 bits on a standard-Svpbmt hart oops on the first linear-map access.
    expect(() => buildMachine(BROKEN_PROFILES.find((p) => p.name === 'c920v2-svpbmt-5.10-vendor-bits')!)).toThrow(/page fault/);
    for (const p of [...CORRECT_PROFILES, ...BROKEN_PROFILES.filter((p) => p.name !== 'c920v2-svpbmt-5.10-vendor-bits')]) {
      const m = buildMachine(p);
      expect(m.warnings, p.name).toEqual([]);
      expect(m.devices.map((d) => d.name)).toEqual(p.devices.map((d) => d.name));
      expect(m.hart).toEqual({ maee: p.platform.maee, pbmte: p.platform.pbmte });
      expect(m.debug).toBeNull();
    }
  });

  it('CONFIG_DMA_API_DEBUG creates the checker', () => {
    const base = profile('c920-sg2042-6.6');
    const m = buildMachine({ ...base, kconfig: { ...base.kconfig, CONFIG_DMA_API_DEBUG: true } });
    expect(m.debug).not.toBeNull();
    expect(m.debug?.kernel).toBe('6.6');
  });

  it('cpuMem is the kernel hart through the cacheable linear map (dirty in its L1, not yet in DRAM)', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const pa = 0x4000_0000n;
    m.cpuMem.store(pa, new Uint8Array([1, 2, 3]));
    expect(m.caches.lineState(m.kernelHart, 'L1', lineOf(pa))).toBe('D');
    expect(m.mem.read(pa, 3)).toEqual(new Uint8Array(3).fill(POISON));
    expect(m.cpuMem.load(pa, 3)).toEqual(new Uint8Array([1, 2, 3]));
    cpuStore(m, 3, phys_to_virt(m.init_mm, pa + 64n), new Uint8Array([9]));
    expect(m.caches.lineState(3, 'L1', lineOf(pa + 64n))).toBe('D');
  });

  it('debugPhysOf resolves linear and unmapped addresses', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    expect(m.debugPhysOf(phys_to_virt(m.init_mm, 0x1234_5000n))).toBe(0x1234_5000n);
    expect(m.debugPhysOf(SV39_LAYOUT['6.6'].VMALLOC_END - 0x10_0000n)).toBeNull();
  });
});
