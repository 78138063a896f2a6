// reference/drivers/of/of_reserved_mem.ts: the early-boot handler match
// (__reserved_mem_init_node, fdt_init_reserved_mem) and the driver-time calls
// (of_reserved_mem_device_init_by_idx, _device_release, _lookup), pinned down
// where StrykerJS showed no other test did. Kernel: drivers/of/of_reserved_mem.c
// in 5.10 and 6.6 (the same code for everything tested here).
import { describe, expect, it } from 'vitest';
import type { DeviceSpec, ReservedMemorySpec } from '../../reference/config/profile.ts';
import { kconfigEnabled } from '../../reference/config/profile.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import {
  __reserved_mem_init_node,
  of_reserved_mem_device_init,
  of_reserved_mem_device_init_by_idx,
  of_reserved_mem_device_release,
  of_reserved_mem_lookup,
  reservedMemBoot,
  type ReservedMemHandler,
  type reserved_mem,
  type reserved_mem_ops,
  type RmemSetupCtx,
} from '../../reference/drivers/of/of_reserved_mem.ts';
import { coherentGlobalsCreate } from '../../reference/kernel/dma/coherent.ts';
import { EINVAL, ENOENT, ENOMEM } from '../../reference/types.ts';
import { ENODEV } from '../../reference/drivers/of/address.ts';
import { profileNamed } from '../support/machines.ts';

const MiB = 1n << 20n;
const POOL = 0x8_0000_0000n; // 32 GiB, inside SG2042 DRAM
const NAMES = { '6.6': 'c920-sg2042-6.6', '5.10': 'c920-sg2042-5.10-fixed' } as const;
const DECLARE = { CONFIG_DMA_DECLARE_COHERENT: true };

const pool = (name: string, base: bigint, extra: Partial<ReservedMemorySpec> = {}): ReservedMemorySpec => ({ name, base, size: MiB, compatible: 'shared-dma-pool', noMap: true, ...extra });
const user = (name: string, memoryRegion?: string): DeviceSpec => ({ name, coherent: false, dmaMaskBits: 64, coherentMaskBits: 64, ...(memoryRegion ? { memoryRegion } : {}) });

function boot(kernel: '5.10' | '6.6', devices: DeviceSpec[], reservedMemory: ReservedMemorySpec[], kconfig: Record<string, boolean> = DECLARE): Machine {
  const p = profileNamed(NAMES[kernel]);
  return buildMachine({ ...p, devices, reservedMemory, kconfig: { ...p.kconfig, ...kconfig }, faults: [] });
}

/** The early-boot pass alone: which regions stay out of the page allocator. */
function kept(kernel: '5.10' | '6.6', reservedMemory: ReservedMemorySpec[], kconfig: Record<string, boolean> = DECLARE) {
  const p = profileNamed(NAMES[kernel]);
  return reservedMemBoot({ ...p, reservedMemory, kconfig: { ...p.kconfig, ...kconfig } }, [], coherentGlobalsCreate());
}

describe('RESERVEDMEM_OF_DECLARE(dma, "shared-dma-pool", rmem_dma_setup): built with coherent.c', () => {
  // kernel/dma/Kconfig (6.6): DMA_GLOBAL_POOL selects DMA_DECLARE_COHERENT, so coherent.c is built;
  // 5.10 has no DMA_GLOBAL_POOL (5.13+), a .config carrying it builds nothing.
  it('6.6 with DMA_GLOBAL_POOL alone: rmem_dma_setup claims the node (ops set)', () => {
    const r = kept('6.6', [pool('p', POOL)], { CONFIG_DMA_GLOBAL_POOL: true });
    expect(r.state.reserved_mem[0].ops).not.toBeNull();
  });

  it('5.10 with DMA_GLOBAL_POOL alone: no handler, the node is unclaimed', () => {
    const r = kept('5.10', [pool('p', POOL)], { CONFIG_DMA_GLOBAL_POOL: true });
    expect(r.state.reserved_mem[0].ops).toBeNull();
  });
});

describe('fdt_init_reserved_mem / __reserved_mem_init_node', () => {
  it('a node no handler matches is -ENOENT: it stays reserved and unclaimed', () => {
    const r = kept('6.6', [pool('carveout', POOL, { compatible: 'other' })]);
    expect(r.state.reserved_mem[0].ops).toBeNull();
    expect(r.memblockReserved).toEqual([{ base: POOL, size: MiB }]);
  });

  it('a reusable node stays with the CMA side whatever the handler said (not kept here)', () => {
    expect(kept('6.6', [pool('c', POOL, { compatible: 'other', reusable: true, noMap: false })]).memblockReserved).toEqual([]);
    expect(kept('6.6', [pool('c', POOL, { reusable: true, noMap: false })]).memblockReserved).toEqual([]);
  });

  describe('the first matching handler that returns 0 wins (for loop over __reservedmem_of_table)', () => {
    const p = profileNamed(NAMES['6.6']);
    const ctx = (): RmemSetupCtx => ({ profile: p, kernel: '6.6', cfg: (s) => kconfigEnabled(p, s), warnings: [], dmaCoherent: coherentGlobalsCreate() });
    const rmem = (): reserved_mem => ({ name: 'r', base: POOL, size: MiB, node: pool('r', POOL), ops: null, priv: null });
    const handler = (ret: number, calls: number[], id: number): ReservedMemHandler => ({
      compatible: 'shared-dma-pool',
      built: () => true,
      setup: () => {
        calls.push(id);
        return ret;
      },
    });

    it('a failing handler does not stop the walk: the next one is tried and its 0 returned', () => {
      const calls: number[] = [];
      expect(__reserved_mem_init_node(ctx(), rmem(), [handler(-EINVAL, calls, 1), handler(0, calls, 2)])).toBe(0);
      expect(calls).toEqual([1, 2]);
    });

    it('after a success no further handler runs', () => {
      const calls: number[] = [];
      expect(__reserved_mem_init_node(ctx(), rmem(), [handler(0, calls, 1), handler(0, calls, 2)])).toBe(0);
      expect(calls).toEqual([1]);
    });

    it('no handler for the compatible: -ENOENT', () => {
      expect(__reserved_mem_init_node(ctx(), { ...rmem(), node: pool('r', POOL, { compatible: 'other' }) })).toBe(-ENOENT);
    });
  });

  it('of_rmem_assigned_device_list starts empty: only the probed memory-region user is on it', () => {
    const m = boot('6.6', [user('vpu', 'vpu-pool'), user('plain')], [pool('vpu-pool', POOL)]);
    expect(m.reservedMem.assigned.map((a) => a.dev.name)).toEqual(['vpu']);
  });
});

