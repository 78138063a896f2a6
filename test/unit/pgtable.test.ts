import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ALT_SVPBMT,
  ALT_THEAD_PMA,
  PAGE_KERNEL,
  PAGE_KERNEL_IO,
  SV39_LAYOUT,
  THEAD_MT_TABLES,
  _PAGE_ACCESSED,
  _PAGE_CHG_MASK,
  _PAGE_DIRTY,
  _PAGE_EXEC,
  _PAGE_GLOBAL,
  _PAGE_IO_SVPBMT,
  _PAGE_MTMASK_SVPBMT,
  _PAGE_MTMASK_THEAD,
  _PAGE_NOCACHE_SVPBMT,
  _PAGE_NOCACHE_THEAD,
  _PAGE_PFN_MASK,
  _PAGE_PFN_SHIFT,
  _PAGE_PMA_THEAD,
  _PAGE_PRESENT,
  _PAGE_READ,
  _PAGE_USER,
  _PAGE_WRITE,
  __pgprot,
  __pte,
  createInitMm,
  dma_pgprot,
  hartMemoryType,
  memTypeConfig,
  mk_pte,
  p4d_alloc,
  p4d_offset,
  page_address,
  pfn_pgd,
  pfn_pmd,
  pfn_pte,
  pfn_pud,
  pgd_addr_end,
  pgd_offset_k,
  pgprot_dmacoherent,
  pgprot_noncached,
  pgprot_val,
  pgprot_writecombine,
  phys_to_virt,
  pmd_addr_end,
  pmd_alloc,
  pte_alloc_kernel,
  pte_modify,
  pte_pfn,
  pte_present,
  pte_val,
  ptep_get,
  ptep_get_and_clear,
  pud_alloc,
  pud_offset,
  riscv_page_io,
  riscv_page_mtmask,
  riscv_page_nocache,
  set_pte_at,
  sv39Canonical,
  virt_to_phys,
  walkPageTable,
  type HartMode,
  type MemTypeConfig,
} from '../../reference/arch/riscv/pgtable.ts';
import { FAULTS } from '../../reference/config/faults.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { ModelError } from '../../reference/types.ts';

const MAEE: HartMode = { maee: true, pbmte: false };
const SVPBMT: HartMode = { maee: false, pbmte: true };
const PLAIN: HartMode = { maee: false, pbmte: false };
const KERNEL_RW = 0xe7n; // V R W G A D
const MT_MASK_HI = ~((1n << 54n) - 1n) & ((1n << 64n) - 1n);

const thead = (t: MemTypeConfig['theadTable'] = '5.19-6.6', faults: string[] = []) => memTypeConfig('thead-mae', t, faults);

describe('PTE bit layout and constant tables', () => {
  it('has the priv-spec low bits and the 44-bit PPN field', () => {
    expect([_PAGE_PRESENT, _PAGE_READ, _PAGE_WRITE, _PAGE_EXEC, _PAGE_USER, _PAGE_GLOBAL, _PAGE_ACCESSED, _PAGE_DIRTY]).toEqual([
      1n, 2n, 4n, 8n, 16n, 32n, 64n, 128n,
    ]);
    expect(_PAGE_PFN_SHIFT).toBe(10);
    expect(_PAGE_PFN_MASK).toBe(0x003ffffffffffc00n);
  });

  it('has the Svpbmt and T-Head values of spec §3.2/§3.3', () => {
    expect(_PAGE_NOCACHE_SVPBMT).toBe(0x2000000000000000n);
    expect(_PAGE_IO_SVPBMT).toBe(0x4000000000000000n);
    expect(_PAGE_MTMASK_SVPBMT).toBe(0x6000000000000000n);
    expect(_PAGE_PMA_THEAD).toBe(0x7000000000000000n);
    expect(_PAGE_MTMASK_THEAD).toBe(0xf800000000000000n);
    expect(THEAD_MT_TABLES['5.19-6.6']).toMatchObject({ NOCACHE: 0n, IO: 0x8000000000000000n });
    expect(THEAD_MT_TABLES['6.7-typo']).toMatchObject({ NOCACHE: 0x1000000000000001n, IO: 0x9000000000000000n });
    expect(THEAD_MT_TABLES.fixed).toMatchObject({ NOCACHE: 0x3000000000000000n, IO: 0x9000000000000000n });
    expect(THEAD_MT_TABLES.sophgo).toMatchObject({ NOCACHE: 0x3000000000000000n, IO: 0x9000000000000000n });
    for (const t of Object.values(THEAD_MT_TABLES)) {
      expect(t.PMA).toBe(0x7000000000000000n);
      expect(t.MTMASK).toBe(0xf800000000000000n);
    }
  });

  it('registers its fault switches', () => {
    expect(FAULTS['thead-nocache-typo'].fn).toBe('_PAGE_NOCACHE_THEAD');
    expect(FAULTS['pgprot-dmacoherent-cacheable'].fn).toBe('pgprot_dmacoherent');
    expect(_PAGE_NOCACHE_THEAD(thead('fixed', ['thead-nocache-typo']))).toBe(0x1000000000000001n);
  });

  it('freezes pte_t / pgprot_t and wraps to 64 bits', () => {
    const p = __pte(-1n);
    expect(pte_val(p)).toBe((1n << 64n) - 1n);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(__pgprot(1n))).toBe(true);
  });
});

