// reference/mm/cma.ts: exact outcomes that StrykerJS showed no other test pins
// down (bench/mutation-equivalents.md lists the survivors that cannot be killed).
// Kernel: mm/cma.c and mm/memblock.c of 5.10 and 6.6.
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  cma_activate_area,
  cma_alloc,
  cma_bitmap_aligned_offset,
  cma_declare_contiguous_nid,
  cma_get_name,
  cma_init_reserved_mem,
  cma_release,
  cmaObject,
  memblockEndOfDram,
  memblockFree,
  memblockFreeRanges,
  memblockIsRegionReserved,
  memblockPhysMemSize,
  type cma,
  type CmaBootState,
} from '../../reference/mm/cma.ts';
import type { MemoryRange } from '../../reference/config/profile.ts';
import { bitmapAlloc, test_bit } from '../../reference/lib/bitmap.ts';
import { zoneOfPfn } from '../../reference/mm/page_alloc.ts';
import { EINVAL, ENOMEM, ENOSPC, KernelBug, ModelError } from '../../reference/types.ts';
import { preempt_disable, preempt_enable } from '../../reference/include/linux/preempt.ts';
import { area, fakeMachine } from '../support/cma.ts';
import { traceCalls } from './trace-calls.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;



function boot(kernel: '5.10' | '6.6', memory: MemoryRange[] = [{ base: 0x8000_0000n, size: GiB }], reserved: MemoryRange[] = [{ base: 0x8000_0000n, size: 2n * MiB }]): CmaBootState {
  return { kernel, memory, reserved: [...reserved], areas: [], maxAreas: 8, hugetlbPage: false, log: [] };
}

function profile(name: string, patch: Partial<Profile> = {}): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return { ...p, ...patch, kconfig: { ...p.kconfig, CONFIG_CMA: true, CONFIG_DMA_CMA: true, CONFIG_DMA_COHERENT_POOL: false, ...(patch.kconfig ?? {}) } };
}

// ---------------------------------------------------------------- memblock model

