// How large one streaming mapping may be: kernel/dma/mapping.c
// dma_max_mapping_size and kernel/dma/direct.c dma_direct_max_mapping_size
// (5.10, 6.6). Kept apart from direct.ts because the direct answer asks
// mapping.c's dma_addressing_limited, which itself calls into direct.ts.
// Drivers size their transfers by it (NVMe's max_hw_sectors, for one), so a
// mapping no larger than the answer is one the API has promised to take.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { dma_addressing_limited, dma_map_direct, get_dma_ops } from './mapping.ts';
import { is_swiotlb_active, swiotlb_max_mapping_size } from './swiotlb.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { U64_MAX } from '../../types.ts';

/** include/linux/limits.h SIZE_MAX for riscv64's 64-bit size_t. */
export const SIZE_MAX = U64_MAX;

/**
 * kernel/dma/direct.c dma_direct_max_mapping_size (5.10, 6.6): one swiotlb
 * segment when swiotlb is there and the device may need it (addressing
 * limited, or swiotlb=force, which no profile sets); no limit otherwise.
 */
export function dma_direct_max_mapping_size(m: Machine, dev: device): bigint {
  kenter('dma_direct_max_mapping_size');
  try {
    const io = m.io_tlb;
    if (io !== null && is_swiotlb_active(io) && dma_addressing_limited(m, dev)) return BigInt(swiotlb_max_mapping_size(io));
    knote(io === null || !is_swiotlb_active(io) ? 'no swiotlb: SIZE_MAX' : 'not addressing limited: SIZE_MAX');
    return SIZE_MAX;
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_max_mapping_size (5.10, 6.6): direct mapping asks dma-direct; ops are not modelled. */
export function dma_max_mapping_size(m: Machine, dev: device): bigint {
  kenter('dma_max_mapping_size');
  try {
    const ops = get_dma_ops(m, dev);
    return dma_map_direct(m, dev, ops) ? dma_direct_max_mapping_size(m, dev) : SIZE_MAX;
  } finally {
    kexit();
  }
}
