// reference/arch/riscv/dma-noncoherent.ts: the arch DMA cache maintenance policies
// (riscv-c920-coherence.md §1.4 mainline 6.6, §2.2 vendor 5.10, empty stubs without the Kconfig options).
import { afterEach, describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import type { FaultName } from '../../reference/config/faults.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  arch_dma_prep_coherent,
  arch_setup_dma_ops,
  arch_sync_dma_for_cpu,
  arch_sync_dma_for_device,
  dev_is_dma_coherent,
  riscv_cbom_block_size,
  riscv_noncoherent_supported,
} from '../../reference/arch/riscv/dma-noncoherent.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { phys_to_virt } from '../../reference/arch/riscv/pgtable.ts';
import { lineOf, POISON } from '../../reference/mm/memory.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { KernelBug } from '../../reference/types.ts';

const PA = 0x4000_0000n; // line-aligned RAM on every SG2042-like profile
const bytes = (...xs: number[]) => new Uint8Array(xs);
const poison = (n: number) => new Uint8Array(n).fill(POISON);
const DIRS = [DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL] as const;

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

function machine(name: string, patch: { platform?: Partial<Profile['platform']>; faults?: FaultName[]; kconfig?: Profile['kconfig'] } = {}): Machine {
  const p = profile(name);
  return buildMachine({
    ...p,
    platform: { ...p.platform, ...patch.platform },
    faults: patch.faults ?? p.faults,
    kconfig: patch.kconfig ?? p.kconfig,
  });
}

/** The CPU writes `data` at `pa` through the cacheable linear map: a dirty L1 line on `hart`. */
function dirty(m: Machine, pa: bigint, data: Uint8Array, hart = 0): void {
  cpuStore(m, hart, phys_to_virt(m.init_mm, pa), data);
}

afterEach(() => setTracer(null));

describe('boot facts', () => {
  it('riscv_cbom_block_size: T-Head errata force 64, Zicbom takes the device tree value, none is 0', () => {
    expect(riscv_cbom_block_size(machine('c920-sg2042-6.6'))).toBe(64);
    expect(riscv_cbom_block_size(machine('c920v2-sg2044-6.6'))).toBe(64);
    expect(riscv_cbom_block_size(machine('c920v2-sg2044-6.6', { platform: { cbomBlockSize: 128 } }))).toBe(128);
    expect(riscv_cbom_block_size(machine('c920-sg2042-6.6', { platform: { cmoFlavour: 'none' } }))).toBe(0);
  });

  it('riscv_noncoherent_supported: needs the CMO alternative compiled in; WARNs on a zero block size', () => {
    expect(riscv_noncoherent_supported(machine('c920-sg2042-6.6'))).toBe(true);
    expect(riscv_noncoherent_supported(machine('c920v2-sg2044-6.6'))).toBe(true);
    const noZicbom = machine('c920v2-sg2044-6.6', { kconfig: { ...profile('c920v2-sg2044-6.6').kconfig, CONFIG_RISCV_ISA_ZICBOM: false } });
    expect(riscv_noncoherent_supported(noZicbom)).toBe(false);
    const m = machine('c920v2-sg2044-6.6', { platform: { cbomBlockSize: 0 } });
    m.warnings.length = 0;
    expect(riscv_noncoherent_supported(m)).toBe(true);
    expect(m.warnings).toEqual(['Non-coherent DMA support enabled without a block size']);
  });
});