describe('memblock helpers (mm/memblock.c: regions are kept sorted, merged, never empty)', () => {
  it('for_each_free_mem_range: memory minus reserved, whatever order the regions were given in', () => {
    // memblock_add_range / memblock_reserve keep both types sorted by base and merge
    // overlaps; a size-0 memblock_reserve adds nothing ("if (!size) return 0").
    const b = boot(
      '6.6',
      [
        { base: 4n * GiB, size: GiB },
        { base: 0x8000_0000n, size: GiB }, // hole [3 GiB, 4 GiB) between the banks
      ],
      [
        { base: 0x1_1000_0000n, size: 16n * MiB }, // in the upper bank
        { base: 0x8000_0000n, size: 2n * MiB }, // at the lower bank's base
        { base: 0x9000_0000n, size: 0n }, // empty: no split
        { base: 0xa000_0000n, size: 8n * MiB },
        { base: 0xa010_0000n, size: MiB }, // inside the previous one
        { base: 0xa070_0000n, size: 2n * MiB }, // overlaps its end: extends it to 0xa090_0000
        { base: 0xbff0_0000n, size: 2n * MiB }, // runs past the lower bank's end
      ],
    );
    expect(memblockFreeRanges(b)).toEqual([
      { base: 0x8020_0000n, end: 0xa000_0000n },
      { base: 0xa090_0000n, end: 0xbff0_0000n },
      { base: 4n * GiB, end: 0x1_1000_0000n },
      { base: 0x1_1100_0000n, end: 5n * GiB },
    ]);
  });

  it('descending reservations are sorted before the walk', () => {
    const b = boot('5.10', [{ base: 0x8000_0000n, size: GiB }], [
      { base: 0xbf00_0000n, size: 16n * MiB }, // ends exactly at the bank's end: no empty range after it
      { base: 0xb000_0000n, size: MiB },
      { base: 0xa000_0000n, size: MiB },
      { base: 0x9000_0000n, size: MiB },
    ]);
    expect(memblockFreeRanges(b)).toEqual([
      { base: 0x8000_0000n, end: 0x9000_0000n },
      { base: 0x9010_0000n, end: 0xa000_0000n },
      { base: 0xa010_0000n, end: 0xb000_0000n },
      { base: 0xb010_0000n, end: 0xbf00_0000n },
    ]);
  });

  it('adjacent and nested memory banks are one region (memblock_merge_regions)', () => {
    expect(memblockFreeRanges(boot('6.6', [{ base: 0xa000_0000n, size: 512n * MiB }, { base: 0x8000_0000n, size: 512n * MiB }], []))).toEqual([{ base: 0x8000_0000n, end: 0xc000_0000n }]);
    expect(memblockFreeRanges(boot('6.6', [{ base: 0x8000_0000n, size: GiB }, { base: 0x9000_0000n, size: 16n * MiB }], []))).toEqual([{ base: 0x8000_0000n, end: 0xc000_0000n }]);
  });

  it('memblock_phys_mem_size counts overlapping banks once; memblock_end_of_DRAM is the highest end, not the last bank', () => {
    const mem = [
      { base: 0x8000_0000n, size: GiB },
      { base: 0xa000_0000n, size: GiB }, // overlaps the first by 512 MiB
    ];
    expect(memblockPhysMemSize({ memory: mem })).toBe(GiB + 512n * MiB);
    expect(memblockEndOfDram({ memory: [{ base: 4n * GiB, size: GiB }, { base: 0x8000_0000n, size: GiB }] })).toBe(5n * GiB);
  });

  it('memblock_is_region_reserved: a true intersection, not a touch; empty regions never count', () => {
    const b = boot('5.10', [{ base: 0x8000_0000n, size: GiB }], [
      { base: 0x9000_0000n, size: 4n * MiB },
      { base: 0x9100_0000n, size: 0n },
    ]);
    expect(memblockIsRegionReserved(b, 0x9040_0000n, 4n * MiB)).toBe(false); // starts at its end
    expect(memblockIsRegionReserved(b, 0x8fc0_0000n, 4n * MiB)).toBe(false); // ends at its base
    expect(memblockIsRegionReserved(b, 0x8000_0000n, 4n * MiB)).toBe(false); // well below
    expect(memblockIsRegionReserved(b, 0x9080_0000n, 16n * MiB)).toBe(false); // around the empty one
    expect(memblockIsRegionReserved(b, 0x903f_f000n, 4n * MiB)).toBe(true); // last page
    expect(memblockIsRegionReserved(b, 0x8fc0_1000n, 4n * MiB)).toBe(true); // first page
  });

  it('memblock_free removes exactly the range: splits a region, keeps touching ones', () => {
    const b = boot('5.10', [{ base: 0x8000_0000n, size: GiB }], [
      { base: 0x8000_0000n, size: 2n * MiB },
      { base: 0x9000_0000n, size: 16n * MiB },
      { base: 0xa000_0000n, size: 4n * MiB },
    ]);
    memblockFree(b, 0x9040_0000n, 4n * MiB); // the middle of the second
    expect(b.reserved).toEqual([
      { base: 0x8000_0000n, size: 2n * MiB },
      { base: 0x9000_0000n, size: 4n * MiB },
      { base: 0x9080_0000n, size: 8n * MiB },
      { base: 0xa000_0000n, size: 4n * MiB },
    ]);
    memblockFree(b, 0x8020_0000n, 0x0fe0_0000n); // [end of the first, base of the second): touches both
    memblockFree(b, 0x9000_0000n, MiB); // head of a region
    memblockFree(b, 0x90b0_0000n, 0x0f50_0000n); // tail of the third, up to the last one's base
    memblockFree(b, 0xa000_0000n, 4n * MiB); // a whole region
    expect(b.reserved).toEqual([
      { base: 0x8000_0000n, size: 2n * MiB },
      { base: 0x9010_0000n, size: 3n * MiB },
      { base: 0x9080_0000n, size: 3n * MiB },
    ]);
  });
});

