// Edge cases of reference/arch/riscv/cmo.ts that the mutation run (npm run mutation)
// showed untested: register checks of encodeCmo, th.l2cache.iall, the trace,
// and the "nothing cached, skip the loop" shortcut on page tables that are not
// the linear map (holes, scattered pages) and on PA flavours (no translation);
// and that ALT_CMO_OP's jump to the next held line leaves exactly the state of the
// kernel's block-by-block loop (block sizes below and above a line, PA 0, faults).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { C920Caches, MODEL_GEOMETRY, type LineOpScope } from '../../reference/hw/c920-cache.ts';
import { PhysMemory, POISON, lineOf } from '../../reference/mm/memory.ts';
import {
  ALT_CMO_OP,
  decodeCmo,
  dma_wb_range,
  dma_wbinv_range,
  encodeCmo,
  execCmo,
  type CmoCpu,
  type CmoFlavour,
  type CmoMnemonic,
  type CmoOp,
  type CmoOutcome,
  type VendorCmoVariant,
} from '../../reference/arch/riscv/cmo.ts';
import { ModelError } from '../../reference/types.ts';
import { traceCalls } from './trace-calls.ts';

const BASE = 0x8000_0000n;
const RAM = 0x10_0000n;
const L = lineOf(BASE);
const one = (v: number) => Uint8Array.of(v);

/** A hart whose page table maps 4 KiB VA pages (index -> PA page base); `calls` counts translations. */
function machine(pages: ReadonlyMap<bigint, bigint> = new Map(), faults: string[] = []) {
  const mem = new PhysMemory([{ base: BASE, size: RAM }]);
  const caches = new C920Caches(MODEL_GEOMETRY, mem);
  const stats = { calls: 0 };
  const cpu: CmoCpu = {
    hart: 0,
    caches,
    translate: (v) => {
      stats.calls++;
      const pa = pages.get(v >> 12n);
      return pa === undefined ? null : pa + (v & 0xfffn);
    },
    menvcfgCbie: 3,
    faults: new Set(faults),
  };
  return { mem, caches, cpu, stats };
}

describe('encodeCmo', () => {
  it('operand-less forms keep their fixed word whatever rs1 is asked for', () => {
    expect(encodeCmo('th.sync')).toBe(0x0180000b);
    expect(encodeCmo('th.sync.s', 7)).toBe(0x0190000b);
    expect(encodeCmo('th.dcache.call', 31)).toBe(0x0010000b);
    expect(encodeCmo('th.l2cache.ciall', 40)).toBe(0x0170000b); // not even checked: there is no rs1
  });

  it('address forms take x0..x31 and nothing else', () => {
    expect(encodeCmo('th.dcache.cva', 0)).toBe(0x0250000b);
    expect(encodeCmo('th.dcache.cva', 31)).toBe(0x025f800b);
    expect(decodeCmo(0x025f800b)).toEqual({ mnemonic: 'th.dcache.cva', rs1: 31, text: 'th.dcache.cva t6' });
    expect(decodeCmo(encodeCmo('cbo.flush', 0))).toEqual({ mnemonic: 'cbo.flush', rs1: 0, text: 'cbo.flush (zero)' });
    for (const bad of [32, -1, 1.5]) {
      expect(() => encodeCmo('cbo.clean', bad)).toThrow(ModelError);
      expect(() => encodeCmo('th.dcache.cpa', bad)).toThrow(`bad register x${bad}`);
    }
  });
});

