// Edge cases of reference/lib/genalloc.ts that the mutation run (npm run mutation)
// showed untested: trace names and nesting, branch notes, the model's argument
// checks and their limits, BUG messages, chunk-boundary lookups, best-fit ties.
import { describe, expect, it } from 'vitest';
import {
  gen_pool_add,
  gen_pool_add_owner,
  gen_pool_add_virt,
  gen_pool_alloc,
  gen_pool_alloc_algo,
  gen_pool_alloc_owner,
  gen_pool_avail,
  gen_pool_best_fit,
  gen_pool_create,
  gen_pool_destroy,
  gen_pool_dma_alloc,
  gen_pool_dma_alloc_align,
  gen_pool_first_fit_align,
  gen_pool_first_fit_order_align,
  gen_pool_fixed_alloc,
  gen_pool_for_each_chunk,
  gen_pool_free,
  gen_pool_free_owner,
  gen_pool_has_addr,
  gen_pool_set_algo,
  gen_pool_size,
  gen_pool_virt_to_phys,
  type GenPool,
  type GenpoolAlgo,
  type OwnerOut,
} from '../../reference/lib/genalloc.ts';
import { BITMAP_MAX_BITS } from '../../reference/lib/bitmap.ts';
import { KernelBug, ModelError, PAGE_SHIFT } from '../../reference/types.ts';
import { traceCalls } from './trace-calls.ts';

const PG = 4096n;
const BASE = 0xffff_ffd8_0000_0000n;
const PHYS = 0x8000_0000n;

function pagePool(pages: number, faults: readonly string[] = []): GenPool {
  const pool = gen_pool_create(PAGE_SHIFT, -1, new Set(faults));
  gen_pool_add_virt(pool, BASE, PHYS, BigInt(pages) * PG, -1);
  return pool;
}

/** A pool with every page allocated, then the listed pages freed again. */
function poolWithHoles(pages: number, free: number[], faults: readonly string[] = []): GenPool {
  const pool = pagePool(pages, faults);
  const addrs = Array.from({ length: pages }, () => gen_pool_alloc(pool, PG));
  for (const i of free) gen_pool_free(pool, addrs[i], PG);
  return pool;
}

const FIRST_FIT = [
  '    gen_pool_first_fit',
  '      bitmap_find_next_zero_area',
  '        bitmap_find_next_zero_area_off',
  '    bitmap_set_ll',
];
const indent = (lines: string[], n: number) => lines.map((l) => '  '.repeat(n) + l);

