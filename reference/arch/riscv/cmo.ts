// Cache-maintenance instructions of the C9xx harts (XTheadCmo, XTheadSync) and
// standard Zicbom, and the kernel's range loops built from them:
// arch/riscv/include/asm/errata_list.h ALT_CMO_OP (6.0–6.7), the T-Head PA loop
// of errata/thead/errata.c (≥6.8), and the vendor 5.10 cacheflush.c helpers.
// Facts: spec riscv-c920-coherence.md §1.5–1.7, §2.2, §5.2–5.4.
//
// Completion: every CMO takes full effect when executed, so th.sync* only
// leaves a trace note. Whether C910 line operations complete asynchronously
// until a th.sync(.s) is UNVERIFIED (spec §5.3, scenario §7(h)); CMO_COMPLETION
// names that choice so an asynchronous mode can be added as a knob later.

import type { C920Caches, LineOpScope } from '../../hw/c920-cache.ts';
import { LINE_SHIFT } from '../../mm/memory.ts';
import { knote, kenter, kexit } from '../../trace.ts';
import { ModelError } from '../../types.ts';

/** Where CMO effects become visible: 'at-issue' (now) — the only mode so far; 'at-sync' is the later knob. */
export const CMO_COMPLETION: 'at-issue' = 'at-issue';

export type CmoMnemonic =
  | 'th.dcache.call'
  | 'th.dcache.iall'
  | 'th.dcache.ciall'
  | 'th.dcache.cval1'
  | 'th.dcache.cva'
  | 'th.dcache.iva'
  | 'th.dcache.civa'
  | 'th.dcache.cpal1'
  | 'th.dcache.cpa'
  | 'th.dcache.ipa'
  | 'th.dcache.cipa'
  | 'th.l2cache.call'
  | 'th.l2cache.iall'
  | 'th.l2cache.ciall'
  | 'th.sync'
  | 'th.sync.s'
  | 'th.sync.i'
  | 'th.sync.is'
  | 'cbo.clean'
  | 'cbo.flush'
  | 'cbo.inval';

export interface CmoInsnInfo {
  /** The 32-bit word with rs1 = a0 (x10) for address forms, rs1 = x0 otherwise (spec §1.5, §5.2–5.4). */
  encoding: number;
  /** 'va': rs1 is translated; 'pa': rs1 is physical; 'none': whole cache or barrier. */
  operand: 'none' | 'va' | 'pa';
}

/** Encodings as the spec lists them: custom-0 (0x0B) funct3 000 for T-Head, MISC-MEM (0x0F) funct3 010 for Zicbom. */
export const CMO_INSNS: Readonly<Record<CmoMnemonic, CmoInsnInfo>> = {
  'th.dcache.call': { encoding: 0x0010000b, operand: 'none' },
  'th.dcache.iall': { encoding: 0x0020000b, operand: 'none' },
  'th.dcache.ciall': { encoding: 0x0030000b, operand: 'none' },
  'th.dcache.cval1': { encoding: 0x0245000b, operand: 'va' },
  'th.dcache.cva': { encoding: 0x0255000b, operand: 'va' },
  'th.dcache.iva': { encoding: 0x0265000b, operand: 'va' },
  'th.dcache.civa': { encoding: 0x0275000b, operand: 'va' },
  'th.dcache.cpal1': { encoding: 0x0285000b, operand: 'pa' },
  'th.dcache.cpa': { encoding: 0x0295000b, operand: 'pa' },
  'th.dcache.ipa': { encoding: 0x02a5000b, operand: 'pa' },
  'th.dcache.cipa': { encoding: 0x02b5000b, operand: 'pa' },
  'th.l2cache.call': { encoding: 0x0150000b, operand: 'none' },
  'th.l2cache.iall': { encoding: 0x0160000b, operand: 'none' },
  'th.l2cache.ciall': { encoding: 0x0170000b, operand: 'none' },
  'th.sync': { encoding: 0x0180000b, operand: 'none' },
  'th.sync.s': { encoding: 0x0190000b, operand: 'none' },
  'th.sync.i': { encoding: 0x01a0000b, operand: 'none' },
  'th.sync.is': { encoding: 0x01b0000b, operand: 'none' },
  'cbo.clean': { encoding: 0x0015200f, operand: 'va' },
  'cbo.flush': { encoding: 0x0025200f, operand: 'va' },
  'cbo.inval': { encoding: 0x0005200f, operand: 'va' },
};

