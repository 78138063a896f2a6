// arch/riscv/include/asm/pgtable*.h and the generic page-table allocators
// (mm/memory.c __pte_alloc_kernel) as the StrykerJS sample of the
// pgtable-cache chunk left them. bench/mutation-equivalents.md lists the
// survivors no test can kill.
import { describe, expect, it } from 'vitest';
import {
  PAGE_KERNEL,
  _PAGE_CHG_MASK,
  _PAGE_EXEC,
  _PAGE_GLOBAL,
  _PAGE_MTMASK_SVPBMT,
  _PAGE_PRESENT,
  _PAGE_READ,
  _PAGE_USER,
  _PAGE_WRITE,
  __pte,
  __pte_alloc_kernel,
  createInitMm,
  memTypeConfig,
  mk_pte,
  pfn_pmd,
  pfn_pte,
  pgd_none,
  pgd_offset_k,
  pmd_alloc,
  pmd_none,
  pmd_offset,
  pte_alloc_kernel,
  pte_clear,
  pte_exec,
  pte_none,
  pte_offset_kernel,
  ptep_get,
  set_pte_at,
  writableEntries,
  type MmStruct,
} from '../../reference/arch/riscv/pgtable.ts';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { ENOMEM, ModelError, u64 } from '../../reference/types.ts';

const PFN0 = 0x80000;

function mkMm(kernel: KernelVersion, pgtable_alloc_limit: number | null = null): MmStruct {
  const cfg = kernel === '5.10' ? memTypeConfig('vendor-5.10-static') : memTypeConfig('thead-mae', 'fixed');
  return createInitMm(cfg, { kernel, phys_ram_base: 0x80000000n, memory: [{ base: 0x80000000n, size: 1n << 30n }], pgtable_alloc_limit });
}

/** The pmd entry of the first vmalloc address (6.6 preallocated its pmd table at boot). */
function firstPmd(mm: MmStruct) {
  const a = mm.layout.VMALLOC_START;
  return { a, pmd: pmd_offset(pgd_offset_k(mm, a), a) };
}

describe('_PAGE_CHG_MASK drops the runtime memory-type mask of the scheme (6.6 pgtable-64.h)', () => {
  it('Svpbmt: only PBMT bits 62:61 are dropped besides V,R,W,X,U,G; no memory types: none', () => {
    const base = _PAGE_PRESENT | _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC | _PAGE_USER | _PAGE_GLOBAL;
    expect(_PAGE_CHG_MASK(memTypeConfig('svpbmt'))).toBe(u64(~(base | _PAGE_MTMASK_SVPBMT)));
    expect(_PAGE_CHG_MASK(memTypeConfig('none'))).toBe(u64(~base));
  });
});

describe('PTE helpers', () => {
  it('pfn_pte refuses a negative PFN (model contract: a PFN is an unsigned page frame number)', () => {
    const cfg = memTypeConfig('svpbmt');
    expect(() => pfn_pte(-1, PAGE_KERNEL(cfg), cfg)).toThrow(ModelError);
    expect(() => pfn_pte(-1, PAGE_KERNEL(cfg), cfg)).toThrow('pfn -1 is not a page frame number');
  });

  it('pte_exec is the X bit: PAGE_KERNEL is not executable', () => {
    const cfg = memTypeConfig('thead-mae', 'fixed');
    expect(pte_exec(mk_pte(PFN0, PAGE_KERNEL(cfg), cfg))).toBe(false);
    expect(pte_exec(__pte(_PAGE_PRESENT | _PAGE_READ | _PAGE_EXEC))).toBe(true);
  });

  it('pgd_none is constant 0 on Sv39 (folded p4d/pud), even for an empty 5.10 pgd entry', () => {
    const mm = mkMm('5.10');
    expect(pgd_none(pgd_offset_k(mm, mm.layout.VMALLOC_START))).toBe(false);
  });

  it('pte_clear writes a zero PTE (set_pte_at(mm, addr, ptep, __pte(0)))', () => {
    const mm = mkMm('6.6');
    const { a, pmd } = firstPmd(mm);
    const ptep = pte_alloc_kernel(mm, pmd, a)!;
    set_pte_at(mm, a, ptep, mk_pte(PFN0, PAGE_KERNEL(mm.cfg), mm.cfg));
    expect(pte_none(ptep_get(ptep))).toBe(false);
    pte_clear(mm, a, ptep);
    expect(pte_none(ptep_get(ptep))).toBe(true);
  });
});

describe('page-table allocation (mm/memory.c __pmd_alloc / __pte_alloc_kernel, 5.10 and 6.6)', () => {
  it('__pte_alloc_kernel returns -ENOMEM when no table page can be had and leaves the pmd empty', () => {
    const mm = mkMm('6.6', 0);
    const { a, pmd } = firstPmd(mm);
    expect(__pte_alloc_kernel(mm, pmd)).toBe(-ENOMEM);
    expect(pmd_none(pmd)).toBe(true);
    expect(pte_alloc_kernel(mm, pmd, a)).toBeNull();
    expect(mm.pgtable_pages).toBe(0);
  });

  it('"has another populated it?": on a populated pmd the new table is freed and the old one kept', () => {
    const mm = mkMm('6.6');
    const { a, pmd } = firstPmd(mm);
    const ptep = pte_alloc_kernel(mm, pmd, a)!;
    const pte = mk_pte(PFN0, PAGE_KERNEL(mm.cfg), mm.cfg);
    set_pte_at(mm, a, ptep, pte);
    expect(mm.pgtable_pages).toBe(1);
    expect(__pte_alloc_kernel(mm, pmd)).toBe(0);
    expect(mm.pgtable_pages).toBe(1); // pte_free_kernel(new)
    expect(ptep_get(pte_offset_kernel(pmd, a))).toEqual(pte); // the populated table is still there
  });

  it('a limit of one table page: 5.10 gets its pmd table, then the pte table fails', () => {
    const mm = mkMm('5.10', 1);
    const a = mm.layout.VMALLOC_START;
    const pmd = pmd_alloc(mm, pgd_offset_k(mm, a), a);
    expect(pmd).not.toBeNull();
    expect(mm.pgtable_pages).toBe(1);
    expect(pte_alloc_kernel(mm, pmd!, a)).toBeNull();
    expect(mm.pgtable_pages).toBe(1);
  });

  it('pte_offset_kernel on a pmd that holds a leaf (huge mapping) is a model misuse error', () => {
    const mm = mkMm('6.6');
    const { a, pmd } = firstPmd(mm);
    writableEntries(pmd.table).set(pmd.index, pfn_pmd(PFN0, PAGE_KERNEL(mm.cfg), mm.cfg));
    expect(() => pte_offset_kernel(pmd, a)).toThrow(ModelError);
    expect(() => pte_offset_kernel(pmd, a)).toThrow('pte_offset_kernel on a pmd entry that is not a table');
  });
});
