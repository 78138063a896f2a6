// The coherent allocation stack end to end: dma_alloc_coherent / dma_free_coherent
// from devices with arbitrary masks, dma-ranges and coherence, in blocking and
// atomic context, through atomic pools, CMA, per-device memory and the buddy
// allocator; the pool refill work runs when the sequence says so. Every buffer
// is then used by CPU and device with no sync at all. On CMA machines the
// harness also asks dma_alloc_contiguous for pages directly, as dma-direct and
// dma-iommu do before they map and clear them: that is how requests of many
// MiB reach CMA cheaply (a 16 MiB dma_alloc_coherent costs about half a
// second in the model: memset, prep_coherent and the zero check). Every
// request the DMA layer makes of a CMA area is checked against an oracle.

import fc from 'fast-check';
import type { Harness } from '../harness.ts';
import { pick, span } from '../resolve.ts';
import { kconfigEnabled, type DeviceSpec, type Profile } from '../../reference/config/profile.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { probeDeviceSpec } from '../../reference/drivers/of/platform.ts';
import { gfpFlags, gfpToString } from '../../reference/include/linux/gfp.ts';
import { dma_alloc_coherent, dma_free_coherent } from '../../reference/include/linux/dma-mapping.ts';
import { dma_to_phys } from '../../reference/include/linux/dma-direct.ts';
import { dma_alloc_contiguous, dma_free_contiguous } from '../../reference/kernel/dma/contiguous.ts';
import { checkCmaRequests, checkContig, cmaAlignmentOf, cmaTwinsOf, contigRange, type CmaTwin, type Contig } from './alloc-cma.ts';
import { walkPageTable } from '../../reference/arch/riscv/pgtable.ts';
import { preempt_disable, preempt_enable } from '../../reference/include/linux/preempt.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { deviceRead, deviceWrite } from '../../reference/hw/device.ts';
import { atomic_pool_work_fn, atomicPoolGfp } from '../../reference/kernel/dma/pool.ts';
import { gen_pool_avail, gen_pool_size, type GenPool } from '../../reference/lib/genalloc.ts';
import { managedPages, nrFreePages } from '../../reference/mm/page_alloc.ts';
import { lineOf } from '../../reference/mm/memory.ts';
import type { dma_coherent_mem } from '../../reference/kernel/dma/coherent.ts';
import { ENOMEM, PAGE_SHIFT, PAGE_SIZE, get_order, hex, min_not_zero, roundup_pow_of_two } from '../../reference/types.ts';

const MASKS = [24, 28, 30, 32, 34, 36, 40, 48, 64] as const;
type Ranges = 'none' | 'offset' | 'window' | 'edge';
type GfpName = 'GFP_KERNEL' | 'GFP_ATOMIC' | 'GFP_NOWAIT';

export type AllocOp =
  /** Probes a device into `slot` (an alloc names it by that slot, so dropping other probes keeps the reference). */
  | { k: 'add_device'; mask: number; coherent: boolean; ranges: Ranges; pages?: number; slot?: number }
  | { k: 'alloc'; dev: number; size: number; gfp: GfpName }
  | { k: 'free'; i: number }
  | { k: 'cpu_store'; i: number; off: number; len: number; val: number; hart: number }
  | { k: 'cpu_load'; i: number; off: number; len: number; hart: number }
  | { k: 'dev_write'; i: number; off: number; len: number; val: number }
  | { k: 'dev_read'; i: number; off: number; len: number }
  | { k: 'spec_fill'; i: number; off: number; hart: number }
  | { k: 'evict'; i: number; off: number; hart: number; level: 'L1' | 'L2' }
  | { k: 'pool_work' }
  | { k: 'contig_alloc'; dev: number; pages: number; gfp: GfpName }
  | { k: 'contig_free'; i: number }
  | { k: 'free_all' };

interface Buf {
  id: number;
  dev: device;
  cpu: bigint;
  dma: bigint;
  phys: bigint;
  size: number;
  shadow: Uint8Array;
}

