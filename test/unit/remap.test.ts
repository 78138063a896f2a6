// reference/kernel/dma/remap.ts: the vmalloc-area alias with the DMA memory type (spec kernel-alloc.md §10.1).
import { afterEach, describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { dma_common_contiguous_remap, dma_common_free_remap, dma_common_pages_remap } from '../../reference/kernel/dma/remap.ts';
import { dma_pgprot, hartMemoryType, PAGE_KERNEL, pgprot_noncached, walkPageTable } from '../../reference/arch/riscv/pgtable.ts';
import { find_vm_area, is_vmalloc_addr, vmap, VM_DMA_COHERENT, VM_MAP } from '../../reference/mm/vmalloc.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { PFN_PHYS } from '../../reference/types.ts';

function machine(name: string): Machine {
  const p: Profile | undefined = findProfile(name);
  if (p === undefined) throw new Error(name);
  return buildMachine(p);
}

/** The prot dma_direct_alloc hands a non-coherent device. */
function dmaProt(m: Machine) {
  return dma_pgprot(PAGE_KERNEL(m.init_mm.cfg), 0, false, m.profile.kernel, m.init_mm.cfg);
}

const PFN = 0x10_0400;

afterEach(() => setTracer(null));

describe('dma_common_contiguous_remap', () => {
  it('PAGE_ALIGN(5000) / PAGE_SIZE = 2 consecutive pages, then the guard page; VM_DMA_COHERENT; pages not recorded', () => {
    const m = machine('c920-sg2042-6.6');
    const va = dma_common_contiguous_remap(m, PFN, 5000n, dmaProt(m), 'dma_direct_alloc')!;
    expect(is_vmalloc_addr(m.init_mm, va)).toBe(true);
    expect(walkPageTable(m.init_mm, va)?.pa).toBe(PFN_PHYS(PFN));
    expect(walkPageTable(m.init_mm, va + 4096n + 123n)?.pa).toBe(PFN_PHYS(PFN + 1) + 123n);
    expect(walkPageTable(m.init_mm, va + 8192n)).toBeNull();
    const area = find_vm_area(m.init_mm, va)!;
    expect(area.flags).toBe(VM_DMA_COHERENT);
    expect(area.size).toBe(3n * 4096n); // two pages + guard
    expect(area.caller).toBe('dma_direct_alloc');
    // Only the temporary array knew the pages: dma_common_find_pages would return NULL.
    expect(area.pages).toBeNull();
  });

  it('the PTEs carry the prot: IO on T-Head 6.6 and Svpbmt, NC (SH only) with the vendor 5.10 static bits', () => {
    for (const [name, kind] of [
      ['c920-sg2042-6.6', 'io'],
      ['c920v2-sg2044-6.6', 'io'],
      ['c920-sg2042-5.10-fixed', 'noncacheable'],
    ] as const) {
      const m = machine(name);
      const va = dma_common_contiguous_remap(m, PFN, 4096n, dmaProt(m), 'test')!;
      expect(hartMemoryType(walkPageTable(m.init_mm, va)!.pte, m.hart).kind, name).toBe(kind);
    }
  });

  it('size 0 maps nothing: NULL', () => {
    const m = machine('c920-sg2042-6.6');
    expect(dma_common_contiguous_remap(m, PFN, 0n, dmaProt(m), 'test')).toBeNull();
  });

  it('call path: dma_common_contiguous_remap -> vmap', () => {
    const m = machine('c920-sg2042-6.6');
    const prot = dmaProt(m);
    const t = new Tracer();
    setTracer(t);
    dma_common_contiguous_remap(m, PFN, 4096n, prot, 'test');
    setTracer(null);
    expect(t.events[0]).toEqual({ depth: 0, fn: 'dma_common_contiguous_remap' });
    expect(t.events[1]).toEqual({ depth: 1, fn: 'vmap' });
  });
});

describe('dma_common_pages_remap', () => {
  it('maps scattered pages in array order and records the array in the area', () => {
    const m = machine('c920-sg2042-6.6');
    const pages = [PFN + 7, PFN, PFN + 100];
    const va = dma_common_pages_remap(m, pages, 3n * 4096n - 10n, dmaProt(m), 'iommu')!;
    pages.forEach((pfn, i) => expect(walkPageTable(m.init_mm, va + BigInt(i) * 4096n)?.pa).toBe(PFN_PHYS(pfn)));
    const area = find_vm_area(m.init_mm, va)!;
    expect(area.flags).toBe(VM_DMA_COHERENT);
    expect(area.pages).toEqual(pages);
  });
});

describe('dma_common_free_remap', () => {
  it('6.6: vunmap only; the alias is gone', () => {
    const m = machine('c920-sg2042-6.6');
    const va = dma_common_contiguous_remap(m, PFN, 8192n, dmaProt(m), 'test')!;
    const t = new Tracer();
    setTracer(t);
    dma_common_free_remap(m, va, 8192n);
    setTracer(null);
    expect(walkPageTable(m.init_mm, va)).toBeNull();
    expect(find_vm_area(m.init_mm, va)).toBeNull();
    const names = t.events.filter((e) => e.fn !== '#').map((e) => e.fn);
    expect(names).toContain('vunmap');
    expect(names).not.toContain('unmap_kernel_range');
    expect(m.warnings).toEqual([]);
  });

  it('5.10: unmap_kernel_range(PAGE_ALIGN(size)) first, then vunmap', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    const va = dma_common_contiguous_remap(m, PFN, 5000n, dmaProt(m), 'test')!;
    const t = new Tracer();
    setTracer(t);
    dma_common_free_remap(m, va, 5000n);
    setTracer(null);
    const top = t.events.filter((e) => e.depth === 1 && e.fn !== '#').map((e) => e.fn);
    expect(top.indexOf('unmap_kernel_range')).toBeGreaterThan(-1);
    expect(top.indexOf('unmap_kernel_range')).toBeLessThan(top.indexOf('vunmap'));
    expect(walkPageTable(m.init_mm, va)).toBeNull();
  });

  it('an address that is not a VM_DMA_COHERENT area: WARN "trying to free invalid coherent area", nothing unmapped', () => {
    const m = machine('c920-sg2042-6.6');
    const plain = vmap(m.init_mm, [PFN], 1, VM_MAP, pgprot_noncached(PAGE_KERNEL(m.init_mm.cfg), m.init_mm.cfg))!;
    dma_common_free_remap(m, plain, 4096n);
    expect(walkPageTable(m.init_mm, plain)?.pa).toBe(PFN_PHYS(PFN));
    const nowhere = plain + 0x10_0000n;
    dma_common_free_remap(m, nowhere, 4096n);
    expect(m.warnings).toEqual([`trying to free invalid coherent area: 0x${plain.toString(16)}`, `trying to free invalid coherent area: 0x${nowhere.toString(16)}`]);
  });
});
