// include/linux/dma-mapping.h: DMA_ATTR_* bits and DMA_MAPPING_ERROR.
// Identical bit values in 5.10 and 6.6 (spec kernel-alloc.md §1.2).

import { U64_MAX } from '../../types.ts';

export const DMA_ATTR_WEAK_ORDERING = 1 << 1;
export const DMA_ATTR_WRITE_COMBINE = 1 << 2;
export const DMA_ATTR_NO_KERNEL_MAPPING = 1 << 4;
export const DMA_ATTR_SKIP_CPU_SYNC = 1 << 5;
export const DMA_ATTR_FORCE_CONTIGUOUS = 1 << 6;
export const DMA_ATTR_ALLOC_SINGLE_PAGES = 1 << 7;
export const DMA_ATTR_NO_WARN = 1 << 8;
export const DMA_ATTR_PRIVILEGED = 1 << 9;

/**
 * The all-ones dma_addr_t a failed mapping returns. The model's dma_addr_t is
 * 64 bits wide (riscv64 has CONFIG_ARCH_DMA_ADDR_T_64BIT).
 */
export const DMA_MAPPING_ERROR: bigint = U64_MAX;
