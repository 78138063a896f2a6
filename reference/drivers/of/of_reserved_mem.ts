// drivers/of/of_reserved_mem.c (5.10, 6.6): /reserved-memory nodes with a
// static reg, matched at early boot against the RESERVEDMEM_OF_DECLARE table,
// and handed to a device when its driver calls of_reserved_mem_device_init
// (the device's memory-region phandle). It never happens automatically.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import type { KernelVersion, MemoryRange, Profile, ReservedMemorySpec } from '../../config/profile.ts';
import { kconfigEnabled } from '../../config/profile.ts';
import type { device_node } from './address.ts';
import { ENODEV } from './address.ts';
import { rmem_dma_setup, type CoherentGlobals } from '../../kernel/dma/coherent.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { EINVAL, ENOENT } from '../../types.ts';

/** include/linux/of_reserved_mem.h struct reserved_mem_ops (5.10, 6.6). */
export interface reserved_mem_ops {
  device_init: (m: Machine, rmem: reserved_mem, dev: device | null) => number;
  device_release: (m: Machine, rmem: reserved_mem, dev: device | null) => void;
}

/** include/linux/of_reserved_mem.h struct reserved_mem (5.10, 6.6); `node` stands for fdt_node. */
export interface reserved_mem {
  name: string;
  base: bigint;
  size: bigint;
  node: ReservedMemorySpec;
  ops: reserved_mem_ops | null;
  /** The handler's object (coherent.c: its struct dma_coherent_mem, once created). */
  priv: unknown;
}

/** What a RESERVEDMEM_OF_DECLARE init function can reach at early boot (before the page allocator). */
export interface RmemSetupCtx {
  profile: Profile;
  kernel: KernelVersion;
  cfg: (sym: string) => boolean;
  /** WARN()s, in order (becomes Machine.warnings). */
  warnings: string[];
  dmaCoherent: CoherentGlobals;
}

/** One RESERVEDMEM_OF_DECLARE entry, present only when its file is built. */
export interface ReservedMemHandler {
  compatible: ReservedMemorySpec['compatible'];
  built: (ctx: RmemSetupCtx) => boolean;
  setup: (ctx: RmemSetupCtx, rmem: reserved_mem) => number;
}

/**
 * __reservedmem_of_table in link order (kernel/dma/Makefile: contiguous.o
 * before coherent.o, so rmem_cma_setup is tried first once CMA is modelled).
 * coherent.c is built with CONFIG_DMA_DECLARE_COHERENT (6.6's
 * DMA_GLOBAL_POOL selects it).
 */
export const RESERVEDMEM_OF_TABLE: readonly ReservedMemHandler[] = [
  {
    compatible: 'shared-dma-pool',
    built: (ctx) => ctx.cfg('CONFIG_DMA_DECLARE_COHERENT') || (ctx.kernel === '6.6' && ctx.cfg('CONFIG_DMA_GLOBAL_POOL')),
    setup: rmem_dma_setup,
  },
];

/** of_reserved_mem.c's globals: the reserved_mem[] array and of_rmem_assigned_device_list. */
export interface OfReservedMem {
  reserved_mem: reserved_mem[];
  assigned: { dev: device; rmem: reserved_mem }[];
}

/** drivers/of/of_reserved_mem.c __reserved_mem_init_node (5.10, 6.6): the first matching handler returning 0 wins; -ENOENT if none matched. */
export function __reserved_mem_init_node(ctx: RmemSetupCtx, rmem: reserved_mem, table: readonly ReservedMemHandler[] = RESERVEDMEM_OF_TABLE): number {
  kenter('__reserved_mem_init_node');
  try {
    let ret = -ENOENT;
    for (const h of table) {
      if (!h.built(ctx) || h.compatible !== rmem.node.compatible) continue;
      ret = h.setup(ctx, rmem);
      if (ret === 0) {
        knote('initialized node');
        break;
      }
    }
    return ret;
  } finally {
    kexit();
  }
}

/**
 * drivers/of/of_reserved_mem.c fdt_init_reserved_mem (5.10, 6.6) for static
 * regions. Returns the regions that stay out of the page allocator: every
 * non-reusable node unless a matching handler failed, in which case the
 * kernel gives the memory back (5.10 memblock_free / memblock_add for no-map;
 * 6.6 memblock_phys_free / memblock_clear_nomap). `reusable` nodes are left to
 * the CMA side, which decides what becomes of their memory.
 */
