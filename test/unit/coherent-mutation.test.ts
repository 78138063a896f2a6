// reference/kernel/dma/coherent.ts: outcomes StrykerJS showed no other test pins
// down (bench/mutation-equivalents.md lists the survivors that cannot be killed).
// Kernel: kernel/dma/coherent.c, include/linux/dma-map-ops.h, kernel/iomem.c,
// mm/ioremap.c (5.10, 6.6).
import { describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile, ReservedMemorySpec } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { dma_alloc_coherent } from '../../reference/include/linux/dma-mapping.ts';
import {
  MEMREMAP_WC,
  __dma_release_from_coherent,
  dev_get_coherent_memory,
  dma_alloc_from_dev_coherent,
  dma_alloc_from_global_coherent,
  dma_declare_coherent_memory,
  dma_init_coherent_memory,
  dma_init_global_coherent,
  dma_init_reserved_memory,
  dma_release_from_dev_coherent,
  ioremap_prot,
  memremap,
  rmem_dma_device_release,
  rmem_dma_setup,
  type dma_coherent_mem,
} from '../../reference/kernel/dma/coherent.ts';
import { coherentGlobalsCreate } from '../../reference/kernel/dma/coherent.ts';
import type { reserved_mem } from '../../reference/drivers/of/of_reserved_mem.ts';
import { PAGE_KERNEL_IO, walkPageTable } from '../../reference/arch/riscv/pgtable.ts';
import { EINVAL, ENOMEM, ModelError, PAGE_SHIFT } from '../../reference/types.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const POOL = 0x8_0000_0000n; // 32 GiB, inside SG2042 DRAM (128 GiB from 0)
const NAMES = { '6.6': 'c920-sg2042-6.6', '5.10': 'c920-sg2042-5.10-fixed' } as const;
const DECLARE = { CONFIG_DMA_DECLARE_COHERENT: true };
const GLOBAL = { CONFIG_DMA_GLOBAL_POOL: true, CONFIG_DMA_DECLARE_COHERENT: true };

/** A no-map carve-out no handler claims: memory that is not System RAM, so memremap(WC) maps it. */
const CARVEOUT: ReservedMemorySpec = { name: 'carveout', base: POOL, size: 4n * MiB, compatible: 'other', noMap: true };
const VPU: DeviceSpec = { name: 'vpu', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, memoryRegion: 'vpu-pool' };
const PLAIN: DeviceSpec = { name: 'd', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 };

function pool(extra: Partial<ReservedMemorySpec> = {}): ReservedMemorySpec {
  return { name: 'vpu-pool', base: POOL, size: MiB, compatible: 'shared-dma-pool', noMap: true, ...extra };
}

function machine(
  kernel: '5.10' | '6.6',
  devices: DeviceSpec[],
  reservedMemory: ReservedMemorySpec[],
  kconfig: Record<string, boolean> = {},
): Machine {
  const p = findProfile(NAMES[kernel]) as Profile;
  return buildMachine({ ...p, devices, reservedMemory, kconfig: { ...p.kconfig, ...kconfig }, faults: [] });
}

describe('without coherent.c (no CONFIG_DMA_DECLARE_COHERENT, no 6.6 DMA_GLOBAL_POOL)', () => {
  // 5.10 has no CONFIG_DMA_GLOBAL_POOL (it came in 5.13): the symbol selects nothing there.
  for (const [kernel, kconfig] of [
    ['6.6', {}],
    ['5.10', {}],
    ['5.10', { CONFIG_DMA_GLOBAL_POOL: true }],
  ] as const) {
    it(`${kernel} ${Object.keys(kconfig).join(' ')}: dma_alloc_from_dev_coherent / dma_release_from_dev_coherent are the header stubs (0), whatever the device holds`, () => {
      const m = machine(kernel, [PLAIN], [CARVEOUT], kconfig);
      const dev = m.devices[0];
      const mem = dma_init_coherent_memory(m, POOL, POOL, MiB, false) as dma_coherent_mem;
      dev.dma_mem = mem; // put there by hand: no code of this kernel could
      const ret = { cpu_addr: null as bigint | null };
      const h = { dma_handle: 0n };
      expect(dma_alloc_from_dev_coherent(m, dev, 4096n, h, ret)).toBe(0);
      expect(ret.cpu_addr).toBeNull();
      expect(h.dma_handle).toBe(0n);
      expect(mem.bitmap.every((w) => w === 0)).toBe(true);
      mem.bitmap[0] = 1;
      expect(dma_release_from_dev_coherent(m, dev, 0, mem.virt_base)).toBe(0);
      expect(mem.bitmap[0]).toBe(1);
    });

    it(`${kernel} ${Object.keys(kconfig).join(' ')}: dma_declare_coherent_memory is the -ENOSYS stub and the device keeps no pool`, () => {
      const m = machine(kernel, [PLAIN], [CARVEOUT], kconfig);
      const dev = m.devices[0];
      expect(dma_declare_coherent_memory(m, dev, POOL, POOL, MiB)).toBe(-38);
      expect(dev_get_coherent_memory(dev)).toBeNull();
    });
  }

  it('6.6 with DMA_GLOBAL_POOL alone: coherent.c is built (the option selects DMA_DECLARE_COHERENT), the DT pool serves', () => {
    const m = machine('6.6', [VPU], [pool()], { CONFIG_DMA_GLOBAL_POOL: true });
    const h = { dma_handle: 0n };
    expect(dma_alloc_coherent(m, m.devices[0], 4096n, h, gfpFlags('6.6').GFP_KERNEL)).not.toBeNull();
    expect(h.dma_handle).toBe(POOL);
  });
});

