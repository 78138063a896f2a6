// RISC-V Sv39 page tables and memory-type bits: arch/riscv/include/asm/page.h,
// pgtable.h, pgtable-64.h, pgtable-bits.h and errata_list.h (ALT_SVPBMT,
// ALT_THEAD_PMA), for the vendor 5.10 C9xx BSP and mainline 5.19–6.6 (with the
// later T-Head constant tables as options), plus the way a hart reads those bits.
//
// The memory type a PTE selects is the whole point of the DMA coherent path: a
// remapped coherent buffer is only coherent if the bits that reach the PTE make
// the hart treat the alias as uncached. So the bits are built exactly the way
// the kernel builds them, including the runtime patching that drops or adds
// bits, and hartMemoryType() decodes them the way each hart mode would.

import type { KernelVersion, MemoryRange } from '../../config/profile.ts';
import type { VmallocState } from '../../mm/vmalloc.ts';
import type { task_struct } from '../../include/linux/sched.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { ENOMEM, ModelError, PAGE_SHIFT, PAGE_SIZE_N, PFN_PHYS, PHYS_PFN, hex, u64 } from '../../types.ts';

// ---------------------------------------------------------------------------
// pte_t / pgprot_t (asm/page.h, all versions)

export interface pte_t {
  readonly pte: bigint;
}
export interface pgprot_t {
  readonly pgprot: bigint;
}

/** arch/riscv/include/asm/page.h __pte (5.10, 6.6). */
export function __pte(x: bigint): pte_t {
  return Object.freeze({ pte: u64(x) });
}
/** arch/riscv/include/asm/page.h pte_val (5.10, 6.6). */
export function pte_val(p: pte_t): bigint {
  return p.pte;
}
/** arch/riscv/include/asm/page.h __pgprot (5.10, 6.6). */
export function __pgprot(x: bigint): pgprot_t {
  return Object.freeze({ pgprot: u64(x) });
}
/** arch/riscv/include/asm/page.h pgprot_val (5.10, 6.6). */
export function pgprot_val(p: pgprot_t): bigint {
  return p.pgprot;
}

// ---------------------------------------------------------------------------
// PTE bits (pgtable-bits.h; identical positions in 5.10 and 6.6)

export const _PAGE_ACCESSED_OFFSET = 6;
export const _PAGE_PRESENT = 1n << 0n;
export const _PAGE_READ = 1n << 1n;
export const _PAGE_WRITE = 1n << 2n;
export const _PAGE_EXEC = 1n << 3n;
export const _PAGE_USER = 1n << 4n;
export const _PAGE_GLOBAL = 1n << 5n;
export const _PAGE_ACCESSED = 1n << 6n;
export const _PAGE_DIRTY = 1n << 7n;
export const _PAGE_SOFT = 1n << 8n;
export const _PAGE_SPECIAL = _PAGE_SOFT;
export const _PAGE_TABLE = _PAGE_PRESENT;
/** R|W|X: a valid entry with none of them points at the next table level. */
export const _PAGE_LEAF = _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC;

export const _PAGE_PFN_SHIFT = 10;
/** GENMASK(53, 10) (v5.19+): PPN[43:0]; bits 54..63 carry memory types, not address. */
export const _PAGE_PFN_MASK = ((1n << 54n) - 1n) & ~((1n << 10n) - 1n);

/**
 * _PAGE_PROT_NONE: a software bit set only on non-present PTEs. 5.10 (mainline
 * and vendor) used READ; 6.x uses GLOBAL (spec §3.1).
 */
export function _PAGE_PROT_NONE(kernel: KernelVersion): bigint {
  return kernel === '5.10' ? _PAGE_READ : _PAGE_GLOBAL;
}

// Svpbmt (pgtable-64.h, v5.19+): PBMT field in bits 62:61.
export const _PAGE_NOCACHE_SVPBMT = 1n << 61n;
export const _PAGE_IO_SVPBMT = 1n << 62n;
export const _PAGE_MTMASK_SVPBMT = _PAGE_NOCACHE_SVPBMT | _PAGE_IO_SVPBMT;

// XTheadMae field bits 63:59 (C910 UM names; the vendor 5.10 BSP defines them under these names).
export const _PAGE_SEC = 1n << 59n;
export const _PAGE_SHARE = 1n << 60n;
export const _PAGE_BUF = 1n << 61n;
export const _PAGE_CACHE = 1n << 62n;
export const _PAGE_SO = 1n << 63n;

/** The T-Head constant sets that mainline and vendor trees shipped (spec §3.3). */
export type TheadTable = '5.19-6.6' | '6.7-typo' | 'fixed' | 'sophgo';

export interface TheadMtConstants {
  readonly PMA: bigint;
  readonly NOCACHE: bigint;
  readonly IO: bigint;
  readonly MTMASK: bigint;
}

const THEAD_PMA = _PAGE_CACHE | _PAGE_BUF | _PAGE_SHARE; // 0x7000000000000000
const THEAD_MTMASK = _PAGE_SO | _PAGE_CACHE | _PAGE_BUF | _PAGE_SHARE | _PAGE_SEC; // 0xF800000000000000

export const THEAD_MT_TABLES: Readonly<Record<TheadTable, TheadMtConstants>> = Object.freeze({
  // torvalds 5.19..6.6: NC requested nothing at all, IO was SO without SH.
  '5.19-6.6': Object.freeze({ PMA: THEAD_PMA, NOCACHE: 0n, IO: _PAGE_SO, MTMASK: THEAD_MTMASK }),
  // dbfbda3bd6bf (6.7): "(1UL < 61) | (1UL << 60)" — the comparison yields 1, so bit 0 instead of bit 61.
  '6.7-typo': Object.freeze({ PMA: THEAD_PMA, NOCACHE: 0x1000000000000001n, IO: _PAGE_SO | _PAGE_SHARE, MTMASK: THEAD_MTMASK }),
  // c21f01481860: NC = B|SH, IO = SO|SH.
  fixed: Object.freeze({ PMA: THEAD_PMA, NOCACHE: _PAGE_BUF | _PAGE_SHARE, IO: _PAGE_SO | _PAGE_SHARE, MTMASK: THEAD_MTMASK }),
  // sophgo/linux-riscv under CONFIG_SOC_SOPHGO: same values as the fixed mainline table.
  sophgo: Object.freeze({ PMA: THEAD_PMA, NOCACHE: _PAGE_BUF | _PAGE_SHARE, IO: _PAGE_SO | _PAGE_SHARE, MTMASK: THEAD_MTMASK }),
});

/** pgtable-64.h _PAGE_PMA_THEAD (identical in every table). */
export const _PAGE_PMA_THEAD = THEAD_PMA;
/** pgtable-64.h _PAGE_MTMASK_THEAD (identical in every table). */
export const _PAGE_MTMASK_THEAD = THEAD_MTMASK;

// ---------------------------------------------------------------------------
// Memory-type configuration: which code the alternatives patched in.

