// reference/kernel/dma/direct.h.ts: the streaming fast path (spec kernel-alloc.md §4.10).
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  dma_direct_map_page,
  dma_direct_sync_single_for_cpu,
  dma_direct_sync_single_for_device,
  dma_direct_unmap_page,
  dma_kmalloc_needs_bounce,
  dma_kmalloc_safe,
  dma_kmalloc_size_aligned,
} from '../../reference/kernel/dma/direct.h.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { kmalloc } from '../../reference/mm/slab.ts';
import { is_swiotlb_buffer, swiotlbUsed } from '../../reference/kernel/dma/swiotlb.ts';
import { phys_to_virt } from '../../reference/arch/riscv/pgtable.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { deviceRead, deviceWrite } from '../../reference/hw/device.ts';
import { lineOf, POISON } from '../../reference/mm/memory.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';

const GiB = 1n << 30n;
const HIGH = 8n * GiB; // RAM above 4 GiB on the SG2042-like profiles
const bytes = (...xs: number[]) => new Uint8Array(xs);

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

function machine(name: string, patch: Partial<Profile> = {}): Machine {
  return buildMachine({ ...profile(name), ...patch });
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
const calls = (t: Tracer) => t.events.filter((e) => e.fn !== '#').map((e) => e.fn);
const count = (t: Tracer, fn: string) => calls(t).filter((f) => f === fn).length;

afterEach(() => setTracer(null));

describe('6.6 dma_kmalloc_needs_bounce: small kmalloc buffers a non-coherent device writes to', () => {
  const m = machine('c920-sg2042-6.6');
  const nc = m.devices[0];
  const coh = { ...nc, dma_coherent: true };

  it('bounce iff size < 128 and the kmalloc bucket is not a multiple of 64', () => {
    const table: [number, boolean][] = [
      [1, true], // kmalloc-8
      [8, true],
      [16, true],
      [32, true],
      [33, false], // kmalloc-64
      [48, false],
      [64, false],
      [65, true], // kmalloc-96
      [96, true],
      [97, false], // kmalloc-128
      [127, false],
      [128, false], // >= 2 * ARCH_DMA_MINALIGN
      [150, false], // kmalloc-192 is not a multiple of 64, but size >= 128
    ];
    for (const [size, want] of table) {
      expect(dma_kmalloc_needs_bounce(m, nc, BigInt(size), DMA_FROM_DEVICE), `size ${size}`).toBe(want);
      expect(dma_kmalloc_needs_bounce(m, nc, BigInt(size), DMA_BIDIRECTIONAL), `size ${size}`).toBe(want);
    }
    expect(dma_kmalloc_size_aligned(m, 150n)).toBe(true);
  });

  it('never for DMA_TO_DEVICE or a coherent device (dma_kmalloc_safe)', () => {
    expect(dma_kmalloc_safe(m, nc, DMA_TO_DEVICE)).toBe(true);
    expect(dma_kmalloc_safe(m, coh, DMA_FROM_DEVICE)).toBe(true);
    expect(dma_kmalloc_safe(m, nc, DMA_FROM_DEVICE)).toBe(false);
    expect(dma_kmalloc_needs_bounce(m, nc, 8n, DMA_TO_DEVICE)).toBe(false);
    expect(dma_kmalloc_needs_bounce(m, coh, 8n, DMA_FROM_DEVICE)).toBe(false);
  });

  it('5.10 has no DMA_BOUNCE_UNALIGNED_KMALLOC: never', () => {
    const v = machine('c920-sg2042-5.10-fixed');
    expect(dma_kmalloc_needs_bounce(v, v.devices[0], 8n, DMA_FROM_DEVICE)).toBe(false);
  });

  it('6.6 without a swiotlb pool: kmalloc stays 64-byte aligned, so nothing counts as unaligned', () => {
    const n = machine('c920-sg2042-6.6', { platform: { ...profile('c920-sg2042-6.6').platform, swiotlbSlots: 0 } });
    expect(dma_kmalloc_needs_bounce(n, n.devices[0], 8n, DMA_FROM_DEVICE)).toBe(false);
  });
});

describe('dma_direct_map_page', () => {
  it('6.6: a 32-byte kmalloc buffer mapped FROM_DEVICE is bounced; TO_DEVICE is not', () => {
    const m = machine('c920-sg2042-6.6');
    const dev = m.devices[0];
    const pa = kmalloc(m.slab, 32, gfpFlags('6.6').GFP_KERNEL)!;
    const { r: dma, t } = traced(() => dma_direct_map_page(m, dev, pa, 32n, DMA_FROM_DEVICE, 0));
    expect(is_swiotlb_buffer(m.io_tlb!, dma)).toBe(true);
    expect(swiotlbUsed(m.io_tlb!)).toBe(1);
    expect(t.events.some((e) => e.detail === 'bounce: not dma_capable or unaligned kmalloc buffer')).toBe(true);
    expect(dma_direct_map_page(m, dev, pa, 32n, DMA_TO_DEVICE, 0)).toBe(pa);
    expect(swiotlbUsed(m.io_tlb!)).toBe(1);
  });

  it('6.6: a 64-byte kmalloc buffer needs no bounce; the direct path cleans its line for the device', () => {
    const m = machine('c920-sg2042-6.6');
    const pa = kmalloc(m.slab, 64, gfpFlags('6.6').GFP_KERNEL)!;
    cpuStore(m, 1, phys_to_virt(m.init_mm, pa), bytes(4, 5, 6));
    expect(dma_direct_map_page(m, m.devices[0], pa, 64n, DMA_FROM_DEVICE, 0)).toBe(pa);
    expect(m.mem.read(pa, 3)).toEqual(bytes(4, 5, 6));
    expect(swiotlbUsed(m.io_tlb!)).toBe(0);
  });

  for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
    it(`${name}: a 32-bit device mapping memory above 4 GiB gets a swiotlb slot below 4 GiB`, () => {
      const m = machine(name);
      const sdhci = m.devices[1];
      const dma = dma_direct_map_page(m, sdhci, HIGH, 4096n, DMA_TO_DEVICE, 0);
      expect(dma).not.toBe(DMA_MAPPING_ERROR);
      expect(dma + 4095n).toBeLessThanOrEqual(0xffff_ffffn);
      expect(is_swiotlb_buffer(m.io_tlb!, dma)).toBe(true);
      // The same address on the 64-bit device maps straight through.
      expect(dma_direct_map_page(m, m.devices[0], HIGH, 4096n, DMA_TO_DEVICE, 0)).toBe(HIGH);
    });
  }

  it('not addressable and no swiotlb: WARN "overflow" and DMA_MAPPING_ERROR', () => {
    for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
      const m = machine(name, { platform: { ...profile(name).platform, swiotlbSlots: 0 } });
      expect(dma_direct_map_page(m, m.devices[1], HIGH, 16n, DMA_TO_DEVICE, 0)).toBe(DMA_MAPPING_ERROR);
      expect(m.warnings).toEqual([`sdhci0: DMA addr 0x200000000+16 overflow (mask 0xffffffff, bus limit 0x0)`]);
    }
  });

  it('a bus_dma_limit below the buffer bounces even with a 64-bit mask', () => {
    const spec: DeviceSpec = { name: 'lim', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, dmaRanges: [{ cpu: 0n, dma: 0n, size: 4n * GiB }] };
    const m = machine('c920-sg2042-6.6', { devices: [spec] });
    expect(m.devices[0].bus_dma_limit).toBe(4n * GiB - 1n);
    expect(is_swiotlb_buffer(m.io_tlb!, dma_direct_map_page(m, m.devices[0], HIGH, 128n, DMA_TO_DEVICE, 0))).toBe(true);
  });

  it('a dma-ranges offset: the DMA address is phys - offset', () => {
    const spec: DeviceSpec = { name: 'off', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, dmaRanges: [{ cpu: 0n, dma: 0x100_0000_0000n, size: 64n * GiB }] };
    const m = machine('c920-sg2042-6.6', { devices: [spec] });
    expect(dma_direct_map_page(m, m.devices[0], HIGH + 0x40n, 64n, DMA_TO_DEVICE, 0)).toBe(0x100_0000_0000n + HIGH + 0x40n);
  });

  it('coherent device or DMA_ATTR_SKIP_CPU_SYNC: no arch_sync_dma_for_device', () => {
    const m = machine('c920-sg2042-6.6-coherent-pcie');
    const [nvme, sdhci] = m.devices;
    const { t: t1 } = traced(() => dma_direct_map_page(m, nvme, HIGH, 8n, DMA_FROM_DEVICE, 0));
    expect(calls(t1)).not.toContain('arch_sync_dma_for_device');
    expect(calls(t1)).not.toContain('swiotlb_map'); // coherent: an 8-byte buffer is kmalloc-safe
    cpuStore(m, 0, phys_to_virt(m.init_mm, 0x1000_0000n), bytes(1));
    const { t: t2 } = traced(() => dma_direct_map_page(m, sdhci, 0x1000_0000n, 64n, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC));
    expect(calls(t2)).not.toContain('arch_sync_dma_for_device');
    expect(m.caches.lineState(0, 'L1', lineOf(0x1000_0000n))).toBe('D');
  });
});

