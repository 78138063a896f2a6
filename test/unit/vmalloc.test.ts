import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  PAGE_KERNEL,
  createInitMm,
  dma_pgprot,
  hartMemoryType,
  memTypeConfig,
  page_address,
  pgprot_noncached,
  pgprot_val,
  walkPageTable,
  type MemTypeConfig,
  type MmStruct,
} from '../../reference/arch/riscv/pgtable.ts';
import type { KernelVersion } from '../../reference/config/profile.ts';
import {
  VM_ALLOC,
  VM_DMA_COHERENT,
  VM_FLUSH_RESET_PERMS,
  VM_IOREMAP,
  VM_MAP,
  VM_MAP_PUT_PAGES,
  VM_NO_GUARD,
  __get_vm_area_node,
  drain_vmap_area_work,
  find_vm_area,
  get_vm_area,
  get_vm_area_caller,
  is_vmalloc_addr,
  lazy_max_pages,
  map_kernel_range,
  purge_vmap_area_lazy,
  unmap_kernel_range,
  vmallocState,
  vmalloc_to_pfn,
  vmap,
  vmap_pages_range,
  vunmap,
  vunmap_range,
} from '../../reference/mm/vmalloc.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { ModelError, PAGE_SIZE_N } from '../../reference/types.ts';

const RAM = [{ base: 0x80000000n, size: 1n << 30n }];
const PFN0 = 0x80000;
const MT_HI = 0xffc0000000000000n;
const P = PAGE_SIZE_N;

function mkMm(kernel: KernelVersion, cfg?: MemTypeConfig, extra: Partial<Parameters<typeof createInitMm>[1]> = {}): MmStruct {
  const c = cfg ?? (kernel === '5.10' ? memTypeConfig('vendor-5.10-static') : memTypeConfig('thead-mae', 'fixed'));
  return createInitMm(c, { kernel, phys_ram_base: 0x80000000n, memory: RAM, ...extra });
}

function traced<T>(f: () => T): { out: T; fns: string[] } {
  const tr = new Tracer();
  setTracer(tr);
  try {
    const out = f();
    return { out, fns: tr.events.filter((e) => e.fn !== '#').map((e) => e.fn) };
  } finally {
    setTracer(null);
  }
}

describe('vm flags', () => {
  it('has the include/linux/vmalloc.h values', () => {
    expect([VM_IOREMAP, VM_ALLOC, VM_MAP, VM_DMA_COHERENT, VM_NO_GUARD, VM_FLUSH_RESET_PERMS, VM_MAP_PUT_PAGES]).toEqual([
      0x1, 0x2, 0x4, 0x10, 0x40, 0x100, 0x200,
    ]);
  });
});

