// kernel/dma/mapping.c (5.10, 6.6): the DMA API entry points. CONFIG_DMA_OPS
// is unset on every riscv profile here (no IOMMU), so get_dma_ops() is NULL
// and everything goes direct; the branch is kept so a profile could say otherwise.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { DMA_ATTR_NO_WARN, DMA_MAPPING_ERROR } from '../../include/linux/dma-mapping-attrs.ts';
import { valid_dma_direction } from '../../include/linux/dma-direction.ts';
import { gfpFlags } from '../../include/linux/gfp.ts';
import { dma_direct_all_ram_mapped, dma_direct_alloc, dma_direct_free, dma_direct_get_required_mask, dma_direct_supported, type DmaHandle } from './direct.ts';
import { hasBackport } from '../../config/profile.ts';
import { dma_alloc_from_dev_coherent, dma_release_from_dev_coherent } from './coherent.ts';
import { devres_add, devres_destroy } from '../../drivers/base/devres.ts';
import {
  dma_direct_map_page,
  dma_direct_sync_single_for_cpu,
  dma_direct_sync_single_for_device,
  dma_direct_unmap_page,
} from './direct.h.ts';
import * as debug from './debug.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { DMA_BIT_MASK, KernelBug, ModelError, get_order, hex, min_not_zero } from '../../types.ts';

/** include/uapi/asm-generic/errno-base.h EIO (types.ts has no entry yet). */
const EIO = 5;