describe('of_reserved_mem_device_init_by_idx', () => {
  const m = () => boot('6.6', [user('vpu', 'vpu-pool')], [pool('a-pool', POOL), pool('vpu-pool', POOL + MiB)]);

  it('!np || !dev: -EINVAL', () => {
    const mm = m();
    const np = { full_name: 'vpu', parent: null, memoryRegion: ['vpu-pool'] };
    expect(of_reserved_mem_device_init_by_idx(mm, null, np, 0)).toBe(-EINVAL);
    expect(of_reserved_mem_device_init_by_idx(mm, mm.devices[0], null, 0)).toBe(-EINVAL);
  });

  it('no memory-region property, or idx past its end: -ENODEV (of_parse_phandle returns NULL)', () => {
    const mm = m();
    expect(of_reserved_mem_device_init_by_idx(mm, mm.devices[0], { full_name: 'vpu', parent: null }, 0)).toBe(-ENODEV);
    expect(of_reserved_mem_device_init_by_idx(mm, mm.devices[0], { full_name: 'vpu', parent: null, memoryRegion: ['vpu-pool'] }, 1)).toBe(-ENODEV);
  });

  it('of_reserved_mem_device_init on a device without memory-region: -ENODEV', () => {
    const mm = boot('6.6', [user('plain')], [pool('vpu-pool', POOL)]);
    expect(of_reserved_mem_device_init(mm, mm.devices[0])).toBe(-ENODEV);
  });

  it('a phandle to a node that is no /reserved-memory child: -EINVAL', () => {
    const mm = m();
    expect(of_reserved_mem_device_init_by_idx(mm, mm.devices[0], { full_name: 'vpu', parent: null, memoryRegion: ['soc'] }, 0)).toBe(-EINVAL);
  });

  it('__find_rmem finds the named region, not the first one', () => {
    const mm = m();
    const mem = mm.devices[0].dma_mem;
    expect(mem?.device_base).toBe(POOL + MiB);
  });

  it('a failed device_init leaves the device off the list: release then calls no device_release', () => {
    const mm = m();
    const calls: string[] = [];
    const ops: reserved_mem_ops = { device_init: () => -ENOMEM, device_release: (_m, r) => void calls.push(r.name) };
    mm.reservedMem.reserved_mem.push({ name: 'bad', base: POOL + 2n * MiB, size: MiB, node: pool('bad', POOL + 2n * MiB), ops, priv: null });
    const dev = mm.devices[0];
    expect(of_reserved_mem_device_init_by_idx(mm, dev, { full_name: 'vpu', parent: null, memoryRegion: ['bad'] }, 0)).toBe(-ENOMEM);
    of_reserved_mem_device_release(mm, dev);
    expect(calls).toEqual([]);
  });
});

describe('of_reserved_mem_device_release', () => {
  it('releases only this device\'s regions, each once; the other device keeps its pool until its own release', () => {
    const m = boot('6.6', [user('a', 'pa'), user('b', 'pb')], [pool('pa', POOL), pool('pb', POOL + MiB)]);
    const [a, b] = m.devices;
    const calls: string[] = [];
    for (const r of m.reservedMem.reserved_mem) {
      const inner = r.ops as reserved_mem_ops;
      r.ops = { device_init: inner.device_init, device_release: (mm, rr, d) => (calls.push(`${rr.name}:${d?.name}`), inner.device_release(mm, rr, d)) };
    }
    of_reserved_mem_device_release(m, a);
    expect(calls).toEqual(['pa:a']);
    expect(a.dma_mem).toBeNull();
    expect(b.dma_mem).not.toBeNull();
    of_reserved_mem_device_release(m, a);
    expect(calls).toEqual(['pa:a']);
    of_reserved_mem_device_release(m, b);
    expect(calls).toEqual(['pa:a', 'pb:b']);
    expect(b.dma_mem).toBeNull();
  });
});

describe('of_reserved_mem_lookup', () => {
  it('the reserved_mem of a /reserved-memory node by name, NULL for another node', () => {
    const m = boot('6.6', [], [pool('a-pool', POOL), pool('b-pool', POOL + MiB)]);
    expect(of_reserved_mem_lookup(m, 'b-pool')?.base).toBe(POOL + MiB);
    expect(of_reserved_mem_lookup(m, 'soc')).toBeNull();
  });
});
