// reference/kernel/dma/contiguous.ts: outcomes StrykerJS showed no other test pins
// down (bench/mutation-equivalents.md lists the survivors that cannot be killed).
// Kernel: kernel/dma/contiguous.c, lib/cmdline.c, lib/kstrtox.c, kernel/params.c,
// mm/cma.c, include/linux/cma.h (5.10, 6.6).
import { describe, expect, it } from 'vitest';
import type { DeviceSpec, Profile, ReservedMemorySpec } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine } from '../../reference/system.ts';
import {
  cmaReserve,
  dma_alloc_contiguous,
  dma_alloc_from_contiguous,
  dma_contiguous_reserve_area,
  dma_release_from_contiguous,
  early_cma,
  memparse,
  rmem_cma_setup,
  type CmaPlan,
} from '../../reference/kernel/dma/contiguous.ts';
import type { CmaBootState } from '../../reference/mm/cma.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { EBUSY, EINVAL, ENOSPC, ModelError } from '../../reference/types.ts';

import { profileNamed } from '../support/machines.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const G = gfpFlags('6.6');

const base = profileNamed;

/** 1 GiB at 0x8000_0000 with CMA on (the atomic pools off), as in contiguous.test.ts. */
function board(kernel: '5.10' | '6.6', patch: Partial<Profile> = {}): Profile {
  const p = base(kernel === '6.6' ? 'board-1g-6.6' : 'c920-sg2042-5.10-fixed');
  return {
    ...p,
    memory: [{ base: 0x8000_0000n, size: GiB }],
    reserved: [{ base: 0x8000_0000n, size: 2n * MiB }],
    ...patch,
    kconfig: { ...p.kconfig, CONFIG_CMA: true, CONFIG_DMA_CMA: true, CONFIG_DMA_COHERENT_POOL: false, ...(patch.kconfig ?? {}) },
  };
}

function reserve(p: Profile): CmaPlan {
  return cmaReserve(p, p.memory);
}

function sizes(p: Profile): bigint[] {
  return reserve(p).areas.map((a) => a.size);
}

function dt(name: string, b: bigint, size: bigint, extra: Partial<ReservedMemorySpec> = {}): ReservedMemorySpec {
  return { name, base: b, size, compatible: 'shared-dma-pool', reusable: true, ...extra };
}

type ReserveState = Parameters<typeof rmem_cma_setup>[0];

/** A hand-made boot state: the 1 GiB board's memblock, `maxAreas` slots, cma= given or not. */
function rs(opts: { cmdSize?: bigint | null; maxAreas?: number } = {}): ReserveState {
  const boot: CmaBootState = {
    kernel: '6.6',
    memory: [{ base: 0x8000_0000n, size: GiB }],
    reserved: [{ base: 0x8000_0000n, size: 2n * MiB }],
    areas: [],
    maxAreas: opts.maxAreas ?? 8,
    hugetlbPage: false,
    log: [],
  };
  return { boot, cmd: { size: opts.cmdSize ?? null, base: 0n, limit: 0n }, defaultIdx: null };
}