describe('ALT_SVPBMT: runtime _PAGE_NOCACHE/_PAGE_IO/_PAGE_MTMASK', () => {
  it('drops every T-Head bit below 59 (the typo bit 0 never reaches a PTE)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (x) => {
        const v = ALT_SVPBMT(0n, x, thead());
        expect(v).toBe(x & ~((1n << 59n) - 1n));
      }),
    );
    expect(riscv_page_nocache(thead('6.7-typo'))).toBe(0x1000000000000000n); // SH only
    expect(riscv_page_nocache(thead('fixed', ['thead-nocache-typo']))).toBe(0x1000000000000000n);
  });

  it('gives per-scheme values', () => {
    expect(riscv_page_nocache(thead('5.19-6.6'))).toBe(0n);
    expect(riscv_page_nocache(thead('fixed'))).toBe(0x3000000000000000n);
    expect(riscv_page_io(thead('5.19-6.6'))).toBe(0x8000000000000000n);
    expect(riscv_page_io(thead('sophgo'))).toBe(0x9000000000000000n);
    expect(riscv_page_mtmask(thead())).toBe(0xf800000000000000n);
    const sv = memTypeConfig('svpbmt');
    expect([riscv_page_nocache(sv), riscv_page_io(sv), riscv_page_mtmask(sv)]).toEqual([
      0x2000000000000000n, 0x4000000000000000n, 0x6000000000000000n,
    ]);
    const none = memTypeConfig('none');
    expect([riscv_page_nocache(none), riscv_page_io(none), riscv_page_mtmask(none)]).toEqual([0n, 0n, 0n]);
    expect(() => riscv_page_io(memTypeConfig('vendor-5.10-static'))).toThrow(ModelError);
  });
});

