// walk_system_ram_range, the v6.7 range-map coverage check (backport a409d9600959),
// dma_addressing_limited with and without it, and dma_max_mapping_size (5.10, 6.6).
import { describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { systemRamResources, walk_system_ram_range } from '../../reference/kernel/resource.ts';
import { check_ram_in_range_map, dma_direct_all_ram_mapped, dma_find_range } from '../../reference/kernel/dma/direct.ts';
import { dma_addressing_limited, dma_map_page_attrs, dma_unmap_page_attrs } from '../../reference/kernel/dma/mapping.ts';
import { dma_direct_max_mapping_size, dma_max_mapping_size, SIZE_MAX } from '../../reference/kernel/dma/max-mapping-size.ts';
import { DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { decodeProfile, encodeProfile, ShapeError } from '../../properties/profile-json.ts';
import { EINVAL, ModelError, PAGE_SHIFT } from '../../reference/types.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;
const SEGMENT = 256n * 1024n;
const pfn = (pa: bigint) => Number(pa >> BigInt(PAGE_SHIFT));

function machine(name: string, patch: Partial<Profile> = {}): Machine {
  const p = findProfile(name);
  if (p === undefined) throw new Error(name);
  return buildMachine({ ...p, ...patch });
}

function dev(m: Machine, name: string): device {
  const d = m.devices.find((x) => x.name === name);
  if (d === undefined) throw new Error(name);
  return d;
}

/** A 64-bit device behind the given dma-ranges, on SG2042-like 6.6 (RAM [0, 124 GiB) after the Sv39 cap). */
function behind(ranges: DeviceSpec['dmaRanges'], patch: Partial<Profile> = {}): { m: Machine; d: device } {
  const m = machine('c920-sg2042-6.6', { devices: [{ name: 'x', coherent: true, dmaMaskBits: 64, coherentMaskBits: 64, dmaRanges: ranges }], ...patch });
  return { m, d: m.devices[0] };
}

describe('walk_system_ram_range', () => {
  it('one resource for touching banks, cut to what the 6.6 linear map keeps', () => {
    const m = machine('c920-sg2042-6.6');
    expect(systemRamResources(m)).toEqual([{ start: 0, end: pfn(124n * GiB) }]);
    expect(systemRamResources(machine('c920-sg2042-5.10-fixed'))).toEqual([{ start: 0, end: pfn(128n * GiB) }]);
  });

  it('a no-map reserved-memory region is "Reserved", not System RAM; reusable CMA stays RAM', () => {
    const m = machine('board-1g-6.6-dt-pools');
    expect(systemRamResources(m)).toEqual([
      { start: pfn(0x8000_0000n), end: pfn(0xbe00_0000n) },
      { start: pfn(0xbe10_0000n), end: pfn(0xc000_0000n) },
    ]);
  });

  it('hands on each resource clipped to the range, stops at a non-zero return, -EINVAL when no RAM is inside', () => {
    const m = machine('board-1g-6.6-dt-pools');
    const seen: [number, number][] = [];
    expect(walk_system_ram_range(m, 0, Infinity, (p, n) => (seen.push([p, n]), 0))).toBe(0);
    expect(seen).toEqual([
      [pfn(0x8000_0000n), pfn(0x3e00_0000n)],
      [pfn(0xbe10_0000n), pfn(0x01f0_0000n)],
    ]);
    const clipped: [number, number][] = [];
    walk_system_ram_range(m, pfn(0xbf00_0000n), 16, (p, n) => (clipped.push([p, n]), 0));
    expect(clipped).toEqual([[pfn(0xbf00_0000n), 16]]);
    let calls = 0;
    expect(walk_system_ram_range(m, 0, Infinity, () => (calls++, 7))).toBe(7);
    expect(calls).toBe(1);
    expect(walk_system_ram_range(m, 0, pfn(0x8000_0000n), () => 0)).toBe(-EINVAL);
    expect(() => walk_system_ram_range(m, -1, 1, () => 0)).toThrow(ModelError);
  });
});

describe('check_ram_in_range_map / dma_direct_all_ram_mapped (v6.7, loop as fixed by 8324993f6030)', () => {
  it('dma_find_range finds the entry holding a CPU pfn, null in a hole', () => {
    const { d } = behind([
      { cpu: 0n, dma: 0n, size: GiB },
      { cpu: 2n * GiB, dma: 2n * GiB, size: 126n * GiB },
    ]);
    expect(dma_find_range(d, pfn(GiB) - 1)?.cpu_start).toBe(0n);
    expect(dma_find_range(d, pfn(GiB))).toBeNull();
    expect(dma_find_range(d, pfn(3n * GiB))?.cpu_start).toBe(2n * GiB);
  });

  it('a hole after a covered stretch is found (the unfixed loop would spin on it)', () => {
    const { d } = behind([
      { cpu: 0n, dma: 0n, size: GiB },
      { cpu: 2n * GiB, dma: 2n * GiB, size: 126n * GiB },
    ]);
    expect(check_ram_in_range_map(d, 0, pfn(124n * GiB))).toBe(1);
    expect(check_ram_in_range_map(d, pfn(2n * GiB), pfn(GiB))).toBe(0);
  });

  it('entries that abut cover RAM even with different offsets; a hole at the start is found at once', () => {
    const { d } = behind([
      { cpu: 0n, dma: 0x10_0000_0000n, size: 64n * GiB },
      { cpu: 64n * GiB, dma: 0n, size: 64n * GiB },
    ]);
    expect(check_ram_in_range_map(d, 0, pfn(124n * GiB))).toBe(0);
    const late = behind([{ cpu: MiB, dma: 0n, size: 128n * GiB }]);
    expect(check_ram_in_range_map(late.d, 0, pfn(124n * GiB))).toBe(1);
  });

  it('no range map: everything is mapped; a map that stops short of RAM is not', () => {
    const m = machine('c920-sg2042-6.6');
    expect(dma_direct_all_ram_mapped(m, m.devices[0])).toBe(true);
    const short = behind([{ cpu: 0n, dma: 0n, size: 64n * GiB }]);
    expect(dma_direct_all_ram_mapped(short.m, short.d)).toBe(false);
    const dt = machine('board-1g-6.6-dt-pools');
    expect(dma_direct_all_ram_mapped(dt, dev(dt, 'sdhci0'))).toBe(true);
  });
});

describe('dma_addressing_limited (B8)', () => {
  it('6.6 compares masks only: a range map covering the top of RAM with a hole lower down reads as unlimited', () => {
    const m = machine('c920-sg2042-6.6-dma-hole');
    expect(dma_addressing_limited(m, dev(m, 'nvme0'))).toBe(false);
    expect(dma_addressing_limited(m, dev(m, 'sdhci0'))).toBe(true);
  });

  it('with the a409d9600959 backport the hole makes it limited; a map that covers all RAM still does not', () => {
    const m = machine('c920-sg2042-6.6-dma-hole-a409d96');
    expect(dma_addressing_limited(m, dev(m, 'nvme0'))).toBe(true);
    expect(dma_addressing_limited(m, dev(m, 'sdhci0'))).toBe(true);
    const whole = behind([{ cpu: 0n, dma: 0n, size: 128n * GiB }], { backports: ['a409d9600959'] });
    expect(dma_addressing_limited(whole.m, whole.d)).toBe(false);
  });

  it('the backport is modelled on 6.6 only', () => {
    const m = machine('c920-sg2042-5.10-fixed', { backports: ['a409d9600959'], devices: [{ name: 'x', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 }] });
    expect(() => dma_addressing_limited(m, m.devices[0])).toThrow(ModelError);
  });
});

describe('dma_max_mapping_size', () => {
  it('one swiotlb segment for a device that may bounce, SIZE_MAX for one that never needs to (5.10 and 6.6)', () => {
    for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
      const m = machine(name);
      expect(dma_max_mapping_size(m, dev(m, 'dwmac0'))).toBe(SIZE_MAX);
      expect(dma_max_mapping_size(m, dev(m, 'sdhci0'))).toBe(SEGMENT);
      expect(dma_direct_max_mapping_size(m, dev(m, 'sdhci0'))).toBe(SEGMENT);
    }
  });

  it('without swiotlb there is nothing to bounce through: SIZE_MAX even for a limited device', () => {
    const p = findProfile('c920-sg2042-6.6')!;
    const m = machine('c920-sg2042-6.6', { platform: { ...p.platform, swiotlbSlots: 0 } });
    expect(dma_addressing_limited(m, dev(m, 'sdhci0'))).toBe(true);
    expect(dma_max_mapping_size(m, dev(m, 'sdhci0'))).toBe(SIZE_MAX);
  });

  it('a window that reaches all RAM (board-1g-6.6-dt-pools sdhci0): SIZE_MAX', () => {
    const m = machine('board-1g-6.6-dt-pools');
    expect(dma_max_mapping_size(m, dev(m, 'sdhci0'))).toBe(SIZE_MAX);
  });

  it('B8 end to end: the promised size fails in the hole on 6.6; with the backport the promise is one segment and holds', () => {
    const broken = machine('c920-sg2042-6.6-dma-hole');
    const nvme = dev(broken, 'nvme0');
    expect(dma_max_mapping_size(broken, nvme)).toBe(SIZE_MAX);
    // A page at 1.5 GiB (in the hole), 512 KiB: more than one swiotlb segment.
    expect(dma_map_page_attrs(broken, nvme, pfn(0x6000_0000n), 0, 2n * SEGMENT, DMA_TO_DEVICE, 0)).toBe(DMA_MAPPING_ERROR);

    const fixed = machine('c920-sg2042-6.6-dma-hole-a409d96');
    const nvme2 = dev(fixed, 'nvme0');
    const max = dma_max_mapping_size(fixed, nvme2);
    expect(max).toBe(SEGMENT);
    const dma = dma_map_page_attrs(fixed, nvme2, pfn(0x6000_0000n), 0, max, DMA_TO_DEVICE, 0);
    expect(dma).not.toBe(DMA_MAPPING_ERROR);
    expect(dma).toBe(fixed.io_tlb!.start); // bounced through swiotlb, which the second window reaches one to one
    dma_unmap_page_attrs(fixed, nvme2, dma, max, DMA_TO_DEVICE, 0);
    expect(fixed.io_tlb!.used).toBe(0);
  });
});

describe('profile JSON carries backports', () => {
  it('round-trips, and an unknown fix is refused', () => {
    const p = findProfile('c920-sg2042-6.6-dma-hole-a409d96')!;
    const back = decodeProfile(encodeProfile(p));
    expect(back.backports).toEqual(['a409d9600959']);
    expect(() => decodeProfile({ ...(encodeProfile(p) as object), backports: ['deadbeef0000'] })).toThrow(ShapeError);
  });
});
