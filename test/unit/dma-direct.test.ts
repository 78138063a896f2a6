// reference/include/linux/dma-direct.ts: phys <-> DMA translation and dma_capable (spec kernel-alloc.md §1.4).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { bus_dma_region, device } from '../../reference/include/linux/device.ts';
import {
  dma_capable,
  dma_to_phys,
  phys_to_dma,
  phys_to_dma_unencrypted,
  translate_dma_to_phys,
  translate_phys_to_dma,
} from '../../reference/include/linux/dma-direct.ts';
import { DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { DMA_BIT_MASK, U64_MAX, u64 } from '../../reference/types.ts';

function region(cpu: bigint, dma: bigint, size: bigint): bus_dma_region {
  return { cpu_start: cpu, dma_start: dma, size, offset: u64(cpu - dma) };
}

function dev(over: Partial<device> = {}): device {
  const base = {
    name: 'd',
    dma_mask: U64_MAX,
    coherent_dma_mask: U64_MAX,
    bus_dma_limit: 0n,
    dma_range_map: null,
    dma_coherent: false,
    hwSnoops: false,
    dma_ops: null,
    dma_mem: null,
    cma_area: null,
    memoryRegion: null,
  };
  return { ...base, ...over } as device;
}

// §9.2 worked example: dma-ranges = <dma 0x0, cpu 0x8000_0000, size 0x4000_0000>.
const EXAMPLE = dev({ dma_range_map: [region(0x8000_0000n, 0n, 0x4000_0000n)], bus_dma_limit: 0x3fff_ffffn });

describe('no dma_range_map: identity', () => {
  it('phys_to_dma / dma_to_phys return the address unchanged', () => {
    const d = dev();
    for (const a of [0n, 0x8000_1234n, 0xffff_ffffn, 0x1f_ffff_f000n, U64_MAX]) {
      expect(phys_to_dma(d, a)).toBe(a);
      expect(phys_to_dma_unencrypted(d, a)).toBe(a);
      expect(dma_to_phys(d, a)).toBe(a);
    }
  });
});

describe('with a range map (§9.2 example: CPU 0x8000_0000 seen at bus 0)', () => {
  it('translates both ways inside the range', () => {
    expect(phys_to_dma(EXAMPLE, 0x8000_0000n)).toBe(0n);
    expect(phys_to_dma(EXAMPLE, 0x8000_1000n)).toBe(0x1000n);
    expect(phys_to_dma(EXAMPLE, 0xbfff_ffffn)).toBe(0x3fff_ffffn);
    expect(dma_to_phys(EXAMPLE, 0x1000n)).toBe(0x8000_1000n);
    expect(dma_to_phys(EXAMPLE, 0x3fff_ffffn)).toBe(0xbfff_ffffn);
  });

  it('outside every range: phys -> DMA_MAPPING_ERROR (so dma_capable fails), DMA -> all-ones phys', () => {
    expect(phys_to_dma(EXAMPLE, 0x7fff_ffffn)).toBe(DMA_MAPPING_ERROR);
    expect(phys_to_dma(EXAMPLE, 0xc000_0000n)).toBe(DMA_MAPPING_ERROR);
    expect(translate_phys_to_dma(EXAMPLE, 0n)).toBe(DMA_MAPPING_ERROR);
    expect(dma_to_phys(EXAMPLE, 0x4000_0000n)).toBe(U64_MAX);
    expect(translate_dma_to_phys(EXAMPLE, U64_MAX)).toBe(U64_MAX);
  });

  it('bus above CPU (negative offset, stored modulo 2^64) round-trips', () => {
    const d = dev({ dma_range_map: [region(0n, 0x10_0000_0000n, 0x1_0000_0000n)] });
    expect(d.dma_range_map?.[0].offset).toBe(0xffff_fff0_0000_0000n);
    expect(phys_to_dma(d, 0x1234_5000n)).toBe(0x10_1234_5000n);
    expect(dma_to_phys(d, 0x10_1234_5000n)).toBe(0x1234_5000n);
    expect(dma_to_phys(d, 0x1234_5000n)).toBe(U64_MAX);
  });

  it('several ranges: the first one containing the address wins', () => {
    const d = dev({
      dma_range_map: [region(0x8000_0000n, 0n, 0x4000_0000n), region(0x1_0000_0000n, 0x4000_0000n, 0x4000_0000n), region(0x8000_0000n, 0x9000_0000n, 0x1000n)],
    });
    expect(phys_to_dma(d, 0x1_0000_0010n)).toBe(0x4000_0010n);
    expect(dma_to_phys(d, 0x4000_0010n)).toBe(0x1_0000_0010n);
    // 0x8000_0000 is in the first and the third entry: the first decides.
    expect(phys_to_dma(d, 0x8000_0000n)).toBe(0n);
    expect(dma_to_phys(d, 0x9000_0000n)).toBe(0x8000_0000n);
  });

  it('round trip property: any address inside a range comes back', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), fc.bigInt({ min: 1n, max: 1n << 34n }), fc.bigInt({ min: 0n, max: (1n << 34n) - 1n }), (cpu, dma, size, off) => {
        const d = dev({ dma_range_map: [region(cpu, dma, size)] });
        const o = off % size;
        expect(phys_to_dma(d, cpu + o)).toBe(dma + o);
        expect(dma_to_phys(d, dma + o)).toBe(cpu + o);
      }),
      { numRuns: 200 },
    );
  });
});

