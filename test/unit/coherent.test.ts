// reference/kernel/dma/coherent.ts: per-device and global coherent pools (spec §3, §13 ex. 5, historic C2).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DeviceSpec, Profile, ReservedMemorySpec } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { dma_alloc_coherent, dma_free_coherent } from '../../reference/include/linux/dma-mapping.ts';
import {
  dma_declare_coherent_memory,
  dma_release_coherent_memory,
  dma_init_coherent_memory,
  dev_get_coherent_memory,
} from '../../reference/kernel/dma/coherent.ts';
import { of_reserved_mem_device_init, of_reserved_mem_device_release } from '../../reference/drivers/of/of_reserved_mem.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { deviceRead } from '../../reference/hw/device.ts';
import { hartMemoryType, walkPageTable } from '../../reference/arch/riscv/pgtable.ts';
import { find_vm_area, is_vmalloc_addr, VM_IOREMAP } from '../../reference/mm/vmalloc.ts';
import { bootFreeRanges, freeBlocks, nrFreePages } from '../../reference/mm/page_alloc.ts';
import { POISON } from '../../reference/mm/memory.ts';
import { DMA_BIT_MASK, EBUSY, EINVAL, ModelError, PAGE_SHIFT } from '../../reference/types.ts';

const MiB = 1n << 20n;
const POOL_BASE = 0x8_0000_0000n; // 32 GiB, inside SG2042 DRAM
const DECLARE = { CONFIG_DMA_DECLARE_COHERENT: true };

function base(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(name);
  return p;
}

function pool(extra: Partial<ReservedMemorySpec> = {}): ReservedMemorySpec {
  return { name: 'vpu-pool', base: POOL_BASE, size: MiB, compatible: 'shared-dma-pool', noMap: true, ...extra };
}

function machine(
  name: string,
  devices: DeviceSpec[],
  reservedMemory: ReservedMemorySpec[],
  kconfig: Record<string, boolean> = DECLARE,
  faults: Profile['faults'] = [],
): Machine {
  const p = base(name);
  return buildMachine({ ...p, devices, reservedMemory, kconfig: { ...p.kconfig, ...kconfig }, faults });
}

const VPU: DeviceSpec = { name: 'vpu', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, memoryRegion: 'vpu-pool' };