describe('trace: every kernel-named genalloc function enters under its name and exits', () => {
  const cases: [string, (p: GenPool) => unknown, string[]][] = [
    ['gen_pool_create', () => gen_pool_create(PAGE_SHIFT, -1), ['gen_pool_create']],
    [
      'gen_pool_add',
      (p) => gen_pool_add(p, 0x1000_0000n, PG, -1),
      ['gen_pool_add', '  gen_pool_add_virt', '    gen_pool_add_owner'],
    ],
    ['gen_pool_add_owner', (p) => gen_pool_add_owner(p, 0x1000_0000n, 0n, PG, -1, 'o'), ['gen_pool_add_owner']],
    ['gen_pool_alloc', (p) => gen_pool_alloc(p, PG), ['gen_pool_alloc', '  gen_pool_alloc_algo_owner', ...FIRST_FIT]],
    [
      'gen_pool_alloc_owner',
      (p) => gen_pool_alloc_owner(p, PG, { owner: 1 }),
      ['gen_pool_alloc_owner', '  gen_pool_alloc_algo_owner', ...FIRST_FIT],
    ],
    [
      'gen_pool_alloc_algo (best fit, one hole)',
      (p) => gen_pool_alloc_algo(p, PG, gen_pool_best_fit, null),
      [
        'gen_pool_alloc_algo',
        '  gen_pool_alloc_algo_owner',
        '    gen_pool_best_fit',
        '      bitmap_find_next_zero_area',
        '        bitmap_find_next_zero_area_off',
        '      bitmap_find_next_zero_area',
        '        bitmap_find_next_zero_area_off',
        '    bitmap_set_ll',
      ],
    ],
    [
      'gen_pool_dma_alloc',
      (p) => gen_pool_dma_alloc(p, PG, { dma: 0n }),
      [
        'gen_pool_dma_alloc',
        '  gen_pool_dma_alloc_algo',
        '    gen_pool_alloc_algo',
        '      gen_pool_alloc_algo_owner',
        ...indent(FIRST_FIT, 2),
        '    gen_pool_virt_to_phys',
      ],
    ],
    [
      'gen_pool_dma_alloc_align',
      (p) => gen_pool_dma_alloc_align(p, PG, { dma: 0n }, 2 * Number(PG)),
      [
        'gen_pool_dma_alloc_align',
        '  gen_pool_dma_alloc_algo',
        '    gen_pool_alloc_algo',
        '      gen_pool_alloc_algo_owner',
        '        gen_pool_first_fit_align',
        '          bitmap_find_next_zero_area_off',
        '        bitmap_set_ll',
        '    gen_pool_virt_to_phys',
      ],
    ],
    [
      'gen_pool_fixed_alloc',
      (p) => gen_pool_alloc_algo(p, PG, gen_pool_fixed_alloc, { offset: Number(PG) }),
      [
        'gen_pool_alloc_algo',
        '  gen_pool_alloc_algo_owner',
        '    gen_pool_fixed_alloc',
        '      bitmap_find_next_zero_area',
        '        bitmap_find_next_zero_area_off',
        '    bitmap_set_ll',
      ],
    ],
    [
      'gen_pool_first_fit_order_align',
      (p) => gen_pool_alloc_algo(p, PG, gen_pool_first_fit_order_align, null),
      [
        'gen_pool_alloc_algo',
        '  gen_pool_alloc_algo_owner',
        '    gen_pool_first_fit_order_align',
        '      bitmap_find_next_zero_area',
        '        bitmap_find_next_zero_area_off',
        '    bitmap_set_ll',
      ],
    ],
    [
      'gen_pool_free',
      (p) => gen_pool_free(p, BASE + 3n * PG, PG),
      ['gen_pool_free', '  gen_pool_free_owner', '    bitmap_clear_ll'],
    ],
    ['gen_pool_for_each_chunk', (p) => gen_pool_for_each_chunk(p, () => {}), ['gen_pool_for_each_chunk']],
    ['gen_pool_has_addr', (p) => gen_pool_has_addr(p, BASE, PG), ['gen_pool_has_addr']],
    ['gen_pool_avail', (p) => gen_pool_avail(p), ['gen_pool_avail']],
    ['gen_pool_size', (p) => gen_pool_size(p), ['gen_pool_size']],
    ['gen_pool_set_algo', (p) => gen_pool_set_algo(p, null, null), ['gen_pool_set_algo']],
    ['gen_pool_virt_to_phys', (p) => gen_pool_virt_to_phys(p, BASE), ['gen_pool_virt_to_phys']],
    [
      'gen_pool_destroy',
      (p) => {
        gen_pool_free(p, BASE + 3n * PG, PG);
        gen_pool_destroy(p);
      },
      ['gen_pool_free', '  gen_pool_free_owner', '    bitmap_clear_ll', 'gen_pool_destroy', '  find_next_bit'],
    ],
  ];
  for (const [name, fn, calls] of cases) {
    it(name, () => {
      const pool = pagePool(4);
      gen_pool_alloc_algo(pool, PG, gen_pool_fixed_alloc, { offset: 3 * Number(PG) }); // page 3 in use
      const r = traceCalls(() => fn(pool));
      expect(r.calls).toEqual(calls);
      expect(r.depthAfter).toBe(0);
    });
  }
});

describe('branch notes', () => {
  it('5.10 notes the int overflow of nbits << order only when it happens', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1, new Set(), '5.10');
    gen_pool_add(pool, 0x100_0000n, 8n << 30n, -1);
    expect(traceCalls(() => gen_pool_alloc(pool, PG)).notes).toEqual([]);
    expect(traceCalls(() => gen_pool_alloc(pool, 2n << 30n)).notes).toEqual(['5.10: nbits << order overflowed int']);
  });

  it('a chunk with enough avail but no run long enough notes "no room in chunk"', () => {
    const pool = poolWithHoles(4, [0, 2]);
    const r = traceCalls(() => gen_pool_alloc(pool, 2n * PG));
    expect(r.result).toBe(0n);
    expect(r.notes).toEqual(['no area: end > size', 'no room in chunk']);
  });

  it('genalloc-avail-not-decremented is noted', () => {
    const pool = pagePool(4, ['genalloc-avail-not-decremented']);
    expect(traceCalls(() => gen_pool_alloc(pool, PG)).notes).toEqual(['fault: avail not decremented']);
  });

  it('fixed alloc at a busy offset notes "offset busy"', () => {
    const pool = poolWithHoles(4, [2]);
    const r = traceCalls(() => gen_pool_alloc_algo(pool, PG, gen_pool_fixed_alloc, { offset: Number(PG) }));
    expect(r.result).toBe(0n);
    expect(r.notes).toEqual(['offset busy', 'no room in chunk']);
  });

  it('genalloc-order-align-mask is noted, and uses nr - 1 (a 2-unit request aligns to 2, as the correct mask does)', () => {
    const pool = pagePool(16, ['genalloc-order-align-mask']);
    gen_pool_set_algo(pool, gen_pool_first_fit_order_align, null);
    gen_pool_alloc(pool, PG);
    const r = traceCalls(() => gen_pool_alloc(pool, 2n * PG));
    expect(r.result).toBe(BASE + 2n * PG); // mask 1: (1 + 1) & ~1 = 2
    expect(r.notes).toEqual(['fault: align mask nr - 1']);
  });

  it('virt_to_phys of an address in no chunk notes it and returns all ones', () => {
    const r = traceCalls(() => gen_pool_virt_to_phys(pagePool(4), BASE - 1n));
    expect(r.result).toBe(0xffff_ffff_ffff_ffffn);
    expect(r.notes).toEqual(['address in no chunk']);
  });
});

