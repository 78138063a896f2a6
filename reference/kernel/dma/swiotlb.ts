// The software IO TLB: kernel/dma/swiotlb.c, 5.10 and 6.6. A bounce pool in
// low RAM, carved into IO_TLB_SIZE (2 KiB) slots grouped in segments of
// IO_TLB_SEGSIZE (128); a mapping takes a run of free slots inside one segment
// and data is copied between the original buffer and the slots.
//
// Model bounds and simplifications (no invariant depends on them):
// - The pool is small: SWIOTLB_MODEL_NSLABS (128 slots = 256 KiB) by default
//   instead of IO_TLB_DEFAULT_SIZE (64 MiB); the caller passes base/nslabs.
// - One area (6.6 splits the pool into per-CPU areas, each searched from its
//   own index; with one CPU the search is the 5.10-style single index).
// - No CONFIG_SWIOTLB_DYNAMIC (6.6, default n), no restricted pools, no
//   memory encryption.
// - Per-device values are fixed: dma_get_min_align_mask() = 0 (so
//   swiotlb_align_offset() = 0 and no pre-padding), dma_get_seg_boundary() =
//   ULONG_MAX (iommu_is_span_boundary never fires), and the pool's DMA
//   address equals its physical address for the alignment test.
// - Copies go through a caller-supplied CPU accessor: the kernel's
//   swiotlb_bounce is a memcpy through the cacheable linear map of both the
//   original buffer and the slot, so the copy sees (and leaves) cache state.
//
// Version differences kept (5.10 checked against a v5.10.13 swiotlb.c; 6.6
// from a 6.6-era tree and the 6.9 alignment-fix diffs):
// - Map: 5.10 copies orig -> slot only for TO_DEVICE / BIDIRECTIONAL without
//   DMA_ATTR_SKIP_CPU_SYNC. Since v5.18 ("swiotlb: fix info leak with
//   DMA_FROM_DEVICE" ddbd89deb7d3, reworked aa6f8dcbab47, reverted and partly
//   reinstated 901c7280ca0d) the map copies for every direction and ignores
//   SKIP_CPU_SYNC, so bytes a FROM_DEVICE device does not write come back
//   unchanged. 6.6 does that. The fix was backported to 5.10.y stable (the
//   "Reinstate some of ..." 5.10 backport was posted 2022-05-23), so a vendor
//   5.10 built on a late 5.10.y behaves like 6.6 here: swiotlbInit's
//   alwaysBounceOnMap option selects it.
// - Slot search: 5.10 has no alloc_align_mask; allocations >= PAGE_SIZE step
//   by a page from ALIGN(io_tlb_index, stride). 6.6 (swiotlb_area_find_slots)
//   builds iotlb_align_mask = (min_align_mask | alloc_align_mask | ~PAGE_MASK
//   for >= PAGE_SIZE) & ~(IO_TLB_SIZE - 1) and, when orig_addr != 0, skips a
//   slot whose address bits under that mask differ from orig_addr's: the slot
//   matches the original's bit pattern, not zero (the 6.9 fix "swiotlb: Fix
//   alignment checks when both allocation and DMA masks are present" changed
//   that). The stride then jumps by the mask from the first matching slot.
// - Unmap: 5.10 frees ALIGN(alloc_size) / IO_TLB_SIZE slots from the caller's
//   size; 6.6 frees what slots[index].alloc_size recorded.
// - swiotlb_bounce: 6.6 clamps a copy to the recorded alloc_size ("Buffer
//   overflow detected"); 5.10 copies whatever size it is given.
// - No pool: 5.10 panics on a map when its boot allocation failed
//   (no_iotlb_memory) and reports "buffer is full" when it was never set up;
//   6.6 warns and returns DMA_MAPPING_ERROR.

import type { KernelVersion } from '../../config/profile.ts';
import { KernelBug, ModelError, PAGE_SIZE, U64_MAX, hex } from '../../types.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../include/linux/dma-direction.ts';
import { DMA_ATTR_NO_WARN, DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR } from '../../include/linux/dma-mapping-attrs.ts';

