// mm/vmalloc.c (5.10 and 6.6): the kernel virtual area allocator and vmap(),
// the path a non-coherent dma_alloc_coherent takes to give its pages an
// uncached alias. Each PTE goes through set_pte_at(&init_mm, addr, ptep,
// mk_pte(page, prot)), so the memory-type bits are built by pgtable.ts exactly
// as the kernel builds them.
//
// Kernel globals (vmap_area_root, the purge list, vmap_lazy_nr) live on the
// MmStruct that stands for init_mm, so one object is the whole kernel address space.

import {
  type EntryPtr,
  type MmStruct,
  type pgprot_t,
  entryAt,
  writableEntries,
  entryIsLeaf,
  mk_pte,
  p4d_addr_end,
  p4d_alloc,
  p4d_offset,
  pgd_addr_end,
  pgd_offset_k,
  pgprot_nx,
  pmd_addr_end,
  pmd_alloc,
  pmd_offset,
  pte_alloc_kernel,
  pte_none,
  pte_offset_kernel,
  pte_present,
  ptep_get,
  ptep_get_and_clear,
  pud_addr_end,
  pud_alloc,
  pud_offset,
  pfn_valid,
  set_pte_at,
  walkPageTable,
} from '../arch/riscv/pgtable.ts';
import { kenter, kexit, knote } from '../trace.ts';
import { might_sleep } from '../include/linux/kernel.ts';
import { EBUSY, EINVAL, ENOMEM, KernelBug, ModelError, PAGE_SHIFT, PAGE_SIZE_N, hex, u64 } from '../types.ts';

// include/linux/vmalloc.h flag values (5.10 and 6.6 agree on these).
export const VM_IOREMAP = 0x00000001;
export const VM_ALLOC = 0x00000002;
export const VM_MAP = 0x00000004;
export const VM_USERMAP = 0x00000008;
export const VM_DMA_COHERENT = 0x00000010;
export const VM_UNINITIALIZED = 0x00000020;
export const VM_NO_GUARD = 0x00000040;
export const VM_KASAN = 0x00000080;
export const VM_FLUSH_RESET_PERMS = 0x00000100;
export const VM_MAP_PUT_PAGES = 0x00000200;

/** include/linux/vmalloc.h IOREMAP_MAX_ORDER default (riscv does not override): 128 pages. */
export const IOREMAP_MAX_ORDER = 7 + PAGE_SHIFT;

/** include/linux/vmalloc.h struct vm_struct (5.10, 6.6). `pages` are PFNs (null = a NULL page pointer). */
export interface vm_struct {
  addr: bigint;
  /** Includes the guard page unless VM_NO_GUARD. */
  size: bigint;
  flags: number;
  pages: ReadonlyArray<number | null> | null;
  nr_pages: number;
  phys_addr: bigint;
  caller: string;
}

/** include/linux/vmalloc.h struct vmap_area (5.10, 6.6): [va_start, va_end), guard page included. */
export interface vmap_area {
  va_start: bigint;
  va_end: bigint;
  vm: vm_struct | null;
}

export interface VmallocState {
  /** vmap_area_root: busy areas, sorted by va_start. */
  busy: vmap_area[];
  /** purge_vmap_area_list: freed and unmapped, but their VA is not reusable until purged (lazy TLB flush). */
  purge: vmap_area[];
  /** vmap_lazy_nr: pages on the purge list. */
  vmap_lazy_nr: number;
  /** 6.6: drain_vmap_work scheduled and not yet run (the system decides when it runs). */
  drain_work_pending: boolean;
  /** WARN()s the kernel would print, in order. */
  warnings: string[];
}

/** Model helper: the vmalloc globals of this kernel address space, created on first use. */
export function vmallocState(mm: MmStruct): VmallocState {
  if (mm.vmalloc === undefined) {
    mm.vmalloc = { busy: [], purge: [], vmap_lazy_nr: 0, drain_work_pending: false, warnings: [] };
  }
  return mm.vmalloc;
}

function WARN(mm: MmStruct, msg: string): void {
  vmallocState(mm).warnings.push(msg);
  knote('WARN');
}

function alignUp(x: bigint, a: bigint): bigint {
  return (x + a - 1n) & ~(a - 1n);
}

function isPow2(x: bigint): boolean {
  return x > 0n && (x & (x - 1n)) === 0n;
}

function requireVersion(mm: MmStruct, v: MmStruct['kernel'], fn: string): void {
  if (mm.kernel !== v) throw new ModelError(`${fn} exists only in ${v}; this kernel is ${mm.kernel}`);
}

