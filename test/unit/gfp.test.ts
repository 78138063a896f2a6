import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gfpFlags, gfp_zone, gfpToString, gfpflags_allow_blocking } from '../../reference/include/linux/gfp.ts';
import { ZoneType } from '../../reference/mm/mmzone.ts';
import { KernelBug, ModelError } from '../../reference/types.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';

const ALL = { CONFIG_ZONE_DMA: true, CONFIG_ZONE_DMA32: true };
const RISCV = { CONFIG_ZONE_DMA: false, CONFIG_ZONE_DMA32: true };
const NONE = { CONFIG_ZONE_DMA: false, CONFIG_ZONE_DMA32: false };

describe('gfp flag values', () => {
  it('composites per version (spec §7.2)', () => {
    const a = gfpFlags('5.10');
    const b = gfpFlags('6.6');
    expect(a.GFP_ATOMIC).toBe(0xa20);
    expect(b.GFP_ATOMIC).toBe(0x820);
    for (const t of [a, b]) {
      expect(t.GFP_KERNEL).toBe(0xcc0);
      expect(t.GFP_KERNEL_ACCOUNT).toBe(0x400cc0);
      expect(t.GFP_NOWAIT).toBe(0x800);
      expect(t.GFP_NOIO).toBe(0xc00);
      expect(t.GFP_NOFS).toBe(0xc40);
      expect(t.GFP_USER).toBe(0x100cc0);
      expect(t.GFP_DMA).toBe(0x01);
      expect(t.GFP_DMA32).toBe(0x04);
      expect(t.GFP_HIGHUSER).toBe(0x100cc2);
      expect(t.__GFP_RECLAIM).toBe(0xc00);
      expect(t.GFP_ZONEMASK).toBe(0x0f);
    }
    // __GFP_SKIP_KASAN is 0 without CONFIG_KASAN_HW_TAGS, so both are USER|HIGHMEM|MOVABLE.
    expect(a.GFP_HIGHUSER_MOVABLE).toBe(0x100cca);
    expect(b.GFP_HIGHUSER_MOVABLE).toBe(0x100cca);
  });

  it('raw bits per version (spec §7.1)', () => {
    const a = gfpFlags('5.10');
    const b = gfpFlags('6.6');
    expect(a.___GFP_ATOMIC).toBe(0x200);
    expect(a.__GFP_ATOMIC).toBe(0x200);
    expect('__GFP_ATOMIC' in b).toBe(false);
    expect('__GFP_ZEROTAGS' in a).toBe(false);
    expect(b.__GFP_ZEROTAGS).toBe(0x800000);
    expect(b.__GFP_SKIP_ZERO).toBe(0);
    expect(b.__GFP_SKIP_KASAN).toBe(0);
    expect(a.__GFP_NOLOCKDEP).toBe(0);
    expect(a.__GFP_BITS_SHIFT).toBe(23);
    expect(b.__GFP_BITS_SHIFT).toBe(26);
    for (const t of [a, b]) {
      expect(t.__GFP_DIRECT_RECLAIM).toBe(0x400);
      expect(t.__GFP_KSWAPD_RECLAIM).toBe(0x800);
      expect(t.__GFP_ZERO).toBe(0x100);
      expect(t.__GFP_NOWARN).toBe(0x2000);
      expect(t.__GFP_ACCOUNT).toBe(0x400000);
      expect(t.__GFP_HARDWALL).toBe(0x100000);
    }
  });

  it('every nonzero raw bit is a distinct single bit', () => {
    for (const k of ['5.10', '6.6'] as const) {
      const t = gfpFlags(k) as unknown as Record<string, number>;
      const seen = new Set<number>();
      for (const [name, v] of Object.entries(t)) {
        if (!name.startsWith('___GFP_') || v === 0) continue;
        expect(v & (v - 1)).toBe(0);
        expect(seen.has(v)).toBe(false);
        seen.add(v);
      }
      expect(seen.size).toBe(23); // 22 shared + __GFP_ATOMIC (5.10) or __GFP_ZEROTAGS (6.6)
    }
  });

  it('tables are frozen and shared', () => {
    expect(Object.isFrozen(gfpFlags('6.6'))).toBe(true);
    expect(gfpFlags('6.6')).toBe(gfpFlags('6.6'));
    expect(() => gfpFlags('4.19' as '6.6')).toThrow(ModelError);
  });
});