describe('whole-L2 forms on the executing cluster', () => {
  /** Hart 0 wrote 0x11 and cleaned L1, so the data sits dirty in the cluster-0 L2 only. */
  function dirtyInL2() {
    const x = machine();
    x.caches.store(0, BASE, one(0x11));
    execCmo(x.cpu, 'th.dcache.call', 0n);
    expect(x.caches.lineState(0, 'L2', L)).toBe('D');
    return x;
  }

  it('th.l2cache.iall drops dirty L2 data: memory keeps its old contents', () => {
    const x = dirtyInL2();
    expect(execCmo(x.cpu, 'th.l2cache.iall', 0n)).toEqual({ kind: 'done' });
    expect(x.caches.lineState(0, 'L2', L)).toBe('I');
    expect(x.mem.read(BASE, 1)[0]).toBe(POISON);
  });

  it('th.l2cache.ciall writes it back first; th.l2cache.call writes back and keeps the line', () => {
    const x = dirtyInL2();
    expect(execCmo(x.cpu, 'th.l2cache.ciall', 0n)).toEqual({ kind: 'done' });
    expect(x.caches.lineState(0, 'L2', L)).toBe('I');
    expect(x.mem.read(BASE, 1)[0]).toBe(0x11);
    const y = dirtyInL2();
    expect(execCmo(y.cpu, 'th.l2cache.call', 0n)).toEqual({ kind: 'done' });
    expect(y.caches.lineState(0, 'L2', L)).toBe('C');
    expect(y.mem.read(BASE, 1)[0]).toBe(0x11);
  });
});

describe('trace', () => {
  const PA_IDENT = new Map([[BASE >> 12n, BASE]]);

  it('ALT_CMO_OP, dma_wb_range and dma_wbinv_range enter under their names and exit', () => {
    const x = machine(PA_IDENT);
    x.caches.store(0, BASE, one(1));
    const cases: [string, () => unknown][] = [
      ['ALT_CMO_OP', () => ALT_CMO_OP('clean', BASE, 64n, 64, x.cpu, 'thead-pa')],
      ['dma_wb_range', () => dma_wb_range(BASE, BASE + 64n, x.cpu, 'd1-c906')],
      ['dma_wbinv_range', () => dma_wbinv_range(BASE, BASE + 64n, x.cpu, 'd1-c906')],
    ];
    for (const [name, fn] of cases) {
      const r = traceCalls(fn);
      expect(r.calls, name).toEqual([name]);
      expect(r.depthAfter, name).toBe(0);
    }
  });

  it('no CMO alternative: one note, nothing else', () => {
    const x = machine();
    expect(traceCalls(() => ALT_CMO_OP('flush', BASE, 64n, 64, x.cpu, 'none')).notes).toEqual([
      'no CMO alternative: NOP sequence',
    ]);
  });

  it('each ALT_CMO_OP fault is noted before the instruction it picks', () => {
    const run = (fault: string, op: 'clean' | 'inval') => {
      const x = machine(PA_IDENT, [fault]);
      x.caches.store(0, BASE, one(1));
      x.caches.store(0, BASE + 128n, one(1));
      return traceCalls(() => ALT_CMO_OP(op, BASE, 192n, 64, x.cpu, 'thead-pa')).notes;
    };
    expect(run('cmo-clean-l1-only', 'clean')).toEqual(['fault cmo-clean-l1-only', 'th.dcache.cpal1', 'th.sync.s']);
    expect(run('cmo-inval-as-flush', 'inval')).toEqual(['fault cmo-inval-as-flush', 'th.dcache.cipa', 'th.sync.s']);
    expect(run('cmo-block-size-128', 'clean')).toEqual(['th.dcache.cpa', 'fault cmo-block-size-128', 'th.sync.s']);
  });

  it('the skip shortcuts say so; the preinit vendor tree notes its no-op', () => {
    const x = machine(PA_IDENT);
    x.caches.store(0, BASE, one(1));
    expect(traceCalls(() => ALT_CMO_OP('clean', BASE, 256n, 64, x.cpu, 'thead-pa')).notes).toEqual([
      'th.dcache.cpa',
      'no further line of the range is cached: the rest of the loop changes nothing (skipped)',
      'th.sync.s',
    ]);
    expect(traceCalls(() => dma_wb_range(BASE + 64n, BASE + 256n, x.cpu, 'd1-c906')).notes).toEqual([
      'th.dcache.cpa',
      'no line of the range is cached: the loop changes nothing (skipped)',
      'th.sync.s',
    ]);
    expect(traceCalls(() => dma_wbinv_range(BASE, BASE + 64n, x.cpu, 'th1520-beagleboard-preinit')).notes).toEqual([
      'thead_dma_init not yet run: no-op',
    ]);
  });
});

