import { describe, it, expect, afterEach } from 'vitest';
import fc from 'fast-check';
import { C920Caches, MODEL_GEOMETRY } from '../../reference/hw/c920-cache.ts';
import { PhysMemory, POISON, lineOf } from '../../reference/mm/memory.ts';
import {
  ALT_CMO_OP,
  CMO_INSNS,
  decodeCmo,
  encodeCmo,
  execCmo,
  dma_wb_range,
  dma_wbinv_range,
  type CmoCpu,
  type CmoFlavour,
  type CmoMnemonic,
} from '../../reference/arch/riscv/cmo.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { FAULTS } from '../../reference/config/faults.ts';

const BASE = 0x8000_0000n;
const RAM = 0x10_0000n;
/** Sv39 linear map: PAGE_OFFSET maps the start of RAM. */
const PAGE_OFFSET = 0xffff_ffd8_0000_0000n;
const va = (pa: bigint) => pa - BASE + PAGE_OFFSET;
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

function machine(opts: { hart?: number; cbie?: 0 | 1 | 2 | 3; cbcfe?: boolean; faults?: string[] } = {}) {
  const mem = new PhysMemory([{ base: BASE, size: RAM }]);
  const caches = new C920Caches(MODEL_GEOMETRY, mem);
  const cpu: CmoCpu = {
    hart: opts.hart ?? 0,
    caches,
    translate: (v) => (v >= PAGE_OFFSET && v < PAGE_OFFSET + RAM ? v - PAGE_OFFSET + BASE : null),
    menvcfgCbie: opts.cbie ?? 3,
    faults: new Set(opts.faults ?? []),
  };
  if (opts.cbcfe !== undefined) cpu.menvcfgCbcfe = opts.cbcfe;
  return { mem, caches, cpu };
}

/** Device (non-coherent master): memory only. */
const devRead = (mem: PhysMemory, pa: bigint, n: number) => mem.read(pa, n);
const devWrite = (mem: PhysMemory, pa: bigint, d: Uint8Array) => mem.write(pa, d);

const L = lineOf(BASE);
const isVa = (f: CmoFlavour) => f === 'zicbom' || f === 'thead-va' || f === 'thead-va-cval1';
const addrFor = (f: CmoFlavour, pa: bigint) => (isVa(f) ? va(pa) : pa);

let tracer: Tracer | null = null;
afterEach(() => {
  setTracer(null);
  tracer = null;
});
function traced(): Tracer {
  tracer = new Tracer();
  setTracer(tracer);
  return tracer;
}

describe('encodings', () => {
  it('match the spec table (§1.5, §5.2–5.4)', () => {
    const spec: Record<CmoMnemonic, number> = {
      'th.dcache.call': 0x0010000b,
      'th.dcache.iall': 0x0020000b,
      'th.dcache.ciall': 0x0030000b,
      'th.dcache.cval1': 0x0245000b,
      'th.dcache.cva': 0x0255000b,
      'th.dcache.iva': 0x0265000b,
      'th.dcache.civa': 0x0275000b,
      'th.dcache.cpal1': 0x0285000b,
      'th.dcache.cpa': 0x0295000b,
      'th.dcache.ipa': 0x02a5000b,
      'th.dcache.cipa': 0x02b5000b,
      'th.l2cache.call': 0x0150000b,
      'th.l2cache.iall': 0x0160000b,
      'th.l2cache.ciall': 0x0170000b,
      'th.sync': 0x0180000b,
      'th.sync.s': 0x0190000b,
      'th.sync.i': 0x01a0000b,
      'th.sync.is': 0x01b0000b,
      'cbo.clean': 0x0015200f,
      'cbo.flush': 0x0025200f,
      'cbo.inval': 0x0005200f,
    };
    for (const [m, enc] of Object.entries(spec)) expect(CMO_INSNS[m as CmoMnemonic].encoding, m).toBe(enc);
    expect(Object.keys(CMO_INSNS).sort()).toEqual(Object.keys(spec).sort());
  });

  it('T-Head words follow (funct12 << 20) | (rs1 << 15) | 0x0B', () => {
    expect(CMO_INSNS['th.dcache.cva'].encoding).toBe(((0x025 << 20) | (10 << 15) | 0x0b) >>> 0);
    expect(CMO_INSNS['th.sync.s'].encoding).toBe((0x019 << 20) | 0x0b);
  });

  it('decodeCmo names every table word and rejects others', () => {
    for (const m of Object.keys(CMO_INSNS) as CmoMnemonic[]) {
      expect(decodeCmo(CMO_INSNS[m].encoding)?.mnemonic).toBe(m);
    }
    expect(decodeCmo(0x0245000b)?.text).toBe('th.dcache.cval1 a0');
    expect(decodeCmo(0x0015200f)?.text).toBe('cbo.clean (a0)');
    expect(decodeCmo(0x0190000b)?.text).toBe('th.sync.s');
    expect(decodeCmo(encodeCmo('th.dcache.cpa', 11))?.text).toBe('th.dcache.cpa a1');
    expect(decodeCmo(0x0000000b)).toBeNull();
    expect(decodeCmo(0x00000013)).toBeNull(); // nop (addi x0,x0,0)
    expect(decodeCmo(0x0195000b)).toBeNull(); // th.sync.s takes no rs1
    expect(decodeCmo(0x0045200f)).toBeNull(); // cbo.zero is not a CBM op here
  });
});