/** include/linux/swiotlb.h (5.10, 6.6). */
export const IO_TLB_SHIFT = 11;
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
export const IO_TLB_SEGSIZE = 128;
/** include/linux/swiotlb.h IO_TLB_DEFAULT_SIZE: the kernel's 64 MiB default (the model uses a smaller pool). */
export const IO_TLB_DEFAULT_SIZE = 64 << 20;
/** Model default pool: 128 slots = 256 KiB. */
export const SWIOTLB_MODEL_NSLABS = 128;
/** kernel/dma/swiotlb.c INVALID_PHYS_ADDR: ~(phys_addr_t)0. */
export const INVALID_PHYS_ADDR = U64_MAX;
/** include/linux/swiotlb.h enum dma_sync_target (5.10 only). */
export const SYNC_FOR_CPU = 0;
export const SYNC_FOR_DEVICE = 1;

const FOUR_GIB = 1n << 32n;
const PAGE_MASK_LOW = PAGE_SIZE - 1;

/** A CPU's view of memory through the cacheable linear map (what memcpy in swiotlb_bounce does). */
export interface CpuMemAccess {
  load(pa: bigint, len: number): Uint8Array;
  store(pa: bigint, data: Uint8Array): void;
}

/**
 * kernel/dma/swiotlb.c struct io_tlb_slot (6.6; 5.10 keeps io_tlb_list[] and
 * io_tlb_orig_addr[] as two arrays with the same meaning).
 */
export interface IoTlbSlot {
  /** Original address of this slot's part of the mapping, INVALID_PHYS_ADDR when free. */
  orig_addr: bigint;
  /** 6.6: bytes of the mapping from this slot's start on; 5.10 model-only (the kernel does not record it). */
  alloc_size: number;
  /** Free slots from here to the end of the free run (never past the segment); 0 = in use. */
  list: number;
}

/** kernel/dma/swiotlb.c io_tlb_mem + io_tlb_pool (6.6) / the io_tlb_* globals (5.10). */
export interface IoTlbMem {
  readonly kernel: KernelVersion;
  readonly faults: ReadonlySet<string>;
  /** io_tlb_start / defpool.start. */
  readonly start: bigint;
  /** io_tlb_end / defpool.end; equals start when there is no pool. */
  readonly end: bigint;
  readonly nslabs: number;
  readonly slots: IoTlbSlot[];
  /** io_tlb_index (5.10) / areas[0].index (6.6): where the next search starts. */
  index: number;
  /** io_tlb_used (5.10) / areas[0].used (6.6). */
  used: number;
  /** Map copies orig -> slot for every direction (6.6; 5.10.y with the info-leak fix). */
  readonly alwaysBounceOnMap: boolean;
  /** 5.10 no_iotlb_memory: swiotlb_init tried and failed to get its buffer; a later map panics. */
  readonly no_iotlb_memory: boolean;
}

export interface SwiotlbOptions {
  /** Default: false for 5.10 (v5.10 release), true for 6.6. */
  alwaysBounceOnMap?: boolean;
  /** When given, the pool is zeroed through it, as memblock_alloc (5.10) and swiotlb_init_io_tlb_pool's memset (6.6) do. */
  cpu?: CpuMemAccess;
  /** With nslabs 0: the boot-time allocation failed (5.10 sets no_iotlb_memory) rather than swiotlb never being set up. */
  initFailed?: boolean;
}

function io_tlb_offset(i: number): number {
  return i & (IO_TLB_SEGSIZE - 1);
}

function slotsFor(val: number): number {
  return Math.ceil(val / IO_TLB_SIZE);
}

/** kernel/dma/swiotlb.c nr_slots (6.6; ALIGN(x, IO_TLB_SIZE) >> IO_TLB_SHIFT in 5.10). */
export function nr_slots(val: number): number {
  kenter('nr_slots');
  try {
    return slotsFor(val);
  } finally {
    kexit();
  }
}

function slot_addr(start: bigint, idx: number): bigint {
  return start + (BigInt(idx) << BigInt(IO_TLB_SHIFT));
}

/**
 * Model helper for swiotlb_init (5.10 swiotlb_init_with_tbl, 6.6
 * swiotlb_init_remap + swiotlb_init_io_tlb_pool): a pool of `nslabs` slots at
 * `base`, reserved from low memory at boot. nslabs 0 = no pool (swiotlb not
 * initialised). 5.10 requires a whole number of segments (its list[] set-up
 * assumes it; the kernel always rounds nslabs so); 6.6 caps the last
 * segment's run at the pool end.
 */