describe('PA forms never consult the page table', () => {
  it('ALT_CMO_OP thead-pa / sophgo-pa and the vendor 5.10 helpers translate nothing', () => {
    const runs: [string, (cpu: CmoCpu) => unknown][] = [];
    for (const f of ['thead-pa', 'sophgo-pa'] as CmoFlavour[]) {
      for (const op of ['clean', 'flush', 'inval'] as const) {
        runs.push([`${f} ${op}`, (cpu) => ALT_CMO_OP(op, BASE, 0x200n, 64, cpu, f)]);
      }
    }
    for (const v of ['th1520-beagleboard', 'sg2042-sophgo', 'd1-c906'] as VendorCmoVariant[]) {
      runs.push([`dma_wb_range ${v}`, (cpu) => dma_wb_range(BASE, BASE + 0x200n, cpu, v)]);
      runs.push([`dma_wbinv_range ${v}`, (cpu) => dma_wbinv_range(BASE, BASE + 0x200n, cpu, v)]);
    }
    for (const [name, run] of runs) {
      // A page table that would map these PAs somewhere else if anyone asked it.
      const x = machine(new Map([[BASE >> 12n, BASE + 0x8000n]]));
      x.caches.store(0, BASE, one(1));
      x.caches.store(0, BASE + 0x100n, one(1));
      run(x.cpu);
      expect(x.stats.calls, name).toBe(0);
      expect(x.caches.lineState(0, 'L1', L + 4), name).not.toBe('D');
    }
  });
});

describe('VA ranges over page tables that are not one contiguous linear map', () => {
  const VA = 0x4000_0000n;
  const page = (i: bigint) => (VA >> 12n) + i;

  it('an unmapped page in the middle of the range faults there (after the first block ran)', () => {
    const x = machine(
      new Map([
        [page(0n), BASE],
        [page(2n), BASE + 0x2000n],
      ]),
    );
    x.caches.store(0, BASE + 0xfc0n, one(1));
    x.caches.store(0, BASE + 0x2000n, one(1));
    // blocks: 0xfc0 (page 0), 0x1000 (page 1: unmapped) ... end 0x2040 in page 2
    expect(ALT_CMO_OP('clean', VA + 0xfc0n, 0x1080n, 64, x.cpu, 'thead-va')).toEqual({
      kind: 'page-fault',
      insn: 'th.dcache.cva',
      va: VA + 0x1000n,
    });
    expect(x.mem.read(BASE + 0xfc0n, 1)[0]).toBe(1);
    expect(x.mem.read(BASE + 0x2000n, 1)[0]).toBe(POISON);
  });

  it('a range whose last page is unmapped faults at that page', () => {
    const x = machine(new Map([[page(0n), BASE]]));
    x.caches.store(0, BASE + 0xf80n, one(1));
    x.caches.store(0, BASE + 0xfc0n, one(1));
    expect(ALT_CMO_OP('clean', VA + 0xf80n, 0x100n, 64, x.cpu, 'thead-va')).toEqual({
      kind: 'page-fault',
      insn: 'th.dcache.cva',
      va: VA + 0x1000n,
    });
    expect(x.mem.read(BASE + 0xf80n, 1)[0]).toBe(1);
    expect(x.mem.read(BASE + 0xfc0n, 1)[0]).toBe(1);
  });

  it('scattered pages: a dirty line on a later page is still cleaned', () => {
    // VA pages 0, 1, 2 -> PA BASE, BASE + 0x8000, BASE + 0x4000 (not contiguous)
    for (const f of ['thead-va', 'zicbom'] as CmoFlavour[]) {
      const x = machine(
        new Map([
          [page(0n), BASE],
          [page(1n), BASE + 0x8000n],
          [page(2n), BASE + 0x4000n],
        ]),
      );
      x.caches.store(0, BASE + 0xfc0n, one(1));
      x.caches.store(0, BASE + 0x4000n, one(2));
      expect(ALT_CMO_OP('clean', VA + 0xfc0n, 0x1080n, 64, x.cpu, f), f).toEqual({ kind: 'done' });
      expect(x.mem.read(BASE + 0xfc0n, 1)[0], f).toBe(1);
      expect(x.mem.read(BASE + 0x4000n, 1)[0], f).toBe(2);
    }
  });
});

