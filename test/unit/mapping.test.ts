// reference/kernel/dma/mapping.ts: the DMA API entry points (spec kernel-alloc.md §2).
import { afterEach, describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  dma_alloc_attrs,
  dma_free_attrs,
  dma_map_page_attrs,
  dma_mapping_error,
  dma_sync_single_for_cpu,
  dma_sync_single_for_device,
  dma_unmap_page_attrs,
  describeDma,
  get_dma_ops,
} from '../../reference/kernel/dma/mapping.ts';
import { dma_alloc_coherent } from '../../reference/include/linux/dma-mapping.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { zoneOfPfn } from '../../reference/mm/page_alloc.ts';
import { phys_to_virt } from '../../reference/arch/riscv/pgtable.ts';
import { cpuLoad } from '../../reference/hw/cpu.ts';
import { deviceWrite } from '../../reference/hw/device.ts';
import { lineOf } from '../../reference/mm/memory.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';
import { KernelBug } from '../../reference/types.ts';

const GiB = 1n << 30n;
const HIGH_PFN = 0x20_0000; // 8 GiB

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

function machine(name: string, kconfig: Profile['kconfig'] = {}): Machine {
  const p = profile(name);
  return buildMachine({ ...p, kconfig: { ...p.kconfig, ...kconfig } });
}

function traced<T>(f: () => T): { r: T; t: Tracer } {
  const t = new Tracer();
  setTracer(t);
  try {
    return { r: f(), t };
  } finally {
    setTracer(null);
  }
}

afterEach(() => setTracer(null));

describe('direction checks: BUG_ON(!valid_dma_direction(dir))', () => {
  it('map, unmap and both syncs oops on DMA_NONE and on garbage', () => {
    const m = machine('c920-sg2042-6.6');
    const d = m.devices[0];
    for (const dir of [DMA_NONE, 7, -1]) {
      expect(() => dma_map_page_attrs(m, d, HIGH_PFN, 0, 64n, dir, 0)).toThrow(KernelBug);
      expect(() => dma_unmap_page_attrs(m, d, 0x2_0000_0000n, 64n, dir, 0)).toThrow(KernelBug);
      expect(() => dma_sync_single_for_cpu(m, d, 0x2_0000_0000n, 64n, dir)).toThrow(KernelBug);
      expect(() => dma_sync_single_for_device(m, d, 0x2_0000_0000n, 64n, dir)).toThrow(KernelBug);
    }
  });
});

