// reference/kernel/dma/swiotlb.ts: exact outcomes that StrykerJS showed no other test
// pins down (bench/mutation-equivalents.md lists the survivors that cannot be killed).
// Kernel: kernel/dma/swiotlb.c of 5.10 (swiotlb_tbl_map_single, swiotlb_tbl_unmap_single,
// swiotlb_tbl_sync_single) and 6.6 (swiotlb_area_find_slots, swiotlb_release_slots,
// swiotlb_bounce, swiotlb_sync_single_for_{cpu,device}).
import { describe, expect, it } from 'vitest';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import {
  INVALID_PHYS_ADDR,
  IO_TLB_SEGSIZE,
  IO_TLB_SIZE,
  SYNC_FOR_CPU,
  SYNC_FOR_DEVICE,
  swiotlbInit,
  swiotlbListConsistent,
  swiotlbUsed,
  swiotlb_area_find_slots,
  swiotlb_release_slots,
  swiotlb_sync_single_for_cpu,
  swiotlb_sync_single_for_device,
  swiotlb_tbl_map_single,
  swiotlb_tbl_sync_single,
  swiotlb_tbl_unmap_single,
  type CpuMemAccess,
  type IoTlbMem,
} from '../../reference/kernel/dma/swiotlb.ts';
import { PhysMemory } from '../../reference/mm/memory.ts';
import { KernelBug, ModelError } from '../../reference/types.ts';
import { traceCalls } from './trace-calls.ts';
import { machine } from '../support/machines.ts';

const POOL = 0x8800_0000n;
const ORIG = 0x9000_0000n; // bits 11..13 clear: page and 16 KiB aligned
const SLOT = BigInt(IO_TLB_SIZE);
const VERSIONS: KernelVersion[] = ['5.10', '6.6'];

interface Rig {
  mem: PhysMemory;
  cpu: CpuMemAccess;
  io: IoTlbMem;
}

function rig(kernel: KernelVersion, nslabs = 128): Rig {
  const mem = new PhysMemory([{ base: 0x8000_0000n, size: 1n << 30n }]);
  const cpu: CpuMemAccess = { load: (pa, len) => mem.read(pa, len), store: (pa, d) => mem.write(pa, d) };
  return { mem, cpu, io: swiotlbInit({ base: POOL, nslabs }, kernel, new Set(), { cpu }) };
}

function map(r: Rig, orig: bigint, size: number, dir = DMA_TO_DEVICE, mask = 0, attrs = 0): bigint {
  return swiotlb_tbl_map_single(r.io, r.cpu, orig, size, size, mask, dir, attrs);
}

function unmap(r: Rig, tlb: bigint, size: number, dir = DMA_TO_DEVICE): void {
  swiotlb_tbl_unmap_single(r.io, r.cpu, tlb, size, dir, 0);
}

/** Map and unmap `n` one-slot buffers: all slots free again, the search index left at n. */
function advanceIndex(r: Rig, n: number): void {
  const tlbs = Array.from({ length: n }, (_, i) => map(r, ORIG + BigInt(i) * 0x1000n, 64));
  for (const t of tlbs) unmap(r, t, 64);
  expect(r.io.index).toBe(n);
  expect(swiotlbUsed(r.io)).toBe(0);
}

const lists = (io: IoTlbMem): number[] => io.slots.map((s) => s.list);
const fresh = (k: KernelVersion, nslabs = 128): number[] => lists(rig(k, nslabs).io);
const all = (a: Uint8Array, v: number): boolean => a.every((x) => x === v);