describe.each(['5.10', '6.6'] as const)('vmap on %s', (kernel) => {
  it('maps two pages with the noncached prot: PFNs intact, MT as requested, nothing else changed', () => {
    const mm = mkMm(kernel);
    const prot = pgprot_noncached(PAGE_KERNEL(mm.cfg), mm.cfg);
    const pages = [PFN0 + 7, PFN0 + 3];
    const addr = vmap(mm, pages, 2, VM_DMA_COHERENT, prot)!;
    expect(addr).toBe(mm.layout.VMALLOC_START);
    expect(is_vmalloc_addr(mm, addr)).toBe(true);
    for (let i = 0; i < 2; i++) {
      const t = walkPageTable(mm, addr + BigInt(i) * P + 0x10n)!;
      expect(t.level).toBe('pte');
      expect(t.pa).toBe((BigInt(pages[i]) << 12n) + 0x10n);
      expect(t.pte).toBe((BigInt(pages[i]) << 10n) | pgprot_val(prot));
      expect(t.pte & MT_HI).toBe(0x9000000000000000n); // SO+SH on both the vendor and the fixed table
      expect(hartMemoryType(t.pte, { maee: true, pbmte: false })).toEqual({ kind: 'io' });
      expect(vmalloc_to_pfn(mm, addr + BigInt(i) * P)).toBe(pages[i]);
    }
    expect(walkPageTable(mm, addr + 2n * P)).toBeNull(); // guard page
    const vm = find_vm_area(mm, addr)!;
    expect(vm).toMatchObject({ addr, size: 3n * P, flags: VM_DMA_COHERENT, caller: 'vmap' });
    expect(find_vm_area(mm, addr + 2n * P)).toBe(vm); // the guard belongs to the area
  });

  it('vunmap clears the PTEs and the area', () => {
    const mm = mkMm(kernel);
    const addr = vmap(mm, [PFN0, PFN0 + 1], 2, VM_MAP, PAGE_KERNEL(mm.cfg))!;
    vunmap(mm, addr);
    expect(walkPageTable(mm, addr)).toBeNull();
    expect(walkPageTable(mm, addr + P)).toBeNull();
    expect(find_vm_area(mm, addr)).toBeNull();
    expect(vmallocState(mm).warnings).toEqual([]);
    vunmap(mm, addr);
    expect(vmallocState(mm).warnings).toHaveLength(1);
  });

  it('returns null for count 0 and count > totalram_pages', () => {
    const mm = mkMm(kernel, undefined, { totalram_pages: 4 });
    expect(vmap(mm, [], 0, VM_MAP, PAGE_KERNEL(mm.cfg))).toBeNull();
    expect(vmap(mm, [1, 2, 3, 4, 5].map((i) => PFN0 + i), 5, VM_MAP, PAGE_KERNEL(mm.cfg))).toBeNull();
    expect(vmallocState(mm).busy).toHaveLength(0);
  });

  it('places areas lowest-fit with a guard page and reuses VA only after the lazy purge', () => {
    const mm = mkMm(kernel);
    const pk = PAGE_KERNEL(mm.cfg);
    const S = mm.layout.VMALLOC_START;
    const a = vmap(mm, [PFN0], 1, VM_MAP, pk)!;
    const b = vmap(mm, [PFN0, PFN0 + 1], 2, VM_MAP, pk)!;
    const c = vmap(mm, [PFN0], 1, VM_MAP, pk)!;
    expect([a, b, c]).toEqual([S, S + 2n * P, S + 5n * P]);
    vunmap(mm, b);
    expect(vmap(mm, [PFN0], 1, VM_MAP, pk)).toBe(S + 7n * P); // b's VA is still on the purge list
    purge_vmap_area_lazy(mm);
    expect(vmap(mm, [PFN0], 1, VM_MAP, pk)).toBe(S + 2n * P);
  });

  it('maps across pmd and pgd boundaries', () => {
    const mm = mkMm(kernel);
    const pk = PAGE_KERNEL(mm.cfg);
    const n = 600; // > 512: crosses a 2 MiB boundary
    const pages = Array.from({ length: n }, (_, i) => PFN0 + i);
    const addr = vmap(mm, pages, n, VM_MAP, pk)!;
    for (const i of [0, 511, 512, 599]) expect(walkPageTable(mm, addr + BigInt(i) * P)!.pa).toBe(BigInt(PFN0 + i) << 12n);
    const at = mm.layout.VMALLOC_START + (1n << 30n) * 3n - 2n * P; // straddles a 1 GiB pgd entry
    const err =
      kernel === '5.10' ? map_kernel_range(mm, at, 4n * P, pk, pages) : vmap_pages_range(mm, at, at + 4n * P, pk, pages, 12);
    expect(err).toBe(0);
    for (let i = 0; i < 4; i++) expect(walkPageTable(mm, at + BigInt(i) * P)!.pa).toBe(BigInt(PFN0 + i) << 12n);
    if (kernel === '5.10') unmap_kernel_range(mm, at, 4n * P);
    else vunmap_range(mm, at, at + 4n * P);
    for (let i = 0; i < 4; i++) expect(walkPageTable(mm, at + BigInt(i) * P)).toBeNull();
  });

  it('fails on an already present PTE (reported upward as -ENOMEM, WARN recorded)', () => {
    const mm = mkMm(kernel);
    const pk = PAGE_KERNEL(mm.cfg);
    const addr = vmap(mm, [PFN0], 1, VM_MAP, pk)!;
    const err = kernel === '5.10' ? map_kernel_range(mm, addr, P, pk, [PFN0]) : vmap_pages_range(mm, addr, addr + P, pk, [PFN0], 12);
    expect(err).toBe(-12);
    expect(vmallocState(mm).warnings[0]).toMatch(/already present/);
  });

  it('fails on a NULL page and unwinds the area', () => {
    const mm = mkMm(kernel);
    expect(vmap(mm, [PFN0, null], 2, VM_MAP, PAGE_KERNEL(mm.cfg))).toBeNull();
    expect(vmallocState(mm).busy).toHaveLength(0);
    expect(walkPageTable(mm, mm.layout.VMALLOC_START)).toBeNull(); // first page was mapped, then unmapped
  });

  it('records the page array with VM_MAP_PUT_PAGES', () => {
    const mm = mkMm(kernel);
    const addr = vmap(mm, [PFN0, PFN0 + 9], 2, VM_MAP | VM_MAP_PUT_PAGES, PAGE_KERNEL(mm.cfg))!;
    const vm = find_vm_area(mm, addr)!;
    expect(vm.pages).toEqual([PFN0, PFN0 + 9]);
    expect(vm.nr_pages).toBe(kernel === '6.6' ? 2 : 0);
  });

  it('gives the linear map and a vmap alias of one page the same PA, different memory types', () => {
    const mm = mkMm(kernel);
    const pfn = PFN0 + 42;
    const prot = dma_pgprot(PAGE_KERNEL(mm.cfg), 0, false, kernel, mm.cfg);
    const alias = vmap(mm, [pfn], 1, VM_DMA_COHERENT, prot)!;
    const lin = walkPageTable(mm, page_address(mm, pfn) + 0x40n)!;
    const rem = walkPageTable(mm, alias + 0x40n)!;
    expect(lin.pa).toBe(rem.pa);
    const hart = { maee: true, pbmte: false };
    expect(hartMemoryType(lin.pte, hart).kind).toBe('cacheable');
    // mainline: IO; vendor 5.10: pgprot_dmacoherent = writecombine = NC
    expect(hartMemoryType(rem.pte, hart).kind).toBe(kernel === '6.6' ? 'io' : 'noncacheable');
  });

  it('purges lazily freed VA per version once past lazy_max_pages', () => {
    const mm = mkMm(kernel, undefined, { num_online_cpus: 1 });
    const n = lazy_max_pages(mm);
    expect(n).toBe(8192);
    const pages = Array.from({ length: n }, (_, i) => PFN0 + i);
    const addr = vmap(mm, pages, n, VM_MAP, PAGE_KERNEL(mm.cfg))!;
    vunmap(mm, addr); // n + 1 pages (guard) go lazy
    const st = vmallocState(mm);
    if (kernel === '5.10') {
      expect(st.purge).toHaveLength(0);
    } else {
      expect(st.purge).toHaveLength(1);
      expect(st.drain_work_pending).toBe(true);
      drain_vmap_area_work(mm);
      expect(st.purge).toHaveLength(0);
      expect(st.drain_work_pending).toBe(false);
    }
  });

  it('purges and retries, then fails with a WARN when the range is full', () => {
    const mm = mkMm(kernel);
    const S = mm.layout.VMALLOC_START;
    const a = __get_vm_area_node(mm, 2n * P, 1n, VM_MAP, S, S + 5n * P, 'test')!;
    expect(a.addr).toBe(S);
    const a2 = __get_vm_area_node(mm, P, 1n, VM_MAP, S, S + 5n * P, 'test')!;
    vunmap(mm, a.addr);
    const b = __get_vm_area_node(mm, 2n * P, 1n, VM_MAP, S, S + 5n * P, 'test');
    expect(b?.addr).toBe(S); // found only after the purge
    expect(__get_vm_area_node(mm, 2n * P, 1n, VM_MAP, S, S + 5n * P, 'test')).toBeNull();
    expect(vmallocState(mm).warnings.at(-1)).toMatch(/vmap allocation for size/);
    expect(a2.addr).toBe(S + 3n * P);
  });

  it('aligns VM_IOREMAP areas to their order', () => {
    const mm = mkMm(kernel);
    get_vm_area(mm, P, VM_MAP);
    const io = get_vm_area_caller(mm, 3n * P, VM_IOREMAP, 'ioremap')!;
    expect(io.addr % (4n * P)).toBe(0n);
    expect(io.addr).toBe(mm.layout.VMALLOC_START + 4n * P);
  });
});