export interface AllocState {
  m: Machine;
  /** The end of each device's dma-ranges window, as the model wrote the device tree (0n = none). */
  windowEnd: Map<device, bigint>;
  /** Generated devices by slot; an alloc's dev below SLOTS names a filled slot, anything else a profile device. */
  slots: (device | undefined)[];
  bufs: Buf[];
  contigs: Contig[];
  cmaTwins: CmaTwin[];
  nextId: number;
  /** Free buddy pages at boot, and pages pools took from the buddy since. */
  bootFree: number;
  poolPagesAtBoot: bigint;
  cmaPagesAtBoot: number;
  v: Record<string, string | null>;
  endCheck: boolean;
  /** The atomic pool refill work ran and could not get memory: reported, not a violation. */
  exhausted: string[];
}

const POOLS = ['dma', 'dma32', 'kernel'] as const;

function poolsOf(m: Machine): { name: (typeof POOLS)[number]; pool: GenPool }[] {
  const s = m.atomicPools;
  if (!s) return [];
  const out: { name: (typeof POOLS)[number]; pool: GenPool }[] = [];
  if (s.atomic_pool_dma) out.push({ name: 'dma', pool: s.atomic_pool_dma });
  if (s.atomic_pool_dma32) out.push({ name: 'dma32', pool: s.atomic_pool_dma32 });
  if (s.atomic_pool_kernel) out.push({ name: 'kernel', pool: s.atomic_pool_kernel });
  return out;
}

function cmaAllocated(m: Machine): number {
  let n = 0;
  for (const a of m.cma.areas) for (const c of a.allocated.values()) n += c;
  return n;
}

function poolPages(m: Machine): bigint {
  let n = 0n;
  for (const { pool } of poolsOf(m)) n += gen_pool_size(pool);
  return n >> BigInt(PAGE_SHIFT);
}

/** What the kernel's formula gives for this much RAM (stated independently of pool.ts). */
function expectedPoolSize(m: Machine): bigint {
  const cmaPages = m.cma.areas.reduce((s, a) => s + a.count, 0);
  const pages = Math.min(Math.floor((managedPages(m.mm) + cmaPages) / 8192), 1024);
  const bytes = BigInt(pages) * BigInt(PAGE_SIZE);
  return bytes > 128n * 1024n ? bytes : 128n * 1024n;
}

function deviceSpec(st: AllocState, op: { mask: number; coherent: boolean; ranges: Ranges; pages?: number }, n: number): DeviceSpec {
  const m = st.m;
  const lo = m.profile.memory.reduce((a, b) => (b.base < a ? b.base : a), m.profile.memory[0].base);
  const spec: DeviceSpec = { name: `gen${n}`, coherent: op.coherent, dmaMaskBits: op.mask, coherentMaskBits: op.mask };
  // dma-ranges: the bus sees RAM at 0 (an offset), or only a 1 GiB window of it (a hole above).
  if (op.ranges === 'offset') spec.dmaRanges = [{ cpu: lo, dma: 0n, size: 1n << 36n }];
  const newest = st.bufs[st.bufs.length - 1];
  if (op.ranges === 'window' || (op.ranges === 'edge' && newest === undefined)) spec.dmaRanges = [{ cpu: lo, dma: 0x4000_0000n, size: 1n << 30n }];
  else if (op.ranges === 'edge') {
    // A window (one to one from the bottom of RAM) that ends a few pages past the newest buffer, where the
    // allocator that served it hands out next: off every block boundary, so a naturally aligned buffer can
    // start inside it and run past its end. dma-ranges sizes need not be powers of two.
    const end = newest.phys + BigInt(Math.ceil(newest.size / PAGE_SIZE) * PAGE_SIZE) + BigInt((op.pages ?? 1) * PAGE_SIZE);
    spec.dmaRanges = [{ cpu: lo, dma: lo, size: end - lo }];
  }
  return spec;
}

function rangesEnd(spec: DeviceSpec): bigint {
  return (spec.dmaRanges ?? []).reduce((e, r) => (r.dma + r.size - 1n > e ? r.dma + r.size - 1n : e), 0n);
}

const SLOTS = 4;