describe('dma_capable(dev, addr, size): addr + size - 1 <= min_not_zero(*dma_mask, bus_dma_limit)', () => {
  it('32-bit mask: the last byte decides', () => {
    const d = dev({ dma_mask: DMA_BIT_MASK(32) });
    expect(dma_capable(d, 0xffff_f000n, 0x1000n, true)).toBe(true);
    expect(dma_capable(d, 0xffff_f000n, 0x1001n, true)).toBe(false);
    expect(dma_capable(d, 0x1_0000_0000n, 1n, true)).toBe(false);
  });

  it('DMA_MAPPING_ERROR is never capable, even with a 64-bit mask', () => {
    expect(dma_capable(dev(), DMA_MAPPING_ERROR, 1n, true)).toBe(false);
    expect(dma_capable(EXAMPLE, phys_to_dma(EXAMPLE, 0x7000_0000n), 64n, true)).toBe(false);
  });

  it('bus_dma_limit caps a wider mask; 0 means no limit', () => {
    expect(dma_capable(EXAMPLE, 0x3fff_f000n, 0x1000n, true)).toBe(true);
    expect(dma_capable(EXAMPLE, 0x3fff_f000n, 0x1001n, true)).toBe(false);
    expect(dma_capable(dev({ bus_dma_limit: 0n }), 0x10_0000_0000n, 0x1000n, true)).toBe(true);
    // A smaller mask wins over a larger bus limit.
    expect(dma_capable(dev({ dma_mask: DMA_BIT_MASK(32), bus_dma_limit: DMA_BIT_MASK(36) }), 0x1_0000_0000n, 1n, true)).toBe(false);
  });

  it('the end wraps modulo 2^64 as in C: size 0 at address 0 has end = ~0 and fails', () => {
    expect(dma_capable(dev({ dma_mask: DMA_BIT_MASK(32) }), 0n, 0n, true)).toBe(false);
    expect(dma_capable(dev(), 0n, 0n, true)).toBe(true);
    expect(dma_capable(dev({ dma_mask: DMA_BIT_MASK(32) }), 0x1000n, 0n, true)).toBe(true);
  });

  it('is_ram does not matter on a 64-bit dma_addr_t', () => {
    const d = dev({ dma_mask: DMA_BIT_MASK(32) });
    expect(dma_capable(d, 0x1000n, 0x1000n, false)).toBe(dma_capable(d, 0x1000n, 0x1000n, true));
  });
});
