// reference/kernel/dma/direct.ts: coherent allocations (spec kernel-alloc.md §4.1-4.8).
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import type { FaultName } from '../../reference/config/faults.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import {
  __dma_direct_alloc_pages,
  dma_coherent_ok,
  dma_direct_alloc,
  dma_direct_free,
  dma_direct_optimal_gfp_mask,
  phys_to_dma_direct,
} from '../../reference/kernel/dma/direct.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { DMA_ATTR_NO_KERNEL_MAPPING } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { __free_pages, alloc_pages, nrFreePages, zoneOfPfn } from '../../reference/mm/page_alloc.ts';
import { hartMemoryType, isLinearMapAddr, page_address, walkPageTable } from '../../reference/arch/riscv/pgtable.ts';
import { is_vmalloc_addr } from '../../reference/mm/vmalloc.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { deviceRead } from '../../reference/hw/device.ts';
import { lineOf, POISON } from '../../reference/mm/memory.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { DMA_BIT_MASK, PFN_PHYS, U64_MAX, u64 } from '../../reference/types.ts';

const GiB = 1n << 30n;
const allZero = (b: Uint8Array) => b.every((x) => x === 0);

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

function machine(name: string, patch: { devices?: DeviceSpec[]; faults?: FaultName[] } = {}): Machine {
  const p = profile(name);
  return buildMachine({ ...p, devices: patch.devices ?? p.devices, faults: patch.faults ?? p.faults });
}

function devWith(m: Machine, over: Partial<device>): device {
  return { ...m.devices[0], ...over };
}

function G(m: Machine) {
  return gfpFlags(m.profile.kernel);
}

function traced<T>(f: () => T): { r: T; t: Tracer } {
  const t = new Tracer();
  setTracer(t);
  try {
    return { r: f(), t };
  } finally {
    setTracer(null);
  }
}
const callNames = (t: Tracer) => t.events.filter((e) => e.fn !== '#').map((e) => e.fn);
const notes = (t: Tracer) => t.events.filter((e) => e.fn === '#').map((e) => e.detail);

afterEach(() => setTracer(null));

describe('dma_direct_optimal_gfp_mask (§4.1)', () => {
  const m = machine('c920-sg2042-6.6');
  const g = G(m);
  const ask = (over: Partial<device>) => {
    const out = { phys_limit: 0n };
    const flags = dma_direct_optimal_gfp_mask(m, devWith(m, over), out);
    return [flags, out.phys_limit] as const;
  };

  it('a 32-bit coherent mask asks for ZONE_DMA32, a 64-bit one for nothing', () => {
    expect(ask({ coherent_dma_mask: DMA_BIT_MASK(32) })).toEqual([g.GFP_DMA32, 0xffff_ffffn]);
    expect(ask({ coherent_dma_mask: DMA_BIT_MASK(64) })).toEqual([0, U64_MAX]);
    expect(ask({ coherent_dma_mask: DMA_BIT_MASK(40) })).toEqual([0, DMA_BIT_MASK(40)]);
  });

  it('a mask within zone_dma_bits (24) gives GFP_DMA even without CONFIG_ZONE_DMA', () => {
    expect(ask({ coherent_dma_mask: DMA_BIT_MASK(24) })).toEqual([g.GFP_DMA, 0xff_ffffn]);
  });

  it('bus_dma_limit caps the mask, and the limit is translated to a physical address (§9.2 example)', () => {
    const map = [{ cpu_start: 0x8000_0000n, dma_start: 0n, size: 0x4000_0000n, offset: 0x8000_0000n }];
    expect(ask({ coherent_dma_mask: DMA_BIT_MASK(64), bus_dma_limit: 0x3fff_ffffn, dma_range_map: map })).toEqual([g.GFP_DMA32, 0xbfff_ffffn]);
  });

  it('a limit outside every dma-range translates to all-ones: no zone flag', () => {
    const map = [{ cpu_start: 4n * GiB, dma_start: 4n * GiB, size: GiB, offset: 0n }];
    expect(ask({ coherent_dma_mask: DMA_BIT_MASK(32), bus_dma_limit: 5n * GiB - 1n, dma_range_map: map })).toEqual([0, U64_MAX]);
  });
});