/** include/linux/mm.h is_vmalloc_addr (5.10, 6.6). */
export function is_vmalloc_addr(mm: MmStruct, addr: bigint): boolean {
  const a = u64(addr);
  return a >= mm.layout.VMALLOC_START && a < mm.layout.VMALLOC_END;
}

/** mm/vmalloc.c lazy_max_pages (5.10, 6.6): fls(num_online_cpus()) * (32 MiB / PAGE_SIZE). */
export function lazy_max_pages(mm: MmStruct): number {
  const fls = 32 - Math.clz32(mm.num_online_cpus);
  return fls * ((32 << 20) >> PAGE_SHIFT);
}

// ---------------------------------------------------------------------------
// Area allocator

/** Lowest-fit: the lowest `align`-aligned start in [vstart, vend) whose [start, start+size) is free. */
function findLowestFit(st: VmallocState, size: bigint, align: bigint, vstart: bigint, vend: bigint): bigint | null {
  const used = st.purge.length === 0 ? st.busy : [...st.busy, ...st.purge].sort((a, b) => (a.va_start < b.va_start ? -1 : 1));
  let cursor = vstart;
  for (const a of used) {
    if (a.va_end <= cursor) continue;
    if (a.va_start >= vend) break;
    const s = alignUp(cursor, align);
    if (s + size <= a.va_start && s + size <= vend) return s;
    if (a.va_end > cursor) cursor = a.va_end;
  }
  const s = alignUp(cursor, align);
  return s + size <= vend ? s : null;
}

/**
 * mm/vmalloc.c alloc_vmap_area (5.10, 6.6): lowest free range of `size` bytes
 * (guard already included) aligned to `align` in [vstart, vend). On failure the
 * lazily freed areas are purged once and the search retried; then -EBUSY.
 * It may sleep (the vmap_area comes from a GFP_KERNEL slab, the purge waits).
 */