const RS1_SHIFT = 15;
const RS1_FIELD = 31 << RS1_SHIFT;
const A0 = 10;

/** Encoding words with rs1 cleared -> mnemonic. */
const BY_BASE: ReadonlyMap<number, CmoMnemonic> = new Map(
  (Object.keys(CMO_INSNS) as CmoMnemonic[]).map((m) => [(CMO_INSNS[m].encoding & ~RS1_FIELD) >>> 0, m]),
);

const ABI_NAMES = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

export interface DecodedCmo {
  mnemonic: CmoMnemonic;
  rs1: number;
  /** Assembler text, e.g. "th.dcache.cva a0", "cbo.clean (a0)", "th.sync.s". */
  text: string;
}

/** The 32-bit word for `mnemonic` with the given rs1 (default a0; ignored for operand-less forms). */
export function encodeCmo(mnemonic: CmoMnemonic, rs1 = A0): number {
  const info = CMO_INSNS[mnemonic];
  if (info.operand === 'none') return info.encoding;
  if (!(Number.isInteger(rs1) && rs1 >= 0 && rs1 < 32)) throw new ModelError(`bad register x${rs1}`);
  return ((info.encoding & ~RS1_FIELD) | (rs1 << RS1_SHIFT)) >>> 0;
}

/** Mnemonic of a CMO/sync word, or null if it is none of the table's instructions. */
export function decodeCmo(insn: number): DecodedCmo | null {
  const word = insn >>> 0;
  const rs1 = (word & RS1_FIELD) >>> RS1_SHIFT;
  const m = BY_BASE.get((word & ~RS1_FIELD) >>> 0);
  if (m === undefined) return null;
  const op = CMO_INSNS[m].operand;
  if (op === 'none') return rs1 === 0 ? { mnemonic: m, rs1, text: m } : null;
  const reg = ABI_NAMES[rs1];
  return { mnemonic: m, rs1, text: m.startsWith('cbo.') ? `${m} (${reg})` : `${m} ${reg}` };
}

/** The hart executing maintenance: its caches, its page table and its envcfg CSR state. */
export interface CmoCpu {
  hart: number;
  caches: C920Caches;
  /** VA -> PA through the page table; null = the access would page-fault. */
  translate(va: bigint): bigint | null;
  /** Optional fast path: PA of [va, va + len) if every page of it translates contiguously, else null (then page by page). */
  translateRange?(va: bigint, len: bigint): bigint | null;
  /** menvcfg.CBIE (bits 5:4): 0 illegal, 1 cbo.inval flushes, 2 reserved, 3 invalidates. */
  menvcfgCbie: 0 | 1 | 2 | 3;
  /** menvcfg.CBCFE (bit 6) enabling cbo.clean/flush; absent = set (OpenSBI sets it when Zicbom exists). */
  menvcfgCbcfe?: boolean;
  faults: ReadonlySet<string>;
}

export type CmoOutcome =
  | { kind: 'done' }
  | { kind: 'illegal-instruction'; insn: CmoMnemonic }
  | { kind: 'page-fault'; insn: CmoMnemonic; va: bigint };

export const CMO_DONE: CmoOutcome = Object.freeze({ kind: 'done' });

const LINE_SHIFT_N = BigInt(LINE_SHIFT);

/**
 * Execute one CMO/sync instruction on `cpu` with rs1 = `addr`. Faults come back
 * as values: the kernel would trap (page fault on a VA form whose translation
 * fails; illegal instruction for a Zicbom op the envcfg CSR disables).
 */
