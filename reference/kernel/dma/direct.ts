// kernel/dma/direct.c: coherent allocations (5.10 and 6.6 orders, spec
// kernel-alloc.md §4.1-4.8). Atomic pools, CMA and per-device memory are
// reached through their own files as they land; a branch whose backing is not
// modelled yet throws ModelError instead of pretending.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { dma_to_phys, phys_to_dma } from '../../include/linux/dma-direct.ts';
import { DMA_ATTR_NO_KERNEL_MAPPING, DMA_ATTR_NO_WARN, DMA_MAPPING_ERROR } from '../../include/linux/dma-mapping-attrs.ts';
import { gfpFlags, gfpflags_allow_blocking } from '../../include/linux/gfp.ts';
import { __free_pages, alloc_pages_node, NUMA_NO_NODE } from '../../mm/page_alloc.ts';
import { arch_dma_prep_coherent, dev_is_dma_coherent } from '../../arch/riscv/dma-noncoherent.ts';
import { dma_pgprot, page_address, PAGE_KERNEL } from '../../arch/riscv/pgtable.ts';
import { is_vmalloc_addr, vunmap } from '../../mm/vmalloc.ts';
import { dma_common_contiguous_remap } from './remap.ts';
import { cpuMemset } from '../../hw/cpu.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { DMA_BIT_MASK, ModelError, PAGE_ALIGN, PFN_PHYS, PHYS_PFN, get_order, min_not_zero } from '../../types.ts';

/** kernel/dma/direct.c phys_to_dma_direct (5.10, 6.6): no forced decryption on riscv. */
export function phys_to_dma_direct(dev: device, phys: bigint): bigint {
  return phys_to_dma(dev, phys);
}

/** kernel/dma/direct.c dma_direct_optimal_gfp_mask (5.10 (dev, mask, &limit); 6.6 (dev, &limit): same behaviour). */
export function dma_direct_optimal_gfp_mask(m: Machine, dev: device, out: { phys_limit: bigint }): number {
  kenter('dma_direct_optimal_gfp_mask');
  try {
    const G = gfpFlags(m.profile.kernel);
    const dma_limit = min_not_zero(dev.coherent_dma_mask, dev.bus_dma_limit);
    out.phys_limit = dma_to_phys(dev, dma_limit);
    if (out.phys_limit <= DMA_BIT_MASK(m.profile.zoneDmaBits)) return G.GFP_DMA;
    if (out.phys_limit <= DMA_BIT_MASK(32)) return G.GFP_DMA32;
    return 0;
  } finally {
    kexit();
  }
}

/** kernel/dma/direct.c dma_coherent_ok (5.10, 6.6). */
export function dma_coherent_ok(_m: Machine, dev: device, phys: bigint, size: bigint): boolean {
  const dma = phys_to_dma_direct(dev, phys);
  if (dma === DMA_MAPPING_ERROR) return false;
  return dma + size - 1n <= min_not_zero(dev.coherent_dma_mask, dev.bus_dma_limit);
}

/** kernel/dma/contiguous.c dma_alloc_contiguous: no CMA area in these profiles yet (CONFIG_DMA_CMA unset → NULL). */
function dma_alloc_contiguous(m: Machine, _dev: device, _size: bigint, _gfp: number): number | null {
  if (m.cfg('CONFIG_DMA_CMA')) throw new ModelError('CMA is not modelled yet (issue 4)');
  return null;
}

/** kernel/dma/contiguous.c dma_free_contiguous: without CMA the pages go back to the buddy. */
function dma_free_contiguous(m: Machine, pfn: number, size: bigint): void {
  __free_pages(m.mm, pfn, get_order(size));
}

/** kernel/dma/direct.c __dma_direct_alloc_pages (5.10 (dev,size,gfp); 6.6 adds allow_highmem, no highmem on riscv64). */
export function __dma_direct_alloc_pages(m: Machine, dev: device, size: bigint, gfpIn: number): number | null {
  kenter('__dma_direct_alloc_pages');
  try {
    const G = gfpFlags(m.profile.kernel);
    const lim = { phys_limit: 0n };
    let gfp = gfpIn | dma_direct_optimal_gfp_mask(m, dev, lim);
    let page = dma_alloc_contiguous(m, dev, size, gfp);
    if (page !== null && !dma_coherent_ok(m, dev, PFN_PHYS(page), size)) {
      dma_free_contiguous(m, page, size);
      page = null;
    }
    for (;;) {
      if (page === null) page = alloc_pages_node(m.mm, NUMA_NO_NODE, gfp, get_order(size));
      if (page !== null && !dma_coherent_ok(m, dev, PFN_PHYS(page), size)) {
        dma_free_contiguous(m, page, size);
        page = null;
        if (m.cfg('CONFIG_ZONE_DMA32') && lim.phys_limit < DMA_BIT_MASK(64) && !(gfp & (G.GFP_DMA32 | G.GFP_DMA))) {
          knote('retry with GFP_DMA32');
          gfp |= G.GFP_DMA32;
          continue;
        }
        if (m.cfg('CONFIG_ZONE_DMA') && !(gfp & G.GFP_DMA)) {
          knote('retry with GFP_DMA');
          gfp = (gfp & ~G.GFP_DMA32) | G.GFP_DMA;
          continue;
        }
      }
      return page;
    }
  } finally {
    kexit();
  }
}

