// Zone and node types: include/linux/mmzone.h (5.10, 6.6). One node (nid 0);
// the zone set is fixed at the four types the model knows, and a zone the
// Kconfig leaves out is simply present with no pages (the kernel compacts the
// enum instead; the numbering here never shifts, which keeps zone indices
// comparable across profiles).

import type { KernelVersion } from '../config/profile.ts';
import { ModelError } from '../types.ts';
import { kenter, kexit } from '../trace.ts';
import type { task_struct } from '../include/linux/sched.ts';

/** include/linux/mmzone.h enum zone_type (64-bit: no ZONE_HIGHMEM, no ZONE_DEVICE). */
export enum ZoneType {
  ZONE_DMA = 0,
  ZONE_DMA32 = 1,
  ZONE_NORMAL = 2,
  ZONE_MOVABLE = 3,
}

export const MAX_NR_ZONES = 4;

/** mm/page_alloc.c zone_names (5.10, 6.6). */
export const zone_names: readonly string[] = ['DMA', 'DMA32', 'Normal', 'Movable'];

/** include/linux/numa.h NUMA_NO_NODE (5.10, 6.6). */
export const NUMA_NO_NODE = -1;

/** The largest buddy order with 4 KiB pages, both versions (4 MiB blocks). */
export const MAX_PAGE_ORDER_LARGEST = 10;
/** Number of free_area[] entries (NR_PAGE_ORDERS from 6.8; MAX_ORDER in 5.10; MAX_ORDER + 1 in 6.6). */
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER_LARGEST + 1;

/**
 * include/linux/mmzone.h MAX_ORDER: 5.10 = 11, an exclusive bound (orders 0..10);
 * 6.6 = 10, an inclusive bound (redefined in v6.4 by 23baf831a32c). Same largest block.
 */
export function MAX_ORDER(kernel: KernelVersion): number {
  if (kernel === '5.10') return 11;
  if (kernel === '6.6') return 10;
  throw new ModelError(`MAX_ORDER: unknown kernel ${String(kernel)}`);
}

/** Half-open PFN range [start, end). */
export interface PfnRange {
  start: number;
  end: number;
}

/** One free block on a free list; `prev`/`next` make removal of a merged buddy O(1). */
export interface FreeBlockNode {
  readonly pfn: number;
  readonly order: number;
  prev: FreeBlockNode | null;
  next: FreeBlockNode | null;
}

/**
 * One free_area's list (struct list_head). Head = most recently added with
 * list_add; boot hand-over appends at the tail (FPI_TO_TAIL). Migratetypes are
 * not modelled: every block is on the one list of its order.
 */
export class FreeList {
  head: FreeBlockNode | null = null;
  tail: FreeBlockNode | null = null;

  get empty(): boolean {
    return this.head === null;
  }

  addHead(n: FreeBlockNode): void {
    n.prev = null;
    n.next = this.head;
    if (this.head !== null) this.head.prev = n;
    else this.tail = n;
    this.head = n;
  }

  addTail(n: FreeBlockNode): void {
    n.next = null;
    n.prev = this.tail;
    if (this.tail !== null) this.tail.next = n;
    else this.head = n;
    this.tail = n;
  }

  remove(n: FreeBlockNode): void {
    if (n.prev !== null) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next !== null) n.next.prev = n.prev;
    else this.tail = n.prev;
    n.prev = n.next = null;
  }

  /** PFNs from head to tail. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let n = this.head; n !== null; n = n.next) yield n.pfn;
  }
}

/** include/linux/mmzone.h struct free_area. */
export interface FreeArea {
  nr_free: number;
  readonly list: FreeList;
}

/** include/linux/mmzone.h struct zone (the fields the model uses), plus model-only state in camelCase. */
export interface Zone {
  readonly name: string;
  /** zone_idx(zone). */
  readonly idx: ZoneType;
  readonly node: number;
  zone_start_pfn: number;
  spanned_pages: number;
  present_pages: number;
  managed_pages: number;
  readonly free_area: FreeArea[];
  _watermark: { min: number; low: number; high: number };
  watermark_boost: number;
  /** Indexed by the highest zone a request may use (ZoneType). */
  lowmem_reserve: number[];

  /** Model: free block heads on this zone's lists, pfn -> node (the PageBuddy + buddy_order test). */
  readonly freeMap: Map<number, FreeBlockNode>;
  /** Model: pages on this zone's free lists. */
  listedFreePages: number;
  /** Model: boot memory not yet handed to the buddy allocator, ascending, carved from the front. */
  readonly bootRanges: PfnRange[];
  /** Model: index of the first boot range that may still hold pages. */
  bootIdx: number;
  /** Model: pages in bootRanges (free, counted in NR_FREE_PAGES, not yet on a list). */
  bootPages: number;
  /** Model: largest block the boot ranges can still yield, -1 for none; null when it must be recomputed. */
  bootMaxOrder: number | null;
}

/** include/linux/mmzone.h typedef struct pglist_data (the fields the model uses), plus model state. */
export interface PglistData {
  readonly kernel: KernelVersion;
  readonly node_id: number;
  /** Indexed by ZoneType. */
  readonly node_zones: readonly Zone[];
  node_start_pfn: number;
  node_spanned_pages: number;
  node_present_pages: number;
  readonly zoneConfig: { readonly CONFIG_ZONE_DMA: boolean; readonly CONFIG_ZONE_DMA32: boolean };
  readonly faults: ReadonlySet<string>;
  /** mm/page_alloc.c min_free_kbytes after init_per_zone_wmark_min. */
  min_free_kbytes: number;
  /** Model: called for each __GFP_ZERO allocation; the byte-level memory model lives elsewhere. */
  zeroPages?: (pfn: number, order: number) => void;
  /** Model: allocated blocks, head pfn -> order. */
  readonly allocated: Map<number, number>;
  /** Model: orders of further holders of a head pfn handed out more than once (only a fault does that). */
  readonly allocatedExtra: Map<number, number[]>;
  /** Model: pages in allocated blocks, extra holders included. */
  allocatedPages: number;
  /** Model: `current`, the task allocating (its atomic state is what might_sleep checks); absent = no check. */
  current?: task_struct;
}

/** include/linux/mmzone.h zone_end_pfn (5.10, 6.6). */
export function zone_end_pfn(zone: Zone): number {
  kenter('zone_end_pfn');
  try {
    return zone.zone_start_pfn + zone.spanned_pages;
  } finally {
    kexit();
  }
}

/** include/linux/mmzone.h zone_managed_pages (5.10, 6.6). */
export function zone_managed_pages(zone: Zone): number {
  kenter('zone_managed_pages');
  try {
    return zone.managed_pages;
  } finally {
    kexit();
  }
}

/** include/linux/mmzone.h managed_zone (5.10, 6.6): the zonelist holds only zones with managed pages. */
export function managed_zone(zone: Zone): boolean {
  kenter('managed_zone');
  try {
    return zone.managed_pages > 0;
  } finally {
    kexit();
  }
}
