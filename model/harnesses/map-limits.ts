// Streaming mappings sized by what the DMA API promises: a driver asks
// dma_max_mapping_size and maps at most that much of a buffer wherever it lies
// in RAM (block I/O maps page-cache and user pages, not memory it chose). Such
// a mapping must not fail when the device reaches the buffer directly or can
// reach swiotlb while swiotlb has a free run for it. Which RAM a device
// reaches is the model's own reading of the device tree (dma-ranges as
// written) and the mask the device drives, not the kernel's range map.

import fc from 'fast-check';
import type { Harness } from '../harness.ts';
import { pick } from '../resolve.ts';
import type { DeviceSpec, MemoryRange, Profile } from '../../reference/config/profile.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { probeDeviceSpec } from '../../reference/drivers/of/platform.ts';
import { dma_map_page_attrs, dma_unmap_page_attrs } from '../../reference/kernel/dma/mapping.ts';
import { dma_max_mapping_size, SIZE_MAX } from '../../reference/kernel/dma/max-mapping-size.ts';
import { DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { IO_TLB_SEGSIZE, IO_TLB_SIZE, type IoTlbMem } from '../../reference/kernel/dma/swiotlb.ts';
import { PAGE_SIZE, PAGE_SIZE_N, hex } from '../../reference/types.ts';

const KiB = 1024;
const GiB = 1n << 30n;
const MASKS = [32, 34, 36, 40, 48, 64] as const;
type Ranges = 'none' | 'offset' | 'window';

export type MapLimitsOp =
  /** Probes a device into `slot`; a map names it by that slot, so dropping other probes keeps the reference. */
  | { k: 'add_device'; mask: number; coherent: boolean; ranges: Ranges; slot: number }
  /** Map up to `want` bytes at a page of reach piece `seg` (see pieces) of device `dev` (a slot below SLOTS, else a profile device). */
  | { k: 'map'; dev: number; seg: number; off: number; want: number }
  | { k: 'unmap'; i: number };

interface Dev {
  dev: device;
  spec: DeviceSpec;
}

interface Live {
  id: number;
  dev: device;
  dma: bigint;
  phys: bigint;
  size: number;
}

interface Span {
  start: bigint;
  end: bigint;
}

export interface MapLimitsState {
  m: Machine;
  /** The profile's devices, in order. */
  devs: Dev[];
  slots: (Dev | undefined)[];
  live: Live[];
  nextId: number;
  /** RAM a buffer can be in: memory minus memblock reservations, non-reusable reserved-memory and the swiotlb pool. */
  ram: Span[];
  v: string | null;
}

function minus(spans: readonly Span[], holes: readonly MemoryRange[]): Span[] {
  let out = spans.map((s) => ({ ...s }));
  for (const h of holes) {
    const hEnd = h.base + h.size;
    out = out.flatMap((s) => {
      if (hEnd <= s.start || h.base >= s.end) return [s];
      const parts: Span[] = [];
      if (h.base > s.start) parts.push({ start: s.start, end: h.base });
      if (hEnd < s.end) parts.push({ start: hEnd, end: s.end });
      return parts;
    });
  }
  return out;
}

function bufferRam(m: Machine): Span[] {
  const p = m.profile;
  const spans = (m.init_mm.memory ?? p.memory).map((b) => ({ start: b.base, end: b.base + b.size }));
  const kept = (p.reservedMemory ?? []).filter((r) => r.reusable !== true);
  const pool = m.swiotlbPool ? [{ base: m.swiotlbPool.base, size: BigInt(m.swiotlbPool.nslabs * IO_TLB_SIZE) }] : [];
  return minus(spans, [...p.reserved, ...kept, ...pool]).filter((s) => s.end - s.start >= PAGE_SIZE_N);
}

/** [a, b) lies in one dma-ranges entry as the device tree writes it and its bus addresses fit the device's mask. */
function reaches(d: Dev, a: bigint, b: bigint): boolean {
  const mask = d.dev.dma_mask ?? 0n;
  const ranges = d.spec.dmaRanges;
  if (ranges === undefined) return b - 1n <= mask;
  return ranges.some((r) => a >= r.cpu && b <= r.cpu + r.size && a - r.cpu + r.dma + (b - a) - 1n <= mask);
}

/** Buffer RAM cut where the device's reach changes (window edges, the mask's top), so holes are as easy to pick as windows. */
function pieces(st: MapLimitsState, d: Dev): Span[] {
  const mask = d.dev.dma_mask ?? 0n;
  const cuts = new Set<bigint>();
  for (const r of d.spec.dmaRanges ?? []) {
    cuts.add(r.cpu);
    cuts.add(r.cpu + r.size);
    if (mask + 1n - r.dma < r.size) cuts.add(r.cpu + mask + 1n - r.dma);
  }
  if (d.spec.dmaRanges === undefined) cuts.add(mask + 1n);
  const out: Span[] = [];
  for (const s of st.ram) {
    const inside = [...cuts].filter((c) => c > s.start && c < s.end).sort((x, y) => (x < y ? -1 : 1));
    let a = s.start;
    for (const c of [...inside, s.end]) {
      const lo = (a + PAGE_SIZE_N - 1n) & ~(PAGE_SIZE_N - 1n);
      if (c - lo >= PAGE_SIZE_N) out.push({ start: lo, end: c });
      a = c;
    }
  }
  return out;
}

/**
 * Whether slots in use could explain a failed bounce of `size` bytes: not when
 * no state of the pool could take it (more than one segment: only the size
 * promise is to blame), nor when a free run starts on a page (the slot search
 * keeps a page-aligned original page-aligned from PAGE_SIZE up; below that any
 * slot would do, so this asks a little more than the kernel).
 */
function swiotlbBusy(io: IoTlbMem, size: number): boolean {
  const n = Math.ceil(size / IO_TLB_SIZE);
  if (n > IO_TLB_SEGSIZE) return false;
  for (let i = 0; i < io.nslabs; i += PAGE_SIZE / IO_TLB_SIZE) if (io.slots[i].list >= n) return false;
  return true;
}

const SLOTS = 4;

function devFor(st: MapLimitsState, key: number): Dev {
  return (key < SLOTS ? st.slots[key] : undefined) ?? st.devs[key % st.devs.length];
}

function specFor(m: Machine, op: { mask: number; coherent: boolean; ranges: Ranges }, n: number): DeviceSpec {
  const lo = m.profile.memory.reduce((a, b) => (b.base < a ? b.base : a), m.profile.memory[0].base);
  const spec: DeviceSpec = { name: `gen${n}`, coherent: op.coherent, dmaMaskBits: op.mask, coherentMaskBits: op.mask };
  if (op.ranges === 'offset') spec.dmaRanges = [{ cpu: lo, dma: 0n, size: 1n << 36n }];
  if (op.ranges === 'window') spec.dmaRanges = [{ cpu: lo, dma: 0x4000_0000n, size: GiB }];
  return spec;
}

function size(v: bigint): string {
  return v === SIZE_MAX ? 'SIZE_MAX' : `${v / 1024n} KiB`;
}

export const mapLimitsHarness: Harness<MapLimitsState, MapLimitsOp> = {
  name: 'map-limits',
  appliesTo: (p) => p.devices.length > 0,
  maxOps: 24,
  setup(profile: Profile) {
    const m = buildMachine(profile);
    const devs = profile.devices.map((spec, i) => ({ dev: m.devices[i], spec }));
    return { m, devs, slots: [], live: [], nextId: 0, ram: bufferRam(m), v: null };
  },
  ops() {
    // Mostly small transfers: a bounced one costs a copy through the cache model (about 100 ms for 256 KiB).
    const want = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 1, max: 8 * KiB }) },
      { weight: 1, arbitrary: fc.constantFrom(64 * KiB, 256 * KiB, 260 * KiB, 1024 * KiB) },
    );
    return fc.oneof(
      { weight: 1, arbitrary: fc.record({ k: fc.constant('add_device' as const), mask: fc.constantFrom(...MASKS), coherent: fc.boolean(), ranges: fc.constantFrom<Ranges>('none', 'offset', 'window'), slot: fc.nat({ max: SLOTS - 1 }) }) },
      { weight: 6, arbitrary: fc.record({ k: fc.constant('map' as const), dev: fc.nat({ max: 7 }), seg: fc.nat({ max: 15 }), off: fc.nat({ max: 1 << 20 }), want }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('unmap' as const), i: fc.nat({ max: 3 }) }) },
    );
  },
  apply(st, op, explain) {
    const m = st.m;
    switch (op.k) {
      case 'add_device': {
        const spec = specFor(m, op, m.devices.length);
        const dev = probeDeviceSpec(m, spec);
        m.devices.push(dev);
        st.slots[op.slot] = { dev, spec };
        return explain ? `probe ${dev.name} (slot ${op.slot}): dma_set_mask_and_coherent(DMA_BIT_MASK(${op.mask})), dma-ranges ${op.ranges} → dma_mask ${hex(dev.dma_mask ?? 0n)}` : undefined;
      }
      case 'map': {
        const d = devFor(st, op.dev);
        const ps = pieces(st, d);
        if (ps.length === 0) return explain ? '(map: no RAM)' : undefined;
        const p = ps[op.seg % ps.length];
        const max = dma_max_mapping_size(m, d.dev);
        const len = BigInt(op.want) < max ? op.want : Number(max);
        const ram = st.ram.find((s) => p.start >= s.start && p.start < s.end)!;
        if (ram.end - ram.start < BigInt(len)) return explain ? `(map: no ${len} contiguous bytes of RAM there)` : undefined;
        let phys = p.start + BigInt(op.off % Number((p.end - p.start) / PAGE_SIZE_N)) * PAGE_SIZE_N;
        if (phys + BigInt(len) > ram.end) phys = (ram.end - BigInt(len)) & ~(PAGE_SIZE_N - 1n);
        const io = m.io_tlb;
        const direct = reaches(d, phys, phys + BigInt(len));
        const bounce = io !== null && io.nslabs > 0 && reaches(d, io.start, io.end) && !swiotlbBusy(io, len);
        const dma = dma_map_page_attrs(m, d.dev, Number(phys / PAGE_SIZE_N), 0, BigInt(len), DMA_TO_DEVICE, 0);
        const where = direct ? 'in reach' : 'out of reach';
        if (dma === DMA_MAPPING_ERROR) {
          if (direct || bounce) {
            st.v ??= `${d.dev.name}: dma_map_page of ${len} bytes at ${hex(phys)} (${where}) failed although dma_max_mapping_size = ${size(max)} and ${direct ? 'the device reaches the buffer' : `the device cannot reach it but reaches swiotlb, where no slot in use stands in the way (one mapping bounces at most ${IO_TLB_SIZE * IO_TLB_SEGSIZE} bytes)`}`;
          }
          return explain ? `dma_max_mapping_size(${d.dev.name}) = ${size(max)}; dma_map_page(${len} bytes at ${hex(phys)}, ${where}, TO_DEVICE) = DMA_MAPPING_ERROR` : undefined;
        }
        const l: Live = { id: st.nextId++, dev: d.dev, dma, phys, size: len };
        st.live.push(l);
        return explain ? `dma_max_mapping_size(${d.dev.name}) = ${size(max)}; map#${l.id} = dma_map_page(${len} bytes at ${hex(phys)}, ${where}, TO_DEVICE) = ${hex(dma)}` : undefined;
      }
      case 'unmap': {
        const l = pick(st.live, op.i);
        if (!l) return explain ? '(unmap: nothing mapped)' : undefined;
        dma_unmap_page_attrs(m, l.dev, l.dma, BigInt(l.size), DMA_TO_DEVICE, 0);
        st.live.splice(st.live.indexOf(l), 1);
        return explain ? `dma_unmap_page(${l.dev.name}, map#${l.id})` : undefined;
      }
    }
  },
  describe: (op) => JSON.stringify(op),
  invariants: [
    {
      name: 'max-mapping-size',
      description: 'a streaming mapping no larger than dma_max_mapping_size(dev) never fails for RAM the device reaches directly or through swiotlb with room',
      check: (st) => st.v,
    },
  ],
};
