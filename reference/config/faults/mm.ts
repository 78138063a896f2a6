// Fault switches in mm/: the buddy allocator, GFP zones, kmalloc.

import type { FaultInfo } from './types.ts';

export const MM_FAULTS = {
  'buddy-no-merge': {
    fn: '__free_one_page',
    description: 'never merges a freed block with its free buddy',
    historic: 'model',
    target: { base: 'three-zone-5.10', breaks: ['conservation'] },
  },
  'buddy-split-keeps-upper': {
    fn: 'expand',
    description: 'splitting a larger block puts the half it hands out back on the free list as well',
    historic: 'model',
    target: { base: 'three-zone-5.10', breaks: ['no-overlap'] },
  },
  'buddy-unaligned-carve': {
    fn: 'memblock_free_pages',
    description: 'hands boot memory to the buddy allocator in blocks not aligned to their order',
    historic: 'model',
    target: { base: 'board-1g-6.6', breaks: ['order-alignment'] },
  },
  'gfp-zone-dma32-as-normal': {
    fn: 'gfp_zone',
    description: 'maps __GFP_DMA32 to ZONE_NORMAL, so DMA32 requests may land above 4 GiB',
    historic: 'model',
    target: { base: 'c920-sg2042-6.6', breaks: ['zone'] },
  },
  'kmalloc-minalign-8': {
    fn: 'kmalloc',
    description: 'minimum alignment 8 even where the kernel guarantees ARCH_DMA_MINALIGN: small objects share 64-byte lines',
    historic: 'G5',
    analogue: true,
    title: 'arm64: Fix DMA range invalidation for cache line unaligned buffers',
    target: { base: 'c920-sg2042-5.10-fixed', breaks: ['no-stale-read'] },
  },
} as const satisfies Record<string, FaultInfo>;
