// The CMA oracle on its own (the D4b layout, the alignment cap, release), and
// the alloc harness's refinement clause that feeds it every request the DMA
// layer makes of a CMA area.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CmaAreaOracle, pageOrder } from '../../model/oracle/cma-oracle.ts';
import { allocHarness, type AllocOp } from '../../model/harnesses/alloc.ts';
import { runSequence } from '../../model/harness.ts';
import { findProfile, faultProfile } from '../../reference/config/profiles.ts';
import { cmaObject, cma_alloc, cma_release } from '../../reference/mm/cma.ts';
import { bitmapAlloc } from '../../reference/lib/bitmap.ts';
import type { Machine } from '../../reference/system.ts';

const MiB = 1n << 20n;

describe('pageOrder (get_order)', () => {
  it('is the smallest order whose pages hold the size', () => {
    expect([1n, 4096n, 4097n, 8192n, 16n * MiB, 16n * MiB + 1n].map(pageOrder)).toEqual([0, 0, 1, 1, 12, 13]);
  });
});

describe('CmaAreaOracle', () => {
  it('D4b layout: base 4 MiB past a 16 MiB boundary, 16 MiB request, cap 12 -> the 16 MiB-aligned pfn 0xb9000', () => {
    const o = new CmaAreaOracle(0xb8400, 0x4000, 0, 12);
    expect(o.allocAligned(16n * MiB)).toBe(0xb9000);
    // The hole before it still serves requests that need less alignment.
    expect(o.allocAligned(4n * MiB)).toBe(0xb8400);
    expect(o.allocAligned(8n * MiB)).toBe(0xb8800); // 8 MiB-aligned: fits between them
    expect(o.allocAligned(8n * MiB)).toBe(0xba000);
  });

  it('caps the alignment at CONFIG_CMA_ALIGNMENT for both entry points', () => {
    const o = new CmaAreaOracle(0x200000, 0x4000, 0, 8);
    expect(o.allocAligned(68n * 1024n)).toBe(0x200000); // 17 pages, order 5
    expect(o.allocAligned(1052672n)).toBe(0x200100); // 257 pages: order 9, capped to 8
    expect(o.allocFromContiguous(1024, 10)).toBe(0x200300); // order 10 capped to 8: 256-page aligned
    const uncapped = new CmaAreaOracle(0x200000, 0x4000, 0, 12);
    uncapped.allocAligned(68n * 1024n);
    expect(uncapped.allocAligned(1052672n)).toBe(0x200200);
  });

  it('starts from what boot took, fails when no aligned run is free, and frees on release', () => {
    const o = new CmaAreaOracle(0x1000, 64, 0, 8, [[0x1000, 32]]);
    expect(o.freePages).toBe(32);
    expect(o.alloc(33, 0)).toBeNull();
    expect(o.alloc(0, 0)).toBeNull();
    expect(o.alloc(32, 5)).toBe(0x1020);
    expect(o.release(0x0fff, 1)).toBe(false);
    expect(o.release(0x1040, 1)).toBe(false);
    expect(o.release(0x1000, 32)).toBe(true);
    expect(o.alloc(16, 4)).toBe(0x1000);
    expect(new CmaAreaOracle(0x1000, 0, 0, 8).alloc(1, 0)).toBeNull();
  });

  it('counts in bits of 2^order_per_bit pages (historic D4a example: base_pfn 0x2f800, order_per_bit 1, align 12)', () => {
    const o = new CmaAreaOracle(0x2f800, 0x2000, 1, 12);
    expect(o.alloc(3, 12)).toBe(0x30000);
    expect(o.alloc(1, 1)).toBe(0x2f800);
    expect(o.alloc(1, 0)).toBe(0x2f802);
    o.drop(0x30000, 3);
    expect(o.alloc(4, 12)).toBe(0x30000);
  });

  it('agrees with the reference cma_alloc / cma_release on random requests (unaligned bases)', () => {
    const m = { faults: new Set<string>(), profile: { kernel: '6.6' } } as unknown as Machine;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x3ff }),
        fc.array(fc.oneof(fc.record({ n: fc.integer({ min: 1, max: 48 }), align: fc.nat({ max: 9 }) }), fc.nat({ max: 30 })), { maxLength: 40 }),
        (low, ops) => {
          const c = cmaObject('t', BigInt(0x80000 + low) << 12n, 256n << 12n, 0);
          c.bitmap = bitmapAlloc(256);
          const o = new CmaAreaOracle(c.base_pfn, c.count, 0, 12);
          const live: [number, number][] = [];
          for (const op of ops) {
            if (typeof op === 'number') {
              if (live.length === 0) continue;
              const [p, n] = live.splice(op % live.length, 1)[0];
              expect(cma_release(m, c, p, n)).toBe(o.release(p, n));
            } else {
              const got = cma_alloc(m, c, op.n, op.align, true);
              expect(got).toBe(o.alloc(op.n, op.align));
              if (got !== null) live.push([got, op.n]);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('alloc harness: refinement of CMA requests', () => {
  it('checks what the pool refill work asks of CMA (dma_alloc_from_contiguous), not only dma_alloc_contiguous', () => {
    const p = findProfile('c920-sg2042-6.6-cma')!;
    // Drain the kernel pool (CMA-backed at boot) so the refill work asks CMA for more.
    const drain: AllocOp[] = Array.from({ length: 8 }, () => ({ k: 'alloc', dev: 0, size: 5 * 4096, gfp: 'GFP_ATOMIC' }) as const);
    const ops: AllocOp[] = [...drain, { k: 'pool_work' }];
    expect(runSequence(allocHarness, p, ops, ['refinement'])).toBeNull();
    // The same sequence with the oracle told that the area's next free pages were taken: the refill's answer now disagrees.
    const st = allocHarness.setup(p);
    const twin = st.cmaTwins[0];
    twin.oracle.take(twin.area.base_pfn + 1024, 1024);
    const lines = ops.map((op) => allocHarness.apply(st, op, true));
    expect(lines.at(-1)).toMatch(/atomic_pool_work_fn runs/);
    expect(st.v['refinement']).toMatch(/^dma_alloc_from_contiguous\(linux,cma, count \d+, align \d+\) = pfn 0x200400, oracle: pfn 0x200800/);
    expect(twin.area.requests).toEqual([]);
  });

  it('cma-aligned-offset-wrong on the D4b profile: a 16 MiB request lands 8 MiB-aligned, and both clauses say so', () => {
    const p = faultProfile('cma-aligned-offset-wrong');
    const op: AllocOp = { k: 'contig_alloc', dev: 0, pages: 4096, gfp: 'GFP_KERNEL' };
    const f = runSequence(allocHarness, p, [op], ['order-alignment', 'refinement'], true)!;
    expect(f.invariant).toBe('order-alignment');
    expect(f.message).toMatch(/pfn 0xb8800, not aligned to 2\^12 pages/);
    expect(runSequence(allocHarness, p, [op], ['refinement'])!.message).toMatch(/= pfn 0xb8800, oracle: pfn 0xb9000/);
    expect(runSequence(allocHarness, findProfile('board-1g-6.6-cma-align12')!, [op], ['order-alignment', 'refinement', 'no-overlap', 'conservation'])).toBeNull();
  });
});