describe('version-specific behaviour', () => {
  it('traces the 5.10 call chain', () => {
    const mm = mkMm('5.10');
    const { fns } = traced(() => vmap(mm, [PFN0], 1, VM_MAP, PAGE_KERNEL(mm.cfg)));
    const chain = ['vmap', 'get_vm_area_caller', 'map_kernel_range', 'map_kernel_range_noflush', 'vmap_p4d_range', 'vmap_pud_range', 'vmap_pmd_range', 'vmap_pte_range', 'mk_pte', 'pfn_pte', 'set_pte_at', 'set_pte', 'flush_cache_vmap'];
    let at = 0;
    for (const f of fns) if (f === chain[at]) at++;
    expect(at).toBe(chain.length);
    expect(fns).toContain('__pmd_alloc'); // 5.10 populates the pgd entry on demand
  });

  it('traces the 6.6 call chain', () => {
    const mm = mkMm('6.6');
    const { fns } = traced(() => vmap(mm, [PFN0], 1, VM_MAP, PAGE_KERNEL(mm.cfg)));
    const chain = ['vmap', 'get_vm_area_caller', 'vmap_pages_range', 'vmap_pages_range_noflush', '__vmap_pages_range_noflush', 'vmap_small_pages_range_noflush', 'vmap_pages_p4d_range', 'vmap_pages_pud_range', 'vmap_pages_pmd_range', 'vmap_pages_pte_range', 'mk_pte', 'pfn_pte', 'set_ptes', 'set_pte', 'flush_cache_vmap'];
    let at = 0;
    for (const f of fns) if (f === chain[at]) at++;
    expect(at).toBe(chain.length);
    expect(fns).not.toContain('__pmd_alloc'); // vmalloc pgd entries are pre-allocated at boot
    const { fns: un } = traced(() => vunmap(mm, mm.layout.VMALLOC_START));
    expect(un).toEqual(expect.arrayContaining(['remove_vm_area', 'free_unmap_vmap_area', 'vunmap_range_noflush', 'vunmap_pte_range', 'ptep_get_and_clear']));
  });

  it('rejects the other version\'s entry points', () => {
    const m66 = mkMm('6.6');
    expect(() => map_kernel_range(m66, m66.layout.VMALLOC_START, P, PAGE_KERNEL(m66.cfg), [PFN0])).toThrow(ModelError);
    const m510 = mkMm('5.10');
    expect(() => vunmap_range(m510, m510.layout.VMALLOC_START, m510.layout.VMALLOC_START + P)).toThrow(ModelError);
  });

  it('6.6: rejects VM_FLUSH_RESET_PERMS, strips VM_NO_GUARD, refuses invalid pfns', () => {
    const mm = mkMm('6.6');
    const pk = PAGE_KERNEL(mm.cfg);
    expect(vmap(mm, [PFN0], 1, VM_FLUSH_RESET_PERMS, pk)).toBeNull();
    const a = vmap(mm, [PFN0], 1, VM_MAP | VM_NO_GUARD, pk)!;
    expect(find_vm_area(mm, a)!.size).toBe(2n * P);
    expect(vmap(mm, [0x10], 1, VM_MAP, pk)).toBeNull(); // below RAM: !pfn_valid
    expect(vmallocState(mm).warnings.some((w) => /not valid/.test(w))).toBe(true);
    const m510 = mkMm('5.10');
    expect(vmap(m510, [0x10], 1, VM_MAP | VM_NO_GUARD, PAGE_KERNEL(m510.cfg))).not.toBeNull(); // 5.10: no pfn_valid check
    expect(find_vm_area(m510, m510.layout.VMALLOC_START)!.size).toBe(P);
  });

  it('5.10: a failed page-table allocation makes vmap return null and frees the VA', () => {
    const mm = mkMm('5.10', undefined, { pgtable_alloc_limit: 0 });
    expect(vmap(mm, [PFN0], 1, VM_MAP, PAGE_KERNEL(mm.cfg))).toBeNull();
    expect(vmallocState(mm).busy).toHaveLength(0);
  });
});