describe('execCmo: each instruction', () => {
  /** Hart 0 line at BASE dirty with 0x11 (L1 D, L2 C poison, memory poison). */
  function dirty(opts: Parameters<typeof machine>[0] = {}) {
    const m = machine(opts);
    m.caches.store(0, BASE, bytes(64, 0x11));
    return m;
  }
  const state = (c: C920Caches) => [c.lineState(0, 'L1', L), c.lineState(0, 'L2', L)].join('');

  const cases: [CmoMnemonic, string, number][] = [
    // insn, L1+L2 state after, memory byte after
    ['th.dcache.cval1', 'CD', POISON],
    ['th.dcache.cpal1', 'CD', POISON],
    ['th.dcache.cva', 'CC', 0x11],
    ['th.dcache.cpa', 'CC', 0x11],
    ['th.dcache.iva', 'II', POISON],
    ['th.dcache.ipa', 'II', POISON],
    ['th.dcache.civa', 'II', 0x11],
    ['th.dcache.cipa', 'II', 0x11],
    ['cbo.clean', 'CC', 0x11],
    ['cbo.flush', 'II', 0x11],
    ['cbo.inval', 'II', POISON],
  ];
  for (const [m, st, memByte] of cases) {
    it(`${m}: ${st}, memory ${memByte.toString(16)}`, () => {
      const x = dirty({ hart: 2 }); // issued from the other cluster: broadcast reaches hart 0
      const addr = CMO_INSNS[m].operand === 'va' ? va(BASE + 5n) : BASE + 5n;
      expect(execCmo(x.cpu, m, addr)).toEqual({ kind: 'done' });
      expect(state(x.caches)).toBe(st);
      expect(x.mem.read(BASE, 1)[0]).toBe(memByte);
    });
  }

  it('whole-cache forms act on the executing hart / its cluster', () => {
    const a = dirty();
    execCmo(a.cpu, 'th.dcache.call', 0n);
    expect(state(a.caches)).toBe('CD');
    const b = dirty();
    execCmo(b.cpu, 'th.dcache.ciall', 0n);
    expect(state(b.caches)).toBe('ID');
    const c = dirty();
    execCmo(c.cpu, 'th.dcache.iall', 0n);
    expect(state(c.caches)).toBe('IC');
    const d = dirty({ hart: 1 });
    execCmo(d.cpu, 'th.l2cache.ciall', 0n);
    expect(state(d.caches)).toBe('II');
    expect(d.mem.read(BASE, 1)[0]).toBe(0x11);
    const e = dirty({ hart: 2 }); // other cluster's L2: nothing happens to cluster 0
    execCmo(e.cpu, 'th.l2cache.iall', 0n);
    expect(state(e.caches)).toBe('DC');
    const f = dirty();
    execCmo(f.cpu, 'th.dcache.call', 0n);
    execCmo(f.cpu, 'th.l2cache.call', 0n);
    expect(state(f.caches)).toBe('CC');
    expect(f.mem.read(BASE, 1)[0]).toBe(0x11);
  });

  it('a VA form whose translation fails returns a page fault; PA forms never translate', () => {
    const x = dirty();
    expect(execCmo(x.cpu, 'th.dcache.cva', BASE)).toEqual({ kind: 'page-fault', insn: 'th.dcache.cva', va: BASE });
    expect(execCmo(x.cpu, 'cbo.flush', 0x1000n)).toEqual({ kind: 'page-fault', insn: 'cbo.flush', va: 0x1000n });
    expect(state(x.caches)).toBe('DC');
    expect(execCmo(x.cpu, 'th.dcache.cpa', BASE)).toEqual({ kind: 'done' });
    expect(state(x.caches)).toBe('CC');
  });

  it('sync instructions only leave a trace note', () => {
    const t = traced();
    const x = dirty();
    for (const s of ['th.sync', 'th.sync.s', 'th.sync.i', 'th.sync.is'] as const) execCmo(x.cpu, s, 0n);
    expect(state(x.caches)).toBe('DC');
    expect(t.events.map((e) => e.detail)).toEqual(['th.sync', 'th.sync.s', 'th.sync.i', 'th.sync.is']);
  });
});