/**
 * 'svpbmt': mainline on a hart with Svpbmt (ALT_SVPBMT picks the Svpbmt values).
 * 'thead-mae': mainline with the T-Head PBMT/MAE erratum applied (ALT_SVPBMT picks
 *   the T-Head values, ALT_THEAD_PMA is live).
 * 'none': mainline with neither (all memory-type helpers yield 0); also plain 5.10.
 * 'vendor-5.10-static': the vendor C9xx 5.10 BSP, which hard-codes MAE bits.
 */
export type MemTypeScheme = 'svpbmt' | 'thead-mae' | 'none' | 'vendor-5.10-static';

export interface MemTypeConfig {
  scheme: MemTypeScheme;
  theadTable: TheadTable;
  faults: ReadonlySet<string>;
}

/** Model helper: a MemTypeConfig with defaults (T-Head table of 5.19–6.6, no faults). */
export function memTypeConfig(scheme: MemTypeScheme, theadTable: TheadTable = '5.19-6.6', faults: Iterable<string> = []): MemTypeConfig {
  return { scheme, theadTable, faults: new Set(faults) };
}

/** arch/riscv/include/asm/pgtable-64.h _PAGE_NOCACHE_THEAD (5.19–6.6, 6.7, fixed; per table). */
export function _PAGE_NOCACHE_THEAD(cfg: MemTypeConfig): bigint {
  if (cfg.faults.has('thead-nocache-typo')) {
    knote('fault thead-nocache-typo: _PAGE_NOCACHE_THEAD = 0x1000000000000001');
    return THEAD_MT_TABLES['6.7-typo'].NOCACHE;
  }
  return THEAD_MT_TABLES[cfg.theadTable].NOCACHE;
}

/** arch/riscv/include/asm/pgtable-64.h _PAGE_IO_THEAD (5.19–6.6, 6.7, fixed; per table). */
export function _PAGE_IO_THEAD(cfg: MemTypeConfig): bigint {
  return THEAD_MT_TABLES[cfg.theadTable].IO;
}

const ALT_SVPBMT_SHIFT = 61n;
const ALT_THEAD_PBMT_SHIFT = 59n;

/**
 * arch/riscv/include/asm/errata_list.h ALT_SVPBMT (v5.19–6.6). The patched code
 * loads a 12-bit immediate and shifts it into place, so only bits at or above
 * the shift survive: `X >> 61 << 61` for Svpbmt, `X >> 59 << 59` for T-Head.
 * This is why the 6.7 typo's bit 0 never reached a PTE.
 */
export function ALT_SVPBMT(svpbmt: bigint, thead: bigint, cfg: MemTypeConfig): bigint {
  switch (cfg.scheme) {
    case 'svpbmt':
      return (svpbmt >> ALT_SVPBMT_SHIFT) << ALT_SVPBMT_SHIFT;
    case 'thead-mae':
      return (thead >> ALT_THEAD_PBMT_SHIFT) << ALT_THEAD_PBMT_SHIFT;
    case 'none':
      return 0n;
    case 'vendor-5.10-static':
      throw new ModelError('ALT_SVPBMT does not exist in the vendor 5.10 kernel (its memory-type bits are static)');
  }
}

/**
 * arch/riscv/include/asm/errata_list.h ALT_THEAD_PMA (v5.19–6.6): on T-Head
 * only, a value with no memory-type bit (tested against MTMASK >> 59 << 59) gets
 * _PAGE_PMA_THEAD, i.e. "no type requested" becomes cacheable. Used by pfn_pte,
 * pfn_pmd, pfn_pgd and pte_modify — not pfn_pud/pfn_p4d.
 */
export function ALT_THEAD_PMA(val: bigint, cfg: MemTypeConfig): bigint {
  const out = theadPma(val, cfg);
  if (out !== val) knote('ALT_THEAD_PMA: no memory type set, OR _PAGE_PMA_THEAD');
  return out;
}

function theadPma(val: bigint, cfg: MemTypeConfig): bigint {
  if (cfg.scheme !== 'thead-mae') return val;
  const mask = (_PAGE_MTMASK_THEAD >> ALT_THEAD_PBMT_SHIFT) << ALT_THEAD_PBMT_SHIFT;
  if ((val & mask) !== 0n) return val;
  return val | ((_PAGE_PMA_THEAD >> ALT_THEAD_PBMT_SHIFT) << ALT_THEAD_PBMT_SHIFT);
}

/** arch/riscv/include/asm/pgtable-64.h riscv_page_nocache (v5.19–6.6): runtime _PAGE_NOCACHE. */
export function riscv_page_nocache(cfg: MemTypeConfig): bigint {
  kenter('riscv_page_nocache');
  try {
    return ALT_SVPBMT(_PAGE_NOCACHE_SVPBMT, cfg.scheme === 'thead-mae' ? _PAGE_NOCACHE_THEAD(cfg) : 0n, cfg);
  } finally {
    kexit();
  }
}

/** arch/riscv/include/asm/pgtable-64.h riscv_page_io (v5.19–6.6): runtime _PAGE_IO. */
export function riscv_page_io(cfg: MemTypeConfig): bigint {
  kenter('riscv_page_io');
  try {
    return ALT_SVPBMT(_PAGE_IO_SVPBMT, _PAGE_IO_THEAD(cfg), cfg);
  } finally {
    kexit();
  }
}

/** arch/riscv/include/asm/pgtable-64.h riscv_page_mtmask (v5.19–6.6): runtime _PAGE_MTMASK. */
export function riscv_page_mtmask(cfg: MemTypeConfig): bigint {
  kenter('riscv_page_mtmask');
  try {
    return ALT_SVPBMT(_PAGE_MTMASK_SVPBMT, _PAGE_MTMASK_THEAD, cfg);
  } finally {
    kexit();
  }
}

/** The memory-type mask without tracing (for masks used inside other helpers). */
function mtmaskOf(cfg: MemTypeConfig): bigint {
  if (cfg.scheme === 'vendor-5.10-static') return _PAGE_SEC | _PAGE_SHARE | _PAGE_BUF | _PAGE_CACHE | _PAGE_SO;
  return ALT_SVPBMT(_PAGE_MTMASK_SVPBMT, _PAGE_MTMASK_THEAD, cfg);
}

/**
 * pgtable-bits.h _PAGE_CHG_MASK (5.10 vendor, 5.19–6.6): bits pte_modify keeps.
 * Mainline drops V,R,W,X,U,G and the runtime MT mask; the vendor BSP drops
 * V,R,W,X,U,G and its five static MAE bits. (Plain 5.10 has no MT mask; with
 * scheme 'none' the runtime mask is 0, so the same expression covers it.)
 */
export function _PAGE_CHG_MASK(cfg: MemTypeConfig): bigint {
  const base = _PAGE_PRESENT | _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC | _PAGE_USER | _PAGE_GLOBAL;
  return u64(~(base | mtmaskOf(cfg)));
}

