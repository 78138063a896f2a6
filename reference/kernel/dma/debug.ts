// kernel/dma/debug.c (CONFIG_DMA_API_DEBUG): the DMA API protocol checker,
// 5.10 and 6.6. Standalone: it sees only what the mapping layer hands its
// debug_dma_* hooks and never calls into the rest of the model.
//
// Kept as the kernel keeps it: a 16384-bucket hash of live mappings keyed by
// device address, and a radix tree of the first cache line of every mapping
// with an overlap counter. Every err_printk is recorded in `st.reports`; the
// kernel's default rate limit (only the first error is printed, num_errors=1)
// is computed per report as `printed`, so a checker sees every occurrence and
// can still tell which ones a kernel log would show. The per-driver filter is
// modelled as off. The entry pool never runs dry in the model (the kernel grows
// it with GFP_ATOMIC and disables itself only if that fails).

import type { KernelVersion } from '../../config/profile.ts';
import { EEXIST, ENOMEM, KernelBug, L1_CACHE_BYTES, ModelError, hex, u64 } from '../../types.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE, dmaDirName } from '../../include/linux/dma-direction.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR } from '../../include/linux/dma-mapping-attrs.ts';

/** The struct device as the checker sees it: identity (object ===) plus dma_parms. */
export interface DmaDebugDevice {
  name: string;
  /** dma_parms->max_segment_size; absent or 0 → dma_get_max_seg_size() default 64 KiB. Bounds the 5.10 sync search. */
  readonly maxSegmentSize?: number;
}

/** The kernel's entry types. 5.10 and 6.6 have no separate "page" type: dma_map_page records "single". */
export type DmaDebugType = 'single' | 'sg' | 'coherent' | 'resource';

export const MAP_ERR_CHECK_NOT_APPLICABLE = 0;
export const MAP_ERR_NOT_CHECKED = 1;
export const MAP_ERR_CHECKED = 2;
export type MapErrType = typeof MAP_ERR_CHECK_NOT_APPLICABLE | typeof MAP_ERR_NOT_CHECKED | typeof MAP_ERR_CHECKED;

/** struct dma_debug_entry; pfn + offset are kept as one physical address. */
export interface DmaDebugEntry {
  dev: DmaDebugDevice;
  type: DmaDebugType;
  /** CPU physical address of the start (page_to_phys(pfn) + offset); 0 in lookup references. */
  paddr: bigint;
  dev_addr: bigint;
  size: bigint;
  direction: number;
  /** nents of dma_map_sg; 0 for everything else (still part of the best-fit score). */
  sg_call_ents: number;
  map_err_type: MapErrType;
}

/** One err_printk. */
export interface DmaDebugReport {
  /** Stable id of the check, e.g. 'unmap-not-mapped'. */
  check: string;
  /** The kernel's text (device name in place of driver + dev_name, addresses as printed). */
  message: string;
  /** The debug_dma_* entry point (or notifier) that reported it. */
  fn: string;
  /** Whether the kernel would print the WARN (show_num_errors / all_errors); error_count counts every one. */
  printed: boolean;
}

/** A WARN/pr_err outside err_printk (not counted in error_count). */
export interface DmaDebugWarning {
  check: string;
  message: string;
  fn: string;
}

interface ActiveCacheline {
  entry: DmaDebugEntry;
  /** The radix-tree tag bits: number of *additional* mappings of this line, 0..7. */
  overlap: number;
}

export interface DmaDebugState {
  readonly kernel: KernelVersion;
  /** global_disable: dma_debug=off, or switched off after an internal failure. */
  global_disable: boolean;
  error_count: number;
  show_all_errors: boolean;
  show_num_errors: number;
  /** dma_entry_hash: bucket index → list in insertion order (list_add_tail). Sparse. */
  readonly hash: Map<number, DmaDebugEntry[]>;
  /** dma_active_cacheline radix tree: cache-line number → first entry + overlap tags. */
  readonly activeCachelines: Map<bigint, ActiveCacheline>;
  /** WARN_ONCE state of active_cacheline_inc_overlap. */
  overlapWarned: boolean;
  readonly reports: DmaDebugReport[];
  readonly warnings: DmaDebugWarning[];
  /** Fault switches (reference/config/faults.ts) this checker honours. */
  readonly faults: ReadonlySet<string>;
}

export interface DmaDebugOptions {
  /** dma_debug=off on the command line. */
  disabled?: boolean;
  /** debugfs all_errors (default 0). */
  allErrors?: boolean;
  /** debugfs num_errors (default 1). */
  numErrors?: number;
  /** Fault switches of the profile (only debug-unmap-skips-dir-check is read here). */
  faults?: ReadonlySet<string>;
}

