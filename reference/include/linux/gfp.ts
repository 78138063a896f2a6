// GFP flags and gfp_zone: include/linux/gfp.h (5.10) and include/linux/gfp_types.h
// (6.6). Values per version from the spec tables (§7.1-7.3). The model is a
// 64-bit RISC-V kernel without CONFIG_LOCKDEP and without CONFIG_KASAN_HW_TAGS,
// so ___GFP_NOLOCKDEP, ___GFP_SKIP_ZERO and ___GFP_SKIP_KASAN are 0, as the
// headers define them in that configuration.

import type { KernelVersion } from '../../config/profile.ts';
import { KernelBug, ModelError } from '../../types.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { ZoneType } from '../../mm/mmzone.ts';

/** Raw bits and masks present in both versions. */
export interface GfpCommon {
  readonly ___GFP_DMA: number;
  readonly ___GFP_HIGHMEM: number;
  readonly ___GFP_DMA32: number;
  readonly ___GFP_MOVABLE: number;
  readonly ___GFP_RECLAIMABLE: number;
  readonly ___GFP_HIGH: number;
  readonly ___GFP_IO: number;
  readonly ___GFP_FS: number;
  readonly ___GFP_ZERO: number;
  readonly ___GFP_DIRECT_RECLAIM: number;
  readonly ___GFP_KSWAPD_RECLAIM: number;
  readonly ___GFP_WRITE: number;
  readonly ___GFP_NOWARN: number;
  readonly ___GFP_RETRY_MAYFAIL: number;
  readonly ___GFP_NOFAIL: number;
  readonly ___GFP_NORETRY: number;
  readonly ___GFP_MEMALLOC: number;
  readonly ___GFP_COMP: number;
  readonly ___GFP_NOMEMALLOC: number;
  readonly ___GFP_HARDWALL: number;
  readonly ___GFP_THISNODE: number;
  readonly ___GFP_ACCOUNT: number;
  readonly ___GFP_NOLOCKDEP: number;

  readonly __GFP_DMA: number;
  readonly __GFP_HIGHMEM: number;
  readonly __GFP_DMA32: number;
  readonly __GFP_MOVABLE: number;
  readonly __GFP_RECLAIMABLE: number;
  readonly __GFP_HIGH: number;
  readonly __GFP_IO: number;
  readonly __GFP_FS: number;
  readonly __GFP_ZERO: number;
  readonly __GFP_DIRECT_RECLAIM: number;
  readonly __GFP_KSWAPD_RECLAIM: number;
  readonly __GFP_WRITE: number;
  readonly __GFP_NOWARN: number;
  readonly __GFP_RETRY_MAYFAIL: number;
  readonly __GFP_NOFAIL: number;
  readonly __GFP_NORETRY: number;
  readonly __GFP_MEMALLOC: number;
  readonly __GFP_COMP: number;
  readonly __GFP_NOMEMALLOC: number;
  readonly __GFP_HARDWALL: number;
  readonly __GFP_THISNODE: number;
  readonly __GFP_ACCOUNT: number;
  readonly __GFP_NOLOCKDEP: number;
  readonly __GFP_RECLAIM: number;
  readonly __GFP_BITS_SHIFT: number;
  readonly __GFP_BITS_MASK: number;

  readonly GFP_ATOMIC: number;
  readonly GFP_KERNEL: number;
  readonly GFP_KERNEL_ACCOUNT: number;
  readonly GFP_NOWAIT: number;
  readonly GFP_NOIO: number;
  readonly GFP_NOFS: number;
  readonly GFP_USER: number;
  readonly GFP_DMA: number;
  readonly GFP_DMA32: number;
  readonly GFP_HIGHUSER: number;
  readonly GFP_HIGHUSER_MOVABLE: number;
  readonly GFP_TRANSHUGE_LIGHT: number;
  readonly GFP_TRANSHUGE: number;
  readonly GFP_MOVABLE_MASK: number;
  readonly GFP_ZONEMASK: number;
}

/** Only in 5.10: __GFP_ATOMIC was discarded in v6.3. */
export interface Gfp510Only {
  readonly ___GFP_ATOMIC: number;
  readonly __GFP_ATOMIC: number;
}