export function execCmo(cpu: CmoCpu, insn: CmoMnemonic, addr: bigint): CmoOutcome {
  const c = cpu.caches;
  const h = cpu.hart;
  switch (insn) {
    case 'th.dcache.call':
      c.l1CleanAll(h);
      return CMO_DONE;
    case 'th.dcache.iall':
      c.l1InvalAll(h);
      return CMO_DONE;
    case 'th.dcache.ciall':
      c.l1FlushAll(h);
      return CMO_DONE;
    case 'th.l2cache.call':
      c.l2CleanAll(c.clusterOf(h));
      return CMO_DONE;
    case 'th.l2cache.iall':
      c.l2InvalAll(c.clusterOf(h));
      return CMO_DONE;
    case 'th.l2cache.ciall':
      c.l2FlushAll(c.clusterOf(h));
      return CMO_DONE;
    case 'th.sync':
    case 'th.sync.s':
    case 'th.sync.i':
    case 'th.sync.is':
      knote(insn); // completion barrier; a no-op while CMO_COMPLETION is 'at-issue'
      return CMO_DONE;
    case 'cbo.clean':
    case 'cbo.flush':
      if (cpu.menvcfgCbcfe === false) return { kind: 'illegal-instruction', insn };
      return lineOp(cpu, insn, addr, insn === 'cbo.clean' ? 'clean' : 'flush', 'L1L2');
    case 'cbo.inval':
      // CBIE 01: the privileged spec lets inval be carried out as flush; 10 is reserved (treated as disabled).
      if (cpu.menvcfgCbie === 1) return lineOp(cpu, insn, addr, 'flush', 'L1L2');
      if (cpu.menvcfgCbie === 3) return lineOp(cpu, insn, addr, 'inval', 'L1L2');
      return { kind: 'illegal-instruction', insn };
    case 'th.dcache.cval1':
    case 'th.dcache.cpal1':
      return lineOp(cpu, insn, addr, 'clean', 'L1');
    case 'th.dcache.cva':
    case 'th.dcache.cpa':
      return lineOp(cpu, insn, addr, 'clean', 'L1L2');
    case 'th.dcache.iva':
    case 'th.dcache.ipa':
      return lineOp(cpu, insn, addr, 'inval', 'L1L2');
    case 'th.dcache.civa':
    case 'th.dcache.cipa':
      return lineOp(cpu, insn, addr, 'flush', 'L1L2');
  }
}

function lineOp(cpu: CmoCpu, insn: CmoMnemonic, addr: bigint, op: CmoOp, scope: LineOpScope): CmoOutcome {
  let pa = addr;
  if (CMO_INSNS[insn].operand === 'va') {
    const t = cpu.translate(addr);
    if (t === null) return { kind: 'page-fault', insn, va: addr };
    pa = t;
  }
  const line = Number(pa >> LINE_SHIFT_N);
  if (op === 'clean') cpu.caches.cleanLine(cpu.hart, line, scope);
  else if (op === 'flush') cpu.caches.flushLine(cpu.hart, line, scope);
  else cpu.caches.invalLine(cpu.hart, line, scope);
  return CMO_DONE;
}

export type CmoOp = 'clean' | 'flush' | 'inval';

/**
 * Which instructions a kernel's ALT_CMO_OP expands to (spec §1.5):
 * - 'none': neither Zicbom nor T-Head errata active -> NOP sequence.
 * - 'zicbom': cbo.* on the linear-map VA, no tail.
 * - 'thead-va-cval1': v6.0 … v6.6-rc1, clean = th.dcache.cval1 (L1 only — the TH1520 eMMC bug).
 * - 'thead-va': v6.6-rc2 … v6.7 (after 8eb8fe67e2c8): cva / civa / iva on the VA.
 * - 'thead-pa': ≥ v6.8 errata/thead/errata.c: cpa / cipa / ipa on the physical address.
 * - 'sophgo-pa': Sophgo SG2042 vendor 6.x: clean = cipa (deliberate), flush = cipa, inval = ipa.
 * VA flavours get a linear-map VA from their caller (phys_to_virt); PA flavours get the PA.
 */
export type CmoFlavour = 'none' | 'zicbom' | 'thead-va-cval1' | 'thead-va' | 'thead-pa' | 'sophgo-pa';

interface FlavourInsns {
  clean: CmoMnemonic;
  flush: CmoMnemonic;
  inval: CmoMnemonic;
  /** Fault 'cmo-clean-l1-only': the L1-only clean of the same address kind. */
  cleanL1: CmoMnemonic;
  tail: CmoMnemonic | null;
}