describe('swiotlbInit refuses what no kernel pool can be', () => {
  it('an unknown kernel version, a negative or fractional nslabs, a negative base', () => {
    expect(() => swiotlbInit({ base: POOL, nslabs: 128 }, '4.19' as KernelVersion, new Set())).toThrow(ModelError);
    for (const nslabs of [-1, -128, 1.5]) expect(() => swiotlbInit({ base: POOL, nslabs }, '6.6', new Set()), String(nslabs)).toThrow(ModelError);
    // -4096 is page aligned as a two's-complement bigint: only the sign test catches it.
    expect(() => swiotlbInit({ base: -4096n, nslabs: 128 }, '6.6', new Set())).toThrow(ModelError);
  });

  it('initFailed describes a failed boot allocation, so only goes with nslabs 0', () => {
    for (const k of VERSIONS) {
      expect(() => swiotlbInit({ base: POOL, nslabs: 128 }, k, new Set(), { initFailed: true })).toThrow(ModelError);
      const io = swiotlbInit({ base: POOL, nslabs: 128 }, k, new Set(), { initFailed: false });
      expect(io.no_iotlb_memory).toBe(false);
      expect(io.nslabs).toBe(128);
    }
  });

  it('the slot array has exactly nslabs entries (none without a pool)', () => {
    for (const k of VERSIONS) {
      expect(rig(k, 0).io.slots).toEqual([]);
      expect(rig(k, 128).io.slots.length).toBe(128);
      expect(rig(k, 256).io.slots.length).toBe(256);
    }
  });
});

describe('swiotlbListConsistent (the check every property test leans on)', () => {
  it('accepts a fresh 6.6 pool with a partial last segment', () => {
    // Slot 129 is the pool's last; its offset in the segment is 1, not 127.
    expect(swiotlbListConsistent(rig('6.6', 130).io)).toBe(true);
  });

  it('rejects a free slot that still records an original address', () => {
    const { io } = rig('6.6');
    io.slots[5].orig_addr = ORIG;
    expect(swiotlbListConsistent(io)).toBe(false);
  });

  it('rejects a free run whose count is off', () => {
    const { io } = rig('6.6');
    io.slots[5].list = 7;
    expect(swiotlbListConsistent(io)).toBe(false);
  });

  it('rejects a used count that does not match the slots in use', () => {
    const r = rig('6.6');
    map(r, ORIG, 64);
    r.io.used = 2;
    expect(swiotlbListConsistent(r.io)).toBe(false);
  });
});

describe('slotIndexOf: only addresses inside [start, end) name a slot', () => {
  it('refuses the slot below the pool and the address at its end', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      for (const tlb of [POOL - SLOT, POOL + 128n * SLOT]) {
        expect(() => unmap(r, tlb, 64), `${k} unmap ${tlb}`).toThrow(ModelError);
        expect(() => swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb, 64, DMA_FROM_DEVICE), `${k} sync ${tlb}`).toThrow(ModelError);
      }
    }
  });
});