describe('dev_is_dma_coherent and arch_setup_dma_ops', () => {
  it('with sync hooks the answer is dev->dma_coherent; without any (vendor 5.10 as found) always true', () => {
    const m = machine('c920-sg2042-6.6');
    const d = m.devices[0];
    expect(dev_is_dma_coherent(m, d)).toBe(false);
    expect(dev_is_dma_coherent(m, { ...d, dma_coherent: true })).toBe(true);
    const v = machine('c920-sg2042-5.10-vendor');
    expect(dev_is_dma_coherent(v, v.devices[0])).toBe(true);
    expect(dev_is_dma_coherent(v, { ...v.devices[0], dma_coherent: false })).toBe(true);
  });

  it('6.6: stores the coherence; WARNs only for a non-coherent device', () => {
    const m = machine('c920-sg2042-6.6', { platform: { cmoFlavour: 'none' } });
    m.warnings.length = 0;
    const d = { ...m.devices[0] };
    arch_setup_dma_ops(m, d, true);
    expect(d.dma_coherent).toBe(true);
    expect(m.warnings).toEqual([]);
    arch_setup_dma_ops(m, d, false);
    expect(d.dma_coherent).toBe(false);
    expect(m.warnings).toEqual(['dwmac0: device non-coherent but no non-coherent operations supported']);
  });

  it('6.6 Zicbom with riscv,cbom-block-size 128 > ARCH_DMA_MINALIGN: WARN_TAINT', () => {
    const m = machine('c920v2-sg2044-6.6', { platform: { cbomBlockSize: 128 } });
    m.warnings.length = 0;
    arch_setup_dma_ops(m, { ...m.devices[0] }, false);
    expect(m.warnings).toEqual(['dwmac0: ARCH_DMA_MINALIGN smaller than riscv,cbom-block-size (64 < 128)']);
  });

  it('5.10 (no ARCH_HAS_SETUP_DMA_OPS): the generic stub leaves dma_coherent alone', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    const d = { ...m.devices[0], dma_coherent: false };
    arch_setup_dma_ops(m, d, true);
    expect(d.dma_coherent).toBe(false);
    expect(m.warnings).toEqual([]);
  });
});

describe('6.6 mainline arch_sync_dma_for_device: clean (write back, keep) for every direction', () => {
  for (const name of ['c920-sg2042-6.6', 'c920v2-sg2044-6.6']) {
    for (const dir of DIRS) {
      it(`${name} dir ${dir}: DRAM gets the CPU bytes, the line stays valid and clean`, () => {
        const m = machine(name);
        dirty(m, PA, bytes(1, 2, 3));
        arch_sync_dma_for_device(m, PA, 3n, dir);
        expect(m.mem.read(PA, 3)).toEqual(bytes(1, 2, 3));
        expect(m.caches.lineState(0, 'L1', lineOf(PA))).toBe('C');
      });
    }
  }

  it('the range covers every line it touches, and only those (start aligned down, end exclusive)', () => {
    const m = machine('c920-sg2042-6.6');
    dirty(m, PA, new Uint8Array(192).fill(7));
    arch_sync_dma_for_device(m, PA + 60n, 8n, DMA_TO_DEVICE); // bytes 60..67: lines 0 and 1
    expect(m.caches.lineState(0, 'L1', lineOf(PA))).toBe('C');
    expect(m.caches.lineState(0, 'L1', lineOf(PA + 64n))).toBe('C');
    expect(m.caches.lineState(0, 'L1', lineOf(PA + 128n))).toBe('D');
  });

  it('DMA_NONE: nothing (the 6.6 switch has no case for it)', () => {
    const m = machine('c920-sg2042-6.6');
    dirty(m, PA, bytes(1));
    arch_sync_dma_for_device(m, PA, 1n, DMA_NONE);
    expect(m.caches.lineState(0, 'L1', lineOf(PA))).toBe('D');
    expect(m.mem.read(PA, 1)).toEqual(poison(1));
  });

  it('v6.0 .. v6.6-rc1 T-Head clean was th.dcache.cval1 (L1 only): the dirty data stops in the L2 (scenario c)', () => {
    const m = machine('c920-sg2042-6.6', { platform: { cmoFlavour: 'thead-va-cval1' } });
    dirty(m, PA, bytes(0x42));
    arch_sync_dma_for_device(m, PA, 1n, DMA_TO_DEVICE);
    expect(m.caches.lineState(m.caches.clusterOf(0), 'L2', lineOf(PA))).toBe('D');
    expect(m.mem.read(PA, 1)).toEqual(poison(1));
  });

  it('no CMO alternative patched in (cmoFlavour none): the loop is NOPs', () => {
    const m = machine('c920-sg2042-6.6', { platform: { cmoFlavour: 'none' } });
    dirty(m, PA, bytes(0x42));
    arch_sync_dma_for_device(m, PA, 1n, DMA_TO_DEVICE);
    expect(m.mem.read(PA, 1)).toEqual(poison(1));
  });

  it('trace: arch_sync_dma_for_device -> arch_dma_cache_wback -> ALT_CMO_OP', () => {
    const m = machine('c920-sg2042-6.6');
    const t = new Tracer();
    setTracer(t);
    arch_sync_dma_for_device(m, PA, 64n, DMA_FROM_DEVICE);
    setTracer(null);
    const calls = t.events.filter((e) => e.fn !== '#').map((e) => [e.depth, e.fn]);
    expect(calls.slice(0, 3)).toEqual([
      [0, 'arch_sync_dma_for_device'],
      [1, 'arch_dma_cache_wback'],
      [2, 'ALT_CMO_OP'],
    ]);
    expect(t.events.some((e) => e.fn === '#' && e.detail === 'th.dcache.cva')).toBe(true);
  });
});

