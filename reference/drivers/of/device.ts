// drivers/of/device.c (5.10, 6.6; spec kernel-alloc.md §9.2): of_dma_configure,
// run at probe time for every platform device (platform_dma_configure,
// force_dma = true). No IOMMU on these machines: of_iommu_configure is NULL.

import type { Machine } from '../../system.ts';
import type { bus_dma_region, device } from '../../include/linux/device.ts';
import { arch_setup_dma_ops } from '../../arch/riscv/dma-noncoherent.ts';
import { of_dma_get_range, of_dma_is_coherent, of_get_next_dma_parent, ENODEV, type device_node } from './address.ts';
import { of_reserved_mem_device_init_by_idx } from './of_reserved_mem.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { DMA_BIT_MASK, EINVAL, U64_MAX, u64 } from '../../types.ts';

/** include/linux/log2.h ilog2 for a non-zero u64. */
function ilog2(x: bigint): number {
  return x.toString(2).length - 1;
}

/**
 * drivers/of/device.c of_dma_set_restricted_buffer (6.6; 5.15+, under
 * CONFIG_DMA_RESTRICTED_POOL): the first `restricted-dma-pool` memory-region
 * would become the device's own swiotlb pool. No restricted-pool handler is
 * modelled, so the init fails (-EINVAL, a dev_warn) and the device keeps the
 * global swiotlb, as the kernel does when that init fails.
 */
export function of_dma_set_restricted_buffer(m: Machine, dev: device, np: device_node): void {
  kenter('of_dma_set_restricted_buffer');
  try {
    if (!m.cfg('CONFIG_DMA_RESTRICTED_POOL')) return;
    const regions = np.memoryRegion ?? [];
    for (let i = 0; i < regions.length; i++) {
      const rmem = m.reservedMem.reserved_mem.find((r) => r.name === regions[i]);
      if (rmem !== undefined && rmem.node.compatible === 'restricted-dma-pool') {
        if (of_reserved_mem_device_init_by_idx(m, dev, np, i) !== 0) knote('failed to initialise "restricted-dma-pool" memory node');
        return;
      }
    }
  } finally {
    kexit();
  }
}

/**
 * drivers/of/device.c of_dma_configure_id (5.10, 6.6; 6.6 reads dma-ranges from np's DMA parent on). The masks (already the
 * platform default 32-bit) are clamped to the smallest all-ones mask covering
 * the dma-ranges window; with valid dma-ranges the window end becomes
 * bus_dma_limit and the entries the range map. Fault dma-ranges-limit-ignored
 * leaves bus_dma_limit 0 (the map and the clamp stay), so a driver that raises
 * its masks afterwards escapes the window (a historic B12 analogue: a bus limit
 * missed by the checks that should bounce or refuse).
 */
export function of_dma_configure_id(m: Machine, dev: device, np: device_node, force_dma: boolean): number {
  kenter('of_dma_configure_id');
  try {
    const out: { map: bus_dma_region[] | null } = { map: null };
    const ret = of_dma_get_range(m.profile.kernel === '6.6' ? of_get_next_dma_parent(np) : np, out); // v6.1 f1ad5338a4d5: bus_np = __of_get_dma_parent(np) when np is dev->of_node
    let dma_start = 0n;
    let size = 0n;
    if (ret < 0) {
      if (!force_dma) return ret === -ENODEV ? 0 : ret;
    } else {
      let dma_end = 0n;
      dma_start = U64_MAX;
      for (const r of out.map ?? []) {
        if (r.dma_start < dma_start) dma_start = r.dma_start;
        if (u64(r.dma_start + r.size) > dma_end) dma_end = u64(r.dma_start + r.size);
      }
      size = u64(dma_end - dma_start);
      // DTs that give the window as a mask: treat size as mask + 1.
      if (size & 1n) {
        knote('Invalid size for dma-range(s)');
        size = u64(size + 1n);
      }
      if (size === 0n) {
        knote('Adjusted size invalid');
        return -EINVAL;
      }
    }
    if (dev.dma_mask === null) {
      knote('DMA mask not set');
      dev.dma_mask = dev.coherent_dma_mask;
    }
    if (size === 0n && dev.coherent_dma_mask !== 0n) {
      const plus = u64(dev.coherent_dma_mask + 1n);
      size = dev.coherent_dma_mask > plus ? dev.coherent_dma_mask : plus;
    } else if (size === 0n) {
      size = 1n << 32n;
    }
    const end = u64(dma_start + size - 1n);
    // ilog2(0) is fls64(0) - 1 = -1: DMA_BIT_MASK(0).
    const mask = DMA_BIT_MASK(end === 0n ? 0 : ilog2(end) + 1);
    dev.coherent_dma_mask &= mask;
    dev.dma_mask &= mask;
    if (ret === 0) {
      if (m.faults.has('dma-ranges-limit-ignored')) knote('fault dma-ranges-limit-ignored: bus_dma_limit not set');
      else dev.bus_dma_limit = end;
      dev.dma_range_map = out.map;
    }
    const coherent = of_dma_is_coherent(m, np);
    arch_setup_dma_ops(m, dev, coherent);
    if (m.profile.kernel === '6.6') of_dma_set_restricted_buffer(m, dev, np);
    return 0;
  } finally {
    kexit();
  }
}

/** include/linux/of_device.h of_dma_configure (5.10, 6.6) = of_dma_configure_id(dev, np, force_dma, NULL). */
export function of_dma_configure(m: Machine, dev: device, np: device_node, force_dma: boolean): number {
  kenter('of_dma_configure');
  try {
    return of_dma_configure_id(m, dev, np, force_dma);
  } finally {
    kexit();
  }
}