describe('6.6 swiotlb_bounce: the free-slot test and the alloc_size clamp', () => {
  it('syncing a free slot returns before any WARN', () => {
    // 6.6: `if (orig_addr == INVALID_PHYS_ADDR) return;` comes before both dev_WARN_ONCEs.
    const r = rig('6.6');
    const { notes } = traceCalls(() => swiotlb_sync_single_for_cpu(r.io, r.cpu, POOL, 64, DMA_FROM_DEVICE));
    expect(notes).toContain('slot not mapped (INVALID_PHYS_ADDR)');
    expect(notes.filter((n) => n.startsWith('WARN'))).toEqual([]);
  });

  it('a sync starting exactly at the end of the allocation takes the size WARN, not the offset WARN', () => {
    // tlb_offset > alloc_size is false at equality: alloc_size becomes 0, then
    // "Buffer overflow detected. Allocation size: 0. Mapping size: 16." and nothing is copied.
    const r = rig('6.6');
    r.mem.write(ORIG, new Uint8Array(200).fill(0x11));
    const tlb = map(r, ORIG, 100, DMA_BIDIRECTIONAL);
    r.mem.write(tlb, new Uint8Array(200).fill(0x22));
    const { notes } = traceCalls(() => swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb + 100n, 16, DMA_FROM_DEVICE));
    expect(notes).toContain('WARN: Buffer overflow detected');
    expect(notes).not.toContain('WARN: Buffer overflow detected (offset past the allocation)');
    expect(all(r.mem.read(ORIG, 200), 0x11)).toBe(true);
  });

  it('a sync of exactly the rest of the allocation does not WARN', () => {
    const r = rig('6.6');
    const tlb = map(r, ORIG, 100, DMA_BIDIRECTIONAL);
    for (const [off, size] of [[0, 100], [40, 60]] as const) {
      const { notes } = traceCalls(() => swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb + BigInt(off), size, DMA_FROM_DEVICE));
      expect(notes.filter((n) => n.startsWith('WARN')), `${off}+${size}`).toEqual([]);
    }
  });

  it('an oversized sync from inside the slot is clamped to what is left of the allocation', () => {
    // orig_addr += tlb_offset; alloc_size -= tlb_offset; size = min(size, alloc_size).
    const r = rig('6.6');
    r.mem.write(ORIG, new Uint8Array(200).fill(0x11));
    const tlb = map(r, ORIG, 100, DMA_BIDIRECTIONAL);
    r.mem.write(tlb, new Uint8Array(200).fill(0x22));
    swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb + 50n, 100, DMA_FROM_DEVICE);
    const got = r.mem.read(ORIG, 200);
    expect(all(got.subarray(0, 50), 0x11)).toBe(true);
    expect(all(got.subarray(50, 100), 0x22)).toBe(true);
    expect(all(got.subarray(100), 0x11)).toBe(true);
  });

  it('each slot records the bytes of the mapping from its start on, so a sync in a later slot is clamped too', () => {
    // swiotlb_area_find_slots: slots[i].alloc_size = alloc_size - ((i - index) << IO_TLB_SHIFT).
    const r = rig('6.6');
    r.mem.write(ORIG, new Uint8Array(8000).fill(0x11));
    const tlb = map(r, ORIG, 6000, DMA_BIDIRECTIONAL);
    expect(r.io.slots.slice(0, 3).map((s) => s.alloc_size)).toEqual([6000, 6000 - 2048, 6000 - 4096]);
    r.mem.write(tlb, new Uint8Array(8000).fill(0x22));
    const { notes } = traceCalls(() => swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb + 5000n, 2000, DMA_FROM_DEVICE));
    expect(notes).toContain('WARN: Buffer overflow detected');
    const got = r.mem.read(ORIG, 8000);
    expect(all(got.subarray(0, 5000), 0x11)).toBe(true);
    expect(all(got.subarray(5000, 6000), 0x22)).toBe(true);
    expect(all(got.subarray(6000), 0x11)).toBe(true);
  });
});

describe('zero-length copies touch nothing', () => {
  for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
    it(`${name}: a zero-byte sync just past a buffer that ends at the top of the linear map`, () => {
      // swiotlb_bounce's memcpy of 0 bytes reads and writes nothing; phys_to_virt is plain
      // arithmetic in the kernel, so the address one past the last linear-map byte is harmless.
      const m = machine(name);
      const io = m.io_tlb!;
      const top = m.init_mm.phys_ram_base + m.init_mm.layout.linearMapSize;
      const tlb = swiotlb_tbl_map_single(io, m.cpuMem, top - 100n, 100, 100, 0, DMA_BIDIRECTIONAL, 0);
      expect(tlb).not.toBe(DMA_MAPPING_ERROR);
      expect(() => swiotlb_sync_single_for_cpu(io, m.cpuMem, tlb + 100n, 0, DMA_FROM_DEVICE)).not.toThrow();
      expect(() => swiotlb_sync_single_for_device(io, m.cpuMem, tlb + 100n, 0, DMA_TO_DEVICE)).not.toThrow();
    });
  }
});