const FLAVOURS: Readonly<Record<Exclude<CmoFlavour, 'none'>, FlavourInsns>> = {
  zicbom: { clean: 'cbo.clean', flush: 'cbo.flush', inval: 'cbo.inval', cleanL1: 'th.dcache.cval1', tail: null },
  'thead-va-cval1': {
    clean: 'th.dcache.cval1',
    flush: 'th.dcache.civa',
    inval: 'th.dcache.iva',
    cleanL1: 'th.dcache.cval1',
    tail: 'th.sync.s',
  },
  'thead-va': {
    clean: 'th.dcache.cva',
    flush: 'th.dcache.civa',
    inval: 'th.dcache.iva',
    cleanL1: 'th.dcache.cval1',
    tail: 'th.sync.s',
  },
  'thead-pa': {
    clean: 'th.dcache.cpa',
    flush: 'th.dcache.cipa',
    inval: 'th.dcache.ipa',
    cleanL1: 'th.dcache.cpal1',
    tail: 'th.sync.s',
  },
  'sophgo-pa': {
    clean: 'th.dcache.cipa',
    flush: 'th.dcache.cipa',
    inval: 'th.dcache.ipa',
    cleanL1: 'th.dcache.cpal1',
    tail: 'th.sync.s',
  },
};

/** Block size the 'cmo-block-size-128' fault loops with (aligning and stepping) instead of the real one. */
const FAULT_BLOCK = 128;

/**
 * arch/riscv/include/asm/errata_list.h ALT_CMO_OP (6.0–6.7; the PA flavours
 * stand for errata/thead/errata.c THEAD_CMO_OP ≥6.8 and the Sophgo vendor 6.x loop).
 * Aligns `start` down to the block, loops one instruction per block while below
 * the exclusive, unaligned end `start + size`, then the flavour's tail
 * (th.sync.s for T-Head). Returns the first fault (the kernel would trap there)
 * or CMO_DONE.
 */
export function ALT_CMO_OP(
  op: CmoOp,
  start: bigint,
  size: bigint,
  blockSize: number,
  cpu: CmoCpu,
  flavour: CmoFlavour,
): CmoOutcome {
  kenter('ALT_CMO_OP');
  try {
    if (!(Number.isInteger(blockSize) && blockSize > 0 && (blockSize & (blockSize - 1)) === 0)) {
      throw new ModelError(`ALT_CMO_OP: block size ${blockSize} is not a power of two`);
    }
    if (flavour === 'none') {
      knote('no CMO alternative: NOP sequence');
      return CMO_DONE;
    }
    const f = FLAVOURS[flavour];
    let insn: CmoMnemonic;
    if (op === 'clean') {
      insn = f.clean;
      if (cpu.faults.has('cmo-clean-l1-only')) {
        knote('fault cmo-clean-l1-only');
        insn = f.cleanL1;
      }
    } else if (op === 'flush') insn = f.flush;
    else {
      insn = f.inval;
      if (cpu.faults.has('cmo-inval-as-flush')) {
        knote('fault cmo-inval-as-flush');
        insn = f.flush;
      }
    }
    knote(insn);
    let block = blockSize;
    if (cpu.faults.has('cmo-block-size-128')) {
      knote('fault cmo-block-size-128');
      block = FAULT_BLOCK;
    }
    const b = BigInt(block);
    const end = start + size;
    const first = start & ~(b - 1n);
    // PA of `first` once the whole range is known to translate contiguously (null: walk every block).
    let basePa: bigint | null | undefined;
    for (let a0 = first; a0 < end; ) {
      const r = execCmo(cpu, insn, a0);
      if (r.kind !== 'done') {
        knote(r.kind);
        return r;
      }
      let next = a0 + b;
      if (next >= end) break;
      // The first block ran (so the instruction is legal here). Maintenance of a line no cache holds
      // changes nothing, and only clears lines, so the loop may jump to the block of the next held line.
      if (basePa === undefined) basePa = contiguousPa(cpu, first, end, flavour);
      if (basePa !== null) {
        const line = cpu.caches.nextLineInRange(Number((basePa + (next - first)) >> 6n), Number((basePa + (end - first) + 63n) >> 6n));
        if (line < 0) {
          knote('no further line of the range is cached: the rest of the loop changes nothing (skipped)');
          break;
        }
        const blockOfLine = (first + ((BigInt(line) << 6n) - basePa)) & ~(b - 1n);
        if (blockOfLine > next) next = blockOfLine;
      }
      a0 = next;
    }
    if (f.tail !== null) execCmo(cpu, f.tail, 0n);
    return CMO_DONE;
  } finally {
    kexit();
  }
}

/**
 * Cost shortcut, exact: clean, invalidate and flush of a line no cache holds
 * change nothing (under every flavour and fault), so range loops jump over
 * such lines (a 4 MiB pool chunk is 65536 lines). That needs the PA of every
 * block: the PA of `start` when [start, end) translates to one contiguous
 * physical range (PA flavours: always; VA: the linear map), else null.
 */