describe('per-device pool from a no-map shared-dma-pool (§13 example 5)', () => {
  for (const kname of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
    it(`${kname}: 5000 bytes take an order-1 run at the first free even page, zeroed through an IO alias`, () => {
      const m = machine(kname, [VPU], [pool()]);
      const G = gfpFlags(m.profile.kernel);
      const dev = m.devices[0];
      const mem = dev_get_coherent_memory(dev)!;
      expect(mem.size).toBe(256);
      expect(mem.pfn_base).toBe(Number(POOL_BASE >> BigInt(PAGE_SHIFT)));
      const free0 = nrFreePages(m.mm);

      const h1 = { dma_handle: 0n };
      const a = dma_alloc_coherent(m, dev, 4096n, h1, G.GFP_KERNEL)!;
      expect(h1.dma_handle).toBe(POOL_BASE);
      const h2 = { dma_handle: 0n };
      const b = dma_alloc_coherent(m, dev, 5000n, h2, G.GFP_KERNEL)!;
      // page 0 is taken, order 1 → pages 2..3
      expect(h2.dma_handle).toBe(POOL_BASE + 2n * 4096n);
      expect(b - a).toBe(2n * 4096n);
      expect(is_vmalloc_addr(m.init_mm, b)).toBe(true);
      expect(find_vm_area(m.init_mm, b)?.flags).toBe(VM_IOREMAP);
      // memremap(MEMREMAP_WC) on riscv is ioremap: the IO memory type, straight to DRAM.
      const t = walkPageTable(m.init_mm, b)!;
      expect(t.pa).toBe(POOL_BASE + 2n * 4096n);
      expect(hartMemoryType(t.pte, m.hart).kind).toBe('io');
      // size bytes zeroed, not the whole run
      expect(cpuLoad(m, 1, b, 5000).every((x) => x === 0)).toBe(true);
      expect(m.mem.read(POOL_BASE + 2n * 4096n + 5000n, 8)).toEqual(new Uint8Array(8).fill(POISON));
      // The CPU's writes are visible to the non-snooping device at once.
      cpuStore(m, 0, b, new Uint8Array([7, 8, 9]));
      expect(deviceRead(m, dev, h2.dma_handle, 3)).toEqual(new Uint8Array([7, 8, 9]));
      // Nothing came from the page allocator.
      expect(nrFreePages(m.mm)).toBe(free0);
      dma_free_coherent(m, dev, 5000n, b, h2.dma_handle);
      const h3 = { dma_handle: 0n };
      dma_alloc_coherent(m, dev, 8192n, h3, G.GFP_KERNEL);
      expect(h3.dma_handle).toBe(POOL_BASE + 2n * 4096n);
      expect(m.warnings).toEqual([]);
    });
  }

  it('the no-map region never reaches the buddy allocator', () => {
    const m = machine('c920-sg2042-6.6', [VPU], [pool()]);
    const lo = Number(POOL_BASE >> 12n);
    const hi = lo + 256;
    for (const z of m.mm.node_zones) {
      for (const f of freeBlocks(z)) expect(f.pfn + (1 << f.order) <= lo || f.pfn >= hi).toBe(true);
      for (const r of bootFreeRanges(z)) expect(r.end <= lo || r.start >= hi).toBe(true);
    }
  });

  it('an exhausted pool returns NULL and does not fall back to the page allocator', () => {
    const m = machine('c920-sg2042-6.6', [VPU], [pool()]);
    const G = gfpFlags(m.profile.kernel);
    const dev = m.devices[0];
    const free0 = nrFreePages(m.mm);
    expect(dma_alloc_coherent(m, dev, MiB, { dma_handle: 0n }, G.GFP_KERNEL)).not.toBeNull();
    const h = { dma_handle: 0xdeadn };
    expect(dma_alloc_coherent(m, dev, 4096n, h, G.GFP_KERNEL)).toBeNull();
    expect(h.dma_handle).toBe(0xdeadn); // written only on success
    expect(dma_alloc_coherent(m, dev, 2n * MiB, h, G.GFP_KERNEL)).toBeNull(); // larger than the pool
    expect(nrFreePages(m.mm)).toBe(free0);
  });

  it('regions are naturally aligned to their order, whatever the request sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 70_000 }), { maxLength: 20 }), (sizes) => {
        const m = machine('c920-sg2042-6.6', [VPU], [pool()]);
        const G = gfpFlags(m.profile.kernel);
        for (const s of sizes) {
          const h = { dma_handle: 0n };
          const cpu = dma_alloc_coherent(m, m.devices[0], BigInt(s), h, G.GFP_KERNEL);
          if (cpu === null) continue;
          const pages = Number((h.dma_handle - POOL_BASE) >> 12n);
          const order = Math.ceil(Math.log2(Math.ceil(s / 4096)));
          expect(pages % (1 << order)).toBe(0);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('a free with the wrong size clears a neighbour: the next allocation overlaps a live buffer', () => {
    const m = machine('c920-sg2042-6.6', [VPU], [pool()]);
    const G = gfpFlags(m.profile.kernel);
    const dev = m.devices[0];
    const ha = { dma_handle: 0n };
    const hb = { dma_handle: 0n };
    const a = dma_alloc_coherent(m, dev, 4096n, ha, G.GFP_KERNEL)!;
    dma_alloc_coherent(m, dev, 4096n, hb, G.GFP_KERNEL)!;
    dma_free_coherent(m, dev, 8192n, a, ha.dma_handle); // order 1: bits 0 and 1
    dma_alloc_coherent(m, dev, 4096n, { dma_handle: 0n }, G.GFP_KERNEL);
    const hc = { dma_handle: 0n };
    dma_alloc_coherent(m, dev, 4096n, hc, G.GFP_KERNEL);
    expect(hc.dma_handle).toBe(hb.dma_handle);
  });

  it('a pointer outside the pool goes to dma-direct even on a device with a pool', () => {
    const m = machine('c920-sg2042-6.6', [VPU, { ...VPU, name: 'plain', memoryRegion: undefined }], [pool()]);
    const G = gfpFlags(m.profile.kernel);
    const [vpu, plain] = m.devices;
    const h = { dma_handle: 0n };
    const buf = dma_alloc_coherent(m, plain, 4096n, h, G.GFP_KERNEL)!;
    const free0 = nrFreePages(m.mm);
    dma_free_coherent(m, vpu, 4096n, buf, h.dma_handle);
    expect(nrFreePages(m.mm)).toBe(free0 + 1);
  });

  it('two devices naming the same region share one pool', () => {
    const m = machine('c920-sg2042-6.6', [VPU, { ...VPU, name: 'vpu1' }], [pool()]);
    expect(m.devices[0].dma_mem).not.toBeNull();
    expect(m.devices[1].dma_mem).toBe(m.devices[0].dma_mem);
  });
});

describe('regions coherent.c cannot or will not serve', () => {
  it('without no-map the region is System RAM: memremap(WC) refuses it and the device gets no pool', () => {
    const m = machine('c920-sg2042-6.6', [VPU], [pool({ noMap: false })]);
    expect(m.devices[0].dma_mem).toBeNull();
    expect(m.warnings.some((w) => w.startsWith('memremap attempted on ram'))).toBe(true);
    // The region stays reserved all the same; allocations go through dma-direct.
    const G = gfpFlags(m.profile.kernel);
    const h = { dma_handle: 0n };
    expect(dma_alloc_coherent(m, m.devices[0], 4096n, h, G.GFP_KERNEL)).not.toBeNull();
    expect(h.dma_handle < POOL_BASE || h.dma_handle >= POOL_BASE + MiB).toBe(true);
  });

  it('a range straddling a no-map region and RAM is mixed: memremap refuses it', () => {
    const m = machine('c920-sg2042-6.6', [], [pool()]);
    const r = dma_init_coherent_memory(m, POOL_BASE - 4096n, POOL_BASE - 4096n, 2n * 4096n, false);
    expect(r).toBe(-EINVAL);
    expect(m.warnings.some((w) => w.startsWith('memremap attempted on mixed range'))).toBe(true);
  });

  it('without CONFIG_DMA_DECLARE_COHERENT no handler claims the node', () => {
    const m = machine('c920-sg2042-6.6', [VPU], [pool()], {});
    expect(m.devices[0].dma_mem).toBeNull();
    expect(of_reserved_mem_device_init(m, m.devices[0])).toBe(-EINVAL);
  });

  it('a reusable node is CMA business: rmem_dma_setup rejects it, dma_mem stays NULL', () => {
    const m = machine('c920-sg2042-6.6', [VPU], [pool({ reusable: true, noMap: false })]);
    expect(m.devices[0].dma_mem).toBeNull();
  });
});

describe('historic C2: the device base honours dma-ranges (a445e940ea68)', () => {
  // bus 0x8000_0000 ↔ CPU 0x4_8000_0000, 2 GiB; pool at CPU 0x4_9480_0000; 32-bit coherent mask
  const C2_DEV: DeviceSpec = {
    name: 'c2',
    coherent: false,
    dmaMaskBits: 32,
    coherentMaskBits: 32,
    dmaRanges: [{ dma: 0x8000_0000n, cpu: 0x4_8000_0000n, size: 0x8000_0000n }],
    memoryRegion: 'c2-pool',
  };
  const C2_POOL: ReservedMemorySpec = { name: 'c2-pool', base: 0x4_9480_0000n, size: 4n * MiB, compatible: 'shared-dma-pool', noMap: true };

  for (const kname of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
    it(`${kname}: handle 0x9480_0000, within the 32-bit mask`, () => {
      const m = machine(kname, [C2_DEV], [C2_POOL]);
      const G = gfpFlags(m.profile.kernel);
      const h = { dma_handle: 0n };
      expect(dma_alloc_coherent(m, m.devices[0], 4096n, h, G.GFP_KERNEL)).not.toBeNull();
      expect(h.dma_handle).toBe(0x9480_0000n);
      expect(h.dma_handle <= m.devices[0].coherent_dma_mask).toBe(true);
    });

    it(`${kname} + fault coherent-device-base-ignores-ranges: the CPU address 0x4_9480_0000 comes back`, () => {
      const m = machine(kname, [C2_DEV], [C2_POOL], DECLARE, ['coherent-device-base-ignores-ranges']);
      const G = gfpFlags(m.profile.kernel);
      const h = { dma_handle: 0n };
      dma_alloc_coherent(m, m.devices[0], 4096n, h, G.GFP_KERNEL);
      expect(h.dma_handle).toBe(0x4_9480_0000n);
      expect(h.dma_handle > DMA_BIT_MASK(32)).toBe(true);
    });
  }

  it('dma_declare_coherent_memory takes device_addr as given (no pfn offset)', () => {
    const m = machine('c920-sg2042-6.6', [{ ...C2_DEV, memoryRegion: undefined }], [C2_POOL]);
    const dev = m.devices[0];
    expect(dma_declare_coherent_memory(m, dev, 0x4_9480_0000n, 0x1234_0000n, MiB)).toBe(0);
    const h = { dma_handle: 0n };
    dma_alloc_coherent(m, dev, 100n, h, gfpFlags('6.6').GFP_KERNEL);
    expect(h.dma_handle).toBe(0x1234_0000n);
  });
});

describe('pool lifetime', () => {
  it('dma_declare_coherent_memory: -EBUSY over an existing pool (and the new mapping is undone), -EINVAL for size 0, -ENODEV without a device', () => {
    const m = machine('c920-sg2042-6.6', [VPU], [pool(), pool({ name: 'other', base: POOL_BASE + MiB })]);
    const dev = m.devices[0];
    const before = m.init_mm.vmalloc?.busy.length ?? 0;
    expect(dma_declare_coherent_memory(m, dev, POOL_BASE + MiB, POOL_BASE + MiB, MiB)).toBe(-EBUSY);
    expect(m.init_mm.vmalloc?.busy.length ?? 0).toBe(before);
    expect(dma_declare_coherent_memory(m, dev, POOL_BASE + MiB, POOL_BASE + MiB, 0n)).toBe(-EINVAL);
    expect(dma_declare_coherent_memory(m, null, POOL_BASE + MiB, POOL_BASE + MiB, MiB)).toBe(-19);
  });

  it('of_reserved_mem_device_release drops the device link; the pool object lives on in rmem->priv', () => {
    const m = machine('c920-sg2042-6.6', [VPU], [pool()]);
    const dev = m.devices[0];
    const mem = dev.dma_mem;
    of_reserved_mem_device_release(m, dev);
    expect(dev.dma_mem).toBeNull();
    expect(of_reserved_mem_device_init(m, dev)).toBe(0);
    expect(dev.dma_mem).toBe(mem);
  });

  it('dma_release_coherent_memory(dev) is 6.6 only', () => {
    const m = machine('c920-sg2042-6.6', [VPU], [pool()]);
    dma_release_coherent_memory(m, m.devices[0]);
    expect(m.devices[0].dma_mem).toBeNull();
    const m5 = machine('c920-sg2042-5.10-fixed', [VPU], [pool()]);
    expect(() => dma_release_coherent_memory(m5, m5.devices[0])).toThrow(ModelError);
  });
});

describe('the 6.6 global pool (CONFIG_DMA_GLOBAL_POOL, linux,dma-default)', () => {
  const GLOBAL = { CONFIG_DMA_GLOBAL_POOL: true, CONFIG_DMA_DECLARE_COHERENT: true };
  const DEFAULT_POOL = pool({ name: 'dma-default', dmaDefault: true });
  const DEVS: DeviceSpec[] = [
    { name: 'nc', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 },
    { name: 'coh', coherent: true, dmaMaskBits: 64, coherentMaskBits: 64 },
  ];

  it('6.6: non-coherent devices allocate from it and free back into it; coherent ones do not', () => {
    const m = machine('c920-sg2042-6.6', DEVS, [DEFAULT_POOL], GLOBAL);
    const G = gfpFlags('6.6');
    const gmem = m.dmaCoherent.dma_coherent_default_memory!;
    expect(gmem).not.toBeNull();
    const [nc, coh] = m.devices;
    const h = { dma_handle: 0n };
    const cpu = dma_alloc_coherent(m, nc, 6000n, h, G.GFP_KERNEL)!;
    expect(h.dma_handle).toBe(POOL_BASE);
    expect(cpu).toBe(gmem.virt_base);
    // An atomic request also comes from the global pool: it is checked before the atomic pools.
    const h2 = { dma_handle: 0n };
    dma_alloc_coherent(m, nc, 100n, h2, G.GFP_ATOMIC);
    expect(h2.dma_handle).toBe(POOL_BASE + 2n * 4096n);
    dma_free_coherent(m, nc, 6000n, cpu, h.dma_handle);
    const h3 = { dma_handle: 0n };
    dma_alloc_coherent(m, nc, 8192n, h3, G.GFP_KERNEL);
    expect(h3.dma_handle).toBe(POOL_BASE);
    const hc = { dma_handle: 0n };
    dma_alloc_coherent(m, coh, 4096n, hc, G.GFP_KERNEL);
    expect(hc.dma_handle < POOL_BASE || hc.dma_handle >= POOL_BASE + MiB).toBe(true);
    expect(m.warnings).toEqual([]);
  });

  it('6.6: an exhausted global pool returns NULL; a free that is not from it WARNs', () => {
    const m = machine('c920-sg2042-6.6', DEVS, [pool({ name: 'dma-default', dmaDefault: true, size: 8192n })], GLOBAL);
    const G = gfpFlags('6.6');
    const nc = m.devices[0];
    expect(dma_alloc_coherent(m, nc, 8192n, { dma_handle: 0n }, G.GFP_KERNEL)).not.toBeNull();
    expect(dma_alloc_coherent(m, nc, 4096n, { dma_handle: 0n }, G.GFP_KERNEL)).toBeNull();
    dma_free_coherent(m, nc, 4096n, 0xffff_ffff_0000_0000n, 0n);
    expect(m.warnings.some((w) => w.includes('global coherent pool'))).toBe(true);
  });

  it('6.6: a second linux,dma-default node WARNs and replaces the first', () => {
    const m = machine('c920-sg2042-6.6', DEVS, [DEFAULT_POOL, pool({ name: 'dma-default2', dmaDefault: true, base: POOL_BASE + MiB })], GLOBAL);
    expect(m.warnings.some((w) => w.includes('redefined'))).toBe(true);
    expect(m.dmaCoherent.dma_reserved_default_memory?.name).toBe('dma-default2');
  });

  it('5.10: no global pool on riscv (linux,dma-default is CONFIG_ARM only; dma-direct never asks)', () => {
    const m = machine('c920-sg2042-5.10-fixed', DEVS, [DEFAULT_POOL], GLOBAL);
    expect(m.dmaCoherent.dma_coherent_default_memory).toBeNull();
    const h = { dma_handle: 0n };
    expect(dma_alloc_coherent(m, m.devices[0], 4096n, h, gfpFlags('5.10').GFP_KERNEL)).not.toBeNull();
    expect(h.dma_handle < POOL_BASE || h.dma_handle >= POOL_BASE + MiB).toBe(true);
  });
});