describe('Kconfig numbers as the .config spells them', () => {
  it('an int symbol given as text is read as its number; "not set" (false) takes the Kconfig default', () => {
    // A .config line is text: CONFIG_CMA_SIZE_MBYTES=32.
    expect(sizes(board('6.6', { kconfig: { CONFIG_CMA_SIZE_MBYTES: '32' } }))).toEqual([32n * MiB]);
    // CONFIG_CMA_AREAS=7 by default: the 16 MiB default area is made as usual.
    expect(sizes(board('6.6', { kconfig: { CONFIG_CMA_AREAS: false } }))).toEqual([16n * MiB]);
  });

  it('a bool, a negative number or non-numeric text for an int symbol is an unresolved .config: refused', () => {
    expect(() => reserve(board('6.6', { kconfig: { CONFIG_CMA_AREAS: true } }))).toThrow(ModelError);
    expect(() => reserve(board('6.6', { kconfig: { CONFIG_CMA_SIZE_MBYTES: -1 } }))).toThrow(ModelError);
    expect(() => reserve(board('6.6', { kconfig: { CONFIG_CMA_SIZE_MBYTES: 'lots' } }))).toThrow(ModelError);
  });

  it('CONFIG_CMA_ALIGNMENT outside its Kconfig range (2..12) is refused when the cap is read', () => {
    for (const bad of [1, 13, 31]) {
      const m = buildMachine(board('6.6', { kconfig: { CONFIG_CMA_ALIGNMENT: bad } }));
      expect(() => dma_alloc_contiguous(m, m.devices[0], 8192n, G.GFP_KERNEL)).toThrow(/outside the Kconfig range 2\.\.12/);
    }
    for (const ok of [2, 12]) {
      const m = buildMachine(board('6.6', { kconfig: { CONFIG_CMA_ALIGNMENT: ok } }));
      expect(dma_alloc_contiguous(m, m.devices[0], 8192n, G.GFP_KERNEL)).not.toBeNull();
    }
  });

  it('CONFIG_CMA_AREAS sets MAX_CMA_AREAS = 1 + CONFIG_CMA_AREAS slots (include/linux/cma.h)', () => {
    // 2 slots: two DT nodes take them; the third node and the default area find none.
    const plan = reserve(
      board('6.6', {
        kconfig: { CONFIG_CMA_AREAS: 1 },
        reservedMemory: [dt('a', 0xa000_0000n, 4n * MiB), dt('b', 0xa040_0000n, 4n * MiB), dt('c', 0xa080_0000n, 4n * MiB)],
      }),
    );
    expect(plan.areas.map((a) => a.name)).toEqual(['a', 'b']);
    // rmem_cma_setup: cma_init_reserved_mem's -ENOSPC is "unable to setup CMA region", and
    // __reserved_mem_init_node reports the node as not matched.
    expect(plan.log).toContain('Reserved memory: unable to setup CMA region');
    expect(plan.log).toContain('OF: reserved mem: node c compatible matching fail');
    expect(plan.log.filter((l) => l.startsWith('Reserved memory: created CMA memory pool'))).toHaveLength(2);
  });
});

describe('memparse / simple_strtoull base 0 (lib/kstrtox.c _parse_integer_fixup_radix, _parse_integer)', () => {
  it('"0X" is hex like "0x" (_tolower(s[1]) == \'x\')', () => {
    expect(memparse('0X10', 0)).toEqual({ value: 16n, end: 4 });
    expect(memparse('0X4M', 0)).toEqual({ value: 4n * MiB, end: 4 });
  });

  it('a digit equal to the base ends the number (val >= base: break)', () => {
    expect(memparse('0128', 0)).toEqual({ value: 10n, end: 3 });
    expect(memparse('0x1fg', 0)).toEqual({ value: 0x1fn << 30n, end: 5 }); // "g" is the G suffix
  });
});

describe('early_cma (cma=nn[MG][@start[MG][-end[MG]]])', () => {
  const st = () => ({ size: null as bigint | null, base: 0n, limit: 0n });

  it('a bare "cma" (no value) is -EINVAL', () => {
    const log: string[] = [];
    expect(early_cma(null, st(), log)).toBe(-EINVAL);
    expect(log).toEqual(['Config string not provided']);
  });

  it('well-formed values leave no model note; the parsed fields are as the kernel sets them', () => {
    for (const [p, want] of [
      ['64M', { size: 64n * MiB, base: 0n, limit: 0n }],
      ['32M@0xa0000000', { size: 32n * MiB, base: 0xa000_0000n, limit: 0xa200_0000n }],
      ['32M@0x90000000-0xa0000000', { size: 32n * MiB, base: 0x9000_0000n, limit: 0xa000_0000n }],
      // An empty value: memparse reads 0 (CMA off); the text is not "junk".
      ['', { size: 0n, base: 0n, limit: 0n }],
    ] as const) {
      const s = st();
      const log: string[] = [];
      expect(early_cma(p, s, log)).toBe(0);
      expect(s).toEqual(want);
      expect(log).toEqual([]);
    }
  });

  it('text after each number is ignored by the kernel; the model notes exactly that text', () => {
    for (const [p, tail] of [
      ['64Mxyz', 'xyz'],
      ['32M@0xa0000000xyz', 'xyz'],
      ['32M@0x90000000-0xa0000000q', 'q'],
    ] as const) {
      const log: string[] = [];
      expect(early_cma(p, st(), log)).toBe(0);
      expect(log).toEqual([`cma=${p}: trailing "${tail}" ignored`]);
    }
  });
});

