// kernel/dma/swiotlb.c corner cases: the 6.6 bounce clamp when the sync starts
// past the recorded allocation, zero-length syncs, and the 5.10 slot search
// wrapping to the start of the pool when the page stride rounds past its end.
import { describe, expect, it } from 'vitest';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import {
  IO_TLB_SIZE,
  swiotlbInit,
  swiotlbListConsistent,
  swiotlbUsed,
  swiotlb_sync_single_for_cpu,
  swiotlb_sync_single_for_device,
  swiotlb_tbl_map_single,
  swiotlb_tbl_unmap_single,
  type CpuMemAccess,
  type IoTlbMem,
} from '../../reference/kernel/dma/swiotlb.ts';
import { PhysMemory } from '../../reference/mm/memory.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';

const POOL = 0x8800_0000n;
const ORIG = 0x9000_0000n;

function rig(kernel: KernelVersion, nslabs = 128): { mem: PhysMemory; cpu: CpuMemAccess; io: IoTlbMem } {
  const mem = new PhysMemory([{ base: 0x8000_0000n, size: 1n << 30n }]);
  const cpu: CpuMemAccess = { load: (pa, len) => mem.read(pa, len), store: (pa, d) => mem.write(pa, d) };
  return { mem, cpu, io: swiotlbInit({ base: POOL, nslabs }, kernel, new Set(), { cpu }) };
}

function notes(fn: () => void): string[] {
  const t = new Tracer();
  setTracer(t);
  try {
    fn();
  } finally {
    setTracer(null);
  }
  return t.events.filter((e) => e.fn === '#').map((e) => e.detail ?? '');
}

describe('6.6 swiotlb_bounce against the recorded alloc_size', () => {
  it('a sync that starts past the end of the allocation inside its slot WARNs and copies nothing', () => {
    const { mem, cpu, io } = rig('6.6');
    mem.write(ORIG, new Uint8Array(IO_TLB_SIZE).fill(0xaa));
    const tlb = swiotlb_tbl_map_single(io, cpu, ORIG, 100, 100, 0, DMA_FROM_DEVICE, 0);
    expect(tlb).not.toBe(DMA_MAPPING_ERROR);
    mem.write(tlb, new Uint8Array(IO_TLB_SIZE).fill(0x55)); // the device wrote the slot
    const seen = notes(() => swiotlb_sync_single_for_cpu(io, cpu, tlb + 200n, 16, DMA_FROM_DEVICE));
    expect(seen).toContain('WARN: Buffer overflow detected (offset past the allocation)');
    expect(mem.read(ORIG + 200n, 16).every((b) => b === 0xaa)).toBe(true);
    // Inside the allocation the same sync copies.
    swiotlb_sync_single_for_cpu(io, cpu, tlb + 50n, 16, DMA_FROM_DEVICE);
    expect(mem.read(ORIG + 50n, 16).every((b) => b === 0x55)).toBe(true);
  });
});

describe.each(['5.10', '6.6'] as const)('zero-length syncs on %s', (kernel) => {
  it('copy nothing in either direction', () => {
    const { mem, cpu, io } = rig(kernel);
    mem.write(ORIG, new Uint8Array(64).fill(1));
    const tlb = swiotlb_tbl_map_single(io, cpu, ORIG, 64, 64, 0, DMA_BIDIRECTIONAL, 0);
    expect(mem.read(tlb, 64).every((b) => b === 1)).toBe(true); // map bounced TO the slot
    mem.write(tlb, new Uint8Array(64).fill(2));
    swiotlb_sync_single_for_cpu(io, cpu, tlb, 0, DMA_BIDIRECTIONAL);
    expect(mem.read(ORIG, 64).every((b) => b === 1)).toBe(true);
    mem.write(ORIG, new Uint8Array(64).fill(3));
    swiotlb_sync_single_for_device(io, cpu, tlb, 0, DMA_TO_DEVICE);
    expect(mem.read(tlb, 64).every((b) => b === 2)).toBe(true);
  });
});

describe('5.10 slot search', () => {
  it('a page-sized request whose stride-rounded start passes the pool end wraps to slot 0', () => {
    const { cpu, io } = rig('5.10', 128);
    const SLOT = IO_TLB_SIZE;
    // 126 slots from 0 (page stride), then one slot at 126: io->index is now 127.
    const big = swiotlb_tbl_map_single(io, cpu, ORIG, 126 * SLOT, 126 * SLOT, 0, DMA_TO_DEVICE, 0);
    expect(big).toBe(POOL);
    const one = swiotlb_tbl_map_single(io, cpu, ORIG, 64, 64, 0, DMA_TO_DEVICE, 0);
    expect(one).toBe(POOL + 126n * BigInt(SLOT));
    swiotlb_tbl_unmap_single(io, cpu, big, 126 * SLOT, DMA_TO_DEVICE, 0);
    // 4 KiB = 2 slots, stride 2: roundup(127, 2) = 128 is past the pool, so the search starts at 0.
    const page = swiotlb_tbl_map_single(io, cpu, ORIG, 4096, 4096, 0, DMA_TO_DEVICE, 0);
    expect(page).toBe(POOL);
    expect(swiotlbUsed(io)).toBe(3);
    expect(swiotlbListConsistent(io)).toBe(true);
  });
});