/** The device an operation names: a generated one by slot, else a profile device. */
function deviceFor(st: AllocState, key: number): device {
  return (key < SLOTS ? st.slots[key] : undefined) ?? st.m.devices[key % st.m.profile.devices.length];
}

function setV(st: AllocState, inv: string, msg: string): void {
  st.v[inv] ??= msg;
}

function devMem(dev: device): dma_coherent_mem | null {
  return (dev.dma_mem as dma_coherent_mem | null) ?? null;
}

/** Checks a fresh buffer: mask, translation, zeroing, alignment as the allocator that served it promises. */
function checkNew(st: AllocState, b: Buf): void {
  const m = st.m;
  // The bus limit as the device tree states it, not as the reference recorded it.
  const window = st.windowEnd.get(b.dev) ?? 0n;
  const limit = min_not_zero(b.dev.coherent_dma_mask, window);
  if (b.dma + BigInt(b.size) - 1n > limit) {
    setV(st, 'coherent-ok-mask', `${b.dev.name}: handle ${hex(b.dma)} + ${b.size} - 1 > min_not_zero(coherent_dma_mask ${hex(b.dev.coherent_dma_mask)}, dma-ranges end ${hex(window)})`);
  }
  if (b.phys !== dma_to_phys(b.dev, b.dma)) {
    setV(st, 'coherent-ok-mask', `${b.dev.name}: CPU address ${hex(b.cpu)} maps ${hex(b.phys)} but the handle ${hex(b.dma)} translates to ${hex(dma_to_phys(b.dev, b.dma))}`);
  }
  const pages = Math.ceil(b.size / PAGE_SIZE);
  const pfn = Number(b.phys >> BigInt(PAGE_SHIFT));
  if (b.phys % BigInt(PAGE_SIZE) !== 0n) setV(st, 'order-alignment', `coherent buffer at ${hex(b.phys)} is not page aligned`);
  const pool = poolsOf(m).find(({ pool }) => pool.chunks.some((c) => b.cpu >= c.start_addr && b.cpu <= c.end_addr));
  const dm = devMem(b.dev);
  if (pool) {
    const c = pool.pool.chunks.find((c) => b.cpu >= c.start_addr && b.cpu <= c.end_addr)!;
    const idx = Number((b.cpu - c.start_addr) >> BigInt(PAGE_SHIFT));
    const al = roundup_pow_of_two(pages);
    if (idx % al !== 0) setV(st, 'order-alignment', `atomic pool ${pool.name}: ${pages} pages at page ${idx} of the chunk, not a multiple of ${al} (gen_pool_first_fit_order_align)`);
  } else if (dm && b.phys >= BigInt(dm.pfn_base) << BigInt(PAGE_SHIFT) && b.phys < BigInt(dm.pfn_base + dm.size) << BigInt(PAGE_SHIFT)) {
    const idx = pfn - dm.pfn_base;
    const al = 2 ** get_order(b.size);
    if (idx % al !== 0) setV(st, 'order-alignment', `${b.dev.name} per-device pool: page ${idx} for order ${get_order(b.size)}`);
  } else {
    const area = m.cma.areas.find((a) => pfn >= a.base_pfn && pfn < a.base_pfn + a.count);
    const order = area ? Math.min(get_order(b.size), cmaAlignmentOf(m.profile)) : get_order(b.size);
    if (pfn % 2 ** order !== 0) setV(st, 'order-alignment', `${area ? `CMA area ${area.name}` : 'buddy'}: pfn ${hex(pfn)} for ${b.size} bytes not aligned to 2^${order} pages`);
  }
  // zeroed as seen by the CPU and by the device, with no sync
  if (st.v['coherent-ok-mask']) return; // the device may not even reach the handle
  const cpuView = cpuLoad(m, 0, b.cpu, b.size);
  const devView = deviceRead(m, b.dev, b.dma, b.size);
  for (let i = 0; i < b.size; i++) {
    if (cpuView[i] !== 0) return setV(st, 'zeroed-and-coherent', `${b.dev.name}: fresh coherent buffer byte ${i} reads ${hex(cpuView[i])} from the CPU, not 0`);
    if (devView[i] !== 0) return setV(st, 'zeroed-and-coherent', `${b.dev.name}: fresh coherent buffer byte ${i} reads ${hex(devView[i])} from the device, not 0`);
  }
}

