// drivers/of/device.c of_dma_configure_id corner cases: a window that wraps to
// size 0, masks at the u64 edges, and the 6.6 restricted-dma-pool hook.
import { describe, expect, it } from 'vitest';
import type { Profile, ReservedMemorySpec } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import type { device_node } from '../../reference/drivers/of/address.ts';
import { of_dma_configure } from '../../reference/drivers/of/device.ts';
import { of_platform_device_create_pdata } from '../../reference/drivers/of/platform.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { DMA_BIT_MASK, EINVAL, U64_MAX } from '../../reference/types.ts';

function machine(name: string, edit: (p: Profile) => Profile = (p) => p): Machine {
  const p = findProfile(name);
  if (p === undefined) throw new Error(name);
  return buildMachine(edit({ ...p, devices: [], faults: [] }));
}

function onBus(bus: Partial<device_node>, dev: Partial<device_node> = {}): device_node {
  const b: device_node = { full_name: '/soc', parent: { full_name: '/', parent: null }, ...bus };
  return { full_name: '/soc/dev', ...dev, parent: b };
}

function notes(run: () => void): string[] {
  const t = new Tracer();
  setTracer(t);
  try {
    run();
  } finally {
    setTracer(null);
  }
  return t.events.filter((e) => e.fn === '#').map((e) => e.detail ?? '');
}

describe('of_dma_configure_id: window size', () => {
  it('a mask-style window covering all of u64 rounds up to 0: "Adjusted size invalid", -EINVAL, masks untouched', () => {
    const m = machine('c920-sg2042-6.6');
    const np = onBus({ dmaRanges: [{ dma: 0n, cpu: 0n, size: U64_MAX }] });
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    let ret = 0;
    const seen = notes(() => (ret = of_dma_configure(m, dev, np, true)));
    expect(ret).toBe(-EINVAL);
    expect(seen).toEqual(['Invalid size for dma-range(s)', 'Adjusted size invalid']);
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(32));
    expect(dev.bus_dma_limit).toBe(0n);
    expect(dev.dma_range_map).toBeNull();
  });

  it('the window end is the largest entry end even when a later entry ends lower', () => {
    const m = machine('c920-sg2042-6.6');
    const np = onBus({
      dmaRanges: [
        { dma: 0x4000_0000n, cpu: 0x8_4000_0000n, size: 0x4000_0000n },
        { dma: 0n, cpu: 0x8_0000_0000n, size: 0x1000_0000n },
      ],
    });
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    expect(of_dma_configure(m, dev, np, true)).toBe(0);
    expect(dev.bus_dma_limit).toBe(0x7fff_ffffn);
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(31));
  });
});

describe('of_dma_configure_id without dma-ranges: the size comes from the coherent mask', () => {
  it('an all-ones 64-bit coherent mask: mask + 1 wraps to 0, so size = mask and the masks stay 64-bit', () => {
    const m = machine('c920-sg2042-6.6');
    const np = onBus({});
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    dev.coherent_dma_mask = U64_MAX;
    dev.dma_mask = U64_MAX;
    expect(of_dma_configure(m, dev, np, true)).toBe(0);
    // end = 0 + U64_MAX - 1: ilog2 63, DMA_BIT_MASK(64)
    expect(dev.coherent_dma_mask).toBe(U64_MAX);
    expect(dev.dma_mask).toBe(U64_MAX);
    expect(dev.bus_dma_limit).toBe(0n);
  });

  it('a zero coherent mask: the window is 4 GiB, so a 64-bit streaming mask is cut to 32 bits', () => {
    const m = machine('c920-sg2042-6.6');
    const np = onBus({});
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    dev.coherent_dma_mask = 0n;
    dev.dma_mask = U64_MAX;
    expect(of_dma_configure(m, dev, np, true)).toBe(0);
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(32));
    expect(dev.coherent_dma_mask).toBe(0n);
  });
});

