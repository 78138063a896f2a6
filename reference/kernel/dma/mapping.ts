// kernel/dma/mapping.c (5.10, 6.6): the DMA API entry points. CONFIG_DMA_OPS
// is unset on every riscv profile here (no IOMMU), so get_dma_ops() is NULL
// and everything goes direct; the branch is kept so a profile could say otherwise.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { DMA_MAPPING_ERROR } from '../../include/linux/dma-mapping-attrs.ts';
import { valid_dma_direction } from '../../include/linux/dma-direction.ts';
import { gfpFlags } from '../../include/linux/gfp.ts';
import { dma_direct_alloc, dma_direct_free, type DmaHandle } from './direct.ts';
import {
  dma_direct_map_page,
  dma_direct_sync_single_for_cpu,
  dma_direct_sync_single_for_device,
  dma_direct_unmap_page,
} from './direct.h.ts';
import * as debug from './debug.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { KernelBug, ModelError, hex } from '../../types.ts';

/** include/linux/dma-map-ops.h get_dma_ops (5.10, 6.6): NULL without CONFIG_DMA_OPS. */
export function get_dma_ops(m: Machine, dev: device): null {
  if (m.cfg('CONFIG_DMA_OPS') && dev.dma_ops !== null) throw new ModelError('dma_map_ops are not modelled (no IOMMU on these profiles)');
  return null;
}

/** kernel/dma/mapping.c dma_go_direct (5.10, 6.6): no ops → direct. */
export function dma_go_direct(_m: Machine, _dev: device, _mask: bigint, ops: null): boolean {
  return ops === null;
}

/** kernel/dma/mapping.c dma_alloc_direct (5.10, 6.6). */
export function dma_alloc_direct(m: Machine, dev: device, ops: null): boolean {
  return dma_go_direct(m, dev, dev.coherent_dma_mask, ops);
}

/** kernel/dma/mapping.c dma_map_direct (5.10, 6.6). */
export function dma_map_direct(m: Machine, dev: device, ops: null): boolean {
  return dma_go_direct(m, dev, dev.dma_mask ?? 0n, ops);
}

function checkDir(dir: number, fn: string): void {
  if (!valid_dma_direction(dir)) throw new KernelBug(`${fn}: invalid DMA direction ${dir}`);
}