export function swiotlbInit(
  mem: { base: bigint; nslabs: number },
  kernel: KernelVersion,
  faults: ReadonlySet<string>,
  opts: SwiotlbOptions = {},
): IoTlbMem {
  kenter('swiotlb_init');
  try {
    if (kernel !== '5.10' && kernel !== '6.6') throw new ModelError(`swiotlbInit: unknown kernel ${String(kernel)}`);
    const { base, nslabs } = mem;
    if (!Number.isInteger(nslabs) || nslabs < 0) throw new ModelError(`swiotlbInit: bad nslabs ${nslabs}`);
    const alwaysBounceOnMap = opts.alwaysBounceOnMap ?? kernel === '6.6';
    if (nslabs === 0) {
      knote('no swiotlb pool');
      const no_iotlb_memory = opts.initFailed === true;
      return { kernel, faults, start: 0n, end: 0n, nslabs: 0, slots: [], index: 0, used: 0, alwaysBounceOnMap, no_iotlb_memory };
    }
    if (base < 0n || (base & BigInt(PAGE_MASK_LOW)) !== 0n) throw new ModelError(`swiotlbInit: base ${hex(base)} not page aligned`);
    const end = slot_addr(base, nslabs);
    // memblock_alloc_low: below ARCH_LOW_ADDRESS_LIMIT, 4 GiB on riscv.
    if (end > FOUR_GIB) throw new ModelError(`swiotlbInit: pool [${hex(base)}, ${hex(end)}) is not below 4 GiB`);
    if (kernel === '5.10' && nslabs % IO_TLB_SEGSIZE !== 0) {
      throw new ModelError(`swiotlbInit: 5.10 needs nslabs to be a multiple of IO_TLB_SEGSIZE, got ${nslabs}`);
    }
    const slots: IoTlbSlot[] = [];
    for (let i = 0; i < nslabs; i++) {
      const list = kernel === '5.10' ? IO_TLB_SEGSIZE - io_tlb_offset(i) : Math.min(IO_TLB_SEGSIZE - io_tlb_offset(i), nslabs - i);
      slots.push({ orig_addr: INVALID_PHYS_ADDR, alloc_size: 0, list });
    }
    if (opts.cpu !== undefined) opts.cpu.store(base, new Uint8Array(nslabs * IO_TLB_SIZE));
    if (opts.initFailed === true) throw new ModelError('swiotlbInit: initFailed needs nslabs 0');
    return { kernel, faults, start: base, end, nslabs, slots, index: 0, used: 0, alwaysBounceOnMap, no_iotlb_memory: false };
  } finally {
    kexit();
  }
}

/** kernel/dma/swiotlb.c is_swiotlb_active (5.10: io_tlb_end != 0; 6.6: mem && mem->nslabs). */
export function is_swiotlb_active(io: IoTlbMem): boolean {
  kenter('is_swiotlb_active');
  try {
    return io.kernel === '5.10' ? io.end !== 0n : io.nslabs > 0;
  } finally {
    kexit();
  }
}

/** include/linux/swiotlb.h is_swiotlb_buffer (5.10 (paddr), 6.6 (dev, paddr)): paddr inside [start, end). */
export function is_swiotlb_buffer(io: IoTlbMem, paddr: bigint): boolean {
  kenter('is_swiotlb_buffer');
  try {
    return paddr >= io.start && paddr < io.end;
  } finally {
    kexit();
  }
}

/** kernel/dma/swiotlb.c swiotlb_max_mapping_size (5.10, 6.6): one segment (256 KiB); 6.6 would subtract min_align_mask rounding (0 here). */
export function swiotlb_max_mapping_size(io: IoTlbMem): number {
  kenter('swiotlb_max_mapping_size');
  try {
    void io;
    return IO_TLB_SIZE * IO_TLB_SEGSIZE;
  } finally {
    kexit();
  }
}

/** Model helper: slots in use. */
export function swiotlbUsed(io: IoTlbMem): number {
  return io.used;
}

/**
 * Model helper: is the free-run bookkeeping canonical? Every free slot's
 * list[] equals the number of free slots from it to the end of its run, the
 * run stopping at an allocated slot, a segment end or the pool end; allocated
 * slots have list 0; used matches. (5.10 may legitimately read past the pool
 * end only if nslabs were not whole segments, which swiotlbInit refuses.)
 */