describe('Zicbom envcfg', () => {
  it('CBIE=00 (and reserved 10): cbo.inval is illegal, nothing changes', () => {
    for (const cbie of [0, 2] as const) {
      const x = machine({ cbie });
      x.caches.store(0, BASE, bytes(1, 1));
      expect(execCmo(x.cpu, 'cbo.inval', va(BASE))).toEqual({ kind: 'illegal-instruction', insn: 'cbo.inval' });
      expect(x.caches.lineState(0, 'L1', L)).toBe('D');
    }
  });

  it('CBIE=01: cbo.inval performs a flush (dirty data reaches memory); CBIE=11 discards it', () => {
    const a = machine({ cbie: 1 });
    a.caches.store(0, BASE, bytes(1, 1));
    execCmo(a.cpu, 'cbo.inval', va(BASE));
    expect(a.caches.lineState(0, 'L1', L)).toBe('I');
    expect(a.mem.read(BASE, 1)[0]).toBe(1);
    const b = machine({ cbie: 3 });
    b.caches.store(0, BASE, bytes(1, 1));
    execCmo(b.cpu, 'cbo.inval', va(BASE));
    expect(b.caches.lineState(0, 'L1', L)).toBe('I');
    expect(b.mem.read(BASE, 1)[0]).toBe(POISON);
  });

  it('CBCFE=0 makes cbo.clean and cbo.flush illegal', () => {
    const x = machine({ cbcfe: false });
    expect(execCmo(x.cpu, 'cbo.clean', va(BASE)).kind).toBe('illegal-instruction');
    expect(execCmo(x.cpu, 'cbo.flush', va(BASE)).kind).toBe('illegal-instruction');
    expect(execCmo(x.cpu, 'cbo.inval', va(BASE)).kind).toBe('done');
  });
});