function contiguousPa(cpu: CmoCpu, start: bigint, end: bigint, flavour: CmoFlavour): bigint | null {
  if (end <= start) return null;
  if (flavour === 'thead-pa' || flavour === 'sophgo-pa') return start;
  const fast = cpu.translateRange?.(start, end - start) ?? null;
  if (fast !== null) return fast;
  const a = cpu.translate(start);
  if (a === null) return null;
  // Every page must translate, contiguously: a hole would page-fault in the real loop.
  for (let va = (start | 0xfffn) + 1n; va < end; va += 0x1000n) {
    const pa = cpu.translate(va);
    if (pa === null || pa - a !== va - start) return null;
  }
  return a;
}

/**
 * Vendor 5.10 kernels' helpers (spec §2.2), by tree:
 * - 'th1520-beagleboard': cpa / cipa, barrier th.sync.i (macro named sync_is; th.sync.is would be 0x01b0000b).
 * - 'th1520-beagleboard-preinit': the same tree before arch_initcall thead_dma_init saw
 *   mvendorid 0x5b7: both helpers return at once, no maintenance and no barrier.
 * - 'sg2042-sophgo': cipa for both (clean implemented as clean+invalidate), th.sync.is.
 * - 'd1-c906': cpa / cipa, th.sync.s.
 */
export type VendorCmoVariant = 'th1520-beagleboard' | 'th1520-beagleboard-preinit' | 'sg2042-sophgo' | 'd1-c906';

interface VendorInsns {
  wb: CmoMnemonic;
  wbinv: CmoMnemonic;
  sync: CmoMnemonic;
}

const VENDOR: Readonly<Record<VendorCmoVariant, VendorInsns | null>> = {
  'th1520-beagleboard': { wb: 'th.dcache.cpa', wbinv: 'th.dcache.cipa', sync: 'th.sync.i' },
  'th1520-beagleboard-preinit': null,
  'sg2042-sophgo': { wb: 'th.dcache.cipa', wbinv: 'th.dcache.cipa', sync: 'th.sync.is' },
  'd1-c906': { wb: 'th.dcache.cpa', wbinv: 'th.dcache.cipa', sync: 'th.sync.s' },
};

const VENDOR_LINE = 64n; // L1_CACHE_BYTES, fixed in these trees

function vendorRange(start_pa: bigint, end_pa: bigint, cpu: CmoCpu, variant: VendorCmoVariant, wb: boolean): void {
  const v = VENDOR[variant];
  if (v === null) {
    knote('thead_dma_init not yet run: no-op');
    return;
  }
  const insn = wb ? v.wb : v.wbinv;
  knote(insn);
  // PA forms cannot page-fault, and maintenance of a line no cache holds changes nothing: only held lines get an instruction.
  const first = start_pa & ~(VENDOR_LINE - 1n);
  const endLine = Number((end_pa + 63n) >> 6n);
  let line = cpu.caches.nextLineInRange(Number(first >> 6n), endLine);
  if (line < 0) knote('no line of the range is cached: the loop changes nothing (skipped)');
  while (line >= 0) {
    const a = BigInt(line) << 6n;
    // Only a model defect could make a PA instruction do anything but complete.
    if (execCmo(cpu, insn, a).kind !== 'done') throw new ModelError(`${insn} on a PA did not complete`);
    line = cpu.caches.nextLineInRange(line + 1, endLine);
  }
  execCmo(cpu, v.sync, 0n);
}

/** arch/riscv/mm/cacheflush.c dma_wb_range (vendor 5.10 trees: beagleboard TH1520, sophgo SG2042, D1). */
export function dma_wb_range(start_pa: bigint, end_pa: bigint, cpu: CmoCpu, variant: VendorCmoVariant): void {
  kenter('dma_wb_range');
  try {
    vendorRange(start_pa, end_pa, cpu, variant, true);
  } finally {
    kexit();
  }
}

/** arch/riscv/mm/cacheflush.c dma_wbinv_range (vendor 5.10 trees: beagleboard TH1520, sophgo SG2042, D1). */
export function dma_wbinv_range(start_pa: bigint, end_pa: bigint, cpu: CmoCpu, variant: VendorCmoVariant): void {
  kenter('dma_wbinv_range');
  try {
    vendorRange(start_pa, end_pa, cpu, variant, false);
  } finally {
    kexit();
  }
}
