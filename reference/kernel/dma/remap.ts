// kernel/dma/remap.c (5.10, 6.6): the vmalloc-area alias with the DMA memory type.

import type { Machine } from '../../system.ts';
import type { pgprot_t } from '../../arch/riscv/pgtable.ts';
import { find_vm_area, unmap_kernel_range, vmap, vunmap, VM_DMA_COHERENT } from '../../mm/vmalloc.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { PAGE_ALIGN, PAGE_SIZE_N, hex } from '../../types.ts';

/** kernel/dma/remap.c dma_common_pages_remap (5.10, 6.6). */
export function dma_common_pages_remap(m: Machine, pages: number[], size: bigint, prot: pgprot_t, caller: string): bigint | null {
  kenter('dma_common_pages_remap');
  try {
    const count = Number(PAGE_ALIGN(size) / PAGE_SIZE_N);
    const vaddr = vmap(m.init_mm, pages, count, VM_DMA_COHERENT, prot, caller);
    if (vaddr !== null) {
      const area = find_vm_area(m.init_mm, vaddr);
      if (area) area.pages = pages;
    }
    return vaddr;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/remap.c dma_common_contiguous_remap (5.10 kmalloc_array, 6.6
 * kvmalloc_array for the temporary page array; neither records it in the area).
 */
export function dma_common_contiguous_remap(m: Machine, pfn: number, size: bigint, prot: pgprot_t, caller: string): bigint | null {
  kenter('dma_common_contiguous_remap');
  try {
    const count = Number(PAGE_ALIGN(size) / PAGE_SIZE_N);
    const pages: number[] = [];
    for (let i = 0; i < count; i++) pages.push(pfn + i);
    return vmap(m.init_mm, pages, count, VM_DMA_COHERENT, prot, caller);
  } finally {
    kexit();
  }
}

/** kernel/dma/remap.c dma_common_free_remap (5.10 unmap_kernel_range then vunmap; 6.6 vunmap only). */
export function dma_common_free_remap(m: Machine, cpu_addr: bigint, size: bigint): void {
  kenter('dma_common_free_remap');
  try {
    const area = find_vm_area(m.init_mm, cpu_addr);
    if (area === null || area.flags !== VM_DMA_COHERENT) {
      m.warnings.push(`trying to free invalid coherent area: ${hex(cpu_addr)}`);
      knote('WARN: invalid coherent area');
      return;
    }
    if (m.profile.kernel === '5.10') unmap_kernel_range(m.init_mm, cpu_addr, PAGE_ALIGN(size));
    vunmap(m.init_mm, cpu_addr);
  } finally {
    kexit();
  }
}