describe('dma_coherent_ok (§4.2)', () => {
  const m = machine('c920-sg2042-6.6');
  it('the last byte must be within min_not_zero(coherent_dma_mask, bus_dma_limit)', () => {
    const d = devWith(m, { coherent_dma_mask: DMA_BIT_MASK(32) });
    expect(dma_coherent_ok(m, d, 0xffff_e000n, 0x2000n)).toBe(true);
    expect(dma_coherent_ok(m, d, 0xffff_f000n, 0x2000n)).toBe(false);
    const lim = devWith(m, { coherent_dma_mask: DMA_BIT_MASK(64), bus_dma_limit: 0x1_0000_0fffn });
    expect(dma_coherent_ok(m, lim, 0x1_0000_0000n, 0x1000n)).toBe(true);
    expect(dma_coherent_ok(m, lim, 0x1_0000_0000n, 0x1001n)).toBe(false);
  });

  it('a page outside every dma-range is never ok', () => {
    const d = devWith(m, { dma_range_map: [{ cpu_start: 4n * GiB, dma_start: 0n, size: GiB, offset: 4n * GiB }], bus_dma_limit: GiB - 1n });
    expect(dma_coherent_ok(m, d, 0x1000n, 0x1000n)).toBe(false);
    expect(dma_coherent_ok(m, d, 4n * GiB, 0x1000n)).toBe(true);
    expect(phys_to_dma_direct(d, 4n * GiB + 0x1000n)).toBe(0x1000n);
  });
});

describe('__dma_direct_alloc_pages (§4.3)', () => {
  it('SG2042 6.6: a 32-bit device gets ZONE_DMA32 (< 4 GiB), a 64-bit one ZONE_Normal', () => {
    const m = machine('c920-sg2042-6.6');
    const [dwmac, sdhci] = m.devices;
    const low = __dma_direct_alloc_pages(m, sdhci, 8192n, G(m).GFP_KERNEL)!;
    expect(PFN_PHYS(low) + 8191n).toBeLessThanOrEqual(0xffff_ffffn);
    expect(zoneOfPfn(m.mm, low)?.name).toBe('DMA32');
    const high = __dma_direct_alloc_pages(m, dwmac, 8192n, G(m).GFP_KERNEL)!;
    expect(zoneOfPfn(m.mm, high)?.name).toBe('Normal');
    expect(high % 2).toBe(0); // an order-1 block is naturally aligned
  });

  it('a page above the limit is freed and the allocation retried with GFP_DMA32', () => {
    const m = machine('c920-sg2042-6.6');
    // phys_limit 4 GiB + 4 KiB - 1: no zone flag, but no 8 KiB block of ZONE_Normal fits under it.
    const d = devWith(m, { coherent_dma_mask: DMA_BIT_MASK(64), bus_dma_limit: 0x1_0000_0fffn });
    const free0 = nrFreePages(m.mm);
    const { r: pfn, t } = traced(() => __dma_direct_alloc_pages(m, d, 8192n, G(m).GFP_KERNEL));
    expect(pfn).not.toBeNull();
    expect(zoneOfPfn(m.mm, pfn!)?.name).toBe('DMA32');
    expect(notes(t)).toContain('retry with GFP_DMA32');
    expect(nrFreePages(m.mm)).toBe(free0 - 2); // the rejected Normal block went back
  });

  it('three zones: a DMA32 page above the limit is retried with GFP_DMA (ZONE_DMA, first 16 MiB)', () => {
    const m = machine('three-zone-5.10');
    const d = devWith(m, { coherent_dma_mask: DMA_BIT_MASK(64), bus_dma_limit: 0x100_0fffn });
    const { r: pfn, t } = traced(() => __dma_direct_alloc_pages(m, d, 8192n, G(m).GFP_KERNEL));
    expect(zoneOfPfn(m.mm, pfn!)?.name).toBe('DMA');
    expect(notes(t)).toContain('retry with GFP_DMA');
    expect(notes(t)).not.toContain('retry with GFP_DMA32'); // GFP_DMA32 was already set by the optimal mask
  });

  it('no memory under the limit: NULL, and nothing leaks (RAM at 2..3 GiB, bus limited to 2 GiB)', () => {
    const m = machine('board-1g-6.6');
    const d = devWith(m, { bus_dma_limit: 0x7fff_ffffn });
    const free0 = nrFreePages(m.mm);
    expect(__dma_direct_alloc_pages(m, d, 4096n, G(m).GFP_KERNEL)).toBeNull();
    expect(nrFreePages(m.mm)).toBe(free0);
  });
});