function overlaps(st: AllocState, b: Buf): void {
  const bytes = BigInt(Math.ceil(b.size / PAGE_SIZE) * PAGE_SIZE);
  const end = b.phys + bytes;
  for (const o of st.bufs) {
    if (o === b) continue;
    const ob = BigInt(Math.ceil(o.size / PAGE_SIZE) * PAGE_SIZE);
    const oe = o.phys + ob;
    if (b.phys < oe && o.phys < end) setV(st, 'no-overlap', `coherent buffers #${b.id} [${hex(b.phys)}, ${hex(end)}) and #${o.id} [${hex(o.phys)}, ${hex(oe)}) overlap`);
    // The CPU side too: two remaps (vmalloc space) or linear addresses never share a page.
    if (b.cpu < o.cpu + ob && o.cpu < b.cpu + bytes) setV(st, 'no-overlap', `CPU addresses of coherent buffers #${b.id} ${hex(b.cpu)} and #${o.id} ${hex(o.cpu)} overlap`);
  }
  for (const c of st.contigs) {
    const [cs, ce] = contigRange(c);
    if (b.phys < ce && cs < end) setV(st, 'no-overlap', `coherent buffer #${b.id} [${hex(b.phys)}, ${hex(end)}) overlaps contiguous allocation #${c.id} [${hex(cs)}, ${hex(ce)})`);
  }
  const io = st.m.io_tlb;
  if (io && io.nslabs > 0 && b.phys < io.end && io.start < end) setV(st, 'no-overlap', `coherent buffer #${b.id} overlaps the swiotlb pool`);
}

/**
 * Every pool dma_atomic_pool_init set out to create exists: a configured pool
 * that is NULL never reaches its floor, the boot failure "DMA: failed to
 * allocate ... pool for atomic allocation" (historic A6, a zone with no managed pages).
 */
function bootPoolChecks(st: AllocState): void {
  const s = st.m.atomicPools;
  if (!s) return;
  const made: Record<(typeof POOLS)[number], GenPool | null> = { dma: s.atomic_pool_dma, dma32: s.atomic_pool_dma32, kernel: s.atomic_pool_kernel };
  for (const name of POOLS) {
    if (!s.configured[name] || made[name] !== null) continue;
    const flags = gfpToString(atomicPoolGfp(st.m, name), st.m.profile.kernel);
    const said = s.log.find((l) => l.startsWith('DMA: failed') && l.includes(` ${flags} pool`)) ?? 'nothing logged';
    setV(st, 'pool-floor', `atomic pool ${name}: dma_atomic_pool_init set out to create it but it does not exist, 0 < atomic_pool_size ${s.atomic_pool_size} (${said})`);
  }
}

function poolChecks(st: AllocState, afterWork: boolean): void {
  const m = st.m;
  const s = m.atomicPools;
  if (!s) return;
  for (const { name, pool } of poolsOf(m)) {
    const size = gen_pool_size(pool);
    if (size < s.atomic_pool_size) setV(st, 'pool-floor', `atomic pool ${name}: gen_pool_size ${size} < atomic_pool_size ${s.atomic_pool_size}`);
    if (afterWork) {
      const avail = gen_pool_avail(pool);
      if (avail < s.atomic_pool_size) {
        if (s.lastExpand[name] === -ENOMEM) st.exhausted.push(`${name}: avail ${avail} after refill, page allocator exhausted`);
        else setV(st, 'pool-floor', `atomic pool ${name}: the refill work ran but avail ${avail} < atomic_pool_size ${s.atomic_pool_size} and no expansion failed`);
      }
    }
    // each chunk lies in the zone its pool stands for
    const limit = name === 'dma' ? 1n << BigInt(m.profile.zoneDmaBits) : name === 'dma32' ? 1n << 32n : null;
    if (limit !== null) for (const c of pool.chunks) {
      const end = c.phys_addr + (c.end_addr - c.start_addr) + 1n;
      if (end > limit) setV(st, 'coherent-ok-mask', `atomic pool ${name}: chunk [${hex(c.phys_addr)}, ${hex(end)}) lies above its zone limit ${hex(limit)}`);
    }
  }
}