describe('gen_pool_create / gen_pool_add_owner argument limits (model misuse)', () => {
  it('gen_pool_create defaults to the 6.6 arithmetic and takes orders 0..40 only', () => {
    expect(gen_pool_create(PAGE_SHIFT, -1).kernel).toBe('6.6');
    expect(gen_pool_create(0, -1).min_alloc_order).toBe(0);
    expect(gen_pool_create(40, -1).min_alloc_order).toBe(40);
    for (const bad of [-1, 41, 1.5]) {
      expect(() => gen_pool_create(bad, -1)).toThrow(`gen_pool_create: min_alloc_order ${bad} outside 0..40`);
    }
  });

  it('gen_pool_add_owner refuses a negative size or address; zero is fine', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1);
    expect(() => gen_pool_add_owner(pool, BASE, 0n, -PG, -1, null)).toThrow('negative address or size');
    expect(() => gen_pool_add_owner(pool, -PG, 0n, PG, -1, null)).toThrow(ModelError);
    expect(gen_pool_add_owner(pool, 0n, 0n, PG, -1, null)).toBe(0);
    expect(gen_pool_add_owner(pool, BASE, 0n, 0n, -1, null)).toBe(0);
    expect(pool.chunks.map((c) => c.nbits)).toEqual([0, 1]);
  });

  it('gen_pool_add_owner takes up to BITMAP_MAX_BITS units per chunk', () => {
    const pool = gen_pool_create(0, -1);
    expect(gen_pool_add_owner(pool, 0n, 0n, BigInt(BITMAP_MAX_BITS), -1, null)).toBe(0);
    expect(pool.chunks[0].nbits).toBe(BITMAP_MAX_BITS);
    expect(() => gen_pool_add_owner(pool, 0n, 0n, BigInt(BITMAP_MAX_BITS) + 1n, -1, null)).toThrow(
      "2147483648 bits exceed the model's bitmap limit",
    );
  });
});

describe('algorithm data checks (model misuse)', () => {
  it('gen_pool_first_fit_align needs an int align in 1..2^31-1', () => {
    const bad: unknown[] = [null, {}, { align: 0 }, { align: 1.5 }, { align: 2 ** 31 }, { align: '4096' }];
    for (const data of bad) {
      const pool = pagePool(4);
      expect(() => gen_pool_alloc_algo(pool, PG, gen_pool_first_fit_align, data), JSON.stringify(data)).toThrow(
        /^gen_pool_first_fit_align: align .* must be an int >= 1$/,
      );
    }
    // BASE is 2^31-aligned, so the largest int alignment still lands on the first page.
    expect(gen_pool_dma_alloc_align(pagePool(4), PG, null, 0x7fffffff)).toBe(BASE);
  });

  it('gen_pool_fixed_alloc needs a non-negative integer offset', () => {
    const bad: unknown[] = [null, {}, { offset: -1 }, { offset: -Number(PG) }, { offset: 1.5 }, { offset: '0' }];
    for (const data of bad) {
      const pool = pagePool(4);
      expect(() => gen_pool_alloc_algo(pool, PG, gen_pool_fixed_alloc, data), JSON.stringify(data)).toThrow(
        /^gen_pool_fixed_alloc: offset .* must be a non-negative integer$/,
      );
    }
    expect(gen_pool_alloc_algo(pagePool(4), PG, gen_pool_fixed_alloc, { offset: 0 })).toBe(BASE);
  });

  it('an algorithm that returns busy bits is model misuse (the kernel would livelock)', () => {
    const always0: GenpoolAlgo = () => 0;
    const pool = pagePool(4);
    expect(gen_pool_alloc_algo(pool, PG, always0, null)).toBe(BASE);
    expect(() => gen_pool_alloc_algo(pool, PG, always0, null)).toThrow('gen_pool algorithm always0 returned busy bits at 0');
    // partly busy counts too: bit 0 is taken, bit 1 is free
    expect(() => gen_pool_alloc_algo(pool, 2n * PG, always0, null)).toThrow(ModelError);
    expect(gen_pool_avail(pool)).toBe(3n * PG);
  });
});