describe('dma_direct_alloc, non-coherent device on 6.6: the remap branch (§4.5)', () => {
  for (const name of ['c920-sg2042-6.6', 'c920v2-sg2044-6.6']) {
    it(`${name}: a vmalloc alias the hart reads as IO, zeroed as seen by CPU, device and DRAM`, () => {
      const m = machine(name);
      const dev = m.devices[0];
      const h = { dma_handle: 0n };
      const cpu = dma_direct_alloc(m, dev, 5000n, h, G(m).GFP_KERNEL, 0)!;
      expect(is_vmalloc_addr(m.init_mm, cpu)).toBe(true);
      expect(h.dma_handle % 4096n).toBe(0n);
      for (const off of [0n, 4096n]) {
        const t = walkPageTable(m.init_mm, cpu + off)!;
        expect(t.pa).toBe(h.dma_handle + off);
        expect(hartMemoryType(t.pte, m.hart).kind).toBe('io');
        expect(t.pte & 0x3ffn).toBe(0xe7n); // V R W G A D, no X (pgprot_nx is the identity, PAGE_KERNEL has none)
      }
      expect(walkPageTable(m.init_mm, cpu + 8192n)).toBeNull(); // the guard page
      // PAGE_ALIGN(5000) = 8192 bytes are zeroed, through the uncached alias: straight into DRAM.
      expect(allZero(cpuLoad(m, 1, cpu, 8192))).toBe(true);
      expect(allZero(deviceRead(m, dev, h.dma_handle, 8192))).toBe(true);
      expect(allZero(m.mem.read(h.dma_handle, 8192))).toBe(true);
      // Nothing of the buffer sits in any cache.
      for (const c of m.caches.cachedLines()) expect(c.line < lineOf(h.dma_handle) || c.line > lineOf(h.dma_handle + 8191n)).toBe(true);
    });
  }

  it('call path: __dma_direct_alloc_pages, then arch_dma_prep_coherent, then dma_common_contiguous_remap -> vmap', () => {
    const m = machine('c920-sg2042-6.6');
    const { t } = traced(() => dma_direct_alloc(m, m.devices[1], 4096n, { dma_handle: 0n }, G(m).GFP_KERNEL, 0));
    const top = t.events.filter((e) => e.depth === 1 && e.fn !== '#').map((e) => e.fn);
    expect(top.filter((f) => ['__dma_direct_alloc_pages', 'arch_dma_prep_coherent', 'dma_common_contiguous_remap'].includes(f))).toEqual([
      '__dma_direct_alloc_pages',
      'arch_dma_prep_coherent',
      'dma_common_contiguous_remap',
    ]);
    // 6.6 order: the blocking check (dma_direct_use_pool) first, dma_pgprot before the flush.
    expect(top.indexOf('gfpflags_allow_blocking')).toBeLessThan(top.indexOf('__dma_direct_alloc_pages'));
    expect(top.indexOf('dma_pgprot')).toBeGreaterThan(top.indexOf('__dma_direct_alloc_pages'));
    expect(top.indexOf('dma_pgprot')).toBeLessThan(top.indexOf('arch_dma_prep_coherent'));
    const names = callNames(t);
    expect(names.indexOf('vmap')).toBeGreaterThan(names.indexOf('dma_common_contiguous_remap'));
    expect(names).toContain('pgprot_dmacoherent');
  });

  it('§7 (e): dirty lines of the previous owner are flushed by prep, so a later eviction cannot overwrite the zeros', () => {
    for (const faults of [[], ['prep-coherent-skipped']] as FaultName[][]) {
      const m = machine('c920-sg2042-6.6', { faults });
      const pfn = alloc_pages(m.mm, G(m).GFP_KERNEL, 1)!;
      cpuStore(m, 2, page_address(m.init_mm, pfn), new Uint8Array(8192).fill(0x5e));
      __free_pages(m.mm, pfn, 1);
      const h = { dma_handle: 0n };
      dma_direct_alloc(m, m.devices[0], 8192n, h, G(m).GFP_KERNEL, 0);
      expect(h.dma_handle).toBe(PFN_PHYS(pfn)); // the same pages came back
      m.caches.evictLine(2, 'L1', lineOf(h.dma_handle));
      m.caches.evictLine(2, 'L2', lineOf(h.dma_handle));
      const seen = deviceRead(m, m.devices[0], h.dma_handle, 4);
      if (faults.length === 0) expect(allZero(seen)).toBe(true);
      else expect(seen).toEqual(new Uint8Array(4).fill(0x5e));
    }
  });

  it('DMA_ATTR_NO_KERNEL_MAPPING: a page cookie, prep run, memory not zeroed', () => {
    const m = machine('c920-sg2042-6.6');
    const h = { dma_handle: 0n };
    const free0 = nrFreePages(m.mm);
    const { r: cookie, t } = traced(() => dma_direct_alloc(m, m.devices[0], 4096n, h, G(m).GFP_KERNEL, DMA_ATTR_NO_KERNEL_MAPPING));
    expect(h.dma_handle).toBe(PFN_PHYS(Number(cookie)));
    expect(callNames(t)).toContain('arch_dma_prep_coherent');
    expect(callNames(t)).not.toContain('dma_common_contiguous_remap');
    expect(m.mem.read(h.dma_handle, 4)).toEqual(new Uint8Array(4).fill(POISON));
    dma_direct_free(m, m.devices[0], 4096n, cookie!, h.dma_handle, DMA_ATTR_NO_KERNEL_MAPPING);
    expect(nrFreePages(m.mm)).toBe(free0);
  });

  it('a 32-bit device gets memory below 4 GiB; one whose bus reaches only 0..2 GiB gets NULL on a board with RAM at 2..3 GiB', () => {
    const m = machine('c920-sg2042-6.6');
    const h = { dma_handle: 0n };
    expect(dma_direct_alloc(m, m.devices[1], 65536n, h, G(m).GFP_KERNEL, 0)).not.toBeNull();
    expect(h.dma_handle + 65535n).toBeLessThanOrEqual(0xffff_ffffn);
    const narrow: DeviceSpec = { name: 'narrow', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32, dmaRanges: [{ cpu: 0n, dma: 0n, size: 2n * GiB }] };
    const b = machine('board-1g-6.6', { devices: [narrow] });
    const free0 = nrFreePages(b.mm);
    expect(dma_direct_alloc(b, b.devices[0], 4096n, { dma_handle: 0n }, G(b).GFP_KERNEL, 0)).toBeNull();
    expect(nrFreePages(b.mm)).toBe(free0);
  });

  it('dma-ranges with an offset: the handle is the bus address, the CPU alias maps the physical page', () => {
    const spec: DeviceSpec = { name: 'ranged', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32, dmaRanges: [{ cpu: 0n, dma: 0x8000_0000n, size: 2n * GiB }] };
    const m = machine('c920-sg2042-6.6', { devices: [spec] });
    const dev = m.devices[0];
    const h = { dma_handle: 0n };
    const cpu = dma_direct_alloc(m, dev, 4096n, h, G(m).GFP_KERNEL, 0)!;
    const pa = walkPageTable(m.init_mm, cpu)!.pa;
    expect(h.dma_handle).toBe(pa + 0x8000_0000n);
    expect(h.dma_handle).toBeLessThanOrEqual(0xffff_ffffn);
    expect(allZero(deviceRead(m, dev, h.dma_handle, 64))).toBe(true);
  });
});