describe('the command line as parse_early_param splits it (kernel/params.c next_arg)', () => {
  it('quotes around the value are stripped: cma="64M" is 64 MiB; cma="" is empty (CMA off, nothing to note)', () => {
    expect(sizes(board('6.6', { cmdline: 'cma="64M"' }))).toEqual([64n * MiB]);
    const empty = reserve(board('6.6', { cmdline: 'cma=""' }));
    expect(empty.areas).toEqual([]);
    expect(empty.log).toEqual([]);
  });

  it('a quote only at the end is part of the value: memparse stops before it (64 MiB)', () => {
    expect(sizes(board('6.6', { cmdline: 'cma=64M"' }))).toEqual([64n * MiB]);
  });

  it('only cma= reaches early_cma: other parameters before or after it change nothing', () => {
    const plan = reserve(board('6.6', { cmdline: 'cma=64M console=ttyS0 quiet' }));
    expect(plan.areas.map((a) => a.size)).toEqual([64n * MiB]);
    expect(plan.log).toEqual(['cma: Reserved 64 MiB at 0xbc000000']);
  });

  it('an unpaired quote runs to the end of the line: the later cma= is inside the first value, never its own parameter', () => {
    const plan = reserve(board('6.6', { cmdline: 'cma="64M quiet cma=16M' }));
    expect(plan.areas.map((a) => a.size)).toEqual([64n * MiB]);
    expect(plan.log[0]).toBe('cma=64M quiet cma=16M: trailing " quiet cma=16M" ignored');
  });

  it('a whole quoted argument, a tab between arguments, and parameters after "--" (for init) that early_cma never sees', () => {
    expect(sizes(board('6.6', { cmdline: 'quiet\t"cma=32M"' }))).toEqual([32n * MiB]);
    expect(sizes(board('6.6', { cmdline: 'cma=32M -- cma=64M' }))).toEqual([32n * MiB]);
    expect(sizes(board('6.6', { cmdline: 'x="a -- b" cma=32M' }))).toEqual([32n * MiB]);
  });

  it('NUMA CMA parameters are refused (not modelled: one node), with "-" for "_" as parameq allows', () => {
    expect(() => reserve(board('6.6', { cmdline: 'cma-pernuma=16M' }))).toThrow(ModelError);
    expect(() => reserve(board('6.6', { cmdline: 'cma_pernuma=16M' }))).toThrow(ModelError);
    expect(() => reserve(board('6.6', { cmdline: 'numa_cma=0:16M' }))).toThrow(ModelError);
  });
});

describe('rmem_cma_setup return values', () => {
  it('-EBUSY for a default node when cma= was given; -EINVAL for not reusable, no-map, or misaligned', () => {
    expect(rmem_cma_setup(rs({ cmdSize: 32n * MiB }), dt('linux,cma', 0xa000_0000n, 16n * MiB, { cmaDefault: true }))).toBe(-EBUSY);
    expect(rmem_cma_setup(rs(), dt('coh', 0xa000_0000n, 16n * MiB, { reusable: false }))).toBe(-EINVAL);
    expect(rmem_cma_setup(rs(), dt('nomap', 0xa000_0000n, 16n * MiB, { noMap: true }))).toBe(-EINVAL);
    const r = rs();
    expect(rmem_cma_setup(r, dt('odd', 0xa010_0000n, 16n * MiB))).toBe(-EINVAL);
    expect(r.boot.log).toEqual(['Reserved memory: incorrect alignment of CMA region']);
  });

  it("cma_init_reserved_mem's error comes back (-ENOSPC with no slot left) and no area or default is recorded", () => {
    const r = rs({ maxAreas: 0 });
    r.boot.reserved.push({ base: 0xa000_0000n, size: 16n * MiB }); // the node is reserved by the DT scan
    expect(rmem_cma_setup(r, dt('linux,cma', 0xa000_0000n, 16n * MiB, { cmaDefault: true }))).toBe(-ENOSPC);
    expect(r.defaultIdx).toBeNull();
    expect(r.boot.log).toEqual(['cma: Not enough slots for CMA reserved regions!', 'Reserved memory: unable to setup CMA region']);
  });
});

