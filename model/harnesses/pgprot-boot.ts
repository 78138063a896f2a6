// Boot-time half of pte-attributes: what the pgprot helpers really put in a
// PTE, against the type the kernel's memory-type table documents for their
// purpose (model/oracle/memtypes.ts). Runs once per machine, before any
// operation: the helpers depend on nothing a sequence changes.

import type { Machine } from '../../reference/system.ts';
import {
  PAGE_KERNEL,
  hartMemoryType,
  pfn_pte,
  pgprot_dmacoherent,
  pgprot_noncached,
  pgprot_writecombine,
  pte_val,
} from '../../reference/arch/riscv/pgtable.ts';
import { helperPurpose, inexpressible, intendedTable } from '../oracle/memtypes.ts';
import { hex } from '../../reference/types.ts';

const mtStr = (v: bigint) => v.toString(2).padStart(5, '0');
const MT_FIELD = 0x1fn << 59n;

/**
 * Boot-time part of pte-attributes: each pgprot helper applied to PAGE_KERNEL
 * and made into a PTE by pfn_pte (as vmap does) changes nothing outside bits
 * 63:59, and the hart reads there the type the kernel's table documents for the
 * helper's purpose (historic-bugs.md F1: "pte & ~MT_MASK is unchanged and MT == expected").
 */
export function checkPgprotHelpers(m: Machine): string | null {
  const cfg = m.init_mm.cfg;
  const mt = m.profile.platform.memTypes;
  const table = intendedTable(mt);
  // Any frame: a PFN with bits set all over the field shows a helper that touches it.
  const pfn = 0x5_a5a5_a5a5;
  const base = pte_val(pfn_pte(pfn, PAGE_KERNEL(cfg), cfg));
  const helpers = { pgprot_noncached, pgprot_writecombine, pgprot_dmacoherent } as const;
  for (const [name, fn] of Object.entries(helpers) as [keyof typeof helpers, (typeof helpers)[keyof typeof helpers]][]) {
    const purpose = helperPurpose(name, mt);
    if (inexpressible(mt, purpose) !== null) continue;
    const pte = pte_val(pfn_pte(pfn, fn(PAGE_KERNEL(cfg), cfg), cfg));
    const what = `boot: ${name}(PAGE_KERNEL) through pfn_pte gives PTE ${hex(pte)}`;
    if (((pte ^ base) & ~MT_FIELD) !== 0n) return `${what}: bits outside 63:59 differ from PAGE_KERNEL's ${hex(base)}`;
    const want = table.types[purpose];
    const got = hartMemoryType(pte, m.hart);
    if (got.fault !== undefined) return `${what}, which faults on this hart (${got.fault})`;
    if (pte >> 59n !== want.bits || got.kind !== want.kind) {
      return `${what}: memory type ${mtStr(pte >> 59n)} (${got.kind}${got.unlisted ? ', not a C910 UM row' : ''}), but ${purpose} is ${mtStr(want.bits)} (${want.kind}) per ${table.source}`;
    }
  }
  return null;
}