describe('6.6 mainline arch_sync_dma_for_cpu: invalidate after FROM_DEVICE / BIDIRECTIONAL, nothing after TO_DEVICE', () => {
  for (const dir of [DMA_FROM_DEVICE, DMA_BIDIRECTIONAL]) {
    it(`dir ${dir}: a speculatively filled stale line is dropped, the CPU then reads what the device wrote`, () => {
      const m = machine('c920-sg2042-6.6');
      m.caches.speculativeFill(1, lineOf(PA));
      m.mem.write(PA, bytes(9, 9)); // the device
      arch_sync_dma_for_cpu(m, PA, 2n, dir);
      expect(m.caches.lineState(1, 'L1', lineOf(PA))).toBe('I');
      expect(cpuLoad(m, 1, phys_to_virt(m.init_mm, PA), 2)).toEqual(bytes(9, 9));
    });
  }

  it('a line the CPU dirtied during the DMA (a driver bug) is discarded, not written over the device data', () => {
    const m = machine('c920-sg2042-6.6');
    dirty(m, PA, bytes(1));
    m.mem.write(PA, bytes(9));
    arch_sync_dma_for_cpu(m, PA, 1n, DMA_FROM_DEVICE);
    expect(m.mem.read(PA, 1)).toEqual(bytes(9));
  });

  it('TO_DEVICE: the caches are left alone', () => {
    const m = machine('c920-sg2042-6.6');
    dirty(m, PA, bytes(1));
    arch_sync_dma_for_cpu(m, PA, 1n, DMA_TO_DEVICE);
    expect(m.caches.lineState(0, 'L1', lineOf(PA))).toBe('D');
  });

  it('fault sync-for-cpu-skipped: no invalidate, the stale line survives', () => {
    const m = machine('c920v2-sg2044-6.6', { faults: ['sync-for-cpu-skipped'] });
    m.caches.speculativeFill(0, lineOf(PA));
    m.mem.write(PA, bytes(9));
    arch_sync_dma_for_cpu(m, PA, 1n, DMA_FROM_DEVICE);
    expect(cpuLoad(m, 0, phys_to_virt(m.init_mm, PA), 1)).toEqual(poison(1));
  });
});

describe('vendor 5.10 C920 patch (Sophgo SG2042 tree: dma_wb_range = dma_wbinv_range = th.dcache.cipa)', () => {
  for (const dir of DIRS) {
    it(`for_device dir ${dir}: written back and invalidated`, () => {
      const m = machine('c920-sg2042-5.10-fixed');
      dirty(m, PA, bytes(5));
      arch_sync_dma_for_device(m, PA, 1n, dir);
      expect(m.mem.read(PA, 1)).toEqual(bytes(5));
      expect(m.caches.lineState(0, 'L1', lineOf(PA))).toBe('I');
    });
  }

  it('for_cpu FROM_DEVICE flushes: a line the CPU dirtied during the DMA overwrites the device data (§7 a/g)', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    dirty(m, PA, bytes(1));
    m.mem.write(PA, bytes(9));
    arch_sync_dma_for_cpu(m, PA, 1n, DMA_FROM_DEVICE);
    expect(m.mem.read(PA, 1)).toEqual(bytes(1));
  });

  it('for_cpu TO_DEVICE: nothing', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    dirty(m, PA, bytes(1));
    arch_sync_dma_for_cpu(m, PA, 1n, DMA_TO_DEVICE);
    expect(m.caches.lineState(0, 'L1', lineOf(PA))).toBe('D');
  });

  it('an invalid direction: for_cpu BUG()s; for_device BUG()s except in the Sophgo tree, which logs', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    expect(() => arch_sync_dma_for_cpu(m, PA, 1n, DMA_NONE)).toThrow(KernelBug);
    arch_sync_dma_for_device(m, PA, 1n, DMA_NONE);
    expect(m.warnings).toEqual(['arch_sync_dma_for_device: invalid direction 3']);
    const bb = machine('c920-sg2042-5.10-fixed', { platform: { vendorCmo: 'th1520-beagleboard' } });
    expect(() => arch_sync_dma_for_device(bb, PA, 1n, DMA_NONE)).toThrow(KernelBug);
  });

  it('TH1520 BSP: dma_wb_range is th.dcache.cpa (the line stays valid); before thead_dma_init both are no-ops', () => {
    const bb = machine('c920-sg2042-5.10-fixed', { platform: { vendorCmo: 'th1520-beagleboard' } });
    dirty(bb, PA, bytes(3));
    arch_sync_dma_for_device(bb, PA, 1n, DMA_TO_DEVICE);
    expect(bb.mem.read(PA, 1)).toEqual(bytes(3));
    expect(bb.caches.lineState(0, 'L1', lineOf(PA))).toBe('C');
    const pre = machine('c920-sg2042-5.10-fixed', { platform: { vendorCmo: 'th1520-beagleboard-preinit' } });
    dirty(pre, PA, bytes(3));
    arch_sync_dma_for_device(pre, PA, 1n, DMA_TO_DEVICE);
    expect(pre.mem.read(PA, 1)).toEqual(poison(1));
  });

  it('5.10 with the arch options but no vendor CMO variant is a model error', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    m.profile = { ...m.profile, platform: { ...m.profile.platform, vendorCmo: null } };
    expect(() => arch_sync_dma_for_device(m, PA, 1n, DMA_TO_DEVICE)).toThrow(/vendorCmo/);
  });
});

