// gen_pool under random operation lists: several pools, several chunks each,
// every algorithm, checked against the oracle after every operation. A profile
// device with on-board memory (DeviceSpec.deviceMemory) adds the pool its
// driver would make, one chunk of that size in 4 KiB granules, and requests of
// up to 8 GiB from it: the sizes where 5.10's int arithmetic overflows (D2).

import fc from 'fast-check';
import type { Harness } from '../harness.ts';
import {
  gen_pool_add_virt,
  gen_pool_alloc,
  gen_pool_alloc_algo,
  gen_pool_avail,
  gen_pool_best_fit,
  gen_pool_create,
  gen_pool_first_fit,
  gen_pool_first_fit_align,
  gen_pool_first_fit_order_align,
  gen_pool_fixed_alloc,
  gen_pool_free,
  gen_pool_set_algo,
  gen_pool_size,
  gen_pool_virt_to_phys,
  type GenPool,
  type GenpoolAlgo,
} from '../../reference/lib/genalloc.ts';
import { GenPoolOracle, type AlgoChoice, type AlgoName, type OracleAlloc } from '../oracle/genpool-oracle.ts';
import { hex, roundup_pow_of_two } from '../../reference/types.ts';
import type { KernelVersion } from '../../reference/config/profile.ts';

const ALGOS: readonly AlgoName[] = ['first_fit', 'first_fit_align', 'fixed', 'first_fit_order_align', 'best_fit'];
const MIN_ORDERS = [0, 3, 5, 12] as const;
const MAX_POOLS = 4;
/** Chunks sit high in the 64-bit space and their physical addresses near 2^56, so bigint exactness is exercised. */
const VIRT_BASE = 0xffff_ffc8_0000_0000n;
const PHYS_BASE = 0x00f0_0000_0000_0000n;
/** Device memory is mapped 800 GiB below those chunks, and its physical address is a PCIe BAR. */
const DEV_VIRT_BASE = 0xffff_ff00_0000_0000n;
const DEV_PHYS_BASE = 0x0040_0000_0000n;
const HALF_GIB = 1n << 29n;

export type GenPoolOp =
  | { k: 'create'; minOrder: number; algo: AlgoName }
  | { k: 'add'; pool: number; units: number; tail: number; misalign: number }
  | { k: 'alloc'; pool: number; size: number; via: 'pool' | AlgoName; alignLog: number; offsetUnits: number }
  | { k: 'free'; i: number }
  | { k: 'set_algo'; pool: number; algo: AlgoName }
  | { k: 'alloc_dev'; dev: number; halfGiB: number; pages: number }
  | { k: 'free_all' };

interface PoolPair {
  ref: GenPool;
  oracle: GenPoolOracle;
  algo: AlgoName;
}

interface Live {
  pool: number;
  addr: bigint;
  size: bigint;
  nbits: number;
  /** The oracle's twin; null once the reference went its own way (refinement already failed). */
  oracle: OracleAlloc | null;
  algo: AlgoName;
}

export interface GenPoolState {
  pools: PoolPair[];
  live: Live[];
  chunks: number;
  faults: ReadonlySet<string>;
  kernel: KernelVersion;
  /** Pools made for the profile's devices with on-board memory, by index into pools. */
  devicePools: { pool: number; dev: string }[];
  /** Set by apply when the reference disagrees with the oracle. */
  mismatch: string | null;
  /** Set by apply when a returned allocation breaks an alignment promise. */
  misaligned: string | null;
}

function refAlgo(a: AlgoName): GenpoolAlgo {
  switch (a) {
    case 'first_fit':
      return gen_pool_first_fit;
    case 'first_fit_align':
      return gen_pool_first_fit_align;
    case 'fixed':
      return gen_pool_fixed_alloc;
    case 'first_fit_order_align':
      return gen_pool_first_fit_order_align;
    case 'best_fit':
      return gen_pool_best_fit;
  }
}

function choice(op: { via: 'pool' | AlgoName; alignLog: number; offsetUnits: number }, p: PoolPair): AlgoChoice {
  const algo = op.via === 'pool' ? p.algo : op.via;
  return { algo, align: 2 ** op.alignLog, offset: op.offsetUnits * 2 ** p.oracle.order + (op.offsetUnits % 5 === 4 ? 1 : 0) };
}

function dataFor(c: AlgoChoice): unknown {
  if (c.algo === 'first_fit_align') return { align: c.align };
  if (c.algo === 'fixed') return { offset: c.offset };
  return null;
}

