// reference/mm/cma.ts: mm/cma.c cma_alloc / cma_release arithmetic, boot-time
// placement and activation (spec kernel-alloc.md §8.3-8.4, historic D4).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Profile, ReservedMemorySpec } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  cma_alloc,
  cma_bitmap_aligned_offset,
  cma_declare_contiguous_nid,
  cma_get_base,
  cma_get_size,
  cma_init_reserved_mem,
  cma_release,
  cmaMinAlignmentBytes,
  cmaObject,
  type cma,
  type CmaBootState,
} from '../../reference/mm/cma.ts';
import { bitmapAlloc, test_bit } from '../../reference/lib/bitmap.ts';
import { zoneOfPfn, ZoneType } from '../../reference/mm/page_alloc.ts';
import { EBUSY, EINVAL, ENOMEM, ENOSPC, KernelBug, ModelError } from '../../reference/types.ts';

import { area, fakeMachine } from '../support/cma.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;



function profile(name: string, patch: Partial<Profile> = {}): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  // The atomic pools are another file's business; keep them out of these machines.
  return { ...p, ...patch, kconfig: { ...p.kconfig, CONFIG_CMA: true, CONFIG_DMA_CMA: true, CONFIG_DMA_COHERENT_POOL: false, ...(patch.kconfig ?? {}) } };
}

function dtArea(name: string, base: bigint, size: bigint, extra: Partial<ReservedMemorySpec> = {}): ReservedMemorySpec {
  return { name, base, size, compatible: 'shared-dma-pool', reusable: true, ...extra };
}

function boot(kernel: '5.10' | '6.6', memory = [{ base: 0x8000_0000n, size: GiB }], reserved = [{ base: 0x8000_0000n, size: 2n * MiB }]): CmaBootState {
  return { kernel, memory, reserved: [...reserved], areas: [], maxAreas: 8, hugetlbPage: false, log: [] };
}

/** Lowest bitmap index where `bits` clear bits start with base_pfn + index a multiple of 2^align: what cma_alloc must find. */
function bruteForce(c: cma, bits: number, align: number): number | null {
  const a = 2 ** align;
  for (let i = 0; i + bits <= c.count; i++) {
    if ((c.base_pfn + i) % a !== 0) continue;
    let free = true;
    for (let j = i; j < i + bits && free; j++) if (test_bit(j, c.bitmap)) free = false;
    if (free) return i;
  }
  return null;
}