/**
 * dma_alloc_coherent as a driver calls it: a non-blocking gfp says the caller
 * cannot sleep (it holds a spinlock, or runs in an interrupt), so the call runs
 * with preempt_count raised, and whatever may sleep inside it is reported.
 */
function allocIn(st: AllocState, dev: device, size: number, gfp: GfpName, h: { dma_handle: bigint }): bigint | null {
  const m = st.m;
  const t = m.current;
  const atomic = gfp !== 'GFP_KERNEL';
  const seen = t.sleepReports.length;
  if (atomic) preempt_disable(t);
  try {
    return dma_alloc_coherent(m, dev, BigInt(size), h, gfpFlags(m.profile.kernel)[gfp]);
  } finally {
    if (atomic) preempt_enable(t);
    const r = t.sleepReports[seen];
    if (r !== undefined) {
      setV(
        st,
        'atomic-context',
        `dma_alloc_coherent(${dev.name}, ${size}, ${gfp}): BUG: sleeping function called from invalid context at ${r.at}; in_atomic(): 1, preempt_count: ${r.preempt_count}, pid: ${t.pid}, name: ${t.comm}; call trace (innermost first): ${[...r.stack].reverse().join(' < ')}`,
      );
    }
  }
}

function fill(n: number, val: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = ((val + i * 13) & 0xff) | 1;
  return b;
}