export function fdt_init_reserved_mem(ctx: RmemSetupCtx, state: OfReservedMem): MemoryRange[] {
  kenter('fdt_init_reserved_mem');
  try {
    const kept: MemoryRange[] = [];
    for (const node of ctx.profile.reservedMemory ?? []) {
      const rmem: reserved_mem = { name: node.name, base: node.base, size: node.size, node, ops: null, priv: null };
      state.reserved_mem.push(rmem);
      const err = __reserved_mem_init_node(ctx, rmem);
      if (err !== 0 && err !== -ENOENT) {
        knote('compatible matching fail: region returned to the kernel');
        continue;
      }
      if (!node.reusable) kept.push({ base: node.base, size: node.size });
    }
    return kept;
  } finally {
    kexit();
  }
}

/** Model helper: early boot's reserved-memory pass for a profile (before buildMm). */
export function reservedMemBoot(p: Profile, warnings: string[], dmaCoherent: CoherentGlobals): { state: OfReservedMem; memblockReserved: MemoryRange[] } {
  const ctx: RmemSetupCtx = { profile: p, kernel: p.kernel, cfg: (s) => kconfigEnabled(p, s), warnings, dmaCoherent };
  const state: OfReservedMem = { reserved_mem: [], assigned: [] };
  return { state, memblockReserved: fdt_init_reserved_mem(ctx, state) };
}

/** drivers/of/of_reserved_mem.c __find_rmem (5.10, 6.6): the entry for a node (phandle), by name here. */
export function __find_rmem(m: Machine, name: string): reserved_mem | null {
  return m.reservedMem.reserved_mem.find((r) => r.name === name) ?? null;
}

/**
 * drivers/of/of_reserved_mem.c of_reserved_mem_device_init_by_idx (5.10, 6.6):
 * -ENODEV when the idx-th memory-region is missing, -EINVAL when it is not a
 * reserved-memory node or no handler claimed it, else the handler's
 * device_init; on success the device is recorded for
 * of_reserved_mem_device_release. (Disabled nodes, which return 0, are not
 * modelled: ReservedMemorySpec has no status.)
 */
export function of_reserved_mem_device_init_by_idx(m: Machine, dev: device | null, np: device_node | null, idx: number): number {
  kenter('of_reserved_mem_device_init_by_idx');
  try {
    if (np === null || dev === null) return -EINVAL;
    const target = np.memoryRegion?.[idx];
    if (target === undefined) return -ENODEV;
    const rmem = __find_rmem(m, target);
    if (rmem === null) {
      // A phandle to a node that is not a /reserved-memory child: no entry.
      knote('not a reserved-memory node');
      return -EINVAL;
    }
    if (rmem.ops === null) {
      knote('no handler claimed the region');
      return -EINVAL;
    }
    const ret = rmem.ops.device_init(m, rmem, dev);
    if (ret === 0) {
      m.reservedMem.assigned.push({ dev, rmem });
      knote('assigned reserved memory node');
    }
    return ret;
  } finally {
    kexit();
  }
}

/**
 * include/linux/of_reserved_mem.h of_reserved_mem_device_init (5.10, 6.6) =
 * _by_idx(dev, dev->of_node, 0); the device's memory-region stands for its of_node.
 */
export function of_reserved_mem_device_init(m: Machine, dev: device): number {
  const np: device_node = { full_name: dev.name, parent: null, memoryRegion: dev.memoryRegion === null ? [] : [dev.memoryRegion] };
  return of_reserved_mem_device_init_by_idx(m, dev, np, 0);
}

/** drivers/of/of_reserved_mem.c of_reserved_mem_device_release (5.10, 6.6): device_release for each region assigned to dev. */
export function of_reserved_mem_device_release(m: Machine, dev: device): void {
  kenter('of_reserved_mem_device_release');
  try {
    const mine = m.reservedMem.assigned.filter((a) => a.dev === dev);
    m.reservedMem.assigned = m.reservedMem.assigned.filter((a) => a.dev !== dev);
    for (const a of mine) a.rmem.ops?.device_release(m, a.rmem, dev);
  } finally {
    kexit();
  }
}

/** drivers/of/of_reserved_mem.c of_reserved_mem_lookup (5.10, 6.6): the reserved_mem of a node, or NULL. */
export function of_reserved_mem_lookup(m: Machine, name: string): reserved_mem | null {
  return __find_rmem(m, name);
}