describe('memblock_alloc_range_nid as CMA placement uses it', () => {
  it('never hands out the first page: no room but page 0 -> -ENOMEM and memblock.reserved unchanged', () => {
    // memblock_find_in_range_node: start = max_t(phys_addr_t, start, PAGE_SIZE).
    const b = boot('5.10', [{ base: 0n, size: 8n * MiB }], [{ base: 4n * MiB, size: 4n * MiB }]);
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0n, 0n, 0, false, 'x')).toBe(-ENOMEM);
    expect(b.reserved).toEqual([{ base: 4n * MiB, size: 4n * MiB }]);
  });

  it('top-down takes a free range that fits exactly', () => {
    const b = boot('5.10', [{ base: 0x8000_0000n, size: GiB }], [
      { base: 0x8000_0000n, size: 4n * MiB },
      { base: 0x8080_0000n, size: GiB - 8n * MiB },
    ]);
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0n, 0n, 0, false, 'x')).toBe(0);
    expect(b.areas[0].base).toBe(0x8040_0000n);
  });

  it('6.6 bottom-up above 4 GiB: the lowest range that fits, skipping one too small, taking one of exactly the size', () => {
    // mm: cma: allocate cma areas bottom-up (5.11): memblock_alloc_range_nid(size, align, SZ_4G, limit, nid, true) bottom-up.
    const mem = [{ base: 0n, size: 8n * GiB }];
    const lowest = boot('6.6', mem, [{ base: 0n, size: 32n * MiB }, { base: 5n * GiB, size: 16n * MiB }]);
    expect(cma_declare_contiguous_nid(lowest, 0n, 16n * MiB, 0n, 0n, 0, false, 'x')).toBe(0);
    expect(lowest.areas[0].base).toBe(4n * GiB);
    const small = boot('6.6', mem, [{ base: 0n, size: 32n * MiB }, { base: 4n * GiB + 4n * MiB, size: 4n * MiB }]);
    expect(cma_declare_contiguous_nid(small, 0n, 16n * MiB, 0n, 0n, 0, false, 'x')).toBe(0);
    expect(small.areas[0].base).toBe(4n * GiB + 8n * MiB);
    const exact = boot('6.6', mem, [{ base: 0n, size: 32n * MiB }, { base: 4n * GiB + 16n * MiB, size: 4n * MiB }]);
    expect(cma_declare_contiguous_nid(exact, 0n, 16n * MiB, 0n, 0n, 0, false, 'x')).toBe(0);
    expect(exact.areas[0].base).toBe(4n * GiB);
  });
});

// ---------------------------------------------------------------- boot: declare / init

describe('cma_declare_contiguous_nid: argument checks (each returns before anything is reserved)', () => {
  it('no free slot: -ENOSPC, "Not enough slots" and nothing else logged', () => {
    const b = { ...boot('5.10'), maxAreas: 1 };
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0n, 0n, 0, false, 'a')).toBe(0);
    const reserved = [...b.reserved];
    b.log.length = 0;
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0n, 0n, 0, false, 'b')).toBe(-ENOSPC);
    expect(b.log).toEqual(['cma: Not enough slots for CMA reserved regions!']);
    expect(b.reserved).toEqual(reserved);
  });

  it('size 0: -EINVAL, silent (a plain return, not "goto err")', () => {
    const b = boot('5.10');
    expect(cma_declare_contiguous_nid(b, 0n, 0n, 0n, 0n, 0, false, 'x')).toBe(-EINVAL);
    expect(b.log).toEqual([]);
    expect(b.reserved).toEqual(boot('5.10').reserved);
  });

  it('alignment must be 0 or a power of two; a power of two above the minimum aligns base and size', () => {
    const b = boot('5.10', [{ base: 0x8000_0000n, size: GiB }], [
      { base: 0x8000_0000n, size: 2n * MiB },
      { base: 0xbfc0_0000n, size: 4n * MiB },
    ]);
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0n, 6n * MiB, 0, false, 'x')).toBe(-EINVAL);
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0n, 3n, 0, false, 'x')).toBe(-EINVAL);
    expect(b.log).toEqual([]);
    // 16 MiB: size ALIGN()ed to 16 MiB, placed at round_down(0xbfc0_0000 - 16 MiB, 16 MiB).
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0n, 16n * MiB, 0, false, 'x')).toBe(0);
    expect(b.areas[0]).toEqual({ name: 'x', base: 0xbe00_0000n, size: 16n * MiB, order_per_bit: 0 });
    // 2 MiB (below the 4 MiB minimum): the minimum wins.
    expect(cma_declare_contiguous_nid(b, 0n, 2n * MiB, 0n, 2n * MiB, 0, false, 'y')).toBe(1);
    expect(b.areas[1]).toEqual({ name: 'y', base: 0xbf80_0000n, size: 4n * MiB, order_per_bit: 0 });
  });

  it('fixed with base 0 is not fixed ("if (!base) fixed = false"): placed top-down like any other', () => {
    const b = boot('5.10');
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0n, 0n, 0, true, 'x')).toBe(0);
    expect(b.areas[0].base).toBe(0xbfc0_0000n);
  });

  it('size not a multiple of 1 << order_per_bit pages: -EINVAL, silent, nothing reserved', () => {
    // 4 MiB = 1024 pages, order_per_bit 11 wants multiples of 2048.
    const b = boot('5.10');
    expect(cma_declare_contiguous_nid(b, 0n, 4n * MiB, 0n, 0n, 11, false, 'x')).toBe(-EINVAL);
    expect(b.log).toEqual([]);
    expect(b.reserved).toEqual(boot('5.10').reserved);
  });

  it('cma_init_reserved_mem refusing the reserved range: memblock_free gives it back, "Failed to reserve" (goto free_mem)', () => {
    // 8 MiB passes the order_per_bit 11 size check, but cma_init_reserved_mem wants
    // the 4 MiB minimum alignment (1024 pages) to be a multiple of 2048 pages: -EINVAL.
    const b = boot('5.10');
    expect(cma_declare_contiguous_nid(b, 0n, 8n * MiB, 0n, 0n, 11, false, 'x')).toBe(-EINVAL);
    expect(b.areas).toEqual([]);
    expect(b.reserved).toEqual(boot('5.10').reserved);
    expect(b.log).toEqual(['cma: Failed to reserve 8 MiB']);
  });

  it('a limit past the end of DRAM is the end of DRAM: a fixed region beyond it exceeds the limit', () => {
    const b = boot('5.10');
    expect(cma_declare_contiguous_nid(b, 0xc000_0000n, 4n * MiB, 4n * GiB, 0n, 0, true, 'x')).toBe(-EINVAL);
    expect(b.log[0]).toBe('cma: Size (0x400000) of region at 0xc0000000 exceeds limit (0xc0000000)');
    expect(b.areas).toEqual([]);
  });
});