describe('cma_alloc: alignment arithmetic', () => {
  it('result is base_pfn + bitmap_no with (base_pfn + bitmap_no) a multiple of 2^align, for an unaligned base', () => {
    const c = area(0x80400, 0x1000); // 4 MiB past a 16 MiB boundary
    const m = fakeMachine();
    expect(cma_alloc(m, c, 1, 0, false)).toBe(0x80400);
    // align 12 (16 MiB): offset = base_pfn mod 0x1000 = 0x400 -> index 0xC00 -> pfn 0x81000.
    expect(cma_bitmap_aligned_offset(c, 12, m.faults)).toBe(0x400);
    expect(cma_alloc(m, c, 1, 12, false)).toBe(0x81000);
    expect(cma_alloc(m, c, 2, 1, false)).toBe(0x80402);
  });

  it('order_per_bit shifts the offset (historic D4a worked example: base_pfn 0x2f800, order_per_bit 1, align 12 -> 0x400)', () => {
    const c = area(0x2f800, 0x2000, 1);
    expect(cma_bitmap_aligned_offset(c, 12, new Set())).toBe(0x400);
    const m = fakeMachine();
    const pfn = cma_alloc(m, c, 3, 12, false);
    expect(pfn).toBe(0x30000);
    // 3 pages take ceil(3 / 2) = 2 bits.
    expect(test_bit((0x30000 - 0x2f800) / 2, c.bitmap)).toBe(true);
    expect(test_bit((0x30000 - 0x2f800) / 2 + 1, c.bitmap)).toBe(true);
    expect(test_bit((0x30000 - 0x2f800) / 2 + 2, c.bitmap)).toBe(false);
  });

  it('matches a brute-force search of the lowest aligned free run, and live allocations never overlap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x3ff }),
        fc.array(fc.oneof(fc.record({ op: fc.constant('a' as const), n: fc.integer({ min: 1, max: 40 }), align: fc.integer({ min: 0, max: 7 }) }), fc.record({ op: fc.constant('r' as const), k: fc.nat() })), { maxLength: 40 }),
        (baseLow, ops) => {
          const c = area(0x100000 + baseLow, 256);
          const m = fakeMachine();
          const live: [number, number][] = [];
          for (const o of ops) {
            if (o.op === 'a') {
              const want = bruteForce(c, o.n, o.align);
              const got = cma_alloc(m, c, o.n, o.align, true);
              expect(got).toBe(want === null ? null : c.base_pfn + want);
              if (got !== null) {
                expect(got % 2 ** o.align).toBe(0);
                for (const [s, n] of live) expect(got + o.n <= s || s + n <= got).toBe(true);
                live.push([got, o.n]);
              }
            } else if (live.length > 0) {
              const [s, n] = live.splice(o.k % live.length, 1)[0];
              expect(cma_release(m, c, s, n)).toBe(true);
            }
          }
          expect([...c.allocated.entries()].sort((a, b) => a[0] - b[0])).toEqual(live.sort((a, b) => a[0] - b[0]));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('fault cma-aligned-offset-wrong (historic D4b, b5be83e308f7 .. v4.13)', () => {
  it('spec scenario: base 4 MiB past a 16 MiB boundary, align 12 -> pfn 8 MiB-aligned only', () => {
    const c = area(0x80400, 0x1000);
    const m = fakeMachine(['cma-aligned-offset-wrong']);
    expect(cma_bitmap_aligned_offset(c, 12, m.faults)).toBe(0xc00);
    const pfn = cma_alloc(m, c, 1, 12, false);
    expect(pfn).toBe(0x80800);
    expect((pfn as number) % 0x1000).not.toBe(0);
  });

  it('align_order <= order_per_bit: the kernel shifts the low bits away (0), the v4.0-v4.12 form returned 0 early', () => {
    const c = area(0x2f800, 0x2000, 2);
    for (const faults of [[], ['cma-aligned-offset-wrong']]) {
      for (const align of [0, 1, 2]) expect(cma_bitmap_aligned_offset(c, align, new Set(faults))).toBe(0);
    }
    // 0x2f800 is 8 MiB past a 16 MiB boundary: the two forms agree at align 12, differ at 13.
    expect(cma_bitmap_aligned_offset(c, 13, new Set())).toBe(0x1800 / 4);
    expect(cma_bitmap_aligned_offset(c, 13, new Set(['cma-aligned-offset-wrong']))).toBe(0x800 / 4);
  });

  it('invisible when the alignment is at most twice the base alignment (the bug hid there)', () => {
    const good = area(0x80400, 0x1000);
    const bad = area(0x80400, 0x1000);
    for (const align of [0, 1, 5, 10, 11]) {
      expect(cma_alloc(fakeMachine(['cma-aligned-offset-wrong']), bad, 1, align, false)).toBe(cma_alloc(fakeMachine(), good, 1, align, false));
    }
  });
});

describe('cma_alloc: edge cases', () => {
  it('NULL area, empty area, count 0 and a request larger than the area return NULL', () => {
    const m = fakeMachine();
    expect(cma_alloc(m, null, 1, 0, false)).toBeNull();
    const c = area(0x1000, 16);
    expect(cma_alloc(m, c, 0, 0, false)).toBeNull();
    expect(cma_alloc(m, c, 17, 0, false)).toBeNull();
    const dead = area(0x1000, 16);
    dead.count = 0; // what a failed activation leaves
    expect(cma_alloc(m, dead, 1, 0, false)).toBeNull();
    expect(() => cma_alloc(m, c, -1, 0, false)).toThrow(ModelError);
  });

  it('exhaustion: the whole area once, then NULL; an aligned request fails where only unaligned holes remain', () => {
    const m = fakeMachine();
    const c = area(0x2000, 64);
    expect(cma_alloc(m, c, 64, 6, false)).toBe(0x2000);
    expect(cma_alloc(m, c, 1, 0, false)).toBeNull();
    expect(cma_release(m, c, 0x2000, 64)).toBe(true);
    expect(cma_alloc(m, c, 1, 0, false)).toBe(0x2000); // pfn 0x2000
    expect(cma_alloc(m, c, 32, 5, false)).toBe(0x2020); // first 32-aligned run free
    expect(cma_alloc(m, c, 31, 0, false)).toBe(0x2001);
    expect(cma_alloc(m, c, 1, 0, false)).toBeNull();
  });
});

describe('cma_release', () => {
  it('outside the area -> false and nothing changes; inside -> bits cleared, true', () => {
    const m = fakeMachine();
    const c = area(0x1000, 64);
    const p = cma_alloc(m, c, 4, 2, false) as number;
    expect(cma_release(m, c, 0x0fff, 1)).toBe(false);
    expect(cma_release(m, c, 0x1040, 1)).toBe(false);
    expect(cma_release(m, null, p, 4)).toBe(false);
    expect(c.allocated.get(p)).toBe(4);
    expect(cma_release(m, c, p, 4)).toBe(true);
    expect(c.allocated.size).toBe(0);
    expect(test_bit(0, c.bitmap)).toBe(false);
  });

  it('a range running past the end is VM_BUG_ON; freeing pages that are not allocated is a bad page', () => {
    const m = fakeMachine();
    const c = area(0x1000, 64);
    const p = cma_alloc(m, c, 4, 0, false) as number;
    expect(() => cma_release(m, c, 0x103f, 2)).toThrow(KernelBug);
    expect(() => cma_release(m, c, p, 5)).toThrow(KernelBug);
    expect(() => cma_release(m, c, p + 10, 1)).toThrow(KernelBug);
    expect(c.allocated.get(p)).toBe(4); // a refused release changes nothing
  });

  it('a sub-range may be released; the rest stays allocated', () => {
    const m = fakeMachine();
    const c = area(0x1000, 64);
    const p = cma_alloc(m, c, 8, 0, false) as number;
    expect(cma_release(m, c, p + 2, 3)).toBe(true);
    expect([...c.allocated.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [p, 2],
      [p + 5, 3],
    ]);
    expect(cma_alloc(m, c, 3, 0, false)).toBe(p + 2);
  });

  it('logs each release for an observer (model observation: released or refused)', () => {
    const m = fakeMachine();
    const c = area(0x1000, 64);
    const p = cma_alloc(m, c, 4, 2, false) as number;
    c.requests = [];
    cma_release(m, c, 0x1040, 1);
    cma_release(m, c, p, 4);
    expect(c.requests).toEqual([
      { fn: 'cma_release', pfn: 0x1040, count: 1, released: false },
      { fn: 'cma_release', pfn: p, count: 4, released: true },
    ]);
  });

  it('cma_get_base / cma_get_size', () => {
    const c = area(0xbf000, 4096);
    expect(cma_get_base(c)).toBe(0xbf00_0000n);
    expect(cma_get_size(c)).toBe(16n * MiB);
  });
});

describe('boot: cma_declare_contiguous_nid / cma_init_reserved_mem', () => {
  it('minimum alignment: 5.10 4 MiB; 6.6 2 MiB with CONFIG_HUGETLB_PAGE, else 4 MiB', () => {
    expect(cmaMinAlignmentBytes('5.10', true)).toBe(4n * MiB);
    expect(cmaMinAlignmentBytes('6.6', true)).toBe(2n * MiB);
    expect(cmaMinAlignmentBytes('6.6', false)).toBe(4n * MiB);
  });

  it('non-fixed: top-down below the limit, size rounded up to the alignment', () => {
    const b = boot('5.10');
    expect(cma_declare_contiguous_nid(b, 0n, 5n * MiB, 0xc000_0000n, 0n, 0, false, 'reserved')).toBe(0);
    expect(b.areas[0]).toEqual({ name: 'reserved', base: 0xc000_0000n - 8n * MiB, size: 8n * MiB, order_per_bit: 0 });
    expect(b.log).toContain('cma: Reserved 8 MiB at 0xbf800000');
    // The next one goes below it: the first is now reserved.
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0xc000_0000n, 0n, 0, false, 'second')).toBe(1);
    expect(b.areas[1].base).toBe(0xbf40_0000n);
  });

  it('6.6 tries bottom-up from 4 GiB when the limit allows it; 5.10 stays top-down', () => {
    const mem = [{ base: 0n, size: 8n * GiB }];
    const b66 = boot('6.6', mem, [{ base: 0n, size: 32n * MiB }]);
    cma_declare_contiguous_nid(b66, 0n, 16n * MiB, 0n, 0n, 0, false, 'x');
    expect(b66.areas[0].base).toBe(4n * GiB);
    const b510 = boot('5.10', mem, [{ base: 0n, size: 32n * MiB }]);
    cma_declare_contiguous_nid(b510, 0n, 16n * MiB, 0n, 0n, 0, false, 'x');
    expect(b510.areas[0].base).toBe(8n * GiB - 16n * MiB);
    // riscv's limit (dma32_phys_limit = 4 GiB): the bottom-up pass finds nothing, both end top-down below 4 GiB.
    const b = boot('6.6', mem, [{ base: 0n, size: 32n * MiB }]);
    cma_declare_contiguous_nid(b, 0n, 16n * MiB, 4n * GiB, 0n, 0, false, 'x');
    expect(b.areas[0].base).toBe(4n * GiB - 16n * MiB);
  });

  it('fixed: unaligned base, past the limit, or already reserved are refused with the kernel errno', () => {
    const b = boot('5.10');
    expect(cma_declare_contiguous_nid(b, 0xa010_0000n, 4n * MiB, 0xa050_0000n, 0n, 0, true, 'f')).toBe(-EINVAL);
    expect(b.log.some((l) => l.includes('must be aligned'))).toBe(true);
    expect(cma_declare_contiguous_nid(b, 0xbfc0_0000n, 8n * MiB, 0xc000_0000n, 0n, 0, true, 'f')).toBe(-EINVAL);
    expect(b.log.some((l) => l.includes('exceeds limit'))).toBe(true);
    expect(cma_declare_contiguous_nid(b, 0x8000_0000n, 4n * MiB, 0x8040_0000n, 0n, 0, true, 'f')).toBe(-EBUSY);
    expect(cma_declare_contiguous_nid(b, 0xa000_0000n, 4n * MiB, 0xa040_0000n, 0n, 0, true, 'f')).toBe(0);
    expect(b.areas[0].base).toBe(0xa000_0000n);
  });

  it('no room below the limit -> -ENOMEM; no free slot -> -ENOSPC; an unreserved range cannot be an area', () => {
    const b = boot('5.10');
    expect(cma_declare_contiguous_nid(b, 0n, 4n * GiB, 0n, 0n, 0, false, 'big')).toBe(-EINVAL); // past memblock_end_of_DRAM
    // Fits under the limit on paper, but the first 2 MiB are reserved.
    expect(cma_declare_contiguous_nid(b, 0x8000_0000n, GiB, 0n, 0n, 0, false, 'big')).toBe(-ENOMEM);
    expect(cma_init_reserved_mem(b, 0x9000_0000n, 4n * MiB, 0, 'x')).toBe(-EINVAL);
    const full = { ...boot('5.10'), maxAreas: 0 };
    expect(cma_declare_contiguous_nid(full, 0n, 4n * MiB, 0n, 0n, 0, false, 'x')).toBe(-ENOSPC);
  });
});

describe('cma_activate_area on a built machine', () => {
  it('area pages stay inside their zone span (zoneOfPfn finds DMA32), withheld from the buddy', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    const c = m.cma.default as cma;
    expect(c.count).toBe(4096);
    expect(zoneOfPfn(m.mm, c.base_pfn)?.idx).toBe(ZoneType.ZONE_DMA32);
    expect(zoneOfPfn(m.mm, c.base_pfn + c.count - 1)?.idx).toBe(ZoneType.ZONE_DMA32);
  });

  it('an area straddling 4 GiB (DMA32 | Normal) is not activated: count 0, every cma_alloc NULL', () => {
    const p = profile('board-1g-6.6', {
      memory: [{ base: 0x8000_0000n, size: 4n * GiB }],
      reservedMemory: [dtArea('straddle', 0xffc0_0000n, 8n * MiB)],
      kconfig: { CONFIG_CMA_SIZE_MBYTES: 0 },
    });
    const m = buildMachine(p);
    expect(m.cma.areas).toHaveLength(1);
    expect(m.cma.areas[0].count).toBe(0);
    expect(cma_alloc(m, m.cma.areas[0], 1, 0, false)).toBeNull();
  });
});