describe('ALT_THEAD_PMA and the PTE constructors', () => {
  const pfn = 0x80123;
  it('promotes a prot without MT bits to PMA in pfn_pte/pfn_pmd/pfn_pgd/pte_modify, not pfn_pud', () => {
    const cfg = thead();
    const want = (BigInt(pfn) << 10n) | KERNEL_RW | 0x7000000000000000n;
    expect(pte_val(pfn_pte(pfn, PAGE_KERNEL(cfg), cfg))).toBe(want);
    expect(pte_val(mk_pte(pfn, PAGE_KERNEL(cfg), cfg))).toBe(want);
    expect(pfn_pmd(pfn, PAGE_KERNEL(cfg), cfg)).toBe(want);
    expect(pfn_pgd(pfn, PAGE_KERNEL(cfg), cfg)).toBe(want);
    expect(pfn_pud(pfn, PAGE_KERNEL(cfg), cfg)).toBe((BigInt(pfn) << 10n) | KERNEL_RW);
    expect(hartMemoryType(pfn_pud(pfn, PAGE_KERNEL(cfg), cfg), MAEE).kind).toBe('noncacheable');
    const io = pfn_pte(pfn, pgprot_noncached(PAGE_KERNEL(cfg), cfg), cfg);
    expect(pte_val(pte_modify(io, PAGE_KERNEL(cfg), cfg))).toBe(want);
  });

  it('keeps a prot that already has an MT bit, and is inert off T-Head', () => {
    const cfg = thead();
    expect(ALT_THEAD_PMA(0x8000000000000000n | KERNEL_RW, cfg)).toBe(0x8000000000000000n | KERNEL_RW);
    expect(ALT_THEAD_PMA(1n << 59n, cfg)).toBe(1n << 59n); // Sec alone counts as a type
    expect(ALT_THEAD_PMA(KERNEL_RW, memTypeConfig('svpbmt'))).toBe(KERNEL_RW);
    expect(ALT_THEAD_PMA(KERNEL_RW, memTypeConfig('vendor-5.10-static'))).toBe(KERNEL_RW);
  });

  it('pte_pfn masks MT bits per scheme', () => {
    const cfg = thead('fixed');
    const pte = pfn_pte(pfn, pgprot_noncached(PAGE_KERNEL(cfg), cfg), cfg);
    expect(pte_pfn(pte, cfg)).toBe(pfn);
    const v = memTypeConfig('vendor-5.10-static');
    expect(pte_pfn(pfn_pte(pfn, PAGE_KERNEL(v), v), v)).toBe(pfn);
    expect(_PAGE_CHG_MASK(v) & 0xf800000000000000n).toBe(0n);
  });

  it('pte_present honours the version PROT_NONE bit', () => {
    expect(pte_present(__pte(_PAGE_GLOBAL), '6.6')).toBe(true);
    expect(pte_present(__pte(_PAGE_GLOBAL), '5.10')).toBe(false);
    expect(pte_present(__pte(_PAGE_READ), '5.10')).toBe(true);
  });
});

