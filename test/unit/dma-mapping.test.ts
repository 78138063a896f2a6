// reference/include/linux/dma-mapping.ts: the calls drivers write, and the
// canonical stale-data scenarios (riscv-c920-coherence.md §7) end to end through them.
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import type { FaultName } from '../../reference/config/faults.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  dma_alloc_coherent,
  dma_free_coherent,
  dma_map_single,
  dma_map_single_attrs,
  dma_unmap_single,
} from '../../reference/include/linux/dma-mapping.ts';
import { dma_mapping_error } from '../../reference/kernel/dma/mapping.ts';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { kmalloc } from '../../reference/mm/slab.ts';
import { is_swiotlb_buffer } from '../../reference/kernel/dma/swiotlb.ts';
import { phys_to_virt, walkPageTable } from '../../reference/arch/riscv/pgtable.ts';
import { is_vmalloc_addr } from '../../reference/mm/vmalloc.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { deviceRead, deviceWrite } from '../../reference/hw/device.ts';
import { lineOf } from '../../reference/mm/memory.ts';
import { nrFreePages } from '../../reference/mm/page_alloc.ts';

const FIXED = ['c920-sg2042-6.6', 'c920v2-sg2044-6.6', 'c920-sg2042-5.10-fixed'] as const;
const VENDOR = 'c920-sg2042-5.10-vendor';
const OLD = new Uint8Array([0x0d, 0x0d, 0x0d, 0x0d]);
const NEW = new Uint8Array([0x4e, 0x45, 0x57, 0x21]);

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

function machine(name: string, patch: { faults?: FaultName[]; kconfig?: Profile['kconfig']; platform?: Partial<Profile['platform']> } = {}): Machine {
  const p = profile(name);
  return buildMachine({ ...p, faults: patch.faults ?? p.faults, kconfig: patch.kconfig ?? p.kconfig, platform: { ...p.platform, ...patch.platform } });
}

/** A kmalloc'd streaming buffer: its linear-map VA and physical address. */
function buffer(m: Machine, size: number): { va: bigint; pa: bigint } {
  const pa = kmalloc(m.slab, size, gfpFlags(m.profile.kernel).GFP_KERNEL);
  if (pa === null) throw new Error('kmalloc failed');
  return { va: phys_to_virt(m.init_mm, pa), pa };
}

function evictEverywhere(m: Machine, line: number): void {
  for (let h = 0; h < m.caches.harts; h++) m.caches.evictLine(h, 'L1', line);
  for (let h = 0; h < m.caches.harts; h++) m.caches.evictLine(h, 'L2', line);
}

describe('dma_map_single', () => {
  it('a linear-map pointer maps page + offset; dma_unmap_single undoes it', () => {
    const m = machine('c920-sg2042-6.6');
    const b = buffer(m, 256);
    const dma = dma_map_single(m, m.devices[0], b.va, 256n, DMA_TO_DEVICE);
    expect(dma).toBe(b.pa);
    expect(dma_mapping_error(m, m.devices[0], dma)).toBe(0);
    dma_unmap_single(m, m.devices[0], dma, 256n, DMA_TO_DEVICE);
  });

  it('a vmalloc pointer is rejected before dma-debug sees it: WARN, DMA_MAPPING_ERROR, no debug report', () => {
    const m = machine('c920-sg2042-6.6', { kconfig: { ...profile('c920-sg2042-6.6').kconfig, CONFIG_DMA_API_DEBUG: true } });
    const dev = m.devices[0];
    const cpu = dma_alloc_coherent(m, dev, 4096n, { dma_handle: 0n }, gfpFlags('6.6').GFP_KERNEL)!;
    expect(is_vmalloc_addr(m.init_mm, cpu)).toBe(true);
    expect(dma_map_single_attrs(m, dev, cpu, 64n, DMA_TO_DEVICE, 0)).toBe(DMA_MAPPING_ERROR);
    expect(m.warnings).toEqual(['dwmac0: rejecting DMA map of vmalloc memory']);
    expect(m.debug!.reports).toEqual([]);
    expect(m.debug!.error_count).toBe(0);
  });
});