/** kernel/dma/mapping.c dma_map_page_attrs (5.10, 6.6; 6.6's arch_dma_map_page_direct hook is false on riscv). */
export function dma_map_page_attrs(m: Machine, dev: device, pfn: number, offset: number, size: bigint, dir: number, attrs: number): bigint {
  kenter('dma_map_page_attrs');
  try {
    checkDir(dir, 'dma_map_page_attrs');
    if (dev.dma_mask === null) {
      m.warnings.push(`${dev.name}: dma_map_page_attrs with no dma_mask`);
      return DMA_MAPPING_ERROR;
    }
    const ops = get_dma_ops(m, dev);
    const phys = (BigInt(pfn) << 12n) + BigInt(offset);
    const addr = dma_map_direct(m, dev, ops) ? dma_direct_map_page(m, dev, phys, size, dir, attrs) : DMA_MAPPING_ERROR;
    if (m.debug) debug.debug_dma_map_page(m.debug, dev, phys, size, dir, addr, attrs, { bounceUnalignedKmalloc: m.bounceUnalignedKmalloc });
    return addr;
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_unmap_page_attrs (5.10, 6.6). */
export function dma_unmap_page_attrs(m: Machine, dev: device, addr: bigint, size: bigint, dir: number, attrs: number): void {
  kenter('dma_unmap_page_attrs');
  try {
    checkDir(dir, 'dma_unmap_page_attrs');
    if (dma_map_direct(m, dev, get_dma_ops(m, dev))) dma_direct_unmap_page(m, dev, addr, size, dir, attrs);
    if (m.debug) debug.debug_dma_unmap_page(m.debug, dev, addr, size, dir);
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_sync_single_for_cpu (5.10, 6.6). */
export function dma_sync_single_for_cpu(m: Machine, dev: device, addr: bigint, size: bigint, dir: number): void {
  kenter('dma_sync_single_for_cpu');
  try {
    checkDir(dir, 'dma_sync_single_for_cpu');
    if (dma_map_direct(m, dev, get_dma_ops(m, dev))) dma_direct_sync_single_for_cpu(m, dev, addr, size, dir);
    if (m.debug) debug.debug_dma_sync_single_for_cpu(m.debug, dev, addr, size, dir);
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_sync_single_for_device (5.10, 6.6). */
export function dma_sync_single_for_device(m: Machine, dev: device, addr: bigint, size: bigint, dir: number): void {
  kenter('dma_sync_single_for_device');
  try {
    checkDir(dir, 'dma_sync_single_for_device');
    if (dma_map_direct(m, dev, get_dma_ops(m, dev))) dma_direct_sync_single_for_device(m, dev, addr, size, dir);
    if (m.debug) debug.debug_dma_sync_single_for_device(m.debug, dev, addr, size, dir);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/mapping.c dma_alloc_attrs (5.10, 6.6 §2.1): per-device memory first
 * (none configured yet: the constant 0 of !CONFIG_DMA_DECLARE_COHERENT), zone
 * flags stripped, then direct.
 */
export function dma_alloc_attrs(m: Machine, dev: device, size: bigint, h: DmaHandle, flag: number, attrs: number): bigint | null {
  kenter('dma_alloc_attrs');
  try {
    const G = gfpFlags(m.profile.kernel);
    const ops = get_dma_ops(m, dev);
    if (dev.coherent_dma_mask === 0n) m.warnings.push(`${dev.name}: dma_alloc_attrs with coherent_dma_mask 0`);
    if (m.profile.kernel === '6.6' && flag & G.__GFP_COMP) {
      m.warnings.push(`${dev.name}: dma_alloc_attrs with __GFP_COMP`);
      return null;
    }
    if (m.cfg('CONFIG_DMA_DECLARE_COHERENT')) throw new ModelError('per-device coherent memory is not modelled yet (issue 4)');
    const gfp = flag & ~(G.__GFP_DMA | G.__GFP_DMA32 | G.__GFP_HIGHMEM);
    if (!dma_alloc_direct(m, dev, ops)) return null;
    const cpu = dma_direct_alloc(m, dev, size, h, gfp, attrs);
    if (m.debug && cpu !== null) debug.debug_dma_alloc_coherent(m.debug, dev, size, h.dma_handle, m.debugPhysOf(cpu), attrs);
    return cpu;
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_free_attrs (5.10, 6.6 §2.2). */
export function dma_free_attrs(m: Machine, dev: device, size: bigint, cpu_addr: bigint | null, dma_handle: bigint, attrs: number): void {
  kenter('dma_free_attrs');
  try {
    const ops = get_dma_ops(m, dev);
    if (cpu_addr === null) {
      knote('NULL cpu_addr: nothing to free');
      return;
    }
    if (m.debug) debug.debug_dma_free_coherent(m.debug, dev, size, m.debugPhysOf(cpu_addr), dma_handle);
    if (dma_alloc_direct(m, dev, ops)) dma_direct_free(m, dev, size, cpu_addr, dma_handle, attrs);
  } finally {
    kexit();
  }
}

/** include/linux/dma-mapping.h dma_mapping_error (5.10, 6.6). */
export function dma_mapping_error(m: Machine, dev: device, dma_addr: bigint): number {
  if (m.debug) debug.debug_dma_mapping_error(m.debug, dev, dma_addr);
  return dma_addr === DMA_MAPPING_ERROR ? -12 : 0;
}

export function describeDma(addr: bigint): string {
  return addr === DMA_MAPPING_ERROR ? 'DMA_MAPPING_ERROR' : hex(addr);
}
