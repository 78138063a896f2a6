// kernel/dma/debug.c paths the main suite leaves out: every hook returns at
// once under dma_debug=off, and the vmapped-stack wording of check_for_stack.
import { describe, expect, it } from 'vitest';
import {
  debugDmaOutstanding,
  debug_dma_alloc_coherent,
  debug_dma_free_coherent,
  debug_dma_map_page,
  debug_dma_map_single,
  debug_dma_mapping_error,
  debug_dma_sync_single_for_cpu,
  debug_dma_sync_single_for_device,
  debug_dma_unmap_page,
  dmaDebugCreate,
  dma_debug_device_change,
  type DmaDebugDevice,
} from '../../reference/kernel/dma/debug.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';

const d: DmaDebugDevice = { name: 'eth0' };

describe('dma_debug=off (global_disable)', () => {
  for (const kernel of ['5.10', '6.6'] as const) {
    it(`${kernel}: no hook tracks or reports anything, even for misuse that would be reported when on`, () => {
      const st = dmaDebugCreate(kernel, { disabled: true });
      // Each of these is a reportable misuse with dma-debug on (checked below on a live checker).
      debug_dma_map_single(st, d, false, true, 0xffff_ffc8_0000_0000n, 64n);
      debug_dma_alloc_coherent(st, d, 4096n, 0x8000_0000n, 0x8000_0000n, 0);
      debug_dma_free_coherent(st, d, 4096n, 0x9000_0000n, 0x9000_0000n);
      debug_dma_mapping_error(st, d, 0x9000_0000n);
      debug_dma_sync_single_for_device(st, d, 0x9000_0000n, 64n, DMA_TO_DEVICE);
      debug_dma_sync_single_for_cpu(st, d, 0x9000_0000n, 64n, DMA_FROM_DEVICE);
      debug_dma_unmap_page(st, d, 0x9000_0000n, 64n, DMA_TO_DEVICE);
      dma_debug_device_change(st, d);
      expect(st.reports).toEqual([]);
      expect(st.error_count).toBe(0);
      expect(debugDmaOutstanding(st)).toBe(0);

      const on = dmaDebugCreate(kernel, { allErrors: true });
      debug_dma_map_single(on, d, false, true, 0xffff_ffc8_0000_0000n, 64n);
      debug_dma_free_coherent(on, d, 4096n, 0x9000_0000n, 0x9000_0000n);
      debug_dma_sync_single_for_device(on, d, 0x9000_0000n, 64n, DMA_TO_DEVICE);
      debug_dma_alloc_coherent(on, d, 4096n, 0x8000_0000n, 0x8000_0000n, 0);
      dma_debug_device_change(on, d);
      expect(on.reports.map((r) => r.check)).toEqual([
        'map-invalid-area',
        'map-vmalloc-area',
        'unmap-not-mapped',
        'sync-not-mapped',
        'pending-allocations',
      ]);
    });
  }
});

describe('check_for_stack', () => {
  it('a vmapped stack is reported with the "probable" address (the page was looked up, not known)', () => {
    const st = dmaDebugCreate('6.6');
    debug_dma_map_page(st, d, 0x8000_1000n, 64n, DMA_BIDIRECTIONAL, 0x8000_1000n, 0, { onVmappedStack: true });
    expect(st.reports.map((r) => r.check)).toEqual(['map-from-stack']);
    expect(st.reports[0].message).toContain('maps memory from stack [probable addr=0x80001000]');
    // The mapping is still entered: the report is a warning, not a refusal.
    expect(debugDmaOutstanding(st, d)).toBe(1);
  });
});