describe('sync and unmap order with a bounce buffer', () => {
  it('6.6 sync_for_cpu: cache maintenance on the slot first, then the copy back', () => {
    const m = machine('c920-sg2042-6.6');
    const sdhci = m.devices[1];
    const dma = dma_direct_map_page(m, sdhci, HIGH, 256n, DMA_BIDIRECTIONAL, 0);
    const { t } = traced(() => dma_direct_sync_single_for_cpu(m, sdhci, dma, 256n, DMA_BIDIRECTIONAL));
    const c = calls(t);
    expect(c.indexOf('arch_sync_dma_for_cpu')).toBeGreaterThanOrEqual(0);
    expect(c.indexOf('arch_sync_dma_for_cpu')).toBeLessThan(c.indexOf('swiotlb_sync_single_for_cpu'));
  });

  it('6.6 sync_for_device: the copy into the slot first, then the clean', () => {
    const m = machine('c920-sg2042-6.6');
    const sdhci = m.devices[1];
    const dma = dma_direct_map_page(m, sdhci, HIGH, 256n, DMA_BIDIRECTIONAL, 0);
    const { t } = traced(() => dma_direct_sync_single_for_device(m, sdhci, dma, 256n, DMA_BIDIRECTIONAL));
    const c = calls(t);
    expect(c.indexOf('swiotlb_sync_single_for_device')).toBeGreaterThanOrEqual(0);
    expect(c.indexOf('swiotlb_sync_single_for_device')).toBeLessThan(c.indexOf('arch_sync_dma_for_device'));
  });

  it('5.10 uses swiotlb_tbl_sync_single for both', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    const sdhci = m.devices[1];
    const dma = dma_direct_map_page(m, sdhci, HIGH, 256n, DMA_BIDIRECTIONAL, 0);
    const { t } = traced(() => {
      dma_direct_sync_single_for_cpu(m, sdhci, dma, 256n, DMA_BIDIRECTIONAL);
      dma_direct_sync_single_for_device(m, sdhci, dma, 256n, DMA_BIDIRECTIONAL);
    });
    expect(count(t, 'swiotlb_tbl_sync_single')).toBe(2);
    const c = calls(t);
    expect(c.indexOf('arch_sync_dma_for_cpu')).toBeLessThan(c.indexOf('swiotlb_tbl_sync_single'));
  });

  it('unmap FROM_DEVICE: 6.6 copies back once (SKIP_CPU_SYNC to swiotlb), 5.10 twice; the slots are released', () => {
    for (const [name, bounces] of [
      ['c920-sg2042-6.6', 1],
      ['c920-sg2042-5.10-fixed', 2],
    ] as const) {
      const m = machine(name);
      const sdhci = m.devices[1];
      const dma = dma_direct_map_page(m, sdhci, HIGH, 128n, DMA_FROM_DEVICE, 0);
      deviceWrite(m, sdhci, dma, bytes(0xd0, 0xd1));
      const { t } = traced(() => dma_direct_unmap_page(m, sdhci, dma, 128n, DMA_FROM_DEVICE, 0));
      expect(count(t, 'swiotlb_bounce'), name).toBe(bounces);
      expect(swiotlbUsed(m.io_tlb!)).toBe(0);
      expect(cpuLoad(m, 2, phys_to_virt(m.init_mm, HIGH), 2)).toEqual(bytes(0xd0, 0xd1));
    }
  });

  it('TO_DEVICE through a bounce: the device reads what the CPU left dirty in its cache', () => {
    for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed', 'c920v2-sg2044-6.6']) {
      const m = machine(name);
      cpuStore(m, 3, phys_to_virt(m.init_mm, HIGH), bytes(1, 2, 3, 4));
      const dma = dma_direct_map_page(m, m.devices[1], HIGH, 4n, DMA_TO_DEVICE, 0);
      expect(deviceRead(m, m.devices[1], dma, 4), name).toEqual(bytes(1, 2, 3, 4));
      dma_direct_unmap_page(m, m.devices[1], dma, 4n, DMA_TO_DEVICE, 0);
    }
  });

  it('unmap with DMA_ATTR_SKIP_CPU_SYNC: no cache maintenance, no copy back', () => {
    const m = machine('c920-sg2042-6.6');
    const sdhci = m.devices[1];
    const dma = dma_direct_map_page(m, sdhci, HIGH, 64n, DMA_FROM_DEVICE, 0);
    deviceWrite(m, sdhci, dma, bytes(7));
    const { t } = traced(() => dma_direct_unmap_page(m, sdhci, dma, 64n, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC));
    expect(calls(t)).not.toContain('arch_sync_dma_for_cpu');
    expect(count(t, 'swiotlb_bounce')).toBe(0);
    expect(cpuLoad(m, 0, phys_to_virt(m.init_mm, HIGH), 1)).not.toEqual(bytes(7));
    expect(swiotlbUsed(m.io_tlb!)).toBe(0);
  });

  it('a direct (unbounced) unmap only invalidates', () => {
    const m = machine('c920-sg2042-6.6');
    const dwmac = m.devices[0];
    const dma = dma_direct_map_page(m, dwmac, HIGH, 128n, DMA_FROM_DEVICE, 0);
    m.caches.speculativeFill(1, lineOf(HIGH));
    deviceWrite(m, dwmac, dma, bytes(0xee));
    const { t } = traced(() => dma_direct_unmap_page(m, dwmac, dma, 128n, DMA_FROM_DEVICE, 0));
    expect(calls(t)).toContain('arch_dma_cache_inv');
    expect(calls(t)).not.toContain('swiotlb_tbl_unmap_single');
    expect(cpuLoad(m, 1, phys_to_virt(m.init_mm, HIGH), 2)).toEqual(bytes(0xee, POISON));
  });
});
