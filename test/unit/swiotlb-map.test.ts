// reference/kernel/dma/swiotlb-map.ts: swiotlb_map (5.10, 6.6).
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { swiotlb_map } from '../../reference/kernel/dma/swiotlb-map.ts';
import { is_swiotlb_buffer, swiotlbUsed } from '../../reference/kernel/dma/swiotlb.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { phys_to_virt } from '../../reference/arch/riscv/pgtable.ts';
import { cpuStore } from '../../reference/hw/cpu.ts';
import { deviceRead } from '../../reference/hw/device.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { ModelError } from '../../reference/types.ts';

const GiB = 1n << 30n;
const SRC = 8n * GiB;
const POOL = 0xfffb_f000n; // SG2042-like profiles (see system.test.ts)
const VERSIONS = ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed'] as const;

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

function machine(name: string, devices?: DeviceSpec[]): Machine {
  const p = profile(name);
  return buildMachine({ ...p, devices: devices ?? p.devices });
}

function fill(n: number, v: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (v + i) & 0xff);
}

afterEach(() => setTracer(null));

describe('swiotlb_map', () => {
  for (const name of VERSIONS) {
    it(`${name}: TO_DEVICE copies the original into the first free slot; the device reads it`, () => {
      const m = machine(name);
      const dev = m.devices[1];
      const data = fill(300, 1);
      cpuStore(m, 2, phys_to_virt(m.init_mm, SRC), data); // dirty in hart 2's L1
      const dma = swiotlb_map(m, dev, SRC, 300n, DMA_TO_DEVICE, 0);
      expect(dma).toBe(POOL);
      expect(swiotlbUsed(m.io_tlb!)).toBe(1);
      expect(deviceRead(m, dev, dma, 300)).toEqual(data);
    });

    it(`${name}: 2049 bytes take two 2 KiB slots, the next mapping starts after them`, () => {
      const m = machine(name);
      const dev = m.devices[1];
      expect(swiotlb_map(m, dev, SRC, 2049n, DMA_TO_DEVICE, 0)).toBe(POOL);
      expect(swiotlbUsed(m.io_tlb!)).toBe(2);
      expect(swiotlb_map(m, dev, SRC + 8192n, 16n, DMA_TO_DEVICE, 0)).toBe(POOL + 4096n);
    });

    it(`${name}: the pool full: DMA_MAPPING_ERROR, no WARN from swiotlb_map itself`, () => {
      const m = machine(name);
      const dev = m.devices[1];
      for (let i = 0; i < 128; i++) expect(swiotlb_map(m, dev, SRC + BigInt(i) * 2048n, 2048n, DMA_TO_DEVICE, 0)).not.toBe(DMA_MAPPING_ERROR);
      const t = new Tracer();
      setTracer(t);
      expect(swiotlb_map(m, dev, SRC, 1n, DMA_TO_DEVICE, 0)).toBe(DMA_MAPPING_ERROR);
      setTracer(null);
      expect(t.events.some((e) => e.detail === 'swiotlb full')).toBe(true);
      expect(m.warnings).toEqual([]);
    });
  }

  it('6.6 (and 5.10.y with the info-leak fix): FROM_DEVICE also copies the original in', () => {
    for (const name of VERSIONS) {
      const m = machine(name);
      m.mem.write(SRC, fill(64, 9));
      const dma = swiotlb_map(m, m.devices[1], SRC, 64n, DMA_FROM_DEVICE, 0);
      expect(deviceRead(m, m.devices[1], dma, 64), name).toEqual(fill(64, 9));
    }
  });

  it('non-coherent device: the slot is cleaned for the device; with DMA_ATTR_SKIP_CPU_SYNC the copy stays in the cache', () => {
    const m = machine('c920-sg2042-6.6');
    const dev = m.devices[1];
    m.mem.write(SRC, fill(64, 0x30));
    const t = new Tracer();
    setTracer(t);
    const dma = swiotlb_map(m, dev, SRC, 64n, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
    setTracer(null);
    expect(t.events.some((e) => e.fn === 'arch_sync_dma_for_device')).toBe(false);
    // The bounce copy ran on the kernel hart through the cacheable linear map: DRAM of the slot is still the boot zeroes.
    expect(deviceRead(m, dev, dma, 4)).toEqual(new Uint8Array(4));
    const dma2 = swiotlb_map(m, dev, SRC, 64n, DMA_BIDIRECTIONAL, 0);
    expect(deviceRead(m, dev, dma2, 64)).toEqual(fill(64, 0x30));
  });

  it('coherent device: no arch_sync_dma_for_device, the snooping master sees the copy in the cache', () => {
    const m = machine('c920-sg2042-6.6-coherent-pcie');
    const nvme = m.devices[0];
    m.mem.write(SRC, fill(64, 0x40));
    const t = new Tracer();
    setTracer(t);
    const dma = swiotlb_map(m, nvme, SRC, 64n, DMA_TO_DEVICE, 0);
    setTracer(null);
    expect(t.events.some((e) => e.fn === 'arch_sync_dma_for_device')).toBe(false);
    expect(deviceRead(m, nvme, dma, 64)).toEqual(fill(64, 0x40));
  });

  it('a slot the device cannot reach (32-bit master behind a +1 GiB bus offset): unmapped again, WARN, DMA_MAPPING_ERROR', () => {
    const spec: DeviceSpec = { name: 'shifted', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32, dmaRanges: [{ cpu: 0n, dma: GiB, size: 4n * GiB }] };
    const m = machine('c920-sg2042-6.6', [spec]);
    expect(swiotlb_map(m, m.devices[0], SRC, 64n, DMA_TO_DEVICE, 0)).toBe(DMA_MAPPING_ERROR);
    expect(swiotlbUsed(m.io_tlb!)).toBe(0);
    expect(m.warnings).toEqual(['shifted: swiotlb addr 0x13ffbf000+64 overflow (mask 0xffffffff, bus limit 0x13fffffff)']);
  });

  it('dma-ranges: the returned address is the bus address of the slot', () => {
    const spec: DeviceSpec = { name: 'off', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, dmaRanges: [{ cpu: 0n, dma: 0x80_0000_0000n, size: 16n * GiB }] };
    const m = machine('c920-sg2042-6.6', [spec]);
    const dma = swiotlb_map(m, m.devices[0], SRC, 64n, DMA_TO_DEVICE, 0);
    expect(dma).toBe(0x80_0000_0000n + POOL);
    expect(is_swiotlb_buffer(m.io_tlb!, POOL)).toBe(true);
  });

  it('a slot outside every dma-range is not capable either', () => {
    const spec: DeviceSpec = { name: 'hi', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, dmaRanges: [{ cpu: 4n * GiB, dma: 0n, size: 16n * GiB }] };
    const m = machine('c920-sg2042-6.6', [spec]);
    expect(swiotlb_map(m, m.devices[0], SRC, 64n, DMA_TO_DEVICE, 0)).toBe(DMA_MAPPING_ERROR);
    expect(m.warnings[0]).toMatch(/^hi: swiotlb addr 0xffffffffffffffff\+64 overflow/);
    expect(swiotlbUsed(m.io_tlb!)).toBe(0);
  });

  it('without a pool it is model misuse (dma-direct never calls it then)', () => {
    const p = profile('c920-sg2042-6.6');
    const m = buildMachine({ ...p, platform: { ...p.platform, swiotlbSlots: 0 } });
    expect(() => swiotlb_map(m, m.devices[0], SRC, 64n, DMA_TO_DEVICE, 0)).toThrow(ModelError);
  });
});