describe('5.10 slot search (inside swiotlb_tbl_map_single)', () => {
  it('BUG_ON(!nslots) for a zero-byte allocation, in both versions', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      expect(() => swiotlb_tbl_map_single(r.io, r.cpu, ORIG, 0, 0, 0, DMA_TO_DEVICE, 0), k).toThrow(KernelBug);
    }
  });

  it('searches from io_tlb_index (next fit), not from slot 0', () => {
    const r = rig('5.10');
    const a = map(r, ORIG, 64);
    const b = map(r, ORIG + 0x1000n, 64);
    expect([a, b]).toEqual([POOL, POOL + SLOT]);
    unmap(r, a, 64);
    expect(r.io.index).toBe(2);
    expect(map(r, ORIG + 0x2000n, 64)).toBe(POOL + 2n * SLOT);
  });

  it('io_tlb_index wraps to 0 when a mapping ends at the pool end', () => {
    // io_tlb_index = ((index + nslots) < io_tlb_nslabs ? (index + nslots) : 0);
    const r = rig('5.10');
    expect(map(r, ORIG, 127 * IO_TLB_SIZE)).toBe(POOL); // page stride: slots 0..126
    expect(r.io.index).toBe(127);
    expect(map(r, ORIG, 64)).toBe(POOL + 127n * SLOT);
    expect(r.io.index).toBe(0);
  });
});

describe('6.6 swiotlb_area_find_slots', () => {
  it('exists only in 6.6, and so does swiotlb_release_slots', () => {
    const r = rig('5.10');
    expect(() => swiotlb_area_find_slots(r.io, ORIG, 64, 0)).toThrow(ModelError);
    expect(() => swiotlb_release_slots(r.io, POOL)).toThrow(ModelError);
    expect(swiotlbUsed(r.io)).toBe(0);
  });

  it('a sub-page allocation takes the first free slot whatever bit 11 of the original is', () => {
    // ~PAGE_MASK joins iotlb_align_mask only for alloc_size >= PAGE_SIZE.
    const r = rig('6.6');
    expect(map(r, ORIG + 0x800n, 64)).toBe(POOL);
  });

  it('orig_addr 0 means no alignment constraint from the original (swiotlb_alloc passes 0)', () => {
    const r = rig('6.6');
    advanceIndex(r, 1);
    // 4 KiB: mask 0x800, stride 2; slot 1 has bit 11 set, but orig_addr 0 skips the bit test.
    expect(swiotlb_area_find_slots(r.io, 0n, 4096, 0)).toBe(1);
  });

  it('a slot whose bits do not match the original is passed by one slot forward', () => {
    const r = rig('6.6');
    advanceIndex(r, 1);
    // Slot 1 (bit 11 set) does not match a page-aligned original: index + 1 = 2, which does.
    expect(map(r, ORIG, 4096)).toBe(POOL + 2n * SLOT);
  });

  it('stops after area_nslabs slots checked, even when that leaves the slots before the start unprobed', () => {
    // for (slots_checked = 0; slots_checked < area_nslabs; ) { ... slots_checked += stride; }
    // alloc_align_mask 0x3fff: stride 8. From index 3 the probes are 3, 11, ..., 123 (16 probes,
    // 128 slots counted); 126 slots do not fit at any of them, and slot 0, where they would
    // fit, is not probed: the search fails.
    const r = rig('6.6');
    advanceIndex(r, 3);
    expect(swiotlb_area_find_slots(r.io, 0n, 126 * IO_TLB_SIZE, 0x3fff)).toBe(-1);
    expect(swiotlbUsed(r.io)).toBe(0);
  });

  it('a mismatching slot counts as checked too', () => {
    // Original bits 0x1800 (slot residue 3 mod 8), start at 4: seven mismatches (4..10) count
    // 7, probes 11..123 count 120, then slot 0 mismatches: 128, stop. Slot 3 (list 125 >= 120)
    // is never probed, so the kernel reports the pool full.
    const r = rig('6.6');
    advanceIndex(r, 4);
    expect(swiotlb_area_find_slots(r.io, ORIG + 0x1800n, 120 * IO_TLB_SIZE, 0x3fff)).toBe(-1);
    expect(swiotlbUsed(r.io)).toBe(0);
  });
});