describe('dma_map_page_attrs / dma_unmap_page_attrs', () => {
  it('no dma_mask pointer: WARN and DMA_MAPPING_ERROR, no debug entry', () => {
    const m = machine('c920-sg2042-6.6', { CONFIG_DMA_API_DEBUG: true });
    const d = { ...m.devices[0], dma_mask: null };
    expect(dma_map_page_attrs(m, d, HIGH_PFN, 0, 64n, DMA_TO_DEVICE, 0)).toBe(DMA_MAPPING_ERROR);
    expect(m.warnings).toEqual(['dwmac0: dma_map_page_attrs with no dma_mask']);
    expect(m.debug!.hash.size).toBe(0);
  });

  it('phys = page + offset; a 64-bit device maps it 1:1 and the call goes dma-direct', () => {
    const m = machine('c920-sg2042-6.6');
    const { r: dma, t } = traced(() => dma_map_page_attrs(m, m.devices[0], HIGH_PFN, 0x123, 256n, DMA_TO_DEVICE, 0));
    expect(dma).toBe(8n * GiB + 0x123n);
    const top = t.events.filter((e) => e.fn !== '#' && e.depth <= 1).map((e) => e.fn);
    expect(top).toEqual(['dma_map_page_attrs', 'get_dma_ops', 'dma_map_direct', 'dma_direct_map_page']);
    expect(get_dma_ops(m, m.devices[0])).toBeNull();
  });

  it('unmap of a FROM_DEVICE mapping hands the buffer back to the CPU (invalidate)', () => {
    const m = machine('c920v2-sg2044-6.6');
    const d = m.devices[0];
    const dma = dma_map_page_attrs(m, d, HIGH_PFN, 0, 64n, DMA_FROM_DEVICE, 0);
    m.caches.speculativeFill(2, lineOf(dma));
    deviceWrite(m, d, dma, new Uint8Array([0xaa]));
    dma_unmap_page_attrs(m, d, dma, 64n, DMA_FROM_DEVICE, 0);
    expect(cpuLoad(m, 2, phys_to_virt(m.init_mm, 8n * GiB), 1)).toEqual(new Uint8Array([0xaa]));
  });

  it('the syncs route to dma-direct', () => {
    const m = machine('c920-sg2042-6.6');
    const d = m.devices[0];
    const dma = dma_map_page_attrs(m, d, HIGH_PFN, 0, 64n, DMA_BIDIRECTIONAL, 0);
    const { t } = traced(() => {
      dma_sync_single_for_cpu(m, d, dma, 64n, DMA_BIDIRECTIONAL);
      dma_sync_single_for_device(m, d, dma, 64n, DMA_BIDIRECTIONAL);
    });
    const depth1 = t.events.filter((e) => e.depth === 1 && e.fn !== '#').map((e) => e.fn);
    expect(depth1).toEqual([
      'get_dma_ops',
      'dma_map_direct',
      'dma_direct_sync_single_for_cpu',
      'get_dma_ops',
      'dma_map_direct',
      'dma_direct_sync_single_for_device',
    ]);
  });

  it('dma_mapping_error: -ENOMEM for DMA_MAPPING_ERROR, else 0', () => {
    const m = machine('c920-sg2042-6.6');
    expect(dma_mapping_error(m, m.devices[0], DMA_MAPPING_ERROR)).toBe(-12);
    expect(dma_mapping_error(m, m.devices[0], 0n)).toBe(0);
    expect(describeDma(DMA_MAPPING_ERROR)).toBe('DMA_MAPPING_ERROR');
    expect(describeDma(0x1000n)).toBe('0x1000');
  });

  it('with CONFIG_DMA_API_DEBUG: an unchecked mapping is reported at unmap, a checked one is not', () => {
    const m = machine('c920-sg2042-6.6', { CONFIG_DMA_API_DEBUG: true });
    const d = m.devices[0];
    const a = dma_map_page_attrs(m, d, HIGH_PFN, 0, 64n, DMA_TO_DEVICE, 0);
    dma_unmap_page_attrs(m, d, a, 64n, DMA_TO_DEVICE, 0);
    expect(m.debug!.reports.map((r) => r.check)).toEqual(['map-error-not-checked']);
    const b = dma_map_page_attrs(m, d, HIGH_PFN + 1, 0, 64n, DMA_TO_DEVICE, 0);
    expect(dma_mapping_error(m, d, b)).toBe(0);
    dma_unmap_page_attrs(m, d, b, 64n, DMA_TO_DEVICE, 0);
    expect(m.debug!.reports).toHaveLength(1);
  });
});

