// reference/hw/device.ts: a bus master reading and writing through DMA addresses.
import { describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine } from '../../reference/system.ts';
import { deviceRead, deviceWrite } from '../../reference/hw/device.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { phys_to_virt } from '../../reference/arch/riscv/pgtable.ts';
import { lineOf, POISON } from '../../reference/mm/memory.ts';
import { ModelError } from '../../reference/types.ts';

const GiB = 1n << 30n;
const bytes = (...xs: number[]) => new Uint8Array(xs);
const poison = (n: number) => new Uint8Array(n).fill(POISON);

function machine(devices: DeviceSpec[], name = 'c920-sg2042-6.6') {
  const p: Profile | undefined = findProfile(name);
  if (p === undefined) throw new Error(name);
  return buildMachine({ ...p, devices });
}

const NONCOH: DeviceSpec = { name: 'nc', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 };
const SNOOP: DeviceSpec = { name: 'snoop', coherent: true, dmaMaskBits: 64, coherentMaskBits: 64 };
const PA = 0x4000_0000n;

describe('a non-coherent (non-snooping) master sees DRAM only', () => {
  it('its write goes to DRAM; the CPU keeps hitting its own dirty line', () => {
    const m = machine([NONCOH]);
    const dev = m.devices[0];
    const va = phys_to_virt(m.init_mm, PA);
    cpuStore(m, 0, va, bytes(1, 1, 1, 1));
    deviceWrite(m, dev, PA, bytes(2, 2));
    expect(m.mem.read(PA, 4)).toEqual(bytes(2, 2, POISON, POISON));
    expect(m.caches.lineState(0, 'L1', lineOf(PA))).toBe('D');
    expect(cpuLoad(m, 0, va, 4)).toEqual(bytes(1, 1, 1, 1));
  });

  it('its read misses data the CPU left dirty in the caches', () => {
    const m = machine([NONCOH]);
    cpuStore(m, 2, phys_to_virt(m.init_mm, PA), bytes(5, 6));
    expect(deviceRead(m, m.devices[0], PA, 2)).toEqual(poison(2));
  });
});

describe('a coherent (snooping) master', () => {
  it('reads the newest data, from a dirty L1 of any hart', () => {
    const m = machine([SNOOP]);
    cpuStore(m, 3, phys_to_virt(m.init_mm, PA), bytes(5, 6));
    expect(deviceRead(m, m.devices[0], PA, 3)).toEqual(bytes(5, 6, POISON));
    // The snoop leaves the owner's dirty line alone.
    expect(m.caches.lineState(3, 'L1', lineOf(PA))).toBe('D');
  });

  it('a write flushes the cached copies: the CPU then loads the device data, and its other bytes of the line survive', () => {
    const m = machine([SNOOP]);
    const va = phys_to_virt(m.init_mm, PA);
    cpuStore(m, 1, va, bytes(1, 2, 3, 4));
    m.caches.speculativeFill(2, lineOf(PA));
    deviceWrite(m, m.devices[0], PA + 1n, bytes(9, 9));
    expect(m.caches.lineState(1, 'L1', lineOf(PA))).toBe('I');
    expect(m.caches.lineState(2, 'L1', lineOf(PA))).toBe('I');
    expect(cpuLoad(m, 2, va, 4)).toEqual(bytes(1, 9, 9, 4));
  });
});

describe('bus addresses: dma-ranges and address lines', () => {
  it('dma-ranges <dma 0, cpu 4 GiB, 1 GiB>: bus address 0x1000 is physical 4 GiB + 0x1000', () => {
    const m = machine([{ ...NONCOH, dmaRanges: [{ cpu: 4n * GiB, dma: 0n, size: GiB }] }]);
    const dev = m.devices[0];
    deviceWrite(m, dev, 0x1000n, bytes(0xab));
    expect(m.mem.read(4n * GiB + 0x1000n, 1)).toEqual(bytes(0xab));
    expect(deviceRead(m, dev, 0x1000n, 1)).toEqual(bytes(0xab));
    // Identity would have hit physical 0x1000, which stays untouched.
    expect(m.mem.read(0x1000n, 1)).toEqual(poison(1));
  });

  it('dma-ranges with the bus above the CPU side (offset wraps modulo 2^64)', () => {
    const m = machine([{ ...NONCOH, dmaRanges: [{ cpu: 0n, dma: 0x80_0000_0000n, size: 8n * GiB }] }]);
    deviceWrite(m, m.devices[0], 0x80_0000_0000n + PA, bytes(0x42));
    expect(m.mem.read(PA, 1)).toEqual(bytes(0x42));
  });

  it('a bus address outside every dma-range is a model error (the bus would not decode it)', () => {
    const m = machine([{ ...NONCOH, dmaRanges: [{ cpu: 4n * GiB, dma: 0n, size: GiB }] }]);
    expect(() => deviceWrite(m, m.devices[0], GiB, bytes(1))).toThrow(ModelError);
    expect(() => deviceRead(m, m.devices[0], GiB + 5n, 1)).toThrow(/outside every dma-range/);
  });

  it('a 32-bit master drives 32 address lines: 4 GiB + 0x2000 arrives as 0x2000', () => {
    const m = machine([{ ...NONCOH, dmaMaskBits: 32, coherentMaskBits: 32 }]);
    deviceWrite(m, m.devices[0], 4n * GiB + 0x2000n, bytes(0x77));
    expect(m.mem.read(0x2000n, 1)).toEqual(bytes(0x77));
    expect(m.mem.read(4n * GiB + 0x2000n, 1)).toEqual(poison(1));
  });

  it('without a dma_mask pointer every address line is driven', () => {
    const m = machine([NONCOH]);
    const dev = { ...m.devices[0], dma_mask: null };
    deviceWrite(m, dev, 4n * GiB + 0x3000n, bytes(0x66));
    expect(m.mem.read(4n * GiB + 0x3000n, 1)).toEqual(bytes(0x66));
  });

  it('DMA into RAM the machine does not have is a model error', () => {
    const m = machine([NONCOH]);
    expect(() => deviceWrite(m, m.devices[0], 200n * GiB, bytes(1))).toThrow(ModelError);
  });
});