/** Only in 6.6 (the KASAN hardware-tag bits arrived in 5.12-6.0). */
export interface Gfp66Only {
  readonly ___GFP_ZEROTAGS: number;
  readonly ___GFP_SKIP_ZERO: number;
  readonly ___GFP_SKIP_KASAN: number;
  readonly __GFP_ZEROTAGS: number;
  readonly __GFP_SKIP_ZERO: number;
  readonly __GFP_SKIP_KASAN: number;
}

export type Gfp510 = GfpCommon & Gfp510Only;
export type Gfp66 = GfpCommon & Gfp66Only;
export type GfpTable = GfpCommon & Partial<Gfp510Only> & Partial<Gfp66Only>;

function buildTable(kernel: KernelVersion): GfpTable {
  const v510 = kernel === '5.10';
  const raw = {
    ___GFP_DMA: 0x01,
    ___GFP_HIGHMEM: 0x02,
    ___GFP_DMA32: 0x04,
    ___GFP_MOVABLE: 0x08,
    ___GFP_RECLAIMABLE: 0x10,
    ___GFP_HIGH: 0x20,
    ___GFP_IO: 0x40,
    ___GFP_FS: 0x80,
    ___GFP_ZERO: 0x100,
    ___GFP_DIRECT_RECLAIM: 0x400,
    ___GFP_KSWAPD_RECLAIM: 0x800,
    ___GFP_WRITE: 0x1000,
    ___GFP_NOWARN: 0x2000,
    ___GFP_RETRY_MAYFAIL: 0x4000,
    ___GFP_NOFAIL: 0x8000,
    ___GFP_NORETRY: 0x10000,
    ___GFP_MEMALLOC: 0x20000,
    ___GFP_COMP: 0x40000,
    ___GFP_NOMEMALLOC: 0x80000,
    ___GFP_HARDWALL: 0x100000,
    ___GFP_THISNODE: 0x200000,
    ___GFP_ACCOUNT: 0x400000,
    ___GFP_NOLOCKDEP: 0, // CONFIG_LOCKDEP off (5.10 would use 0x800000, 6.6 0x4000000)
  };
  const t: Record<string, number> = { ...raw };
  for (const [k, v] of Object.entries(raw)) t[k.slice(1)] = v;
  if (v510) {
    t.___GFP_ATOMIC = t.__GFP_ATOMIC = 0x200;
  } else {
    t.___GFP_ZEROTAGS = t.__GFP_ZEROTAGS = 0x800000;
    t.___GFP_SKIP_ZERO = t.__GFP_SKIP_ZERO = 0; // 0x1000000 only with CONFIG_KASAN_HW_TAGS
    t.___GFP_SKIP_KASAN = t.__GFP_SKIP_KASAN = 0; // 0x2000000 only with CONFIG_KASAN_HW_TAGS
  }
  t.__GFP_BITS_SHIFT = v510 ? 23 : 26; // + IS_ENABLED(CONFIG_LOCKDEP), which is 0 here
  t.__GFP_BITS_MASK = (1 << t.__GFP_BITS_SHIFT) - 1;
  t.__GFP_RECLAIM = t.__GFP_DIRECT_RECLAIM | t.__GFP_KSWAPD_RECLAIM;
  // 5.10 GFP_ATOMIC carries __GFP_ATOMIC for the ALLOC_HARDER reserve; 6.6 derives
  // that from "cannot block" instead.
  t.GFP_ATOMIC = t.__GFP_HIGH | (v510 ? t.__GFP_ATOMIC : 0) | t.__GFP_KSWAPD_RECLAIM;
  t.GFP_KERNEL = t.__GFP_RECLAIM | t.__GFP_IO | t.__GFP_FS;
  t.GFP_KERNEL_ACCOUNT = t.GFP_KERNEL | t.__GFP_ACCOUNT;
  t.GFP_NOWAIT = t.__GFP_KSWAPD_RECLAIM; // __GFP_NOWARN joined only after 6.6
  t.GFP_NOIO = t.__GFP_RECLAIM;
  t.GFP_NOFS = t.__GFP_RECLAIM | t.__GFP_IO;
  t.GFP_USER = t.__GFP_RECLAIM | t.__GFP_IO | t.__GFP_FS | t.__GFP_HARDWALL;
  t.GFP_DMA = t.__GFP_DMA;
  t.GFP_DMA32 = t.__GFP_DMA32;
  t.GFP_HIGHUSER = t.GFP_USER | t.__GFP_HIGHMEM;
  t.GFP_HIGHUSER_MOVABLE = t.GFP_HIGHUSER | t.__GFP_MOVABLE | (v510 ? 0 : t.__GFP_SKIP_KASAN);
  t.GFP_TRANSHUGE_LIGHT =
    (t.GFP_HIGHUSER_MOVABLE | t.__GFP_COMP | t.__GFP_NOMEMALLOC | t.__GFP_NOWARN) & ~t.__GFP_RECLAIM;
  t.GFP_TRANSHUGE = t.GFP_TRANSHUGE_LIGHT | t.__GFP_DIRECT_RECLAIM;
  t.GFP_MOVABLE_MASK = t.__GFP_RECLAIMABLE | t.__GFP_MOVABLE;
  t.GFP_ZONEMASK = t.__GFP_DMA | t.__GFP_HIGHMEM | t.__GFP_DMA32 | t.__GFP_MOVABLE;
  return Object.freeze(t) as unknown as GfpTable;
}

