// struct device, the fields the DMA layer reads (include/linux/device.h,
// include/linux/dma-map-ops.h). Built from a DeviceSpec by the platform-device
// path in reference/drivers/of/platform.ts (of_dma_configure + the driver's masks).

import type { dma_coherent_mem } from '../../kernel/dma/coherent.ts';
import type { devres } from '../../drivers/base/devres.ts';

export interface bus_dma_region {
  cpu_start: bigint;
  dma_start: bigint;
  size: bigint;
  /** cpu_start - dma_start, u64 wrap-around */
  offset: bigint;
}

export interface device {
  name: string;
  /** `u64 *dma_mask`: null = no pointer (the kernel rejects mapping then). */
  dma_mask: bigint | null;
  coherent_dma_mask: bigint;
  /** 0 = no limit. */
  bus_dma_limit: bigint;
  /** null = identity; otherwise entries (the kernel's size==0 sentinel is implicit). */
  dma_range_map: readonly bus_dma_region[] | null;
  /** Only meaningful where the arch has sync hooks (dev_is_dma_coherent). */
  dma_coherent: boolean;
  /** What the hardware really does: snoop the CPU caches or not (the device tree's claim may differ). */
  hwSnoops: boolean;
  dma_ops: null;
  /** Per-device coherent memory (kernel/dma/coherent.c struct dma_coherent_mem), null = none. */
  dma_mem: dma_coherent_mem | null;
  /** Per-device CMA area (struct cma *), null = use the default area. */
  cma_area: unknown | null;
  /** reserved-memory node name from the device tree's memory-region (what the driver would claim). */
  memoryRegion: string | null;
  /** devres_head (drivers/base/devres.c): managed resources, oldest first; absent = none yet. */
  devres_head?: devres[];
}