describe('ALT_CMO_OP loop', () => {
  /** Dirty lines 0x0fc0 … 0x10c0 above BASE; clean [start, start+size) and list the offsets cleaned. */
  function cleaned(start: number, size: number, faults: string[] = [], flavour: CmoFlavour = 'thead-pa'): number[] {
    const x = machine({ faults });
    for (let off = 0xf80; off <= 0x1100; off += 64) x.caches.store(0, BASE + BigInt(off), bytes(1, 1));
    const pa = BASE + BigInt(start);
    expect(ALT_CMO_OP('clean', addrFor(flavour, pa), BigInt(size), 64, x.cpu, flavour)).toEqual({ kind: 'done' });
    const out: number[] = [];
    for (let off = 0xf80; off <= 0x1100; off += 64) {
      if (x.caches.lineState(0, 'L1', lineOf(BASE + BigInt(off))) === 'C') out.push(off);
    }
    return out;
  }

  it('aligns start down and stops before the unaligned exclusive end', () => {
    expect(cleaned(0x1030, 0x20)).toEqual([0x1000, 0x1040]); // a0 = 0x1000, end 0x1050
    expect(cleaned(0x1000, 0x40)).toEqual([0x1000]); // end 0x1040 is exclusive
    expect(cleaned(0x1000, 0x41)).toEqual([0x1000, 0x1040]);
    expect(cleaned(0x103f, 1)).toEqual([0x1000]);
    expect(cleaned(0x1000, 0)).toEqual([]); // aligned start, size 0: no iteration
    expect(cleaned(0x1030, 0)).toEqual([0x1000]); // unaligned start, size 0: one block (0x1000 < 0x1030)
    expect(cleaned(0x1030, 0x20, [], 'thead-va')).toEqual([0x1000, 0x1040]);
  });

  it('cleans exactly the lines that overlap a non-empty range (block 64)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8192 }), fc.integer({ min: 1, max: 4096 }), (start, size) => {
        const x = machine();
        const first = Math.floor(start / 64);
        const last = Math.floor((start + size - 1) / 64);
        for (let l = Math.max(0, first - 1); l <= last + 1; l++) x.caches.store(0, BASE + BigInt(l * 64), bytes(1, 1));
        ALT_CMO_OP('flush', BASE + BigInt(start), BigInt(size), 64, x.cpu, 'thead-pa');
        for (let l = Math.max(0, first - 1); l <= last + 1; l++) {
          const want = l >= first && l <= last ? 'I' : 'D';
          if (x.caches.lineState(0, 'L1', L + l) !== want) return false;
        }
        return true;
      }),
      { numRuns: 100 },
    );
  });

  it('T-Head flavours end with th.sync.s; Zicbom has no tail; none emits nothing', () => {
    const t = traced();
    const x = machine();
    x.caches.store(0, BASE, bytes(1, 1));
    ALT_CMO_OP('clean', va(BASE), 64n, 64, x.cpu, 'thead-va');
    expect(t.events.map((e) => e.detail ?? e.fn)).toEqual(['ALT_CMO_OP', 'th.dcache.cva', 'th.sync.s']);
    t.clear();
    ALT_CMO_OP('clean', va(BASE), 64n, 64, x.cpu, 'zicbom');
    expect(t.events.map((e) => e.detail ?? e.fn)).toEqual(['ALT_CMO_OP', 'cbo.clean']);
    t.clear();
    x.caches.store(0, BASE, bytes(1, 2));
    ALT_CMO_OP('flush', va(BASE), 64n, 64, x.cpu, 'none');
    expect(x.caches.lineState(0, 'L1', L)).toBe('D');
    // the sync tail runs even when the loop does not iterate
    t.clear();
    ALT_CMO_OP('clean', BASE, 0n, 64, x.cpu, 'thead-pa');
    expect(t.events.map((e) => e.detail ?? e.fn)).toEqual(['ALT_CMO_OP', 'th.dcache.cpa', 'th.sync.s']);
  });

  it('flavour instruction choice (clean / flush / inval)', () => {
    const t = traced();
    const x = machine();
    const pick = (f: CmoFlavour, op: 'clean' | 'flush' | 'inval') => {
      t.clear();
      ALT_CMO_OP(op, addrFor(f, BASE), 1n, 64, x.cpu, f);
      return t.events[1].detail;
    };
    expect(['clean', 'flush', 'inval'].map((o) => pick('thead-va-cval1', o as 'clean'))).toEqual([
      'th.dcache.cval1',
      'th.dcache.civa',
      'th.dcache.iva',
    ]);
    expect(['clean', 'flush', 'inval'].map((o) => pick('thead-va', o as 'clean'))).toEqual([
      'th.dcache.cva',
      'th.dcache.civa',
      'th.dcache.iva',
    ]);
    expect(['clean', 'flush', 'inval'].map((o) => pick('thead-pa', o as 'clean'))).toEqual([
      'th.dcache.cpa',
      'th.dcache.cipa',
      'th.dcache.ipa',
    ]);
    expect(['clean', 'flush', 'inval'].map((o) => pick('sophgo-pa', o as 'clean'))).toEqual([
      'th.dcache.cipa',
      'th.dcache.cipa',
      'th.dcache.ipa',
    ]);
  });

  it('returns the first fault and stops the loop', () => {
    const x = machine();
    x.caches.store(0, BASE + RAM - 64n, bytes(1, 1));
    // linear-map range running past the end of RAM: the second block has no translation
    const r = ALT_CMO_OP('clean', va(BASE + RAM - 64n), 128n, 64, x.cpu, 'thead-va');
    expect(r).toEqual({ kind: 'page-fault', insn: 'th.dcache.cva', va: PAGE_OFFSET + RAM });
    expect(x.caches.lineState(0, 'L1', lineOf(BASE + RAM - 64n))).toBe('C');
    const y = machine({ cbie: 0 });
    expect(ALT_CMO_OP('inval', va(BASE), 64n, 64, y.cpu, 'zicbom')).toEqual({ kind: 'illegal-instruction', insn: 'cbo.inval' });
  });

  it('rejects a block size that is not a power of two (model misuse)', () => {
    const x = machine();
    expect(() => ALT_CMO_OP('clean', BASE, 64n, 0, x.cpu, 'thead-pa')).toThrow(/power of two/);
    expect(() => ALT_CMO_OP('clean', BASE, 64n, 96, x.cpu, 'thead-pa')).toThrow(/power of two/);
  });
});