describe('dma_direct_alloc, other machines', () => {
  it('6.6 coherent device (dma-coherent PCIe): the linear map, cacheable, zeroed through the cache', () => {
    const m = machine('c920-sg2042-6.6-coherent-pcie');
    const nvme = m.devices[0];
    const h = { dma_handle: 0n };
    const { r: cpu, t } = traced(() => dma_direct_alloc(m, nvme, 4096n, h, G(m).GFP_KERNEL, 0)!);
    expect(isLinearMapAddr(m.init_mm, cpu)).toBe(true);
    expect(cpu).toBe(page_address(m.init_mm, Number(h.dma_handle >> 12n)));
    expect(hartMemoryType(walkPageTable(m.init_mm, cpu)!.pte, m.hart).kind).toBe('cacheable');
    expect(callNames(t)).not.toContain('arch_dma_prep_coherent');
    expect(callNames(t)).not.toContain('dma_common_contiguous_remap');
    // The zeros sit dirty in the kernel hart's cache; the snooping device still sees them.
    expect(m.caches.lineState(m.kernelHart, 'L1', lineOf(h.dma_handle))).toBe('D');
    expect(allZero(deviceRead(m, nvme, h.dma_handle, 4096))).toBe(true);
    expect(allZero(cpuLoad(m, 3, cpu, 4096))).toBe(true);
    // A GFP_ATOMIC request of a coherent device needs no pool: same path.
    expect(isLinearMapAddr(m.init_mm, dma_direct_alloc(m, nvme, 4096n, { dma_handle: 0n }, G(m).GFP_ATOMIC, 0)!)).toBe(true);
  });

  it('vendor 5.10 with the C920 patch: prep zeroes + dma_wbinv_range, remap writecombine (MAE NC, SH only)', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    const dev = m.devices[0];
    const h = { dma_handle: 0n };
    const { r: cpu, t } = traced(() => dma_direct_alloc(m, dev, 4096n, h, G(m).GFP_KERNEL, 0)!);
    expect(is_vmalloc_addr(m.init_mm, cpu)).toBe(true);
    const pte = walkPageTable(m.init_mm, cpu)!.pte;
    expect(hartMemoryType(pte, m.hart).kind).toBe('noncacheable');
    expect(u64(pte) >> 59n).toBe(0b00010n); // SO C B SH Sec
    const names = callNames(t);
    expect(names.indexOf('dma_wbinv_range')).toBeGreaterThan(names.indexOf('arch_dma_prep_coherent'));
    expect(names.indexOf('dma_common_contiguous_remap')).toBeGreaterThan(names.indexOf('dma_wbinv_range'));
    expect(allZero(deviceRead(m, dev, h.dma_handle, 4096))).toBe(true);
  });

  it('vendor 5.10 as found: every device "coherent", so a cacheable linear buffer zeroed in the cache; the device reads garbage', () => {
    const m = machine('c920-sg2042-5.10-vendor');
    const dev = m.devices[0];
    const h = { dma_handle: 0n };
    const cpu = dma_direct_alloc(m, dev, 4096n, h, G(m).GFP_KERNEL, 0)!;
    expect(isLinearMapAddr(m.init_mm, cpu)).toBe(true);
    expect(allZero(cpuLoad(m, 0, cpu, 64))).toBe(true);
    expect(deviceRead(m, dev, h.dma_handle, 4)).toEqual(new Uint8Array(4).fill(POISON));
  });
});