describe('vendor 5.10 helpers start at the line holding start_pa', () => {
  it('a line-aligned start with bit 6 set leaves the line below it alone', () => {
    for (const v of ['th1520-beagleboard', 'd1-c906'] as VendorCmoVariant[]) {
      const x = machine();
      x.caches.store(0, BASE, one(1));
      x.caches.store(0, BASE + 0x40n, one(2));
      dma_wb_range(BASE + 0x40n, BASE + 0x80n, x.cpu, v);
      expect([x.caches.lineState(0, 'L1', L), x.caches.lineState(0, 'L1', L + 1)], v).toEqual(['D', 'C']);
      expect(x.mem.read(BASE, 1)[0], v).toBe(POISON);
      expect(x.mem.read(BASE + 0x40n, 1)[0], v).toBe(2);
    }
  });
});

// ---------------------------------------------------------------------------
// The jump of ALT_CMO_OP against the kernel's own loop.
//
// arch/riscv/include/asm/errata_list.h ALT_CMO_OP (6.0–6.7) and errata/thead THEAD_CMO_OP (≥6.8):
//   a0 = start & ~(block - 1); while (a0 < start + size) { <op> a0; a0 += block; } then th.sync.s (T-Head).
// One instruction per block, none skipped. The model may leave out instructions on lines no cache
// holds (they change nothing), and nothing else: the state must be the walk's, line for line.

type Flavour = Exclude<CmoFlavour, 'none'>;
const FLAVOUR_LIST: Flavour[] = ['zicbom', 'thead-va-cval1', 'thead-va', 'thead-pa', 'sophgo-pa'];

/** What each flavour's ALT_CMO_OP expands to (spec §1.5; the table in cmo.ts's doc comment). */
const KERNEL_INSNS: Record<Flavour, { clean: CmoMnemonic; flush: CmoMnemonic; inval: CmoMnemonic; cleanL1: CmoMnemonic; tail: CmoMnemonic | null }> = {
  zicbom: { clean: 'cbo.clean', flush: 'cbo.flush', inval: 'cbo.inval', cleanL1: 'th.dcache.cval1', tail: null },
  'thead-va-cval1': { clean: 'th.dcache.cval1', flush: 'th.dcache.civa', inval: 'th.dcache.iva', cleanL1: 'th.dcache.cval1', tail: 'th.sync.s' },
  'thead-va': { clean: 'th.dcache.cva', flush: 'th.dcache.civa', inval: 'th.dcache.iva', cleanL1: 'th.dcache.cval1', tail: 'th.sync.s' },
  'thead-pa': { clean: 'th.dcache.cpa', flush: 'th.dcache.cipa', inval: 'th.dcache.ipa', cleanL1: 'th.dcache.cpal1', tail: 'th.sync.s' },
  'sophgo-pa': { clean: 'th.dcache.cipa', flush: 'th.dcache.cipa', inval: 'th.dcache.ipa', cleanL1: 'th.dcache.cpal1', tail: 'th.sync.s' },
};

