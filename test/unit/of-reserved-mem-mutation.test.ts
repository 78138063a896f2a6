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
import { readDtb } from '../../reference/config/dtb.ts';
import { buildUserProfile } from '../../reference/config/user-profile.ts';
import { buildFdt, cells, cells64, type TNode } from './fdt-builder.ts';

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

// The early scan of /reserved-memory (5.10 drivers/of/fdt.c __fdt_scan_reserved_mem, 6.6 fdt.c
// fdt_scan_reserved_mem, both with __reserved_mem_check_root and __reserved_mem_reserve_reg) and
// of_reserved_mem.c __reserved_mem_alloc_size / __reserved_mem_alloc_in_range (6.6) for the
// regions with `size` instead of `reg`.
describe('/reserved-memory as the kernel reads it', () => {
  const GiB = 1n << 30n;
  const tree = (children: TNode[], rmProps: TNode['props'] = {}, rootProps: TNode['props'] = {}): TNode => ({
    name: '',
    props: { '#address-cells': [2], '#size-cells': [2], ...rootProps },
    children: [
      { name: 'memory@80000000', props: { device_type: 'memory', reg: rootProps['#size-cells'] ? [0, 0x8000_0000, 0x4000_0000] : cells64(0x8000_0000n, GiB) } },
      { name: 'reserved-memory', props: { '#address-cells': [2], '#size-cells': [2], ranges: null, ...rmProps }, children },
    ],
  });
  const fixed = (name: string, base: bigint, size: bigint): TNode => ({ name, props: { reg: cells64(base, size), 'no-map': null } });
  const dyn = (name: string, props: TNode['props']): TNode => ({ name, props: { compatible: 'shared-dma-pool', ...props } });
  const place = (t: TNode, kernel: '5.10' | '6.6') => buildUserProfile({ kernel, dtb: buildFdt(t) });
  const baseOf = (t: TNode, kernel: '5.10' | '6.6', name: string) => place(t, kernel).profile.reservedMemory?.find((r) => r.name === name)?.base;

  it('__reserved_mem_check_root: cells other than the root\'s, or no #size-cells at all, or no ranges: the whole node is ignored', () => {
    // #size-cells 1 under a root with 2: the kernel refuses the node, its children reserve nothing.
    const a = readDtb(buildFdt(tree([{ name: 'fw@b0000000', props: { reg: [0, 0xb000_0000, 0x10_0000] } }, dyn('d', { size: cells(0x10_0000) })], { '#size-cells': [1] })));
    expect([a.reservedMemory, a.dynamicReserved]).toEqual([[], []]);
    // A root with #size-cells 1 and a /reserved-memory without #size-cells: !prop is -EINVAL too.
    const noSc = tree([{ name: 'fw@b0000000', props: { reg: [0, 0xb000_0000, 0x10_0000] } }], {}, { '#size-cells': [1] });
    delete noSc.children?.[1].props?.['#size-cells'];
    const b = readDtb(buildFdt(noSc));
    expect(b.reservedMemory).toEqual([]);
    // No ranges property.
    const noRanges = tree([fixed('fw@b0000000', 0xb000_0000n, 0x10_0000n), dyn('d', { size: cells64(0x10_0000n) })]);
    delete noRanges.children?.[1].props?.ranges;
    const c = readDtb(buildFdt(noRanges));
    expect([c.reservedMemory, c.dynamicReserved]).toEqual([[], []]);
    expect(c.notes).toEqual(['/reserved-memory: no ranges property (the kernel refuses such a node)']);
  });

  it('an empty reg with a size: __reserved_mem_reserve_reg returns 0, so the node is neither static nor dynamic', () => {
    const d = readDtb(buildFdt(tree([dyn('e', { reg: null, size: cells64(0x10_0000n) })])));
    expect([d.reservedMemory, d.dynamicReserved]).toEqual([[], []]);
    expect(d.notes).toEqual(['/reserved-memory/e: empty reg, nothing reserved (a size property is not read)']);
  });

  it('a first reg entry of size 0 is saved with size 0, so fdt_init_reserved_mem allocates it from size', () => {
    const d = readDtb(buildFdt(tree([dyn('z', { reg: cells64(0xb000_0000n, 0n), size: cells64(0x10_0000n) }), dyn('zz', { reg: cells64(0xb000_0000n, 0n) })])));
    expect(d.reservedMemory).toEqual([]);
    expect(d.dynamicReserved.map((r) => [r.name, r.size])).toEqual([['z', 0x10_0000n]]);
  });

  it('alignment is read with dt_root_addr_cells; any other length skips the node (-EINVAL)', () => {
    // #address-cells 2, #size-cells 1 (root and /reserved-memory alike).
    const t = (alignment: Uint8Array) => tree([dyn('a', { size: cells(0x10_0000), alignment })], { '#size-cells': [1] }, { '#size-cells': [1] });
    const two = readDtb(buildFdt(t(cells64(0x20_0000n))));
    expect(two.dynamicReserved.map((r) => r.alignment)).toEqual([0x20_0000n]);
    const one = readDtb(buildFdt(t(cells(0x20_0000))));
    expect(one.dynamicReserved).toEqual([]);
  });

  it('no alignment, or alignment 0: SMP_CACHE_BYTES (64), not a page', () => {
    for (const k of ['5.10', '6.6'] as const) {
      expect(baseOf(tree([dyn('s', { size: cells64(0x1800n) })]), k, 's')).toBe(0xc000_0000n - 0x1800n);
      expect(baseOf(tree([dyn('s', { size: cells64(0x1800n), alignment: cells64(0n) })]), k, 's')).toBe(0xc000_0000n - 0x1800n);
    }
  });

  it('alloc-ranges: the first window listed with room wins, even when a later one is higher (5.10 and 6.6)', () => {
    const t = tree([dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(0x9000_0000n, 16n * MiB, 0xb000_0000n, 16n * MiB) })]);
    expect(baseOf(t, '5.10', 'w')).toBe(0x90c0_0000n);
    expect(baseOf(t, '6.6', 'w')).toBe(0x90c0_0000n);
    // A first window without room falls through to the next.
    const full = tree([fixed('f@90000000', 0x9000_0000n, 16n * MiB), dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(0x9000_0000n, 16n * MiB, 0xb000_0000n, 16n * MiB) })]);
    expect(baseOf(full, '5.10', 'w')).toBe(0xb0c0_0000n);
  });

  it('6.6 __reserved_mem_alloc_in_range: a window starting at a reserved_mem region is filled bottom-up; 5.10 stays top-down', () => {
    const t = tree([fixed('f@b0000000', 0xb000_0000n, 16n * MiB), dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(0xb000_0000n, 64n * MiB) })]);
    expect(baseOf(t, '6.6', 'w')).toBe(0xb100_0000n);
    expect(place(t, '6.6').notes).toContain('/reserved-memory/w: 4 MiB without reg, placed bottom-up at 0xb1000000 as memblock would (approximation)');
    expect(baseOf(t, '5.10', 'w')).toBe(0xb3c0_0000n);
    // Next to an earlier dynamic region too (it is in reserved_mem once placed).
    const two = tree([dyn('low', { size: cells64(16n * MiB), 'alloc-ranges': cells64(0xa000_0000n, 16n * MiB) }), dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(0xa000_0000n, 64n * MiB) })]);
    expect(baseOf(two, '6.6', 'w')).toBe(0xa100_0000n);
    expect(baseOf(two, '5.10', 'w')).toBe(0xa3c0_0000n);
  });

  it('6.6: a window only ending at a region, or starting and ending at regions, stays top-down', () => {
    const end = tree([fixed('f@b0000000', 0xb000_0000n, 16n * MiB), dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(0xa000_0000n, 256n * MiB) })]);
    expect(baseOf(end, '6.6', 'w')).toBe(0xafc0_0000n);
    const both = tree([
      fixed('f@a0000000', 0xa000_0000n, 16n * MiB),
      fixed('f@b0000000', 0xb000_0000n, 16n * MiB),
      dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(0xa100_0000n, 240n * MiB) }),
    ]);
    expect(baseOf(both, '6.6', 'w')).toBe(0xafc0_0000n);
  });

  it('6.6 bottom-up steps over a reservation in the window and keeps the alignment', () => {
    const t = tree([
      fixed('f@b0000000', 0xb000_0000n, 16n * MiB),
      fixed('g@b1000000', 0xb100_0000n + 0x1000n, MiB),
      dyn('w', { size: cells64(4n * MiB), alignment: cells64(2n * MiB), 'alloc-ranges': cells64(0xb000_0000n, 64n * MiB) }),
    ]);
    expect(baseOf(t, '6.6', 'w')).toBe(0xb120_0000n);
  });
});