describe('dma_alloc_coherent / dma_free_coherent', () => {
  it('6.6, non-coherent device: a vmalloc alias the hart reads as IO; zero for CPU and device; freed back', () => {
    const m = machine('c920-sg2042-6.6');
    const dev = m.devices[0];
    const free0 = nrFreePages(m.mm);
    const h = { dma_handle: 0n };
    const cpu = dma_alloc_coherent(m, dev, 100n, h, gfpFlags('6.6').GFP_KERNEL)!;
    expect(is_vmalloc_addr(m.init_mm, cpu)).toBe(true);
    expect(walkPageTable(m.init_mm, cpu)!.pa).toBe(h.dma_handle);
    expect(cpuLoad(m, 1, cpu, 4096).every((x) => x === 0)).toBe(true);
    expect(deviceRead(m, dev, h.dma_handle, 4096).every((x) => x === 0)).toBe(true);
    dma_free_coherent(m, dev, 100n, cpu, h.dma_handle);
    expect(walkPageTable(m.init_mm, cpu)).toBeNull();
    expect(nrFreePages(m.mm)).toBe(free0);
  });

  it('__GFP_NOWARN turns into DMA_ATTR_NO_WARN and the allocation still succeeds', () => {
    const m = machine('c920-sg2042-6.6');
    const G = gfpFlags('6.6');
    expect(dma_alloc_coherent(m, m.devices[0], 4096n, { dma_handle: 0n }, G.GFP_KERNEL | G.__GFP_NOWARN)).not.toBeNull();
  });
});

