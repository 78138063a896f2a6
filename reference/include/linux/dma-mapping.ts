// include/linux/dma-mapping.h inline wrappers (5.10, 6.6): the calls drivers write.

import type { Machine } from '../../system.ts';
import type { device } from './device.ts';
import { DMA_MAPPING_ERROR, DMA_ATTR_NO_WARN } from './dma-mapping-attrs.ts';
import { gfpFlags } from './gfp.ts';
import { is_vmalloc_addr } from '../../mm/vmalloc.ts';
import { virt_addr_valid, virt_to_phys } from '../../arch/riscv/pgtable.ts';
import { dma_alloc_attrs, dma_free_attrs, dma_map_page_attrs, dma_unmap_page_attrs } from '../../kernel/dma/mapping.ts';
import type { DmaHandle } from '../../kernel/dma/direct.ts';
import * as debug from '../../kernel/dma/debug.ts';
import { kenter, kexit } from '../../trace.ts';
import { PAGE_SHIFT, PAGE_SIZE } from '../../types.ts';

/** include/linux/dma-mapping.h dma_map_single_attrs (5.10, 6.6). */
export function dma_map_single_attrs(m: Machine, dev: device, ptr: bigint, size: bigint, dir: number, attrs: number): bigint {
  kenter('dma_map_single_attrs');
  try {
    // The vmalloc rejection returns before the debug hook: dma-debug never sees that pointer.
    const vmalloc = is_vmalloc_addr(m.init_mm, ptr);
    if (vmalloc) {
      m.warnings.push(`${dev.name}: rejecting DMA map of vmalloc memory`);
      return DMA_MAPPING_ERROR;
    }
    if (m.debug) debug.debug_dma_map_single(m.debug, dev, virt_addr_valid(m.init_mm, ptr), vmalloc, ptr, size);
    const pa = virt_to_phys(m.init_mm, ptr);
    return dma_map_page_attrs(m, dev, Number(pa >> BigInt(PAGE_SHIFT)), Number(pa & BigInt(PAGE_SIZE - 1)), size, dir, attrs);
  } finally {
    kexit();
  }
}

/** include/linux/dma-mapping.h dma_unmap_single_attrs (5.10, 6.6) = dma_unmap_page_attrs. */
export function dma_unmap_single_attrs(m: Machine, dev: device, addr: bigint, size: bigint, dir: number, attrs: number): void {
  dma_unmap_page_attrs(m, dev, addr, size, dir, attrs);
}

/** include/linux/dma-mapping.h dma_map_single (5.10, 6.6). */
export function dma_map_single(m: Machine, dev: device, ptr: bigint, size: bigint, dir: number): bigint {
  kenter('dma_map_single');
  try {
    return dma_map_single_attrs(m, dev, ptr, size, dir, 0);
  } finally {
    kexit();
  }
}

/** include/linux/dma-mapping.h dma_unmap_single (5.10, 6.6). */
export function dma_unmap_single(m: Machine, dev: device, addr: bigint, size: bigint, dir: number): void {
  kenter('dma_unmap_single');
  try {
    dma_unmap_single_attrs(m, dev, addr, size, dir, 0);
  } finally {
    kexit();
  }
}

/** include/linux/dma-mapping.h dma_alloc_coherent (5.10, 6.6): DMA_ATTR_NO_WARN when the gfp has __GFP_NOWARN. */
export function dma_alloc_coherent(m: Machine, dev: device, size: bigint, h: DmaHandle, gfp: number): bigint | null {
  kenter('dma_alloc_coherent');
  try {
    const G = gfpFlags(m.profile.kernel);
    return dma_alloc_attrs(m, dev, size, h, gfp, gfp & G.__GFP_NOWARN ? DMA_ATTR_NO_WARN : 0);
  } finally {
    kexit();
  }
}

/** include/linux/dma-mapping.h dma_free_coherent (5.10, 6.6). */
export function dma_free_coherent(m: Machine, dev: device, size: bigint, cpu_addr: bigint | null, dma_handle: bigint): void {
  kenter('dma_free_coherent');
  try {
    dma_free_attrs(m, dev, size, cpu_addr, dma_handle, 0);
  } finally {
    kexit();
  }
}
