// The buddy allocator and its zones under random alloc/free lists, including
// bursts that exhaust a zone so the zonelist fallbacks and order limits are reached.

import fc from 'fast-check';
import type { Harness } from '../harness.ts';
import type { Profile } from '../../reference/config/profile.ts';
import { kconfigEnabled } from '../../reference/config/profile.ts';
import { mmConfigOf } from '../../reference/system.ts';
import {
  __free_pages,
  alloc_pages,
  alloc_pages_node,
  buildMm,
  isCanonicalFreeState,
  managedPages,
  nrFreePages,
  NUMA_NO_NODE,
  type PglistData,
} from '../../reference/mm/page_alloc.ts';
import { gfpFlags, gfpToString } from '../../reference/include/linux/gfp.ts';
import { IntervalSet } from '../oracle/interval-set.ts';
import { hex, PAGE_SHIFT } from '../../reference/types.ts';

const GFP_CHOICES = [
  'GFP_KERNEL',
  'GFP_ATOMIC',
  'GFP_NOWAIT',
  'GFP_KERNEL|GFP_DMA32',
  'GFP_KERNEL|GFP_DMA',
  'GFP_ATOMIC|GFP_DMA32',
  'GFP_HIGHUSER_MOVABLE',
] as const;
type GfpChoice = (typeof GFP_CHOICES)[number];

export type BuddyOp =
  | { k: 'alloc'; gfp: GfpChoice; order: number; node: boolean }
  | { k: 'burst'; gfp: GfpChoice; order: number; count: number }
  | { k: 'free'; i: number }
  | { k: 'free_all' };

interface LiveBlock {
  pfn: number;
  order: number;
}

export interface BuddyState {
  profile: Profile;
  mm: PglistData;
  live: LiveBlock[];
  used: IntervalSet;
  startFree: number;
  gfpOf: (c: GfpChoice) => number;
  /** Limits the model derives on its own from Kconfig + memory map (not from gfp_zone). */
  dmaLimitPfn: number | null;
  dma32LimitPfn: number | null;
  ramPfns: { start: number; end: number }[];
  violation: { [inv: string]: string | null };
  checkEnd: boolean;
}

function gfpOfFactory(profile: Profile): (c: GfpChoice) => number {
  const G = gfpFlags(profile.kernel);
  return (c) => c.split('|').reduce((acc, name) => acc | (G as unknown as Record<string, number>)[name], 0);
}

function allocOne(st: BuddyState, gfpName: GfpChoice, order: number, node: boolean): number | null {
  const gfp = st.gfpOf(gfpName);
  const pfn = node ? alloc_pages_node(st.mm, NUMA_NO_NODE, gfp, order) : alloc_pages(st.mm, gfp, order);
  if (order > 10) {
    if (pfn !== null) st.violation['order-alignment'] ??= `order ${order} is above the largest buddy order but alloc_pages returned pfn ${hex(pfn)}`;
    if (pfn !== null) st.live.push({ pfn, order });
    return pfn;
  }
  if (pfn === null) return null;
  const n = 2 ** order;
  if (pfn % n !== 0) st.violation['order-alignment'] ??= `order-${order} block at pfn ${hex(pfn)} is not aligned to ${n} pages`;
  const clash = st.used.overlapping(pfn, pfn + n);
  if (clash) st.violation['no-overlap'] ??= `order-${order} block [pfn ${hex(pfn)}, +${n}) overlaps ${clash.tag} [pfn ${hex(clash.start)}, ${hex(clash.end)})`;
  if (!st.ramPfns.some((r) => pfn >= r.start && pfn + n <= r.end)) st.violation['no-overlap'] ??= `block [pfn ${hex(pfn)}, +${n}) is not inside one RAM bank`;
  // zone: the highest allowed address for these flags, from the model's own reading of the config
  const G = gfpFlags(st.profile.kernel);
  let limit: number | null = null;
  if (gfp & G.__GFP_DMA && st.dmaLimitPfn !== null) limit = st.dmaLimitPfn;
  else if (gfp & G.__GFP_DMA32 && st.dma32LimitPfn !== null) limit = st.dma32LimitPfn;
  if (limit !== null && pfn + n > limit) {
    st.violation.zone ??= `${gfpToString(gfp, st.profile.kernel)} order ${order} got [${hex(BigInt(pfn) << BigInt(PAGE_SHIFT))}, +${n} pages), above the zone limit ${hex(BigInt(limit) << BigInt(PAGE_SHIFT))}`;
  }
  for (const b of [st.dmaLimitPfn, st.dma32LimitPfn]) {
    if (b !== null && pfn < b && pfn + n > b) st.violation.zone ??= `block [pfn ${hex(pfn)}, +${n}) straddles the zone boundary at pfn ${hex(b)}`;
  }
  st.used.add({ start: pfn, end: pfn + n, tag: 'live block' });
  st.live.push({ pfn, order });
  return pfn;
}

function freeOne(st: BuddyState, b: LiveBlock): void {
  __free_pages(st.mm, b.pfn, b.order);
  st.used.remove(b.pfn);
}