/** A pool-wide algorithm gets no data (align/offset are per call), so those two fall back to first fit. */
function poolAlgo(a: AlgoName): AlgoName {
  return a === 'first_fit_align' || a === 'fixed' ? 'first_fit' : a;
}

function newPool(st: GenPoolState, minOrder: number, wanted: AlgoName): void {
  const algo = poolAlgo(wanted);
  const ref = gen_pool_create(minOrder, -1, st.faults, st.kernel);
  if (ref === null) throw new Error('gen_pool_create failed');
  gen_pool_set_algo(ref, refAlgo(algo), null);
  st.pools.push({ ref, oracle: new GenPoolOracle(minOrder), algo });
}

function freeLive(st: GenPoolState, l: Live): void {
  gen_pool_free(st.pools[l.pool].ref, l.addr, l.size);
  if (l.oracle !== null) st.pools[l.pool].oracle.free(l.oracle);
  compareAvail(st, l.pool);
}

/** gen_pool_avail is observable state too: it must equal the oracle's per-chunk accounting. */
function compareAvail(st: GenPoolState, pi: number): void {
  const p = st.pools[pi];
  const got = gen_pool_avail(p.ref);
  const want = p.oracle.chunks.reduce((s, c) => s + c.avail, 0n);
  if (got !== want) st.mismatch ??= `gen_pool_avail(pool${pi}) = ${got}, oracle: ${want}`;
}

/** One allocation from pool pi, compared with the oracle; the other invariants follow what the reference did. */
function allocOn(st: GenPoolState, pi: number, size: bigint, c: AlgoChoice, viaPool: boolean, explain: boolean): string | undefined {
  const p = st.pools[pi];
  const got = viaPool ? gen_pool_alloc(p.ref, size) : gen_pool_alloc_algo(p.ref, size, refAlgo(c.algo), dataFor(c));
  const line = explain
    ? (viaPool
        ? `gen_pool_alloc(pool${pi} [${c.algo}], ${size})`
        : `gen_pool_alloc_algo(pool${pi}, ${size}, gen_pool_${c.algo}${c.algo === 'first_fit_align' ? `, align=${c.align}` : c.algo === 'fixed' ? `, offset=${c.offset}` : ''})`) +
      ` = ${hex(got)}`
    : undefined;
  const want = p.oracle.alloc(size, c);
  const wantAddr = want === null ? 0n : want.addr;
  if (got !== wantAddr && st.mismatch === null) {
    st.mismatch = `gen_pool_alloc_algo(${c.algo}, size=${size}) on pool ${pi} (min_alloc_order ${p.oracle.order}) returned ${hex(got)}, oracle: ${hex(wantAddr)}`;
  }
  // The other invariants follow what the reference did, whatever the oracle says.
  if (got === 0n) {
    if (want !== null) p.oracle.free(want);
    compareAvail(st, pi);
    return line;
  }
  const twin = want !== null && want.addr === got ? want : null;
  if (want !== null && twin === null) p.oracle.free(want);
  compareAvail(st, pi);
  const nbits = p.oracle.nbitsFor(size);
  st.live.push({ pool: pi, addr: got, size, nbits, oracle: twin, algo: c.algo });
  const chunk = p.oracle.chunkOf(got);
  if (chunk === undefined) {
    st.mismatch ??= `gen_pool_alloc returned ${hex(got)}, outside every chunk of pool ${pi}`;
    return line;
  }
  const phys = gen_pool_virt_to_phys(p.ref, got);
  const wantPhys = chunk.phys + (got - chunk.start);
  if (phys !== wantPhys) st.mismatch ??= `gen_pool_virt_to_phys(${hex(got)}) = ${hex(phys)}, expected ${hex(wantPhys)}`;
  if (c.algo === 'first_fit_order_align') {
    const bit = Number((got - chunk.start) >> BigInt(p.oracle.order));
    const al = roundup_pow_of_two(nbits);
    if (bit % al !== 0) {
      st.misaligned ??= `gen_pool_first_fit_order_align gave bit ${bit} of its chunk for ${nbits} granules; must be a multiple of ${al}`;
    }
  }
  return line;
}

