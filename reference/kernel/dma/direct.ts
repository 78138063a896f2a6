// kernel/dma/direct.c: coherent allocations (5.10 and 6.6 orders, spec
// kernel-alloc.md §4.1-4.8). Atomic pools, CMA and per-device memory are
// reached through their own files as they land; a branch whose backing is not
// modelled yet throws ModelError instead of pretending.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { dma_to_phys, phys_to_dma, phys_to_dma_unencrypted } from '../../include/linux/dma-direct.ts';
import { DMA_ATTR_NO_KERNEL_MAPPING, DMA_ATTR_NO_WARN, DMA_MAPPING_ERROR } from '../../include/linux/dma-mapping-attrs.ts';
import { gfpFlags, gfpflags_allow_blocking } from '../../include/linux/gfp.ts';
import { alloc_pages_node, NUMA_NO_NODE } from '../../mm/page_alloc.ts';
import { arch_dma_prep_coherent, dev_is_dma_coherent } from '../../arch/riscv/dma-noncoherent.ts';
import { dma_pgprot, page_address, PAGE_KERNEL } from '../../arch/riscv/pgtable.ts';
import { is_vmalloc_addr, vunmap } from '../../mm/vmalloc.ts';
import { dma_common_contiguous_remap } from './remap.ts';
import { cpuMemset } from '../../hw/cpu.ts';
import { dma_alloc_from_pool, dma_free_from_pool } from './pool.ts';
import { dma_alloc_contiguous, dma_free_contiguous } from './contiguous.ts';
import { dma_alloc_from_global_coherent, dma_release_from_global_coherent } from './coherent.ts';
import { walk_system_ram_range } from '../resource.ts';
import type { bus_dma_region } from '../../include/linux/device.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { DMA_BIT_MASK, EINVAL, ModelError, PAGE_ALIGN, PFN_PHYS, PHYS_PFN, get_order, min_not_zero } from '../../types.ts';