export function swiotlbListConsistent(io: IoTlbMem): boolean {
  let used = 0;
  for (let i = io.nslabs - 1; i >= 0; i--) {
    const s = io.slots[i];
    const inUse = s.list === 0;
    if (inUse) {
      used++;
      continue;
    }
    if (s.orig_addr !== INVALID_PHYS_ADDR) return false;
    const segEnd = io_tlb_offset(i) === IO_TLB_SEGSIZE - 1 || i === io.nslabs - 1;
    const expect = segEnd ? 1 : io.slots[i + 1].list + 1;
    if (s.list !== expect) return false;
  }
  return used === io.used;
}

function slotIndexOf(io: IoTlbMem, tlb_addr: bigint, fn: string): number {
  if (tlb_addr < io.start || tlb_addr >= io.end) throw new ModelError(`${fn}(${hex(tlb_addr)}): not a swiotlb buffer`);
  return Number((tlb_addr - io.start) >> BigInt(IO_TLB_SHIFT));
}

/** The memcpy of swiotlb_bounce: TO_DEVICE copies orig -> slot, anything else slot -> orig. */
function bounceCopy(cpu: CpuMemAccess, orig_addr: bigint, tlb_addr: bigint, size: number, dir: number): void {
  if (size <= 0) return;
  if (dir === DMA_TO_DEVICE) cpu.store(tlb_addr, cpu.load(orig_addr, size));
  else cpu.store(orig_addr, cpu.load(tlb_addr, size));
}

/**
 * kernel/dma/swiotlb.c swiotlb_bounce. 6.6 (dev, tlb_addr, size, dir): finds
 * the original address from the slot, skips a free slot, clamps `size` to the
 * recorded alloc_size with a WARN. 5.10's is (orig_addr, tlb_addr, size, dir)
 * with the caller looking the original up; here the lookup is the same as
 * swiotlb_tbl_sync_single's (slot orig_addr plus the offset inside the slot)
 * and nothing is clamped.
 */
export function swiotlb_bounce(io: IoTlbMem, cpu: CpuMemAccess, tlb_addr: bigint, size: number, dir: number): void {
  kenter('swiotlb_bounce');
  try {
    const index = slotIndexOf(io, tlb_addr, 'swiotlb_bounce');
    const slot = io.slots[index];
    let orig_addr = slot.orig_addr;
    if (orig_addr === INVALID_PHYS_ADDR) {
      knote('slot not mapped (INVALID_PHYS_ADDR)');
      return;
    }
    const tlb_offset = Number(tlb_addr & BigInt(IO_TLB_SIZE - 1));
    if (io.kernel === '6.6') {
      // swiotlb_align_offset(dev, orig_addr) is 0 with min_align_mask 0.
      let alloc_size = slot.alloc_size;
      if (tlb_offset > alloc_size) {
        knote('WARN: Buffer overflow detected (offset past the allocation)');
        return;
      }
      orig_addr += BigInt(tlb_offset);
      alloc_size -= tlb_offset;
      if (size > alloc_size) {
        knote('WARN: Buffer overflow detected');
        size = alloc_size;
      }
    } else {
      orig_addr += BigInt(tlb_offset);
    }
    bounceCopy(cpu, orig_addr, tlb_addr, size, dir);
  } finally {
    kexit();
  }
}

/**
 * 5.10: the slot search inside swiotlb_tbl_map_single. Returns the first slot
 * index or -1.
 */
function findSlots510(io: IoTlbMem, alloc_size: number): number {
  const nslots = slotsFor(alloc_size);
  const stride = alloc_size >= PAGE_SIZE ? PAGE_SIZE >> IO_TLB_SHIFT : 1;
  if (nslots === 0) throw new KernelBug('swiotlb_tbl_map_single: BUG_ON(!nslots)');
  if (nslots > io.nslabs - io.used) return -1;
  let index = Math.ceil(io.index / stride) * stride;
  if (index >= io.nslabs) index = 0;
  const wrap = index;
  do {
    // iommu_is_span_boundary never fires with a ULONG_MAX segment boundary.
    if (io.slots[index].list >= nslots) {
      claimSlots(io, index, nslots, alloc_size);
      io.index = index + nslots < io.nslabs ? index + nslots : 0;
      return index;
    }
    index += stride;
    if (index >= io.nslabs) index = 0;
  } while (index !== wrap);
  return -1;
}

