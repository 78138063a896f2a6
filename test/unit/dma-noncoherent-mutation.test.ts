// reference/arch/riscv/dma-noncoherent.ts: exact cache outcomes that StrykerJS showed no
// other test pins down (bench/mutation-equivalents.md lists the survivors that cannot be killed).
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  arch_sync_dma_for_cpu,
  arch_sync_dma_for_device,
  dev_is_dma_coherent,
  riscv_noncoherent_supported,
} from '../../reference/arch/riscv/dma-noncoherent.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { cpuStore } from '../../reference/hw/cpu.ts';
import { phys_to_virt } from '../../reference/arch/riscv/pgtable.ts';
import { lineOf } from '../../reference/mm/memory.ts';
import { KernelBug } from '../../reference/types.ts';

const PA = 0x4000_0000n;
const DATA = new Uint8Array([9, 8, 7]);

function machine(name: string, patch: { platform?: Partial<Profile['platform']>; kconfig?: Record<string, boolean> } = {}): Machine {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return buildMachine({ ...p, platform: { ...p.platform, ...patch.platform }, kconfig: { ...p.kconfig, ...patch.kconfig } });
}

/** A dirty L1 line at PA holding DATA, DRAM still holding the old bytes. */
function dirtyLine(m: Machine): Uint8Array {
  const old = m.mem.read(PA, 3);
  cpuStore(m, m.kernelHart, phys_to_virt(m.init_mm, PA), DATA);
  expect(m.caches.lineState(m.kernelHart, 'L1', lineOf(PA))).toBe('D');
  return old;
}

const state = (m: Machine) => m.caches.lineState(m.kernelHart, 'L1', lineOf(PA));

describe('the 6.0-6.5 riscv sync table (c920-sg2042-6.5-policy)', () => {
  it('for_device: TO_DEVICE and FROM_DEVICE clean, BIDIRECTIONAL flushes, DMA_NONE does nothing', () => {
    for (const [dir, after] of [[DMA_TO_DEVICE, 'C'], [DMA_FROM_DEVICE, 'C'], [DMA_BIDIRECTIONAL, 'I'], [DMA_NONE, 'D']] as const) {
      const m = machine('c920-sg2042-6.5-policy');
      const old = dirtyLine(m);
      arch_sync_dma_for_device(m, PA, 3n, dir);
      expect(state(m), `dir ${dir}`).toBe(after);
      expect(m.mem.read(PA, 3), `dir ${dir}`).toEqual(after === 'D' ? old : DATA);
    }
  });

  it('for_cpu: FROM_DEVICE and BIDIRECTIONAL flush (the dirty bytes reach DRAM), TO_DEVICE nothing', () => {
    for (const [dir, after] of [[DMA_FROM_DEVICE, 'I'], [DMA_BIDIRECTIONAL, 'I'], [DMA_TO_DEVICE, 'D']] as const) {
      const m = machine('c920-sg2042-6.5-policy');
      const old = dirtyLine(m);
      arch_sync_dma_for_cpu(m, PA, 3n, dir);
      expect(state(m), `dir ${dir}`).toBe(after);
      expect(m.mem.read(PA, 3), `dir ${dir}`).toEqual(after === 'D' ? old : DATA);
    }
  });
});

describe('6.6 arch_sync_dma_for_cpu', () => {
  it('FROM_DEVICE invalidates (the dirty bytes are dropped); DMA_NONE does nothing', () => {
    const m = machine('c920-sg2042-6.6');
    const old = dirtyLine(m);
    arch_sync_dma_for_cpu(m, PA, 3n, DMA_NONE);
    expect(state(m)).toBe('D');
    arch_sync_dma_for_cpu(m, PA, 3n, DMA_FROM_DEVICE);
    expect(state(m)).toBe('I');
    expect(m.mem.read(PA, 3)).toEqual(old);
  });

  it('Zicbom with menvcfg.CBIE = 0: cbo.inval traps, which the kernel cannot survive', () => {
    const m = machine('c920v2-sg2044-6.6', { platform: { menvcfgCbie: 0 } });
    expect(() => arch_sync_dma_for_cpu(m, PA, 64n, DMA_FROM_DEVICE)).toThrow(KernelBug);
  });
});

describe('physical-address CMO flavours', () => {
  for (const f of ['thead-pa', 'sophgo-pa'] as const) {
    it(`${f}: the line at the physical address is written back`, () => {
      const m = machine('c920-sg2042-6.6', { platform: { cmoFlavour: f } });
      dirtyLine(m);
      arch_sync_dma_for_device(m, PA, 3n, DMA_TO_DEVICE);
      expect(state(m)).not.toBe('D');
      expect(m.mem.read(PA, 3)).toEqual(DATA);
    });
  }
});

describe('boot facts', () => {
  it('one sync hook is enough for dev_is_dma_coherent to read dev->dma_coherent', () => {
    const m = machine('c920-sg2042-6.6', { kconfig: { CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU: false, CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL: false } });
    expect(dev_is_dma_coherent(m, { ...m.devices[0], dma_coherent: false })).toBe(false);
  });

  it('T-Head CMO flavour without CONFIG_ERRATA_THEAD_CMO: no non-coherent support', () => {
    expect(riscv_noncoherent_supported(machine('c920-sg2042-6.6', { kconfig: { CONFIG_ERRATA_THEAD_CMO: false } }))).toBe(false);
    expect(riscv_noncoherent_supported(machine('c920-sg2042-6.6'))).toBe(true);
  });

  // 6.6: noncoherent_supported is set by arch/riscv/kernel/setup.c (CONFIG_RISCV_ISA_ZICBOM and Zicbom
  // in the ISA string) or by arch/riscv/errata/thead/errata.c errata_probe_cmo (CONFIG_ERRATA_THEAD_CMO,
  // marchid = mimpid = 0). The other option does not help: arch_setup_dma_ops WARNs per device.
  const NO_OPS = ['dwmac0: device non-coherent but no non-coherent operations supported', 'sdhci0: device non-coherent but no non-coherent operations supported'];

  it('T-Head harts with CONFIG_RISCV_ISA_ZICBOM but not CONFIG_ERRATA_THEAD_CMO: no non-coherent support, a WARN per device', () => {
    const m = machine('c920-sg2042-6.6', { kconfig: { CONFIG_RISCV_ISA_ZICBOM: true, CONFIG_ERRATA_THEAD_CMO: false } });
    expect(riscv_noncoherent_supported(m)).toBe(false);
    expect(m.warnings).toEqual(NO_OPS);
  });

  it('Zicbom harts with CONFIG_ERRATA_THEAD_CMO but not CONFIG_RISCV_ISA_ZICBOM: no non-coherent support, a WARN per device', () => {
    const m = machine('c920v2-sg2044-6.6', { kconfig: { CONFIG_RISCV_ISA_ZICBOM: false, CONFIG_ERRATA_THEAD: true, CONFIG_ERRATA_THEAD_CMO: true } });
    expect(riscv_noncoherent_supported(m)).toBe(false);
    expect(m.warnings).toEqual(NO_OPS);
  });
});