describe('gfp_zone (spec §7.3)', () => {
  const G = gfpFlags('6.6');
  it('valid combinations', () => {
    expect(gfp_zone(0, ALL)).toBe(ZoneType.ZONE_NORMAL);
    expect(gfp_zone(G.GFP_KERNEL, ALL)).toBe(ZoneType.ZONE_NORMAL);
    expect(gfp_zone(G.GFP_DMA, ALL)).toBe(ZoneType.ZONE_DMA);
    expect(gfp_zone(G.GFP_DMA, RISCV)).toBe(ZoneType.ZONE_NORMAL);
    expect(gfp_zone(G.GFP_KERNEL | G.GFP_DMA32, ALL)).toBe(ZoneType.ZONE_DMA32);
    expect(gfp_zone(G.GFP_DMA32, NONE)).toBe(ZoneType.ZONE_NORMAL);
    expect(gfp_zone(G.__GFP_HIGHMEM, ALL)).toBe(ZoneType.ZONE_NORMAL);
    expect(gfp_zone(G.__GFP_MOVABLE, ALL)).toBe(ZoneType.ZONE_NORMAL);
    expect(gfp_zone(G.__GFP_MOVABLE | G.__GFP_DMA, ALL)).toBe(ZoneType.ZONE_DMA);
    expect(gfp_zone(G.__GFP_MOVABLE | G.__GFP_DMA, NONE)).toBe(ZoneType.ZONE_NORMAL);
    expect(gfp_zone(G.GFP_HIGHUSER_MOVABLE, ALL)).toBe(ZoneType.ZONE_MOVABLE);
    expect(gfp_zone(G.__GFP_MOVABLE | G.__GFP_DMA32, ALL)).toBe(ZoneType.ZONE_DMA32);
    expect(gfp_zone(G.__GFP_MOVABLE | G.__GFP_DMA32, NONE)).toBe(ZoneType.ZONE_NORMAL);
  });

  it('invalid combinations are the VM_BUG_ON', () => {
    for (const idx of [0x3, 0x5, 0x6, 0x7, 0xb, 0xd, 0xe, 0xf]) {
      expect(() => gfp_zone(G.GFP_KERNEL | idx, ALL)).toThrow(KernelBug);
    }
  });

  it('only the zone bits matter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x3ffffff }), (f) => {
        const idx = f & 0xf;
        if ([0x3, 0x5, 0x6, 0x7, 0xb, 0xd, 0xe, 0xf].includes(idx)) return;
        expect(gfp_zone(f, ALL)).toBe(gfp_zone(idx, ALL));
      }),
    );
  });

  it('CONFIG_HIGHMEM is outside the model', () => {
    expect(() => gfp_zone(G.__GFP_HIGHMEM, { ...ALL, CONFIG_HIGHMEM: true })).toThrow(ModelError);
  });

  it('fault gfp-zone-dma32-as-normal', () => {
    const f = new Set(['gfp-zone-dma32-as-normal']);
    expect(gfp_zone(G.GFP_DMA32, RISCV, f)).toBe(ZoneType.ZONE_NORMAL);
    expect(gfp_zone(G.__GFP_MOVABLE | G.GFP_DMA32, RISCV, f)).toBe(ZoneType.ZONE_NORMAL);
    expect(gfp_zone(G.GFP_DMA, ALL, f)).toBe(ZoneType.ZONE_DMA);
  });

  it('is traced', () => {
    const t = new Tracer();
    setTracer(t);
    try {
      gfp_zone(G.GFP_DMA32, RISCV, new Set(['gfp-zone-dma32-as-normal']));
    } finally {
      setTracer(null);
    }
    expect(t.events.map((e) => e.fn)).toEqual(['gfp_zone', '#']);
  });
});

describe('gfpflags_allow_blocking and gfpToString', () => {
  it('blocking follows __GFP_DIRECT_RECLAIM', () => {
    for (const k of ['5.10', '6.6'] as const) {
      const G = gfpFlags(k);
      expect(gfpflags_allow_blocking(G.GFP_KERNEL)).toBe(true);
      expect(gfpflags_allow_blocking(G.GFP_NOIO)).toBe(true);
      expect(gfpflags_allow_blocking(G.GFP_ATOMIC)).toBe(false);
      expect(gfpflags_allow_blocking(G.GFP_NOWAIT)).toBe(false);
    }
  });

  it('names composites first, then bits', () => {
    const a = gfpFlags('5.10');
    const b = gfpFlags('6.6');
    expect(gfpToString(b.GFP_KERNEL | b.__GFP_DMA32, '6.6')).toBe('GFP_KERNEL|__GFP_DMA32');
    expect(gfpToString(a.GFP_ATOMIC | a.__GFP_ZERO, '5.10')).toBe('GFP_ATOMIC|__GFP_ZERO');
    expect(gfpToString(b.GFP_ATOMIC, '6.6')).toBe('GFP_ATOMIC');
    // 6.6 has no __GFP_ATOMIC: 0xA20 is GFP_ATOMIC plus an unknown bit.
    expect(gfpToString(0xa20, '6.6')).toBe('GFP_ATOMIC|0x200');
    expect(gfpToString(0xa20, '5.10')).toBe('GFP_ATOMIC');
    expect(gfpToString(b.GFP_KERNEL_ACCOUNT | b.__GFP_NOWARN, '6.6')).toBe('GFP_KERNEL_ACCOUNT|__GFP_NOWARN');
    expect(gfpToString(b.GFP_KERNEL | b.__GFP_HIGH, '6.6')).toBe('GFP_KERNEL|__GFP_HIGH');
    expect(gfpToString(b.__GFP_ZEROTAGS, '6.6')).toBe('__GFP_ZEROTAGS');
    expect(gfpToString(0, '6.6')).toBe('none');
  });
});