/** Mark slots [index, index + nslots) used and shorten the free run in front of them. */
function claimSlots(io: IoTlbMem, index: number, nslots: number, alloc_size: number): void {
  for (let i = index; i < index + nslots; i++) {
    io.slots[i].list = 0;
    io.slots[i].alloc_size = alloc_size - (i - index) * IO_TLB_SIZE;
  }
  let count = 0;
  for (let i = index - 1; i >= 0 && io_tlb_offset(i) !== IO_TLB_SEGSIZE - 1 && io.slots[i].list !== 0; i--) {
    io.slots[i].list = ++count;
  }
  io.used += nslots;
}

/**
 * kernel/dma/swiotlb.c swiotlb_area_find_slots (6.6; one area, so also
 * swiotlb_pool_find_slots / swiotlb_find_slots). Returns the first slot index
 * or -1.
 */
export function swiotlb_area_find_slots(io: IoTlbMem, orig_addr: bigint, alloc_size: number, alloc_align_mask: number): number {
  kenter('swiotlb_area_find_slots');
  try {
    if (io.kernel !== '6.6') throw new ModelError('swiotlb_area_find_slots does not exist in 5.10');
    const nslots = slotsFor(alloc_size);
    if (nslots === 0) throw new KernelBug('swiotlb_area_find_slots: BUG_ON(!nslots)');
    let iotlb_align_mask = 0 /* dma_get_min_align_mask */ | alloc_align_mask;
    if (alloc_size >= PAGE_SIZE) iotlb_align_mask |= PAGE_MASK_LOW;
    iotlb_align_mask &= ~(IO_TLB_SIZE - 1);
    const stride = Math.floor(iotlb_align_mask / IO_TLB_SIZE) + 1;
    const m = BigInt(iotlb_align_mask);
    if (nslots > io.nslabs - io.used) return -1;
    const wrap = (i: number): number => (i >= io.nslabs ? 0 : i);
    let index = io.index;
    for (let checked = 0; checked < io.nslabs; ) {
      if (orig_addr !== 0n && (slot_addr(io.start, index) & m) !== (orig_addr & m)) {
        index = wrap(index + 1);
        checked++;
        continue;
      }
      if (io.slots[index].list >= nslots) {
        claimSlots(io, index, nslots, alloc_size);
        io.index = wrap(index + nslots);
        return index;
      }
      index = wrap(index + stride);
      checked += stride;
    }
    return -1;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/swiotlb.c swiotlb_tbl_map_single (5.10 without alloc_align_mask,
 * 6.6): take slots for `alloc_size` bytes, record the original address per
 * slot and copy the original into the slot (see the file header for which
 * version copies when). Returns the slot address, or DMA_MAPPING_ERROR
 * (all-ones) when the sizes are inconsistent or the pool is full.
 */
export function swiotlb_tbl_map_single(
  io: IoTlbMem,
  cpu: CpuMemAccess,
  orig_addr: bigint,
  mapping_size: number,
  alloc_size: number,
  alloc_align_mask: number,
  dir: number,
  attrs: number,
): bigint {
  kenter('swiotlb_tbl_map_single');
  try {
    if (!Number.isInteger(mapping_size) || mapping_size < 0 || !Number.isInteger(alloc_size) || alloc_size < 0) {
      throw new ModelError(`swiotlb_tbl_map_single: bad sizes ${mapping_size}/${alloc_size}`);
    }
    if (!Number.isInteger(alloc_align_mask) || alloc_align_mask < 0) throw new ModelError(`swiotlb_tbl_map_single: bad alloc_align_mask ${alloc_align_mask}`);
    if (io.kernel === '5.10' && alloc_align_mask !== 0) throw new ModelError('5.10 swiotlb_tbl_map_single has no alloc_align_mask');
    if (io.kernel === '5.10' && io.no_iotlb_memory) {
      throw new KernelBug("panic: Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer");
    }
    // 5.10 without any pool goes on and finds nothing free ("buffer is full").
    if (io.kernel === '6.6' && io.nslabs === 0) {
      knote("Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer");
      return DMA_MAPPING_ERROR;
    }
    if (mapping_size > alloc_size) {
      knote('Invalid sizes');
      return DMA_MAPPING_ERROR;
    }
    const offset = 0; // swiotlb_align_offset(dev, orig_addr) with min_align_mask 0
    const index = io.kernel === '5.10' ? findSlots510(io, alloc_size) : swiotlb_area_find_slots(io, orig_addr, alloc_size + offset, alloc_align_mask);
    if (index === -1) {
      knote('swiotlb buffer is full');
      if (attrs & DMA_ATTR_NO_WARN) knote('DMA_ATTR_NO_WARN: no message');
      return DMA_MAPPING_ERROR;
    }
    const n = slotsFor(alloc_size + offset);
    for (let i = 0; i < n; i++) io.slots[index + i].orig_addr = slot_addr(orig_addr, i);
    const tlb_addr = slot_addr(io.start, index) + BigInt(offset);
    if (io.alwaysBounceOnMap) {
      knote('bounce orig -> tlb for every direction');
      swiotlb_bounce(io, cpu, tlb_addr, mapping_size, DMA_TO_DEVICE);
    } else if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) && (dir === DMA_TO_DEVICE || dir === DMA_BIDIRECTIONAL)) {
      swiotlb_bounce(io, cpu, tlb_addr, mapping_size, DMA_TO_DEVICE);
    }
    return tlb_addr;
  } finally {
    kexit();
  }
}