describe('of_dma_set_restricted_buffer (6.6, CONFIG_DMA_RESTRICTED_POOL)', () => {
  const restricted: ReservedMemorySpec = { name: 'bounce', base: 0x8_0000_0000n, size: 1n << 22n, compatible: 'restricted-dma-pool', noMap: true };
  const withPool = (cfg: boolean) => (p: Profile): Profile => ({
    ...p,
    kconfig: { ...p.kconfig, CONFIG_DMA_RESTRICTED_POOL: cfg },
    reservedMemory: [...(p.reservedMemory ?? []), restricted],
  });

  it('a restricted-dma-pool memory-region has no handler here: the init fails with a warning and the device keeps the global swiotlb', () => {
    const m = machine('c920-sg2042-6.6', withPool(true));
    const np = onBus({}, { memoryRegion: ['elsewhere', 'bounce'] });
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    let ret = -1;
    const seen = notes(() => (ret = of_dma_configure(m, dev, np, true)));
    expect(ret).toBe(0); // of_dma_configure does not fail for it
    expect(seen).toContain('failed to initialise "restricted-dma-pool" memory node');
    expect(m.reservedMem.assigned.filter((a) => a.dev === dev)).toEqual([]);
  });

  it('without the Kconfig symbol, or on a node with no restricted region, nothing is tried', () => {
    for (const [cfg, regions] of [
      [false, ['bounce']],
      [true, ['elsewhere']],
    ] as const) {
      const m = machine('c920-sg2042-6.6', withPool(cfg));
      const np = onBus({}, { memoryRegion: regions });
      const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
      const seen = notes(() => of_dma_configure(m, dev, np, true));
      expect(seen).not.toContain('failed to initialise "restricted-dma-pool" memory node');
    }
  });

  it('5.10 has no such hook', () => {
    const m = machine('c920-sg2042-5.10-fixed', withPool(true));
    const np = onBus({}, { memoryRegion: ['bounce'] });
    const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
    const t = new Tracer();
    setTracer(t);
    try {
      of_dma_configure(m, dev, np, true);
    } finally {
      setTracer(null);
    }
    expect(t.events.some((e) => e.fn === 'of_dma_set_restricted_buffer')).toBe(false);
  });
});

describe('of_dma_configure_id: where the dma-ranges walk starts', () => {
  // 6.6 (since v6.1 f1ad5338a4d5 "of: Fix \"dma-ranges\" handling for bus controllers"):
  // bus_np = __of_get_dma_parent(np) when np is the device's own node; 5.10 (mainline) walks from np.
  const GiB = 1n << 30n;
  const window = [{ dma: 0n, cpu: 0x8000_0000n, size: GiB }];

  it("a bus controller's own dma-ranges describe the bus behind it: 6.6 ignores them for the controller, 5.10 applies them", () => {
    for (const [name, limit] of [
      ['c920-sg2042-6.6', 0n],
      ['c920-sg2042-5.10-fixed', GiB - 1n],
    ] as const) {
      const m = machine(name);
      const np = onBus({}, { dmaRanges: window });
      const dev = of_platform_device_create_pdata(m, np, 'pcie-host', false)!;
      expect(of_dma_configure(m, dev, np, true)).toBe(0);
      expect(dev.bus_dma_limit).toBe(limit);
    }
  });

  it('dma-ranges on the root above a bus without them: 6.6 reaches them from the bus, 5.10 stops at the bus (-ENODEV)', () => {
    for (const [name, limit] of [
      ['c920-sg2042-6.6', GiB - 1n],
      ['c920-sg2042-5.10-fixed', 0n],
    ] as const) {
      const m = machine(name);
      const root: device_node = { full_name: '/', parent: null, dmaRanges: window };
      const np: device_node = { full_name: '/soc/dev', parent: { full_name: '/soc', parent: root } };
      const dev = of_platform_device_create_pdata(m, np, 'd', false)!;
      expect(of_dma_configure(m, dev, np, true)).toBe(0);
      expect(dev.bus_dma_limit).toBe(limit);
      expect(dev.dma_range_map === null).toBe(limit === 0n);
    }
  });
});