/** The kernel loop, block by block (faults as the catalog defines them: the wrong block, the L1-only clean, inval as flush). */
function kernelWalk(op: CmoOp, start: bigint, size: bigint, blockSize: number, cpu: CmoCpu, flavour: Flavour): CmoOutcome {
  const k = KERNEL_INSNS[flavour];
  let insn = k[op];
  if (op === 'clean' && cpu.faults.has('cmo-clean-l1-only')) insn = k.cleanL1;
  if (op === 'inval' && cpu.faults.has('cmo-inval-as-flush')) insn = k.flush;
  const b = BigInt(cpu.faults.has('cmo-block-size-128') ? 128 : blockSize);
  for (let a0 = start & ~(b - 1n); a0 < start + size; a0 += b) {
    const r = execCmo(cpu, insn, a0);
    if (r.kind !== 'done') return r;
  }
  if (k.tail !== null) execCmo(cpu, k.tail, 0n);
  return { kind: 'done' };
}

/** Caches that count line operations and refuse more than `cap`: the kernel loop issues one per block, a runaway loop stops here. */
class BoundedCaches extends C920Caches {
  ops = 0;
  cap = Infinity;
  private tick(): void {
    if (++this.ops > this.cap) throw new ModelError(`more line operations than the ${this.cap} blocks of the range`);
  }
  override cleanLine(hart: number, line: number, scope: LineOpScope): void {
    this.tick();
    super.cleanLine(hart, line, scope);
  }
  override flushLine(hart: number, line: number, scope: LineOpScope): void {
    this.tick();
    super.flushLine(hart, line, scope);
  }
  override invalLine(hart: number, line: number, scope: LineOpScope): void {
    this.tick();
    super.invalLine(hart, line, scope);
  }
}

const VA0 = 0x4000_0000n;

/**
 * RAM at `memBase` (the SG2042 profiles have RAM from PA 0; the others at 0x8000_0000), 4 KiB VA pages
 * VA0 + i*4K -> `pages[i]` (null: unmapped); `translateRange` as dma-noncoherent.ts's cpu gives it, or absent.
 */
function rig(memBase: bigint, pages: readonly (bigint | null)[], withTranslateRange: boolean, faults: string[] = [], ramSize = RAM) {
  const mem = new PhysMemory([{ base: memBase, size: ramSize }]);
  const caches = new BoundedCaches(MODEL_GEOMETRY, mem);
  const translate = (v: bigint): bigint | null => {
    const i = Number((v - VA0) >> 12n);
    const p = v >= VA0 && i < pages.length ? pages[i] : null;
    return p === null ? null : p + (v & 0xfffn);
  };
  const cpu: CmoCpu = { hart: 1, caches, translate, menvcfgCbie: 3, faults: new Set(faults) };
  if (withTranslateRange) {
    cpu.translateRange = (va, len) => {
      const a = translate(va);
      if (a === null || len <= 0n) return null;
      for (let p = (va | 0xfffn) + 1n; p < va + len; p += 0x1000n) if (translate(p) !== a + (p - va)) return null;
      return a;
    };
  }
  return { mem, caches, cpu };
}

type Rig = ReturnType<typeof rig>;

/** Every cached copy with its state and bytes, and memory of the given lines. */
function snapshot(x: Rig, lines: readonly number[]) {
  const copies = [...x.caches.cachedLines()].map((c) => `${c.level}${c.where} ${c.line} ${c.state} ${x.caches.lineBytes(c.where, c.level, c.line)!.join(',')}`).sort();
  const memory = [...new Set(lines)].sort((p, q) => p - q).map((l) => `${l}: ${x.mem.read(BigInt(l) << 6n, 64).join(',')}`);
  return { copies, memory };
}

/** A cached copy to set up: hart, line, and how: 0 dirty in L1, 1 L1 clean / L2 dirty, 2 clean everywhere, 3 speculatively filled. */
type Held = { hart: number; line: number; how: 0 | 1 | 2 | 3 };

function hold(x: Rig, h: Held, value: number): void {
  const pa = BigInt(h.line) << 6n;
  if (h.how === 3) {
    x.caches.speculativeFill(h.hart, h.line);
    return;
  }
  x.caches.store(h.hart, pa + BigInt(value % 64), Uint8Array.of(value));
  if (h.how === 1) x.caches.cleanLine(h.hart, h.line, 'L1');
  if (h.how === 2) x.caches.cleanLine(h.hart, h.line, 'L1L2');
}