describe('dma_contiguous_reserve_area', () => {
  it('returns 0 on success (not the cma_areas[] index) and makes the area the default', () => {
    const r = rs();
    r.boot.areas.push({ name: 'cam', base: 0xa000_0000n, size: 4n * MiB, order_per_bit: 0 });
    r.boot.reserved.push({ base: 0xa000_0000n, size: 4n * MiB });
    expect(dma_contiguous_reserve_area(r, 16n * MiB, 0n, 0xc000_0000n, false)).toBe(0);
    expect(r.defaultIdx).toBe(1);
  });

  it("returns cma_declare_contiguous's error and leaves dma_contiguous_default_area NULL", () => {
    const r = rs();
    expect(dma_contiguous_reserve_area(r, 16n * MiB, 0xa010_0000n, 0n, true)).toBe(-EINVAL);
    expect(r.defaultIdx).toBeNull();
  });
});

describe('dma_contiguous_reserve: size selection and when it runs', () => {
  it('CMA_SIZE_SEL_MIN / SEL_MAX compare MBYTES with the percentage both ways', () => {
    // 10 % of 1 GiB = 26214 pages, rounded up to 104 MiB by the 4 MiB minimum alignment.
    const sel = (k: Record<string, boolean | number>) => sizes(board('6.6', { kconfig: { CONFIG_CMA_SIZE_MBYTES: 200, ...k } }));
    expect(sel({ CONFIG_CMA_SIZE_SEL_MIN: true })).toEqual([104n * MiB]);
    expect(sel({ CONFIG_CMA_SIZE_SEL_MAX: true })).toEqual([200n * MiB]);
  });

  it('size 0 does not call dma_contiguous_reserve_area (no "Not enough slots" with every slot taken)', () => {
    const nodes = [dt('a', 0xa000_0000n, 4n * MiB), dt('b', 0xa040_0000n, 4n * MiB)];
    for (const patch of [{ cmdline: 'cma=0' }, { kconfig: { CONFIG_CMA_AREAS: 1, CONFIG_CMA_SIZE_MBYTES: 0 } }]) {
      const plan = reserve(board('6.6', { reservedMemory: nodes, ...patch, kconfig: { CONFIG_CMA_AREAS: 1, ...(patch.kconfig ?? {}) } }));
      expect(plan.areas.map((a) => a.name)).toEqual(['a', 'b']);
      expect(plan.log.some((l) => l.includes('Not enough slots'))).toBe(false);
    }
  });
});

describe('cmaReserve: the boot log and which nodes reach rmem_cma_setup', () => {
  it('the plan log holds only what boot printed', () => {
    expect(reserve(base('board-1g-6.6')).log).toEqual([]); // no CONFIG_DMA_CMA
    expect(reserve(board('6.6')).log).toEqual(['cma: Reserved 16 MiB at 0xbf000000']);
  });

  it('CONFIG_DMA_CMA without CONFIG_CMA is not a resolved .config (DMA_CMA depends on CMA)', () => {
    expect(() => reserve(board('6.6', { kconfig: { CONFIG_CMA: false } }))).toThrow(ModelError);
  });

  it('only shared-dma-pool nodes meet rmem_cma_setup (RESERVEDMEM_OF_DECLARE(cma, "shared-dma-pool", ...))', () => {
    const plan = reserve(board('6.6', { reservedMemory: [dt('ramoops', 0xa000_0000n, 4n * MiB, { compatible: 'other' })] }));
    expect(plan.areas.map((a) => a.name)).toEqual(['reserved']);
  });

  it('"compatible matching fail" only for a reusable node CMA refused: not for an accepted one, not for a coherent-pool node', () => {
    const plan = reserve(
      board('6.6', {
        reservedMemory: [dt('cam', 0xa000_0000n, 4n * MiB), dt('coh', 0xa040_0000n, 4n * MiB, { reusable: false, noMap: true })],
      }),
    );
    expect(plan.areas.map((a) => a.name)).toEqual(['cam', 'reserved']);
    expect(plan.log.some((l) => l.includes('compatible matching fail'))).toBe(false);
  });
});