describe('pgprot helpers and what the hart makes of them', () => {
  const pfn = 0x1000;
  const leaf = (prot: ReturnType<typeof PAGE_KERNEL>, cfg: MemTypeConfig) => pte_val(pfn_pte(pfn, prot, cfg));

  it('T-Head 5.19-6.6: pgprot_writecombine ends up cacheable after ALT_THEAD_PMA (spec §3.4)', () => {
    const cfg = thead('5.19-6.6');
    const wc = pgprot_writecombine(PAGE_KERNEL(cfg), cfg);
    expect(pgprot_val(wc)).toBe(KERNEL_RW);
    const pte = leaf(wc, cfg);
    expect(pte & MT_MASK_HI).toBe(0x7000000000000000n);
    expect(hartMemoryType(pte, MAEE)).toEqual({ kind: 'cacheable' });
  });

  it('T-Head fixed / 6.7 typo: writecombine is NC (B+SH, or SH only)', () => {
    const f = thead('fixed');
    expect(hartMemoryType(leaf(pgprot_writecombine(PAGE_KERNEL(f), f), f), MAEE)).toEqual({ kind: 'noncacheable' });
    const t = thead('6.7-typo');
    const pte = leaf(pgprot_writecombine(PAGE_KERNEL(t), t), t);
    expect(pte & MT_MASK_HI).toBe(0x1000000000000000n);
    expect(pte & 1n).toBe(1n); // V from PAGE_KERNEL, never from the typo
    const m = hartMemoryType(pte, MAEE);
    expect(m.kind).toBe('noncacheable');
    expect(m.unlisted).toMatch(/00010/);
  });

  it('pgprot_noncached gives IO on every mainline scheme', () => {
    const a = thead('5.19-6.6');
    const io519 = hartMemoryType(leaf(pgprot_noncached(PAGE_KERNEL(a), a), a), MAEE);
    expect(io519.kind).toBe('io');
    expect(io519.unlisted).toMatch(/10000/); // SO without SH
    const f = thead('fixed');
    expect(hartMemoryType(leaf(pgprot_noncached(PAGE_KERNEL(f), f), f), MAEE)).toEqual({ kind: 'io' });
    const sv = memTypeConfig('svpbmt');
    const pte = leaf(pgprot_noncached(PAGE_KERNEL(sv), sv), sv);
    expect(pte & MT_MASK_HI).toBe(0x4000000000000000n);
    expect(hartMemoryType(pte, SVPBMT)).toEqual({ kind: 'io' });
    expect(hartMemoryType(leaf(pgprot_writecombine(PAGE_KERNEL(sv), sv), sv), SVPBMT)).toEqual({ kind: 'noncacheable' });
    expect(pgprot_val(PAGE_KERNEL_IO(sv))).toBe(KERNEL_RW | 0x4000000000000000n);
  });

  it('mainline pgprot_dmacoherent = pgprot_noncached; dma_pgprot ignores WRITE_COMBINE', () => {
    const f = thead('fixed');
    expect(pgprot_dmacoherent(PAGE_KERNEL(f), f)).toEqual(pgprot_noncached(PAGE_KERNEL(f), f));
    expect(dma_pgprot(PAGE_KERNEL(f), 1 << 2, false, '6.6', f)).toEqual(pgprot_noncached(PAGE_KERNEL(f), f));
    expect(dma_pgprot(PAGE_KERNEL(f), 0, true, '6.6', f)).toEqual(PAGE_KERNEL(f));
  });

  it('fault pgprot-dmacoherent-cacheable leaves the coherent alias cacheable', () => {
    const f = thead('fixed', ['pgprot-dmacoherent-cacheable']);
    const p = dma_pgprot(PAGE_KERNEL(f), 0, false, '6.6', f);
    expect(p).toEqual(PAGE_KERNEL(f));
    expect(hartMemoryType(leaf(p, f), MAEE).kind).toBe('cacheable');
  });

  it('vendor 5.10: static SHARE+CACHE+BUF; dmacoherent = writecombine = SH-only NC on MAEE', () => {
    const v = memTypeConfig('vendor-5.10-static');
    expect(pgprot_val(PAGE_KERNEL(v))).toBe(0x70000000000000e7n);
    const dc = pgprot_dmacoherent(PAGE_KERNEL(v), v);
    expect(dc).toEqual(pgprot_writecombine(PAGE_KERNEL(v), v));
    expect(pgprot_val(dc)).toBe(0x10000000000000e7n);
    expect(dma_pgprot(PAGE_KERNEL(v), 0, false, '5.10', v)).toEqual(dc);
    const m = hartMemoryType(leaf(dc, v), MAEE);
    expect(m.kind).toBe('noncacheable');
    expect(m.unlisted).toBeDefined();
    expect(pgprot_val(pgprot_noncached(PAGE_KERNEL(v), v))).toBe(0x90000000000000e7n);
    expect(hartMemoryType(leaf(pgprot_noncached(PAGE_KERNEL(v), v), v), MAEE)).toEqual({ kind: 'io' });
    expect(pgprot_val(PAGE_KERNEL_IO(v))).toBe(0x90000000000000e7n);
    expect(hartMemoryType(leaf(PAGE_KERNEL(v), v), MAEE)).toEqual({ kind: 'cacheable' });
  });

  it('vendor 5.10 normal PTE faults on a standard Svpbmt hart and on a plain hart', () => {
    const v = memTypeConfig('vendor-5.10-static');
    const normal = leaf(PAGE_KERNEL(v), v);
    const sv = hartMemoryType(normal, SVPBMT);
    expect(sv.fault).toMatch(/reserved bits 60:54/);
    expect(sv.fault).toMatch(/PBMT=3/);
    const io = hartMemoryType(leaf(pgprot_noncached(PAGE_KERNEL(v), v), v), SVPBMT);
    expect(io.fault).toMatch(/Svnapot/);
    expect(hartMemoryType(normal, PLAIN).fault).toMatch(/63:54/);
  });

  it('scheme none: every helper is the identity and PTEs stay MT-free', () => {
    const n = memTypeConfig('none');
    expect(pgprot_noncached(PAGE_KERNEL(n), n)).toEqual(PAGE_KERNEL(n));
    expect(pgprot_dmacoherent(PAGE_KERNEL(n), n)).toEqual(PAGE_KERNEL(n));
    expect(hartMemoryType(leaf(PAGE_KERNEL(n), n), PLAIN)).toEqual({ kind: 'cacheable' });
  });
});