describe('memremap / region_intersects', () => {
  it('RAM past the 6.6 Sv39 linear map (124 GiB) was removed from memblock: not System RAM, so memremap does not WARN "on ram"', () => {
    const m = machine('6.6', [PLAIN], []);
    memremap(m, 125n * GiB, MiB, MEMREMAP_WC);
    // (The model's ioremap goes through vmap, which wants a struct page: the mapping itself
    // fails there, unlike the kernel's ioremap_page_range. Only region_intersects is checked here.)
    expect(m.warnings).toEqual([]);
  });

  it('a range starting inside a no-map region and running into RAM past its end is mixed', () => {
    const m = machine('6.6', [PLAIN], [CARVEOUT]);
    expect(memremap(m, POOL + 3n * MiB, 2n * MiB, MEMREMAP_WC)).toBeNull();
    expect(m.warnings).toEqual([`memremap attempted on mixed range 0x${(POOL + 3n * MiB).toString(16)} size: 0x200000`]);
  });

  it('flags 0 returns NULL before anything else: no WARN even over System RAM', () => {
    const m = machine('6.6', [PLAIN], [CARVEOUT]);
    expect(memremap(m, 0x1000_0000n, MiB, 0)).toBeNull();
    expect(m.warnings).toEqual([]);
  });

  it('WB and WT requests are not modelled (coherent.c asks for WC only)', () => {
    const m = machine('6.6', [PLAIN], [CARVEOUT]);
    expect(() => memremap(m, POOL, MiB, 1 << 0)).toThrow(ModelError);
    expect(() => memremap(m, POOL, MiB, 1 << 1)).toThrow(ModelError);
  });

  it('flags without WB, WT or WC (MEMREMAP_ENC) map nothing', () => {
    const m = machine('6.6', [PLAIN], [CARVEOUT]);
    expect(memremap(m, POOL, MiB, 1 << 3)).toBeNull();
  });
});

describe('ioremap_prot: if (!size || last_addr < phys_addr) return NULL', () => {
  it('size 0 is NULL even at an offset inside a page', () => {
    const m = machine('6.6', [PLAIN], [CARVEOUT]);
    expect(ioremap_prot(m, POOL + 0x800n, 0n, PAGE_KERNEL_IO(m.init_mm.cfg))).toBeNull();
  });

  it('one byte maps its page (last_addr == phys_addr is fine)', () => {
    const m = machine('6.6', [PLAIN], [CARVEOUT]);
    const va = ioremap_prot(m, POOL + 0x10n, 1n, PAGE_KERNEL_IO(m.init_mm.cfg));
    expect(va).not.toBeNull();
    expect(walkPageTable(m.init_mm, va as bigint)?.pa).toBe(POOL + 0x10n);
  });
});