describe('free-run bookkeeping stops at segment boundaries', () => {
  it('claiming slots shortens only the run in front of them inside the same segment', () => {
    // for (i = index - 1; io_tlb_offset(i) != IO_TLB_SEGSIZE - 1 && list[i]; i--) list[i] = ++count;
    for (const k of VERSIONS) {
      const r = rig(k, 256);
      const a = map(r, ORIG, IO_TLB_SEGSIZE * IO_TLB_SIZE); // all of segment 0
      const b = map(r, ORIG + 0x40000n, 4096); // slots 128, 129
      expect([a, b]).toEqual([POOL, POOL + 128n * SLOT]);
      unmap(r, a, IO_TLB_SEGSIZE * IO_TLB_SIZE);
      unmap(r, b, 4096);
      expect(lists(r.io)).toEqual(fresh(k, 256));
      // Next fit starts at 130 with 128, 129 free in front of it and segment 0 free before them.
      expect(map(r, ORIG + 0x80000n, 64)).toBe(POOL + 130n * SLOT);
      const want = fresh(k, 256);
      want[128] = 2;
      want[129] = 1;
      want[130] = 0;
      expect(lists(r.io)).toEqual(want);
      expect(swiotlbListConsistent(r.io)).toBe(true);
    }
  });

  it('releasing slots at a segment start does not extend the previous segment\'s run', () => {
    for (const k of VERSIONS) {
      const r = rig(k, 256);
      const a = map(r, ORIG, IO_TLB_SEGSIZE * IO_TLB_SIZE);
      const b = map(r, ORIG + 0x40000n, 64);
      expect(b).toBe(POOL + 128n * SLOT);
      unmap(r, a, IO_TLB_SEGSIZE * IO_TLB_SIZE);
      unmap(r, b, 64);
      expect(lists(r.io)).toEqual(fresh(k, 256));
    }
  });

  it('releasing slots that end at a segment end does not count the next segment\'s run', () => {
    // count = (index + nslots < ALIGN(index + 1, IO_TLB_SEGSIZE)) ? list[index + nslots] : 0;
    for (const k of VERSIONS) {
      const r = rig(k, 256);
      const a = map(r, ORIG, IO_TLB_SEGSIZE * IO_TLB_SIZE);
      unmap(r, a, IO_TLB_SEGSIZE * IO_TLB_SIZE);
      expect(lists(r.io)).toEqual(fresh(k, 256));
      expect(swiotlbListConsistent(r.io)).toBe(true);
    }
  });

  it('6.6 releasing the tail of a partial last segment counts no slot past the pool', () => {
    // A pool of 130 slots: swiotlbInit accepts a partial last segment for 6.6 (the min() of
    // swiotlb_init_io_tlb_pool). The model's count stops at the pool end; the kernel's
    // swiotlb_release_slots has no nslabs test and would read slots[nslabs], past the array
    // (the 6.6 default pool is whole segments, so only restricted pools could get there;
    // see the note under swiotlb.ts in bench/mutation-equivalents.md).
    const r = rig('6.6', 130);
    expect(map(r, ORIG, IO_TLB_SEGSIZE * IO_TLB_SIZE)).toBe(POOL);
    const b = map(r, ORIG + 0x40000n, 4096);
    expect(b).toBe(POOL + 128n * SLOT);
    unmap(r, b, 4096);
    expect([r.io.slots[128].list, r.io.slots[129].list]).toEqual([2, 1]);
    expect(swiotlbListConsistent(r.io)).toBe(true);
  });
});

