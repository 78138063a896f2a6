// mm/vmalloc.c corner cases: vunmap of NULL / unaligned / unknown addresses
// (5.10 __vunmap vs 6.6 remove_vm_area), alloc_vmap_area's BUG_ONs, the
// ioremap alignment of __get_vm_area_node and the vmalloc_to_pfn walk.
import { describe, expect, it } from 'vitest';
import { PAGE_KERNEL, createInitMm, memTypeConfig, type MmStruct } from '../../reference/arch/riscv/pgtable.ts';
import type { KernelVersion } from '../../reference/config/profile.ts';
import {
  VM_IOREMAP,
  VM_MAP,
  alloc_vmap_area,
  find_vm_area,
  get_vm_area,
  vmallocState,
  vmalloc_to_pfn,
  vmap,
  vunmap,
} from '../../reference/mm/vmalloc.ts';
import { KernelBug, ModelError, PAGE_SIZE_N } from '../../reference/types.ts';

const P = PAGE_SIZE_N;
const PFN0 = 0x80000;

function mkMm(kernel: KernelVersion): MmStruct {
  const c = kernel === '5.10' ? memTypeConfig('vendor-5.10-static') : memTypeConfig('thead-mae', 'fixed');
  return createInitMm(c, { kernel, phys_ram_base: 0x80000000n, memory: [{ base: 0x80000000n, size: 1n << 30n }] });
}

describe.each(['5.10', '6.6'] as const)('vunmap misuse on %s', (kernel) => {
  it('vunmap(NULL) is a no-op', () => {
    const mm = mkMm(kernel);
    const addr = vmap(mm, [PFN0], 1, VM_MAP, PAGE_KERNEL(mm.cfg))!;
    vunmap(mm, 0n);
    expect(vmallocState(mm).warnings).toEqual([]);
    expect(find_vm_area(mm, addr)).not.toBeNull();
  });

  it('an unaligned address WARNs and leaves the area mapped (6.6: remove_vm_area returns NULL, so vunmap WARNs as well)', () => {
    const mm = mkMm(kernel);
    const addr = vmap(mm, [PFN0], 1, VM_MAP, PAGE_KERNEL(mm.cfg))!;
    const bad = `0x${(addr + 0x10n).toString(16)}`;
    vunmap(mm, addr + 0x10n);
    expect(vmallocState(mm).warnings).toEqual(
      kernel === '5.10'
        ? [`Trying to vfree() bad address (${bad})`]
        : [`Trying to vfree() bad address (${bad})`, `Trying to vunmap() nonexistent vm area (${bad})`],
    );
    expect(find_vm_area(mm, addr)).not.toBeNull();
    expect(vmalloc_to_pfn(mm, addr)).toBe(PFN0);
  });

  it('an address in no area WARNs with the version\'s wording', () => {
    const mm = mkMm(kernel);
    const addr = mm.layout.VMALLOC_START + 64n * P;
    vunmap(mm, addr);
    const verb = kernel === '5.10' ? 'vfree()' : 'vunmap()';
    expect(vmallocState(mm).warnings).toEqual([`Trying to ${verb} nonexistent vm area (0x${addr.toString(16)})`]);
  });
});

describe('alloc_vmap_area BUG_ONs', () => {
  it('size 0, a size that is not whole pages, or an alignment that is not a power of two is a kernel BUG', () => {
    const mm = mkMm('6.6');
    const { VMALLOC_START: s, VMALLOC_END: e } = mm.layout;
    expect(() => alloc_vmap_area(mm, 0n, P, s, e)).toThrow(KernelBug);
    expect(() => alloc_vmap_area(mm, P + 1n, P, s, e)).toThrow(KernelBug);
    expect(() => alloc_vmap_area(mm, P, 3n * P, s, e)).toThrow(KernelBug);
    // Nothing was reserved by the failed calls: the first legal area starts at VMALLOC_START.
    const va = alloc_vmap_area(mm, P, P, s, e);
    expect(typeof va).toBe('object');
    expect((va as { va_start: bigint }).va_start).toBe(s);
  });
});

describe('__get_vm_area_node', () => {
  it('VM_IOREMAP aligns the area to its size rounded up to a power of two (get_count_order_long)', () => {
    const mm = mkMm('6.6');
    const first = get_vm_area(mm, P, VM_MAP)!;
    expect(first.addr).toBe(mm.layout.VMALLOC_START);
    // 3 pages -> order 14 (16 KiB alignment); the guard page is added after the alignment is chosen.
    const io = get_vm_area(mm, 3n * P, VM_IOREMAP)!;
    expect(io.addr % (4n * P)).toBe(0n);
    expect(io.addr).toBe(mm.layout.VMALLOC_START + 4n * P);
    expect(io.size).toBe(4n * P);
    // Size 0 rounds to no pages: NULL, nothing reserved.
    expect(get_vm_area(mm, 0n, VM_MAP)).toBeNull();
  });
});

describe('vmalloc_to_pfn', () => {
  it('a hole in the vmalloc range has no page; an address outside the range is a model misuse', () => {
    const mm = mkMm('6.6');
    const addr = vmap(mm, [PFN0 + 5], 1, VM_MAP, PAGE_KERNEL(mm.cfg))!;
    expect(vmalloc_to_pfn(mm, addr + 0x123n)).toBe(PFN0 + 5);
    expect(vmalloc_to_pfn(mm, addr + P)).toBeNull(); // guard page
    expect(() => vmalloc_to_pfn(mm, 0x8000_0000n)).toThrow(ModelError);
  });
});
