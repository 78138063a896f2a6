// Small files of reference/ whose StrykerJS survivors no other test pinned down:
// include/linux/dma-direction.ts, kernel/resource.ts, trace.ts,
// kernel/dma/max-mapping-size.ts, config/profile.ts (bench/mutation-equivalents.md
// lists the ones no test can kill).
import { describe, expect, it } from 'vitest';
import type { Profile, ReservedMemorySpec } from '../../reference/config/profile.ts';
import { hasFault, kconfigEnabled } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE, dmaDirName } from '../../reference/include/linux/dma-direction.ts';
import { systemRamResources, walk_system_ram_range } from '../../reference/kernel/resource.ts';
import { dma_max_mapping_size, SIZE_MAX } from '../../reference/kernel/dma/max-mapping-size.ts';
import { is_swiotlb_active } from '../../reference/kernel/dma/swiotlb.ts';
import { isTracing, kenter, kexit, setTracer, Tracer } from '../../reference/trace.ts';
import { DMA_BIT_MASK, EINVAL, ModelError, PAGE_SHIFT, U64_MAX } from '../../reference/types.ts';
import { traceCalls } from './trace-calls.ts';

const MiB = 1n << 20n;
const pfn = (pa: bigint) => Number(pa >> BigInt(PAGE_SHIFT));

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

describe('dmaDirName (kernel/dma/debug.c dir2name[])', () => {
  it('names the four enum dma_data_direction values', () => {
    expect([DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_NONE].map(dmaDirName)).toEqual([
      'DMA_BIDIRECTIONAL',
      'DMA_TO_DEVICE',
      'DMA_FROM_DEVICE',
      'DMA_NONE',
    ]);
  });

  it('anything outside dir2name[] is shown as its number, never as "undefined"', () => {
    // Just past the table, just before it, and a non-integer a model could hand in.
    expect(dmaDirName(4)).toBe('DMA_DIR(4)');
    expect(dmaDirName(-1)).toBe('DMA_DIR(-1)');
    expect(dmaDirName(1.5)).toBe('DMA_DIR(1.5)');
  });
});

describe('walk_system_ram_range / System RAM resources (kernel/resource.c, arch/riscv/kernel/setup.c init_resources)', () => {
  // board-1g-6.6-dt-pools' Kconfig (CMA, DMA_DECLARE_COHERENT) with two banks apart
  // and reserved-memory nodes of every kind.
  const A = { base: 0x8000_0000n, size: 256n * MiB }; // [0x8000_0000, 0x9000_0000)
  const B = { base: 0xa000_0000n, size: 256n * MiB }; // [0xa000_0000, 0xb000_0000)
  function twoBanks(nodes: ReservedMemorySpec[]): Machine {
    const p = profile('board-1g-6.6-dt-pools');
    return buildMachine({ ...p, memory: [A, B], devices: [], reservedMemory: nodes });
  }

  it('a no-map hole cuts only the resource it lies in: at the end of one bank, at the start of the next', () => {
    const m = twoBanks([
      // no handler matches 'other' (-ENOENT), so memblock_mark_nomap stays: "Reserved"
      { name: 'fw-a', base: 0x8ff0_0000n, size: MiB, compatible: 'other', noMap: true },
      { name: 'fw-b', base: 0xa000_0000n, size: MiB, compatible: 'other', noMap: true },
    ]);
    // No empty resource is left where a hole touches a resource's edge.
    expect(systemRamResources(m)).toEqual([
      { start: pfn(0x8000_0000n), end: pfn(0x8ff0_0000n) },
      { start: pfn(0xa010_0000n), end: pfn(0xb000_0000n) },
    ]);
    const seen: [number, number][] = [];
    expect(walk_system_ram_range(m, 0, Infinity, (p, n) => (seen.push([p, n]), 0))).toBe(0);
    expect(seen).toEqual([
      [pfn(0x8000_0000n), pfn(0x0ff0_0000n)],
      [pfn(0xa010_0000n), pfn(0x0ff0_0000n)],
    ]);
  });

  it('reservations that stay mapped are still System RAM: a plain node, and a no-map + reusable pool whose setup failed', () => {
    const m = twoBanks([
      // memblock_reserve only: still in memblock.memory, so still "System RAM".
      { name: 'fw', base: 0x8400_0000n, size: MiB, compatible: 'other' },
      // no-map + reusable: rmem_cma_setup refuses no-map, rmem_dma_setup refuses reusable,
      // so fdt_init_reserved_mem gives it back (6.6 memblock_clear_nomap): System RAM again.
      { name: 'odd-pool', base: 0xa400_0000n, size: MiB, compatible: 'shared-dma-pool', reusable: true, noMap: true },
    ]);
    expect(systemRamResources(m)).toEqual([
      { start: pfn(0x8000_0000n), end: pfn(0x9000_0000n) },
      { start: pfn(0xa000_0000n), end: pfn(0xb000_0000n) },
    ]);
  });

  it('nr_pages 0 from a non-zero pfn visits nothing: -EINVAL (start < end fails at once)', () => {
    const m = twoBanks([]);
    let calls = 0;
    expect(walk_system_ram_range(m, pfn(0x8000_0000n), 0, () => (calls++, 0))).toBe(-EINVAL);
    expect(calls).toBe(0);
  });

  it('(0, 0) walks everything: the byte end ((0 + 0) << PAGE_SHIFT) - 1 wraps to U64_MAX', () => {
    const m = twoBanks([]);
    const seen: number[] = [];
    expect(walk_system_ram_range(m, 0, 0, (p) => (seen.push(p), 0))).toBe(0);
    expect(seen).toEqual([pfn(A.base), pfn(B.base)]);
  });

  it('arguments an unsigned long cannot hold are refused, not walked', () => {
    const m = twoBanks([]);
    expect(() => walk_system_ram_range(m, 0, -1, () => 0)).toThrow(ModelError);
    expect(() => walk_system_ram_range(m, 0, Number.NaN, () => 0)).toThrow(ModelError);
    expect(() => walk_system_ram_range(m, 0.5, 1, () => 0)).toThrow(ModelError);
  });
});