export function alloc_vmap_area(mm: MmStruct, size: bigint, align: bigint, vstart: bigint, vend: bigint): vmap_area | number {
  kenter('alloc_vmap_area');
  try {
    if (size === 0n) throw new KernelBug('alloc_vmap_area: BUG_ON(!size)');
    if ((size & (PAGE_SIZE_N - 1n)) !== 0n) throw new KernelBug('alloc_vmap_area: BUG_ON(offset_in_page(size))');
    if (!isPow2(align)) throw new KernelBug('alloc_vmap_area: BUG_ON(!is_power_of_2(align))');
    might_sleep(mm.current);
    const st = vmallocState(mm);
    let purged = false;
    for (;;) {
      const addr = findLowestFit(st, size, align, vstart, vend);
      if (addr !== null) {
        const va: vmap_area = { va_start: addr, va_end: addr + size, vm: null };
        const i = st.busy.findIndex((b) => b.va_start > addr);
        if (i < 0) st.busy.push(va);
        else st.busy.splice(i, 0, va);
        return va;
      }
      if (purged) break;
      knote('overflow: purge lazily freed areas and retry');
      purge_vmap_area_lazy(mm);
      purged = true;
    }
    WARN(mm, `vmap allocation for size ${size} failed: use vmalloc=<size> to increase size`);
    return -EBUSY;
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c setup_vmalloc_vm (5.10, 6.6): fill the vm_struct from its vmap_area. */
export function setup_vmalloc_vm(vm: vm_struct, va: vmap_area, flags: number, caller: string): void {
  kenter('setup_vmalloc_vm');
  try {
    vm.flags = flags;
    vm.addr = va.va_start;
    vm.size = va.va_end - va.va_start;
    vm.caller = caller;
    va.vm = vm;
  } finally {
    kexit();
  }
}

/**
 * mm/vmalloc.c __get_vm_area_node (5.10; 6.6 adds a `shift` argument, PAGE_SHIFT
 * on every path modelled here, so the size rounding is the same). VM_IOREMAP
 * areas are aligned to their size's order, clamped to [PAGE_SHIFT, IOREMAP_MAX_ORDER].
 */
export function __get_vm_area_node(
  mm: MmStruct,
  size: bigint,
  align: bigint,
  flags: number,
  start: bigint,
  end: bigint,
  caller: string,
): vm_struct | null {
  kenter('__get_vm_area_node');
  try {
    let sz = (size + PAGE_SIZE_N - 1n) & ~(PAGE_SIZE_N - 1n);
    if (sz === 0n) return null;
    let al = align;
    if ((flags & VM_IOREMAP) !== 0) {
      const order = sz <= 1n ? 0 : (sz - 1n).toString(2).length; // get_count_order_long
      al = 1n << BigInt(Math.min(Math.max(order, PAGE_SHIFT), IOREMAP_MAX_ORDER));
    }
    if ((flags & VM_NO_GUARD) === 0) sz += PAGE_SIZE_N;
    const va = alloc_vmap_area(mm, sz, al, start, end);
    if (typeof va === 'number') return null;
    const area: vm_struct = { addr: 0n, size: 0n, flags: 0, pages: null, nr_pages: 0, phys_addr: 0n, caller: '' };
    setup_vmalloc_vm(area, va, flags, caller);
    return area;
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c get_vm_area_caller (5.10, 6.6): an area in [VMALLOC_START, VMALLOC_END). */
export function get_vm_area_caller(mm: MmStruct, size: bigint, flags: number, caller: string): vm_struct | null {
  kenter('get_vm_area_caller');
  try {
    return __get_vm_area_node(mm, size, 1n, flags, mm.layout.VMALLOC_START, mm.layout.VMALLOC_END, caller);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c get_vm_area (5.10, 6.6). */
export function get_vm_area(mm: MmStruct, size: bigint, flags: number, caller = 'get_vm_area'): vm_struct | null {
  kenter('get_vm_area');
  try {
    return __get_vm_area_node(mm, size, 1n, flags, mm.layout.VMALLOC_START, mm.layout.VMALLOC_END, caller);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c find_vmap_area (5.10, 6.6): the busy area containing addr (guard page included). */
export function find_vmap_area(mm: MmStruct, addr: bigint): vmap_area | null {
  const a = u64(addr);
  for (const va of vmallocState(mm).busy) {
    if (a < va.va_start) break;
    if (a < va.va_end) return va;
  }
  return null;
}

/** mm/vmalloc.c find_vm_area (5.10, 6.6): the vm_struct of the area containing addr. */
export function find_vm_area(mm: MmStruct, addr: bigint): vm_struct | null {
  kenter('find_vm_area');
  try {
    return find_vmap_area(mm, addr)?.vm ?? null;
  } finally {
    kexit();
  }
}

function unlinkBusy(mm: MmStruct, va: vmap_area): void {
  const st = vmallocState(mm);
  const i = st.busy.indexOf(va);
  if (i >= 0) st.busy.splice(i, 1);
}

/** mm/vmalloc.c __purge_vmap_area_lazy (5.10, 6.6): TLB flush over the purge list, then its VA is free again. */
export function __purge_vmap_area_lazy(mm: MmStruct): void {
  kenter('__purge_vmap_area_lazy');
  try {
    const st = vmallocState(mm);
    if (st.purge.length === 0) return;
    knote('flush_tlb_kernel_range (no TLB in the model)');
    st.purge = [];
    st.vmap_lazy_nr = 0;
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c purge_vmap_area_lazy (5.10, 6.6). */
export function purge_vmap_area_lazy(mm: MmStruct): void {
  kenter('purge_vmap_area_lazy');
  try {
    __purge_vmap_area_lazy(mm);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c drain_vmap_area_work (6.6): the scheduled purge, run when the system says the work runs. */
export function drain_vmap_area_work(mm: MmStruct): void {
  kenter('drain_vmap_area_work');
  try {
    vmallocState(mm).drain_work_pending = false;
    __purge_vmap_area_lazy(mm);
  } finally {
    kexit();
  }
}

/**
 * mm/vmalloc.c free_vmap_area_noflush (5.10, 6.6): the area goes on the purge
 * list; past lazy_max_pages, 5.10 purges at once (try_purge_vmap_area_lazy),
 * 6.6 schedules drain_vmap_work.
 */
export function free_vmap_area_noflush(mm: MmStruct, va: vmap_area): void {
  kenter('free_vmap_area_noflush');
  try {
    const st = vmallocState(mm);
    unlinkBusy(mm, va);
    st.vmap_lazy_nr += Number((va.va_end - va.va_start) >> BigInt(PAGE_SHIFT));
    st.purge.push(va);
    if (st.vmap_lazy_nr > lazy_max_pages(mm)) {
      if (mm.kernel === '5.10') {
        knote('5.10: try_purge_vmap_area_lazy');
        __purge_vmap_area_lazy(mm);
      } else {
        knote('6.6: schedule_work(&drain_vmap_work)');
        st.drain_work_pending = true;
      }
    }
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c flush_cache_vunmap: generic empty macro in 5.10 and 6.6 (riscv defines none). */
export function flush_cache_vunmap(_start: bigint, _end: bigint): void {
  kenter('flush_cache_vunmap');
  kexit();
}

/**
 * arch/riscv flush_cache_vmap. 5.10: the generic empty macro. 6.6 (since
 * 7e3811521dc3, v6.5-rc6): riscv64 defines it as flush_tlb_kernel_range — an
 * sfence.vma, TLB only, no data-cache maintenance. The model has no TLB, so
 * neither changes model state.
 */
export function flush_cache_vmap(mm: MmStruct, _start: bigint, _end: bigint): void {
  kenter('flush_cache_vmap');
  try {
    if (mm.kernel === '6.6') knote('6.6: flush_tlb_kernel_range (sfence.vma; no TLB in the model)');
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c free_unmap_vmap_area (5.10, 6.6): clear the PTEs now, give the VA back lazily. */
export function free_unmap_vmap_area(mm: MmStruct, va: vmap_area): void {
  kenter('free_unmap_vmap_area');
  try {
    flush_cache_vunmap(va.va_start, va.va_end);
    if (mm.kernel === '5.10') unmap_kernel_range_noflush(mm, va.va_start, va.va_end - va.va_start);
    else vunmap_range_noflush(mm, va.va_start, va.va_end);
    free_vmap_area_noflush(mm, va);
  } finally {
    kexit();
  }
}

/**
 * mm/vmalloc.c remove_vm_area (5.10, 6.6): detach and unmap the area containing
 * addr. 6.6 first WARNs on an unaligned address and returns NULL.
 */
export function remove_vm_area(mm: MmStruct, addr: bigint): vm_struct | null {
  kenter('remove_vm_area');
  try {
    if (mm.kernel === '6.6' && (addr & (PAGE_SIZE_N - 1n)) !== 0n) {
      WARN(mm, `Trying to vfree() bad address (${hex(addr)})`);
      return null;
    }
    const va = find_vmap_area(mm, addr);
    if (va === null || va.vm === null) return null;
    const vm = va.vm;
    va.vm = null;
    free_unmap_vmap_area(mm, va);
    return vm;
  } finally {
    kexit();
  }
}

/**
 * mm/vmalloc.c vunmap (5.10: __vunmap(addr, 0), which WARNs on an unaligned or
 * unknown address; 6.6: remove_vm_area, WARN "Trying to vunmap() nonexistent vm
 * area"). Both remove the whole area that contains addr, and both may sleep
 * (BUG_ON(in_interrupt()) is not modelled: the model has no interrupt context).
 */
export function vunmap(mm: MmStruct, addr: bigint): void {
  kenter('vunmap');
  try {
    might_sleep(mm.current);
    if (addr === 0n) return;
    if (mm.kernel === '5.10') {
      kenter('__vunmap');
      try {
        if ((addr & (PAGE_SIZE_N - 1n)) !== 0n) {
          WARN(mm, `Trying to vfree() bad address (${hex(addr)})`);
          return;
        }
        const area = find_vm_area(mm, addr);
        if (area === null) {
          WARN(mm, `Trying to vfree() nonexistent vm area (${hex(addr)})`);
          return;
        }
        remove_vm_area(mm, area.addr); // via vm_remove_mappings
      } finally {
        kexit();
      }
      return;
    }
    const vm = remove_vm_area(mm, addr);
    if (vm === null) WARN(mm, `Trying to vunmap() nonexistent vm area (${hex(addr)})`);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------------------
// Mapping pages (the page-array walk)

type Pages = ReadonlyArray<number | null>;
interface Nr {
  nr: number;
}

/** mm/pgalloc-track.h p4d_alloc_track (5.10, 6.6); the modified-level mask only feeds arch_sync_kernel_mappings, unused on riscv. */
export function p4d_alloc_track(mm: MmStruct, pgd: EntryPtr, addr: bigint): EntryPtr | null {
  kenter('p4d_alloc_track');
  try {
    return p4d_alloc(mm, pgd, addr);
  } finally {
    kexit();
  }
}
/** mm/pgalloc-track.h pud_alloc_track (5.10, 6.6). */
export function pud_alloc_track(mm: MmStruct, p4d: EntryPtr, addr: bigint): EntryPtr | null {
  kenter('pud_alloc_track');
  try {
    return pud_alloc(mm, p4d, addr);
  } finally {
    kexit();
  }
}
/** mm/pgalloc-track.h pmd_alloc_track (5.10, 6.6). */
export function pmd_alloc_track(mm: MmStruct, pud: EntryPtr, addr: bigint): EntryPtr | null {
  kenter('pmd_alloc_track');
  try {
    return pmd_alloc(mm, pud, addr);
  } finally {
    kexit();
  }
}
/** mm/pgalloc-track.h pte_alloc_kernel_track (5.10, 6.6). */
export function pte_alloc_kernel_track(mm: MmStruct, pmd: EntryPtr, addr: bigint): EntryPtr | null {
  kenter('pte_alloc_kernel_track');
  try {
    return pte_alloc_kernel(mm, pmd, addr);
  } finally {
    kexit();
  }
}

/** Shared body of vmap_pte_range (5.10) and vmap_pages_pte_range (6.6, which adds the pfn_valid check). */
function mapPtes(mm: MmStruct, pmd: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr): number {
  const first = pte_alloc_kernel_track(mm, pmd, addr);
  if (first === null) return -ENOMEM;
  let a = addr;
  let idx = first.index;
  do {
    const ptep: EntryPtr = { table: first.table, index: idx };
    const page = pages[nr.nr];
    if (page === undefined) throw new ModelError(`vmap: page array shorter than the area (index ${nr.nr})`);
    if (!pte_none(ptep_get(ptep))) {
      WARN(mm, `vmap: PTE already present at ${hex(a)}`);
      return -EBUSY;
    }
    if (page === null) {
      WARN(mm, `vmap: NULL page at index ${nr.nr}`);
      return -ENOMEM;
    }
    if (mm.kernel === '6.6' && !pfn_valid(mm, page)) {
      WARN(mm, `vmap: pfn ${hex(page)} not valid`);
      return -EINVAL;
    }
    set_pte_at(mm, a, ptep, mk_pte(page, prot, mm.cfg));
    nr.nr++;
    a += PAGE_SIZE_N;
    idx++;
  } while (a !== end);
  return 0;
}

function mapPmds(mm: MmStruct, pud: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr, v66: boolean): number {
  const first = pmd_alloc_track(mm, pud, addr);
  if (first === null) return -ENOMEM;
  let a = addr;
  let idx = first.index;
  do {
    const next = pmd_addr_end(a, end);
    const pmd: EntryPtr = { table: first.table, index: idx };
    const err = v66 ? vmap_pages_pte_range(mm, pmd, a, next, prot, pages, nr) : vmap_pte_range(mm, pmd, a, next, prot, pages, nr);
    if (err !== 0) return -ENOMEM; // the kernel reports any lower-level error as -ENOMEM here
    a = next;
    idx++;
  } while (a !== end);
  return 0;
}

function mapPuds(mm: MmStruct, p4d: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr, v66: boolean): number {
  const pud = pud_alloc_track(mm, p4d, addr);
  if (pud === null) return -ENOMEM;
  let a = addr;
  do {
    const next = pud_addr_end(a, end); // folded: one iteration
    const err = v66 ? vmap_pages_pmd_range(mm, pud, a, next, prot, pages, nr) : vmap_pmd_range(mm, pud, a, next, prot, pages, nr);
    if (err !== 0) return -ENOMEM;
    a = next;
  } while (a !== end);
  return 0;
}

function mapP4ds(mm: MmStruct, pgd: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr, v66: boolean): number {
  const p4d = p4d_alloc_track(mm, pgd, addr);
  if (p4d === null) return -ENOMEM;
  let a = addr;
  do {
    const next = p4d_addr_end(a, end); // folded: one iteration
    const err = v66 ? vmap_pages_pud_range(mm, p4d, a, next, prot, pages, nr) : vmap_pud_range(mm, p4d, a, next, prot, pages, nr);
    if (err !== 0) return -ENOMEM;
    a = next;
  } while (a !== end);
  return 0;
}

function mapPgds(mm: MmStruct, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, v66: boolean): number {
  if (addr >= end) throw new KernelBug(`BUG_ON(addr >= end): ${hex(addr)} >= ${hex(end)}`);
  const nr: Nr = { nr: 0 };
  let a = addr;
  do {
    const next = pgd_addr_end(a, end);
    const pgd = pgd_offset_k(mm, a);
    const err = v66 ? vmap_pages_p4d_range(mm, pgd, a, next, prot, pages, nr) : vmap_p4d_range(mm, pgd, a, next, prot, pages, nr);
    if (err !== 0) return err;
    a = next;
  } while (a !== end);
  return 0; // arch_sync_kernel_mappings: ARCH_PAGE_TABLE_SYNC_MASK is 0 on riscv
}

/** mm/vmalloc.c vmap_pte_range (5.10): one PTE per page, -EBUSY on a present PTE, -ENOMEM on a NULL page. */
export function vmap_pte_range(mm: MmStruct, pmd: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr): number {
  kenter('vmap_pte_range');
  try {
    return mapPtes(mm, pmd, addr, end, prot, pages, nr);
  } finally {
    kexit();
  }
}
/** mm/vmalloc.c vmap_pmd_range (5.10). */
export function vmap_pmd_range(mm: MmStruct, pud: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr): number {
  kenter('vmap_pmd_range');
  try {
    return mapPmds(mm, pud, addr, end, prot, pages, nr, false);
  } finally {
    kexit();
  }
}
/** mm/vmalloc.c vmap_pud_range (5.10). */
export function vmap_pud_range(mm: MmStruct, p4d: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr): number {
  kenter('vmap_pud_range');
  try {
    return mapPuds(mm, p4d, addr, end, prot, pages, nr, false);
  } finally {
    kexit();
  }
}
/** mm/vmalloc.c vmap_p4d_range (5.10; 6.6's function of that name maps a physical range for ioremap and is not modelled). */
export function vmap_p4d_range(mm: MmStruct, pgd: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr): number {
  kenter('vmap_p4d_range');
  try {
    return mapP4ds(mm, pgd, addr, end, prot, pages, nr, false);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c vmap_pages_pte_range (6.6): as 5.10's vmap_pte_range plus WARN/-EINVAL on an invalid pfn. */
export function vmap_pages_pte_range(mm: MmStruct, pmd: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr): number {
  kenter('vmap_pages_pte_range');
  try {
    return mapPtes(mm, pmd, addr, end, prot, pages, nr);
  } finally {
    kexit();
  }
}
/** mm/vmalloc.c vmap_pages_pmd_range (6.6). */
export function vmap_pages_pmd_range(mm: MmStruct, pud: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr): number {
  kenter('vmap_pages_pmd_range');
  try {
    return mapPmds(mm, pud, addr, end, prot, pages, nr, true);
  } finally {
    kexit();
  }
}
/** mm/vmalloc.c vmap_pages_pud_range (6.6). */
export function vmap_pages_pud_range(mm: MmStruct, p4d: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr): number {
  kenter('vmap_pages_pud_range');
  try {
    return mapPuds(mm, p4d, addr, end, prot, pages, nr, true);
  } finally {
    kexit();
  }
}
/** mm/vmalloc.c vmap_pages_p4d_range (6.6). */
export function vmap_pages_p4d_range(mm: MmStruct, pgd: EntryPtr, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, nr: Nr): number {
  kenter('vmap_pages_p4d_range');
  try {
    return mapP4ds(mm, pgd, addr, end, prot, pages, nr, true);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c map_kernel_range_noflush (5.10): 0 or -errno. */
export function map_kernel_range_noflush(mm: MmStruct, addr: bigint, size: bigint, prot: pgprot_t, pages: Pages): number {
  requireVersion(mm, '5.10', 'map_kernel_range_noflush');
  kenter('map_kernel_range_noflush');
  try {
    return mapPgds(mm, addr, addr + size, prot, pages, false);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c map_kernel_range (5.10): the noflush walk, then flush_cache_vmap. */
export function map_kernel_range(mm: MmStruct, start: bigint, size: bigint, prot: pgprot_t, pages: Pages): number {
  requireVersion(mm, '5.10', 'map_kernel_range');
  kenter('map_kernel_range');
  try {
    const ret = map_kernel_range_noflush(mm, start, size, prot, pages);
    flush_cache_vmap(mm, start, start + size);
    return ret;
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c vmap_small_pages_range_noflush (6.6). */
export function vmap_small_pages_range_noflush(mm: MmStruct, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages): number {
  requireVersion(mm, '6.6', 'vmap_small_pages_range_noflush');
  kenter('vmap_small_pages_range_noflush');
  try {
    return mapPgds(mm, addr, end, prot, pages, true);
  } finally {
    kexit();
  }
}

/**
 * mm/vmalloc.c __vmap_pages_range_noflush (6.6): PAGE_SHIFT (every vmap) takes
 * the small-page walk; huge page_shift (vmalloc huge mappings) is not modelled.
 */
export function __vmap_pages_range_noflush(mm: MmStruct, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, page_shift: number): number {
  requireVersion(mm, '6.6', '__vmap_pages_range_noflush');
  kenter('__vmap_pages_range_noflush');
  try {
    if (page_shift < PAGE_SHIFT) WARN(mm, 'WARN_ON(page_shift < PAGE_SHIFT)');
    if (page_shift !== PAGE_SHIFT) throw new ModelError('__vmap_pages_range_noflush: huge page_shift (vmap_range_noflush) is not modelled');
    return vmap_small_pages_range_noflush(mm, addr, end, prot, pages);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c vmap_pages_range_noflush (6.6): kmsan hook (none in the model), then __vmap_pages_range_noflush. */
export function vmap_pages_range_noflush(mm: MmStruct, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, page_shift: number): number {
  requireVersion(mm, '6.6', 'vmap_pages_range_noflush');
  kenter('vmap_pages_range_noflush');
  try {
    return __vmap_pages_range_noflush(mm, addr, end, prot, pages, page_shift);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c vmap_pages_range (6.6): the noflush walk, then flush_cache_vmap. */
export function vmap_pages_range(mm: MmStruct, addr: bigint, end: bigint, prot: pgprot_t, pages: Pages, page_shift: number): number {
  requireVersion(mm, '6.6', 'vmap_pages_range');
  kenter('vmap_pages_range');
  try {
    const err = vmap_pages_range_noflush(mm, addr, end, prot, pages, page_shift);
    flush_cache_vmap(mm, addr, end);
    return err;
  } finally {
    kexit();
  }
}

/**
 * mm/vmalloc.c vmap (5.10, 6.6): map `count` pages (PFNs) contiguously in the
 * vmalloc area. null for count 0, count > totalram_pages, no VA, or a mapping
 * error (the partly built area is vunmapped). Both may sleep. 6.6 first rejects
 * VM_FLUSH_RESET_PERMS and strips VM_NO_GUARD, each with a WARN.
 * 5.10: map_kernel_range; 6.6: vmap_pages_range(..., PAGE_SHIFT).
 */
export function vmap(mm: MmStruct, pages: Pages, count: number, flags: number, prot: pgprot_t, caller = 'vmap'): bigint | null {
  kenter('vmap');
  try {
    might_sleep(mm.current);
    if (!Number.isInteger(count) || count < 0) throw new ModelError(`vmap: count ${count}`);
    if (pages.length < count) throw new ModelError(`vmap: ${pages.length} pages for count ${count}`);
    let fl = flags;
    if (mm.kernel === '6.6') {
      if ((fl & VM_FLUSH_RESET_PERMS) !== 0) {
        WARN(mm, 'vmap: VM_FLUSH_RESET_PERMS');
        return null;
      }
      if ((fl & VM_NO_GUARD) !== 0) {
        WARN(mm, 'vmap: VM_NO_GUARD');
        fl &= ~VM_NO_GUARD;
      }
    }
    if (count > mm.totalram_pages) {
      knote('count > totalram_pages');
      return null;
    }
    const size = BigInt(count) << BigInt(PAGE_SHIFT);
    const area = get_vm_area_caller(mm, size, fl, caller);
    if (area === null) return null;
    const addr = area.addr;
    const p = pgprot_nx(prot);
    const err = mm.kernel === '5.10' ? map_kernel_range(mm, addr, size, p, pages) : vmap_pages_range(mm, addr, addr + size, p, pages, PAGE_SHIFT);
    if (err < 0) {
      knote('mapping failed: vunmap the area');
      vunmap(mm, addr);
      return null;
    }
    if ((fl & VM_MAP_PUT_PAGES) !== 0) {
      area.pages = pages.slice(0, count);
      if (mm.kernel === '6.6') area.nr_pages = count;
    }
    return addr;
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------------------
// Unmapping

/** mm/vmalloc.c vunmap_pte_range (5.10, 6.6): clear each PTE; WARN on a non-none, non-present one. */
export function vunmap_pte_range(mm: MmStruct, pmd: EntryPtr, addr: bigint, end: bigint): void {
  kenter('vunmap_pte_range');
  try {
    const first = pte_offset_kernel(pmd, addr);
    let a = addr;
    let idx = first.index;
    do {
      const ptent = ptep_get_and_clear(mm, a, { table: first.table, index: idx });
      if (!pte_none(ptent) && !pte_present(ptent, mm.kernel)) WARN(mm, `vunmap: swap-like PTE at ${hex(a)}`);
      a += PAGE_SIZE_N;
      idx++;
    } while (a !== end);
  } finally {
    kexit();
  }
}

/** Clear a leaf entry (pmd_clear_huge / pud_clear_huge); 0 when the entry is not a leaf. */
function clearHuge(p: EntryPtr): boolean {
  if (!entryIsLeaf(p)) return false;
  writableEntries(p.table).delete(p.index);
  return true;
}

/** *_none_or_clear_bad: true when there is no table to descend into (a bad raw value is cleared). */
function noneOrClearBad(p: EntryPtr): boolean {
  const e = entryAt(p);
  if (e === 0n) return true;
  if (typeof e === 'bigint') {
    writableEntries(p.table).delete(p.index);
    return true;
  }
  return false;
}

/** mm/vmalloc.c vunmap_pmd_range (5.10, 6.6). */
export function vunmap_pmd_range(mm: MmStruct, pud: EntryPtr, addr: bigint, end: bigint): void {
  kenter('vunmap_pmd_range');
  try {
    const first = pmd_offset(pud, addr);
    let a = addr;
    let idx = first.index;
    do {
      const next = pmd_addr_end(a, end);
      const pmd: EntryPtr = { table: first.table, index: idx };
      if (!clearHuge(pmd) && !noneOrClearBad(pmd)) vunmap_pte_range(mm, pmd, a, next);
      a = next;
      idx++;
    } while (a !== end);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c vunmap_pud_range (5.10, 6.6); folded on Sv39, the pud is the pgd entry. */
export function vunmap_pud_range(mm: MmStruct, p4d: EntryPtr, addr: bigint, end: bigint): void {
  kenter('vunmap_pud_range');
  try {
    const pud = pud_offset(p4d, addr);
    let a = addr;
    do {
      const next = pud_addr_end(a, end);
      if (!clearHuge(pud) && !noneOrClearBad(pud)) vunmap_pmd_range(mm, pud, a, next);
      a = next;
    } while (a !== end);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c vunmap_p4d_range (5.10, 6.6); p4d_none_or_clear_bad is constant false when folded. */
export function vunmap_p4d_range(mm: MmStruct, pgd: EntryPtr, addr: bigint, end: bigint): void {
  kenter('vunmap_p4d_range');
  try {
    const p4d = p4d_offset(pgd, addr);
    let a = addr;
    do {
      const next = p4d_addr_end(a, end);
      vunmap_pud_range(mm, p4d, a, next);
      a = next;
    } while (a !== end);
  } finally {
    kexit();
  }
}

function unmapPgds(mm: MmStruct, start: bigint, end: bigint): void {
  if (start >= end) throw new KernelBug(`BUG_ON(addr >= end): ${hex(start)} >= ${hex(end)}`);
  let a = start;
  do {
    const next = pgd_addr_end(a, end);
    vunmap_p4d_range(mm, pgd_offset_k(mm, a), a, next); // pgd_none_or_clear_bad: constant false when folded
    a = next;
  } while (a !== end);
}

/** mm/vmalloc.c unmap_kernel_range_noflush (5.10). */
export function unmap_kernel_range_noflush(mm: MmStruct, addr: bigint, size: bigint): void {
  requireVersion(mm, '5.10', 'unmap_kernel_range_noflush');
  kenter('unmap_kernel_range_noflush');
  try {
    unmapPgds(mm, addr, addr + size);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c unmap_kernel_range (5.10): noflush walk, then flush_tlb_kernel_range. */
export function unmap_kernel_range(mm: MmStruct, addr: bigint, size: bigint): void {
  requireVersion(mm, '5.10', 'unmap_kernel_range');
  kenter('unmap_kernel_range');
  try {
    flush_cache_vunmap(addr, addr + size);
    unmap_kernel_range_noflush(mm, addr, size);
    knote('flush_tlb_kernel_range (no TLB in the model)');
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c __vunmap_range_noflush (6.6). */
export function __vunmap_range_noflush(mm: MmStruct, start: bigint, end: bigint): void {
  requireVersion(mm, '6.6', '__vunmap_range_noflush');
  kenter('__vunmap_range_noflush');
  try {
    unmapPgds(mm, start, end);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c vunmap_range_noflush (6.6): kmsan hook (none), then __vunmap_range_noflush. */
export function vunmap_range_noflush(mm: MmStruct, start: bigint, end: bigint): void {
  requireVersion(mm, '6.6', 'vunmap_range_noflush');
  kenter('vunmap_range_noflush');
  try {
    __vunmap_range_noflush(mm, start, end);
  } finally {
    kexit();
  }
}

/** mm/vmalloc.c vunmap_range (6.6): flush_cache_vunmap, noflush walk, flush_tlb_kernel_range. */
export function vunmap_range(mm: MmStruct, addr: bigint, end: bigint): void {
  requireVersion(mm, '6.6', 'vunmap_range');
  kenter('vunmap_range');
  try {
    flush_cache_vunmap(addr, end);
    vunmap_range_noflush(mm, addr, end);
    knote('flush_tlb_kernel_range (no TLB in the model)');
  } finally {
    kexit();
  }
}

/**
 * mm/vmalloc.c vmalloc_to_pfn (5.10, 6.6): the PFN behind a vmalloc address
 * (for a leaf above PTE level, the 4 KiB page that contains addr); null where
 * the kernel's walk finds no page.
 */
export function vmalloc_to_pfn(mm: MmStruct, addr: bigint): number | null {
  kenter('vmalloc_to_pfn');
  try {
    if (!is_vmalloc_addr(mm, addr)) throw new ModelError(`vmalloc_to_pfn(${hex(addr)}): not a vmalloc address`);
    const t = walkPageTable(mm, addr);
    return t === null ? null : Number(t.pa >> BigInt(PAGE_SHIFT));
  } finally {
    kexit();
  }
}
