// reference/kernel/dma/direct.ts: exact outcomes that StrykerJS showed no other test
// pins down (bench/mutation-equivalents.md lists the survivors that cannot be killed).
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import {
  __dma_direct_alloc_pages,
  dma_coherent_ok,
  dma_direct_alloc,
  dma_direct_free,
  dma_direct_supported,
} from '../../reference/kernel/dma/direct.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { DMA_ATTR_NO_KERNEL_MAPPING, DMA_ATTR_NO_WARN } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { atomicPoolsOf, isAtomicPoolAddr } from '../../reference/kernel/dma/pool.ts';
import { nrFreePages } from '../../reference/mm/page_alloc.ts';
import { isLinearMapAddr } from '../../reference/arch/riscv/pgtable.ts';
import { is_vmalloc_addr } from '../../reference/mm/vmalloc.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { DMA_BIT_MASK, ModelError, PFN_PHYS } from '../../reference/types.ts';
import { dev, fillVmallocSpace } from '../support/machines.ts';
import { traceCalls } from './trace-calls.ts';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const PATTERN = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

function withKconfig(name: string, kconfig: Record<string, boolean>, faults: string[] = []): Machine {
  const p = profile(name);
  return buildMachine({ ...p, kconfig: { ...p.kconfig, ...kconfig }, faults: [...p.faults, ...faults] as Profile['faults'] });
}

/** A 64-bit device whose range map covers only the low 4 GiB (identity). */
function lowMapped(m: Machine): device {
  return { ...dev(m, 'dwmac0'), dma_range_map: [{ cpu_start: 0n, dma_start: 0n, size: 4n * GiB, offset: 0n }] };
}

describe('dma_coherent_ok', () => {
  it('an untranslatable address is never OK, even one byte under a 64-bit mask', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    expect(dma_coherent_ok(m, lowMapped(m), 8n * GiB, 1n)).toBe(false);
    expect(dma_coherent_ok(m, lowMapped(m), 1n * GiB, 1n)).toBe(true);
  });
});

describe('__dma_direct_alloc_pages', () => {
  it('a CMA page above a 32-bit device is given back; the page comes from ZONE_DMA32', () => {
    const m = buildMachine(profile('c920-sg2042-6.6-cma'));
    const area = m.cma.default!;
    const held = area.allocated.size; // the kernel atomic pool's chunk
    const pfn = __dma_direct_alloc_pages(m, dev(m, 'sdhci0'), 64n * 1024n, gfpFlags('6.6').GFP_KERNEL);
    expect(pfn).not.toBeNull();
    expect(PFN_PHYS(pfn!) + 64n * 1024n - 1n <= DMA_BIT_MASK(32)).toBe(true);
    expect(area.allocated.size).toBe(held);
  });

  it('a 64-bit device gets a page', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    expect(__dma_direct_alloc_pages(m, dev(m, 'dwmac0'), 8192n, gfpFlags('6.6').GFP_KERNEL)).not.toBeNull();
  });

  it('a 64-bit limit with an untranslatable page: no GFP_DMA32 retry (phys_limit is all-ones), NULL', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const before = nrFreePages(m.mm);
    expect(__dma_direct_alloc_pages(m, lowMapped(m), 8192n, gfpFlags('6.6').GFP_KERNEL)).toBeNull();
    expect(nrFreePages(m.mm)).toBe(before);
  });
});

