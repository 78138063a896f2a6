// reference/drivers/of/{platform,device,address}.ts: the StrykerJS survivors no
// other test pinned down (chunk debug-of). Each case asserts what the kernel
// computes: device masks and flags, return values, or the probe notes a boot
// trace prints (`dmacheck replay --boot`). bench/mutation-equivalents.md lists
// the ones no test can kill.
import { describe, expect, it } from 'vitest';
import type { DeviceSpec } from '../../reference/config/profile.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { of_dma_get_range, of_dma_is_coherent, type device_node } from '../../reference/drivers/of/address.ts';
import { of_dma_configure } from '../../reference/drivers/of/device.ts';
import { deviceTreeOf, of_device_alloc, of_platform_device_create_pdata, setup_pdev_dma_masks } from '../../reference/drivers/of/platform.ts';
import { DMA_BIT_MASK, U64_MAX } from '../../reference/types.ts';
import { machine, profileNamed } from '../support/machines.ts';
import { traceCalls } from './trace-calls.ts';

function onBus(bus: Partial<device_node>, dev: Partial<device_node> = {}): device_node {
  const b: device_node = { full_name: '/soc', parent: { full_name: '/', parent: null }, ...bus };
  return { full_name: '/soc/dev', ...dev, parent: b };
}

/** A platform device as of_platform_populate leaves it (32-bit masks), on a bus with these properties. */
function pdev(m: Machine, bus: Partial<device_node> = {}, node: Partial<device_node> = {}): { dev: device; np: device_node } {
  const np = onBus(bus, node);
  return { dev: of_platform_device_create_pdata(m, np, 'd', false)!, np };
}

/** The notes the probe helper prints for the driver's own calls, booting `name` with these devices. */
function driverNotes(name: string, devices: readonly DeviceSpec[]): string[] {
  return traceCalls(() => buildMachine({ ...profileNamed(name), devices })).notes.filter((n) => n.startsWith('driver: '));
}

describe('device_initialize: dev->dma_coherent (drivers/base/core.c)', () => {
  // 6.6: `dev->dma_coherent = dma_default_coherent` only under
  // #if CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE || _FOR_CPU || _FOR_CPU_ALL.
  const NO_SYNC = { CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE: false, CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU: false, CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL: false };

  it('6.6 without any sync hook leaves it 0 even with ARCH_DMA_DEFAULT_COHERENT', () => {
    const m = machine('c920-sg2042-6.6', NO_SYNC);
    expect(pdev(m).dev.dma_coherent).toBe(false);
  });

  it('6.6 with only one of the three sync hooks seeds it from dma_default_coherent', () => {
    for (const sym of Object.keys(NO_SYNC)) {
      const m = machine('c920-sg2042-6.6', { ...NO_SYNC, [sym]: true });
      expect(pdev(m).dev.dma_coherent).toBe(true);
    }
  });
});

describe('setup_pdev_dma_masks / of_device_alloc (drivers/base/platform.c, drivers/of/platform.c)', () => {
  it('of_device_alloc: platform_device_alloc gives 32-bit coherent and streaming masks', () => {
    const m = machine('c920-sg2042-6.6');
    const dev = of_device_alloc(m, onBus({}), 'd', false);
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(32));
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(32));
  });

  it('masks a bus already set (a statically defined pdev) are kept', () => {
    // platform_device_register calls it too: `if (!coherent_dma_mask)`, `if (!dma_mask)`.
    const dev = of_device_alloc(machine('c920-sg2042-6.6'), onBus({}), 'd', false);
    dev.coherent_dma_mask = DMA_BIT_MASK(40);
    dev.dma_mask = DMA_BIT_MASK(36);
    setup_pdev_dma_masks(dev);
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(40));
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(36));
  });
});