describe('empty stubs: vendor 5.10 as found (no ARCH_HAS_SYNC_DMA_* / DMA_PREP_COHERENT)', () => {
  it('for_device, for_cpu and prep do nothing', () => {
    const m = machine('c920-sg2042-5.10-vendor');
    const t = new Tracer();
    setTracer(t);
    dirty(m, PA, bytes(1));
    arch_sync_dma_for_device(m, PA, 1n, DMA_TO_DEVICE);
    arch_sync_dma_for_cpu(m, PA, 1n, DMA_FROM_DEVICE);
    arch_dma_prep_coherent(m, Number(PA >> 12n), 4096n);
    setTracer(null);
    expect(m.caches.lineState(0, 'L1', lineOf(PA))).toBe('D');
    expect(m.mem.read(PA, 1)).toEqual(poison(1));
    const notes = t.events.filter((e) => e.fn === '#').map((e) => e.detail);
    expect(notes).toEqual([
      'empty stub: CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE unset',
      'empty stub: CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU unset',
      'empty stub: CONFIG_ARCH_HAS_DMA_PREP_COHERENT unset',
    ]);
  });
});

describe('arch_dma_prep_coherent', () => {
  it('6.6: flush of [page, page + size): dirty lines written back and dropped; the next page untouched', () => {
    const m = machine('c920-sg2042-6.6');
    dirty(m, PA, bytes(1));
    dirty(m, PA + 8191n, bytes(2));
    dirty(m, PA + 8192n, bytes(3));
    m.caches.speculativeFill(3, lineOf(PA + 4096n));
    arch_dma_prep_coherent(m, Number(PA >> 12n), 8192n);
    expect(m.mem.read(PA, 1)).toEqual(bytes(1));
    expect(m.mem.read(PA + 8191n, 1)).toEqual(bytes(2));
    for (const [h, a] of [
      [0, PA],
      [0, PA + 8191n],
      [3, PA + 4096n],
    ] as const)
      expect(m.caches.lineState(h, 'L1', lineOf(a))).toBe('I');
    expect(m.caches.lineState(0, 'L1', lineOf(PA + 8192n))).toBe('D');
  });

  it('vendor 5.10: zeroes through the cacheable alias, then dma_wbinv_range: DRAM zero, nothing cached', () => {
    const m = machine('c920-sg2042-5.10-fixed');
    dirty(m, PA + 100n, bytes(1));
    arch_dma_prep_coherent(m, Number(PA >> 12n), 4096n);
    const ram = m.mem.read(PA, 4096);
    expect(ram.every((x) => x === 0)).toBe(true);
    expect(m.caches.lineCount).toBe(0);
  });

  it('fault prep-coherent-skipped: the dirty lines stay', () => {
    const m = machine('c920-sg2042-6.6', { faults: ['prep-coherent-skipped'] });
    dirty(m, PA, bytes(1));
    arch_dma_prep_coherent(m, Number(PA >> 12n), 4096n);
    expect(m.caches.lineState(0, 'L1', lineOf(PA))).toBe('D');
  });
});