const TABLES: Readonly<Record<KernelVersion, GfpTable>> = {
  '5.10': buildTable('5.10'),
  '6.6': buildTable('6.6'),
};

/** The GFP constants of include/linux/gfp.h (5.10) / gfp_types.h (6.6); one frozen object per version. */
export function gfpFlags(kernel: '5.10'): Gfp510;
export function gfpFlags(kernel: '6.6'): Gfp66;
export function gfpFlags(kernel: KernelVersion): GfpTable;
export function gfpFlags(kernel: KernelVersion): GfpTable {
  const t = TABLES[kernel];
  if (t === undefined) throw new ModelError(`gfpFlags: unknown kernel ${String(kernel)}`);
  return t;
}

/** Kconfig symbols gfp_zone depends on. */
export interface ZoneConfig {
  CONFIG_ZONE_DMA: boolean;
  CONFIG_ZONE_DMA32: boolean;
  /** 32-bit only; the model's ZoneType has no ZONE_HIGHMEM, so true is a model misuse. */
  CONFIG_HIGHMEM?: boolean;
}

// Index = flags & GFP_ZONEMASK. 'bad' marks GFP_ZONE_BAD combinations (two zone
// modifiers at once, except MOVABLE with one other).
type ZoneSlot = 'normal' | 'dma' | 'highmem' | 'dma32' | 'movable' | 'bad';
const GFP_ZONE_TABLE: readonly ZoneSlot[] = [
  'normal', // 0x0
  'dma', // 0x1 __GFP_DMA
  'highmem', // 0x2 __GFP_HIGHMEM
  'bad', // 0x3
  'dma32', // 0x4 __GFP_DMA32
  'bad', // 0x5
  'bad', // 0x6
  'bad', // 0x7
  'normal', // 0x8 __GFP_MOVABLE alone: movable pages, normal zone
  'dma', // 0x9 MOVABLE|DMA
  'movable', // 0xA MOVABLE|HIGHMEM
  'bad', // 0xB
  'dma32', // 0xC MOVABLE|DMA32
  'bad', // 0xD
  'bad', // 0xE
  'bad', // 0xF
];

/**
 * include/linux/gfp.h gfp_zone (5.10, 6.6): the highest zone an allocation may use.
 * The kernel's VM_BUG_ON on a bad combination fires only with CONFIG_DEBUG_VM;
 * the model always treats it as the BUG so that such a request cannot slip by.
 */