function setupState(profile: Profile): BuddyState {
  const mm = buildMm(mmConfigOf(profile));
  const used = new IntervalSet();
  const toPfn = (x: bigint) => Number(x >> BigInt(PAGE_SHIFT));
  for (const r of profile.reserved) used.add({ start: toPfn(r.base), end: toPfn(r.base + r.size + 4095n), tag: 'memblock reservation' });
  const dma = kconfigEnabled(profile, 'CONFIG_ZONE_DMA');
  const dma32 = kconfigEnabled(profile, 'CONFIG_ZONE_DMA32');
  return {
    profile,
    mm,
    live: [],
    used,
    startFree: nrFreePages(mm),
    gfpOf: gfpOfFactory(profile),
    dmaLimitPfn: dma ? 2 ** (profile.zoneDmaBits - PAGE_SHIFT) : null,
    dma32LimitPfn: dma32 ? 2 ** (32 - PAGE_SHIFT) : null,
    ramPfns: profile.memory.map((m) => ({ start: toPfn(m.base), end: toPfn(m.base + m.size) })),
    violation: {},
    checkEnd: false,
  };
}

export const buddyHarness: Harness<BuddyState, BuddyOp> = {
  name: 'buddy',
  appliesTo: () => true,
  setup: setupState,
  ops() {
    const gfp = fc.constantFrom(...GFP_CHOICES);
    const order = fc.oneof({ weight: 12, arbitrary: fc.nat({ max: 10 }) }, { weight: 1, arbitrary: fc.constant(11) });
    return fc.oneof(
      { weight: 8, arbitrary: fc.record({ k: fc.constant('alloc' as const), gfp, order, node: fc.boolean() }) },
      {
        weight: 2,
        arbitrary: fc.record({ k: fc.constant('burst' as const), gfp, order: fc.integer({ min: 6, max: 10 }), count: fc.integer({ min: 1, max: 16 }) }),
      },
      { weight: 6, arbitrary: fc.record({ k: fc.constant('free' as const), i: fc.nat({ max: 1000 }) }) },
      { weight: 1, arbitrary: fc.constant({ k: 'free_all' as const }) },
    );
  },
  apply(st, op, explain) {
    st.checkEnd = false;
    switch (op.k) {
      case 'alloc': {
        const pfn = allocOne(st, op.gfp, op.order, op.node);
        return explain
          ? `${op.node ? 'alloc_pages_node(NUMA_NO_NODE, ' : 'alloc_pages('}${op.gfp}, order ${op.order}) = ${pfn === null ? 'NULL' : `pfn ${hex(pfn)} (phys ${hex(BigInt(pfn) << BigInt(PAGE_SHIFT))})`}`
          : undefined;
      }
      case 'burst': {
        const got: string[] = [];
        for (let i = 0; i < op.count; i++) {
          const pfn = allocOne(st, op.gfp, op.order, false);
          if (explain) got.push(pfn === null ? 'NULL' : hex(pfn));
          if (pfn === null) break;
        }
        return explain ? `alloc_pages(${op.gfp}, order ${op.order}) x${op.count}: pfns ${got.join(' ')}` : undefined;
      }
      case 'free': {
        if (st.live.length === 0) return explain ? '(nothing to free)' : undefined;
        const [b] = st.live.splice(op.i % st.live.length, 1);
        freeOne(st, b);
        return explain ? `__free_pages(pfn ${hex(b.pfn)}, order ${b.order})` : undefined;
      }
      case 'free_all': {
        const n = st.live.length;
        for (const b of st.live.splice(0)) freeOne(st, b);
        st.checkEnd = true;
        return explain ? `__free_pages x${n} (free everything)` : undefined;
      }
    }
  },
  finalOps: () => [{ k: 'free_all' }],
  describe(op) {
    switch (op.k) {
      case 'alloc':
        return `${op.node ? 'alloc_pages_node' : 'alloc_pages'}(${op.gfp}, order ${op.order})`;
      case 'burst':
        return `alloc_pages(${op.gfp}, order ${op.order}) x${op.count}`;
      case 'free':
        return `__free_pages(live#${op.i})`;
      case 'free_all':
        return '__free_pages(everything)';
    }
  },
  invariants: [
    {
      name: 'order-alignment',
      description: 'order-n blocks are aligned to 2^n pages; orders above the largest return NULL',
      check: (st) => st.violation['order-alignment'] ?? null,
    },
    {
      name: 'no-overlap',
      description: 'live blocks never overlap each other or memblock reservations, and lie inside RAM',
      check: (st) => st.violation['no-overlap'] ?? null,
    },
    {
      name: 'conservation',
      description: 'free + allocated == managed pages; after freeing everything the free lists are fully merged',
      check(st) {
        let used = 0;
        for (const b of st.live) used += 2 ** b.order;
        const free = nrFreePages(st.mm);
        const managed = managedPages(st.mm);
        if (free + used !== managed) return `nr_free_pages ${free} + allocated ${used} != managed pages ${managed}`;
        if (st.checkEnd) {
          if (free !== st.startFree) return `after freeing everything nr_free_pages is ${free}, was ${st.startFree} at boot`;
          if (!isCanonicalFreeState(st.mm)) return 'after freeing everything some free block still has a free buddy of the same order (not merged back)';
        }
        return null;
      },
    },
    {
      name: 'zone',
      description: 'GFP_DMA / GFP_DMA32 blocks lie below their zone limit and no block straddles a zone boundary',
      check: (st) => st.violation.zone ?? null,
    },
  ],
};