describe('cma_init_reserved_mem: sanity checks', () => {
  const reserved = [
    { base: 0x8000_0000n, size: 2n * MiB },
    { base: 0x9000_0000n, size: 16n * MiB },
  ];

  it('no free slot: -ENOSPC and "Not enough slots"', () => {
    const b = { ...boot('5.10', undefined, reserved), maxAreas: 1 };
    expect(cma_init_reserved_mem(b, 0x9000_0000n, 4n * MiB, 0, 'a')).toBe(0);
    expect(cma_init_reserved_mem(b, 0x9040_0000n, 4n * MiB, 0, 'b')).toBe(-ENOSPC);
    expect(b.log).toEqual(['cma: Not enough slots for CMA reserved regions!']);
    expect(b.areas).toHaveLength(1);
  });

  it('a range memblock does not hold reserved: -EINVAL', () => {
    const b = boot('5.10', undefined, reserved);
    expect(cma_init_reserved_mem(b, 0xa000_0000n, 4n * MiB, 0, 'x')).toBe(-EINVAL);
    expect(cma_init_reserved_mem(b, 0x9000_0000n, 0n, 0, 'x')).toBe(-EINVAL);
    // Size 0 strictly inside a reservation: memblock_is_region_reserved would say yes, `!size` refuses first.
    expect(cma_init_reserved_mem(b, 0x9040_0000n, 0n, 0, 'x')).toBe(-EINVAL);
    expect(b.areas).toEqual([]);
    expect(b.areas).toEqual([]);
  });

  it('order_per_bit must divide the minimum alignment in pages: 10 is fine, 11 is -EINVAL', () => {
    const b = boot('5.10', undefined, reserved);
    expect(cma_init_reserved_mem(b, 0x9000_0000n, 8n * MiB, 11, 'x')).toBe(-EINVAL);
    expect(cma_init_reserved_mem(b, 0x9000_0000n, 8n * MiB, 10, 'x')).toBe(0);
  });

  it('base and size must each be aligned to the minimum (5.10: 4 MiB)', () => {
    const b = boot('5.10', undefined, reserved);
    expect(cma_init_reserved_mem(b, 0x9020_0000n, 4n * MiB, 0, 'x')).toBe(-EINVAL);
    expect(cma_init_reserved_mem(b, 0x9000_0000n, 6n * MiB, 0, 'x')).toBe(-EINVAL);
    expect(b.areas).toEqual([]);
    // 6.6 with CONFIG_HUGETLB_PAGE: 2 MiB is enough.
    const h = { ...boot('6.6', undefined, reserved), hugetlbPage: true };
    expect(cma_init_reserved_mem(h, 0x9020_0000n, 6n * MiB, 0, null)).toBe(0);
    expect(h.areas[0]).toEqual({ name: 'cma0', base: 0x9020_0000n, size: 6n * MiB, order_per_bit: 0 });
  });
});