export function gfp_zone(flags: number, zcfg: ZoneConfig, faults?: ReadonlySet<string>): ZoneType {
  kenter('gfp_zone');
  try {
    const slot = GFP_ZONE_TABLE[flags & 0x0f];
    switch (slot) {
      case 'normal':
        return ZoneType.ZONE_NORMAL;
      case 'dma':
        return zcfg.CONFIG_ZONE_DMA ? ZoneType.ZONE_DMA : ZoneType.ZONE_NORMAL;
      case 'highmem':
        if (zcfg.CONFIG_HIGHMEM === true) throw new ModelError('gfp_zone: CONFIG_HIGHMEM (32-bit) is not modelled');
        return ZoneType.ZONE_NORMAL;
      case 'dma32':
        if (faults !== undefined && faults.has('gfp-zone-dma32-as-normal')) {
          knote('fault gfp-zone-dma32-as-normal');
          return ZoneType.ZONE_NORMAL;
        }
        return zcfg.CONFIG_ZONE_DMA32 ? ZoneType.ZONE_DMA32 : ZoneType.ZONE_NORMAL;
      case 'movable':
        return ZoneType.ZONE_MOVABLE;
      default:
        throw new KernelBug(`gfp_zone: invalid zone modifier combination 0x${(flags & 0x0f).toString(16)} (VM_BUG_ON)`);
    }
  } finally {
    kexit();
  }
}

/** include/linux/gfp.h gfpflags_allow_blocking (5.10, 6.6). */
export function gfpflags_allow_blocking(flags: number): boolean {
  kenter('gfpflags_allow_blocking');
  try {
    return (flags & 0x400) !== 0; // __GFP_DIRECT_RECLAIM, same bit in both versions
  } finally {
    kexit();
  }
}

// Composite names first, in the order of the kernel's trace-event flag table
// (include/trace/events/mmflags.h), so the biggest match wins; then single bits.
const COMPOSITES = [
  'GFP_TRANSHUGE',
  'GFP_TRANSHUGE_LIGHT',
  'GFP_HIGHUSER_MOVABLE',
  'GFP_HIGHUSER',
  'GFP_USER',
  'GFP_KERNEL_ACCOUNT',
  'GFP_KERNEL',
  'GFP_NOFS',
  'GFP_ATOMIC',
  'GFP_NOIO',
  'GFP_NOWAIT',
] as const;

const BIT_NAMES = [
  '__GFP_DMA',
  '__GFP_HIGHMEM',
  '__GFP_DMA32',
  '__GFP_MOVABLE',
  '__GFP_RECLAIMABLE',
  '__GFP_HIGH',
  '__GFP_IO',
  '__GFP_FS',
  '__GFP_ZERO',
  '__GFP_ATOMIC',
  '__GFP_DIRECT_RECLAIM',
  '__GFP_KSWAPD_RECLAIM',
  '__GFP_WRITE',
  '__GFP_NOWARN',
  '__GFP_RETRY_MAYFAIL',
  '__GFP_NOFAIL',
  '__GFP_NORETRY',
  '__GFP_MEMALLOC',
  '__GFP_COMP',
  '__GFP_NOMEMALLOC',
  '__GFP_HARDWALL',
  '__GFP_THISNODE',
  '__GFP_ACCOUNT',
  '__GFP_ZEROTAGS',
] as const;

/** Model helper: flags as the kernel's %pGg would print them, e.g. "GFP_KERNEL|__GFP_DMA32"; 0 is "none". */
export function gfpToString(flags: number, kernel: KernelVersion): string {
  if (flags === 0) return 'none';
  const t = gfpFlags(kernel) as unknown as Readonly<Record<string, number | undefined>>;
  const parts: string[] = [];
  let left = flags >>> 0;
  for (const name of COMPOSITES) {
    const m = t[name] as number;
    if (m !== 0 && (left & m) >>> 0 === m) {
      parts.push(name);
      left = (left & ~m) >>> 0;
    }
  }
  for (const name of BIT_NAMES) {
    const m = t[name];
    if (m !== undefined && m !== 0 && (left & m) !== 0) {
      parts.push(name);
      left = (left & ~m) >>> 0;
    }
  }
  if (left !== 0) parts.push('0x' + left.toString(16));
  return parts.join('|');
}
