// reference/kernel/dma/mapping.ts masks and the dmam_* managed variants (spec §2.7, §2.2).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DeviceSpec, Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  dma_addressing_limited,
  dma_coerce_mask_and_coherent,
  dma_get_mask,
  dma_get_required_mask,
  dma_set_coherent_mask,
  dma_set_mask,
  dma_set_mask_and_coherent,
  dma_supported,
  dmam_alloc_coherent,
  dmam_free_coherent,
} from '../../reference/kernel/dma/mapping.ts';
import { dma_direct_get_required_mask, dma_direct_supported } from '../../reference/kernel/dma/direct.ts';
import { devres_release_all } from '../../reference/drivers/base/devres.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { dma_alloc_coherent } from '../../reference/include/linux/dma-mapping.ts';
import { nrFreePages } from '../../reference/mm/page_alloc.ts';
import { DMA_BIT_MASK, U64_MAX } from '../../reference/types.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;
const D64: DeviceSpec = { name: 'd', coherent: false, dmaMaskBits: 64, coherentMaskBits: 64 };

function machine(name: string, devices: DeviceSpec[] = [D64], patch: Partial<Profile> = {}): Machine {
  const p = findProfile(name);
  if (p === undefined) throw new Error(name);
  return buildMachine({ ...p, devices, ...patch });
}

describe('dma_direct_supported / dma_supported', () => {
  it('SG2042 (RAM to 124 GiB, no ZONE_DMA): every mask from 32 bits up, nothing below', () => {
    const m = machine('c920-sg2042-6.6');
    const dev = m.devices[0];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }), (bits) => {
        expect(dma_supported(m, dev, DMA_BIT_MASK(bits))).toBe(bits >= 32);
      }),
    );
  });

  it('a 1 GiB board at 0x8000_0000: a 31-bit mask cannot reach its last page, a 32-bit one can', () => {
    const m = machine('board-1g-6.6');
    expect(dma_direct_supported(m, m.devices[0], DMA_BIT_MASK(31))).toBe(false);
    expect(dma_direct_supported(m, m.devices[0], DMA_BIT_MASK(32))).toBe(true);
  });

  it('CONFIG_ZONE_DMA (zone_dma_bits 24): the zone top, not the last page, is the bar', () => {
    const m = machine('three-zone-5.10');
    const dev = m.devices[0];
    expect(dma_supported(m, dev, DMA_BIT_MASK(24))).toBe(true);
    expect(dma_supported(m, dev, DMA_BIT_MASK(23))).toBe(false);
  });

  it('with a range map the bar is translated; outside the map only all-ones would pass', () => {
    // RAM seen at bus address 0 for CPU 4 GiB..: the ZONE_DMA top (CPU 16 MiB) has no bus address.
    const m = machine('three-zone-5.10', [{ ...D64, dmaRanges: [{ dma: 0n, cpu: 4n * GiB, size: 24n * MiB }] }]);
    expect(dma_supported(m, m.devices[0], DMA_BIT_MASK(31))).toBe(false);
  });
});

describe('mask setters (§2.7)', () => {
  it('dma_set_mask: -EIO without a dma_mask pointer or for an unsupported mask, mask unchanged', () => {
    const m = machine('c920-sg2042-6.6');
    const dev = m.devices[0];
    expect(dma_set_mask(m, dev, DMA_BIT_MASK(40))).toBe(0);
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(40));
    expect(dma_set_mask(m, dev, DMA_BIT_MASK(24))).toBe(-5);
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(40));
    dev.dma_mask = null;
    expect(dma_set_mask(m, dev, DMA_BIT_MASK(64))).toBe(-5);
    expect(dma_set_coherent_mask(m, dev, DMA_BIT_MASK(48))).toBe(0); // needs no pointer
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(48));
  });

  it('dma_set_mask_and_coherent: the coherent mask moves only when the streaming one did', () => {
    const m = machine('c920-sg2042-6.6');
    const dev = m.devices[0];
    expect(dma_set_mask_and_coherent(m, dev, DMA_BIT_MASK(36))).toBe(0);
    expect([dev.dma_mask, dev.coherent_dma_mask]).toEqual([DMA_BIT_MASK(36), DMA_BIT_MASK(36)]);
    expect(dma_set_mask_and_coherent(m, dev, DMA_BIT_MASK(20))).toBe(-5);
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(36));
    dev.dma_mask = null;
    expect(dma_set_mask_and_coherent(m, dev, DMA_BIT_MASK(64))).toBe(-5);
    expect(dev.coherent_dma_mask).toBe(DMA_BIT_MASK(36));
  });

  it('dma_coerce_mask_and_coherent gives a device without a dma_mask pointer both masks', () => {
    const m = machine('c920-sg2042-6.6');
    const dev = m.devices[0];
    dev.dma_mask = null;
    expect(dma_coerce_mask_and_coherent(m, dev, DMA_BIT_MASK(44))).toBe(0);
    expect([dev.dma_mask, dev.coherent_dma_mask]).toEqual([DMA_BIT_MASK(44), DMA_BIT_MASK(44)]);
  });

  it('dma_get_mask: a missing or zero mask reads as 32-bit', () => {
    const m = machine('c920-sg2042-6.6');
    const dev = m.devices[0];
    expect(dma_get_mask(dev)).toBe(U64_MAX);
    dev.dma_mask = 0n;
    expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(32));
    dev.dma_mask = null;
    expect(dma_get_mask(dev)).toBe(DMA_BIT_MASK(32));
  });
});

