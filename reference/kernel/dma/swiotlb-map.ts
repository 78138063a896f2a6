// kernel/dma/swiotlb.c swiotlb_map (5.10, 6.6). Kept apart from swiotlb.ts
// because it is the one swiotlb function that needs the machine (dma_capable,
// arch_sync_dma_for_device); the slot bookkeeping stays machine-free.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { dma_capable, phys_to_dma_unencrypted } from '../../include/linux/dma-direct.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR } from '../../include/linux/dma-mapping-attrs.ts';
import { arch_sync_dma_for_device, dev_is_dma_coherent } from '../../arch/riscv/dma-noncoherent.ts';
import { swiotlb_tbl_map_single, swiotlb_tbl_unmap_single } from './swiotlb.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { ModelError, hex } from '../../types.ts';

/** kernel/dma/swiotlb.c swiotlb_map (5.10, 6.6). */
export function swiotlb_map(m: Machine, dev: device, paddr: bigint, size: bigint, dir: number, attrs: number): bigint {
  kenter('swiotlb_map');
  try {
    const io = m.io_tlb;
    if (io === null) throw new ModelError('swiotlb_map without a swiotlb pool');
    const n = Number(size);
    const tlb = swiotlb_tbl_map_single(io, m.cpuMem, paddr, n, n, 0, dir, attrs);
    if (tlb === DMA_MAPPING_ERROR) {
      knote('swiotlb full');
      return DMA_MAPPING_ERROR;
    }
    const dma = phys_to_dma_unencrypted(dev, tlb);
    if (!dma_capable(dev, dma, size, true)) {
      swiotlb_tbl_unmap_single(io, m.cpuMem, tlb, n, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
      m.warnings.push(`${dev.name}: swiotlb addr ${hex(dma)}+${size} overflow (mask ${hex(dev.dma_mask ?? 0n)}, bus limit ${hex(dev.bus_dma_limit)})`);
      return DMA_MAPPING_ERROR;
    }
    if (!dev_is_dma_coherent(m, dev) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC)) arch_sync_dma_for_device(m, tlb, size, dir);
    return dma;
  } finally {
    kexit();
  }
}