describe('dma_direct_alloc', () => {
  it('6.6 without CONFIG_DMA_COHERENT_POOL: an atomic non-coherent request WARNs and fails', () => {
    const m = withKconfig('c920-sg2042-6.6', { CONFIG_DMA_COHERENT_POOL: false });
    const h = { dma_handle: 0n };
    expect(dma_direct_alloc(m, dev(m, 'sdhci0'), 4096n, h, gfpFlags('6.6').GFP_ATOMIC, 0)).toBeNull();
    expect(m.warnings).toEqual(['dma_direct_alloc_from_pool: WARN_ON_ONCE(!IS_ENABLED(CONFIG_DMA_COHERENT_POOL))']);
  });

  it('5.10 atomic non-coherent request: served from the pool, no warning', () => {
    const m = buildMachine(profile('c920-sg2042-5.10-fixed'));
    const cpu = dma_direct_alloc(m, dev(m, 'sdhci0'), 4096n, { dma_handle: 0n }, gfpFlags('5.10').GFP_ATOMIC, 0);
    expect(cpu).not.toBeNull();
    expect(isAtomicPoolAddr(m, cpu!)).toBe(true);
    expect(m.warnings).toEqual([]);
  });

  it('DMA_ATTR_NO_WARN keeps the caller gfp: a blocking request still comes from the buddy (remapped)', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const cpu = dma_direct_alloc(m, dev(m, 'sdhci0'), 8192n, { dma_handle: 0n }, gfpFlags('6.6').GFP_KERNEL, DMA_ATTR_NO_WARN);
    expect(cpu).not.toBeNull();
    expect(isAtomicPoolAddr(m, cpu!)).toBe(false);
    expect(is_vmalloc_addr(m.init_mm, cpu!)).toBe(true);
    expect(atomicPoolsOf(m).workPending).toBe(false);
  });

  it('DMA_ATTR_NO_KERNEL_MAPPING: a blocking request may use CMA; an impossible size is NULL', () => {
    const m = buildMachine(profile('c920-sg2042-6.6-cma'));
    const area = m.cma.default!;
    const h = { dma_handle: 0n };
    const cookie = dma_direct_alloc(m, dev(m, 'dwmac0'), 64n * 1024n, h, gfpFlags('6.6').GFP_KERNEL, DMA_ATTR_NO_KERNEL_MAPPING);
    expect(cookie).not.toBeNull();
    expect(area.allocated.get(Number(cookie))).toBe(16);
    expect(dma_direct_alloc(m, dev(m, 'dwmac0'), 1n << 40n, { dma_handle: 0n }, gfpFlags('6.6').GFP_KERNEL, DMA_ATTR_NO_KERNEL_MAPPING)).toBeNull();
  });

  it('a Kconfig with neither remap nor set_uncached could not link: the model refuses (5.10 and 6.6)', () => {
    for (const name of ['c920-sg2042-5.10-fixed', 'c920-sg2042-6.6']) {
      const m = withKconfig(name, { CONFIG_DMA_DIRECT_REMAP: false });
      const G = gfpFlags(m.profile.kernel);
      expect(() => dma_direct_alloc(m, dev(m, 'sdhci0'), 4096n, { dma_handle: 0n }, G.GFP_KERNEL, 0)).toThrow(ModelError);
    }
  });

  it('5.10: a coherent device gets the linear-map address (no remap)', () => {
    const m = buildMachine(profile('c920-sg2042-5.10-fixed'));
    const d = { ...dev(m, 'dwmac0'), dma_coherent: true };
    const cpu = dma_direct_alloc(m, d, 8192n, { dma_handle: 0n }, gfpFlags('5.10').GFP_KERNEL, 0);
    expect(cpu).not.toBeNull();
    expect(isLinearMapAddr(m.init_mm, cpu!)).toBe(true);
  });

  it('fault coherent-no-zeroing: without __GFP_ZERO the old contents stay; with it the buffer is zeroed', () => {
    const m = withKconfig('c920-sg2042-6.6', {}, ['coherent-no-zeroing']);
    const d = dev(m, 'dwmac0');
    const G = gfpFlags('6.6');
    const h1 = { dma_handle: 0n };
    const again = () => dma_direct_alloc(m, d, 4096n, h1, G.GFP_KERNEL, 0)!;
    // Dirty the page through the remap, free it, and take it back.
    const h0 = { dma_handle: 0n };
    const a = dma_direct_alloc(m, d, 4096n, h0, G.GFP_KERNEL, 0)!;
    cpuStore(m, m.kernelHart, a, PATTERN);
    dma_direct_free(m, d, 4096n, a, h0.dma_handle, 0);
    const b = again();
    expect(h1.dma_handle).toBe(h0.dma_handle);
    expect(cpuLoad(m, m.kernelHart, b, 8)).toEqual(PATTERN);
    cpuStore(m, m.kernelHart, b, PATTERN);
    dma_direct_free(m, d, 4096n, b, h1.dma_handle, 0);
    const h2 = { dma_handle: 0n };
    const c = dma_direct_alloc(m, d, 4096n, h2, G.GFP_KERNEL | G.__GFP_ZERO, 0)!;
    expect(h2.dma_handle).toBe(h0.dma_handle);
    expect(cpuLoad(m, m.kernelHart, c, 8)).toEqual(new Uint8Array(8));
  });
});

