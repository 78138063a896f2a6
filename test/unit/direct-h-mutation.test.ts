// reference/kernel/dma/direct.h.ts, include/linux/dma-direct.ts, include/linux/dma-mapping.ts:
// exact outcomes that StrykerJS showed no other test pins down
// (bench/mutation-equivalents.md lists the survivors that cannot be killed).
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { dma_direct_sync_single_for_cpu, dma_direct_sync_single_for_device } from '../../reference/kernel/dma/direct.h.ts';
import { dma_capable } from '../../reference/include/linux/dma-direct.ts';
import { dma_map_single_attrs } from '../../reference/include/linux/dma-mapping.ts';
import { DMA_ATTR_SKIP_CPU_SYNC } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { cpuStore } from '../../reference/hw/cpu.ts';
import { phys_to_virt } from '../../reference/arch/riscv/pgtable.ts';
import { lineOf } from '../../reference/mm/memory.ts';
import { machine, dev } from '../support/machines.ts';

const PA = 0x4000_0000n;

describe('sync_single on a coherent device: no cache maintenance', () => {
  it('a dirty CPU line stays dirty through for_device and for_cpu', () => {
    const m = machine('c920-sg2042-6.6-coherent-pcie');
    const d = dev(m, 'nvme0');
    cpuStore(m, m.kernelHart, phys_to_virt(m.init_mm, PA), new Uint8Array([1, 2, 3]));
    const state = () => m.caches.lineState(m.kernelHart, 'L1', lineOf(PA));
    expect(state()).toBe('D');
    dma_direct_sync_single_for_device(m, d, PA, 3n, DMA_TO_DEVICE);
    expect(state()).toBe('D');
    dma_direct_sync_single_for_cpu(m, d, PA, 3n, DMA_FROM_DEVICE);
    expect(state()).toBe('D');
    dma_direct_sync_single_for_cpu(m, d, PA, 3n, DMA_BIDIRECTIONAL);
    expect(state()).toBe('D');
  });
});

describe('dma_capable', () => {
  it('no dma_mask pointer: never capable', () => {
    const m = machine('board-1g-6.6');
    const d = { ...dev(m, 'sdhci0'), dma_mask: null };
    expect(dma_capable(d, 0x8000_0000n, 4096n, true)).toBe(false);
    expect(dma_capable(d, 0n, 1n, true)).toBe(false);
    expect(dma_capable(dev(m, 'sdhci0'), 0x8000_0000n, 4096n, true)).toBe(true);
  });
});

describe('dma_map_single_attrs with CONFIG_DMA_API_DEBUG', () => {
  it('a pointer outside the linear map (not vmalloc): dma-debug reports an invalid area before virt_to_phys', () => {
    const m = machine('board-1g-6.6', { CONFIG_DMA_API_DEBUG: true });
    // The model cannot translate such a pointer (the kernel would map garbage); the report comes first.
    expect(() => dma_map_single_attrs(m, dev(m, 'dwmac0'), 0x1000n, 64n, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC)).toThrow();
    expect(m.debug!.reports.map((r) => r.check)).toContain('map-invalid-area');
  });
});