describe('required mask and dma_addressing_limited', () => {
  it('SG2042: the last page is below 2^37 on both kernels (6.6 stops at 124 GiB, 5.10 at 128 GiB)', () => {
    for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
      const m = machine(name);
      expect(dma_direct_get_required_mask(m, m.devices[0])).toBe(DMA_BIT_MASK(37));
      expect(dma_get_required_mask(m, m.devices[0])).toBe(DMA_BIT_MASK(37));
    }
  });

  it('a 1 GiB board at 0x8000_0000: its last page is at 0xBFFF_F000, so 32 bits', () => {
    const m = machine('board-1g-6.6');
    expect(dma_direct_get_required_mask(m, m.devices[0])).toBe(DMA_BIT_MASK(32));
  });

  it('RAM outside the range map translates to all-ones: the required mask is 64 bits', () => {
    const m = machine('c920-sg2042-6.6', [{ ...D64, dmaRanges: [{ dma: 0n, cpu: 0n, size: 4n * GiB }] }]);
    expect(dma_direct_get_required_mask(m, m.devices[0])).toBe(U64_MAX);
  });

  it('limited by the mask or by bus_dma_limit', () => {
    const m = machine('c920-sg2042-6.6', [
      D64,
      { ...D64, name: 'd32', dmaMaskBits: 32, coherentMaskBits: 32 },
      { ...D64, name: 'window', dmaRanges: [{ dma: 0n, cpu: 0n, size: 32n * GiB }] },
    ]);
    const [d64, d32, win] = m.devices;
    expect(dma_addressing_limited(m, d64)).toBe(false);
    expect(dma_addressing_limited(m, d32)).toBe(true);
    expect(win.bus_dma_limit).toBe(32n * GiB - 1n);
    expect(dma_addressing_limited(m, win)).toBe(true);
  });
});

describe('dmam_* managed coherent memory (5.10 order: free, then destroy the record)', () => {
  it('alloc adds a record, free removes it; devres_release_all frees what is left, newest first', () => {
    const m = machine('c920-sg2042-6.6');
    const G = gfpFlags('6.6');
    const dev = m.devices[0];
    const free0 = nrFreePages(m.mm);
    const h1 = { dma_handle: 0n };
    const h2 = { dma_handle: 0n };
    const h3 = { dma_handle: 0n };
    const a = dmam_alloc_coherent(m, dev, 4096n, h1, G.GFP_KERNEL)!;
    dmam_alloc_coherent(m, dev, 8192n, h2, G.GFP_KERNEL)!;
    dmam_alloc_coherent(m, dev, 100n, h3, G.GFP_KERNEL)!;
    expect(dev.devres_head?.length).toBe(3);
    dmam_free_coherent(m, dev, 4096n, a, h1.dma_handle);
    expect(dev.devres_head?.length).toBe(2);
    expect(devres_release_all(m, dev)).toBe(2);
    expect(dev.devres_head?.length).toBe(0);
    expect(nrFreePages(m.mm)).toBe(free0);
    expect(m.warnings).toEqual([]);
  });

  it('freeing something dmam never recorded WARNs; a mismatched size WARNs in dmam_match but still matches', () => {
    const m = machine('c920-sg2042-6.6');
    const G = gfpFlags('6.6');
    const dev = m.devices[0];
    const h = { dma_handle: 0n };
    const a = dmam_alloc_coherent(m, dev, 4096n, h, G.GFP_KERNEL)!;
    dmam_free_coherent(m, dev, 100n, a, h.dma_handle);
    expect(dev.devres_head?.length).toBe(0);
    expect(m.warnings.some((w) => w.includes('dmam_match'))).toBe(true);
    // A plain dma_alloc_coherent buffer freed through dmam: freed, then the record is not found.
    const hb = { dma_handle: 0n };
    const b = dma_alloc_coherent(m, dev, 4096n, hb, G.GFP_KERNEL)!;
    dmam_free_coherent(m, dev, 4096n, b, hb.dma_handle);
    expect(m.warnings.some((w) => w.includes('no devres record'))).toBe(true);
  });

  it('a failed allocation leaves no record', () => {
    const m = machine('c920-sg2042-6.6', [{ ...D64, memoryRegion: 'tiny' }], {
      kconfig: { ...findProfile('c920-sg2042-6.6')!.kconfig, CONFIG_DMA_DECLARE_COHERENT: true },
      reservedMemory: [{ name: 'tiny', base: 0x8_0000_0000n, size: 4096n, compatible: 'shared-dma-pool', noMap: true }],
    });
    const dev = m.devices[0];
    expect(dmam_alloc_coherent(m, dev, 8192n, { dma_handle: 0n }, gfpFlags('6.6').GFP_KERNEL)).toBeNull();
    expect(dev.devres_head ?? []).toEqual([]);
  });
});