/** arch/riscv/include/asm/pgtable.h _PAGE_KERNEL (5.10 vendor: + CACHE|SHARE|BUF statically; mainline: none). */
export function _PAGE_KERNEL(cfg: MemTypeConfig): bigint {
  const k = _PAGE_READ | _PAGE_WRITE | _PAGE_PRESENT | _PAGE_GLOBAL | _PAGE_ACCESSED | _PAGE_DIRTY;
  return cfg.scheme === 'vendor-5.10-static' ? k | _PAGE_CACHE | _PAGE_SHARE | _PAGE_BUF : k;
}

/** arch/riscv/include/asm/pgtable.h PAGE_KERNEL (5.10 vendor, 5.10, 6.6). */
export function PAGE_KERNEL(cfg: MemTypeConfig): pgprot_t {
  return __pgprot(_PAGE_KERNEL(cfg));
}

/**
 * arch/riscv/include/asm/pgtable.h PAGE_KERNEL_IO / _PAGE_IOREMAP (5.10 vendor:
 * R|W|V|G|A|D|SHARE|SO; 6.6: (_PAGE_KERNEL & ~MTMASK) | _PAGE_IO; plain 5.10: _PAGE_KERNEL).
 */
export function PAGE_KERNEL_IO(cfg: MemTypeConfig): pgprot_t {
  const k = _PAGE_READ | _PAGE_WRITE | _PAGE_PRESENT | _PAGE_GLOBAL | _PAGE_ACCESSED | _PAGE_DIRTY;
  if (cfg.scheme === 'vendor-5.10-static') return __pgprot(k | _PAGE_SHARE | _PAGE_SO);
  return __pgprot((_PAGE_KERNEL(cfg) & ~mtmaskOf(cfg)) | ALT_SVPBMT(_PAGE_IO_SVPBMT, _PAGE_IO_THEAD(cfg), cfg));
}

// ---------------------------------------------------------------------------
// pgprot helpers

/**
 * arch/riscv/include/asm/pgtable.h pgprot_noncached (vendor 5.10: clear CACHE|BUF,
 * OR SO; 5.19–6.6: clear _PAGE_MTMASK, OR _PAGE_IO; plain 5.10 has none, the
 * generic fallback returns prot — scheme 'none' computes the same).
 */
export function pgprot_noncached(prot: pgprot_t, cfg: MemTypeConfig): pgprot_t {
  kenter('pgprot_noncached');
  try {
    const v = pgprot_val(prot);
    if (cfg.scheme === 'vendor-5.10-static') {
      knote('vendor 5.10: static SO');
      return __pgprot((v & ~(_PAGE_CACHE | _PAGE_BUF)) | _PAGE_SO);
    }
    return __pgprot((v & ~riscv_page_mtmask(cfg)) | riscv_page_io(cfg));
  } finally {
    kexit();
  }
}

/**
 * arch/riscv/include/asm/pgtable.h pgprot_writecombine (vendor 5.10: clear
 * CACHE|BUF, leaving SH = non-bufferable NC; 5.19–6.6: clear MTMASK, OR _PAGE_NOCACHE).
 * On T-Head 5.19–6.6 _PAGE_NOCACHE is 0, so ALT_THEAD_PMA later makes this cacheable.
 */
export function pgprot_writecombine(prot: pgprot_t, cfg: MemTypeConfig): pgprot_t {
  kenter('pgprot_writecombine');
  try {
    const v = pgprot_val(prot);
    if (cfg.scheme === 'vendor-5.10-static') {
      knote('vendor 5.10: clear CACHE|BUF');
      return __pgprot(v & ~(_PAGE_CACHE | _PAGE_BUF));
    }
    return __pgprot((v & ~riscv_page_mtmask(cfg)) | riscv_page_nocache(cfg));
  } finally {
    kexit();
  }
}

/**
 * include/linux/dma-map-ops.h pgprot_dmacoherent (vendor 5.10: the BSP defines it
 * as pgprot_writecombine; mainline riscv leaves it undefined, so the generic
 * fallback pgprot_noncached applies).
 */
export function pgprot_dmacoherent(prot: pgprot_t, cfg: MemTypeConfig): pgprot_t {
  kenter('pgprot_dmacoherent');
  try {
    if (cfg.faults.has('pgprot-dmacoherent-cacheable')) {
      knote('fault pgprot-dmacoherent-cacheable: prot returned unchanged');
      return prot;
    }
    if (cfg.scheme === 'vendor-5.10-static') {
      knote('vendor 5.10: pgprot_dmacoherent = pgprot_writecombine');
      return pgprot_writecombine(prot, cfg);
    }
    knote('generic: pgprot_dmacoherent = pgprot_noncached');
    return pgprot_noncached(prot, cfg);
  } finally {
    kexit();
  }
}

/** include/linux/pgtable.h pgprot_nx (5.10, 6.6): riscv has no override, so the generic identity. */
export function pgprot_nx(prot: pgprot_t): pgprot_t {
  return prot;
}

/** include/linux/dma-mapping.h DMA_ATTR_WRITE_COMBINE (5.10, 6.6). */
const DMA_ATTR_WRITE_COMBINE = 1 << 2;

/**
 * kernel/dma/mapping.c dma_pgprot (5.10, 6.6). 5.10 first applies
 * pgprot_decrypted when force_dma_unencrypted(), which is never true on riscv;
 * 6.6 dropped that step. riscv selects no ARCH_HAS_DMA_WRITE_COMBINE, so
 * DMA_ATTR_WRITE_COMBINE changes nothing and a non-coherent device always gets
 * pgprot_dmacoherent.
 */