describe('gen_pool_free_owner', () => {
  it('clears the owner before it BUGs, and each BUG names its reason', () => {
    const pool = pagePool(4);
    const a = gen_pool_alloc(pool, 2n * PG);
    const out: OwnerOut = { owner: 'stale' };
    expect(() => gen_pool_free_owner(pool, BASE + 4n * PG, PG, out)).toThrow(/is in no chunk of the pool$/);
    expect(out.owner).toBeNull();
    expect(() => gen_pool_free_owner(pool, BASE + 3n * PG, 2n * PG)).toThrow(/runs past chunk end 0x/);
    expect(() => gen_pool_free_owner(pool, BASE + 2n * PG, PG)).toThrow(/frees bits that are not allocated$/);
    gen_pool_free_owner(pool, a, 2n * PG, out);
    expect(out.owner).toBeNull();
  });

  it('frees in an older chunk that lies above the newest one', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1);
    gen_pool_add_owner(pool, 0x10_0000n, 0n, PG, -1, 'high'); // older
    gen_pool_add_owner(pool, 0x0_1000n, 0n, PG, -1, 'low'); // newest, checked first
    const low = gen_pool_alloc(pool, PG);
    const high = gen_pool_alloc(pool, PG);
    expect([low, high]).toEqual([0x1000n, 0x10_0000n]);
    const out: OwnerOut = { owner: null };
    gen_pool_free_owner(pool, high, PG, out);
    expect(out.owner).toBe('high');
    expect(gen_pool_avail(pool)).toBe(PG);
  });

  it('frees the last unit of a chunk (addr == end_addr)', () => {
    const pool = gen_pool_create(0, -1);
    gen_pool_add(pool, 0x100n, 16n, -1);
    expect(gen_pool_alloc(pool, 16n)).toBe(0x100n);
    gen_pool_free(pool, 0x10fn, 1n);
    expect(gen_pool_avail(pool)).toBe(1n);
    expect(gen_pool_alloc(pool, 1n)).toBe(0x10fn);
  });
});

describe('gen_pool_destroy', () => {
  it('BUGs naming the chunk and the first bit still allocated', () => {
    const pool = pagePool(4);
    gen_pool_alloc_algo(pool, PG, gen_pool_fixed_alloc, { offset: 2 * Number(PG) });
    expect(() => gen_pool_destroy(pool)).toThrow(/gen_pool_destroy: chunk at 0x[0-9a-f]+ still has bit 2 allocated$/);
  });
});

describe('gen_pool_has_addr at the chunk end', () => {
  it('the last byte is in; a zero-size range just past the end is not', () => {
    const pool = gen_pool_create(0, -1);
    gen_pool_add(pool, 0x100n, 16n, -1);
    expect(gen_pool_has_addr(pool, 0x10fn, 1n)).toBe(true);
    expect(gen_pool_has_addr(pool, 0x110n, 0n)).toBe(false);
  });
});

describe('gen_pool_best_fit ties', () => {
  it('of two equal holes larger than the request, the first wins', () => {
    // holes: [1..3] and [6..8], both 3 pages; a 2-page request fits neither exactly
    const pool = poolWithHoles(12, [1, 2, 3, 6, 7, 8]);
    gen_pool_set_algo(pool, gen_pool_best_fit, null);
    expect(gen_pool_alloc(pool, 2n * PG)).toBe(BASE + PG);
  });

  it('an exact fit ends the search: a later candidate cannot replace it (even one the off-by-one fault makes shorter)', () => {
    // lib/genalloc.c gen_pool_best_fit (5.10, 6.6): `if (len == nr) return start_bit;`. Under
    // bitmap-area-end-off-by-one the last free page is a 2-page candidate running one bit past
    // the map; find_next_bit then measures it as 1 page, shorter than any real fit.
    const pool = poolWithHoles(8, [1, 2, 7], ['bitmap-area-end-off-by-one']);
    gen_pool_set_algo(pool, gen_pool_best_fit, null);
    expect(gen_pool_alloc(pool, 2n * PG)).toBe(BASE + PG);
  });

  it('a candidate starting at the end of the map is not looked at (`while (index < size)`)', () => {
    // Under bitmap-area-end-off-by-one a 1-page candidate may start exactly at size; the loop
    // stops before it, so the 2-page hole found first is still the answer.
    const pool = poolWithHoles(8, [1, 2], ['bitmap-area-end-off-by-one']);
    gen_pool_set_algo(pool, gen_pool_best_fit, null);
    expect(gen_pool_alloc(pool, PG)).toBe(BASE + PG);
  });
});