describe('dma_direct_free', () => {
  it('6.6 without the global pool: a remapped buffer goes back to the buddy, no warning', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const d = dev(m, 'sdhci0');
    const before = nrFreePages(m.mm);
    const h = { dma_handle: 0n };
    const cpu = dma_direct_alloc(m, d, 8192n, h, gfpFlags('6.6').GFP_KERNEL, 0)!;
    dma_direct_free(m, d, 8192n, cpu, h.dma_handle, 0);
    expect(nrFreePages(m.mm)).toBe(before);
    expect(m.warnings).toEqual([]);
  });
});

describe('dma_direct_alloc with the vmalloc space exhausted', () => {
  it('the remap fails: NULL, and the pages go back to the buddy', () => {
    // kernel/dma/direct.c dma_direct_alloc (6.6): dma_common_contiguous_remap NULL → goto
    // out_free_pages (__dma_direct_free_pages) → return NULL; 5.10 the same.
    const m = buildMachine(profile('c920-sg2042-6.6'));
    fillVmallocSpace(m);
    const before = nrFreePages(m.mm);
    const h = { dma_handle: 0n };
    expect(dma_direct_alloc(m, dev(m, 'sdhci0'), 8192n, h, gfpFlags('6.6').GFP_KERNEL, 0)).toBeNull();
    expect(nrFreePages(m.mm)).toBe(before);
  });
});

describe('dma_direct_free on 5.10 with a stray CONFIG_DMA_GLOBAL_POOL', () => {
  it('5.10 has no global-pool branch (it came in 5.13): the remapped buffer goes back to the buddy, no WARN', () => {
    // kernel/dma/direct.c dma_direct_free (5.10): no dma_release_from_global_coherent; the symbol selects nothing.
    const m = withKconfig('c920-sg2042-5.10-fixed', { CONFIG_DMA_GLOBAL_POOL: true });
    const d = dev(m, 'sdhci0');
    const before = nrFreePages(m.mm);
    const h = { dma_handle: 0n };
    const cpu = dma_direct_alloc(m, d, 8192n, h, gfpFlags('5.10').GFP_KERNEL, 0)!;
    expect(is_vmalloc_addr(m.init_mm, cpu)).toBe(true);
    dma_direct_free(m, d, 8192n, cpu, h.dma_handle, 0);
    expect(nrFreePages(m.mm)).toBe(before);
    expect(m.warnings).toEqual([]);
  });
});

describe('dma_direct_supported', () => {
  it('a sub-32-bit mask must reach the last page of RAM: exactly its address is enough', () => {
    const m = buildMachine(profile('board-1g-6.6')); // RAM 0x8000_0000 .. 0xc000_0000
    const d = dev(m, 'sdhci0');
    expect(dma_direct_supported(m, d, 0xbfff_f000n)).toBe(true);
    expect(dma_direct_supported(m, d, 0xbfff_efffn)).toBe(false);
  });
});



describe('dma_direct_supported with CONFIG_ZONE_DMA', () => {
  it('RAM ending below the ZONE_DMA limit: the last page of RAM decides, not zone_dma_bits', () => {
    const p = profile('three-zone-5.10');
    const m = buildMachine({ ...p, memory: [{ base: 0n, size: 12n * MiB }] });
    const d = dev(m, 'sdhci0');
    expect(dma_direct_supported(m, d, 12n * MiB - 4096n)).toBe(true);
    expect(dma_direct_supported(m, d, 12n * MiB - 4097n)).toBe(false);
  });
});

describe('dma_direct_alloc: DMA_ATTR_NO_WARN becomes __GFP_NOWARN', () => {
  it('8 MiB without CMA (order 11 > MAX_ORDER): __alloc_pages WARNs unless the caller passed DMA_ATTR_NO_WARN', () => {
    // kernel/dma/direct.c dma_direct_alloc (5.10, 6.6): `if (attrs & DMA_ATTR_NO_WARN) gfp |= __GFP_NOWARN;`
    // mm/page_alloc.c __alloc_pages (6.6): WARN_ON_ONCE_GFP(order > MAX_ORDER, gfp), silent with __GFP_NOWARN.
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const G = gfpFlags('6.6');
    const alloc = (attrs: number) => traceCalls(() => dma_direct_alloc(m, dev(m, 'dwmac0'), 8n * MiB, { dma_handle: 0n }, G.GFP_KERNEL, attrs));
    const loud = alloc(0);
    expect(loud.result).toBeNull();
    expect(loud.notes).toContain('WARN_ON_ONCE');
    const quiet = alloc(DMA_ATTR_NO_WARN);
    expect(quiet.result).toBeNull();
    expect(quiet.notes).toContain('order > MAX_ORDER');
    expect(quiet.notes).not.toContain('WARN_ON_ONCE');
  });
});