describe('faults', () => {
  it('are registered for ALT_CMO_OP', () => {
    for (const f of ['cmo-clean-l1-only', 'cmo-inval-as-flush', 'cmo-block-size-128'] as const) {
      expect(FAULTS[f].fn).toBe('ALT_CMO_OP');
    }
  });

  it('cmo-clean-l1-only: the clean stops at L2 (cpal1 on PA, cval1 on VA)', () => {
    for (const f of ['thead-pa', 'thead-va', 'zicbom'] as const) {
      const x = machine({ faults: ['cmo-clean-l1-only'] });
      x.caches.store(0, BASE, bytes(1, 1));
      ALT_CMO_OP('clean', addrFor(f, BASE), 64n, 64, x.cpu, f);
      expect(x.caches.lineState(0, 'L2', L), f).toBe('D');
      expect(devRead(x.mem, BASE, 1)[0], f).toBe(POISON);
    }
  });

  it('cmo-inval-as-flush: dirty data is written back instead of dropped', () => {
    const x = machine({ faults: ['cmo-inval-as-flush'] });
    x.caches.store(0, BASE, bytes(1, 1));
    ALT_CMO_OP('inval', BASE, 64n, 64, x.cpu, 'thead-pa');
    expect(x.caches.lineState(0, 'L1', L)).toBe('I');
    expect(x.mem.read(BASE, 1)[0]).toBe(1);
  });

  it('cmo-block-size-128: every other line is skipped', () => {
    const x = machine({ faults: ['cmo-block-size-128'] });
    for (let i = 0; i < 4; i++) x.caches.store(0, BASE + BigInt(i * 64), bytes(1, 1));
    ALT_CMO_OP('clean', BASE, 256n, 64, x.cpu, 'thead-pa');
    expect([0, 1, 2, 3].map((i) => x.caches.lineState(0, 'L1', L + i))).toEqual(['C', 'D', 'C', 'D']);
  });
});

describe('vendor 5.10 range helpers', () => {
  it('beagleboard TH1520: cpa / cipa from start & ~63, exclusive end, th.sync.i barrier', () => {
    const t = traced();
    const x = machine();
    for (let i = 0; i < 3; i++) x.caches.store(0, BASE + BigInt(i * 64), bytes(1, 1));
    dma_wb_range(BASE + 0x10n, BASE + 0x80n, x.cpu, 'th1520-beagleboard');
    expect([0, 1, 2].map((i) => x.caches.lineState(0, 'L1', L + i))).toEqual(['C', 'C', 'D']);
    expect(t.events.map((e) => e.detail ?? e.fn)).toEqual(['dma_wb_range', 'th.dcache.cpa', 'th.sync.i']);
    t.clear();
    dma_wbinv_range(BASE, BASE + 0xc0n, x.cpu, 'th1520-beagleboard');
    expect(x.caches.lineCount).toBe(0);
    expect(x.mem.read(BASE + 128n, 1)[0]).toBe(1);
    expect(t.events.map((e) => e.detail ?? e.fn)).toEqual(['dma_wbinv_range', 'th.dcache.cipa', 'th.sync.i']);
  });

  it('beagleboard before thead_dma_init: silent no-op, no barrier', () => {
    const t = traced();
    const x = machine();
    x.caches.store(0, BASE, bytes(1, 1));
    dma_wbinv_range(BASE, BASE + 64n, x.cpu, 'th1520-beagleboard-preinit');
    expect(x.caches.lineState(0, 'L1', L)).toBe('D');
    expect(t.events.some((e) => e.detail?.startsWith('th.sync'))).toBe(false);
  });

  it('sophgo SG2042: dma_wb_range is clean+invalidate (cipa), th.sync.is barrier', () => {
    const t = traced();
    const x = machine();
    x.caches.store(0, BASE, bytes(1, 1));
    dma_wb_range(BASE, BASE + 64n, x.cpu, 'sg2042-sophgo');
    expect(x.caches.lineState(0, 'L1', L)).toBe('I');
    expect(x.caches.lineState(0, 'L2', L)).toBe('I');
    expect(x.mem.read(BASE, 1)[0]).toBe(1);
    expect(t.events.map((e) => e.detail ?? e.fn)).toEqual(['dma_wb_range', 'th.dcache.cipa', 'th.sync.is']);
  });
});

