// kernel/dma/direct.h (5.10, 6.6): the streaming fast path, spec §4.10. The
// cache maintenance is arch_sync_dma_*; bouncing goes through swiotlb.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { dma_capable, dma_to_phys, phys_to_dma } from '../../include/linux/dma-direct.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR } from '../../include/linux/dma-mapping-attrs.ts';
import { DMA_TO_DEVICE } from '../../include/linux/dma-direction.ts';
import { arch_sync_dma_for_cpu, arch_sync_dma_for_device, dev_is_dma_coherent } from '../../arch/riscv/dma-noncoherent.ts';
import { is_swiotlb_active, is_swiotlb_buffer, swiotlb_sync_single_for_cpu, swiotlb_sync_single_for_device, swiotlb_tbl_sync_single, swiotlb_tbl_unmap_single, SYNC_FOR_CPU, SYNC_FOR_DEVICE } from './swiotlb.ts';
import { swiotlb_map } from './swiotlb-map.ts';
import { kmalloc_size_roundup } from '../../mm/slab.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { L1_CACHE_BYTES, hex } from '../../types.ts';

const ARCH_DMA_MINALIGN = L1_CACHE_BYTES;

/** include/linux/dma-map-ops.h dma_kmalloc_safe (6.5+, so 6.6). */
export function dma_kmalloc_safe(m: Machine, dev: device, dir: number): boolean {
  if (!m.cfg('CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC')) return true;
  return dev_is_dma_coherent(m, dev) || dir === DMA_TO_DEVICE;
}

/** include/linux/dma-map-ops.h dma_kmalloc_size_aligned (6.6). */
export function dma_kmalloc_size_aligned(m: Machine, size: bigint): boolean {
  if (size >= BigInt(2 * ARCH_DMA_MINALIGN)) return true;
  const rounded = kmalloc_size_roundup(Number(size), m.slab.cfg);
  return rounded % m.dmaCacheAlignment === 0;
}

/** include/linux/dma-map-ops.h dma_kmalloc_needs_bounce (6.6). */
export function dma_kmalloc_needs_bounce(m: Machine, dev: device, size: bigint, dir: number): boolean {
  return !dma_kmalloc_safe(m, dev, dir) && !dma_kmalloc_size_aligned(m, size);
}

/** kernel/dma/direct.h dma_direct_map_page (5.10 §4.10; 6.6 adds the unaligned-kmalloc bounce). */
export function dma_direct_map_page(m: Machine, dev: device, phys: bigint, size: bigint, dir: number, attrs: number): bigint {
  kenter('dma_direct_map_page');
  try {
    const dma = phys_to_dma(dev, phys);
    const io = m.io_tlb;
    if (m.profile.kernel === '5.10') {
      if (!dma_capable(dev, dma, size, true)) {
        if (io !== null) {
          knote('not dma_capable: bounce');
          return swiotlb_map(m, dev, phys, size, dir, attrs);
        }
        m.warnings.push(`${dev.name}: DMA addr ${hex(dma)}+${size} overflow (mask ${hex(dev.dma_mask ?? 0n)}, bus limit ${hex(dev.bus_dma_limit)})`);
        return DMA_MAPPING_ERROR;
      }
    } else if (!dma_capable(dev, dma, size, true) || dma_kmalloc_needs_bounce(m, dev, size, dir)) {
      if (io !== null && is_swiotlb_active(io)) {
        knote('bounce: not dma_capable or unaligned kmalloc buffer');
        return swiotlb_map(m, dev, phys, size, dir, attrs);
      }
      m.warnings.push(`${dev.name}: DMA addr ${hex(dma)}+${size} overflow (mask ${hex(dev.dma_mask ?? 0n)}, bus limit ${hex(dev.bus_dma_limit)})`);
      return DMA_MAPPING_ERROR;
    }
    if (!dev_is_dma_coherent(m, dev) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC)) arch_sync_dma_for_device(m, phys, size, dir);
    return dma;
  } finally {
    kexit();
  }
}

/** kernel/dma/direct.h dma_direct_sync_single_for_device (5.10 swiotlb_tbl_sync_single, 6.6 swiotlb_sync_single_for_device). */
export function dma_direct_sync_single_for_device(m: Machine, dev: device, addr: bigint, size: bigint, dir: number): void {
  kenter('dma_direct_sync_single_for_device');
  try {
    const paddr = dma_to_phys(dev, addr);
    const io = m.io_tlb;
    if (io !== null && is_swiotlb_buffer(io, paddr)) {
      if (m.profile.kernel === '5.10') swiotlb_tbl_sync_single(io, m.cpuMem, paddr, Number(size), dir, SYNC_FOR_DEVICE);
      else swiotlb_sync_single_for_device(io, m.cpuMem, paddr, Number(size), dir);
    }
    if (!dev_is_dma_coherent(m, dev)) arch_sync_dma_for_device(m, paddr, size, dir);
  } finally {
    kexit();
  }
}

/** kernel/dma/direct.h dma_direct_sync_single_for_cpu (5.10, 6.6): cache maintenance first, then the bounce copy. */
export function dma_direct_sync_single_for_cpu(m: Machine, dev: device, addr: bigint, size: bigint, dir: number): void {
  kenter('dma_direct_sync_single_for_cpu');
  try {
    const paddr = dma_to_phys(dev, addr);
    if (!dev_is_dma_coherent(m, dev)) arch_sync_dma_for_cpu(m, paddr, size, dir);
    const io = m.io_tlb;
    if (io !== null && is_swiotlb_buffer(io, paddr)) {
      if (m.profile.kernel === '5.10') swiotlb_tbl_sync_single(io, m.cpuMem, paddr, Number(size), dir, SYNC_FOR_CPU);
      else swiotlb_sync_single_for_cpu(io, m.cpuMem, paddr, Number(size), dir);
    }
  } finally {
    kexit();
  }
}

/** kernel/dma/direct.h dma_direct_unmap_page (5.10 passes attrs on to swiotlb; 6.6 adds SKIP_CPU_SYNC since it synced already). */
export function dma_direct_unmap_page(m: Machine, dev: device, addr: bigint, size: bigint, dir: number, attrs: number): void {
  kenter('dma_direct_unmap_page');
  try {
    const phys = dma_to_phys(dev, addr);
    if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC)) dma_direct_sync_single_for_cpu(m, dev, addr, size, dir);
    const io = m.io_tlb;
    if (io !== null && is_swiotlb_buffer(io, phys)) {
      const a = m.profile.kernel === '5.10' ? attrs : attrs | DMA_ATTR_SKIP_CPU_SYNC;
      swiotlb_tbl_unmap_single(io, m.cpuMem, phys, Number(size), dir, a);
    }
  } finally {
    kexit();
  }
}