export interface DmaDebugMapOptions {
  /** 6.6: CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC && is_swiotlb_active(dev) — silences the EEXIST report. */
  bounceUnalignedKmalloc?: boolean;
  /** check_for_stack found the page in the current task's stack (direct-mapped stack: [addr=]). */
  onStack?: boolean;
  /** Same, but the stack is vmapped ([probable addr=]). */
  onVmappedStack?: boolean;
  /** check_for_illegal_area: the lowmem range intersects _stext.._etext or rodata. */
  kernelTextOrRodata?: boolean;
}

const HASH_SIZE = 16384;
const HASH_FN_SHIFT = 13n;
const HASH_FN_MASK = BigInt(HASH_SIZE - 1);
const HASH_STEP = 1n << HASH_FN_SHIFT;
/** (1 << RADIX_TREE_MAX_TAGS) - 1 with RADIX_TREE_MAX_TAGS = 3. */
const ACTIVE_CACHELINE_MAX_OVERLAP = 7;
const L1_CACHE_SHIFT = BigInt(Math.log2(L1_CACHE_BYTES));
/** include/linux/dma-mapping.h dma_get_max_seg_size default without dma_parms (SZ_64K). */
const DEFAULT_MAX_SEG_SIZE = 65536;

const TYPE2NAME: Record<DmaDebugType, string> = {
  single: 'single',
  sg: 'scather-gather', // sic, the kernel's spelling
  coherent: 'coherent',
  resource: 'resource',
};

function a16(x: bigint): string {
  return '0x' + x.toString(16).padStart(16, '0');
}

/** kernel/dma/debug.c dma_debug_init (5.10, 6.6): a fresh checker, as after boot. */
export function dmaDebugCreate(kernel: KernelVersion, opts: DmaDebugOptions = {}): DmaDebugState {
  if (kernel !== '5.10' && kernel !== '6.6') throw new ModelError(`dmaDebugCreate: unknown kernel ${String(kernel)}`);
  const numErrors = opts.numErrors ?? 1;
  if (!Number.isInteger(numErrors) || numErrors < 0) throw new ModelError(`dmaDebugCreate: numErrors ${numErrors}`);
  return {
    kernel,
    global_disable: opts.disabled ?? false,
    error_count: 0,
    show_all_errors: opts.allErrors ?? false,
    show_num_errors: numErrors,
    hash: new Map(),
    activeCachelines: new Map(),
    overlapWarned: false,
    reports: [],
    warnings: [],
    faults: opts.faults ?? new Set(),
  };
}