/** include/linux/dma-map-ops.h get_dma_ops (5.10, 6.6): NULL without CONFIG_DMA_OPS. */
export function get_dma_ops(m: Machine, dev: device): null {
  kenter('get_dma_ops');
  try {
    if (m.cfg('CONFIG_DMA_OPS') && dev.dma_ops !== null) throw new ModelError('dma_map_ops are not modelled (no IOMMU on these profiles)');
    knote(m.cfg('CONFIG_DMA_OPS') ? 'no dev->dma_ops, no arch default: NULL' : 'CONFIG_DMA_OPS unset: NULL');
    return null;
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_go_direct (5.10, 6.6): no ops → direct. */
export function dma_go_direct(_m: Machine, _dev: device, _mask: bigint, ops: null): boolean {
  kenter('dma_go_direct');
  try {
    return ops === null;
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_alloc_direct (5.10, 6.6). */
export function dma_alloc_direct(m: Machine, dev: device, ops: null): boolean {
  kenter('dma_alloc_direct');
  try {
    return dma_go_direct(m, dev, dev.coherent_dma_mask, ops);
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_map_direct (5.10, 6.6). */
export function dma_map_direct(m: Machine, dev: device, ops: null): boolean {
  kenter('dma_map_direct');
  try {
    return dma_go_direct(m, dev, dev.dma_mask ?? 0n, ops);
  } finally {
    kexit();
  }
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
 * (its answer is final, NULL included, and skips the debug hook), zone flags
 * stripped, then direct.
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
    const dev_ret = { cpu_addr: null as bigint | null };
    if (dma_alloc_from_dev_coherent(m, dev, size, h, dev_ret)) {
      knote('per-device coherent memory');
      return dev_ret.cpu_addr;
    }
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
    if (dma_release_from_dev_coherent(m, dev, get_order(size), cpu_addr ?? 0n)) {
      knote('released to per-device coherent memory');
      return;
    }
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

// ---------------------------------------------------------------------------
// Masks (§2.7). dma_addr_t is 64-bit on riscv64, so the (dma_addr_t) truncation is the identity.

/** kernel/dma/mapping.c dma_supported (5.10 exported, 6.6 static): no ops → dma_direct_supported. */
export function dma_supported(m: Machine, dev: device, mask: bigint): boolean {
  kenter('dma_supported');
  try {
    get_dma_ops(m, dev);
    return dma_direct_supported(m, dev, mask);
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_set_mask (5.10, 6.6): -EIO without a dma_mask pointer or for an unsupported mask. */
export function dma_set_mask(m: Machine, dev: device, mask: bigint): number {
  kenter('dma_set_mask');
  try {
    if (dev.dma_mask === null || !dma_supported(m, dev, mask)) return -EIO;
    dev.dma_mask = mask;
    return 0;
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_set_coherent_mask (5.10 without ARCH_HAS_DMA_SET_COHERENT_MASK, as on riscv; 6.6). */
export function dma_set_coherent_mask(m: Machine, dev: device, mask: bigint): number {
  kenter('dma_set_coherent_mask');
  try {
    if (!dma_supported(m, dev, mask)) return -EIO;
    dev.coherent_dma_mask = mask;
    return 0;
  } finally {
    kexit();
  }
}

/** include/linux/dma-mapping.h dma_set_mask_and_coherent (5.10, 6.6): the coherent mask only if the streaming one took; its result is ignored. */
export function dma_set_mask_and_coherent(m: Machine, dev: device, mask: bigint): number {
  kenter('dma_set_mask_and_coherent');
  try {
    const rc = dma_set_mask(m, dev, mask);
    if (rc === 0) dma_set_coherent_mask(m, dev, mask);
    return rc;
  } finally {
    kexit();
  }
}

/**
 * include/linux/dma-mapping.h dma_coerce_mask_and_coherent (5.10, 6.6): points
 * dma_mask at coherent_dma_mask, then sets both. The model stores values, so
 * the later aliasing of the two (one setter moving both) is not kept.
 */
export function dma_coerce_mask_and_coherent(m: Machine, dev: device, mask: bigint): number {
  kenter('dma_coerce_mask_and_coherent');
  try {
    dev.dma_mask = dev.coherent_dma_mask;
    return dma_set_mask_and_coherent(m, dev, mask);
  } finally {
    kexit();
  }
}

/** include/linux/dma-mapping.h dma_get_mask (5.10, 6.6): a zero or missing mask reads as 32-bit. */
export function dma_get_mask(dev: device): bigint {
  return dev.dma_mask !== null && dev.dma_mask !== 0n ? dev.dma_mask : DMA_BIT_MASK(32);
}

/** kernel/dma/mapping.c dma_get_required_mask (5.10, 6.6): direct → dma_direct_get_required_mask. */
export function dma_get_required_mask(m: Machine, dev: device): bigint {
  kenter('dma_get_required_mask');
  try {
    const ops = get_dma_ops(m, dev);
    if (dma_alloc_direct(m, dev, ops)) return dma_direct_get_required_mask(m, dev);
    return DMA_BIT_MASK(32);
  } finally {
    kexit();
  }
}

/**
 * include/linux/dma-mapping.h dma_addressing_limited (5.10, 6.6 inline): the
 * device's reach is below what the top of RAM needs. Only the top counts, so
 * a range map that leaves a hole lower down reads as unlimited (historic B8).
 * A profile with the a409d9600959 backport runs the v6.7 kernel/dma/mapping.c
 * version, which also asks whether the range map covers every System RAM
 * resource (for direct mapping; dma_map_ops are not modelled).
 */
export function dma_addressing_limited(m: Machine, dev: device): boolean {
  kenter('dma_addressing_limited');
  try {
    if (min_not_zero(dma_get_mask(dev), dev.bus_dma_limit) < dma_get_required_mask(m, dev)) return true;
    if (!hasBackport(m.profile, 'a409d9600959')) return false;
    if (m.profile.kernel !== '6.6') throw new ModelError('backport a409d9600959 is modelled on 6.6 only');
    get_dma_ops(m, dev);
    return !dma_direct_all_ram_mapped(m, dev);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------------------
// Managed (devres) coherent memory

/** kernel/dma/mapping.c struct dma_devres (5.10, 6.6). */
export interface dma_devres {
  size: bigint;
  vaddr: bigint;
  dma_handle: bigint;
  attrs: number;
}

/** kernel/dma/mapping.c dmam_release (5.10, 6.6): the devres release callback. */
export function dmam_release(m: Machine, dev: device, res: unknown): void {
  kenter('dmam_release');
  try {
    const dr = res as dma_devres;
    dma_free_attrs(m, dev, dr.size, dr.vaddr, dr.dma_handle, dr.attrs);
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dmam_match (5.10, 6.6): same vaddr; a different size or handle WARNs but still matches. */
export function dmam_match(m: Machine, dev: device, res: unknown, match_data: unknown): boolean {
  const a = res as dma_devres;
  const b = match_data as dma_devres;
  if (a.vaddr !== b.vaddr) return false;
  if (a.size !== b.size || a.dma_handle !== b.dma_handle) m.warnings.push(`${dev.name}: dmam_match: size or dma_handle differs (WARN_ON)`);
  return true;
}

/**
 * kernel/dma/mapping.c dmam_free_coherent (5.10; vanilla 6.6 too — the
 * devres-first order is 28e8b7406d3a, v6.11): free the memory, then destroy
 * the record, WARNing if there was none.
 */
export function dmam_free_coherent(m: Machine, dev: device, size: bigint, vaddr: bigint, dma_handle: bigint): void {
  kenter('dmam_free_coherent');
  try {
    dma_free_attrs(m, dev, size, vaddr, dma_handle, 0);
    const match: dma_devres = { size, vaddr, dma_handle, attrs: 0 };
    if (devres_destroy(dev, dmam_release, (d, r, md) => dmam_match(m, d, r, md), match) !== 0) m.warnings.push(`${dev.name}: dmam_free_coherent: no devres record (WARN_ON)`);
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dmam_alloc_attrs (5.10, 6.6): the record is kept only if the allocation succeeded. */
export function dmam_alloc_attrs(m: Machine, dev: device, size: bigint, h: DmaHandle, gfp: number, attrs: number): bigint | null {
  kenter('dmam_alloc_attrs');
  try {
    const vaddr = dma_alloc_attrs(m, dev, size, h, gfp, attrs);
    if (vaddr === null) return null;
    const dr: dma_devres = { size, vaddr, dma_handle: h.dma_handle, attrs };
    devres_add(dev, { release: dmam_release, data: dr });
    return vaddr;
  } finally {
    kexit();
  }
}

/** include/linux/dma-mapping.h dmam_alloc_coherent (5.10, 6.6): DMA_ATTR_NO_WARN when the gfp has __GFP_NOWARN. */
export function dmam_alloc_coherent(m: Machine, dev: device, size: bigint, h: DmaHandle, gfp: number): bigint | null {
  kenter('dmam_alloc_coherent');
  try {
    const G = gfpFlags(m.profile.kernel);
    return dmam_alloc_attrs(m, dev, size, h, gfp, gfp & G.__GFP_NOWARN ? DMA_ATTR_NO_WARN : 0);
  } finally {
    kexit();
  }
}
