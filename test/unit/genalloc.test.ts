import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  chunk_size,
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
  gen_pool_first_fit,
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
} from '../../reference/lib/genalloc.ts';
import type { GenPool, GenpoolDataAlign, GenpoolDataFixed } from '../../reference/lib/genalloc.ts';
import { find_next_bit, find_next_zero_bit, test_bit } from '../../reference/lib/bitmap.ts';
import { KernelBug, ModelError, PAGE_SHIFT, U64_MAX } from '../../reference/types.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';

const PG = 4096n;
const BASE = 0xffff_ffd8_0000_0000n;

function pagePool(pages: number, faults: readonly string[] = [], base = BASE): GenPool {
  const pool = gen_pool_create(PAGE_SHIFT, -1, new Set(faults));
  expect(gen_pool_add_virt(pool, base, 0x8000_0000n, BigInt(pages) * PG, -1)).toBe(0);
  return pool;
}

function notes(fn: () => void): string[] {
  const t = new Tracer();
  setTracer(t);
  try {
    fn();
  } finally {
    setTracer(null);
  }
  return t.events.filter((e) => e.fn === '#').map((e) => e.detail ?? '');
}

describe('gen_pool basics', () => {
  it('creates an empty first-fit pool and adds a chunk at the head', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1);
    expect(pool.algo).toBe(gen_pool_first_fit);
    expect(pool.data).toBeNull();
    expect(pool.name).toBeNull();
    expect(pool.chunks).toEqual([]);
    expect(gen_pool_size(pool)).toBe(0n);
    gen_pool_add_virt(pool, 0x1000_0000n, 0x8000_0000n, 16n * PG, -1);
    gen_pool_add_virt(pool, 0x2000_0000n, 0x9000_0000n, 8n * PG, -1);
    expect(pool.chunks.map((c) => c.start_addr)).toEqual([0x2000_0000n, 0x1000_0000n]);
    const c = pool.chunks[0];
    expect(c.end_addr).toBe(0x2000_0000n + 8n * PG - 1n);
    expect(chunk_size(c)).toBe(8n * PG);
    expect(c.nbits).toBe(8);
    expect(gen_pool_size(pool)).toBe(24n * PG);
    expect(gen_pool_avail(pool)).toBe(24n * PG);
    const seen: bigint[] = [];
    gen_pool_for_each_chunk(pool, (_p, ch, acc: bigint[]) => acc.push(ch.start_addr), seen);
    expect(seen).toEqual([0x2000_0000n, 0x1000_0000n]);
  });

  it('gen_pool_add records phys as all ones', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1);
    gen_pool_add(pool, 0x1000_0000n, 4n * PG, -1);
    expect(pool.chunks[0].phys_addr).toBe(U64_MAX);
    expect(gen_pool_virt_to_phys(pool, 0x1000_0000n)).toBe(U64_MAX);
    // phys_addr_t arithmetic wraps
    expect(gen_pool_virt_to_phys(pool, 0x1000_0010n)).toBe(0xfn);
  });

  it('size 0 allocates nothing and clears the owner', () => {
    const pool = pagePool(4);
    const out = { owner: 'stale' as unknown };
    expect(gen_pool_alloc_owner(pool, 0n, out)).toBe(0n);
    expect(out.owner).toBeNull();
    expect(gen_pool_avail(pool)).toBe(4n * PG);
  });

  it('reports the chunk owner', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1);
    gen_pool_add_owner(pool, 0x1000_0000n, 0x8000_0000n, 4n * PG, -1, 'ownerA');
    const out = { owner: null as unknown };
    const a = gen_pool_alloc_owner(pool, PG, out);
    expect(a).toBe(0x1000_0000n);
    expect(out.owner).toBe('ownerA');
    const fo = { owner: null as unknown };
    gen_pool_free_owner(pool, a, PG, fo);
    expect(fo.owner).toBe('ownerA');
  });

  it('rounds to min_alloc_order units but keeps avail unrounded', () => {
    const pool = gen_pool_create(8, -1); // 256-byte units
    gen_pool_add_virt(pool, 0x4000n, 0n, 1000n, -1); // 3 whole units, avail 1000
    expect(pool.chunks[0].nbits).toBe(3);
    expect(gen_pool_avail(pool)).toBe(1000n);
    expect(gen_pool_size(pool)).toBe(1000n);
    expect(gen_pool_alloc(pool, 1n)).toBe(0x4000n);
    expect(gen_pool_avail(pool)).toBe(1000n - 256n);
    expect(gen_pool_alloc(pool, 257n)).toBe(0x4100n);
    expect(gen_pool_avail(pool)).toBe(1000n - 768n);
    // 232 bytes avail; 200 fits the avail test but no unit is left (the tail 232 bytes are no unit)
    expect(gen_pool_alloc(pool, 200n)).toBe(0n);
    gen_pool_free(pool, 0x4100n, 257n);
    expect(gen_pool_avail(pool)).toBe(1000n - 256n);
  });

  it('gen_pool_set_algo(null) restores first fit', () => {
    const pool = pagePool(4);
    gen_pool_set_algo(pool, gen_pool_best_fit, null);
    expect(pool.algo).toBe(gen_pool_best_fit);
    gen_pool_set_algo(pool, null, { x: 1 });
    expect(pool.algo).toBe(gen_pool_first_fit);
    expect(pool.data).toEqual({ x: 1 });
  });
});