export interface DmaHandle {
  dma_handle: bigint;
}

/** kernel/dma/direct.c dma_direct_alloc_from_pool: the atomic pools arrive with issue 4. */
export function dma_direct_alloc_from_pool(_m: Machine, _dev: device, _size: bigint, _h: DmaHandle, _gfp: number): bigint | null {
  throw new ModelError('atomic coherent pools are not modelled yet: non-blocking dma_alloc_coherent on a non-coherent device (issue 4)');
}

/** kernel/dma/direct.c dma_direct_alloc (5.10 order §4.4 and 6.6 order §4.5; riscv has no arch_dma_alloc / set_uncached). */
export function dma_direct_alloc(m: Machine, dev: device, sizeIn: bigint, h: DmaHandle, gfpIn: number, attrs: number): bigint | null {
  kenter('dma_direct_alloc');
  try {
    const G = gfpFlags(m.profile.kernel);
    const size = PAGE_ALIGN(sizeIn);
    let gfp = gfpIn;
    if (attrs & DMA_ATTR_NO_WARN) gfp |= G.__GFP_NOWARN;
    const coherent = dev_is_dma_coherent(m, dev);
    const remapCfg = m.cfg('CONFIG_DMA_DIRECT_REMAP');
    if (attrs & DMA_ATTR_NO_KERNEL_MAPPING) {
      knote('no-kernel-mapping path');
      const page = __dma_direct_alloc_pages(m, dev, size, gfp & ~G.__GFP_ZERO);
      if (page === null) return null;
      arch_dma_prep_coherent(m, page, size);
      h.dma_handle = phys_to_dma_direct(dev, PFN_PHYS(page));
      return BigInt(page); // the kernel returns the struct page pointer as a cookie
    }
    let remap = false;
    if (m.profile.kernel === '5.10') {
      if (!m.cfg('CONFIG_ARCH_HAS_DMA_SET_UNCACHED') && !remapCfg && !coherent) {
        throw new ModelError('arch_dma_alloc: riscv has none; this Kconfig could not link');
      }
      if (m.cfg('CONFIG_DMA_COHERENT_POOL') && !gfpflags_allow_blocking(gfp) && remapCfg && !coherent) {
        knote('atomic pool: cannot block');
        return dma_direct_alloc_from_pool(m, dev, size, h, gfp);
      }
      remap = remapCfg && !coherent;
    } else if (!coherent) {
      if (!m.cfg('CONFIG_ARCH_HAS_DMA_SET_UNCACHED') && !remapCfg && !m.cfg('CONFIG_DMA_GLOBAL_POOL')) {
        throw new ModelError('arch_dma_alloc: riscv has none; this Kconfig could not link');
      }
      if (m.cfg('CONFIG_DMA_GLOBAL_POOL')) throw new ModelError('CONFIG_DMA_GLOBAL_POOL is not modelled yet (issue 4)');
      remap = remapCfg;
      if (remap) {
        if (!gfpflags_allow_blocking(gfp)) {
          knote('dma_direct_use_pool: cannot block');
          return dma_direct_alloc_from_pool(m, dev, size, h, gfp);
        }
      } else if (!m.cfg('CONFIG_ARCH_HAS_DMA_SET_UNCACHED')) {
        knote('no remap and no set_uncached: NULL');
        return null;
      }
    }
    const page = __dma_direct_alloc_pages(m, dev, size, gfp & ~G.__GFP_ZERO);
    if (page === null) return null;
    let ret: bigint;
    if (remap) {
      knote('remap');
      const prot = dma_pgprot(PAGE_KERNEL(m.init_mm.cfg), attrs, coherent, m.profile.kernel, m.init_mm.cfg);
      arch_dma_prep_coherent(m, page, size);
      const va = dma_common_contiguous_remap(m, page, size, prot, 'dma_direct_alloc');
      if (va === null) {
        dma_free_contiguous(m, page, size);
        return null;
      }
      ret = va;
    } else {
      ret = page_address(m.init_mm, page);
    }
    cpuMemset(m, m.kernelHart, ret, 0, Number(size));
    h.dma_handle = phys_to_dma_direct(dev, PFN_PHYS(page));
    return ret;
  } finally {
    kexit();
  }
}

/** kernel/dma/direct.c dma_direct_free (5.10 §4.7, 6.6 §4.8 without the pool/global-pool backings). */
export function dma_direct_free(m: Machine, dev: device, size: bigint, cpu_addr: bigint, dma_addr: bigint, attrs: number): void {
  kenter('dma_direct_free');
  try {
    if (attrs & DMA_ATTR_NO_KERNEL_MAPPING) {
      dma_free_contiguous(m, Number(cpu_addr), size);
      return;
    }
    if (is_vmalloc_addr(m.init_mm, cpu_addr)) {
      knote('vunmap the remap');
      vunmap(m.init_mm, cpu_addr);
    }
    // dma_direct_to_page: the pages are found from the DMA address, so a wrong handle frees the wrong pages
    dma_free_contiguous(m, PHYS_PFN(dma_to_phys(dev, dma_addr)), size);
  } finally {
    kexit();
  }
}