describe('hartMemoryType decoding', () => {
  const base = (0x80000n << 10n) | KERNEL_RW;
  it('MAEE: C then SO precedence, UM rows, all-zero MT is NC', () => {
    expect(hartMemoryType(base | 0x7000000000000000n, MAEE)).toEqual({ kind: 'cacheable' });
    expect(hartMemoryType(base | 0x3000000000000000n, MAEE)).toEqual({ kind: 'noncacheable' });
    expect(hartMemoryType(base | 0xb000000000000000n, MAEE)).toEqual({ kind: 'io' }); // bufferable device
    expect(hartMemoryType(base | 0x9000000000000000n, MAEE)).toEqual({ kind: 'io' });
    const zero = hartMemoryType(base, MAEE);
    expect(zero.kind).toBe('noncacheable');
    expect(zero.unlisted).toMatch(/00000/);
    const soc = hartMemoryType(base | 0xe000000000000000n, MAEE); // SO+C+B: illegal
    expect(soc.kind).toBe('cacheable');
    expect(soc.unlisted).toBeDefined();
    expect(hartMemoryType(base | (1n << 55n), MAEE).fault).toMatch(/58:54/);
    expect(hartMemoryType(base & ~1n, MAEE).fault).toMatch(/V=0/);
    expect(hartMemoryType(base | 0x7000000000000000n, { maee: true, pbmte: true })).toEqual({ kind: 'cacheable' });
  });

  it('Svpbmt: PBMT values, reserved 3, reserved bits, N', () => {
    expect(hartMemoryType(base, SVPBMT)).toEqual({ kind: 'cacheable' });
    expect(hartMemoryType(base | (1n << 61n), SVPBMT)).toEqual({ kind: 'noncacheable' });
    expect(hartMemoryType(base | (2n << 61n), SVPBMT)).toEqual({ kind: 'io' });
    expect(hartMemoryType(base | (3n << 61n), SVPBMT).fault).toMatch(/PBMT=3/);
    for (let b = 54n; b <= 60n; b++) expect(hartMemoryType(base | (1n << b), SVPBMT).fault).toMatch(/60:54/);
    expect(hartMemoryType(base | (1n << 63n), SVPBMT).fault).toMatch(/Svnapot/);
  });

  it('plain PMA hart: cacheable, any bit 63:54 faults', () => {
    expect(hartMemoryType(base, PLAIN)).toEqual({ kind: 'cacheable' });
    for (let b = 54n; b <= 63n; b++) expect(hartMemoryType(base | (1n << b), PLAIN).fault).toBeDefined();
  });
});