interface Case {
  memBase: bigint;
  pages: (bigint | null)[];
  translateRange: boolean;
  faults: string[];
  held: Held[];
  op: CmoOp;
  flavour: Flavour;
  start: bigint;
  size: bigint;
  block: number;
}

/** Runs ALT_CMO_OP and the kernel walk on two identical rigs; returns results, states, operation counts and the rigs. */
function compare(c: Case) {
  const runs = [ALT_CMO_OP, kernelWalk].map((fn) => {
    const x = rig(c.memBase, c.pages, c.translateRange, c.faults);
    c.held.forEach((h, i) => hold(x, h, i + 1));
    const b = BigInt(c.faults.includes('cmo-block-size-128') ? 128 : c.block);
    const blocks = (c.start + c.size - (c.start & ~(b - 1n)) + b - 1n) / b;
    x.caches.ops = 0; // hold() cleans some lines itself
    x.caches.cap = Number(blocks > 0n ? blocks : 0n);
    const result = fn(c.op, c.start, c.size, c.block, x.cpu, c.flavour);
    expect(x.caches.checkInvariants()).toBeNull();
    return { result, state: snapshot(x, c.held.map((h) => h.line)), ops: x.caches.ops, x };
  });
  return { model: runs[0], kernel: runs[1] };
}

function expectWalkState(c: Case) {
  const { model, kernel } = compare(c);
  expect(model.result).toEqual(kernel.result);
  expect(model.state).toEqual(kernel.state);
  expect(model.ops).toBeLessThanOrEqual(kernel.ops);
  return model;
}

const linearPages = (memBase: bigint, n: number, at = 0n) => Array.from({ length: n }, (_, i) => memBase + at + BigInt(i) * 0x1000n);