/** kernel/dma/direct.c phys_to_dma_direct (5.10, 6.6): no forced decryption on riscv. */
export function phys_to_dma_direct(dev: device, phys: bigint): bigint {
  kenter('phys_to_dma_direct');
  try {
    return phys_to_dma(dev, phys);
  } finally {
    kexit();
  }
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
  kenter('dma_coherent_ok');
  try {
    const dma = phys_to_dma_direct(dev, phys);
    if (dma === DMA_MAPPING_ERROR) return false;
    return dma + size - 1n <= min_not_zero(dev.coherent_dma_mask, dev.bus_dma_limit);
  } finally {
    kexit();
  }
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
      dma_free_contiguous(m, dev, page, size);
      page = null;
    }
    for (;;) {
      if (page === null) page = alloc_pages_node(m.mm, NUMA_NO_NODE, gfp, get_order(size));
      if (page !== null && !dma_coherent_ok(m, dev, PFN_PHYS(page), size)) {
        dma_free_contiguous(m, dev, page, size);
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

/**
 * kernel/dma/direct.c dma_direct_alloc_from_pool (5.10, 6.6 §4.6): the device's
 * zone flag picks the first pool; dma_coherent_ok filters the address; the
 * pool has already zeroed the memory. 6.6 WARNs and fails without the pools.
 */
export function dma_direct_alloc_from_pool(m: Machine, dev: device, size: bigint, h: DmaHandle, gfpIn: number): bigint | null {
  kenter('dma_direct_alloc_from_pool');
  try {
    if (m.profile.kernel === '6.6' && !m.cfg('CONFIG_DMA_COHERENT_POOL')) {
      m.warnings.push('dma_direct_alloc_from_pool: WARN_ON_ONCE(!IS_ENABLED(CONFIG_DMA_COHERENT_POOL))');
      return null;
    }
    const gfp = gfpIn | dma_direct_optimal_gfp_mask(m, dev, { phys_limit: 0n });
    const out = { cpu_addr: 0n };
    const page = dma_alloc_from_pool(m, dev, size, out, gfp, dma_coherent_ok);
    if (page === null) return null;
    h.dma_handle = phys_to_dma_direct(dev, PFN_PHYS(page));
    return out.cpu_addr;
  } finally {
    kexit();
  }
}

/**
 * Model helper: the "cannot block" test that routes to the atomic pool (5.10
 * inline in dma_direct_alloc, 6.6 dma_direct_use_pool, no restricted swiotlb
 * on riscv). Fault pool-guess-inverted: the `!` is lost, as in 8d7c141bb80f.
 */
function poolForGfp(m: Machine, gfp: number): boolean {
  if (m.faults.has('pool-guess-inverted')) {
    knote('fault pool-guess-inverted: blocking requests go to the pool');
    return gfpflags_allow_blocking(gfp);
  }
  return !gfpflags_allow_blocking(gfp);
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
      if (m.cfg('CONFIG_DMA_COHERENT_POOL') && poolForGfp(m, gfp) && remapCfg && !coherent) {
        knote('atomic pool: cannot block');
        return dma_direct_alloc_from_pool(m, dev, size, h, gfp);
      }
      remap = remapCfg && !coherent;
    } else if (!coherent) {
      if (!m.cfg('CONFIG_ARCH_HAS_DMA_SET_UNCACHED') && !remapCfg && !m.cfg('CONFIG_DMA_GLOBAL_POOL')) {
        throw new ModelError('arch_dma_alloc: riscv has none; this Kconfig could not link');
      }
      if (m.cfg('CONFIG_DMA_GLOBAL_POOL')) {
        knote('global coherent pool');
        return dma_alloc_from_global_coherent(m, dev, size, h);
      }
      remap = remapCfg;
      if (remap) {
        if (poolForGfp(m, gfp)) {
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
        dma_free_contiguous(m, dev, page, size);
        return null;
      }
      ret = va;
    } else {
      ret = page_address(m.init_mm, page);
    }
    if (m.faults.has('coherent-no-zeroing') && !(gfpIn & G.__GFP_ZERO)) knote('fault coherent-no-zeroing: no memset without __GFP_ZERO');
    else cpuMemset(m, m.kernelHart, ret, 0, Number(size));
    h.dma_handle = phys_to_dma_direct(dev, PFN_PHYS(page));
    return ret;
  } finally {
    kexit();
  }
}

/** kernel/dma/direct.c dma_direct_free (5.10 §4.7, 6.6 §4.8; riscv has no arch_dma_free or clear_uncached). */
export function dma_direct_free(m: Machine, dev: device, size: bigint, cpu_addr: bigint, dma_addr: bigint, attrs: number): void {
  kenter('dma_direct_free');
  try {
    if (attrs & DMA_ATTR_NO_KERNEL_MAPPING) {
      dma_free_contiguous(m, dev, Number(cpu_addr), size);
      return;
    }
    if (m.profile.kernel === '6.6' && m.cfg('CONFIG_DMA_GLOBAL_POOL') && !dev_is_dma_coherent(m, dev)) {
      if (!dma_release_from_global_coherent(m, get_order(size), cpu_addr)) m.warnings.push('dma_direct_free: WARN_ON_ONCE(not from the global coherent pool)');
      return;
    }
    if (m.cfg('CONFIG_DMA_COHERENT_POOL') && dma_free_from_pool(m, dev, cpu_addr, PAGE_ALIGN(size))) {
      knote('returned to the atomic pool');
      return;
    }
    if (is_vmalloc_addr(m.init_mm, cpu_addr)) {
      knote('vunmap the remap');
      vunmap(m.init_mm, cpu_addr);
    }
    // dma_direct_to_page: the pages are found from the DMA address, so a wrong handle frees the wrong pages
    dma_free_contiguous(m, dev, PHYS_PFN(dma_to_phys(dev, dma_addr)), size);
  } finally {
    kexit();
  }
}

/** Model helper: max_pfn, one past the highest PFN the page allocator spans (riscv: PFN_DOWN(memblock_end_of_DRAM())). */
function maxPfn(m: Machine): number {
  return m.mm.node_start_pfn + m.mm.node_spanned_pages;
}

/**
 * kernel/dma/direct.c dma_direct_get_required_mask (5.10, 6.6): the smallest
 * all-ones mask covering the DMA address of the last page of RAM (an address
 * outside the range map translates to all-ones, giving DMA_BIT_MASK(64)).
 */
export function dma_direct_get_required_mask(m: Machine, dev: device): bigint {
  kenter('dma_direct_get_required_mask');
  try {
    const max_dma = phys_to_dma_direct(dev, PFN_PHYS(maxPfn(m) - 1));
    const fls = max_dma.toString(2).length;
    return BigInt.asUintN(64, (1n << BigInt(fls - 1)) * 2n - 1n);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/direct.c dma_direct_supported (5.10, 6.6): every mask of 32 bits
 * or more; a smaller one must reach the last page of RAM, or of ZONE_DMA when
 * it exists. bus_dma_limit is not consulted here.
 */
export function dma_direct_supported(m: Machine, dev: device, mask: bigint): boolean {
  kenter('dma_direct_supported');
  try {
    if (mask >= DMA_BIT_MASK(32)) return true;
    let min_mask = PFN_PHYS(maxPfn(m) - 1);
    if (m.cfg('CONFIG_ZONE_DMA')) min_mask = min_mask < DMA_BIT_MASK(m.profile.zoneDmaBits) ? min_mask : DMA_BIT_MASK(m.profile.zoneDmaBits);
    return mask >= phys_to_dma_unencrypted(dev, min_mask);
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/direct.c dma_find_range (2025, "dma-mapping: fix missing clear
 * bdr in check_ram_in_range_map()", 8324993f6030 in dma-mapping-fixes): the
 * range-map entry whose CPU side holds start_pfn.
 */
export function dma_find_range(dev: device, start_pfn: number): bus_dma_region | null {
  kenter('dma_find_range');
  try {
    for (const r of dev.dma_range_map ?? []) {
      const cpu_start_pfn = PHYS_PFN(r.cpu_start);
      if (start_pfn >= cpu_start_pfn && start_pfn - cpu_start_pfn < PHYS_PFN(r.size)) return r;
    }
    return null;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/direct.c check_ram_in_range_map (v6.7 a409d9600959 with the
 * 8324993f6030 loop fix; reached on 6.6 only through the backport): 1 when
 * some page of this System RAM resource lies in no range-map entry. As first
 * merged the matched entry was never cleared, so after one hit a following
 * hole made the loop spin on the same pfn; the model follows the fixed loop.
 */
export function check_ram_in_range_map(dev: device, start_pfnIn: number, nr_pages: number): number {
  kenter('check_ram_in_range_map');
  try {
    const end_pfn = start_pfnIn + nr_pages;
    let start_pfn = start_pfnIn;
    while (start_pfn < end_pfn) {
      const bdr = dma_find_range(dev, start_pfn);
      if (bdr === null) {
        knote(`pfn ${start_pfn.toString(16)} is in no dma-range`);
        return 1;
      }
      start_pfn = PHYS_PFN(bdr.cpu_start) + PHYS_PFN(bdr.size);
    }
    return 0;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/direct.c dma_direct_all_ram_mapped (v6.7 a409d9600959; 6.6 only
 * with the backport): every System RAM resource lies inside the range map
 * (trivially so without one).
 */
export function dma_direct_all_ram_mapped(m: Machine, dev: device): boolean {
  kenter('dma_direct_all_ram_mapped');
  try {
    if (dev.dma_range_map === null) return true;
    return walk_system_ram_range(m, 0, Infinity, (pfn, n) => check_ram_in_range_map(dev, pfn, n)) === 0;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/direct.c dma_direct_set_offset (5.10, 6.6): one range of
 * translation for bus code that knows its offset; -EINVAL over an existing
 * map, nothing for a zero offset, and (in both versions) no bus_dma_limit.
 */
export function dma_direct_set_offset(dev: device, cpu_start: bigint, dma_start: bigint, size: bigint): number {
  kenter('dma_direct_set_offset');
  try {
    const offset = BigInt.asUintN(64, cpu_start - dma_start);
    if (dev.dma_range_map !== null) {
      knote('attempt to add DMA range to existing map');
      return -EINVAL;
    }
    if (offset === 0n) return 0;
    dev.dma_range_map = [{ cpu_start, dma_start, size, offset }];
    return 0;
  } finally {
    kexit();
  }
}
