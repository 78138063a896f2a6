// reference/hw/cpu.ts: hart loads and stores through virtual addresses.
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { cpuLoad, cpuMemset, cpuStore, translateForHart } from '../../reference/hw/cpu.ts';
import { PAGE_KERNEL, page_address, pgprot_noncached, phys_to_virt, SV39_LAYOUT, type pgprot_t } from '../../reference/arch/riscv/pgtable.ts';
import { vmap, vunmap, VM_MAP } from '../../reference/mm/vmalloc.ts';
import { lineOf, POISON } from '../../reference/mm/memory.ts';
import { KernelBug, PAGE_SIZE } from '../../reference/types.ts';

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

const bytes = (...xs: number[]) => new Uint8Array(xs);
const poison = (n: number) => new Uint8Array(n).fill(POISON);

/** A second, uncached (pgprot_noncached) alias of the given PFNs in the vmalloc area. */
function ioAlias(m: Machine, pfns: number[]): bigint {
  const prot: pgprot_t = pgprot_noncached(PAGE_KERNEL(m.init_mm.cfg), m.init_mm.cfg);
  const va = vmap(m.init_mm, pfns, pfns.length, VM_MAP, prot);
  if (va === null) throw new Error('vmap failed');
  return va;
}

const PFN = 0x4_0000; // 1 GiB: plain RAM on the SG2042-like profiles

describe('cacheable accesses (the linear map)', () => {
  it('a store lands dirty in the hart L1; DRAM keeps its old bytes until a write-back', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const va = page_address(m.init_mm, PFN) + 0x10n;
    const pa = BigInt(PFN) * 4096n + 0x10n;
    cpuStore(m, 1, va, bytes(1, 2, 3, 4));
    expect(m.caches.lineState(1, 'L1', lineOf(pa))).toBe('D');
    expect(m.mem.read(pa, 4)).toEqual(poison(4));
    expect(cpuLoad(m, 1, va, 4)).toEqual(bytes(1, 2, 3, 4));
    // Harts are coherent with each other, in the same and in another cluster.
    expect(cpuLoad(m, 0, va, 4)).toEqual(bytes(1, 2, 3, 4));
    expect(cpuLoad(m, 3, va, 4)).toEqual(bytes(1, 2, 3, 4));
    expect(translateForHart(m, va)).toEqual({ pa, kind: 'cacheable' });
  });

  it('cpuMemset is a store of `len` copies of the byte', () => {
    const m = buildMachine(profile('c920v2-sg2044-6.6'));
    const va = page_address(m.init_mm, PFN);
    cpuMemset(m, 0, va + 100n, 0x5a, 200);
    const got = cpuLoad(m, 2, va + 99n, 202);
    expect(got[0]).toBe(POISON);
    expect(got.subarray(1, 201).every((x) => x === 0x5a)).toBe(true);
    expect(got[201]).toBe(POISON);
  });

  it('cpuMemset across pages stores every byte, and leaves its source untouched', () => {
    const m = buildMachine(profile('c920v2-sg2044-6.6'));
    const va = page_address(m.init_mm, PFN);
    cpuMemset(m, 0, va + 4000n, 0x33, 9000);
    cpuStore(m, 1, va + 5000n, new Uint8Array([1, 2]));
    cpuMemset(m, 0, va + 20000n, 0x33, 10);
    const got = cpuLoad(m, 2, va + 3999n, 9002);
    expect(got[0]).toBe(POISON);
    expect(got[9001]).toBe(POISON);
    expect(Array.from(got.subarray(1001, 1003))).toEqual([1, 2]);
    expect(got.subarray(1, 9001).filter((x) => x !== 0x33).length).toBe(2);
    expect(Array.from(cpuLoad(m, 0, va + 20000n, 10))).toEqual(new Array(10).fill(0x33));
  });
});