describe('cmaActivate: which device gets which area (rmem_cma_device_init)', () => {
  const DEV = (name: string, memoryRegion?: string): DeviceSpec => ({ name, coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, memoryRegion });

  it('the device gets the area of the node its memory-region names, not the first claimed one', () => {
    const m = buildMachine(board('6.6', { devices: [DEV('isp0', 'cam')], reservedMemory: [dt('other', 0xa000_0000n, 4n * MiB), dt('cam', 0xa040_0000n, 4n * MiB)] }));
    expect((m.devices[0].cma_area as { name: string } | null)?.name).toBe('cam');
  });

  it('a memory-region naming no reserved-memory node leaves dev->cma_area NULL', () => {
    const m = buildMachine(board('6.6', { devices: [DEV('isp0', 'nowhere')], reservedMemory: [dt('cam', 0xa000_0000n, 4n * MiB)] }));
    expect(m.devices[0].cma_area).toBeNull();
  });

  it('a node rmem_cma_setup bypassed has no rmem->ops: no area, even where the cma= area took its place or its name', () => {
    // cma=32M@0xa0000000 puts the kernel's "reserved" area at the bypassed node's base.
    const same = buildMachine(
      board('6.6', {
        devices: [DEV('isp0', 'linux,cma')],
        reservedMemory: [dt('linux,cma', 0xa000_0000n, 32n * MiB, { cmaDefault: true })],
        cmdline: 'cma=32M@0xa0000000',
      }),
    );
    expect(same.cma.default?.base_pfn).toBe(0xa0000);
    expect(same.devices[0].cma_area).toBeNull();
    // A bypassed node named like the kernel's area ("reserved"), which lies elsewhere.
    const named = buildMachine(
      board('6.6', {
        devices: [DEV('isp0', 'reserved')],
        reservedMemory: [dt('reserved', 0xa000_0000n, 32n * MiB, { cmaDefault: true })],
        cmdline: 'cma=32M',
      }),
    );
    expect(named.cma.default?.name).toBe('reserved');
    expect(named.devices[0].cma_area).toBeNull();
  });
});

describe('run time without a default area (CONFIG_CMA_SIZE_MBYTES=0, no DT area)', () => {
  it('dma_alloc_contiguous: NULL for a device without its own area (dma_contiguous_default_area is NULL)', () => {
    const m = buildMachine(board('6.6', { kconfig: { CONFIG_CMA_SIZE_MBYTES: 0 } }));
    expect(m.cma.default).toBeNull();
    expect(dma_alloc_contiguous(m, m.devices[0], 8192n, G.GFP_KERNEL)).toBeNull();
  });

  it('dma_alloc_from_contiguous: cma_alloc(NULL, ...) is NULL', () => {
    const m = buildMachine(board('6.6', { kconfig: { CONFIG_CMA_SIZE_MBYTES: 0 } }));
    expect(dma_alloc_from_contiguous(m, null, 1, 0, false)).toBeNull();
  });

  it('without CONFIG_DMA_CMA, dma_release_from_contiguous is the stub: false', () => {
    const m = buildMachine(base('board-1g-6.6'));
    expect(dma_release_from_contiguous(m, null, 0x80000, 1)).toBe(false);
  });
});