describe('5.10 swiotlb_tbl_unmap_single / swiotlb_tbl_sync_single on free slots', () => {
  it('unmap does not call swiotlb_bounce for a slot whose orig_addr is INVALID_PHYS_ADDR', () => {
    // 5.10: if (orig_addr != INVALID_PHYS_ADDR && !(attrs & SKIP_CPU_SYNC) && (FROM_DEVICE || BIDIRECTIONAL)) swiotlb_bounce(...)
    const r = rig('5.10');
    const { calls } = traceCalls(() => unmap(r, POOL + 5n * SLOT, 64, DMA_FROM_DEVICE));
    expect(calls.map((c) => c.trim())).not.toContain('swiotlb_bounce');
  });

  it('unmap refuses a size that runs past the pool', () => {
    const r = rig('5.10');
    expect(() => swiotlb_tbl_unmap_single(r.io, r.cpu, POOL + 127n * SLOT, 64, DMA_TO_DEVICE, 0, 4096)).toThrow(ModelError);
  });

  it('sync returns on a free slot before the direction BUG_ONs', () => {
    // 5.10: if (orig_addr == INVALID_PHYS_ADDR) return; comes first.
    const r = rig('5.10');
    expect(() => swiotlb_tbl_sync_single(r.io, r.cpu, POOL, 64, DMA_NONE, SYNC_FOR_CPU)).not.toThrow();
    expect(() => swiotlb_tbl_sync_single(r.io, r.cpu, POOL, 64, DMA_NONE, SYNC_FOR_DEVICE)).not.toThrow();
  });

  it('the 6.6 sync entry points are swiotlb_tbl_sync_single on 5.10', () => {
    const r = rig('5.10');
    r.mem.write(ORIG, new Uint8Array(64).fill(0x31));
    const tlb = map(r, ORIG, 64, DMA_BIDIRECTIONAL);
    const dev = traceCalls(() => swiotlb_sync_single_for_device(r.io, r.cpu, tlb, 64, DMA_BIDIRECTIONAL)).calls.map((c) => c.trim());
    const cpu = traceCalls(() => swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb, 64, DMA_BIDIRECTIONAL)).calls.map((c) => c.trim());
    expect(dev[0]).toBe('swiotlb_tbl_sync_single');
    expect(cpu[0]).toBe('swiotlb_tbl_sync_single');
    expect(dev).not.toContain('swiotlb_sync_single_for_device');
    expect(cpu).not.toContain('swiotlb_sync_single_for_cpu');
  });
});

describe('swiotlb_tbl_map_single argument checks and failure paths', () => {
  it('refuses negative or fractional sizes and alignment masks', () => {
    const r = rig('6.6');
    const bad: [number, number, number][] = [
      [-1, 64, 0],
      [1.5, 64, 0],
      [0, -1, 0],
      [1, 1.5, 0],
      [64, 64, -1],
      [64, 64, 1.5],
    ];
    for (const [mapping, alloc, mask] of bad) {
      expect(() => swiotlb_tbl_map_single(r.io, r.cpu, ORIG, mapping, alloc, mask, DMA_TO_DEVICE, 0), `${mapping}/${alloc}/${mask}`).toThrow(ModelError);
    }
    expect(swiotlbUsed(r.io)).toBe(0);
  });

  it('a zero-byte mapping inside a real allocation is fine', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      expect(swiotlb_tbl_map_single(r.io, r.cpu, ORIG, 0, 64, 0, DMA_TO_DEVICE, 0), k).toBe(POOL);
      expect(r.io.slots[0].orig_addr).toBe(ORIG);
    }
  });

  it('6.6 after a failed boot allocation warns and returns DMA_MAPPING_ERROR; only 5.10 panics', () => {
    const io = swiotlbInit({ base: 0n, nslabs: 0 }, '6.6', new Set(), { initFailed: true });
    expect(swiotlb_tbl_map_single(io, rig('6.6').cpu, ORIG, 64, 64, 0, DMA_TO_DEVICE, 0)).toBe(DMA_MAPPING_ERROR);
  });

  it('a full pool without DMA_ATTR_NO_WARN prints its message', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      map(r, ORIG, IO_TLB_SEGSIZE * IO_TLB_SIZE);
      const { result, notes } = traceCalls(() => map(r, ORIG, 64));
      expect(result).toBe(DMA_MAPPING_ERROR);
      expect(notes).toContain('swiotlb buffer is full');
      expect(notes).not.toContain('DMA_ATTR_NO_WARN: no message');
    }
  });

  it('6.6 release notes a free slot only when there is nothing to free', () => {
    const r = rig('6.6');
    const tlb = map(r, ORIG, 64);
    expect(traceCalls(() => swiotlb_release_slots(r.io, tlb)).notes).not.toContain('releasing a free slot: nothing to free');
    expect(traceCalls(() => swiotlb_release_slots(r.io, POOL + 3n * SLOT)).notes).toContain('releasing a free slot: nothing to free');
    expect(r.io.slots[0].orig_addr).toBe(INVALID_PHYS_ADDR);
  });
});