export const allocHarness: Harness<AllocState, AllocOp> = {
  name: 'alloc',
  appliesTo: (p) => p.devices.length > 0,
  maxOps: 60,
  setup(profile: Profile) {
    const m = buildMachine(profile);
    const windowEnd = new Map<device, bigint>();
    profile.devices.forEach((spec, i) => windowEnd.set(m.devices[i], rangesEnd(spec)));
    const cmaTwins = cmaTwinsOf(m);
    const st: AllocState = {
      m,
      windowEnd,
      slots: [],
      bufs: [],
      contigs: [],
      cmaTwins,
      nextId: 0,
      bootFree: nrFreePages(m.mm),
      poolPagesAtBoot: poolPages(m),
      cmaPagesAtBoot: cmaAllocated(m),
      v: {},
      endCheck: false,
      exhausted: [],
    };
    const s = m.atomicPools;
    if (s && !/coherent_pool=/.test(profile.cmdline) && s.atomic_pool_size !== expectedPoolSize(m)) {
      setV(st, 'pool-floor', `atomic_pool_size ${s.atomic_pool_size} != 128 KiB per GiB of RAM clamped to [128 KiB, 4 MiB] = ${expectedPoolSize(m)}`);
    }
    bootPoolChecks(st);
    poolChecks(st, false);
    return st;
  },
  ops(profile) {
    const hart = fc.nat({ max: 3 });
    const idx = fc.nat({ max: 3 });
    const dev = fc.nat({ max: 7 });
    const size = fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 4096 }) },
      { weight: 2, arbitrary: fc.integer({ min: 4097, max: 5 * 4096 }) },
      { weight: 1, arbitrary: fc.constantFrom(4096, 8192, 16384, 65536) },
    );
    const gfp = fc.constantFrom<GfpName>('GFP_KERNEL', 'GFP_KERNEL', 'GFP_ATOMIC', 'GFP_NOWAIT');
    const off = fc.nat({ max: 70000 });
    const len = fc.integer({ min: 1, max: 128 });
    const val = fc.nat({ max: 255 });
    const kinds: fc.WeightedArbitrary<AllocOp>[] = [
      {
        weight: 2,
        arbitrary: fc.record({
          k: fc.constant('add_device' as const),
          mask: fc.constantFrom(...MASKS),
          coherent: fc.boolean(),
          ranges: fc.constantFrom<Ranges>('none', 'none', 'offset', 'window', 'edge'),
          pages: fc.integer({ min: 1, max: 3 }),
          slot: fc.nat({ max: SLOTS - 1 }),
        }),
      },
      { weight: 8, arbitrary: fc.record({ k: fc.constant('alloc' as const), dev, size, gfp }) },
      { weight: 4, arbitrary: fc.record({ k: fc.constant('free' as const), i: idx }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('cpu_store' as const), i: idx, off, len, val, hart }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('cpu_load' as const), i: idx, off, len, hart }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('dev_write' as const), i: idx, off, len, val }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('dev_read' as const), i: idx, off, len }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('spec_fill' as const), i: idx, off, hart }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('evict' as const), i: idx, off, hart, level: fc.constantFrom('L1' as const, 'L2' as const) }) },
      { weight: 3, arbitrary: fc.constant({ k: 'pool_work' as const }) },
      { weight: 1, arbitrary: fc.constant({ k: 'free_all' as const }) },
    ];
    if (kconfigEnabled(profile, 'CONFIG_DMA_CMA')) {
      // Up to twice the alignment cap: around 2^cap pages is where the cap decides where a request lands.
      const pages = fc.oneof(
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 16 }) },
        { weight: 2, arbitrary: fc.integer({ min: 17, max: 2 ** (cmaAlignmentOf(profile) + 1) }) },
      );
      kinds.push(
        { weight: 3, arbitrary: fc.record({ k: fc.constant('contig_alloc' as const), dev, pages, gfp }) },
        { weight: 2, arbitrary: fc.record({ k: fc.constant('contig_free' as const), i: idx }) },
      );
    }
    return fc.oneof(...kinds);
  },
  apply(st, op, explain) {
    const line = applyOp(st, op, explain);
    checkCmaRequests(st);
    return line;
  },
  finalOps: () => [{ k: 'free_all' }],
  describe: (op) => JSON.stringify(op),
  swarm: {
    kinds: ['add_device', 'alloc', 'free', 'cpu_store', 'cpu_load', 'dev_write', 'dev_read', 'spec_fill', 'evict', 'pool_work', 'free_all'],
    // Contiguous requests switch on and off with the coherent ones, so machines without CMA draw the same sequences as before they existed.
    kindOf: (op) => (op.k === 'contig_alloc' ? 'alloc' : op.k === 'contig_free' ? 'free' : op.k),
  },
  invariants: [
    { name: 'pool-floor', description: 'every pool the initcall set out to create exists; atomic pools never below atomic_pool_size; after the refill work, avail back above it unless memory ran out', check: (st) => st.v['pool-floor'] ?? null },
    { name: 'coherent-ok-mask', description: 'handles within min_not_zero(coherent mask, bus limit) and translating back to the buffer; pool chunks inside their zone', check: (st) => st.v['coherent-ok-mask'] ?? null },
    { name: 'order-alignment', description: 'pool, per-device, CMA and buddy coherent allocations aligned as each allocator promises', check: (st) => st.v['order-alignment'] ?? null },
    { name: 'no-overlap', description: 'live coherent buffers never overlap each other or the swiotlb pool', check: (st) => st.v['no-overlap'] ?? null },
    {
      name: 'conservation',
      description: 'after freeing everything each allocator is back where it started, except the pools, which never shrink',
      check(st) {
        if (!st.endCheck) return null;
        const m = st.m;
        const grown = Number(poolPages(m) - st.poolPagesAtBoot);
        const cmaGrown = cmaAllocated(m) - st.cmaPagesAtBoot;
        if (cmaGrown > grown) return `after freeing every buffer ${cmaGrown - grown} CMA pages are still allocated`;
        const free = nrFreePages(m.mm);
        const want = st.bootFree - (grown - cmaGrown);
        if (free !== want) return `after freeing every buffer the buddy has ${free} free pages; expected ${want} (boot ${st.bootFree}, pools grew by ${grown} pages, ${cmaGrown} of them from CMA)`;
        for (const { name, pool } of poolsOf(m)) if (gen_pool_avail(pool) !== gen_pool_size(pool)) return `atomic pool ${name}: avail ${gen_pool_avail(pool)} != size ${gen_pool_size(pool)} with nothing allocated`;
        for (const d of m.devices) {
          const dm = devMem(d);
          if (dm && dm.bitmap.some((w) => w !== 0)) return `${d.name}: per-device coherent pool still has pages marked after every buffer was freed`;
        }
        return null;
      },
    },
    {
      name: 'atomic-context',
      description: 'a dma_alloc_coherent with GFP_ATOMIC/GFP_NOWAIT runs with preempt_count raised and reaches nothing that may sleep (CONFIG_DEBUG_ATOMIC_SLEEP stays quiet)',
      check: (st) => st.v['atomic-context'] ?? null,
    },
    { name: 'zeroed-and-coherent', description: 'fresh coherent buffers read zero from CPU and device; afterwards each side sees the other\'s writes with no sync', check: (st) => st.v['zeroed-and-coherent'] ?? null },
    {
      name: 'refinement',
      description: 'every request the DMA layer makes of a CMA area (cma_alloc_aligned, dma_alloc_from_contiguous, cma_release) gets the CMA oracle\'s answer',
      check: (st) => st.v['refinement'] ?? null,
    },
  ],
};