describe('cmaObject (model helper): struct cma fields need page-aligned base and size', () => {
  it('throws a ModelError for a base or a size off by half a page', () => {
    expect(() => cmaObject('x', 0x8000_0800n, 4n * MiB, 0)).toThrow(ModelError);
    expect(() => cmaObject('x', 0x8000_0000n, 4n * MiB + 0x800n, 0)).toThrow(ModelError);
    expect(() => cmaObject('x', 0x8000_1000n, 4n * MiB + 0x1000n, 0)).not.toThrow();
  });
});

// ---------------------------------------------------------------- activation

describe('cma_activate_area', () => {
  it('a base PFN in no zone: WARN_ON_ONCE(!pfn_valid), the area is not activated', () => {
    const m = buildMachine(profile('board-1g-6.6'));
    const a = cmaObject('ghost', 0x4_0000_0000n, 4n * MiB, 0); // 16 GiB: no RAM there
    const log: string[] = [];
    cma_activate_area(m, a, log);
    expect(m.warnings.some((w) => w.startsWith('WARN_ON_ONCE(!pfn_valid(pfn)) in cma_activate_area'))).toBe(true);
    expect(a.count).toBe(0);
    expect(log).toEqual(['cma: CMA area ghost could not be activated']);
  });

  it('an area whose last page is the first page of the next zone is not activated; one ending at the boundary is', () => {
    // page_zone(pfn_to_page(pfn)) != zone for that one page -> goto not_in_zone.
    const m = buildMachine(profile('board-1g-6.6', { memory: [{ base: 0x8000_0000n, size: 4n * GiB }], kconfig: { CONFIG_CMA_SIZE_MBYTES: 0 } }));
    const z = zoneOfPfn(m.mm, 0xff000)!;
    const zoneEnd = BigInt(z.zone_start_pfn + z.spanned_pages) << 12n;
    expect(zoneEnd).toBe(4n * GiB);
    const over = cmaObject('over', zoneEnd - 4n * MiB, 4n * MiB + 0x1000n, 0);
    const fits = cmaObject('fits', zoneEnd - 4n * MiB, 4n * MiB, 0);
    const log: string[] = [];
    cma_activate_area(m, over, log);
    cma_activate_area(m, fits, log);
    expect(over.count).toBe(0);
    expect(fits.count).toBe(1024);
    expect(log).toEqual(['cma: CMA area over could not be activated']);
  });

  it('an area not activated yet (no bitmap) gives NULL: cma_alloc checks !cma->bitmap (5.10, 6.6)', () => {
    const c = cmaObject('t', 0x8000_0000n, 4n * MiB, 0);
    expect(cma_alloc(fakeMachine(), c, 1, 0, false)).toBeNull();
  });
});

// ---------------------------------------------------------------- run time

