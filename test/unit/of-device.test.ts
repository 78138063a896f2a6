// reference/drivers/of/*: platform device masks, of_dma_configure, dma-ranges and coherence (spec §9, §13 ex. 7).
import { describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { of_dma_get_range, of_dma_is_coherent, type device_node } from '../../reference/drivers/of/address.ts';
import { of_dma_configure } from '../../reference/drivers/of/device.ts';
import { deviceTreeOf, of_platform_device_create_pdata } from '../../reference/drivers/of/platform.ts';
import { dma_set_mask_and_coherent } from '../../reference/kernel/dma/mapping.ts';
import { dma_coherent_ok, dma_direct_set_offset } from '../../reference/kernel/dma/direct.ts';
import { dma_capable } from '../../reference/include/linux/dma-direct.ts';
import { dev_is_dma_coherent } from '../../reference/arch/riscv/dma-noncoherent.ts';
import { DMA_BIT_MASK, EINVAL, U64_MAX } from '../../reference/types.ts';

const GiB = 1n << 30n;

function machine(name: string, faults: Profile['faults'] = [], devices: DeviceSpec[] = []): Machine {
  const p = findProfile(name);
  if (p === undefined) throw new Error(name);
  return buildMachine({ ...p, devices, faults });
}

const root = (): device_node => ({ full_name: '/', parent: null });
function onBus(bus: Omit<device_node, 'parent' | 'full_name'>, dev: Omit<device_node, 'parent' | 'full_name'> = {}): device_node {
  const b: device_node = { full_name: '/soc', parent: root(), ...bus };
  return { full_name: '/soc/dev', parent: b, ...dev };
}

describe('platform device creation (§9.1)', () => {
  it('of_platform_device_create_pdata: 32-bit masks, no limit, no map; a populated node gives NULL', () => {
    const m = machine('c920-sg2042-6.6');
    const np = onBus({});
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(32));
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(32));
    expect(of_platform_device_create_pdata(m, np, 'd', false)).toBeNull();
    expect(of_platform_device_create_pdata(m, { ...onBus({}), disabled: true }, 'x', false)).toBeNull();
  });

  it('6.6 seeds dev->dma_coherent with dma_default_coherent; 5.10 leaves it 0', () => {
    expect(of_platform_device_create_pdata(machine('c920-sg2042-6.6'), onBus({}), 'd', false)!.dma_coherent).toBe(true);
    expect(of_platform_device_create_pdata(machine('c920-sg2042-5.10-fixed'), onBus({}), 'd', false)!.dma_coherent).toBe(false);
  });
});

describe('of_dma_configure (§9.2)', () => {
  it('§13 example 7: no dma-ranges on a platform device: masks stay 32-bit, bus_dma_limit 0, no range map', () => {
    for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
      const m = machine(name);
      const np = onBus({ dmaNoncoherent: true });
      const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
      expect(of_dma_configure(m, dev, np, true)).toBe(0);
      expect(dev.dma_mask).toBe(DMA_BIT_MASK(32));
      expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(32));
      expect(dev.bus_dma_limit).toBe(0n);
      expect(dev.dma_range_map).toBeNull();
      expect(dev_is_dma_coherent(m, dev)).toBe(false);
    }
  });

  it('§9.2 example: dma-ranges <dma 0, cpu 0x8000_0000, 1 GiB>', () => {
    const m = machine('c920-sg2042-6.6');
    const np = onBus({ dmaRanges: [{ dma: 0n, cpu: 0x8000_0000n, size: 0x4000_0000n }] });
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    expect(of_dma_configure(m, dev, np, true)).toBe(0);
    expect(dev.coherent_dma_mask).toBe(0x3fff_ffffn);
    expect(dev.dma_mask).toBe(0x3fff_ffffn);
    expect(dev.bus_dma_limit).toBe(0x3fff_ffffn);
    expect(dev.dma_range_map).toEqual([{ cpu_start: 0x8000_0000n, dma_start: 0n, size: 0x4000_0000n, offset: 0x8000_0000n }]);
    // The driver raises its masks; bus_dma_limit still caps what the device is given.
    expect(dma_set_mask_and_coherent(m, dev, DMA_BIT_MASK(64))).toBe(0);
    expect(dev.dma_mask).toBe(U64_MAX);
    expect(dma_capable(dev, 0x3fff_f000n, 0x1000n, true)).toBe(true);
    expect(dma_capable(dev, 0x3fff_f000n, 0x2000n, true)).toBe(false);
    expect(dma_coherent_ok(m, dev, 0xbfff_f000n, 0x2000n)).toBe(false);
  });

  it('fault dma-ranges-limit-ignored: no bus_dma_limit, so a buffer running past the window end passes', () => {
    const m = machine('c920-sg2042-6.6', ['dma-ranges-limit-ignored']);
    const np = onBus({ dmaRanges: [{ dma: 0n, cpu: 0x8000_0000n, size: 0x4000_0000n }] });
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    of_dma_configure(m, dev, np, true);
    expect(dev.bus_dma_limit).toBe(0n);
    expect(dev.dma_mask).toBe(0x3fff_ffffn); // the clamp still happens
    dma_set_mask_and_coherent(m, dev, DMA_BIT_MASK(64));
    expect(dma_capable(dev, 0x3fff_f000n, 0x2000n, true)).toBe(true);
    expect(dma_coherent_ok(m, dev, 0xbfff_f000n, 0x2000n)).toBe(true);
  });

  it('a window given as a mask (odd size) is rounded up; the bounds cover every entry', () => {
    const m = machine('c920-sg2042-6.6');
    const np = onBus({
      dmaRanges: [
        { dma: 0x1000_0000n, cpu: 0x1000_0000n, size: 0x1000_0000n },
        { dma: 0x4000_0000n, cpu: 0x8_4000_0000n, size: 0x3fff_ffffn },
      ],
    });
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    of_dma_configure(m, dev, np, true);
    // dma_start 0x1000_0000, dma_end 0x7fff_ffff: size 0x6fff_ffff is odd → 0x7000_0000, end = start + size - 1
    expect(dev.bus_dma_limit).toBe(0x7fff_ffffn);
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(31));
  });

  it('force_dma=false without dma-ranges: nothing configured, 0 returned', () => {
    const m = machine('c920-sg2042-6.6');
    const np = onBus({ dmaNoncoherent: true });
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    expect(of_dma_configure(m, dev, np, false)).toBe(0);
    expect(dev.dma_coherent).toBe(true); // arch_setup_dma_ops never ran
  });

  it('a missing dma_mask pointer is pointed at the coherent mask', () => {
    const m = machine('c920-sg2042-6.6');
    const np = onBus({});
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    dev.dma_mask = null;
    dev.coherent_dma_mask = DMA_BIT_MASK(40);
    of_dma_configure(m, dev, np, true);
    // size = coherent mask + 1 → end = mask → mask unchanged
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(40));
  });
});