describe('trace.ts: the kernel call trace users read', () => {
  it('kenter records its detail when given one, and no detail otherwise', () => {
    const t = new Tracer();
    setTracer(t);
    try {
      kenter('outer', 'why');
      kenter('inner');
      kexit();
      kexit();
    } finally {
      setTracer(null);
    }
    expect(t.events).toEqual([
      { depth: 0, fn: 'outer', detail: 'why' },
      { depth: 1, fn: 'inner' },
    ]);
    expect(t.events[1].detail).toBeUndefined();
  });

  it('a tracer installed inside a kernel function: the unmatched kexit does not push later calls above depth 0', () => {
    const t = new Tracer();
    kenter('already_running');
    setTracer(t);
    try {
      kexit(); // leaves a function the tracer never saw enter
      kenter('next');
      kexit();
    } finally {
      setTracer(null);
    }
    expect(t.events).toEqual([{ depth: 0, fn: 'next' }]);
  });

  it('isTracing says whether a tracer is installed', () => {
    expect(isTracing()).toBe(false);
    setTracer(new Tracer());
    try {
      expect(isTracing()).toBe(true);
    } finally {
      setTracer(null);
    }
    expect(isTracing()).toBe(false);
  });

  it('a traced buildMachine boots for real, so the boot appears in the trace (system.ts)', () => {
    const p = profile('board-1g-6.6');
    buildMachine(p); // an untraced build leaves a boot image for this Profile
    const traced = traceCalls(() => buildMachine(p));
    expect(traced.calls.length).toBeGreaterThan(0);
    expect(traced.calls.some((c) => c.trim() === 'dma_atomic_pool_init')).toBe(true);
  });
});

describe('dma_direct_max_mapping_size: the trace names why the answer is SIZE_MAX', () => {
  it('swiotlb there, device not addressing limited (c920-sg2042-6.6 dwmac0)', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    expect(m.io_tlb !== null && is_swiotlb_active(m.io_tlb)).toBe(true);
    const d = m.devices.find((x) => x.name === 'dwmac0')!;
    const t = traceCalls(() => dma_max_mapping_size(m, d));
    expect(t.result).toBe(SIZE_MAX);
    expect(t.notes).toContain('not addressing limited: SIZE_MAX');
    expect(t.notes).not.toContain('no swiotlb: SIZE_MAX');
  });

  it('no swiotlb at all', () => {
    const p = profile('c920-sg2042-6.6');
    const m = buildMachine({ ...p, platform: { ...p.platform, swiotlbSlots: 0 } });
    expect(m.io_tlb).toBeNull();
    const d = m.devices.find((x) => x.name === 'sdhci0')!;
    const t = traceCalls(() => dma_max_mapping_size(m, d));
    expect(t.result).toBe(SIZE_MAX);
    expect(t.notes).toContain('no swiotlb: SIZE_MAX');
    expect(t.notes).not.toContain('not addressing limited: SIZE_MAX');
  });
});

describe('config/profile.ts helpers', () => {
  it('kconfigEnabled: "n" is off whatever its type; an int/hex symbol that is set is on (#ifdef CONFIG_X)', () => {
    expect(kconfigEnabled({ kconfig: { CONFIG_X: 'n' } }, 'CONFIG_X')).toBe(false);
    expect(kconfigEnabled({ kconfig: { CONFIG_X: 'm' } }, 'CONFIG_X')).toBe(true);
    expect(kconfigEnabled({ kconfig: { CONFIG_CMA_SIZE_MBYTES: 16 } }, 'CONFIG_CMA_SIZE_MBYTES')).toBe(true);
  });

  it('hasFault: only the profile\'s own fault switches', () => {
    const fault = profile('c920-sg2042-6.6+cmo-clean-l1-only').faults[0];
    expect(fault).toBeDefined();
    expect(hasFault({ faults: [fault] }, fault)).toBe(true);
    expect(hasFault({ faults: [] }, fault)).toBe(false);
  });
});

describe('types.ts: DMA_BIT_MASK (include/linux/dma-mapping.h)', () => {
  it('takes 0..64 bits only: a negative count is a model error, not a mask', () => {
    // (1 << -1) - 1 would be -1n in BigInt, a "mask" no kernel can produce.
    expect(() => DMA_BIT_MASK(-1)).toThrow(ModelError);
    expect(() => DMA_BIT_MASK(65)).toThrow(ModelError);
    expect(DMA_BIT_MASK(0)).toBe(0n);
    expect(DMA_BIT_MASK(64)).toBe(U64_MAX);
  });
});
