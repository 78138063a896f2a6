// Fault switches in kernel/dma/pool.c: the atomic coherent pools.

import type { FaultInfo } from './types.ts';

export const POOL_FAULTS = {
  'pool-size-64x': {
    fn: 'dma_atomic_pool_init',
    description:
      'sizes the atomic pools as max(totalram_pages >> PAGE_SHIFT, 1) * 128 KiB capped at 4 MiB (1d659236fb43, fixed by 3ee06a6d532f "dma-pool: fix too large DMA pools on medium memory size systems"): 64x too large below 512 MiB',
    historic: 'A1',
    commit: '3ee06a6d532f75f20528ff4d2c473cda36c484fe',
    title: 'dma-pool: fix too large DMA pools on medium memory size systems',
    target: { base: 'board-1g-6.6', breaks: ['pool-floor'] },
  },
  'pool-cma-wrong-zone': {
    fn: 'cma_in_zone',
    description:
      'ignores the zone, so a pool takes its chunk from the default CMA area wherever it lies (before d7e673ec2c8e "dma-pool: Only allocate from CMA when in same memory zone")',
    historic: 'A3',
    commit: 'd7e673ec2c8e0ea39c4c70fc490d67d7fbda869d',
    title: 'dma-pool: Only allocate from CMA when in same memory zone',
    target: { base: 'c920-sg2042-6.6-cma', breaks: ['coherent-ok-mask'] },
  },
  'pool-for-empty-zone': {
    fn: 'dma_atomic_pool_init',
    description:
      '6.6 creates the ZONE_DMA pool on CONFIG_ZONE_DMA alone, even when the zone has no managed pages (before a674e48c5443 "dma/pool: create dma atomic pool only if dma zone has managed pages")',
    historic: 'A6',
    commit: 'a674e48c5443d12a8a43c3ac42367aa39505d506',
    title: 'dma/pool: create dma atomic pool only if dma zone has managed pages',
    target: { base: 'kdump-like-6.6', breaks: ['pool-floor'] },
  },
  'pool-guess-inverted': {
    fn: 'dma_direct_use_pool',
    description:
      'the pool predicate loses its "!": blocking allocations go to the atomic pool and atomic ones to the remap path (8d7c141bb80f in linux-next, merged fixed as 28e4576d556b "dma-direct: add a dma_direct_use_pool helper")',
    historic: 'A8',
    commit: '28e4576d556bca543b0996e9edd4b767397e24c6',
    title: 'dma-direct: add a dma_direct_use_pool helper',
    target: { base: 'c920-sg2042-6.6', breaks: ['atomic-context'] },
  },
} as const satisfies Record<string, FaultInfo>;