describe('ALT_CMO_OP: the jump to the next held line skips only blocks the walk would not change', () => {
  it('cmo-block-size-128 over 64-byte lines misses every other line; the jump must not land on a missed line', () => {
    // The faulty kernel loop steps 128: th.dcache.cpa at +0x000, +0x080, +0x100, +0x180. The dirty line at
    // +0x140 is never cleaned, so memory keeps its old contents there (the bug the detector must see).
    const c: Case = {
      memBase: BASE, pages: [], translateRange: false, faults: ['cmo-block-size-128'],
      held: [{ hart: 0, line: L, how: 0 }, { hart: 0, line: L + 5, how: 0 }],
      op: 'clean', flavour: 'thead-pa', start: BASE, size: 0x200n, block: 64,
    };
    expectWalkState(c);
    const x = rig(BASE, [], false, c.faults);
    c.held.forEach((h, i) => hold(x, h, i + 1));
    expect(ALT_CMO_OP('clean', BASE, 0x200n, 64, x.cpu, 'thead-pa')).toEqual({ kind: 'done' });
    expect(x.caches.lineState(0, 'L1', L)).toBe('C');
    expect(x.caches.lineState(0, 'L1', L + 5)).toBe('D');
    expect(x.mem.read(BASE + 0x140n, 64).every((v) => v === POISON)).toBe(true);
  });

  it('a Zicbom block smaller than the line (riscv,cbom-block-size = 32): two cbo.clean per line, every line cleaned, no block twice', () => {
    // The kernel loop issues cbo.clean at +0, +32 (line L), +64, +96 (line L + 1): four instructions.
    for (const translateRange of [true, false]) {
      const c: Case = {
        memBase: BASE, pages: linearPages(BASE, 1), translateRange, faults: [],
        held: [{ hart: 0, line: L, how: 0 }, { hart: 2, line: L + 1, how: 0 }],
        op: 'clean', flavour: 'zicbom', start: VA0, size: 0x80n, block: 32,
      };
      const m = expectWalkState(c);
      expect(m.ops).toBeLessThanOrEqual(4);
      expect(m.x.mem.read(BASE + 1n, 1)[0]).toBe(1); // hold() stored value v at offset v % 64
      expect(m.x.mem.read(BASE + 0x42n, 1)[0]).toBe(2);
    }
  });

  it('RAM from PA 0 (SG2042): with a 32-byte block, line 0 is found again after its first block and the loop goes on to line 1', () => {
    // cbo.clean at VA0 +0, +32 (PA line 0), +64, +96 (PA line 1): both lines written back.
    const c: Case = {
      memBase: 0n, pages: linearPages(0n, 1), translateRange: true, faults: [],
      held: [{ hart: 1, line: 0, how: 0 }, { hart: 1, line: 1, how: 0 }],
      op: 'clean', flavour: 'zicbom', start: VA0, size: 0x80n, block: 32,
    };
    const m = expectWalkState(c);
    expect(m.x.mem.read(1n, 1)[0]).toBe(1);
    expect(m.x.mem.read(0x42n, 1)[0]).toBe(2);
  });

  it('a range over three contiguous pages without translateRange: checked page by page, and the last page is still cleaned', () => {
    // Range VA0 + 0xfc0 .. VA0 + 0x2140 (last line: page 2, line 4); dirty lines on pages 0 and 2, clean ones around.
    for (const op of ['clean', 'flush', 'inval'] as const) {
      const c: Case = {
        memBase: BASE, pages: linearPages(BASE, 3), translateRange: false, faults: [],
        held: [
          { hart: 0, line: L + 63, how: 0 },
          { hart: 3, line: L + 64 + 10, how: 3 },
          { hart: 2, line: L + 128 + 3, how: 1 },
          { hart: 1, line: L + 128 + 4, how: 0 },
          { hart: 1, line: L + 128 + 5, how: 2 },
        ],
        op, flavour: 'thead-va', start: VA0 + 0xfc0n, size: 0x1180n, block: 64,
      };
      const m = expectWalkState(c);
      if (op !== 'inval') expect(m.x.mem.read(BASE + 0x2100n + 4n, 1)[0], op).toBe(4);
      expect(m.x.caches.lineState(1, 'L1', L + 128 + 4), op).toBe(op === 'clean' ? 'C' : 'I');
    }
  });
});

describe('ALT_CMO_OP on scattered VA pages is the walk, whatever arithmetic relation the PAs happen to have', () => {
  // The kernel loop translates every block on its own (the MMU does), so the PA of each page is
  // whatever the page table says; only a range whose pages follow on from each other may be treated as one PA range.
  function run(pages: bigint[], dirtyPa: bigint, ramSize: bigint) {
    const x = rig(0n, pages, false, [], ramSize);
    hold(x, { hart: 0, line: lineOf(pages[0]), how: 0 }, 1);
    hold(x, { hart: 0, line: lineOf(dirtyPa), how: 0 }, 2);
    expect(ALT_CMO_OP('clean', VA0, 0x3000n, 64, x.cpu, 'thead-va')).toEqual({ kind: 'done' });
    return x;
  }

  it('pages 0x1000, 0, 0x1000 (PA of each page + PA of the first = offset into the range): the line at PA 0x40 is cleaned', () => {
    const x = run([0x1000n, 0n, 0x1000n], 0x40n, RAM);
    expect(x.mem.read(0x40n + 2n, 1)[0]).toBe(2);
    expect(x.caches.lineState(0, 'L1', 1)).toBe('C');
  });

  it('pages 0, 2 GiB + 0x1000, 2 GiB + 0x2000 (PA - PA of the first = VA + start): the line at 2 GiB + 0x1000 is cleaned', () => {
    // SG2042: one RAM bank from PA 0 past 2 GiB.
    const far = 0x8000_1000n;
    const x = run([0n, far, far + 0x1000n], far, 4n << 30n);
    expect(x.mem.read(far + 2n, 1)[0]).toBe(2);
    expect(x.caches.lineState(0, 'L1', lineOf(far))).toBe('C');
  });
});