export function dma_pgprot(prot: pgprot_t, attrs: number, coherent: boolean, kernel: KernelVersion, cfg: MemTypeConfig): pgprot_t {
  kenter('dma_pgprot');
  try {
    if (kernel === '5.10') knote('5.10: force_dma_unencrypted is false on riscv');
    if (coherent) {
      knote('coherent device: prot unchanged');
      return prot;
    }
    if ((attrs & DMA_ATTR_WRITE_COMBINE) !== 0) knote('DMA_ATTR_WRITE_COMBINE ignored: no ARCH_HAS_DMA_WRITE_COMBINE on riscv');
    return pgprot_dmacoherent(prot, cfg);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------------------
// Building and reading PTEs

const PFN_SHIFT_N = BigInt(_PAGE_PFN_SHIFT);
function leafVal(pfn: number, prot: pgprot_t, cfg: MemTypeConfig, thead_pma: boolean, quiet = false): bigint {
  if (!Number.isInteger(pfn) || pfn < 0) throw new ModelError(`pfn ${pfn} is not a page frame number`);
  const v = pgprot_val(prot);
  const p = !thead_pma ? v : quiet ? theadPma(v, cfg) : ALT_THEAD_PMA(v, cfg);
  return u64((BigInt(pfn) << PFN_SHIFT_N) | p);
}

/** arch/riscv/include/asm/pgtable.h pfn_pte (vendor 5.10: pfn<<10 | prot; 5.19–6.6: after ALT_THEAD_PMA). */
export function pfn_pte(pfn: number, prot: pgprot_t, cfg: MemTypeConfig): pte_t {
  kenter('pfn_pte');
  try {
    return __pte(leafVal(pfn, prot, cfg, true));
  } finally {
    kexit();
  }
}

/** arch/riscv/include/asm/pgtable.h mk_pte (5.10, 6.6): pfn_pte(page_to_pfn(page), prot); pages are PFNs in the model. */
export function mk_pte(pfn: number, prot: pgprot_t, cfg: MemTypeConfig): pte_t {
  kenter('mk_pte');
  try {
    return pfn_pte(pfn, prot, cfg);
  } finally {
    kexit();
  }
}

/** arch/riscv/include/asm/pgtable.h pfn_pmd (5.10, 6.6): like pfn_pte, ALT_THEAD_PMA included. */
export function pfn_pmd(pfn: number, prot: pgprot_t, cfg: MemTypeConfig): bigint {
  kenter('pfn_pmd');
  try {
    return leafVal(pfn, prot, cfg, true);
  } finally {
    kexit();
  }
}

/** arch/riscv/include/asm/pgtable.h pfn_pgd (5.10, 6.6): like pfn_pte, ALT_THEAD_PMA included. */
export function pfn_pgd(pfn: number, prot: pgprot_t, cfg: MemTypeConfig): bigint {
  kenter('pfn_pgd');
  try {
    return leafVal(pfn, prot, cfg, true);
  } finally {
    kexit();
  }
}

/**
 * arch/riscv/include/asm/pgtable-64.h pfn_pud (5.19–6.6): no ALT_THEAD_PMA, so a
 * prot without MT bits gives MT=00000 (non-cacheable on an MAEE hart).
 */
export function pfn_pud(pfn: number, prot: pgprot_t, cfg: MemTypeConfig): bigint {
  kenter('pfn_pud');
  try {
    return leafVal(pfn, prot, cfg, false);
  } finally {
    kexit();
  }
}

/**
 * arch/riscv/include/asm/pgtable.h pte_pfn (vendor 5.10: (val & _PAGE_CHG_MASK) >> 10;
 * 5.19–6.6: (val & _PAGE_PFN_MASK) >> 10). Plain 5.10 shifted without masking,
 * which agrees because it never sets bits above 53.
 */
export function pte_pfn(pte: pte_t, cfg: MemTypeConfig): number {
  const v = pte_val(pte);
  const m = cfg.scheme === 'vendor-5.10-static' ? _PAGE_CHG_MASK(cfg) : _PAGE_PFN_MASK;
  return Number((v & m) >> BigInt(_PAGE_PFN_SHIFT));
}

/** arch/riscv/include/asm/pgtable.h pte_present (5.10, 6.6): V or the version's PROT_NONE bit. */
export function pte_present(pte: pte_t, kernel: KernelVersion): boolean {
  return (pte_val(pte) & (_PAGE_PRESENT | _PAGE_PROT_NONE(kernel))) !== 0n;
}

/** arch/riscv/include/asm/pgtable.h pte_none (5.10, 6.6). */
export function pte_none(pte: pte_t): boolean {
  return pte_val(pte) === 0n;
}

/** arch/riscv/include/asm/pgtable.h pte_exec (5.10, 6.6). */
export function pte_exec(pte: pte_t): boolean {
  return (pte_val(pte) & _PAGE_EXEC) !== 0n;
}

/** arch/riscv/include/asm/pgtable.h pte_modify (vendor 5.10; 5.19–6.6 adds ALT_THEAD_PMA on the new prot). */
export function pte_modify(pte: pte_t, newprot: pgprot_t, cfg: MemTypeConfig): pte_t {
  kenter('pte_modify');
  try {
    const np = ALT_THEAD_PMA(pgprot_val(newprot), cfg);
    return __pte((pte_val(pte) & _PAGE_CHG_MASK(cfg)) | np);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------------------
// Sv39 page tables (p4d and pud fold into pgd, as the kernel folds them)

export const PGDIR_SHIFT = 30;
export const PMD_SHIFT = 21;
export const PTRS_PER_PGD = 512;
export const PTRS_PER_PMD = 512;
export const PTRS_PER_PTE = 512;
export const PGDIR_SIZE = 1n << BigInt(PGDIR_SHIFT);
export const PMD_SIZE = 1n << BigInt(PMD_SHIFT);
/** Folded levels: a p4d/pud spans a whole pgd entry. */
export const P4D_SIZE = PGDIR_SIZE;
export const PUD_SIZE = PGDIR_SIZE;

export type PageTableLevel = 'pgd' | 'pmd' | 'pte';

/**
 * One page-table page, sparse. An entry is a raw value (leaf or zero) or, for a
 * pointer to the next level, the child table itself: the model does not give
 * page-table pages physical addresses, because the hardware walker's reads are
 * not part of what the reference checks.
 */
export interface PageTable {
  readonly level: PageTableLevel;
  /** Replaced, never mutated, while it is shared with a boot image (see writableEntries). */
  entries: Map<number, bigint | PageTable>;
}

/** A pointer to one entry (pgd_t *, p4d_t *, pud_t *, pmd_t *, pte_t *). */
export interface EntryPtr {
  readonly table: PageTable;
  readonly index: number;
}

function newTable(level: PageTableLevel): PageTable {
  return { level, entries: new Map() };
}

/** Per-version Sv39 kernel layout. */
export interface Sv39Layout {
  readonly PAGE_OFFSET: bigint;
  readonly VMALLOC_START: bigint;
  /** As the kernel defines it: 5.10 PAGE_OFFSET - 1, 6.6 PAGE_OFFSET; used as an exclusive bound by vmalloc. */
  readonly VMALLOC_END: bigint;
  /** Bytes of physical memory the linear map can cover. */
  readonly linearMapSize: bigint;
}

const GiB = 1n << 30n;

/**
 * arch/riscv/include/asm/page.h + pgtable.h Sv39 layout.
 * 5.10: PAGE_OFFSET = CONFIG_PAGE_OFFSET 0xffffffe000000000, KERN_VIRT_SIZE =
 *   -PAGE_OFFSET (128 GiB), VMALLOC_SIZE = half of it, VMALLOC_END = PAGE_OFFSET - 1.
 * 6.6: PAGE_OFFSET_L3 0xffffffd800000000, KERN_VIRT_SIZE = (512/2 * 1 GiB)/2 =
 *   128 GiB, VMALLOC 0xffffffc800000000..PAGE_OFFSET (VMALLOC_END = PAGE_OFFSET
 *   since Ghiti's fix), direct map 124 GiB (vm-layout.rst).
 */
export const SV39_LAYOUT: Readonly<Record<KernelVersion, Sv39Layout>> = Object.freeze({
  '5.10': Object.freeze({
    PAGE_OFFSET: 0xffffffe000000000n,
    VMALLOC_START: 0xffffffe000000000n - 64n * GiB,
    VMALLOC_END: 0xffffffe000000000n - 1n,
    linearMapSize: 128n * GiB,
  }),
  '6.6': Object.freeze({
    PAGE_OFFSET: 0xffffffd800000000n,
    VMALLOC_START: 0xffffffd800000000n - 64n * GiB,
    VMALLOC_END: 0xffffffd800000000n,
    linearMapSize: 124n * GiB,
  }),
});

/** Model helper: Sv39 requires bits 63..39 to equal bit 38. */
export function sv39Canonical(va: bigint): boolean {
  const top = u64(va) >> 38n;
  return top === 0n || top === (1n << 26n) - 1n;
}

/** The kernel address space the model keeps: init_mm plus what mm/vmalloc.c keeps as globals. */
export interface MmStruct {
  readonly pgd: PageTable;
  readonly kernel: KernelVersion;
  readonly cfg: MemTypeConfig;
  readonly layout: Sv39Layout;
  /** Lowest physical address of the linear map (5.10: the kernel load address; 6.6: DRAM start & PMD_MASK). */
  readonly phys_ram_base: bigint;
  /** PAGE_OFFSET - phys_ram_base. */
  readonly va_pa_offset: bigint;
  /** RAM banks (pfn_valid, linear-map coverage); null = everything from phys_ram_base. */
  readonly memory: readonly MemoryRange[] | null;
  readonly totalram_pages: number;
  readonly num_online_cpus: number;
  /** Page-table pages allocated after boot (pmd and pte tables). */
  pgtable_pages: number;
  /** Model knob: page-table allocations fail once pgtable_pages reaches this; null = never. */
  pgtable_alloc_limit: number | null;
  /** mm/vmalloc.c state, created by vmalloc.ts on first use. */
  vmalloc?: VmallocState;
  /** Model: `current`, the task mapping (its atomic state is what might_sleep checks); absent = no check. */
  current?: task_struct;
}

export interface InitMmOptions {
  kernel: KernelVersion;
  phys_ram_base: bigint;
  memory?: readonly MemoryRange[];
  totalram_pages?: number;
  num_online_cpus?: number;
  pgtable_alloc_limit?: number | null;
}

/**
 * Model constructor for init_mm (mm/init-mm.c) with swapper_pg_dir. 6.6 also
 * pre-allocates the vmalloc area's second-level tables at boot
 * (preallocate_pgd_pages_range), so later vmaps never populate a pgd entry.
 */
export function createInitMm(cfg: MemTypeConfig, opts: InitMmOptions): MmStruct {
  const { kernel } = opts;
  if (cfg.scheme === 'vendor-5.10-static' && kernel !== '5.10') throw new ModelError('vendor-5.10-static needs kernel 5.10');
  if ((cfg.scheme === 'svpbmt' || cfg.scheme === 'thead-mae') && kernel === '5.10') {
    throw new ModelError(`scheme ${cfg.scheme} needs a v5.19+ kernel (6.6 in the model)`);
  }
  let base = opts.phys_ram_base;
  if (kernel === '6.6') base &= ~(PMD_SIZE - 1n); // setup_bootmem: phys_ram_base = memblock_start_of_DRAM() & PMD_MASK
  else if ((base & (PMD_SIZE - 1n)) !== 0n) throw new ModelError(`5.10 load address ${hex(base)} must be 2 MiB aligned`);
  const layout = SV39_LAYOUT[kernel];
  const totalram = opts.totalram_pages ?? (opts.memory ? Number(opts.memory.reduce((s, b) => s + b.size, 0n) >> BigInt(PAGE_SHIFT)) : 1 << 20);
  const mm: MmStruct = {
    pgd: newTable('pgd'),
    kernel,
    cfg,
    layout,
    phys_ram_base: base,
    va_pa_offset: u64(layout.PAGE_OFFSET - base),
    memory: opts.memory ?? null,
    totalram_pages: totalram,
    num_online_cpus: opts.num_online_cpus ?? 1,
    pgtable_pages: 0,
    pgtable_alloc_limit: opts.pgtable_alloc_limit ?? null,
  };
  if (kernel === '6.6') preallocate_pgd_pages_range(mm, layout.VMALLOC_START, layout.VMALLOC_END);
  return mm;
}

/** arch/riscv/mm/init.c preallocate_pgd_pages_range (6.6): boot-time second-level tables for a kernel range. */
export function preallocate_pgd_pages_range(mm: MmStruct, start: bigint, end: bigint): void {
  kenter('preallocate_pgd_pages_range');
  try {
    for (let a = start; a < end; a = ((a >> BigInt(PGDIR_SHIFT)) + 1n) << BigInt(PGDIR_SHIFT)) {
      const i = pgd_index(a);
      if (!mm.pgd.entries.has(i)) writableEntries(mm.pgd).set(i, newTable('pmd'));
    }
  } finally {
    kexit();
  }
}

export function pgd_index(addr: bigint): number {
  return Number((u64(addr) >> BigInt(PGDIR_SHIFT)) & BigInt(PTRS_PER_PGD - 1));
}
export function pmd_index(addr: bigint): number {
  return Number((u64(addr) >> BigInt(PMD_SHIFT)) & BigInt(PTRS_PER_PMD - 1));
}
export function pte_index(addr: bigint): number {
  return Number((u64(addr) >> BigInt(PAGE_SHIFT)) & BigInt(PTRS_PER_PTE - 1));
}

function addrEnd(addr: bigint, end: bigint, size: bigint): bigint {
  const boundary = u64((addr + size) & ~(size - 1n));
  // The kernel compares boundary - 1 < end - 1 so that a range ending at 2^64 (end == 0) works.
  return u64(boundary - 1n) < u64(end - 1n) ? boundary : end;
}
/** include/linux/pgtable.h pgd_addr_end (5.10, 6.6). */
export function pgd_addr_end(addr: bigint, end: bigint): bigint {
  return addrEnd(addr, end, PGDIR_SIZE);
}
/** include/asm-generic/pgtable-nop4d.h p4d_addr_end (5.10; 6.6 runtime-folded on Sv39): folded, returns end. */
export function p4d_addr_end(_addr: bigint, end: bigint): bigint {
  return end;
}
/** include/asm-generic/pgtable-nopud.h pud_addr_end (5.10; 6.6 runtime-folded on Sv39): folded, returns end. */
export function pud_addr_end(_addr: bigint, end: bigint): bigint {
  return end;
}
/** include/linux/pgtable.h pmd_addr_end (5.10, 6.6). */
export function pmd_addr_end(addr: bigint, end: bigint): bigint {
  return addrEnd(addr, end, PMD_SIZE);
}

/** Model helper: the raw content of an entry (0n when empty). */
export function entryAt(p: EntryPtr): bigint | PageTable {
  return p.table.entries.get(p.index) ?? 0n;
}

function writeEntry(p: EntryPtr, v: bigint | PageTable): void {
  const entries = writableEntries(p.table);
  if (v === 0n) entries.delete(p.index);
  else entries.set(p.index, v);
}

// Copy-on-write page tables. Copying the boot image (reference/boot-image.ts)
// spent most of its time re-building the thousands of PTEs the boot wrote,
// which a sequence rarely touches. A table whose entries are all leaf values
// can share its entries Map with the image; the first write gives the table
// its own copy. Maps holding child tables are never shared: the children are
// per-machine objects.
const cowEntries = new WeakSet<Map<number, bigint | PageTable>>();

/** Model helper: the table's entries, made private to this machine first if shared. */
export function writableEntries(t: PageTable): Map<number, bigint | PageTable> {
  if (cowEntries.has(t.entries)) t.entries = new Map(t.entries);
  return t.entries;
}

/** Model helper: mark every leaf-only entries Map under the pgd copy-on-write; returns them (for cloneGraph's shared set). */
export function shareLeafTables(mm: MmStruct): Map<number, bigint | PageTable>[] {
  const out: Map<number, bigint | PageTable>[] = [];
  const visit = (t: PageTable): void => {
    let leafOnly = true;
    for (const e of t.entries.values()) {
      if (typeof e !== 'bigint') {
        leafOnly = false;
        visit(e);
      }
    }
    if (leafOnly) {
      cowEntries.add(t.entries);
      out.push(t.entries);
    }
  };
  visit(mm.pgd);
  return out;
}

/** include/linux/pgtable.h pgd_offset_k (5.10, 6.6): pgd_offset(&init_mm, addr). */
export function pgd_offset_k(mm: MmStruct, addr: bigint): EntryPtr {
  return { table: mm.pgd, index: pgd_index(addr) };
}
/** include/asm-generic/pgtable-nop4d.h p4d_offset (Sv39: folded, the pgd entry itself). */
export function p4d_offset(pgd: EntryPtr, _addr: bigint): EntryPtr {
  return pgd;
}
/** include/asm-generic/pgtable-nopud.h pud_offset (Sv39: folded, the pgd entry itself). */
export function pud_offset(p4d: EntryPtr, _addr: bigint): EntryPtr {
  return p4d;
}
/** arch/riscv/include/asm/pgtable-64.h pmd_offset (5.10, 6.6). Misuse on a non-table entry is a ModelError. */
export function pmd_offset(pud: EntryPtr, addr: bigint): EntryPtr {
  const e = entryAt(pud);
  if (typeof e === 'bigint') throw new ModelError(`pmd_offset on a pud entry that is not a table (${hex(e)})`);
  return { table: e, index: pmd_index(addr) };
}
/** include/linux/pgtable.h pte_offset_kernel (5.10, 6.6). Misuse on a non-table entry is a ModelError. */
export function pte_offset_kernel(pmd: EntryPtr, addr: bigint): EntryPtr {
  const e = entryAt(pmd);
  if (typeof e === 'bigint') throw new ModelError(`pte_offset_kernel on a pmd entry that is not a table (${hex(e)})`);
  return { table: e, index: pte_index(addr) };
}

/** Folded levels: pgd_none/p4d_none are constant 0 on Sv39 (pgtable-nop4d.h / nopud.h; 6.6 runtime-folded). */
export function pgd_none(_pgd: EntryPtr): boolean {
  return false;
}
export function p4d_none(_p4d: EntryPtr): boolean {
  return false;
}
/** arch/riscv/include/asm/pgtable-64.h pud_none (5.10, 6.6): the real Sv39 first-level entry. */
export function pud_none(pud: EntryPtr): boolean {
  return entryAt(pud) === 0n;
}
/** arch/riscv/include/asm/pgtable.h pmd_none (5.10, 6.6). */
export function pmd_none(pmd: EntryPtr): boolean {
  return entryAt(pmd) === 0n;
}
/** Model helper: an entry that holds a leaf (pud/pmd huge mapping) rather than a table. */
export function entryIsLeaf(p: EntryPtr): boolean {
  const e = entryAt(p);
  return typeof e === 'bigint' && e !== 0n && (e & _PAGE_LEAF) !== 0n;
}

function allocTablePage(mm: MmStruct): boolean {
  if (mm.pgtable_alloc_limit !== null && mm.pgtable_pages >= mm.pgtable_alloc_limit) return false;
  mm.pgtable_pages++;
  return true;
}

/** include/linux/mm.h p4d_alloc (Sv39: folded, never allocates). */
export function p4d_alloc(_mm: MmStruct, pgd: EntryPtr, addr: bigint): EntryPtr | null {
  return p4d_offset(pgd, addr);
}
/** include/linux/mm.h pud_alloc (Sv39: folded, never allocates). */
export function pud_alloc(_mm: MmStruct, p4d: EntryPtr, addr: bigint): EntryPtr | null {
  return pud_offset(p4d, addr);
}

/** mm/memory.c __pmd_alloc (5.10, 6.6): a new pmd table, populated only if the pud is still empty. */
export function __pmd_alloc(mm: MmStruct, pud: EntryPtr, _addr: bigint): number {
  kenter('__pmd_alloc');
  try {
    if (!allocTablePage(mm)) return -ENOMEM;
    if (pud_none(pud)) writeEntry(pud, newTable('pmd')); // pud_populate
    else mm.pgtable_pages--; // someone else populated it: pmd_free
    return 0;
  } finally {
    kexit();
  }
}

/** include/linux/mm.h pmd_alloc (5.10, 6.6): NULL when the table cannot be allocated. */
export function pmd_alloc(mm: MmStruct, pud: EntryPtr, addr: bigint): EntryPtr | null {
  if (pud_none(pud) && __pmd_alloc(mm, pud, addr) !== 0) return null;
  return pmd_offset(pud, addr);
}

/** mm/memory.c __pte_alloc_kernel (5.10, 6.6). */
export function __pte_alloc_kernel(mm: MmStruct, pmd: EntryPtr): number {
  kenter('__pte_alloc_kernel');
  try {
    if (!allocTablePage(mm)) return -ENOMEM;
    if (pmd_none(pmd)) writeEntry(pmd, newTable('pte')); // pmd_populate_kernel
    else mm.pgtable_pages--;
    return 0;
  } finally {
    kexit();
  }
}

/** include/linux/mm.h pte_alloc_kernel (5.10, 6.6); the kernel's implicit init_mm is the `mm` argument. */
export function pte_alloc_kernel(mm: MmStruct, pmd: EntryPtr, addr: bigint): EntryPtr | null {
  if (pmd_none(pmd) && __pte_alloc_kernel(mm, pmd) !== 0) return null;
  return pte_offset_kernel(pmd, addr);
}

/** include/linux/pgtable.h ptep_get (6.6; 5.10 dereferences the pointer): the PTE at ptep. */
export function ptep_get(ptep: EntryPtr): pte_t {
  const e = entryAt(ptep);
  if (typeof e !== 'bigint') throw new ModelError('ptep_get on an entry holding a table');
  return __pte(e);
}

/**
 * arch/riscv/include/asm/pgtable.h set_pte (5.10, 6.6): a plain 64-bit store.
 * No data-cache maintenance: the memory type belongs to the translation, not to
 * the cached data, so making an uncached alias coherent is the caller's job
 * (arch_dma_prep_coherent flushed the linear alias first). No sfence.vma either:
 * the kernel fences separately (5.10: the vmalloc fault path; 6.6:
 * flush_cache_vmap = flush_tlb_kernel_range), and the model has no TLB.
 */
export function set_pte(ptep: EntryPtr, pte: pte_t): void {
  kenter('set_pte');
  try {
    if (ptep.table.level !== 'pte') throw new ModelError(`set_pte into a ${ptep.table.level} table`);
    writeEntry(ptep, pte_val(pte));
  } finally {
    kexit();
  }
}

/**
 * arch/riscv/include/asm/pgtable.h set_pte_at (5.10; in 6.6 a macro for
 * set_ptes(mm, addr, ptep, pte, 1)): for a present executable PTE,
 * flush_icache_pte (I-cache only), then set_pte. 6.6's page_table_check hook
 * only looks at user mms. As set_pte: no D-cache maintenance, no sfence.vma.
 */
export function set_pte_at(mm: MmStruct, _addr: bigint, ptep: EntryPtr, pte: pte_t): void {
  kenter(mm.kernel === '5.10' ? 'set_pte_at' : 'set_ptes');
  try {
    if (pte_present(pte, mm.kernel) && pte_exec(pte)) knote('flush_icache_pte (I-cache only)');
    set_pte(ptep, pte);
  } finally {
    kexit();
  }
}

/** arch/riscv/include/asm/pgtable.h ptep_get_and_clear (5.10, 6.6): atomic exchange with 0. */
export function ptep_get_and_clear(_mm: MmStruct, _addr: bigint, ptep: EntryPtr): pte_t {
  kenter('ptep_get_and_clear');
  try {
    const old = ptep_get(ptep);
    writeEntry(ptep, 0n);
    return old;
  } finally {
    kexit();
  }
}

/** arch/riscv/include/asm/pgtable.h pte_clear (5.10, 6.6): set_pte_at(mm, addr, ptep, __pte(0)). */
export function pte_clear(mm: MmStruct, addr: bigint, ptep: EntryPtr): void {
  set_pte_at(mm, addr, ptep, __pte(0n));
}

// ---------------------------------------------------------------------------
// Linear map and translation

/** Model helper: is this PFN backed by a RAM bank (pfn_valid: has a struct page)? */
export function pfn_valid(mm: MmStruct, pfn: number): boolean {
  if (mm.memory === null) return PFN_PHYS(pfn) >= mm.phys_ram_base;
  // Hot (every vmap'd page): the banks as PFN numbers, computed once per address space.
  let banks = pfnBanks.get(mm);
  if (banks === undefined) {
    banks = mm.memory.map((b) => [PHYS_PFN(b.base), PHYS_PFN(b.base + b.size)] as const);
    pfnBanks.set(mm, banks);
  }
  for (const [lo, hi] of banks) if (pfn >= lo && pfn < hi) return true;
  return false;
}
const pfnBanks = new WeakMap<MmStruct, ReadonlyArray<readonly [number, number]>>();

/**
 * Model helper: the physical address behind [va, va + len) when the whole range
 * lies in the linear map over one RAM bank, so every page of it translates, and
 * contiguously; null otherwise (callers then walk page by page). Exact, not a guess:
 * linear-map translation is arithmetic and pfn_valid is membership in a bank.
 */
export function linearRangePa(mm: MmStruct, va: bigint, len: bigint): bigint | null {
  if (len <= 0n || !linearContains(mm, va) || !linearContains(mm, va + len - 1n)) return null;
  const pa = u64(va) - mm.va_pa_offset;
  if (mm.memory === null) return pa >= mm.phys_ram_base ? pa : null;
  const paLastPage = (pa + len - 1n) & ~(PAGE_SIZE_N - 1n);
  const pageStart = pa & ~(PAGE_SIZE_N - 1n);
  for (const b of mm.memory) if (pageStart >= b.base && paLastPage < b.base + b.size) return pa;
  return null;
}

/** The linear map's leaf attribute bits (PAGE_KERNEL after ALT_THEAD_PMA) do not depend on the page: computed once. */
const linearAttrCache = new WeakMap<MemTypeConfig, bigint>();
function linearLeafAttr(cfg: MemTypeConfig): bigint {
  let a = linearAttrCache.get(cfg);
  if (a === undefined) linearAttrCache.set(cfg, (a = leafVal(0, PAGE_KERNEL(cfg), cfg, true, true)));
  return a;
}

function linearContains(mm: MmStruct, va: bigint): boolean {
  const v = u64(va);
  return v >= mm.layout.PAGE_OFFSET && v - mm.layout.PAGE_OFFSET < mm.layout.linearMapSize;
}

/** Model helper: does the linear map cover this VA with RAM behind it? */
export function isLinearMapAddr(mm: MmStruct, va: bigint): boolean {
  if (!linearContains(mm, va)) return false;
  return pfn_valid(mm, PHYS_PFN(u64(va) - mm.va_pa_offset));
}

/**
 * arch/riscv/include/asm/page.h virt_to_phys / __pa for the linear map (5.10,
 * 6.6). Any other address is model misuse (the kernel would compute garbage).
 */
export function virt_to_phys(mm: MmStruct, va: bigint): bigint {
  if (!linearContains(mm, va)) throw new ModelError(`virt_to_phys(${hex(va)}): not a linear-map address`);
  return u64(va) - mm.va_pa_offset;
}

/** arch/riscv/include/asm/page.h phys_to_virt / __va (5.10, 6.6). */
export function phys_to_virt(mm: MmStruct, pa: bigint): bigint {
  if (pa < mm.phys_ram_base || pa - mm.phys_ram_base >= mm.layout.linearMapSize) {
    throw new ModelError(`phys_to_virt(${hex(pa)}): outside the linear map`);
  }
  return u64(pa + mm.va_pa_offset);
}

/** include/linux/mm.h page_address (5.10, 6.6; no HIGHMEM on riscv64): the linear-map address of a page. */
export function page_address(mm: MmStruct, pfn: number): bigint {
  return phys_to_virt(mm, PFN_PHYS(pfn));
}

/** arch/riscv/include/asm/page.h virt_addr_valid (5.10, 6.6): a linear-map address of a valid PFN. */
export function virt_addr_valid(mm: MmStruct, va: bigint): boolean {
  return isLinearMapAddr(mm, va);
}

export interface Translation {
  /** The leaf entry the hardware walker would use. */
  pte: bigint;
  pa: bigint;
  level: PageTableLevel;
  /** True when the leaf is the (lazily computed) linear map. */
  linear: boolean;
}

/**
 * Model helper: the Sv39 hardware walk. The linear map is not stored: its leaf
 * is computed on demand as the 2 MiB PMD leaf setup_vm/create_pmd_mapping
 * would build with PAGE_KERNEL through pfn_pmd (which applies ALT_THEAD_PMA, so
 * its bits equal pfn_pte's). Everything else (vmalloc area) is walked from the
 * stored tables. null = no valid translation (page fault).
 */
export function walkPageTable(mm: MmStruct, va: bigint): Translation | null {
  const v = u64(va);
  if (!sv39Canonical(v)) return null;
  if (linearContains(mm, v)) {
    const pa = v - mm.va_pa_offset;
    if (!pfn_valid(mm, PHYS_PFN(pa))) return null;
    const leafPa = pa & ~(PMD_SIZE - 1n);
    // Same value as leafVal(PHYS_PFN(leafPa), PAGE_KERNEL, ..): pfn << _PAGE_PFN_SHIFT | attributes.
    return { pte: ((leafPa >> BigInt(PAGE_SHIFT)) << BigInt(_PAGE_PFN_SHIFT)) | linearLeafAttr(mm.cfg), pa, level: 'pmd', linear: true };
  }
  let table: PageTable = mm.pgd;
  for (let level = 0; level < 3; level++) {
    const idx = level === 0 ? pgd_index(v) : level === 1 ? pmd_index(v) : pte_index(v);
    const e = table.entries.get(idx);
    if (e === undefined) return null;
    if (typeof e !== 'bigint') {
      table = e;
      continue;
    }
    if ((e & _PAGE_PRESENT) === 0n) return null;
    if ((e & _PAGE_LEAF) === 0n) return null; // a raw non-leaf pointer value: the model never stores one
    const size = WALK_SIZES[level];
    const base = ((e & _PAGE_PFN_MASK) >> BigInt(_PAGE_PFN_SHIFT)) << BigInt(PAGE_SHIFT);
    return { pte: e, pa: (base & ~(size - 1n)) + (v & (size - 1n)), level: table.level, linear: false };
  }
  return null;
}

/** Bytes a leaf maps at each walk level (pgd, pmd, pte). */
const WALK_SIZES: readonly bigint[] = [PGDIR_SIZE, PMD_SIZE, PAGE_SIZE_N];

// ---------------------------------------------------------------------------
// How a hart reads the bits

export interface HartMode {
  /** th.mxstatus.MAEE: XTheadMae attributes in PTE bits 63:59. */
  maee: boolean;
  /** menvcfg.PBMTE: standard Svpbmt in bits 62:61. */
  pbmte: boolean;
}

export type MemKind = 'cacheable' | 'noncacheable' | 'io';

export interface HartMemoryType {
  /** Meaningless when `fault` is set (the access never happens); then 'cacheable' (the RAM PMA). */
  kind: MemKind;
  /** Why the hart takes a page fault on this PTE. */
  fault?: string;
  /** MAEE only: the SO/C/B/SH combination is not one of the C910 UM Table 6.1 rows. */
  unlisted?: string;
}

function maeBits(v: bigint): string {
  return [63n, 62n, 61n, 60n, 59n].map((b) => ((v >> b) & 1n).toString()).join('');
}

/**
 * Model helper: the memory type a hart applies to a leaf PTE.
 *
 * MAEE=1 (XTheadMae; wins over PBMTE, the two conflict): SO C B SH Sec in 63:59.
 *   C=1 → cacheable, else SO=1 → io, else noncacheable — so the all-zero MT of a
 *   PTE built without ALT_THEAD_PMA is noncacheable. UM legal rows (SO C B SH):
 *   0 1 1 x cacheable, 0 0 1 1 NC, 1 0 1 1 bufferable device, 1 0 0 1 device.
 *   Any other combination is decoded by the same C-then-SO precedence (what the
 *   silicon does with it is not documented) and reported in `unlisted`.
 *   Bits 58:54 set → fault (reserved).
 * MAEE=0, PBMTE=1 (Svpbmt): bits 60:54 set → fault (reserved); bit 63 (N) set →
 *   fault (the model treats every N=1 as an invalid Svnapot encoding); PBMT=3 →
 *   fault; else 0 cacheable (PMA), 1 NC, 2 IO. This is where a vendor 5.10 PTE
 *   (C+B+SH = bits 62..60) faults on a standard hart such as C920R2S0-class cores.
 * MAEE=0, PBMTE=0: RAM is cacheable by PMA; any of bits 63:54 set → fault.
 * V=0 → fault on every hart.
 */
export function hartMemoryType(pteVal: bigint, hart: HartMode): HartMemoryType {
  const v = u64(pteVal);
  const faults: string[] = [];
  if ((v & _PAGE_PRESENT) === 0n) faults.push('V=0');
  if (hart.maee) {
    const res = (v >> 54n) & 0x1fn;
    if (res !== 0n) faults.push(`reserved bits 58:54 set (${hex(res << 54n)})`);
    const so = (v & _PAGE_SO) !== 0n;
    const c = (v & _PAGE_CACHE) !== 0n;
    const b = (v & _PAGE_BUF) !== 0n;
    const sh = (v & _PAGE_SHARE) !== 0n;
    const kind: MemKind = c ? 'cacheable' : so ? 'io' : 'noncacheable';
    const legal = (!so && c && b) || (!so && !c && b && sh) || (so && !c && sh);
    const out: HartMemoryType = { kind };
    if (!legal) out.unlisted = `MAE ${maeBits(v)} (SO C B SH Sec) is not a C910 UM Table 6.1 combination`;
    if (faults.length > 0) return { ...out, kind: 'cacheable', fault: faults.join('; ') };
    return out;
  }
  if (hart.pbmte) {
    const res = (v >> 54n) & 0x7fn;
    if (res !== 0n) faults.push(`reserved bits 60:54 set (${hex(res << 54n)})`);
    if ((v & (1n << 63n)) !== 0n) faults.push('N (Svnapot) set: not a valid NAPOT encoding in the model');
    const pbmt = (v >> 61n) & 3n;
    if (pbmt === 3n) faults.push('PBMT=3 is reserved');
    if (faults.length > 0) return { kind: 'cacheable', fault: faults.join('; ') };
    return { kind: pbmt === 0n ? 'cacheable' : pbmt === 1n ? 'noncacheable' : 'io' };
  }
  const hi = v >> 54n;
  if (hi !== 0n) faults.push(`bits 63:54 set (${hex(hi << 54n)}) on a hart without Svpbmt or MAE`);
  if (faults.length > 0) return { kind: 'cacheable', fault: faults.join('; ') };
  return { kind: 'cacheable' };
}
