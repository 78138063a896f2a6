// The memory type each kernel memory-type table means to give normal memory
// (PMA), write-combining (NC) and I/O (IO) mappings, written down from the
// documentation each table came with — the comment block above the constants
// in arch/riscv/include/asm/pgtable-64.h of that version, the C910 UM Table 6.1
// rows it cites, the Svpbmt encodings — never computed from the constants the
// reference implements. pte-attributes compares what the pgprot helpers
// really put in a PTE against this.
//
// The 5-bit value is PTE bits 63:59 (XTheadMae: SO C B SH Sec; Svpbmt: N, the
// two PBMT bits 62:61, two reserved bits).

import type { PlatformSpec } from '../../reference/config/profile.ts';
import type { MemKind } from '../../reference/arch/riscv/pgtable.ts';

export type MtPurpose = 'PMA' | 'NC' | 'IO';

export interface IntendedType {
  /** PTE bits 63:59. */
  bits: bigint;
  kind: MemKind;
}

export interface IntendedTable {
  types: Readonly<Record<MtPurpose, IntendedType>>;
  /** Where the values come from. */
  source: string;
}

const t = (bits: number, kind: MemKind): IntendedType => ({ bits: BigInt(bits), kind });

const THEAD_UM_TABLE: IntendedTable = {
  // dbfbda3bd6bf (v6.7) comment: "00110 - NC Weakly-ordered, Non-cacheable, Bufferable, Shareable";
  // "10010 - IO Strongly-ordered, Non-cacheable, Non-bufferable, Shareable" — the C910 UM Table 6.1 rows
  // (SH is hard-wired for NC and device memory). c21f01481860 keeps the comment; only the constant was wrong.
  types: { PMA: t(0b01110, 'cacheable'), NC: t(0b00110, 'noncacheable'), IO: t(0b10010, 'io') },
  source: 'pgtable-64.h comment of dbfbda3bd6bf / c21f01481860 (v6.7+), C910 UM Table 6.1',
};

/** Intended types per memory-type scheme and, for XTheadMae, per constant table. */
export function intendedTable(mt: PlatformSpec['memTypes']): IntendedTable {
  switch (mt.scheme) {
    case 'svpbmt':
      return {
        types: { PMA: t(0b00000, 'cacheable'), NC: t(0b00100, 'noncacheable'), IO: t(0b01000, 'io') },
        source: 'Svpbmt: PBMT 0 = PMA, 1 = NC, 2 = IO in bits 62:61',
      };
    case 'thead-mae':
      if (mt.theadTable === '5.19-6.6') {
        return {
          // "00000 - NC Weakly-ordered, Non-cacheable, Non-bufferable, Non-shareable";
          // "10000 - IO Strongly-ordered, Non-cacheable, Non-bufferable, Non-shareable".
          types: { PMA: t(0b01110, 'cacheable'), NC: t(0b00000, 'noncacheable'), IO: t(0b10000, 'io') },
          source: 'pgtable-64.h comment, v5.19-v6.6 (torvalds 0604aa87b098)',
        };
      }
      // The 6.7 table carries the same comment as the fixed one: its typo is a deviation from it.
      // Sophgo's vendor table states the same values (sophgo/linux-riscv 1f4edcf75c6b).
      return THEAD_UM_TABLE;
    case 'vendor-5.10-static':
      return {
        // Vendor C9xx 5.10 BSP (revyos/thead-kernel pgtable.h a9b3178041fc, riscv-c920-coherence.md §3.5):
        // _PAGE_KERNEL = C|B|SH; noncached = SO|SH; writecombine = "NC non-bufferable", SH only.
        types: { PMA: t(0b01110, 'cacheable'), NC: t(0b00010, 'noncacheable'), IO: t(0b10010, 'io') },
        source: 'vendor 5.10 C9xx BSP pgtable.h (static MAE bits)',
      };
    case 'none':
      // No page-based memory types: every helper leaves the bits alone and RAM is cacheable by PMA.
      return { types: { PMA: t(0, 'cacheable'), NC: t(0, 'cacheable'), IO: t(0, 'cacheable') }, source: 'no Svpbmt, no XTheadMae' };
  }
}

/**
 * ALT_THEAD_PMA turns a PTE whose MT field is 00000 into PMA ("no type requested"), so
 * under XTheadMae a table whose NC is 00000 cannot put NC into any PTE built by
 * pfn_pte: the v5.19-v6.6 table's write-combining mappings come out cacheable
 * (riscv-c920-coherence.md §3.4, derived from the code and not known to have been
 * reported; dbfbda3bd6bf made NC non-zero in v6.7). No modelled DMA path uses
 * pgprot_writecombine there, so the check leaves that one helper out and says so.
 */
export function inexpressible(mt: PlatformSpec['memTypes'], p: MtPurpose): string | null {
  if (mt.scheme !== 'thead-mae' || p === 'PMA' || intendedTable(mt).types[p].bits !== 0n) return null;
  return `the ${mt.theadTable} table's ${p} type is 00000, which ALT_THEAD_PMA promotes to PMA`;
}

/** What each pgprot helper is for. pgprot_dmacoherent: the vendor BSP defines it as writecombine; mainline riscv leaves the generic pgprot_noncached. */
export function helperPurpose(helper: 'pgprot_noncached' | 'pgprot_writecombine' | 'pgprot_dmacoherent', mt: PlatformSpec['memTypes']): MtPurpose {
  if (helper === 'pgprot_noncached') return 'IO';
  if (helper === 'pgprot_writecombine') return 'NC';
  return mt.scheme === 'vendor-5.10-static' ? 'NC' : 'IO';
}
