// Fault switches in mm/cma.c and kernel/dma/contiguous.c.

import type { FaultInfo } from './types.ts';

export const CMA_FAULTS = {
  'cma-aligned-offset-wrong': {
    fn: 'cma_bitmap_aligned_offset',
    description:
      'passes the distance from base_pfn to the next 2^align boundary instead of from the previous one (b5be83e308f7, v4.0-v4.12, fixed by "cma: fix calculation of aligned offset"): results are misaligned when the alignment is more than twice the base alignment',
    historic: 'D4b',
    title: 'cma: fix calculation of aligned offset',
    target: { base: 'board-1g-6.6-cma-align12', breaks: ['order-alignment', 'refinement'] },
  },
  'cma-alignment-uncapped': {
    fn: 'dma_alloc_from_contiguous',
    description:
      'dma_alloc_from_contiguous and cma_alloc_aligned do not cap the alignment order at CONFIG_CMA_ALIGNMENT, so large requests need a larger aligned hole than the kernel asks for',
    historic: 'model',
    target: { base: 'c920-sg2042-6.6-cma', breaks: ['refinement'] },
  },
} as const satisfies Record<string, FaultInfo>;
