// Fault switches in kernel/dma: dma-direct, swiotlb, per-device coherent pools, debug, of_dma_configure.

import type { FaultInfo } from './types.ts';

export const DMA_FAULTS = {
  'swiotlb-from-device-no-copy': {
    fn: 'swiotlb_tbl_map_single',
    description:
      'copies the original buffer into the bounce slot only for TO_DEVICE/BIDIRECTIONAL (v5.10 before ddbd89deb7d3 "swiotlb: fix info leak with DMA_FROM_DEVICE"): bytes the device does not write come back as stale slot contents',
    commit: 'ddbd89deb7d32b1fbb879f48d68fda1a8ac58e8e',
    title: 'swiotlb: fix info leak with DMA_FROM_DEVICE',
    target: { base: 'c920-sg2042-5.10-fixed', breaks: ['no-stale-read'] },
  },
  'debug-unmap-skips-dir-check': {
    fn: 'check_unmap',
    description: 'CONFIG_DMA_API_DEBUG does not compare the unmap direction with the map direction, so a wrong-direction unmap goes unreported',
    historic: 'model',
    target: { base: 'c920-sg2042-6.6', breaks: ['debug-agreement'] },
  },
  'coherent-no-zeroing': {
    fn: 'dma_direct_alloc',
    description: 'zeroes the buffer only when the caller passed __GFP_ZERO, so old memory contents leak to the CPU and the device',
    historic: 'G3',
    commit: '6829e274a623187c24f7cfc0e3d35f25d087fcc5',
    title: 'arm64: dma-mapping: always clear allocated buffers (CVE-2015-8950)',
    analogue: true,
    target: { base: 'c920-sg2042-6.6', breaks: ['zeroed-and-coherent', 'no-stale-read'] },
  },
  'coherent-device-base-ignores-ranges': {
    fn: 'dma_get_device_base',
    description:
      'per-device pools from the device tree hand out device_base (the CPU address) + offset instead of phys_to_dma of the pool: a device behind dma-ranges with an offset is given CPU addresses (historic C2, fixed by a445e940ea68 "dma-mapping: fix handling of dma-ranges for reserved memory (again)")',
    historic: 'C2',
    commit: 'a445e940ea686fc60475564009821010eb213be3',
    title: 'dma-mapping: fix handling of dma-ranges for reserved memory (again)',
    target: { base: 'board-1g-6.6-dt-pools', breaks: ['coherent-ok-mask'] },
  },
  'dma-ranges-limit-ignored': {
    fn: 'of_dma_configure_id',
    description:
      'installs the dma-ranges map and clamps the default masks but never sets bus_dma_limit: once the driver raises its masks, dma_capable and dma_coherent_ok accept buffers that start inside the bus window and run past its end (in the spirit of historic B12 "ARM/dma-mapping: take the bus limit into account in __dma_alloc": an allocator that ignored the bus limit)',
    historic: 'B12',
    analogue: true,
    title: 'ARM/dma-mapping: take the bus limit into account in __dma_alloc',
    target: { base: 'board-1g-6.6-dt-pools', breaks: ['coherent-ok-mask'] },
  },
} as const satisfies Record<string, FaultInfo>;
