// mm/vmalloc.c (5.10, 6.6) as the StrykerJS sample of the pgtable-cache chunk
// left it: vmap when the PTE table cannot be allocated, the totalram_pages
// bound, the page-array contract, and the BUG_ON of an empty unmap range.
// bench/mutation-equivalents.md lists the survivors no test can kill.
import { describe, expect, it } from 'vitest';
import { PAGE_KERNEL, createInitMm, memTypeConfig, pgd_offset_k, pmd_alloc, pmd_offset, walkPageTable, type MmStruct } from '../../reference/arch/riscv/pgtable.ts';
import type { KernelVersion } from '../../reference/config/profile.ts';
import {
  VM_MAP,
  find_vm_area,
  unmap_kernel_range,
  vmallocState,
  vmap,
  vmap_pages_pte_range,
  vmap_pte_range,
  vmap_pud_range,
  vunmap_range,
} from '../../reference/mm/vmalloc.ts';
import { ENOMEM, KernelBug, ModelError } from '../../reference/types.ts';

const PFN0 = 0x80000;

function mkMm(kernel: KernelVersion, extra: { pgtable_alloc_limit?: number; totalram_pages?: number } = {}): MmStruct {
  const cfg = kernel === '5.10' ? memTypeConfig('vendor-5.10-static') : memTypeConfig('thead-mae', 'fixed');
  return createInitMm(cfg, { kernel, phys_ram_base: 0x80000000n, memory: [{ base: 0x80000000n, size: 1n << 30n }], ...extra });
}

describe('vmap when the PTE table cannot be allocated (vmap_pte_range / vmap_pages_pte_range: -ENOMEM)', () => {
  // 5.10: the pmd table takes the one page allowed; 6.6 preallocated it at boot, so no page is allowed.
  it.each([
    ['5.10', 1],
    ['6.6', 0],
  ] as const)('%s: vmap returns NULL, the VA is given back and nothing is mapped', (kernel, limit) => {
    const mm = mkMm(kernel, { pgtable_alloc_limit: limit });
    expect(vmap(mm, [PFN0], 1, VM_MAP, PAGE_KERNEL(mm.cfg))).toBeNull();
    expect(mm.pgtable_pages).toBe(limit);
    expect(vmallocState(mm).busy).toHaveLength(0);
    expect(walkPageTable(mm, mm.layout.VMALLOC_START)).toBeNull();
  });
});

describe('each walk level returns -ENOMEM itself when a table cannot be allocated', () => {
  it('5.10 vmap_pte_range (pte_alloc_kernel_track NULL) and vmap_pud_range (a lower level failed)', () => {
    const mm = mkMm('5.10', { pgtable_alloc_limit: 1 });
    const a = mm.layout.VMALLOC_START;
    const pmd = pmd_alloc(mm, pgd_offset_k(mm, a), a)!; // the one page allowed
    expect(vmap_pte_range(mm, pmd, a, a + 4096n, PAGE_KERNEL(mm.cfg), [PFN0], { nr: 0 })).toBe(-ENOMEM);
    const none = mkMm('5.10', { pgtable_alloc_limit: 0 });
    expect(vmap_pud_range(none, pgd_offset_k(none, a), a, a + 4096n, PAGE_KERNEL(none.cfg), [PFN0], { nr: 0 })).toBe(-ENOMEM);
  });

  it('6.6 vmap_pages_pte_range (pte_alloc_kernel_track NULL)', () => {
    const mm = mkMm('6.6', { pgtable_alloc_limit: 0 });
    const a = mm.layout.VMALLOC_START;
    const pmd = pmd_offset(pgd_offset_k(mm, a), a); // preallocated at boot
    expect(vmap_pages_pte_range(mm, pmd, a, a + 4096n, PAGE_KERNEL(mm.cfg), [PFN0], { nr: 0 })).toBe(-ENOMEM);
  });
});

describe.each(['5.10', '6.6'] as const)('vmap on %s', (kernel) => {
  it('count equal to totalram_pages is allowed (only count > totalram_pages() returns NULL)', () => {
    const mm = mkMm(kernel, { totalram_pages: 2 });
    const addr = vmap(mm, [PFN0, PFN0 + 1], 2, VM_MAP, PAGE_KERNEL(mm.cfg));
    expect(addr).toBe(mm.layout.VMALLOC_START);
    expect(find_vm_area(mm, addr!)!.size).toBe(3n * 4096n); // two pages and the guard
    expect(vmap(mm, [PFN0, PFN0 + 1, PFN0 + 2], 3, VM_MAP, PAGE_KERNEL(mm.cfg))).toBeNull();
  });

  it('a page array shorter than count is refused before any VA is reserved (model contract)', () => {
    const mm = mkMm(kernel);
    expect(() => vmap(mm, [PFN0], 2, VM_MAP, PAGE_KERNEL(mm.cfg))).toThrow(ModelError);
    expect(() => vmap(mm, [PFN0], 2, VM_MAP, PAGE_KERNEL(mm.cfg))).toThrow('vmap: 1 pages for count 2');
    expect(vmallocState(mm).busy).toHaveLength(0);
    expect(walkPageTable(mm, mm.layout.VMALLOC_START)).toBeNull();
  });
});

describe('an empty unmap range is BUG_ON(addr >= end)', () => {
  it('5.10 unmap_kernel_range(addr, 0)', () => {
    const mm = mkMm('5.10');
    expect(() => unmap_kernel_range(mm, mm.layout.VMALLOC_START, 0n)).toThrow(KernelBug);
  });

  it('6.6 vunmap_range(addr, addr)', () => {
    const mm = mkMm('6.6');
    const s = mm.layout.VMALLOC_START;
    expect(() => vunmap_range(mm, s, s)).toThrow(KernelBug);
    expect(() => vunmap_range(mm, s, s)).toThrow('BUG_ON(addr >= end)');
  });
});