describe('probe of a DeviceSpec: the driver coherence and its mask calls', () => {
  it('a coherent device carries dma-coherent on its own node: coherent even where the default is not', () => {
    // 6.6 without ARCH_DMA_DEFAULT_COHERENT, and 5.10 (whose of_dma_is_coherent knows only dma-coherent):
    // an unmarked node would be non-coherent there.
    const spec: DeviceSpec = { name: 'pcie', coherent: true, dmaMaskBits: 64, coherentMaskBits: 64 };
    const p = profileNamed('c920-sg2042-6.6');
    const m = buildMachine({ ...p, kconfig: { ...p.kconfig, CONFIG_ARCH_DMA_DEFAULT_COHERENT: false }, devices: [spec] });
    expect(m.devices[0].dma_coherent).toBe(true);
    expect(of_dma_is_coherent(machine('c920-sg2042-5.10-fixed'), deviceTreeOf(spec))).toBe(true);
  });

  it('a refused dma_set_mask_and_coherent is reported once; an accepted one not at all', () => {
    // 24 bits without ZONE_DMA: dma_supported refuses, -EIO. Same widths: no separate dma_set_coherent_mask.
    expect(driverNotes('c920-sg2042-6.6', [{ name: 'isa', coherent: false, dmaMaskBits: 24, coherentMaskBits: 24 }])).toEqual([
      'driver: dma_set_mask_and_coherent failed',
    ]);
    expect(driverNotes('c920-sg2042-6.6', [{ name: 'eth', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 }])).toEqual([]);
  });

  it('a coherent width the kernel refuses is reported; dma_set_coherent_mask runs only when the widths differ', () => {
    const refused = { name: 'x', coherent: false, dmaMaskBits: 32, coherentMaskBits: 24 };
    expect(driverNotes('c920-sg2042-6.6', [refused])).toEqual(['driver: dma_set_coherent_mask failed']);
    const t = traceCalls(() => buildMachine({ ...profileNamed('c920-sg2042-6.6'), devices: [{ ...refused, coherentMaskBits: 32 }] }));
    // once, inside dma_set_mask_and_coherent
    expect(t.calls.filter((c) => c.trim() === 'dma_set_coherent_mask')).toHaveLength(1);
  });

  it('of_reserved_mem_device_init: only for a device with a memory-region, reported only when it fails', () => {
    // board-1g-6.6-dt-pools: dwmac0 has no memory-region, sdhci0 claims its shared-dma-pool.
    const p = profileNamed('board-1g-6.6-dt-pools');
    expect(driverNotes(p.name, p.devices)).toEqual([]);
    const lost = { name: 'y', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32, memoryRegion: 'no-such-pool' };
    expect(driverNotes(p.name, [lost])).toEqual(['driver: of_reserved_mem_device_init failed']);
  });
});

