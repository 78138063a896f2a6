// kernel/dma/contiguous.c (5.10, 6.6), spec kernel-alloc.md §8.1, §8.2, §8.4:
// the DMA side of CMA. Boot: the cma= parameter, the Kconfig size, the
// device tree's reusable shared-dma-pool nodes (cmaReserve, before the buddy
// allocator exists), then activation and per-device areas (cmaActivate).
// Run time: dma_alloc_contiguous / dma_free_contiguous for dma-direct and
// dma_alloc_from_contiguous / dma_release_from_contiguous for the atomic pools.
//
// Not modelled: NUMA CMA (5.10 CONFIG_DMA_PERNUMA_CMA with cma_pernuma=, 6.6
// CONFIG_DMA_NUMA_CMA with cma_pernuma= / numa_cma=). The model has one node
// and never creates per-node areas; a command line asking for them is refused.

import type { Machine } from '../../system.ts';
import type { MemoryRange, Profile, ReservedMemorySpec } from '../../config/profile.ts';
import { kconfigEnabled } from '../../config/profile.ts';
import type { device } from '../../include/linux/device.ts';
import { gfpFlags, gfpflags_allow_blocking } from '../../include/linux/gfp.ts';
import { __free_pages } from '../../mm/page_alloc.ts';
import {
  cma_activate_area,
  cma_alloc,
  cma_declare_contiguous,
  cma_init_reserved_mem,
  cma_release,
  cmaMinAlignmentBytes,
  cmaObject,
  memblockEndOfDram,
  memblockFree,
  memblockPhysMemSize,
  type cma,
  type CmaBootState,
} from '../../mm/cma.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { earlyParams, parameq } from '../../lib/cmdline.ts';
import { EBUSY, EINVAL, ModelError, PAGE_ALIGN, PAGE_SHIFT, PAGE_SIZE_N, PHYS_PFN, get_order, hex, min_not_zero } from '../../types.ts';

const MiB = 1n << 20n;
const GiB4 = 1n << 32n;

/** What boot decided: the CMA areas in cma_areas[] order, and the messages printed. */
export interface CmaPlan {
  areas: { name: string; base: bigint; size: bigint; isDefault: boolean }[];
  log: string[];
}

// ---------------------------------------------------------------- Kconfig

function kconfigNumber(p: Pick<Profile, 'kconfig'>, sym: string, dflt: number): number {
  const v = p.kconfig[sym];
  if (v === undefined || v === false) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new ModelError(`${sym}=${String(v)}: not a non-negative integer`);
  return n;
}

/**
 * CONFIG_CMA_ALIGNMENT (kernel/dma/Kconfig, 5.10 and 6.6: `range 2 12`, default 8). Kconfig
 * resets an out-of-range value to the default (conf_read, sym_string_within_range), so a
 * .config holding one was never built: refused rather than modelled.
 */
function cmaAlignmentCap(m: Machine): number {
  const n = kconfigNumber(m.profile, 'CONFIG_CMA_ALIGNMENT', 8);
  if (n < 2 || n > 12) throw new ModelError(`CONFIG_CMA_ALIGNMENT=${n}: outside the Kconfig range 2..12`);
  return n;
}

// ---------------------------------------------------------------- cma= (early_cma)