describe('pool objects', () => {
  it('dev_get_coherent_memory(NULL) is NULL', () => {
    expect(dev_get_coherent_memory(null)).toBeNull();
  });

  it('5.10 dma_init_coherent_memory leaves use_dev_dma_pfn_offset 0 (kzalloc); 6.6 stores the argument', () => {
    const m5 = machine('5.10', [PLAIN], [CARVEOUT]);
    expect((dma_init_coherent_memory(m5, POOL, POOL, MiB, true) as dma_coherent_mem).use_dev_dma_pfn_offset).toBe(false);
    expect((dma_init_coherent_memory(m5, POOL + MiB, POOL + MiB, MiB, false) as dma_coherent_mem).use_dev_dma_pfn_offset).toBe(false);
    const m6 = machine('6.6', [PLAIN], [CARVEOUT]);
    expect((dma_init_coherent_memory(m6, POOL, POOL, MiB, true) as dma_coherent_mem).use_dev_dma_pfn_offset).toBe(true);
    expect((dma_init_coherent_memory(m6, POOL + MiB, POOL + MiB, MiB, false) as dma_coherent_mem).use_dev_dma_pfn_offset).toBe(false);
  });

  it('5.10 dma_declare_coherent_memory: the handle is device_addr as declared', () => {
    const m = machine('5.10', [PLAIN], [CARVEOUT], DECLARE);
    const dev = m.devices[0];
    expect(dma_declare_coherent_memory(m, dev, POOL, 0x1234_0000n, MiB)).toBe(0);
    const h = { dma_handle: 0n };
    expect(dma_alloc_coherent(m, dev, 100n, h, gfpFlags('5.10').GFP_KERNEL)).not.toBeNull();
    expect(h.dma_handle).toBe(0x1234_0000n);
  });

  it('__dma_release_from_coherent: the first byte past the pool is not the pool\'s (vaddr - mem_addr < mem_size)', () => {
    const m = machine('6.6', [PLAIN], [CARVEOUT]);
    const mem = dma_init_coherent_memory(m, POOL, POOL, 8192n, false) as dma_coherent_mem;
    mem.bitmap[0] = 3;
    expect(__dma_release_from_coherent(mem, 0, mem.virt_base + (BigInt(mem.size) << BigInt(PAGE_SHIFT)))).toBe(0);
    expect(mem.bitmap[0]).toBe(3);
    expect(__dma_release_from_coherent(mem, 0, mem.virt_base + 4096n)).toBe(1);
    expect(mem.bitmap[0]).toBe(1);
  });
});

describe('the 6.6 global pool', () => {
  it('dma_init_global_coherent passes use_dma_pfn_offset = true: the handle goes through the device\'s dma-ranges', () => {
    const dev: DeviceSpec = { ...PLAIN, dmaRanges: [{ cpu: 0n, dma: 0x1_0000_0000n, size: 64n * GiB }] };
    const m = machine('6.6', [dev], [CARVEOUT]);
    expect(dma_init_global_coherent(m, POOL, MiB)).toBe(0);
    const h = { dma_handle: 0n };
    expect(dma_alloc_from_global_coherent(m, m.devices[0], 4096n, h)).not.toBeNull();
    expect(h.dma_handle).toBe(POOL + 0x1_0000_0000n);
  });

  it('DMA_GLOBAL_POOL without a linux,dma-default node: boot goes on, dma_init_reserved_memory is -ENOMEM, no pool', () => {
    const m = machine('6.6', [VPU], [pool()], GLOBAL);
    expect(m.dmaCoherent.dma_coherent_default_memory).toBeNull();
    expect(dma_init_reserved_memory(m)).toBe(-ENOMEM);
    // The non-default node is still the device's own pool, not the global one.
    expect(m.devices[0].dma_mem).not.toBeNull();
    expect(m.dmaCoherent.dma_reserved_default_memory).toBeNull();
  });

  it('5.10: a linux,dma-default node is not recorded on riscv (CONFIG_ARM only), whatever the Kconfig says', () => {
    const m = machine('5.10', [PLAIN], [pool({ name: 'dma-default', dmaDefault: true })], GLOBAL);
    expect(m.dmaCoherent.dma_reserved_default_memory).toBeNull();
  });
});

describe('rmem_dma_setup / rmem_dma_device_release', () => {
  it('a reusable node is refused (-EINVAL) even when it is no-map: the device gets no pool', () => {
    const m = machine('6.6', [VPU], [pool({ reusable: true })], DECLARE);
    expect(m.devices[0].dma_mem).toBeNull();
    const p = findProfile(NAMES['6.6']) as Profile;
    const node = pool({ reusable: true });
    const rmem: reserved_mem = { name: node.name, base: node.base, size: node.size, node, ops: null, priv: null };
    const ctx = { profile: p, kernel: '6.6' as const, cfg: () => true, warnings: [], dmaCoherent: coherentGlobalsCreate() };
    expect(rmem_dma_setup(ctx, rmem)).toBe(-EINVAL);
    expect(rmem.ops).toBeNull();
  });

  it('rmem_dma_device_release(NULL device) does nothing', () => {
    const m = machine('6.6', [VPU], [pool()], DECLARE);
    const rmem = m.reservedMem.reserved_mem[0];
    expect(() => rmem_dma_device_release(m, rmem, null)).not.toThrow();
    expect(m.devices[0].dma_mem).not.toBeNull();
  });
});
