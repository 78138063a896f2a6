// drivers/of/address.c (5.10, 6.6; spec kernel-alloc.md §9.3-9.4): what the
// device tree says about a device's DMA — its bus windows (dma-ranges) and its
// coherence. A device_node here holds only the properties these walks read.

import type { Machine } from '../../system.ts';
import type { bus_dma_region } from '../../include/linux/device.ts';
import { kenter, kexit, knote } from '../../trace.ts';

/** include/uapi/asm-generic/errno-base.h ENODEV (types.ts has no entry yet). */
export const ENODEV = 19;

/** One dma-ranges entry: child bus address, parent (CPU) address, size. */
export interface DmaRangeEntry {
  dma: bigint;
  cpu: bigint;
  size: bigint;
}

/** include/linux/of.h struct device_node, reduced to the properties the DMA setup reads. */
export interface device_node {
  full_name: string;
  parent: device_node | null;
  /** `dma-ranges`: absent (undefined), empty (`dma-ranges;` = identity here), or entries. */
  dmaRanges?: readonly DmaRangeEntry[];
  /** `dma-coherent` */
  dmaCoherent?: boolean;
  /** `dma-noncoherent` (read by 6.6 only) */
  dmaNoncoherent?: boolean;
  /** `memory-region` phandles, by reserved-memory node name. */
  memoryRegion?: readonly string[];
  /** `status` other than "okay": of_device_is_available is false. */
  disabled?: boolean;
  /** OF_POPULATED: a platform device was already created for the node. */
  populated?: boolean;
}

/**
 * drivers/of/address.c of_get_next_dma_parent (5.10, 6.6): the interconnect
 * named "dma-mem" if any, else the parent. No interconnects are modelled.
 */
export function of_get_next_dma_parent(np: device_node): device_node | null {
  return np.parent;
}

/**
 * drivers/of/address.c of_dma_get_range (5.10, 6.6: the same walk; 6.6's caller starts
 * it at the device's DMA parent): walk up from np to the first non-empty dma-ranges; from the
 * first parent on, a node with no dma-ranges at all ends the walk with -ENODEV,
 * an empty one means "identity here, keep going". The entries' parent
 * addresses are taken as CPU addresses (no `ranges` translation above the bus,
 * so the OF_BAD_ADDR skip never happens).
 */
export function of_dma_get_range(np: device_node | null, out: { map: bus_dma_region[] | null }): number {
  kenter('of_dma_get_range');
  try {
    let node: device_node | null = np;
    let found_dma_ranges = false;
    while (node !== null) {
      const ranges: readonly DmaRangeEntry[] | undefined = node.dmaRanges;
      if (ranges !== undefined && ranges.length > 0) break;
      if (found_dma_ranges && ranges === undefined) {
        knote('missing dma-ranges below a bus that had them');
        return -ENODEV;
      }
      found_dma_ranges = true;
      node = of_get_next_dma_parent(node);
    }
    if (node === null || node.dmaRanges === undefined) {
      knote('no dma-ranges');
      return -ENODEV;
    }
    out.map = node.dmaRanges.map((r) => ({
      cpu_start: r.cpu,
      dma_start: r.dma,
      size: r.size,
      offset: BigInt.asUintN(64, r.cpu - r.dma),
    }));
    return 0;
  } finally {
    kexit();
  }
}

/** kernel/dma/mapping.c dma_default_coherent (6.6: IS_ENABLED(CONFIG_ARCH_DMA_DEFAULT_COHERENT); 5.10 has no such variable). */
export function dma_default_coherent(m: Machine): boolean {
  return m.profile.kernel === '6.6' && m.cfg('CONFIG_ARCH_DMA_DEFAULT_COHERENT');
}

/**
 * drivers/of/address.c of_dma_is_coherent. 5.10: CONFIG_OF_DMA_DEFAULT_COHERENT
 * (powerpc) → true, else true at the first node up the DMA parents with
 * `dma-coherent`, false if none. 6.6: starts from dma_default_coherent; the
 * first `dma-coherent` (true) or `dma-noncoherent` (false) up the walk decides.
 */
export function of_dma_is_coherent(m: Machine, np: device_node): boolean {
  kenter('of_dma_is_coherent');
  try {
    if (m.profile.kernel === '5.10') {
      if (m.cfg('CONFIG_OF_DMA_DEFAULT_COHERENT')) return true;
      for (let node: device_node | null = np; node !== null; node = of_get_next_dma_parent(node)) {
        if (node.dmaCoherent) return true;
      }
      return false;
    }
    for (let node: device_node | null = np; node !== null; node = of_get_next_dma_parent(node)) {
      if (node.dmaCoherent) return true;
      if (node.dmaNoncoherent) return false;
    }
    knote('no property: dma_default_coherent');
    return dma_default_coherent(m);
  } finally {
    kexit();
  }
}