describe('multi-chunk pools', () => {
  it('allocates from the newest chunk first, then older ones', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1);
    gen_pool_add_virt(pool, 0x1000_0000n, 0n, 2n * PG, -1); // A
    gen_pool_add_virt(pool, 0x2000_0000n, 0n, 2n * PG, -1); // B, newest
    expect(gen_pool_alloc(pool, PG)).toBe(0x2000_0000n);
    expect(gen_pool_alloc(pool, PG)).toBe(0x2000_1000n);
    expect(gen_pool_alloc(pool, PG)).toBe(0x1000_0000n);
    expect(gen_pool_alloc(pool, 2n * PG)).toBe(0n);
  });

  it('skips a chunk whose avail is below the unrounded size', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1);
    gen_pool_add_virt(pool, 0x1000_0000n, 0n, 4n * PG, -1); // A
    gen_pool_add_virt(pool, 0x2000_0000n, 0n, 2n * PG, -1); // B
    expect(gen_pool_alloc(pool, PG)).toBe(0x2000_0000n); // B avail now 4096
    let addr = 0n;
    const n = notes(() => {
      addr = gen_pool_alloc(pool, PG + 1n);
    });
    expect(addr).toBe(0x1000_0000n);
    expect(n).toContain('skip chunk: size > avail');
    // size == avail is not skipped
    expect(gen_pool_alloc(pool, PG)).toBe(0x2000_1000n);
  });

  it('moves on when the algorithm finds no room even though avail suffices', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1);
    gen_pool_add_virt(pool, 0x1000_0000n, 0n, 4n * PG, -1); // A
    gen_pool_add_virt(pool, 0x2000_0000n, 0n, 4n * PG, -1); // B
    const b1 = gen_pool_alloc(pool, PG);
    gen_pool_alloc(pool, PG);
    gen_pool_alloc(pool, PG);
    gen_pool_free(pool, b1, PG); // B: free pages 0 and 3, avail 2 pages, not contiguous
    expect(gen_pool_alloc(pool, 2n * PG)).toBe(0x1000_0000n);
  });
});

describe('gen_pool_first_fit_order_align', () => {
  it('spec §13 example 4: a 3-page request lands on a multiple of 4', () => {
    const pool = pagePool(16);
    gen_pool_set_algo(pool, gen_pool_first_fit_order_align, null);
    expect(gen_pool_alloc(pool, PG)).toBe(BASE);
    const a = gen_pool_alloc(pool, 3n * PG);
    expect(a).toBe(BASE + 4n * PG);
    const bits = pool.chunks[0].bits;
    expect([4, 5, 6, 7].map((i) => test_bit(i, bits))).toEqual([true, true, true, false]);
    expect(gen_pool_avail(pool)).toBe(12n * PG);
    // 1-page requests fill the gaps, bit 1 first; bit 7 stays usable
    expect(gen_pool_alloc(pool, PG)).toBe(BASE + PG);
    expect(gen_pool_alloc(pool, 2n * PG)).toBe(BASE + 2n * PG);
    expect(gen_pool_alloc(pool, PG)).toBe(BASE + 7n * PG);
  });

  it('aligns relative to the chunk, not the absolute address', () => {
    const pool = pagePool(16, [], 0x1000_1000n);
    gen_pool_set_algo(pool, gen_pool_first_fit_order_align, null);
    const a = gen_pool_alloc(pool, 4n * PG);
    expect(a).toBe(0x1000_1000n);
    expect(a % (4n * PG)).not.toBe(0n);
  });

  it('fault genalloc-order-align-mask uses nr - 1 as the mask', () => {
    const pool = pagePool(16, ['genalloc-order-align-mask']);
    gen_pool_set_algo(pool, gen_pool_first_fit_order_align, null);
    gen_pool_alloc(pool, PG);
    // mask 2: (1 + 2) & ~2 = 1, so the 3-page block starts at bit 1
    expect(gen_pool_alloc(pool, 3n * PG)).toBe(BASE + PG);
  });

  it('order alignment holds for random request sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 20 }), (reqs) => {
        const pool = pagePool(64);
        gen_pool_set_algo(pool, gen_pool_first_fit_order_align, null);
        let used = 0n;
        for (const r of reqs) {
          const a = gen_pool_alloc(pool, BigInt(r) * PG);
          if (a === 0n) continue;
          used += BigInt(r) * PG;
          const idx = Number((a - BASE) / PG);
          const p2 = 2 ** Math.ceil(Math.log2(r));
          expect(idx % p2).toBe(0);
        }
        expect(gen_pool_avail(pool)).toBe(64n * PG - used);
      }),
      { numRuns: 100 },
    );
  });
});