// Spec §7: DEV reads/writes memory only. Each scenario shows the stale value
// without the right maintenance and the right value with it.
describe('stale-data scenarios (spec §7)', () => {
  const OLD = 0x0d;
  const NEW = 0x4e;
  const N = 64n * 2n;

  it('(a) dirty line evicted after the device wrote memory', () => {
    for (const flavour of ['none', 'thead-va'] as const) {
      const x = machine();
      x.caches.store(0, BASE, bytes(Number(N), OLD)); // 1 CPU writes buf
      ALT_CMO_OP('clean', va(BASE), N, 64, x.cpu, flavour); // 2 map FROM_DEVICE (6.6: clean)
      devWrite(x.mem, BASE, bytes(Number(N), NEW)); // 3
      for (let i = 0; i < 2; i++) {
        x.caches.evictLine(0, 'L1', L + i); // 4 hardware evicts
        x.caches.evictLine(0, 'L2', L + i);
      }
      ALT_CMO_OP('inval', va(BASE), N, 64, x.cpu, flavour); // unmap: for_cpu inval
      const got = x.caches.load(0, BASE, Number(N)); // 5
      expect(got, flavour).toEqual(bytes(Number(N), flavour === 'none' ? OLD : NEW));
    }
  });

  it('(b) speculative fill between sync_for_device and the device write', () => {
    for (const post of [false, true]) {
      const x = machine();
      x.mem.write(BASE, bytes(64, OLD));
      ALT_CMO_OP('clean', BASE, 64n, 64, x.cpu, 'thead-pa'); // 1 for_device
      x.caches.speculativeFill(1, L); // 2 prefetch on another hart brings OLD in as C
      devWrite(x.mem, BASE, bytes(64, NEW)); // 3
      if (post) ALT_CMO_OP('inval', BASE, 64n, 64, x.cpu, 'thead-pa'); // for_cpu inval
      expect(x.caches.load(0, BASE, 1)[0], `post=${post}`).toBe(post ? NEW : OLD); // 4
    }
  });

  it('(c) L1-only clean (cval1, v6.0–6.6-rc1) before DMA_TO_DEVICE: device reads old memory, L2 holds the data', () => {
    const cases: [CmoFlavour | 'skip', number][] = [
      ['skip', POISON],
      ['thead-va-cval1', POISON],
      ['thead-va', NEW],
      ['thead-pa', NEW],
      ['zicbom', NEW],
    ];
    for (const [flavour, want] of cases) {
      const x = machine();
      x.caches.store(0, BASE, bytes(64, NEW)); // 1 CPU writes descriptor
      if (flavour !== 'skip') ALT_CMO_OP('clean', addrFor(flavour, BASE), 64n, 64, x.cpu, flavour); // 2
      expect(devRead(x.mem, BASE, 64), flavour).toEqual(bytes(64, want)); // 3
      if (flavour === 'thead-va-cval1') {
        expect(x.caches.lineState(0, 'L1', L)).toBe('C');
        expect(x.caches.lineState(0, 'L2', L)).toBe('D');
        expect(x.caches.lineBytes(0, 'L2', L)).toEqual(bytes(64, NEW));
      }
    }
  });

  it('(g) "invalidate" carried out as flush after DMA overwrites the device data', () => {
    const cases: [string, Parameters<typeof machine>[0], CmoFlavour, number][] = [
      ['zicbom CBIE=01', { cbie: 1 }, 'zicbom', OLD],
      ['fault cmo-inval-as-flush', { faults: ['cmo-inval-as-flush'] }, 'thead-pa', OLD],
      ['zicbom CBIE=11', { cbie: 3 }, 'zicbom', NEW],
      ['thead-pa ipa', {}, 'thead-pa', NEW],
    ];
    for (const [name, opts, flavour, want] of cases) {
      const x = machine(opts);
      x.caches.store(0, BASE, bytes(64, OLD)); // 1 CPU dirtied the buffer, no pre-DMA clean
      devWrite(x.mem, BASE, bytes(64, NEW)); // 2
      ALT_CMO_OP('inval', addrFor(flavour, BASE), 64n, 64, x.cpu, flavour); // 3 post-DMA
      expect(x.caches.load(0, BASE, 1)[0], name).toBe(want);
      expect(devRead(x.mem, BASE, 1)[0], name).toBe(want);
    }
  });
});
