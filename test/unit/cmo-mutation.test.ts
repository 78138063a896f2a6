// Edge cases of reference/arch/riscv/cmo.ts that the mutation run (npm run mutation)
// showed untested: register checks of encodeCmo, th.l2cache.iall, the trace,
// and the "nothing cached, skip the loop" shortcut on page tables that are not
// the linear map (holes, scattered pages) and on PA flavours (no translation).
import { describe, expect, it } from 'vitest';
import { C920Caches, MODEL_GEOMETRY } from '../../reference/hw/c920-cache.ts';
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