describe('vendor 5.10 helpers on RAM from PA 0 (SG2042)', () => {
  it('line 0 is maintained like any other: dma_wb_range writes it back, dma_wbinv_range drops it', () => {
    // sophgo 5.10 arch/riscv/mm/cacheflush.c: for (i = start & ~(L1_CACHE_BYTES - 1); i < end; i += L1_CACHE_BYTES) dcache_cipa(i).
    for (const wb of [true, false]) {
      const x = rig(0n, [], false);
      hold(x, { hart: 1, line: 0, how: 0 }, 1);
      hold(x, { hart: 1, line: 1, how: 0 }, 2);
      (wb ? dma_wb_range : dma_wbinv_range)(0n, 0x80n, x.cpu, 'sg2042-sophgo');
      expect(x.mem.read(1n, 1)[0]).toBe(1);
      expect(x.mem.read(0x42n, 1)[0]).toBe(2);
      // sg2042-sophgo's wb is cipa too (clean implemented as clean + invalidate).
      expect([x.caches.lineState(1, 'L1', 0), x.caches.lineState(1, 'L1', 1)]).toEqual(['I', 'I']);
    }
    for (const v of ['th1520-beagleboard', 'd1-c906'] as VendorCmoVariant[]) {
      const x = rig(0n, [], false);
      hold(x, { hart: 1, line: 0, how: 0 }, 1);
      dma_wb_range(0n, 0x40n, x.cpu, v);
      expect(x.mem.read(1n, 1)[0], v).toBe(1);
      expect(x.caches.lineState(1, 'L1', 0), v).toBe('C');
    }
  });
});

describe('ALT_CMO_OP = the kernel walk, for any cache contents, range, block, page table and fault', () => {
  const PAGES = 6;
  const arbHeld = fc.record({
    hart: fc.integer({ min: 0, max: 3 }),
    line: fc.integer({ min: 0, max: PAGES * 64 - 1 }),
    how: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
  });
  const arbCase = fc
    .record({
      memBase: fc.constantFrom(0n, BASE),
      layout: fc.constantFrom('linear', 'shuffled', 'hole'),
      perm: fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: PAGES, maxLength: PAGES }),
      hole: fc.integer({ min: 0, max: PAGES - 1 }),
      translateRange: fc.boolean(),
      fault: fc.constantFrom(null, 'cmo-block-size-128', 'cmo-clean-l1-only', 'cmo-inval-as-flush'),
      held: fc.array(arbHeld, { maxLength: 12 }),
      op: fc.constantFrom('clean' as const, 'flush' as const, 'inval' as const),
      flavour: fc.constantFrom(...FLAVOUR_LIST),
      offset: fc.integer({ min: 0, max: PAGES * 4096 - 1 }),
      size: fc.integer({ min: 0, max: PAGES * 4096 }),
      block: fc.constantFrom(8, 16, 32, 64, 128, 256),
    })
    .map((r): Case => {
      const pa = r.flavour === 'thead-pa' || r.flavour === 'sophgo-pa';
      const pages = r.perm.map((p, i) => (r.layout === 'hole' && i === r.hole ? null : r.memBase + BigInt(r.layout === 'shuffled' ? p : i) * 0x1000n));
      const size = BigInt(Math.min(r.size, PAGES * 4096 - r.offset));
      return {
        memBase: r.memBase,
        pages,
        translateRange: r.translateRange,
        faults: r.fault === null ? [] : [r.fault],
        // The held lines sit in the 6 pages of RAM the range can reach.
        held: r.held.map((h) => ({ ...h, line: Number(r.memBase >> 6n) + h.line })),
        op: r.op,
        flavour: r.flavour,
        start: (pa ? r.memBase : VA0) + BigInt(r.offset),
        size,
        block: r.block,
      };
    });

  it('same outcome (fault included), same cached copies and memory, never more instructions than blocks', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        expectWalkState(c);
      }),
    );
  });
});
