// kernel/iomem.c memremap as kernel/dma/coherent.c uses it (flags 0, mixed
// ranges, WC over RAM vs over device memory), ioremap_prot's size checks, and
// the 6.6 global coherent pool set up by hand (dma_init_global_coherent).
import { traceCalls } from './trace-calls.ts';
import { describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  MEMREMAP_WC,
  dma_alloc_from_global_coherent,
  dma_init_global_coherent,
  dma_release_coherent_memory,
  dma_release_from_global_coherent,
  ioremap_prot,
  memremap,
  memunmap,
} from '../../reference/kernel/dma/coherent.ts';
import { PAGE_KERNEL_IO, hartMemoryType, walkPageTable } from '../../reference/arch/riscv/pgtable.ts';
import { find_vm_area, is_vmalloc_addr } from '../../reference/mm/vmalloc.ts';
import { ModelError } from '../../reference/types.ts';

const MiB = 1n << 20n;
const DRAM = 0x8000_0000n; // board-1g: 1 GiB from here
const MMIO = 0x4000_0000n; // below DRAM: not System RAM, not modelled memory either
// A no-map /reserved-memory region: memory the model holds, but not System RAM (riscv registers it as reserved).
const NOMAP = DRAM + 512n * MiB;
const DEV: DeviceSpec = { name: 'd', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32 };

function machine(name = 'board-1g-6.6'): Machine {
  const p = findProfile(name) as Profile;
  return buildMachine({
    ...p,
    devices: [DEV],
    faults: [],
    reservedMemory: [{ name: 'carveout', base: NOMAP, size: 4n * MiB, compatible: 'other', noMap: true }],
  });
}

describe('memremap', () => {
  it('flags 0 maps nothing', () => {
    const m = machine();
    expect(memremap(m, MMIO, MiB, 0)).toBeNull();
  });

  it('a range that is part RAM, part not, WARNs and fails', () => {
    const m = machine();
    expect(memremap(m, DRAM - MiB, 2n * MiB, MEMREMAP_WC)).toBeNull();
    expect(m.warnings.at(-1)).toBe(`memremap attempted on mixed range 0x${(DRAM - MiB).toString(16)} size: 0x${(2n * MiB).toString(16)}`);
  });

  it('WC over System RAM is refused (the linear map already maps it cacheable)', () => {
    const m = machine();
    expect(memremap(m, DRAM + 64n * MiB, MiB, MEMREMAP_WC)).toBeNull();
    expect(m.warnings.at(-1)).toContain('memremap attempted on ram');
  });

  it('WC over a no-map carve-out is an ioremap: an IO-typed vmalloc alias, removed again by memunmap', () => {
    const m = machine();
    const va = memremap(m, NOMAP + 0x800n, 0x1000n, MEMREMAP_WC)!;
    expect(va).not.toBeNull();
    expect(is_vmalloc_addr(m.init_mm, va)).toBe(true);
    expect(va & 0xfffn).toBe(0x800n); // the offset inside the page is kept
    // 0x800 + 0x1000 spans two pages.
    expect(walkPageTable(m.init_mm, va)!.pa).toBe(NOMAP + 0x800n);
    expect(walkPageTable(m.init_mm, va + 0x1000n)!.pa).toBe(NOMAP + 0x1800n);
    expect(hartMemoryType(walkPageTable(m.init_mm, va)!.pte, m.hart).kind).toBe('io');
    memunmap(m, va);
    expect(find_vm_area(m.init_mm, va)).toBeNull();
  });

  it('ioremap_prot refuses size 0 and a range that wraps past the top of the address space', () => {
    const m = machine();
    const prot = PAGE_KERNEL_IO(m.init_mm.cfg);
    expect(ioremap_prot(m, MMIO, 0n, prot)).toBeNull();
    // Refused up front (mm/ioremap.c: last_addr < phys_addr), before any area is mapped.
    const wrap = traceCalls(() => ioremap_prot(m, (1n << 64n) - 0x1000n, 0x2000n, prot));
    expect(wrap.result).toBeNull();
    expect(wrap.calls).toEqual(['ioremap_prot']);
  });
});

describe('6.6 global coherent pool (CONFIG_DMA_GLOBAL_POOL)', () => {
  it('without one, the global alloc gives NULL and the global release claims nothing', () => {
    const m = machine();
    const dev = m.devices[0];
    expect(dma_alloc_from_global_coherent(m, dev, 4096n, { dma_handle: 0n })).toBeNull();
    expect(dma_release_from_global_coherent(m, 0, 0xffff_ffc0_0000_0000n)).toBe(0);
  });

  it('dma_init_global_coherent over a no-map carve-out: allocations come from it, handle = CPU address, release claims them', () => {
    const m = machine();
    const dev = m.devices[0];
    expect(dma_init_global_coherent(m, NOMAP, MiB)).toBe(0);
    const h = { dma_handle: 0n };
    const va = dma_alloc_from_global_coherent(m, dev, 8192n, h)!;
    expect(h.dma_handle).toBe(NOMAP);
    expect(walkPageTable(m.init_mm, va)!.pa).toBe(NOMAP);
    const h2 = { dma_handle: 0n };
    dma_alloc_from_global_coherent(m, dev, 4096n, h2);
    expect(h2.dma_handle).toBe(NOMAP + 8192n); // order-1 region first, then the next free page
    expect(dma_release_from_global_coherent(m, 1, va)).toBe(1);
    // An address outside the pool is not the pool's to release.
    expect(dma_release_from_global_coherent(m, 0, va - 0x10_0000n)).toBe(0);
  });

  it('over System RAM the pool cannot be mapped: the error comes back and no pool is set', () => {
    const m = machine();
    expect(dma_init_global_coherent(m, DRAM + 64n * MiB, MiB)).toBeLessThan(0);
    expect(m.dmaCoherent.dma_coherent_default_memory).toBeNull();
  });

  it('exists only in 6.6; dma_release_coherent_memory(NULL) is a no-op', () => {
    const m510 = machine('c920-sg2042-5.10-fixed');
    expect(() => dma_init_global_coherent(m510, MMIO, MiB)).toThrow(ModelError);
    const m = machine();
    dma_release_coherent_memory(m, null);
    const dev = m.devices[0];
    dma_release_coherent_memory(m, dev); // a device without a pool: nothing to unmap
    expect(dev.dma_mem).toBeNull();
  });
});