describe('of_dma_get_range walk (§9.3)', () => {
  it('stops at the first non-empty dma-ranges; empty ones mean identity and the walk goes on', () => {
    const top: device_node = { full_name: '/', parent: null, dmaRanges: [{ dma: 0n, cpu: 4n * GiB, size: GiB }] };
    const bus: device_node = { full_name: '/bus', parent: top, dmaRanges: [] };
    const dev: device_node = { full_name: '/bus/d', parent: bus };
    const out = { map: null as null | unknown[] };
    expect(of_dma_get_range(dev, out as never)).toBe(0);
    expect(out.map).toEqual([{ cpu_start: 4n * GiB, dma_start: 0n, size: GiB, offset: 4n * GiB }]);
  });

  it('a parent without dma-ranges below one that has them: -ENODEV', () => {
    const top: device_node = { full_name: '/', parent: null, dmaRanges: [{ dma: 0n, cpu: 4n * GiB, size: GiB }] };
    const bus: device_node = { full_name: '/bus', parent: top };
    expect(of_dma_get_range({ full_name: '/bus/d', parent: bus }, { map: null })).toBe(-19);
    expect(of_dma_get_range(onBus({}), { map: null })).toBe(-19);
  });
});

describe('of_dma_is_coherent (§9.4)', () => {
  it('5.10: only dma-coherent counts, default false', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    expect(of_dma_is_coherent(m, onBus({ dmaCoherent: true }))).toBe(true);
    expect(of_dma_is_coherent(m, onBus({}))).toBe(false);
    expect(of_dma_is_coherent(m, onBus({ dmaCoherent: true }, { dmaNoncoherent: true }))).toBe(true);
  });

  it('6.6: the nearest of dma-coherent / dma-noncoherent decides, else dma_default_coherent', () => {
    const m = machine('c920-sg2042-6.6');
    expect(of_dma_is_coherent(m, onBus({}))).toBe(true); // CONFIG_ARCH_DMA_DEFAULT_COHERENT
    expect(of_dma_is_coherent(m, onBus({ dmaNoncoherent: true }))).toBe(false);
    expect(of_dma_is_coherent(m, onBus({ dmaNoncoherent: true }, { dmaCoherent: true }))).toBe(true);
    expect(of_dma_is_coherent(m, onBus({ dmaCoherent: true }, { dmaNoncoherent: true }))).toBe(false);
  });
});

describe('dma_direct_set_offset', () => {
  it('installs one region; refuses to stack on a map; a zero offset creates nothing', () => {
    const m = machine('c920-sg2042-6.6', [], [{ name: 'd', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 }]);
    const dev = m.devices[0];
    expect(dma_direct_set_offset(dev, 0x1000n, 0x1000n, GiB)).toBe(0);
    expect(dev.dma_range_map).toBeNull();
    expect(dma_direct_set_offset(dev, 4n * GiB, 0n, GiB)).toBe(0);
    expect(dev.dma_range_map).toEqual([{ cpu_start: 4n * GiB, dma_start: 0n, size: GiB, offset: 4n * GiB }]);
    expect(dev.bus_dma_limit).toBe(0n);
    expect(dma_direct_set_offset(dev, 8n * GiB, 0n, GiB)).toBe(-EINVAL);
  });
});

describe('buildMachine probes each DeviceSpec', () => {
  it('deviceTreeOf + probe: dma-noncoherent bus, driver masks, coherent width applied separately', () => {
    const spec: DeviceSpec = { name: 'x', coherent: false, dmaMaskBits: 64, coherentMaskBits: 36, dmaRanges: [{ dma: 0n, cpu: 0n, size: 64n * GiB }] };
    expect(deviceTreeOf(spec).parent?.dmaNoncoherent).toBe(true);
    const m = machine('c920-sg2042-6.6', [], [spec]);
    const dev = m.devices[0];
    expect(dev.dma_mask).toBe(U64_MAX);
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(36));
    expect(dev.bus_dma_limit).toBe(64n * GiB - 1n);
    expect(dev.dma_coherent).toBe(false);
  });

  it('a driver mask the kernel refuses (24 bits, no ZONE_DMA) leaves the 32-bit platform default', () => {
    const m = machine('c920-sg2042-6.6', [], [{ name: 'isa', coherent: false, dmaMaskBits: 24, coherentMaskBits: 24 }]);
    expect(m.devices[0].dma_mask).toBe(DMA_BIT_MASK(32));
    expect(m.devices[0].coherent_dma_mask).toBe(DMA_BIT_MASK(32));
  });
});