describe('gen_pool_first_fit_align', () => {
  it('aligns the absolute address when the chunk start is unaligned', () => {
    const pool = pagePool(16, [], 0x1000_1000n);
    const data: GenpoolDataAlign = { align: 0x4000 };
    // align_mask 3, align_off (0x10001000 & 0x3fff) >> 12 = 1: bit 3 is 0x10004000
    const a = gen_pool_alloc_algo(pool, PG, gen_pool_first_fit_align, data);
    expect(a).toBe(0x1000_4000n);
    expect(a % 0x4000n).toBe(0n);
    const b = gen_pool_alloc_algo(pool, PG, gen_pool_first_fit_align, data);
    expect(b).toBe(0x1000_8000n);
  });

  it('rounds a sub-unit alignment up to one unit', () => {
    const pool = pagePool(4);
    expect(gen_pool_alloc_algo(pool, 10n, gen_pool_first_fit_align, { align: 16 })).toBe(BASE);
    expect(gen_pool_alloc_algo(pool, 10n, gen_pool_first_fit_align, { align: 16 })).toBe(BASE + PG);
  });

  it('gen_pool_dma_alloc_align returns the address and its phys', () => {
    const pool = pagePool(16, [], 0x1000_1000n);
    const dma = { dma: 0n };
    const a = gen_pool_dma_alloc_align(pool, 2n * PG, dma, 0x8000);
    expect(a).toBe(0x1000_8000n);
    expect(dma.dma).toBe(0x8000_0000n + 0x7000n);
    expect(gen_pool_dma_alloc_align(null, PG, dma, 0x1000)).toBeNull();
  });

  it('refuses a non-positive alignment as model misuse', () => {
    const pool = pagePool(4);
    expect(() => gen_pool_alloc_algo(pool, PG, gen_pool_first_fit_align, { align: 0 })).toThrow(ModelError);
  });
});

describe('gen_pool_fixed_alloc', () => {
  it('allocates exactly at the offset, fails when busy, WARNs on a partial unit', () => {
    const pool = pagePool(8);
    const at2: GenpoolDataFixed = { offset: 0x2000 };
    expect(gen_pool_alloc_algo(pool, 2n * PG, gen_pool_fixed_alloc, at2)).toBe(BASE + 0x2000n);
    // same spot again: busy, so first fit lands elsewhere and fixed_alloc fails
    expect(gen_pool_alloc_algo(pool, PG, gen_pool_fixed_alloc, at2)).toBe(0n);
    expect(gen_pool_alloc_algo(pool, PG, gen_pool_fixed_alloc, { offset: 0x3000 })).toBe(0n);
    expect(gen_pool_alloc_algo(pool, PG, gen_pool_fixed_alloc, { offset: 0 })).toBe(BASE);
    // runs off the end
    expect(gen_pool_alloc_algo(pool, 2n * PG, gen_pool_fixed_alloc, { offset: 0x7000 })).toBe(0n);
    let r = -1n;
    const n = notes(() => {
      r = gen_pool_alloc_algo(pool, PG, gen_pool_fixed_alloc, { offset: 0x4800 });
    });
    expect(r).toBe(0n);
    expect(n.some((s) => s.startsWith('WARN_ON'))).toBe(true);
    expect(gen_pool_avail(pool)).toBe(5n * PG);
  });
});