describe('cma_alloc / cma_release arithmetic', () => {
  it('cma_get_name is the area name', () => {
    expect(cma_get_name(area(0x1000, 16))).toBe('t');
  });

  it('align order checked: negative, fractional and > 52 are model errors; 52 is a valid (failing) request', () => {
    const m = fakeMachine();
    const c = area(0x1000, 64);
    expect(() => cma_alloc(m, c, 1, -1, false)).toThrow(ModelError);
    expect(() => cma_alloc(m, c, 1, 1.5, false)).toThrow(ModelError);
    expect(() => cma_alloc(m, c, 1, 53, false)).toThrow(ModelError);
    expect(cma_alloc(m, c, 1, 52, false)).toBeNull();
    expect(cma_alloc(m, c, 1, 6, false)).toBe(0x1000);
  });

  it('order_per_bit 2: requests below the bit order are not further aligned (mask 0)', () => {
    // cma_bitmap_aligned_mask: align_order <= order_per_bit -> 0.
    const m = fakeMachine();
    const c = area(0x1000, 64, 2);
    expect(cma_alloc(m, c, 1, 0, false)).toBe(0x1000);
    expect(cma_alloc(m, c, 3, 1, false)).toBe(0x1004);
    expect(cma_alloc(m, c, 4, 0, false)).toBe(0x1008);
    expect(cma_alloc(m, c, 1, 4, false)).toBe(0x1010);
    expect([0, 1, 2, 3, 4, 5].map((i) => test_bit(i, c.bitmap))).toEqual([true, true, true, false, true, false]);
  });

  it('order_per_bit 1: the bitmap has count >> 1 bits, no request reaches past the area', () => {
    const m = fakeMachine();
    const c = area(0x1000, 8, 1);
    expect(cma_alloc(m, c, 16, 0, false)).toBeNull();
    expect(cma_alloc(m, c, 9, 0, false)).toBeNull();
    expect(cma_alloc(m, c, 8, 0, false)).toBe(0x1000);
    expect(cma_alloc(m, c, 1, 0, false)).toBeNull();
  });

  it('cma_clear_bitmap: bitmap_no = (pfn - base_pfn) >> order_per_bit', () => {
    const m = fakeMachine();
    const c = area(0x1000, 16, 1);
    expect(cma_alloc(m, c, 2, 0, false)).toBe(0x1000);
    expect(cma_alloc(m, c, 2, 0, false)).toBe(0x1002);
    expect(cma_alloc(m, c, 2, 0, false)).toBe(0x1004);
    expect(cma_release(m, c, 0x1002, 2)).toBe(true);
    expect([0, 1, 2, 3, 4].map((i) => test_bit(i, c.bitmap))).toEqual([true, false, true, false, false]);
    expect(cma_alloc(m, c, 2, 0, false)).toBe(0x1002);
  });

  it('fault cma-aligned-offset-wrong on a base aligned to 2^align: ALIGN(base_pfn) - base_pfn = 0', () => {
    const c = area(0x80000, 0x1000, 1);
    const f = new Set(['cma-aligned-offset-wrong']);
    expect(cma_bitmap_aligned_offset(c, 12, f)).toBe(0);
    expect(cma_bitmap_aligned_offset(c, 19, f)).toBe(0);
    expect(cma_bitmap_aligned_offset(area(0x80400, 0x1000, 1), 12, f)).toBe(0x600);
  });

  it('a range running past the area is the VM_BUG_ON, not a bad_page', () => {
    // VM_BUG_ON(pfn + count > cma->base_pfn + cma->count) comes before free_contig_range.
    const m = fakeMachine();
    const c = area(0x1000, 64);
    expect(cma_alloc(m, c, 64, 0, false)).toBe(0x1000);
    expect(() => cma_release(m, c, 0x103f, 2)).toThrow(/VM_BUG_ON in cma_release/);
    expect(() => cma_release(m, c, 0x1000, 65)).toThrow(KernelBug);
    expect(c.allocated.get(0x1000)).toBe(64);
  });

  it('cma_release frees the range (free_contig_range) and then clears the bitmap, in mm/cma.c order', () => {
    const m = fakeMachine();
    const c = area(0x1000, 64);
    const p = cma_alloc(m, c, 4, 0, false) as number;
    const { result, calls } = traceCalls(() => cma_release(m, c, p, 4));
    expect(result).toBe(true);
    expect(calls.filter((s) => /^ {2}\S/.test(s))).toEqual(['  free_contig_range', '  cma_clear_bitmap']);
  });

  it('5.10: a request larger than the area returns NULL before cma->lock (no might_sleep splat even in atomic context)', () => {
    // mm/cma.c 5.10: "if (bitmap_count > bitmap_maxno) return NULL;" precedes the loop's mutex_lock(&cma->lock).
    const m = buildMachine(findProfile('c920-sg2042-5.10-cma')!);
    const c = m.cma.default as cma;
    const seen = m.current.sleepReports.length;
    preempt_disable(m.current);
    try {
      expect(cma_alloc(m, c, c.count + 1, 0, true)).toBeNull();
    } finally {
      preempt_enable(m.current);
    }
    expect(m.current.sleepReports.slice(seen)).toEqual([]);
  });
});