/** Return slots [index, index + nslots) to the free runs, merging with the runs after and before them. */
function releaseSlots(io: IoTlbMem, index: number, nslots: number): void {
  let count = index + nslots < Math.ceil((index + 1) / IO_TLB_SEGSIZE) * IO_TLB_SEGSIZE && index + nslots < io.nslabs ? io.slots[index + nslots].list : 0;
  for (let i = index + nslots - 1; i >= index; i--) {
    const s = io.slots[i];
    s.list = ++count;
    s.orig_addr = INVALID_PHYS_ADDR;
    s.alloc_size = 0;
  }
  for (let i = index - 1; i >= 0 && io_tlb_offset(i) !== IO_TLB_SEGSIZE - 1 && io.slots[i].list !== 0; i--) {
    io.slots[i].list = ++count;
  }
  io.used -= nslots;
}

/** kernel/dma/swiotlb.c swiotlb_release_slots (6.6): free the slots recorded for tlb_addr. */
export function swiotlb_release_slots(io: IoTlbMem, tlb_addr: bigint): void {
  kenter('swiotlb_release_slots');
  try {
    if (io.kernel !== '6.6') throw new ModelError('swiotlb_release_slots does not exist in 5.10');
    const index = slotIndexOf(io, tlb_addr, 'swiotlb_release_slots');
    const nslots = slotsFor(io.slots[index].alloc_size);
    if (nslots === 0) knote('releasing a free slot: nothing to free');
    releaseSlots(io, index, nslots);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/swiotlb.c swiotlb_tbl_unmap_single (5.10, 6.6): copy the slot
 * back to the original for FROM_DEVICE / BIDIRECTIONAL unless
 * DMA_ATTR_SKIP_CPU_SYNC, then free the slots. 5.10 takes an alloc_size
 * argument and frees that many slots (dma-direct's swiotlb path passes the
 * mapping size, the default here); 6.6 frees what the map recorded.
 */
export function swiotlb_tbl_unmap_single(
  io: IoTlbMem,
  cpu: CpuMemAccess,
  tlb_addr: bigint,
  mapping_size: number,
  dir: number,
  attrs: number,
  alloc_size: number = mapping_size,
): void {
  kenter('swiotlb_tbl_unmap_single');
  try {
    const index = slotIndexOf(io, tlb_addr, 'swiotlb_tbl_unmap_single');
    const syncBack = !(attrs & DMA_ATTR_SKIP_CPU_SYNC) && (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL);
    if (io.kernel === '5.10') {
      const nslots = slotsFor(alloc_size);
      // 5.10 hands the slot's orig_addr to swiotlb_bounce; tlb_addr is slot-aligned, so the lookup is the same.
      if (syncBack && io.slots[index].orig_addr !== INVALID_PHYS_ADDR) swiotlb_bounce(io, cpu, tlb_addr, mapping_size, DMA_FROM_DEVICE);
      if (index + nslots > io.nslabs) throw new ModelError(`swiotlb_tbl_unmap_single: ${nslots} slots from ${index} run past the pool`);
      releaseSlots(io, index, nslots);
      return;
    }
    if (syncBack) swiotlb_bounce(io, cpu, tlb_addr, mapping_size, DMA_FROM_DEVICE);
    swiotlb_release_slots(io, tlb_addr);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/swiotlb.c swiotlb_tbl_sync_single (5.10 only): SYNC_FOR_CPU
 * copies slot -> orig for FROM_DEVICE / BIDIRECTIONAL (BUG_ON any other
 * direction but TO_DEVICE); SYNC_FOR_DEVICE copies orig -> slot for TO_DEVICE
 * / BIDIRECTIONAL (BUG_ON any other but FROM_DEVICE). A free slot is ignored.
 */
export function swiotlb_tbl_sync_single(io: IoTlbMem, cpu: CpuMemAccess, tlb_addr: bigint, size: number, dir: number, target: number): void {
  kenter('swiotlb_tbl_sync_single');
  try {
    if (io.kernel !== '5.10') throw new ModelError('swiotlb_tbl_sync_single does not exist in 6.6');
    const index = slotIndexOf(io, tlb_addr, 'swiotlb_tbl_sync_single');
    if (io.slots[index].orig_addr === INVALID_PHYS_ADDR) return;
    if (target === SYNC_FOR_CPU) {
      if (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) swiotlb_bounce(io, cpu, tlb_addr, size, DMA_FROM_DEVICE);
      else if (dir !== DMA_TO_DEVICE) throw new KernelBug(`swiotlb_tbl_sync_single: BUG_ON(dir != DMA_TO_DEVICE), dir ${dir}`);
    } else if (target === SYNC_FOR_DEVICE) {
      if (dir === DMA_TO_DEVICE || dir === DMA_BIDIRECTIONAL) swiotlb_bounce(io, cpu, tlb_addr, size, DMA_TO_DEVICE);
      else if (dir !== DMA_FROM_DEVICE) throw new KernelBug(`swiotlb_tbl_sync_single: BUG_ON(dir != DMA_FROM_DEVICE), dir ${dir}`);
    } else {
      throw new KernelBug(`swiotlb_tbl_sync_single: BUG() on sync target ${target}`);
    }
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/swiotlb.c swiotlb_sync_single_for_device (6.6): orig -> slot for
 * TO_DEVICE / BIDIRECTIONAL, BUG_ON any other direction but FROM_DEVICE.
 * On 5.10 this is swiotlb_tbl_sync_single(..., SYNC_FOR_DEVICE).
 */
export function swiotlb_sync_single_for_device(io: IoTlbMem, cpu: CpuMemAccess, tlb_addr: bigint, size: number, dir: number): void {
  if (io.kernel === '5.10') {
    swiotlb_tbl_sync_single(io, cpu, tlb_addr, size, dir, SYNC_FOR_DEVICE);
    return;
  }
  kenter('swiotlb_sync_single_for_device');
  try {
    if (dir === DMA_TO_DEVICE || dir === DMA_BIDIRECTIONAL) swiotlb_bounce(io, cpu, tlb_addr, size, DMA_TO_DEVICE);
    else if (dir !== DMA_FROM_DEVICE) throw new KernelBug(`swiotlb_sync_single_for_device: BUG_ON(dir != DMA_FROM_DEVICE), dir ${dir}`);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/swiotlb.c swiotlb_sync_single_for_cpu (6.6): slot -> orig for
 * FROM_DEVICE / BIDIRECTIONAL, BUG_ON any other direction but TO_DEVICE.
 * On 5.10 this is swiotlb_tbl_sync_single(..., SYNC_FOR_CPU).
 */
export function swiotlb_sync_single_for_cpu(io: IoTlbMem, cpu: CpuMemAccess, tlb_addr: bigint, size: number, dir: number): void {
  if (io.kernel === '5.10') {
    swiotlb_tbl_sync_single(io, cpu, tlb_addr, size, dir, SYNC_FOR_CPU);
    return;
  }
  kenter('swiotlb_sync_single_for_cpu');
  try {
    if (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) swiotlb_bounce(io, cpu, tlb_addr, size, DMA_FROM_DEVICE);
    else if (dir !== DMA_TO_DEVICE) throw new KernelBug(`swiotlb_sync_single_for_cpu: BUG_ON(dir != DMA_TO_DEVICE), dir ${dir}`);
  } finally {
    kexit();
  }
}