describe('dma_alloc_attrs (§2.1)', () => {
  it('the caller cannot pick a zone: __GFP_DMA32 from a 64-bit device is stripped', () => {
    const m = machine('c920-sg2042-6.6');
    const G = gfpFlags('6.6');
    const h = { dma_handle: 0n };
    expect(dma_alloc_attrs(m, m.devices[0], 4096n, h, G.GFP_KERNEL | G.__GFP_DMA32, 0)).not.toBeNull();
    expect(zoneOfPfn(m.mm, Number(h.dma_handle >> 12n))?.name).toBe('Normal');
  });

  it('6.6 refuses __GFP_COMP with a WARN; 5.10 has no such check', () => {
    const m = machine('c920-sg2042-6.6');
    const G = gfpFlags('6.6');
    expect(dma_alloc_attrs(m, m.devices[0], 8192n, { dma_handle: 0n }, G.GFP_KERNEL | G.__GFP_COMP, 0)).toBeNull();
    expect(m.warnings).toEqual(['dwmac0: dma_alloc_attrs with __GFP_COMP']);
    const v = machine('c920-sg2042-5.10-fixed');
    const G5 = gfpFlags('5.10');
    expect(dma_alloc_attrs(v, v.devices[0], 8192n, { dma_handle: 0n }, G5.GFP_KERNEL | G5.__GFP_COMP, 0)).not.toBeNull();
    expect(v.warnings).toEqual([]);
  });

  it('coherent_dma_mask 0: WARN and carry on; nothing fits a 0 limit without ZONE_DMA, so NULL', () => {
    const m = machine('c920-sg2042-6.6');
    const d = { ...m.devices[0], coherent_dma_mask: 0n };
    expect(dma_alloc_attrs(m, d, 4096n, { dma_handle: 0n }, gfpFlags('6.6').GFP_KERNEL, 0)).toBeNull();
    expect(m.warnings).toEqual(['dwmac0: dma_alloc_attrs with coherent_dma_mask 0']);
  });

  it('6.6 call path of dma_alloc_coherent (non-coherent device, GFP_KERNEL)', () => {
    const m = machine('c920-sg2042-6.6');
    const { r, t } = traced(() => dma_alloc_coherent(m, m.devices[1], 4096n, { dma_handle: 0n }, gfpFlags('6.6').GFP_KERNEL));
    expect(r).not.toBeNull();
    const calls = t.events.filter((e) => e.fn !== '#');
    const at = (fn: string) => calls.findIndex((e) => e.fn === fn);
    const depthOf = (fn: string) => calls[at(fn)].depth;
    const path = ['dma_alloc_coherent', 'dma_alloc_attrs', 'dma_direct_alloc', '__dma_direct_alloc_pages', 'dma_direct_optimal_gfp_mask', 'alloc_pages_node', 'dma_pgprot', 'arch_dma_prep_coherent', 'dma_common_contiguous_remap', 'vmap'];
    for (let i = 1; i < path.length; i++) expect(at(path[i]), path[i]).toBeGreaterThan(at(path[i - 1]));
    expect(path.map(depthOf)).toEqual([0, 1, 2, 3, 4, 4, 3, 3, 3, 4]);
    expect(calls.some((e) => e.fn === 'dma_direct_alloc_from_pool')).toBe(false);
  });

  it('GFP_ATOMIC on a non-coherent 6.6 device cannot vmap: served from the atomic pool', () => {
    const m = machine('c920-sg2042-6.6');
    const h = { dma_handle: 0n };
    const { r: cpu, t } = traced(() => dma_alloc_coherent(m, m.devices[1], 4096n, h, gfpFlags('6.6').GFP_ATOMIC));
    expect(t.events.some((e) => e.fn === 'dma_direct_alloc_from_pool')).toBe(true);
    expect(cpuLoad(m, 0, cpu!, 64).every((x) => x === 0)).toBe(true);
    expect(h.dma_handle + 4095n).toBeLessThanOrEqual(0xffff_ffffn);
  });

  it('dma_free_attrs: NULL is ignored; a real buffer goes to dma_direct_free', () => {
    const m = machine('c920-sg2042-6.6');
    const { t } = traced(() => dma_free_attrs(m, m.devices[0], 4096n, null, 0n, 0));
    expect(t.events.some((e) => e.detail === 'NULL cpu_addr: nothing to free')).toBe(true);
    expect(t.events.some((e) => e.fn === 'dma_direct_free')).toBe(false);
    const h = { dma_handle: 0n };
    const cpu = dma_alloc_attrs(m, m.devices[0], 4096n, h, gfpFlags('6.6').GFP_KERNEL, 0);
    const { t: t2 } = traced(() => dma_free_attrs(m, m.devices[0], 4096n, cpu, h.dma_handle, 0));
    expect(t2.events.find((e) => e.fn === 'dma_direct_free')).toMatchObject({ depth: 1 });
  });
});