describe('§7 canonical scenarios through the DMA API', () => {
  for (const name of [...FIXED, VENDOR]) {
    const holds = name !== VENDOR;

    it(`(a) ${name}: a dirty line evicted after the device wrote -> ${holds ? 'new data' : 'stale'}`, () => {
      const m = machine(name);
      const dev = m.devices[0];
      const b = buffer(m, 256);
      cpuStore(m, 0, b.va, OLD); // dirty in hart 0's L1
      const dma = dma_map_single(m, dev, b.va, 256n, DMA_FROM_DEVICE);
      deviceWrite(m, dev, dma, NEW);
      evictEverywhere(m, lineOf(b.pa));
      dma_unmap_single(m, dev, dma, 256n, DMA_FROM_DEVICE);
      expect(cpuLoad(m, 0, b.va, 4)).toEqual(holds ? NEW : OLD);
    });

    it(`(b) ${name}: a speculative fill between map and the device write -> ${holds ? 'new data' : 'stale'}`, () => {
      const m = machine(name);
      const dev = m.devices[0];
      const b = buffer(m, 256);
      const dma = dma_map_single(m, dev, b.va, 256n, DMA_FROM_DEVICE);
      const before = m.mem.read(b.pa, 4);
      m.caches.speculativeFill(1, lineOf(b.pa));
      deviceWrite(m, dev, dma, NEW);
      dma_unmap_single(m, dev, dma, 256n, DMA_FROM_DEVICE);
      expect(cpuLoad(m, 1, b.va, 4)).toEqual(holds ? NEW : before);
    });

    it(`(c) ${name}: a descriptor written by the CPU, mapped TO_DEVICE -> the device reads ${holds ? 'it' : 'old memory'}`, () => {
      const m = machine(name);
      const dev = m.devices[0];
      const b = buffer(m, 256);
      const before = m.mem.read(b.pa, 4);
      cpuStore(m, 3, b.va, NEW);
      const dma = dma_map_single(m, dev, b.va, 256n, DMA_TO_DEVICE);
      expect(deviceRead(m, dev, dma, 4)).toEqual(holds ? NEW : before);
      dma_unmap_single(m, dev, dma, 256n, DMA_TO_DEVICE);
    });

    it(`(d) ${name}: a coherent ring: descriptor out, status in -> ${holds ? 'both seen' : 'neither seen'}`, () => {
      const m = machine(name);
      const dev = m.devices[0];
      const h = { dma_handle: 0n };
      const ring = dma_alloc_coherent(m, dev, 4096n, h, gfpFlags(m.profile.kernel).GFP_KERNEL)!;
      cpuStore(m, 0, ring, NEW);
      const seenByDevice = deviceRead(m, dev, h.dma_handle, 4);
      deviceWrite(m, dev, h.dma_handle + 64n, OLD);
      m.caches.speculativeFill(2, lineOf(h.dma_handle + 64n)); // harmless unless the CPU alias is cacheable
      const seenByCpu = cpuLoad(m, 2, ring + 64n, 4);
      if (holds) {
        expect(seenByDevice).toEqual(NEW);
        expect(seenByCpu).toEqual(OLD);
      } else {
        expect(seenByDevice).not.toEqual(NEW);
        expect(seenByCpu).toEqual(new Uint8Array(4)); // the memset's zeroes, still in the cache
      }
    });
  }

  it('(c) v6.6-rc1 T-Head clean = th.dcache.cval1: the descriptor stops in the L2, the device reads old memory', () => {
    const m = machine('c920-sg2042-6.6', { platform: { cmoFlavour: 'thead-va-cval1' } });
    const b = buffer(m, 256);
    const before = m.mem.read(b.pa, 4);
    cpuStore(m, 0, b.va, NEW);
    const dma = dma_map_single(m, m.devices[0], b.va, 256n, DMA_TO_DEVICE);
    expect(deviceRead(m, m.devices[0], dma, 4)).toEqual(before);
  });

  it('(b) 6.6 with sync-for-cpu skipped: the speculatively filled line is returned', () => {
    const m = machine('c920v2-sg2044-6.6', { faults: ['sync-for-cpu-skipped'] });
    const b = buffer(m, 256);
    const dma = dma_map_single(m, m.devices[0], b.va, 256n, DMA_FROM_DEVICE);
    m.caches.speculativeFill(1, lineOf(b.pa));
    deviceWrite(m, m.devices[0], dma, NEW);
    dma_unmap_single(m, m.devices[0], dma, 256n, DMA_FROM_DEVICE);
    expect(cpuLoad(m, 1, b.va, 4)).not.toEqual(NEW);
  });

  describe('(f) partial cache-line sharing: rx[16] next to a CPU counter in one 64-byte line', () => {
    function run(m: Machine): { rx: Uint8Array; cnt: Uint8Array; bounced: boolean } {
      const dev = m.devices[0];
      const rx = buffer(m, 16);
      const cnt = buffer(m, 16);
      cpuStore(m, 0, cnt.va, new Uint8Array([1]));
      const dma = dma_map_single(m, dev, rx.va, 16n, DMA_FROM_DEVICE);
      cpuStore(m, 0, cnt.va, new Uint8Array([2])); // the CPU keeps counting during the DMA
      deviceWrite(m, dev, dma, new Uint8Array(16).fill(0x77));
      dma_unmap_single(m, dev, dma, 16n, DMA_FROM_DEVICE);
      expect(lineOf(rx.pa)).toBe(lineOf(cnt.pa));
      return { rx: cpuLoad(m, 0, rx.va, 16), cnt: cpuLoad(m, 0, cnt.va, 1), bounced: is_swiotlb_buffer(m.io_tlb!, dma) };
    }

    it('6.6: the small kmalloc buffer is bounced, both the device data and the counter survive', () => {
      const r = run(machine('c920-sg2042-6.6'));
      expect(r.bounced).toBe(true);
      expect(r.rx).toEqual(new Uint8Array(16).fill(0x77));
      expect(r.cnt).toEqual(new Uint8Array([2]));
    });

    it('8-byte kmalloc alignment without the bounce (fault kmalloc-minalign-8): the invalidate loses the counter update', () => {
      const k = { ...profile('c920-sg2042-6.6').kconfig, CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC: false };
      const r = run(machine('c920-sg2042-6.6', { kconfig: k, faults: ['kmalloc-minalign-8'] }));
      expect(r.bounced).toBe(false);
      expect(r.rx).toEqual(new Uint8Array(16).fill(0x77));
      expect(r.cnt).toEqual(new Uint8Array([1]));
    });
  });
});