describe('uncached accesses (NC / IO) bypass the caches', () => {
  for (const name of ['c920-sg2042-6.6', 'c920v2-sg2044-6.6']) {
    it(`${name}: a load through the IO alias reads DRAM and ignores a dirty line of the cacheable alias`, () => {
      const m = buildMachine(profile(name));
      const io = ioAlias(m, [PFN]);
      expect(translateForHart(m, io).kind).toBe('io');
      m.mem.write(BigInt(PFN) * 4096n, bytes(7, 7));
      cpuStore(m, 0, page_address(m.init_mm, PFN), bytes(9, 9));
      expect(cpuLoad(m, 0, io, 2)).toEqual(bytes(7, 7));
      expect(cpuLoad(m, 0, page_address(m.init_mm, PFN), 2)).toEqual(bytes(9, 9));
    });
  }

  it('a store through the IO alias goes to DRAM; a clean line of the cacheable alias stays stale', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const io = ioAlias(m, [PFN]);
    const pa = BigInt(PFN) * 4096n;
    m.caches.speculativeFill(2, lineOf(pa));
    cpuStore(m, 0, io, bytes(0x11, 0x22));
    expect(m.mem.read(pa, 2)).toEqual(bytes(0x11, 0x22));
    expect(m.caches.lineState(2, 'L1', lineOf(pa))).toBe('C');
    expect(cpuLoad(m, 2, page_address(m.init_mm, PFN), 2)).toEqual(poison(2));
  });

  it('vendor 5.10 static MAE bits: pgprot_noncached is SO+SH (io), the linear map C+B+SH (cacheable)', () => {
    const m = buildMachine(profile('c920-sg2042-5.10-fixed'));
    const io = ioAlias(m, [PFN]);
    expect(translateForHart(m, io).kind).toBe('io');
    expect(translateForHart(m, page_address(m.init_mm, PFN)).kind).toBe('cacheable');
  });
});

describe('accesses are split at page boundaries', () => {
  it('an 8-byte store across two vmapped pages that are not physically adjacent', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const far = PFN + 1000;
    const va = ioAlias(m, [PFN, far]);
    cpuStore(m, 0, va + BigInt(PAGE_SIZE - 4), bytes(1, 2, 3, 4, 5, 6, 7, 8));
    expect(m.mem.read(BigInt(PFN) * 4096n + 4092n, 4)).toEqual(bytes(1, 2, 3, 4));
    expect(m.mem.read(BigInt(far) * 4096n, 4)).toEqual(bytes(5, 6, 7, 8));
    // The physically following page was not touched.
    expect(m.mem.read(BigInt(PFN + 1) * 4096n, 4)).toEqual(poison(4));
    expect(cpuLoad(m, 1, va + BigInt(PAGE_SIZE - 4), 8)).toEqual(bytes(1, 2, 3, 4, 5, 6, 7, 8));
  });
});

describe('page faults on kernel addresses are oopses (KernelBug)', () => {
  it('an unmapped vmalloc address', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const va = SV39_LAYOUT['6.6'].VMALLOC_END - 0x12_3000n; // lowest-fit vmalloc never got up there
    expect(() => cpuLoad(m, 0, va, 1)).toThrow(KernelBug);
    expect(() => cpuStore(m, 0, va, bytes(1))).toThrow(/Unable to handle kernel paging request/);
  });

  it('after vunmap the alias faults', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const va = ioAlias(m, [PFN]);
    cpuLoad(m, 0, va, 1);
    vunmap(m.init_mm, va);
    expect(() => cpuLoad(m, 0, va, 1)).toThrow(KernelBug);
  });

  it('a non-canonical Sv39 address', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    expect(() => cpuLoad(m, 0, 0x0000_8000_0000_0000n, 1)).toThrow(KernelBug);
  });

  it('a linear-map address over a hole in physical memory', () => {
    const m = buildMachine(profile('three-zone-5.10')); // RAM [0, 48 MiB) and [4 GiB, 4 GiB + 24 MiB)
    const va = phys_to_virt(m.init_mm, 0x1000_0000n);
    expect(() => cpuLoad(m, 0, va, 1)).toThrow(KernelBug);
  });

  it('a faulting page in the middle of a multi-page access stops it there (bytes before it were stored)', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const va = ioAlias(m, [PFN]); // one page, then the guard gap
    expect(() => cpuStore(m, 0, va + BigInt(PAGE_SIZE - 2), bytes(1, 2, 3, 4))).toThrow(KernelBug);
    expect(m.mem.read(BigInt(PFN) * 4096n + 4094n, 2)).toEqual(bytes(1, 2));
  });

  it('vendor 5.10 PTEs (C+B+SH in bits 62..60) fault on a standard Svpbmt hart (MAEE=0, PBMTE=1)', () => {
    // Boot on the MAE hart it was built for, then run the same page tables on a standard hart.
    const m = buildMachine(profile('c920-sg2042-5.10-fixed'));
    m.hart = { maee: false, pbmte: true };
    const va = page_address(m.init_mm, PFN);
    expect(() => cpuLoad(m, 0, va, 1)).toThrow(/page fault at .*reserved bits 60:54/);
    expect(() => translateForHart(m, va)).toThrow(KernelBug);
  });

  it('a Svpbmt-patched linear map (no MT bits) read by an MAE hart is MT 00000: non-cacheable', () => {
    const base = profile('c920v2-sg2044-6.6');
    const m = buildMachine({ ...base, platform: { ...base.platform, maee: true, pbmte: false } });
    expect(translateForHart(m, page_address(m.init_mm, PFN)).kind).toBe('noncacheable');
  });
});