describe('dma_direct_free (§4.7, §4.8)', () => {
  it('a remapped buffer: vunmap, then the pages found from the DMA handle go back to the buddy', () => {
    const m = machine('c920-sg2042-6.6');
    const free0 = nrFreePages(m.mm);
    const h = { dma_handle: 0n };
    const cpu = dma_direct_alloc(m, m.devices[0], 12288n, h, G(m).GFP_KERNEL, 0)!;
    expect(nrFreePages(m.mm)).toBe(free0 - 4); // order 2 for three pages
    const { t } = traced(() => dma_direct_free(m, m.devices[0], 12288n, cpu, h.dma_handle, 0));
    expect(notes(t)).toContain('vunmap the remap');
    expect(walkPageTable(m.init_mm, cpu)).toBeNull();
    expect(nrFreePages(m.mm)).toBe(free0);
  });

  it('a linear-map buffer of a coherent device: no vunmap, pages freed', () => {
    const m = machine('c920-sg2042-6.6-coherent-pcie');
    const free0 = nrFreePages(m.mm);
    const h = { dma_handle: 0n };
    const cpu = dma_direct_alloc(m, m.devices[0], 4096n, h, G(m).GFP_KERNEL, 0)!;
    const { t } = traced(() => dma_direct_free(m, m.devices[0], 4096n, cpu, h.dma_handle, 0));
    expect(notes(t)).not.toContain('vunmap the remap');
    expect(nrFreePages(m.mm)).toBe(free0);
  });

  it('the pages come from the DMA handle, not the CPU address: a wrong handle frees the wrong pages', () => {
    const m = machine('c920-sg2042-6.6');
    const a = { dma_handle: 0n };
    const b = { dma_handle: 0n };
    const ca = dma_direct_alloc(m, m.devices[0], 4096n, a, G(m).GFP_KERNEL, 0)!;
    dma_direct_alloc(m, m.devices[0], 4096n, b, G(m).GFP_KERNEL, 0);
    dma_direct_free(m, m.devices[0], 4096n, ca, b.dma_handle, 0);
    expect(m.mm.allocated.has(Number(b.dma_handle >> 12n))).toBe(false);
    expect(m.mm.allocated.has(Number(a.dma_handle >> 12n))).toBe(true);
  });

  it('with a dma-ranges offset the handle is translated back before freeing', () => {
    const spec: DeviceSpec = { name: 'ranged', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, dmaRanges: [{ cpu: 0n, dma: 0x40_0000_0000n, size: 128n * GiB }] };
    const m = machine('c920-sg2042-6.6', { devices: [spec] });
    const free0 = nrFreePages(m.mm);
    const h = { dma_handle: 0n };
    const cpu = dma_direct_alloc(m, m.devices[0], 4096n, h, G(m).GFP_KERNEL, 0)!;
    expect(h.dma_handle).toBeGreaterThanOrEqual(0x40_0000_0000n);
    dma_direct_free(m, m.devices[0], 4096n, cpu, h.dma_handle, 0);
    expect(nrFreePages(m.mm)).toBe(free0);
  });
});