describe('gen_pool_best_fit', () => {
  it('picks the smallest hole that fits', () => {
    const pool = pagePool(16);
    const pages = [...Array(16).keys()].map((i) => gen_pool_alloc(pool, PG));
    // holes: [1..3] (3 pages), [6..7] (2 pages), [10..14] (5 pages)
    for (const i of [1, 2, 3, 6, 7, 10, 11, 12, 13, 14]) gen_pool_free(pool, pages[i], PG);
    gen_pool_set_algo(pool, gen_pool_best_fit, null);
    expect(gen_pool_alloc(pool, 2n * PG)).toBe(BASE + 6n * PG); // exact fit
    expect(gen_pool_alloc(pool, 2n * PG)).toBe(BASE + 1n * PG); // 3-hole beats 5-hole
    expect(gen_pool_alloc(pool, 4n * PG)).toBe(BASE + 10n * PG);
    expect(gen_pool_alloc(pool, 2n * PG)).toBe(0n);
    expect(gen_pool_alloc(pool, PG)).toBe(BASE + 3n * PG); // both 1-holes equal: the first wins
  });

  it('a hole running to the end of the map counts to the map end', () => {
    const pool = pagePool(10);
    const a = gen_pool_alloc(pool, 4n * PG);
    gen_pool_alloc(pool, PG);
    gen_pool_free(pool, a, 4n * PG); // holes: [0..3] (4), [5..9] (5)
    gen_pool_set_algo(pool, gen_pool_best_fit, null);
    expect(gen_pool_alloc(pool, 3n * PG)).toBe(BASE);
  });
});

describe('gen_pool_free and lookups', () => {
  it('virt_to_phys maps through the chunk and misses to all ones', () => {
    const pool = gen_pool_create(PAGE_SHIFT, -1);
    gen_pool_add_virt(pool, BASE, 0x8000_0000n, 16n * PG, -1);
    expect(gen_pool_virt_to_phys(pool, BASE + 0x1234n)).toBe(0x8000_1234n);
    expect(gen_pool_virt_to_phys(pool, BASE + 16n * PG - 1n)).toBe(0x8000_ffffn);
    expect(gen_pool_virt_to_phys(pool, BASE + 16n * PG)).toBe(U64_MAX);
    expect(gen_pool_virt_to_phys(pool, BASE - 1n)).toBe(U64_MAX);
    const dma = { dma: 0n };
    expect(gen_pool_dma_alloc(pool, 5000n, dma)).toBe(BASE);
    expect(dma.dma).toBe(0x8000_0000n);
    expect(gen_pool_dma_alloc(pool, 5000n, null)).toBe(BASE + 2n * PG);
    expect(gen_pool_dma_alloc(pool, 100n * PG, dma)).toBeNull();
  });

  it('has_addr needs the whole range inside one chunk', () => {
    const pool = pagePool(4);
    expect(gen_pool_has_addr(pool, BASE, 4n * PG)).toBe(true);
    expect(gen_pool_has_addr(pool, BASE + PG, 3n * PG)).toBe(true);
    expect(gen_pool_has_addr(pool, BASE + PG, 3n * PG + 1n)).toBe(false);
    expect(gen_pool_has_addr(pool, BASE - 1n, 2n)).toBe(false);
    expect(gen_pool_has_addr(pool, BASE + 4n * PG, 1n)).toBe(false);
  });

  it('BUGs on a free outside every chunk, past the chunk end, or of free bits', () => {
    const pool = pagePool(4);
    const a = gen_pool_alloc(pool, 2n * PG);
    expect(() => gen_pool_free(pool, BASE + 4n * PG, PG)).toThrow(KernelBug);
    expect(() => gen_pool_free(pool, BASE + 3n * PG, 2n * PG)).toThrow(KernelBug);
    expect(() => gen_pool_free(pool, BASE + 2n * PG, PG)).toThrow(KernelBug);
    gen_pool_free(pool, a, 2n * PG);
    expect(gen_pool_avail(pool)).toBe(4n * PG);
    expect(() => gen_pool_free(pool, a, PG)).toThrow(KernelBug);
  });

  it('a smaller free leaks the tail bits (spec H3)', () => {
    const pool = pagePool(4);
    const a = gen_pool_alloc(pool, 2n * PG);
    gen_pool_free(pool, a, PG);
    expect(test_bit(1, pool.chunks[0].bits)).toBe(true);
    expect(gen_pool_avail(pool)).toBe(3n * PG);
  });

  it('destroy BUGs while anything is allocated', () => {
    const pool = pagePool(4);
    const a = gen_pool_alloc(pool, PG);
    expect(() => gen_pool_destroy(pool)).toThrow(KernelBug);
    const pool2 = pagePool(4);
    const b = gen_pool_alloc(pool2, PG);
    gen_pool_free(pool2, b, PG);
    gen_pool_destroy(pool2);
    expect(pool2.chunks).toEqual([]);
    expect(a).toBe(BASE);
  });
});