describe('Sv39 tables, layout, linear map', () => {
  it('uses the per-version layout', () => {
    expect(SV39_LAYOUT['6.6']).toMatchObject({ PAGE_OFFSET: 0xffffffd800000000n, VMALLOC_START: 0xffffffc800000000n, VMALLOC_END: 0xffffffd800000000n });
    expect(SV39_LAYOUT['5.10']).toMatchObject({ PAGE_OFFSET: 0xffffffe000000000n, VMALLOC_START: 0xffffffd000000000n, VMALLOC_END: 0xffffffdfffffffffn });
  });

  it('checks sign extension', () => {
    expect(sv39Canonical(0xffffffc000000000n)).toBe(true);
    expect(sv39Canonical(0x0000003fffffffffn)).toBe(true);
    expect(sv39Canonical(0xffffff8000000000n)).toBe(false);
    expect(sv39Canonical(0x0000004000000000n)).toBe(false);
  });

  it('addr_end helpers stop at boundaries and handle an end at 2^64', () => {
    expect(pmd_addr_end(0x1000n, 0x10_0000_0000n)).toBe(0x200000n);
    expect(pmd_addr_end(0x1000n, 0x3000n)).toBe(0x3000n);
    expect(pgd_addr_end(0xffffffffc0001000n, 0n)).toBe(0n);
    expect(pgd_addr_end(0xffffffff80001000n, 0n)).toBe(0xffffffffc0000000n);
  });

  it('validates scheme/version and aligns phys_ram_base', () => {
    expect(() => createInitMm(memTypeConfig('vendor-5.10-static'), { kernel: '6.6', phys_ram_base: 0n })).toThrow(ModelError);
    expect(() => createInitMm(thead(), { kernel: '5.10', phys_ram_base: 0n })).toThrow(ModelError);
    expect(() => createInitMm(memTypeConfig('none'), { kernel: '5.10', phys_ram_base: 0x80100000n })).toThrow(ModelError);
    const mm = createInitMm(thead(), { kernel: '6.6', phys_ram_base: 0x80100000n });
    expect(mm.phys_ram_base).toBe(0x80000000n);
  });

  it('translates the linear map both ways with PAGE_KERNEL attributes', () => {
    const mem = [{ base: 0x80000000n, size: 1n << 30n }];
    const mm = createInitMm(thead(), { kernel: '6.6', phys_ram_base: 0x80000000n, memory: mem });
    const va = page_address(mm, 0x80123);
    expect(va).toBe(0xffffffd800123000n);
    expect(virt_to_phys(mm, va + 0x45n)).toBe(0x80123045n);
    expect(phys_to_virt(mm, 0x80123045n)).toBe(va + 0x45n);
    const t = walkPageTable(mm, va + 0x45n)!;
    expect(t.pa).toBe(0x80123045n);
    expect(t.linear).toBe(true);
    expect(hartMemoryType(t.pte, MAEE)).toEqual({ kind: 'cacheable' });
    expect(walkPageTable(mm, phys_to_virt(mm, 0x80000000n + (1n << 30n)))).toBeNull(); // beyond RAM
    expect(() => virt_to_phys(mm, 0xffffffc800000000n)).toThrow(ModelError);
    const old = createInitMm(memTypeConfig('vendor-5.10-static'), { kernel: '5.10', phys_ram_base: 0x200000n });
    expect(page_address(old, 0x200)).toBe(0xffffffe000000000n);
    expect(walkPageTable(old, 0xffffffe000000000n)!.pte & MT_MASK_HI).toBe(0x7000000000000000n);
  });

  it('walks, allocates and folds levels like the kernel', () => {
    const mm = createInitMm(thead(), { kernel: '6.6', phys_ram_base: 0n });
    const va = 0xffffffc800200000n;
    const pgd = pgd_offset_k(mm, va);
    expect(p4d_offset(pgd, va)).toBe(pgd);
    expect(pud_offset(pgd, va)).toBe(pgd);
    const pud = pud_alloc(mm, p4d_alloc(mm, pgd, va)!, va)!;
    const pmd = pmd_alloc(mm, pud, va)!; // pre-allocated in 6.6
    expect(mm.pgtable_pages).toBe(0);
    const ptep = pte_alloc_kernel(mm, pmd, va)!;
    expect(mm.pgtable_pages).toBe(1);
    const pte = mk_pte(0x1234, PAGE_KERNEL(mm.cfg), mm.cfg);
    set_pte_at(mm, va, ptep, pte);
    expect(ptep_get(ptep)).toEqual(pte);
    const t = walkPageTable(mm, va + 7n)!;
    expect(t).toMatchObject({ pa: 0x1234007n, level: 'pte', linear: false });
    expect(ptep_get_and_clear(mm, va, ptep)).toEqual(pte);
    expect(walkPageTable(mm, va)).toBeNull();
  });

  it('fails a table allocation at the model limit (5.10 has no pre-allocation)', () => {
    const mm = createInitMm(memTypeConfig('none'), { kernel: '5.10', phys_ram_base: 0n, pgtable_alloc_limit: 0 });
    const va = 0xffffffd000000000n;
    expect(pmd_alloc(mm, pgd_offset_k(mm, va), va)).toBeNull();
  });

  it('names set_pte_at per version in the trace', () => {
    for (const [kernel, name] of [['5.10', 'set_pte_at'], ['6.6', 'set_ptes']] as const) {
      const cfg = memTypeConfig('none');
      const mm = createInitMm(cfg, { kernel, phys_ram_base: 0n });
      const va = mm.layout.VMALLOC_START;
      const ptep = pte_alloc_kernel(mm, pmd_alloc(mm, pgd_offset_k(mm, va), va)!, va)!;
      const pte = pfn_pte(1, __pgprot(KERNEL_RW | _PAGE_EXEC), cfg);
      const tr = new Tracer();
      setTracer(tr);
      try {
        set_pte_at(mm, va, ptep, pte);
      } finally {
        setTracer(null);
      }
      expect(tr.events.map((e) => e.fn)).toEqual([name, '#', 'set_pte']);
    }
  });
});
