// Fault switches in lib/bitmap.c and lib/genalloc.c.

import type { FaultInfo } from './types.ts';

export const LIB_FAULTS = {
  'genalloc-order-align-mask': {
    fn: 'gen_pool_first_fit_order_align',
    description: 'aligns to nr - 1 instead of roundup_pow_of_two(nr) - 1, so 3-unit requests are not order-aligned',
    historic: 'model',
    target: { base: 'c920-sg2042-6.6', breaks: ['order-alignment', 'refinement'] },
  },
  'genalloc-avail-not-decremented': {
    fn: 'gen_pool_alloc_algo_owner',
    description: 'forgets to subtract the allocation from chunk->avail',
    historic: 'D2',
    analogue: true,
    commit: '36845663843fc59c5d794e3dc0641472e3e572da',
    title: 'lib/genalloc: fix the overflow when size is too big',
    target: { base: 'c920-sg2042-6.6', breaks: ['conservation', 'refinement'] },
  },
  'bitmap-area-end-off-by-one': {
    fn: 'bitmap_find_next_zero_area_off',
    description: 'accepts an area that ends one bit past the end of the map (end > size + 1)',
    historic: 'model',
    target: { base: 'c920-sg2042-6.6', breaks: ['refinement'] },
  },
} as const satisfies Record<string, FaultInfo>;