describe('vmap/vunmap sequences (property)', () => {
  it('busy areas never overlap, stay in range, keep an unmapped guard page', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('map' as const), n: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ kind: fc.constant('unmap' as const), i: fc.nat() }),
      fc.constant({ kind: 'purge' as const }),
    );
    fc.assert(
      fc.property(fc.constantFrom<KernelVersion>('5.10', '6.6'), fc.array(op, { maxLength: 25 }), (kernel, ops) => {
        const mm = mkMm(kernel);
        const pk = PAGE_KERNEL(mm.cfg);
        const live: bigint[] = [];
        for (const o of ops) {
          if (o.kind === 'map') {
            const a = vmap(mm, Array.from({ length: o.n }, (_, i) => PFN0 + i), o.n, VM_MAP, pk);
            expect(a).not.toBeNull();
            live.push(a!);
          } else if (o.kind === 'unmap' && live.length > 0) {
            vunmap(mm, live.splice(o.i % live.length, 1)[0]);
          } else if (o.kind === 'purge') purge_vmap_area_lazy(mm);
        }
        const st = vmallocState(mm);
        const all = [...st.busy, ...st.purge].sort((x, y) => (x.va_start < y.va_start ? -1 : 1));
        for (let i = 1; i < all.length; i++) expect(all[i].va_start).toBeGreaterThanOrEqual(all[i - 1].va_end);
        for (const va of st.busy) {
          expect(va.va_start).toBeGreaterThanOrEqual(mm.layout.VMALLOC_START);
          expect(va.va_end).toBeLessThanOrEqual(mm.layout.VMALLOC_END);
          expect(walkPageTable(mm, va.va_start)).not.toBeNull();
          expect(walkPageTable(mm, va.va_end - P)).toBeNull();
        }
        for (const va of st.purge) expect(walkPageTable(mm, va.va_start)).toBeNull();
        expect(st.busy.map((v) => v.va_start).sort()).toEqual([...live].sort());
        expect(st.warnings).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
