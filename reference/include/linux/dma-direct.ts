// include/linux/dma-direct.h address translation and dma_capable (5.10, 6.6).
// No memory encryption on riscv: the __sme_set/clr steps are identities.

import type { device } from './device.ts';
import { kenter, kexit } from '../../trace.ts';
import { min_not_zero, U64_MAX, u64 } from '../../types.ts';
import { DMA_MAPPING_ERROR } from './dma-mapping-attrs.ts';

/** include/linux/dma-direct.h translate_phys_to_dma (5.10, 6.6). */
export function translate_phys_to_dma(dev: device, paddr: bigint): bigint {
  for (const m of dev.dma_range_map ?? []) {
    if (paddr >= m.cpu_start && paddr - m.cpu_start < m.size) return u64(paddr - m.offset);
  }
  return DMA_MAPPING_ERROR;
}

/** include/linux/dma-direct.h translate_dma_to_phys (5.10, 6.6). */
export function translate_dma_to_phys(dev: device, dma_addr: bigint): bigint {
  for (const m of dev.dma_range_map ?? []) {
    if (dma_addr >= m.dma_start && dma_addr - m.dma_start < m.size) return u64(dma_addr + m.offset);
  }
  return U64_MAX;
}

/** include/linux/dma-direct.h phys_to_dma_unencrypted (5.10, 6.6). */
export function phys_to_dma_unencrypted(dev: device, paddr: bigint): bigint {
  return dev.dma_range_map ? translate_phys_to_dma(dev, paddr) : paddr;
}

/** include/linux/dma-direct.h phys_to_dma (5.10, 6.6); __sme_set is the identity here. */
export function phys_to_dma(dev: device, paddr: bigint): bigint {
  kenter('phys_to_dma');
  try {
    return phys_to_dma_unencrypted(dev, paddr);
  } finally {
    kexit();
  }
}

/** include/linux/dma-direct.h dma_to_phys (5.10, 6.6). */
export function dma_to_phys(dev: device, dma_addr: bigint): bigint {
  return dev.dma_range_map ? translate_dma_to_phys(dev, dma_addr) : dma_addr;
}

/**
 * include/linux/dma-direct.h dma_capable (5.10, 6.6) with a 64-bit dma_addr_t
 * (the 32-bit low-PFN check does not apply on riscv64).
 */
export function dma_capable(dev: device, addr: bigint, size: bigint, _is_ram: boolean): boolean {
  kenter('dma_capable');
  try {
    if (addr === DMA_MAPPING_ERROR) return false;
    const end = u64(addr + size - 1n);
    if (dev.dma_mask === null) return false;
    return end <= min_not_zero(dev.dma_mask, dev.bus_dma_limit);
  } finally {
    kexit();
  }
}