function applyOp(st: AllocState, op: AllocOp, explain: boolean): string | undefined {
  const m = st.m;
  st.endCheck = false;
  const G = gfpFlags(m.profile.kernel);
  switch (op.k) {
    case 'add_device': {
      const spec = deviceSpec(st, op, m.devices.length);
      const dev = probeDeviceSpec(m, spec);
      m.devices.push(dev);
      st.slots[op.slot ?? 0] = dev;
      st.windowEnd.set(dev, rangesEnd(spec));
      return explain
        ? `probe ${dev.name} (slot ${op.slot ?? 0}): ${op.coherent ? 'dma-coherent' : 'dma-noncoherent'}, dma_set_mask_and_coherent(DMA_BIT_MASK(${op.mask})), dma-ranges ${op.ranges === 'edge' ? `ending at ${hex(rangesEnd(spec) + 1n)}` : op.ranges} → coherent_dma_mask ${hex(dev.coherent_dma_mask)}, bus_dma_limit ${hex(dev.bus_dma_limit)}`
        : undefined;
    }
    case 'alloc': {
      const dev = deviceFor(st, op.dev);
      const h = { dma_handle: 0n };
      const cpu = allocIn(st, dev, op.size, op.gfp, h);
      if (cpu === null) return explain ? `dma_alloc_coherent(${dev.name}, ${op.size}, ${op.gfp}) = NULL` : undefined;
      const t = walkPageTable(m.init_mm, cpu);
      const b: Buf = { id: st.nextId++, dev, cpu, dma: h.dma_handle, phys: t ? t.pa : -1n, size: op.size, shadow: new Uint8Array(op.size) };
      st.bufs.push(b);
      overlaps(st, b);
      checkNew(st, b);
      poolChecks(st, false);
      return explain ? `buf#${b.id} = dma_alloc_coherent(${dev.name}, ${op.size}, ${op.gfp}) = ${hex(cpu)}, dma ${hex(h.dma_handle)} (phys ${hex(b.phys)})` : undefined;
    }
    case 'free': {
      const b = pick(st.bufs, op.i);
      if (!b) return explain ? '(no buffer)' : undefined;
      dma_free_coherent(m, b.dev, BigInt(b.size), b.cpu, b.dma);
      st.bufs.splice(st.bufs.indexOf(b), 1);
      return explain ? `dma_free_coherent(${b.dev.name}, buf#${b.id})` : undefined;
    }
    case 'cpu_store':
    case 'dev_write': {
      const b = pick(st.bufs, op.i);
      if (!b) return explain ? '(no buffer)' : undefined;
      if (st.v['coherent-ok-mask']) return explain ? '(handle unreachable: not used)' : undefined;
      const { o, n } = span(b.size, op.off, op.len);
      const data = fill(n, op.val);
      if (op.k === 'cpu_store') cpuStore(m, op.hart, b.cpu + BigInt(o), data);
      else deviceWrite(m, b.dev, b.dma + BigInt(o), data);
      b.shadow.set(data, o);
      return explain ? `${op.k === 'cpu_store' ? `hart${op.hart}: store` : `${b.dev.name}: write`} ${n} bytes (${hex(data[0])}..) at buf#${b.id}+${o}` : undefined;
    }
    case 'cpu_load':
    case 'dev_read': {
      const b = pick(st.bufs, op.i);
      if (!b) return explain ? '(no buffer)' : undefined;
      if (st.v['coherent-ok-mask']) return explain ? '(handle unreachable: not used)' : undefined;
      const { o, n } = span(b.size, op.off, op.len);
      const got = op.k === 'cpu_load' ? cpuLoad(m, op.hart, b.cpu + BigInt(o), n) : deviceRead(m, b.dev, b.dma + BigInt(o), n);
      for (let i = 0; i < n; i++) {
        if (got[i] !== b.shadow[o + i]) {
          setV(st, 'zeroed-and-coherent', `${op.k === 'cpu_load' ? `hart${op.hart}` : b.dev.name} read ${hex(got[i])} at byte ${o + i} of coherent buf#${b.id}, last written ${hex(b.shadow[o + i])} (no sync is needed on coherent memory)`);
          break;
        }
      }
      return explain ? `${op.k === 'cpu_load' ? `hart${op.hart}: load` : `${b.dev.name}: read`} ${n} bytes at buf#${b.id}+${o} = ${hex(got[0])}..` : undefined;
    }
    case 'spec_fill':
    case 'evict': {
      const b = pick(st.bufs, op.i);
      if (!b) return explain ? '(no buffer)' : undefined;
      const line = lineOf(b.phys + BigInt(op.off % b.size));
      if (op.k === 'spec_fill') m.caches.speculativeFill(op.hart, line);
      else m.caches.evictLine(op.hart, op.level, line);
      return explain ? `hw: ${op.k === 'spec_fill' ? 'speculative fill' : `evict ${op.level}`} on hart${op.hart} of line ${hex(BigInt(line) << 6n)}` : undefined;
    }
    case 'pool_work': {
      if (!m.atomicPools) return explain ? '(no atomic pools: CONFIG_DMA_COHERENT_POOL unset)' : undefined;
      const ran = atomic_pool_work_fn(m);
      const before = st.exhausted.length;
      poolChecks(st, ran);
      if (!explain) return undefined;
      if (!ran) return '(no pool work queued)';
      const out = st.exhausted.slice(before);
      return out.length === 0 ? 'atomic_pool_work_fn runs' : `atomic_pool_work_fn runs; reported: ${out.join('; ')}`;
    }
    case 'contig_alloc': {
      const dev = deviceFor(st, op.dev);
      const size = BigInt(op.pages) << BigInt(PAGE_SHIFT);
      const pfn = dma_alloc_contiguous(m, dev, size, G[op.gfp]);
      const call = `dma_alloc_contiguous(${dev.name}, ${size}, ${op.gfp})`;
      if (pfn === null) return explain ? `${call} = NULL` : undefined;
      const c: Contig = { id: st.nextId++, dev, pfn, size };
      st.contigs.push(c);
      checkContig(st, c);
      return explain ? `contig#${c.id} = ${call} = pfn ${hex(pfn)}` : undefined;
    }
    case 'contig_free': {
      const c = pick(st.contigs, op.i);
      if (!c) return explain ? '(no contiguous allocation)' : undefined;
      dma_free_contiguous(m, c.dev, c.pfn, c.size);
      st.contigs.splice(st.contigs.indexOf(c), 1);
      return explain ? `dma_free_contiguous(${c.dev.name}, contig#${c.id})` : undefined;
    }
    case 'free_all': {
      const n = st.bufs.length + st.contigs.length;
      for (const b of st.bufs.splice(0)) dma_free_coherent(m, b.dev, BigInt(b.size), b.cpu, b.dma);
      for (const c of st.contigs.splice(0)) dma_free_contiguous(m, c.dev, c.pfn, c.size);
      st.endCheck = true;
      return explain ? `dma_free_coherent / dma_free_contiguous x${n} (free everything)` : undefined;
    }
  }
}