describe('faults', () => {
  it('genalloc-avail-not-decremented leaves avail unchanged on alloc', () => {
    const good = pagePool(8);
    const bad = pagePool(8, ['genalloc-avail-not-decremented']);
    const a = gen_pool_alloc(good, 3n * PG);
    const b = gen_pool_alloc(bad, 3n * PG);
    expect(a).toBe(b);
    expect(gen_pool_avail(good)).toBe(5n * PG);
    expect(gen_pool_avail(bad)).toBe(8n * PG);
    gen_pool_free(bad, b, 3n * PG);
    expect(gen_pool_avail(bad)).toBe(11n * PG); // more than the pool holds
    expect(gen_pool_size(bad)).toBe(8n * PG);
  });

  it('bitmap-area-end-off-by-one hands out one unit past the chunk end', () => {
    const good = pagePool(8);
    const bad = pagePool(8, ['bitmap-area-end-off-by-one']);
    for (const pool of [good, bad]) {
      const first = gen_pool_alloc(pool, PG);
      gen_pool_alloc(pool, 3n * PG);
      gen_pool_free(pool, first, PG); // holes: page 0, pages 4..7; avail 5 pages
    }
    expect(gen_pool_alloc(good, 5n * PG)).toBe(0n);
    const a = gen_pool_alloc(bad, 5n * PG);
    expect(a).toBe(BASE + 4n * PG);
    expect(a + 5n * PG - 1n).toBeGreaterThan(bad.chunks[0].end_addr);
    expect(() => gen_pool_free(bad, a, 5n * PG)).toThrow(KernelBug);
  });
});

describe('5.10 int nbits overflow (historic bug D2)', () => {
  function bigPool(kernel: '5.10' | '6.6'): GenPool {
    const pool = gen_pool_create(PAGE_SHIFT, -1, new Set(), kernel);
    gen_pool_add(pool, 0x100_0000n, 32n << 30n, -1);
    return pool;
  }

  it('6.6 accounts a 4 GiB allocation exactly', () => {
    const pool = bigPool('6.6');
    expect(gen_pool_alloc(pool, 4n << 30n)).toBe(0x100_0000n);
    expect(gen_pool_avail(pool)).toBe(28n << 30n);
  });

  it('5.10 truncates 2^32 to 0 and turns 2^31 into an increase', () => {
    const pool = bigPool('5.10');
    const a = gen_pool_alloc(pool, 4n << 30n);
    expect(a).toBe(0x100_0000n);
    expect(gen_pool_avail(pool)).toBe(32n << 30n);
    const b = gen_pool_alloc(pool, 2n << 30n);
    expect(b).toBe(0x100_0000n + (4n << 30n));
    expect(gen_pool_avail(pool)).toBe(34n << 30n);
    // frees compute the same wrong amounts, so the books balance again
    gen_pool_free(pool, b, 2n << 30n);
    gen_pool_free(pool, a, 4n << 30n);
    expect(gen_pool_avail(pool)).toBe(32n << 30n);
    expect(find_next_bit(pool.chunks[0].bits, pool.chunks[0].nbits, 0)).toBe(pool.chunks[0].nbits);
  });

  it('small allocations agree between versions', () => {
    const p5 = bigPool('5.10');
    const p6 = bigPool('6.6');
    gen_pool_alloc(p5, 1n << 30n);
    gen_pool_alloc(p6, 1n << 30n);
    expect(gen_pool_avail(p5)).toBe(gen_pool_avail(p6));
    expect(find_next_zero_bit(p5.chunks[0].bits, p5.chunks[0].nbits, 0)).toBe(1 << 18);
  });
});