export const genpoolHarness: Harness<GenPoolState, GenPoolOp> = {
  name: 'genpool',
  appliesTo: () => true,
  setup(profile) {
    const st: GenPoolState = {
      pools: [],
      live: [],
      chunks: 0,
      faults: new Set(profile.faults),
      kernel: profile.kernel,
      devicePools: [],
      mismatch: null,
      misaligned: null,
    };
    // What atomic pools look like (page granules, order-aligned), and a byte-granular first-fit pool.
    newPool(st, 12, 'first_fit_order_align');
    newPool(st, 3, 'first_fit');
    let devVirt = DEV_VIRT_BASE;
    for (const d of profile.devices) {
      if (d.deviceMemory === undefined || d.deviceMemory <= 0n) continue;
      // As in 36845663843f's example: gen_pool_create(PAGE_SHIFT, ..), then one gen_pool_add for all of the memory.
      newPool(st, 12, 'first_fit');
      const pi = st.pools.length - 1;
      const phys = DEV_PHYS_BASE + (devVirt - DEV_VIRT_BASE);
      if (gen_pool_add_virt(st.pools[pi].ref, devVirt, phys, d.deviceMemory, -1) !== 0) throw new Error(`gen_pool_add_virt failed for ${d.name}`);
      st.pools[pi].oracle.addChunk(devVirt, phys, d.deviceMemory);
      st.devicePools.push({ pool: pi, dev: d.name });
      devVirt += d.deviceMemory + HALF_GIB;
    }
    return st;
  },
  ops(profile) {
    const algo = fc.constantFrom(...ALGOS);
    const pool = fc.nat({ max: MAX_POOLS - 1 });
    const big: fc.WeightedArbitrary<GenPoolOp>[] = profile.devices.some((d) => (d.deviceMemory ?? 0n) > 0n)
      ? [
          {
            weight: 4,
            arbitrary: fc.record({ k: fc.constant('alloc_dev' as const), dev: fc.nat({ max: 3 }), halfGiB: fc.integer({ min: 1, max: 16 }), pages: fc.nat({ max: 3 }) }),
          },
        ]
      : [];
    return fc.oneof(
      ...big,
      { weight: 1, arbitrary: fc.record({ k: fc.constant('create' as const), minOrder: fc.constantFrom(...MIN_ORDERS), algo }) },
      {
        weight: 3,
        arbitrary: fc.record({
          k: fc.constant('add' as const),
          pool,
          units: fc.integer({ min: 1, max: 96 }),
          tail: fc.nat({ max: 7 }),
          misalign: fc.nat({ max: 7 }),
        }),
      },
      {
        weight: 10,
        arbitrary: fc.record({
          k: fc.constant('alloc' as const),
          pool,
          size: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 30, arbitrary: fc.integer({ min: 1, max: 40 }) }),
          via: fc.oneof({ weight: 3, arbitrary: fc.constant('pool' as const) }, { weight: 2, arbitrary: algo }),
          alignLog: fc.nat({ max: 16 }),
          offsetUnits: fc.nat({ max: 40 }),
        }),
      },
      { weight: 5, arbitrary: fc.record({ k: fc.constant('free' as const), i: fc.nat({ max: 1000 }) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('set_algo' as const), pool, algo }) },
      { weight: 1, arbitrary: fc.constant({ k: 'free_all' as const }) },
    );
  },
  apply(st, op, explain) {
    switch (op.k) {
      case 'create':
        if (st.pools.length >= MAX_POOLS) return explain ? `(pool limit: no new pool)` : undefined;
        newPool(st, op.minOrder, op.algo);
        return explain ? `pool${st.pools.length - 1} = gen_pool_create(min_alloc_order=${op.minOrder}); gen_pool_set_algo(gen_pool_${poolAlgo(op.algo)})` : undefined;
      case 'add': {
        const p = st.pools[op.pool % st.pools.length];
        const unit = 1n << BigInt(p.oracle.order);
        const size = BigInt(op.units) * unit + (BigInt(op.tail) * unit) / 8n;
        const start = VIRT_BASE + (BigInt(st.chunks) << 32n) + BigInt(op.misalign) * unit;
        const phys = PHYS_BASE + (BigInt(st.chunks) << 32n);
        st.chunks++;
        const rc = gen_pool_add_virt(p.ref, start, phys, size, -1);
        if (rc !== 0) st.mismatch = `gen_pool_add_virt returned ${rc}`;
        else p.oracle.addChunk(start, phys, size);
        return explain ? `gen_pool_add_virt(pool${op.pool % st.pools.length}, virt=${hex(start)}, phys=${hex(phys)}, size=${size}) = ${rc}` : undefined;
      }
      case 'alloc': {
        const pi = op.pool % st.pools.length;
        const p = st.pools[pi];
        const size = BigInt(op.size) << BigInt(Math.max(0, p.oracle.order - 2));
        return allocOn(st, pi, size, choice(op, p), op.via === 'pool', explain);
      }
      case 'alloc_dev': {
        if (st.devicePools.length === 0) return explain ? '(no device memory)' : undefined;
        const pi = st.devicePools[op.dev % st.devicePools.length].pool;
        const size = BigInt(op.halfGiB) * HALF_GIB + BigInt(op.pages) * 4096n;
        return allocOn(st, pi, size, { algo: st.pools[pi].algo }, true, explain);
      }
      case 'free': {
        if (st.live.length === 0) return;
        const [l] = st.live.splice(op.i % st.live.length, 1);
        freeLive(st, l);
        return explain ? `gen_pool_free(pool${l.pool}, ${hex(l.addr)}, ${l.size})` : undefined;
      }
      case 'set_algo': {
        const p = st.pools[op.pool % st.pools.length];
        const algo = poolAlgo(op.algo);
        gen_pool_set_algo(p.ref, refAlgo(algo), null);
        p.algo = algo;
        return explain ? `gen_pool_set_algo(pool${op.pool % st.pools.length}, gen_pool_${algo})` : undefined;
      }
      case 'free_all': {
        const n = st.live.length;
        for (const l of st.live.splice(0)) freeLive(st, l);
        return explain ? `gen_pool_free x${n} (free everything)` : undefined;
      }
    }
  },
  finalOps: () => [{ k: 'free_all' }],
  describe(op) {
    switch (op.k) {
      case 'create':
        return `gen_pool_create(min_alloc_order=${op.minOrder}) + gen_pool_set_algo(gen_pool_${op.algo})`;
      case 'add':
        return `gen_pool_add_virt(pool#${op.pool}, ${op.units} granules + ${op.tail}/8 granule, start misaligned by ${op.misalign} granules)`;
      case 'alloc':
        return op.via === 'pool'
          ? `gen_pool_alloc(pool#${op.pool}, size=${op.size}/4 granule units)`
          : `gen_pool_alloc_algo(pool#${op.pool}, size=${op.size}/4 granule units, gen_pool_${op.via}, align=2^${op.alignLog}, offset=${op.offsetUnits} granules)`;
      case 'free':
        return `gen_pool_free(live#${op.i})`;
      case 'set_algo':
        return `gen_pool_set_algo(pool#${op.pool}, gen_pool_${op.algo})`;
      case 'alloc_dev':
        return `gen_pool_alloc(device pool #${op.dev}, ${op.halfGiB} x 512 MiB + ${op.pages} pages)`;
      case 'free_all':
        return 'gen_pool_free(every live allocation)';
    }
  },
  invariants: [
    {
      name: 'order-alignment',
      description: 'order-aligned gen_pool allocations sit at multiples of roundup_pow_of_two(nbits) in their chunk',
      check: (st) => st.misaligned,
    },
    {
      name: 'no-overlap',
      description: 'live allocations of one pool never overlap',
      check(st) {
        for (let i = 0; i < st.live.length; i++) {
          const a = st.live[i];
          const aEnd = a.addr + (BigInt(a.nbits) << BigInt(st.pools[a.pool].oracle.order));
          for (let j = i + 1; j < st.live.length; j++) {
            const b = st.live[j];
            if (b.pool !== a.pool) continue;
            const bEnd = b.addr + (BigInt(b.nbits) << BigInt(st.pools[b.pool].oracle.order));
            if (a.addr < bEnd && b.addr < aEnd) return `pool ${a.pool}: [${hex(a.addr)}, ${hex(aEnd)}) overlaps [${hex(b.addr)}, ${hex(bEnd)})`;
          }
        }
        return null;
      },
    },
    {
      name: 'conservation',
      description: 'gen_pool_avail + allocated == gen_pool_size for every pool',
      check(st) {
        for (let i = 0; i < st.pools.length; i++) {
          const p = st.pools[i];
          let used = 0n;
          for (const l of st.live) if (l.pool === i) used += BigInt(l.nbits) << BigInt(p.oracle.order);
          const avail = gen_pool_avail(p.ref);
          const size = gen_pool_size(p.ref);
          if (size !== p.oracle.totalSize) return `pool ${i}: gen_pool_size ${size}, chunks added total ${p.oracle.totalSize}`;
          if (avail + used !== size) return `pool ${i}: gen_pool_avail ${avail} + allocated ${used} != gen_pool_size ${size}`;
        }
        return null;
      },
    },
    {
      name: 'refinement',
      description: 'every gen_pool result equals the oracle',
      check: (st) => st.mismatch,
    },
  ],
};