describe('of_dma_configure_id: bounds and sizes (drivers/of/device.c, 5.10 and 6.6)', () => {
  it('dma_start is the lowest entry start, not the last: its parity decides the mask-style round-up', () => {
    // Entries [0, 0x1000) and [0x1001, 0x2000): dma_start 0, size 0x2000 (even), end 0x1fff.
    // Taking the last start (0x1001) would give size 0xfff, rounded to 0x1000, end 0x2000.
    const m = machine('c920-sg2042-6.6');
    const { dev, np } = pdev(m, {
      dmaRanges: [
        { dma: 0n, cpu: 0x8000_0000n, size: 0x1000n },
        { dma: 0x1001n, cpu: 0x8000_1001n, size: 0xfffn },
      ],
    });
    const t = traceCalls(() => of_dma_configure(m, dev, np, true));
    expect(t.result).toBe(0);
    expect(t.notes).not.toContain('Invalid size for dma-range(s)');
    expect(dev.bus_dma_limit).toBe(0x1fffn);
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(13));
  });

  it('no dma-ranges: the window is coherent mask + 1, so a 64-bit streaming mask is cut to the coherent width', () => {
    const m = machine('c920-sg2042-6.6');
    const { dev, np } = pdev(m);
    dev.dma_mask = U64_MAX; // coherent mask stays the 32-bit platform default
    expect(of_dma_configure(m, dev, np, true)).toBe(0);
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(32));
  });

  it('no dma-ranges, a single-bit coherent mask: size = max(mask, mask + 1) = mask + 1, end = mask', () => {
    // end 0x8000_0000 → ilog2 31 → DMA_BIT_MASK(32); a size of just `mask` would end at 0x7fff_ffff (31 bits).
    const m = machine('c920-sg2042-6.6');
    const { dev, np } = pdev(m);
    dev.coherent_dma_mask = 0x8000_0000n;
    dev.dma_mask = U64_MAX;
    expect(of_dma_configure(m, dev, np, true)).toBe(0);
    expect(dev.coherent_dma_mask).toBe(0x8000_0000n);
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(32));
  });

  it('a window that wraps to end 0: ilog2(0) = -1, so both masks become DMA_BIT_MASK(0)', () => {
    // One entry at dma U64_MAX of size 2: dma_end wraps to 1, size 2, end = U64_MAX + 2 - 1 = 0 (u64).
    const m = machine('c920-sg2042-6.6');
    const { dev, np } = pdev(m, { dmaRanges: [{ dma: U64_MAX, cpu: 0x8000_0000n, size: 2n }] });
    expect(of_dma_configure(m, dev, np, true)).toBe(0);
    expect(dev.bus_dma_limit).toBe(0n);
    expect(dev.coherent_dma_mask).toBe(0n);
    expect(dev.dma_mask).toBe(0n);
  });
});

describe('of_dma_set_restricted_buffer (6.6): only a restricted-dma-pool region is taken', () => {
  it('a shared-dma-pool memory-region is left to the driver: of_dma_configure assigns nothing', () => {
    const m = machine('board-1g-6.6-dt-pools', { CONFIG_DMA_RESTRICTED_POOL: true });
    const { dev, np } = pdev(m, {}, { memoryRegion: ['sdhci-pool'] });
    expect(of_dma_configure(m, dev, np, true)).toBe(0);
    expect(m.reservedMem.assigned.filter((a) => a.dev === dev)).toEqual([]);
    expect(dev.dma_mem).toBeNull();
  });
});

describe('of_dma_get_range / of_dma_is_coherent (drivers/of/address.c)', () => {
  it('a walk that runs past the root through empty dma-ranges only: -ENODEV', () => {
    // while (node) … if (!node || !ranges) return -ENODEV: every `dma-ranges;` is empty.
    const root: device_node = { full_name: '/', parent: null, dmaRanges: [] };
    const bus: device_node = { full_name: '/soc', parent: root, dmaRanges: [] };
    const out = { map: null };
    expect(of_dma_get_range({ full_name: '/soc/d', parent: bus }, out)).toBe(-19);
    expect(of_dma_get_range({ full_name: '/', parent: null }, out)).toBe(-19);
    expect(out.map).toBeNull();
  });

  it('6.6 without CONFIG_ARCH_DMA_DEFAULT_COHERENT: an unmarked device is non-coherent', () => {
    const m = machine('c920-sg2042-6.6', { CONFIG_ARCH_DMA_DEFAULT_COHERENT: false });
    expect(of_dma_is_coherent(m, onBus({}))).toBe(false);
    expect(of_dma_is_coherent(m, onBus({}, { dmaCoherent: true }))).toBe(true);
  });

  it('5.10 with CONFIG_OF_DMA_DEFAULT_COHERENT (powerpc): coherent whatever the node says', () => {
    const m = machine('c920-sg2042-5.10-fixed', { CONFIG_OF_DMA_DEFAULT_COHERENT: true });
    expect(of_dma_is_coherent(m, onBus({ dmaNoncoherent: true }))).toBe(true);
    expect(of_dma_is_coherent(machine('c920-sg2042-5.10-fixed'), onBus({}))).toBe(false);
  });
});