/** lib/cmdline.c memparse (5.10, 6.6): simple_strtoull(base 0) then an optional K/M/G/T/P/E suffix; u64 arithmetic. */
export function memparse(s: string, pos: number): { value: bigint; end: number } {
  kenter('memparse');
  try {
    let i = pos;
    let base = 10n;
    if (s[i] === '0') {
      if ((s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
        base = 16n;
        i += 2;
      } else base = 8n;
    }
    let v = 0n;
    for (; i < s.length; i++) {
      const d = parseInt(s[i], 16);
      if (Number.isNaN(d) || BigInt(d) >= base) break;
      v = BigInt.asUintN(64, v * base + BigInt(d));
    }
    const shifts: Record<string, bigint> = { k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };
    const sh = shifts[(s[i] ?? '').toLowerCase()];
    if (sh !== undefined) {
      v = BigInt.asUintN(64, v << sh);
      i++;
    }
    return { value: v, end: i };
  } finally {
    kexit();
  }
}

interface CmaCmdline {
  /** size_cmdline; null = the kernel's -1 (not given). */
  size: bigint | null;
  base: bigint;
  limit: bigint;
}

/**
 * kernel/dma/contiguous.c early_cma (5.10, 6.6): cma=nn[KMG][@start[KMG][-end[KMG]]].
 * memparse never fails: text that is not a number parses as 0 (so "cma=foo"
 * disables CMA, as in the kernel); only a bare "cma" is rejected.
 */
export function early_cma(p: string | null, st: CmaCmdline, log: string[]): number {
  kenter('early_cma');
  try {
    if (p === null) {
      log.push('Config string not provided');
      return -EINVAL;
    }
    const sz = memparse(p, 0);
    st.size = sz.value;
    if (sz.end === 0 && p.length > 0) log.push(`cma=${p}: no number, parsed as 0 (CMA disabled)`);
    if (p[sz.end] !== '@') {
      if (sz.end < p.length) log.push(`cma=${p}: trailing "${p.slice(sz.end)}" ignored`);
      return 0;
    }
    const b = memparse(p, sz.end + 1);
    st.base = b.value;
    if (p[b.end] !== '-') {
      st.limit = st.base + st.size;
      if (b.end < p.length) log.push(`cma=${p}: trailing "${p.slice(b.end)}" ignored`);
      return 0;
    }
    const l = memparse(p, b.end + 1);
    st.limit = l.value;
    if (l.end < p.length) log.push(`cma=${p}: trailing "${p.slice(l.end)}" ignored`);
    return 0;
  } finally {
    kexit();
  }
}

/** Model helper: parse_early_param for the parameters contiguous.c owns; every cma= in order, the last one wins field by field. */
function parseCmaCmdline(cmdline: string, log: string[]): CmaCmdline {
  const st: CmaCmdline = { size: null, base: 0n, limit: 0n };
  for (const { param, val } of earlyParams(cmdline)) {
    if (parameq(param, 'cma')) early_cma(val, st, log);
    else if (parameq(param, 'cma_pernuma') || parameq(param, 'numa_cma')) {
      throw new ModelError(`${param}=: NUMA CMA areas are not modelled (one node)`);
    }
  }
  return st;
}

// ---------------------------------------------------------------- boot

interface ReserveState {
  boot: CmaBootState;
  cmd: CmaCmdline;
  /** dma_contiguous_default_area, as a cma_areas[] index. */
  defaultIdx: number | null;
}

/**
 * kernel/dma/contiguous.c rmem_cma_setup (5.10, 6.6): claim a reusable
 * shared-dma-pool node. 5.10 wants base and size multiples of
 * PAGE_SIZE << max(MAX_ORDER - 1, pageblock_order) (4 MiB), 6.6 of
 * CMA_MIN_ALIGNMENT_BYTES (2 MiB with CONFIG_HUGETLB_PAGE, else 4 MiB).
 */
export function rmem_cma_setup(rs: ReserveState, node: ReservedMemorySpec): number {
  kenter('rmem_cma_setup');
  try {
    const { boot } = rs;
    const default_cma = node.cmaDefault === true;
    if (rs.cmd.size !== null && default_cma) {
      knote('bypass: cma= given');
      boot.log.push(`Reserved memory: bypass ${node.name} node, using cmdline CMA params instead`);
      return -EBUSY;
    }
    if (node.reusable !== true || node.noMap === true) return -EINVAL;
    const align = cmaMinAlignmentBytes(boot.kernel, boot.hugetlbPage);
    if (((node.base | node.size) & (align - 1n)) !== 0n) {
      boot.log.push('Reserved memory: incorrect alignment of CMA region');
      return -EINVAL;
    }
    const idx = cma_init_reserved_mem(boot, node.base, node.size, 0, node.name);
    if (idx < 0) {
      boot.log.push('Reserved memory: unable to setup CMA region');
      return idx;
    }
    // dma_contiguous_early_fixup: an empty arch hook on riscv.
    if (default_cma) rs.defaultIdx = idx; // dma_contiguous_set_default: a later default node overrides
    boot.log.push(`Reserved memory: created CMA memory pool at ${hex(node.base)}, size ${node.size / MiB} MiB`);
    return 0;
  } finally {
    kexit();
  }
}

/** kernel/dma/contiguous.c dma_contiguous_reserve_area (5.10, 6.6): cma_declare_contiguous(.., "reserved"), then the (empty) early fixup. */
export function dma_contiguous_reserve_area(rs: ReserveState, size: bigint, base: bigint, limit: bigint, fixed: boolean): number {
  kenter('dma_contiguous_reserve_area');
  try {
    const idx = cma_declare_contiguous(rs.boot, base, size, limit, 0n, 0, fixed, 'reserved');
    if (idx >= 0) rs.defaultIdx = idx;
    return idx < 0 ? idx : 0;
  } finally {
    kexit();
  }
}

/** kernel/dma/contiguous.c cma_early_percent_memory (5.10, 6.6). */
function cma_early_percent_memory(rs: ReserveState, percentage: number): bigint {
  const total_pages = BigInt(PHYS_PFN(memblockPhysMemSize(rs.boot)));
  return ((total_pages * BigInt(percentage)) / 100n) << BigInt(PAGE_SHIFT);
}

/**
 * kernel/dma/contiguous.c dma_contiguous_reserve (5.10, 6.6 without the NUMA
 * step): cma= wins over the Kconfig size; no default area is made when a DT
 * linux,cma-default node already made one. riscv calls it from setup_bootmem
 * with dma32_phys_limit = min(4 GiB, PFN_PHYS(max_low_pfn)) (5.10 and 6.6).
 */
export function dma_contiguous_reserve(rs: ReserveState, p: Pick<Profile, 'kconfig'>, limit: bigint): void {
  kenter('dma_contiguous_reserve');
  try {
    let selected_size = 0n;
    let selected_base = 0n;
    let selected_limit = limit;
    let fixed = false;
    if (rs.cmd.size !== null) {
      knote('cma= on the command line');
      selected_size = rs.cmd.size;
      selected_base = rs.cmd.base;
      selected_limit = min_not_zero(rs.cmd.limit, limit);
      if (rs.cmd.base + rs.cmd.size === rs.cmd.limit) fixed = true;
    } else {
      const size_bytes = BigInt(kconfigNumber(p, 'CONFIG_CMA_SIZE_MBYTES', 16)) * MiB;
      const pct = () => cma_early_percent_memory(rs, kconfigNumber(p, 'CONFIG_CMA_SIZE_PERCENTAGE', 10));
      // The #ifdef chain of the kernel: the first selected choice wins; MBYTES is the choice default.
      if (kconfigEnabled(p, 'CONFIG_CMA_SIZE_SEL_MBYTES')) selected_size = size_bytes;
      else if (kconfigEnabled(p, 'CONFIG_CMA_SIZE_SEL_PERCENTAGE')) selected_size = pct();
      else if (kconfigEnabled(p, 'CONFIG_CMA_SIZE_SEL_MIN')) selected_size = size_bytes < pct() ? size_bytes : pct();
      else if (kconfigEnabled(p, 'CONFIG_CMA_SIZE_SEL_MAX')) selected_size = size_bytes > pct() ? size_bytes : pct();
      else selected_size = size_bytes;
    }
    if (selected_size !== 0n && rs.defaultIdx === null) {
      dma_contiguous_reserve_area(rs, selected_size, selected_base, selected_limit, fixed);
    } else if (selected_size !== 0n) knote('default area already set by the device tree');
  } finally {
    kexit();
  }
}

/**
 * Model helper: the boot-time CMA decisions for a profile, before the buddy
 * allocator is built (riscv setup_bootmem: parse_early_param has run,
 * early_init_fdt_scan_reserved_mem reserves every /reserved-memory node and
 * runs rmem_cma_setup on the shared-dma-pool ones, then
 * dma_contiguous_reserve(dma32_phys_limit)). A reusable node no handler
 * accepts (bypassed, misaligned, no-map) is released to memblock again
 * ("node %s compatible matching fail"), so the cma= area may be placed there.
 * Other nodes stay reserved for their own handlers.
 */
export function cmaReserve(p: Profile, memory: readonly MemoryRange[]): CmaPlan {
  const log: string[] = [];
  if (!kconfigEnabled(p, 'CONFIG_DMA_CMA')) return { areas: [], log };
  if (!kconfigEnabled(p, 'CONFIG_CMA')) throw new ModelError('CONFIG_DMA_CMA depends on CONFIG_CMA: this .config is not resolved');
  const nodes = p.reservedMemory ?? [];
  const boot: CmaBootState = {
    kernel: p.kernel,
    memory,
    reserved: [...p.reserved, ...nodes.map((n) => ({ base: n.base, size: n.size }))],
    areas: [],
    maxAreas: 1 + kconfigNumber(p, 'CONFIG_CMA_AREAS', 7),
    hugetlbPage: kconfigEnabled(p, 'CONFIG_HUGETLB_PAGE'),
    log,
  };
  const rs: ReserveState = { boot, cmd: parseCmaCmdline(p.cmdline, log), defaultIdx: null };
  for (const n of nodes) {
    if (n.compatible !== 'shared-dma-pool') continue;
    const err = rmem_cma_setup(rs, n);
    // coherent.c's rmem_dma_setup refuses reusable nodes, so a reusable node CMA refused matches nothing.
    if (err !== 0 && n.reusable === true) {
      log.push(`OF: reserved mem: node ${n.name} compatible matching fail`);
      memblockFree(boot, n.base, n.size);
    }
  }
  const end = memblockEndOfDram(boot);
  const dramEnd = BigInt(PHYS_PFN(end)) << BigInt(PAGE_SHIFT);
  const dma32_phys_limit = dramEnd < GiB4 ? dramEnd : GiB4;
  dma_contiguous_reserve(rs, p, dma32_phys_limit);
  return {
    areas: boot.areas.map((a, i) => ({ name: a.name, base: a.base, size: a.size, isDefault: i === rs.defaultIdx })),
    log,
  };
}

/**
 * kernel/dma/contiguous.c rmem_cma_device_init, reached through
 * drivers/of/of_reserved_mem.c of_reserved_mem_device_init (5.10, 6.6): the
 * device's memory-region names a claimed reusable node, so the area becomes dev->cma_area.
 */
export function rmem_cma_device_init(dev: device, area: cma, log: string[]): number {
  kenter('rmem_cma_device_init');
  try {
    dev.cma_area = area;
    log.push(`${dev.name}: assigned reserved memory node ${area.name}`);
    return 0;
  } finally {
    kexit();
  }
}

/**
 * Model helper: cma_init_reserved_areas (core_initcall: cma_activate_area per
 * area, 5.10, 6.6), dma_contiguous_default_area, and the drivers' memory-region
 * claims. Sets m.cma. Messages are appended to plan.log.
 */
export function cmaActivate(m: Machine, plan: CmaPlan): void {
  const areas = plan.areas.map((a) => cmaObject(a.name, a.base, a.size, 0));
  for (const a of areas) cma_activate_area(m, a, plan.log);
  const d = plan.areas.findIndex((a) => a.isDefault);
  m.cma = { areas, default: d >= 0 ? areas[d] : null };
  const nodes = m.profile.reservedMemory ?? [];
  for (const dev of m.devices) {
    if (dev.memoryRegion === null) continue;
    const node = nodes.find((n) => n.name === dev.memoryRegion);
    if (node === undefined || node.compatible !== 'shared-dma-pool' || node.reusable !== true) continue;
    // Only a node rmem_cma_setup accepted has rmem->ops; the kernel-made default area is named "reserved" and lies elsewhere.
    const i = plan.areas.findIndex((a) => a.name === node.name && a.base === node.base);
    if (i >= 0) rmem_cma_device_init(dev, areas[i], plan.log);
  }
}

// ---------------------------------------------------------------- run time

/** include/linux/dma-map-ops.h dev_get_cma_area (5.10, 6.6): the device's area, else the default one. */
export function dev_get_cma_area(m: Machine, dev: device | null): cma | null {
  if (dev !== null && dev.cma_area !== null) return dev.cma_area as cma;
  return m.cma.default;
}

/**
 * kernel/dma/contiguous.c cma_alloc_aligned (5.10, 6.6): align = min(get_order(size),
 * CONFIG_CMA_ALIGNMENT). Fault cma-alignment-uncapped: the cap is skipped.
 */
export function cma_alloc_aligned(m: Machine, area: cma, size: bigint, gfp: number): number | null {
  kenter('cma_alloc_aligned');
  try {
    const order = get_order(size);
    const cap = cmaAlignmentCap(m);
    let align = order < cap ? order : cap;
    if (m.faults.has('cma-alignment-uncapped')) {
      knote('fault cma-alignment-uncapped');
      align = order;
    }
    const G = gfpFlags(m.profile.kernel);
    const pfn = cma_alloc(m, area, Number(size >> BigInt(PAGE_SHIFT)), align, (gfp & G.__GFP_NOWARN) !== 0);
    area.requests?.push({ fn: 'cma_alloc_aligned', size, pfn });
    return pfn;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/contiguous.c dma_alloc_contiguous (5.10, 6.6): only when the
 * caller may block; a device area is used for any size and never falls back;
 * otherwise single pages come from the buddy allocator (NULL here) and larger
 * requests from the default area. Without CONFIG_DMA_CMA the header stub returns NULL.
 */
export function dma_alloc_contiguous(m: Machine, dev: device, size: bigint, gfp: number): number | null {
  kenter('dma_alloc_contiguous');
  try {
    if (!m.cfg('CONFIG_DMA_CMA')) {
      knote('!CONFIG_DMA_CMA stub');
      return null;
    }
    if (!gfpflags_allow_blocking(gfp)) {
      knote('cannot block');
      return null;
    }
    if (dev.cma_area !== null) {
      knote('device area');
      return cma_alloc_aligned(m, dev.cma_area as cma, size, gfp);
    }
    if (size <= PAGE_SIZE_N) {
      knote('single page: buddy');
      return null;
    }
    if (m.cma.default === null) return null;
    return cma_alloc_aligned(m, m.cma.default, size, gfp);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/contiguous.c dma_free_contiguous (5.10, 6.6): count is an
 * unsigned int of PAGE_ALIGN(size) pages. With a device area only that area is
 * tried; without, the default area; pages in neither go to __free_pages.
 * Without CONFIG_DMA_CMA the stub is __free_pages(page, get_order(size)).
 */
export function dma_free_contiguous(m: Machine, dev: device, pfn: number, size: bigint): void {
  kenter('dma_free_contiguous');
  try {
    if (m.cfg('CONFIG_DMA_CMA')) {
      const count = Number(BigInt.asUintN(32, PAGE_ALIGN(size) >> BigInt(PAGE_SHIFT)));
      const area = dev.cma_area !== null ? (dev.cma_area as cma) : m.cma.default;
      if (cma_release(m, area, pfn, count)) return;
      knote('not in a CMA area: buddy');
    } else knote('!CONFIG_DMA_CMA stub');
    __free_pages(m.mm, pfn, get_order(size));
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/contiguous.c dma_alloc_from_contiguous (5.10, 6.6): align capped at
 * CONFIG_CMA_ALIGNMENT (fault cma-alignment-uncapped skips the cap), then
 * cma_alloc from dev_get_cma_area. The !CONFIG_DMA_CMA stub returns NULL.
 */
export function dma_alloc_from_contiguous(m: Machine, dev: device | null, count: number, alignIn: number, no_warn: boolean): number | null {
  kenter('dma_alloc_from_contiguous');
  try {
    if (!m.cfg('CONFIG_DMA_CMA')) return null;
    let align = alignIn;
    const cap = cmaAlignmentCap(m);
    if (align > cap) {
      if (m.faults.has('cma-alignment-uncapped')) knote('fault cma-alignment-uncapped');
      else align = cap;
    }
    const area = dev_get_cma_area(m, dev);
    const pfn = cma_alloc(m, area, count, align, no_warn);
    area?.requests?.push({ fn: 'dma_alloc_from_contiguous', count, align: alignIn, pfn });
    return pfn;
  } finally {
    kexit();
  }
}

/** kernel/dma/contiguous.c dma_release_from_contiguous (5.10, 6.6); the !CONFIG_DMA_CMA stub returns false. */
export function dma_release_from_contiguous(m: Machine, dev: device | null, pfn: number, count: number): boolean {
  kenter('dma_release_from_contiguous');
  try {
    if (!m.cfg('CONFIG_DMA_CMA')) return false;
    return cma_release(m, dev_get_cma_area(m, dev), pfn, count);
  } finally {
    kexit();
  }
}