/** kernel/dma/debug.c dma_debug_disabled (5.10, 6.6); the model is always past dma_debug_init. */
function dma_debug_disabled(st: DmaDebugState): boolean {
  kenter('dma_debug_disabled');
  try {
    return st.global_disable;
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c err_printk macro (5.10, 6.6), driver filter off. */
function err_printk(st: DmaDebugState, fn: string, check: string, dev: DmaDebugDevice, text: string): void {
  kenter('err_printk');
  try {
    st.error_count += 1;
    const printed = st.show_all_errors || st.show_num_errors > 0;
    if (!st.show_all_errors && st.show_num_errors > 0) st.show_num_errors -= 1;
    st.reports.push({ check, message: `DMA-API: ${dev.name}: ${text}`, fn, printed });
    knote(check);
  } finally {
    kexit();
  }
}

function makeRef(dev: DmaDebugDevice, type: DmaDebugType, dev_addr: bigint, size: bigint, direction: number): DmaDebugEntry {
  return { dev, type, paddr: 0n, dev_addr: u64(dev_addr), size, direction, sg_call_ents: 0, map_err_type: MAP_ERR_CHECK_NOT_APPLICABLE };
}

// ---------------------------------------------------------------- hash

/** kernel/dma/debug.c hash_fn (5.10, 6.6): bits 13..26 of the device address. */
export function hash_fn(dev_addr: bigint): number {
  kenter('hash_fn');
  try {
    return Number((u64(dev_addr) >> HASH_FN_SHIFT) & HASH_FN_MASK);
  } finally {
    kexit();
  }
}

function bucketList(st: DmaDebugState, dev_addr: bigint): DmaDebugEntry[] {
  return st.hash.get(hash_fn(dev_addr)) ?? [];
}

/** kernel/dma/debug.c exact_match (5.10, 6.6). */
function exact_match(ref: DmaDebugEntry, entry: DmaDebugEntry): boolean {
  kenter('exact_match');
  try {
    return ref.dev_addr === entry.dev_addr && ref.dev === entry.dev;
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c containing_match (5.10, 6.6): entry covers [ref, ref+size) (u64 sums, as in C). */
function containing_match(ref: DmaDebugEntry, entry: DmaDebugEntry): boolean {
  kenter('containing_match');
  try {
    if (ref.dev !== entry.dev) return false;
    return entry.dev_addr <= ref.dev_addr && u64(entry.dev_addr + entry.size) >= u64(ref.dev_addr + ref.size);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c __hash_bucket_find (5.10, 6.6): best fit among the matches,
 * scored on size, type, direction and sg_call_ents. A perfect score returns at
 * once; otherwise a lone match is returned and several imperfect ones give
 * nothing (so the caller reports "not allocated").
 */
export function __hash_bucket_find(
  bucket: readonly DmaDebugEntry[],
  ref: DmaDebugEntry,
  match: (ref: DmaDebugEntry, entry: DmaDebugEntry) => boolean,
): DmaDebugEntry | null {
  kenter('__hash_bucket_find');
  try {
    let ret: DmaDebugEntry | null = null;
    let matches = 0;
    let lastLvl = -1;
    for (const entry of bucket) {
      if (!match(ref, entry)) continue;
      matches += 1;
      let lvl = 0;
      if (entry.size === ref.size) lvl++;
      if (entry.type === ref.type) lvl++;
      if (entry.direction === ref.direction) lvl++;
      if (entry.sg_call_ents === ref.sg_call_ents) lvl++;
      if (lvl === 4) {
        knote('perfect fit');
        return entry;
      }
      if (lvl > lastLvl) {
        lastLvl = lvl;
        ret = entry;
      }
    }
    if (matches > 1) knote('several imperfect matches: none returned');
    return matches === 1 ? ret : null;
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c bucket_find_exact (5.10, 6.6). */
export function bucket_find_exact(st: DmaDebugState, ref: DmaDebugEntry): DmaDebugEntry | null {
  kenter('bucket_find_exact');
  try {
    return __hash_bucket_find(bucketList(st, ref.dev_addr), ref, exact_match);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c bucket_find_contain: walk down one bucket (8 KiB of device
 * address) at a time looking for an entry that covers the reference.
 * 5.10: while range <= dma_get_max_seg_size(dev), range += 8 KiB — so 9 buckets
 *   with the 64 KiB default, and a partial sync more than that far into a large
 *   mapping is not found. range is a u32: with max_seg_size >= 0xFFFFE000 it
 *   wraps and the loop never ends when nothing matches (the model throws).
 * 6.6: (commit 2995b8002cef "dma-debug: improve search for partial syncs", v6.0)
 *   min(HASH_SIZE, (dev_addr >> 13) + 1) buckets: every bucket at or below the
 *   address, each at most once.
 */
export function bucket_find_contain(st: DmaDebugState, ref: DmaDebugEntry): DmaDebugEntry | null {
  kenter('bucket_find_contain');
  try {
    let index = ref.dev_addr;
    if (st.kernel === '5.10') {
      knote('5.10: search bounded by max_seg_size');
      const maxRange = ref.dev.maxSegmentSize !== undefined && ref.dev.maxSegmentSize !== 0 ? ref.dev.maxSegmentSize : DEFAULT_MAX_SEG_SIZE;
      if (!Number.isInteger(maxRange) || maxRange < 0 || maxRange > 0xffffffff) throw new ModelError(`maxSegmentSize ${maxRange} is not a u32`);
      const wraps = maxRange >= 0xffffe000;
      const iterations = wraps ? Infinity : Math.floor(maxRange / 8192) + 1;
      // After HASH_SIZE steps the walk revisits the same buckets with the same ref: nothing new can match.
      const distinct = Math.min(iterations, HASH_SIZE);
      for (let i = 0; i < distinct; i++) {
        const entry = __hash_bucket_find(bucketList(st, index), ref, containing_match);
        if (entry !== null) return entry;
        index = u64(index - HASH_STEP);
      }
      if (wraps) throw new KernelBug('bucket_find_contain: u32 range wraps with max_seg_size >= 0xFFFFE000; the search never ends (soft lockup under the bucket lock)');
      return null;
    }
    knote('6.6: search every bucket below the address');
    const below = (ref.dev_addr >> HASH_FN_SHIFT) + 1n;
    const limit = below < BigInt(HASH_SIZE) ? Number(below) : HASH_SIZE;
    for (let i = 0; i < limit; i++) {
      const entry = __hash_bucket_find(bucketList(st, index), ref, containing_match);
      if (entry !== null) return entry;
      index = u64(index - HASH_STEP);
    }
    return null;
  } finally {
    kexit();
  }
}

// ------------------------------------------------------ active cachelines

/** kernel/dma/debug.c to_cacheline_number (5.10, 6.6): pfn·(PAGE_SIZE/64) + offset/64 = paddr >> 6. */
export function to_cacheline_number(entry: DmaDebugEntry): bigint {
  kenter('to_cacheline_number');
  try {
    return entry.paddr >> L1_CACHE_SHIFT;
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c active_cacheline_read_overlap (5.10, 6.6): a missing key reads as 0. */
function active_cacheline_read_overlap(st: DmaDebugState, cln: bigint): number {
  kenter('active_cacheline_read_overlap');
  try {
    return st.activeCachelines.get(cln)?.overlap ?? 0;
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c active_cacheline_set_overlap (5.10, 6.6): out-of-range values leave the tags untouched. */
function active_cacheline_set_overlap(st: DmaDebugState, cln: bigint, overlap: number): number {
  kenter('active_cacheline_set_overlap');
  try {
    if (overlap > ACTIVE_CACHELINE_MAX_OVERLAP || overlap < 0) return overlap;
    const node = st.activeCachelines.get(cln);
    if (node !== undefined) node.overlap = overlap;
    return overlap;
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c active_cacheline_inc_overlap (5.10, 6.6). */
function active_cacheline_inc_overlap(st: DmaDebugState, fn: string, cln: bigint): void {
  kenter('active_cacheline_inc_overlap');
  try {
    const overlap = active_cacheline_set_overlap(st, cln, active_cacheline_read_overlap(st, cln) + 1);
    // The counter saturates at 7: later unmaps then delete the line while mappings remain.
    if (overlap > ACTIVE_CACHELINE_MAX_OVERLAP && !st.overlapWarned) {
      st.overlapWarned = true;
      knote('WARN_ONCE overlap counter exceeded');
      st.warnings.push({
        check: 'cacheline-overlap-exceeded',
        // %pa (lib/vsprintf.c special_hex_number, 5.10 and 6.6): 0x + 16 zero-padded digits on 64-bit.
        message: `DMA-API: exceeded ${ACTIVE_CACHELINE_MAX_OVERLAP} overlapping mappings of cacheline ${a16(cln)}`,
        fn,
      });
    }
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c active_cacheline_dec_overlap (5.10, 6.6). */
function active_cacheline_dec_overlap(st: DmaDebugState, cln: bigint): number {
  kenter('active_cacheline_dec_overlap');
  try {
    return active_cacheline_set_overlap(st, cln, active_cacheline_read_overlap(st, cln) - 1);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c active_cacheline_insert (5.10, 6.6): 0, or -EEXIST when the
 * first cache line is already tracked (the overlap counter goes up). TO_DEVICE
 * mappings are not tracked: the device does not write, so no stale CPU data.
 * (-ENOMEM from the radix tree cannot happen in the model.)
 */
export function active_cacheline_insert(st: DmaDebugState, fn: string, entry: DmaDebugEntry): number {
  kenter('active_cacheline_insert');
  try {
    if (entry.direction === DMA_TO_DEVICE) {
      knote('DMA_TO_DEVICE not tracked');
      return 0;
    }
    const cln = to_cacheline_number(entry);
    if (st.activeCachelines.has(cln)) {
      active_cacheline_inc_overlap(st, fn, cln);
      return -EEXIST;
    }
    st.activeCachelines.set(cln, { entry, overlap: 0 });
    return 0;
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c active_cacheline_remove (5.10, 6.6): the line goes when the count drops below 0. */
export function active_cacheline_remove(st: DmaDebugState, entry: DmaDebugEntry): void {
  kenter('active_cacheline_remove');
  try {
    if (entry.direction === DMA_TO_DEVICE) return;
    const cln = to_cacheline_number(entry);
    if (active_cacheline_dec_overlap(st, cln) < 0) st.activeCachelines.delete(cln);
  } finally {
    kexit();
  }
}

// ------------------------------------------------------------ entries

/**
 * kernel/dma/debug.c add_dma_entry: hash the entry, then track its first cache line.
 * 5.10: an -EEXIST overlap is not reported (a TODO in the source); no attrs.
 * 6.6: reported via err_printk unless attrs has DMA_ATTR_SKIP_CPU_SYNC or
 *   CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC && is_swiotlb_active(dev).
 */
export function add_dma_entry(st: DmaDebugState, fn: string, entry: DmaDebugEntry, attrs: number, bounceUnalignedKmalloc = false): void {
  kenter('add_dma_entry');
  try {
    const idx = hash_fn(entry.dev_addr);
    const list = st.hash.get(idx);
    if (list === undefined) st.hash.set(idx, [entry]);
    else list.push(entry);

    const rc = active_cacheline_insert(st, fn, entry);
    if (rc !== -EEXIST) return;
    if (st.kernel === '5.10') {
      knote('5.10: EEXIST not reported');
      return;
    }
    if ((attrs & DMA_ATTR_SKIP_CPU_SYNC) !== 0) {
      knote('6.6: EEXIST silenced by DMA_ATTR_SKIP_CPU_SYNC');
      return;
    }
    if (bounceUnalignedKmalloc) {
      knote('6.6: EEXIST silenced by DMA_BOUNCE_UNALIGNED_KMALLOC with swiotlb active');
      return;
    }
    err_printk(st, fn, 'cacheline-overlap', entry.dev, "cacheline tracking EEXIST, overlapping mappings aren't supported");
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c hash_bucket_del + dma_entry_free (5.10, 6.6). */
function removeEntry(st: DmaDebugState, entry: DmaDebugEntry): void {
  const idx = hash_fn(entry.dev_addr);
  const list = st.hash.get(idx);
  const at = list === undefined ? -1 : list.indexOf(entry);
  if (list === undefined || at < 0) throw new ModelError('dma-debug: entry not in its bucket');
  list.splice(at, 1);
  if (list.length === 0) st.hash.delete(idx);
  active_cacheline_remove(st, entry);
}

// ------------------------------------------------------------- checks

/**
 * kernel/dma/debug.c check_unmap (5.10, 6.6): find the exact entry; if none,
 * report an invalid address (DMA_MAPPING_ERROR) or memory never allocated and
 * stop. Otherwise every mismatch is reported (size; type, else coherent CPU
 * address; sg count; direction; unchecked map error) and the entry is removed.
 * Fault debug-unmap-skips-dir-check drops the direction comparison.
 */
export function check_unmap(st: DmaDebugState, fn: string, ref: DmaDebugEntry): void {
  kenter('check_unmap');
  try {
    const entry = bucket_find_exact(st, ref);
    if (entry === null) {
      // The kernel really calls dma_mapping_error() here, so a same-address entry
      // that lost the best-fit tie gets marked as checked as a side effect.
      if (dma_mapping_error(st, ref.dev, ref.dev_addr) !== 0) {
        err_printk(st, fn, 'unmap-invalid-address', ref.dev, 'device driver tries to free an invalid DMA memory address');
      } else {
        err_printk(
          st,
          fn,
          'unmap-not-mapped',
          ref.dev,
          `device driver tries to free DMA memory it has not allocated [device address=${a16(ref.dev_addr)}] [size=${ref.size} bytes]`,
        );
      }
      return;
    }

    if (ref.size !== entry.size) {
      err_printk(
        st,
        fn,
        'unmap-size-mismatch',
        ref.dev,
        `device driver frees DMA memory with different size [device address=${a16(ref.dev_addr)}] [map size=${entry.size} bytes] [unmap size=${ref.size} bytes]`,
      );
    }

    if (ref.type !== entry.type) {
      err_printk(
        st,
        fn,
        'unmap-wrong-function',
        ref.dev,
        `device driver frees DMA memory with wrong function [device address=${a16(ref.dev_addr)}] [size=${ref.size} bytes] [mapped as ${TYPE2NAME[entry.type]}] [unmapped as ${TYPE2NAME[ref.type]}]`,
      );
    } else if (entry.type === 'coherent' && ref.paddr !== entry.paddr) {
      err_printk(
        st,
        fn,
        'unmap-cpu-address-mismatch',
        ref.dev,
        `device driver frees DMA memory with different CPU address [device address=${a16(ref.dev_addr)}] [size=${ref.size} bytes] [cpu alloc address=${a16(entry.paddr)}] [cpu free address=${a16(ref.paddr)}]`,
      );
    }

    if (ref.sg_call_ents !== 0 && ref.type === 'sg' && ref.sg_call_ents !== entry.sg_call_ents) {
      err_printk(
        st,
        fn,
        'unmap-sg-count-mismatch',
        ref.dev,
        `device driver frees DMA sg list with different entry count [map count=${entry.sg_call_ents}] [unmap count=${ref.sg_call_ents}]`,
      );
    }

    if (ref.direction !== entry.direction && !st.faults.has('debug-unmap-skips-dir-check')) {
      err_printk(
        st,
        fn,
        'unmap-dir-mismatch',
        ref.dev,
        `device driver frees DMA memory with different direction [device address=${a16(ref.dev_addr)}] [size=${ref.size} bytes] [mapped with ${dmaDirName(entry.direction)}] [unmapped with ${dmaDirName(ref.direction)}]`,
      );
    }

    if (entry.map_err_type === MAP_ERR_NOT_CHECKED) {
      // Same text and condition in 5.10 and 6.6 (no space before the first bracket
      // in the kernel either); the size printed is the unmap size.
      err_printk(
        st,
        fn,
        'map-error-not-checked',
        ref.dev,
        `device driver failed to check map error[device address=${a16(ref.dev_addr)}] [size=${ref.size} bytes] [mapped as ${TYPE2NAME[entry.type]}]`,
      );
    }

    removeEntry(st, entry);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c check_sync: find an entry covering the synced range (see
 * bucket_find_contain for the 5.10/6.6 search). Size is compared alone, the
 * offset into the mapping is not. A BIDIRECTIONAL mapping skips the direction
 * checks.
 */
export function check_sync(st: DmaDebugState, fn: string, dev: DmaDebugDevice, ref: DmaDebugEntry, to_cpu: boolean): void {
  kenter('check_sync');
  try {
    const entry = bucket_find_contain(st, ref);
    if (entry === null) {
      err_printk(
        st,
        fn,
        'sync-not-mapped',
        dev,
        `device driver tries to sync DMA memory it has not allocated [device address=${a16(ref.dev_addr)}] [size=${ref.size} bytes]`,
      );
      return;
    }

    if (ref.size > entry.size) {
      err_printk(
        st,
        fn,
        'sync-size-overflow',
        dev,
        `device driver syncs DMA memory outside allocated range [device address=${a16(entry.dev_addr)}] [allocation size=${entry.size} bytes] [sync offset+size=${ref.size}]`,
      );
    }

    if (entry.direction === DMA_BIDIRECTIONAL) {
      knote('BIDIRECTIONAL mapping: no direction checks');
      return;
    }

    const tail = `[device address=${a16(ref.dev_addr)}] [size=${entry.size} bytes] [mapped with ${dmaDirName(entry.direction)}] [synced with ${dmaDirName(ref.direction)}]`;
    if (ref.direction !== entry.direction) {
      err_printk(st, fn, 'sync-dir-mismatch', dev, `device driver syncs DMA memory with different direction ${tail}`);
    }
    if (to_cpu && entry.direction !== DMA_FROM_DEVICE && ref.direction !== DMA_TO_DEVICE) {
      err_printk(st, fn, 'sync-dir-to-device-for-cpu', dev, `device driver syncs device read-only DMA memory for cpu ${tail}`);
    }
    if (!to_cpu && entry.direction !== DMA_TO_DEVICE && ref.direction !== DMA_FROM_DEVICE) {
      err_printk(st, fn, 'sync-dir-from-device-for-device', dev, `device driver syncs device write-only DMA memory to device ${tail}`);
    }

    if (ref.sg_call_ents !== 0 && ref.type === 'sg' && ref.sg_call_ents !== entry.sg_call_ents) {
      err_printk(
        st,
        fn,
        'sync-sg-count-mismatch',
        ref.dev,
        `device driver syncs DMA sg list with different entry count [map count=${entry.sg_call_ents}] [sync count=${ref.sg_call_ents}]`,
      );
    }
  } finally {
    kexit();
  }
}

// ------------------------------------------------------- entry points

/**
 * include/linux/dma-mapping.h dma_mapping_error (5.10, 6.6), as debug.c calls
 * it internally: mark the entry checked, then -ENOMEM for DMA_MAPPING_ERROR.
 */
function dma_mapping_error(st: DmaDebugState, dev: DmaDebugDevice, dma_addr: bigint): number {
  kenter('dma_mapping_error');
  try {
    debug_dma_mapping_error(st, dev, dma_addr);
    return u64(dma_addr) === DMA_MAPPING_ERROR ? -ENOMEM : 0;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c debug_dma_map_single (5.10, 6.6): the pointer must be in
 * the linear map; a vmalloc pointer fails both tests and gets both reports.
 * addr/len only feed the message.
 */
export function debug_dma_map_single(
  st: DmaDebugState,
  dev: DmaDebugDevice,
  ptrIsValidLinear: boolean,
  ptrIsVmalloc: boolean,
  addr: bigint = 0n,
  len: bigint = 0n,
): void {
  const fn = 'debug_dma_map_single';
  kenter(fn);
  try {
    if (dma_debug_disabled(st)) return;
    if (!ptrIsValidLinear) {
      err_printk(st, fn, 'map-invalid-area', dev, `device driver maps memory from invalid area [addr=${hex(addr)}] [len=${len}]`);
    }
    if (ptrIsVmalloc) {
      err_printk(st, fn, 'map-vmalloc-area', dev, `device driver maps memory from vmalloc area [addr=${hex(addr)}] [len=${len}]`);
    }
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c debug_dma_map_page: a failed mapping (DMA_MAPPING_ERROR)
 * creates no entry and no report. Otherwise a "single" entry, NOT_CHECKED until
 * dma_mapping_error() runs, after the stack and text/rodata checks. The kernel
 * tests the address with dma_mapping_error() itself, so mapping an address that
 * is already live marks the older entry checked.
 * 5.10: the hook has no attrs argument, so `attrs` is ignored.
 * 6.6: attrs feeds the EEXIST decision in add_dma_entry.
 */
export function debug_dma_map_page(
  st: DmaDebugState,
  dev: DmaDebugDevice,
  paddr: bigint,
  size: bigint,
  direction: number,
  dma_addr: bigint,
  attrs: number,
  opts: DmaDebugMapOptions = {},
): void {
  const fn = 'debug_dma_map_page';
  kenter(fn);
  try {
    if (dma_debug_disabled(st)) return;
    if (dma_mapping_error(st, dev, dma_addr) !== 0) {
      knote('DMA_MAPPING_ERROR: no entry');
      return;
    }
    const entry: DmaDebugEntry = {
      dev,
      type: 'single',
      paddr,
      dev_addr: u64(dma_addr),
      size,
      direction,
      sg_call_ents: 0,
      map_err_type: MAP_ERR_NOT_CHECKED,
    };
    if (opts.onStack === true) {
      err_printk(st, fn, 'map-from-stack', dev, `device driver maps memory from stack [addr=${hex(paddr)}]`);
    } else if (opts.onVmappedStack === true) {
      err_printk(st, fn, 'map-from-stack', dev, `device driver maps memory from stack [probable addr=${hex(paddr)}]`);
    }
    if (opts.kernelTextOrRodata === true) {
      err_printk(st, fn, 'map-kernel-text-rodata', dev, `device driver maps memory from kernel text or rodata [addr=${hex(paddr)}] [len=${size}]`);
    }
    add_dma_entry(st, fn, entry, st.kernel === '5.10' ? 0 : attrs, st.kernel === '6.6' && opts.bounceUnalignedKmalloc === true);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c debug_dma_mapping_error (5.10, 6.6): the first exact match
 * (same device and address) still NOT_CHECKED, in bucket order, becomes CHECKED.
 * No message either way.
 */
export function debug_dma_mapping_error(st: DmaDebugState, dev: DmaDebugDevice, dma_addr: bigint): void {
  kenter('debug_dma_mapping_error');
  try {
    if (dma_debug_disabled(st)) return;
    const ref = makeRef(dev, 'single', dma_addr, 0n, DMA_NONE);
    for (const entry of bucketList(st, ref.dev_addr)) {
      if (!exact_match(ref, entry)) continue;
      if (entry.map_err_type === MAP_ERR_NOT_CHECKED) {
        entry.map_err_type = MAP_ERR_CHECKED;
        break;
      }
    }
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c debug_dma_unmap_page (5.10, 6.6): check_unmap of a "single" reference. */
export function debug_dma_unmap_page(st: DmaDebugState, dev: DmaDebugDevice, dma_addr: bigint, size: bigint, direction: number): void {
  const fn = 'debug_dma_unmap_page';
  kenter(fn);
  try {
    if (dma_debug_disabled(st)) return;
    check_unmap(st, fn, makeRef(dev, 'single', dma_addr, size, direction));
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c debug_dma_sync_single_for_cpu (5.10, 6.6). */
export function debug_dma_sync_single_for_cpu(st: DmaDebugState, dev: DmaDebugDevice, dma_handle: bigint, size: bigint, direction: number): void {
  const fn = 'debug_dma_sync_single_for_cpu';
  kenter(fn);
  try {
    if (dma_debug_disabled(st)) return;
    check_sync(st, fn, dev, makeRef(dev, 'single', dma_handle, size, direction), true);
  } finally {
    kexit();
  }
}

/** kernel/dma/debug.c debug_dma_sync_single_for_device (5.10, 6.6). */
export function debug_dma_sync_single_for_device(st: DmaDebugState, dev: DmaDebugDevice, dma_handle: bigint, size: bigint, direction: number): void {
  const fn = 'debug_dma_sync_single_for_device';
  kenter(fn);
  try {
    if (dma_debug_disabled(st)) return;
    check_sync(st, fn, dev, makeRef(dev, 'single', dma_handle, size, direction), false);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c debug_dma_alloc_coherent: a NULL cpu address, or one that
 * is neither vmalloc nor linear (cpuAddrPhys === null), records nothing.
 * Otherwise a coherent, BIDIRECTIONAL, NOT_APPLICABLE entry whose first cache
 * line is tracked like any other.
 * 5.10: the hook has no attrs. 6.6: attrs reach add_dma_entry.
 */
export function debug_dma_alloc_coherent(
  st: DmaDebugState,
  dev: DmaDebugDevice,
  size: bigint,
  dma_addr: bigint,
  cpuAddrPhys: bigint | null,
  attrs: number,
  opts: Pick<DmaDebugMapOptions, 'bounceUnalignedKmalloc'> = {},
): void {
  const fn = 'debug_dma_alloc_coherent';
  kenter(fn);
  try {
    if (dma_debug_disabled(st)) return;
    if (cpuAddrPhys === null) {
      knote('no cpu address / not vmalloc or linear: no entry');
      return;
    }
    const entry: DmaDebugEntry = {
      dev,
      type: 'coherent',
      paddr: cpuAddrPhys,
      dev_addr: u64(dma_addr),
      size,
      direction: DMA_BIDIRECTIONAL,
      sg_call_ents: 0,
      map_err_type: MAP_ERR_CHECK_NOT_APPLICABLE,
    };
    add_dma_entry(st, fn, entry, st.kernel === '5.10' ? 0 : attrs, st.kernel === '6.6' && opts.bounceUnalignedKmalloc === true);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c debug_dma_free_coherent (5.10, 6.6): check_unmap with a
 * coherent, BIDIRECTIONAL reference carrying the CPU physical address (the
 * kernel derives it with vmalloc_to_pfn or virt_to_page). null = neither
 * vmalloc nor linear: ignored.
 */
export function debug_dma_free_coherent(st: DmaDebugState, dev: DmaDebugDevice, size: bigint, cpuAddrPhys: bigint | null, dma_addr: bigint): void {
  const fn = 'debug_dma_free_coherent';
  kenter(fn);
  try {
    if (cpuAddrPhys === null) return;
    if (dma_debug_disabled(st)) return;
    const ref = makeRef(dev, 'coherent', dma_addr, size, DMA_BIDIRECTIONAL);
    ref.paddr = cpuAddrPhys;
    check_unmap(st, fn, ref);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/debug.c dma_debug_device_change (5.10, 6.6), BUS_NOTIFY_UNBOUND_DRIVER:
 * report entries the device still holds (the one named is the last in hash
 * order, as device_dma_allocations leaves it). Entries stay in the hash.
 */
export function dma_debug_device_change(st: DmaDebugState, dev: DmaDebugDevice): void {
  const fn = 'dma_debug_device_change';
  kenter(fn);
  try {
    if (dma_debug_disabled(st)) return;
    let count = 0;
    let last: DmaDebugEntry | null = null;
    for (const idx of [...st.hash.keys()].sort((a, b) => a - b)) {
      for (const e of st.hash.get(idx) ?? []) {
        if (e.dev !== dev) continue;
        count++;
        last = e;
      }
    }
    if (count === 0 || last === null) return;
    err_printk(
      st,
      fn,
      'pending-allocations',
      dev,
      `device driver has pending DMA allocations while released from device [count=${count}] One of leaked entries details: [device address=${a16(last.dev_addr)}] [size=${last.size} bytes] [mapped with ${dmaDirName(last.direction)}] [mapped as ${TYPE2NAME[last.type]}]`,
    );
  } finally {
    kexit();
  }
}

/** Model helper: live entries, of one device or of all (leak check at driver unbind). */
export function debugDmaOutstanding(st: DmaDebugState, dev?: DmaDebugDevice): number {
  let n = 0;
  for (const list of st.hash.values()) for (const e of list) if (dev === undefined || e.dev === dev) n++;
  return n;
}
