import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { DMA_ATTR_NO_WARN, DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import {
  INVALID_PHYS_ADDR,
  IO_TLB_SEGSIZE,
  IO_TLB_SIZE,
  SWIOTLB_MODEL_NSLABS,
  SYNC_FOR_CPU,
  is_swiotlb_active,
  is_swiotlb_buffer,
  nr_slots,
  swiotlbInit,
  swiotlbListConsistent,
  swiotlbUsed,
  swiotlb_max_mapping_size,
  swiotlb_sync_single_for_cpu,
  swiotlb_sync_single_for_device,
  swiotlb_tbl_map_single,
  swiotlb_tbl_sync_single,
  swiotlb_tbl_unmap_single,
  type CpuMemAccess,
  type IoTlbMem,
  type SwiotlbOptions,
} from '../../reference/kernel/dma/swiotlb.ts';
import { PhysMemory } from '../../reference/mm/memory.ts';
import { KernelBug, ModelError } from '../../reference/types.ts';
import { Tracer, setTracer } from '../../reference/trace.ts';

const POOL = 0x8800_0000n;
const ORIG = 0x9000_0000n;
const VERSIONS: KernelVersion[] = ['5.10', '6.6'];

interface Rig {
  mem: PhysMemory;
  cpu: CpuMemAccess;
  io: IoTlbMem;
}

function rig(kernel: KernelVersion, nslabs = SWIOTLB_MODEL_NSLABS, opts: Omit<SwiotlbOptions, 'cpu'> = {}): Rig {
  const mem = new PhysMemory([{ base: 0x8000_0000n, size: 1n << 30n }]);
  const cpu: CpuMemAccess = { load: (pa, len) => mem.read(pa, len), store: (pa, d) => mem.write(pa, d) };
  const io = swiotlbInit({ base: POOL, nslabs }, kernel, new Set(), { ...opts, cpu });
  return { mem, cpu, io };
}

const bytes = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
const all = (a: Uint8Array, v: number): boolean => a.every((x) => x === v);

function map(r: Rig, orig: bigint, size: number, dir: number, attrs = 0, alloc = size, mask = 0): bigint {
  return swiotlb_tbl_map_single(r.io, r.cpu, orig, size, alloc, mask, dir, attrs);
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

describe('swiotlb pool set-up', () => {
  it('initialises free runs per segment', () => {
    for (const k of VERSIONS) {
      const { io } = rig(k, 256);
      expect(io.slots[0].list).toBe(128);
      expect(io.slots[127].list).toBe(1);
      expect(io.slots[128].list).toBe(128);
      expect(io.slots.every((s) => s.orig_addr === INVALID_PHYS_ADDR)).toBe(true);
      expect(is_swiotlb_active(io)).toBe(true);
      expect(is_swiotlb_buffer(io, POOL)).toBe(true);
      expect(is_swiotlb_buffer(io, POOL + 256n * 2048n - 1n)).toBe(true);
      expect(is_swiotlb_buffer(io, POOL + 256n * 2048n)).toBe(false);
      expect(is_swiotlb_buffer(io, POOL - 1n)).toBe(false);
      expect(swiotlb_max_mapping_size(io)).toBe(256 * 1024);
      expect(swiotlbListConsistent(io)).toBe(true);
    }
  });

  it('6.6 caps the last partial segment; 5.10 wants whole segments', () => {
    const { io } = rig('6.6', 130);
    expect([io.slots[128].list, io.slots[129].list]).toEqual([2, 1]);
    expect(() => rig('5.10', 130)).toThrow(ModelError);
  });

  it('zeroes the pool and refuses pools above 4 GiB or unaligned', () => {
    const r = rig('6.6');
    expect(all(r.mem.read(POOL, 128 * IO_TLB_SIZE), 0)).toBe(true);
    expect(() => swiotlbInit({ base: 0xffff_f000n, nslabs: 128 }, '6.6', new Set())).toThrow(ModelError);
    expect(() => swiotlbInit({ base: POOL + 8n, nslabs: 128 }, '6.6', new Set())).toThrow(ModelError);
  });

  it('without a pool: 6.6 returns the error, 5.10 finds nothing or panics after a failed init', () => {
    for (const k of VERSIONS) {
      const r = rig(k, 0);
      expect(is_swiotlb_active(r.io)).toBe(false);
      expect(is_swiotlb_buffer(r.io, 0n)).toBe(false);
      const n = notes(() => expect(map(r, ORIG, 64, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR));
      expect(n).toContain(k === '5.10' ? 'swiotlb buffer is full' : "Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer");
    }
    const failed = swiotlbInit({ base: 0n, nslabs: 0 }, '5.10', new Set(), { initFailed: true });
    expect(() => swiotlb_tbl_map_single(failed, rig('5.10').cpu, ORIG, 64, 64, 0, DMA_TO_DEVICE, 0)).toThrow(KernelBug);
  });
});

describe('map / unmap copies', () => {
  it('TO_DEVICE copies the original into the slot and never back', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      r.cpu.store(ORIG, bytes(300, 0x11));
      const tlb = map(r, ORIG, 300, DMA_TO_DEVICE);
      expect(tlb).toBe(POOL);
      expect(all(r.mem.read(tlb, 300), 0x11)).toBe(true);
      expect(r.io.slots[0].orig_addr).toBe(ORIG);
      r.mem.write(tlb, bytes(300, 0x99)); // a device that (wrongly) writes
      swiotlb_tbl_unmap_single(r.io, r.cpu, tlb, 300, DMA_TO_DEVICE, 0);
      expect(all(r.mem.read(ORIG, 300), 0x11)).toBe(true);
      expect(swiotlbUsed(r.io)).toBe(0);
    }
  });

  it('FROM_DEVICE: bytes the device does not write come from the pool in 5.10, from the original in 6.6', () => {
    const expectTail: Record<KernelVersion, number> = { '5.10': 0x00, '6.6': 0x11 };
    for (const k of VERSIONS) {
      const r = rig(k);
      r.cpu.store(ORIG, bytes(256, 0x11));
      const tlb = map(r, ORIG, 256, DMA_FROM_DEVICE);
      r.mem.write(tlb, bytes(100, 0x77)); // the device writes 100 of 256 bytes
      swiotlb_tbl_unmap_single(r.io, r.cpu, tlb, 256, DMA_FROM_DEVICE, 0);
      const got = r.mem.read(ORIG, 256);
      expect(all(got.subarray(0, 100), 0x77)).toBe(true);
      expect(all(got.subarray(100), expectTail[k]), k).toBe(true);
    }
    // A 5.10.y with the info-leak fix backported behaves like 6.6.
    const r = rig('5.10', 128, { alwaysBounceOnMap: true });
    r.cpu.store(ORIG, bytes(256, 0x11));
    const tlb = map(r, ORIG, 256, DMA_FROM_DEVICE);
    swiotlb_tbl_unmap_single(r.io, r.cpu, tlb, 256, DMA_FROM_DEVICE, 0);
    expect(all(r.mem.read(ORIG, 256), 0x11)).toBe(true);
  });

  it('BIDIRECTIONAL copies both ways', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      r.cpu.store(ORIG, bytes(5000, 0x21));
      const tlb = map(r, ORIG, 5000, DMA_BIDIRECTIONAL);
      expect(all(r.mem.read(tlb, 5000), 0x21)).toBe(true);
      r.mem.write(tlb + 10n, bytes(4990, 0x42));
      swiotlb_tbl_unmap_single(r.io, r.cpu, tlb, 5000, DMA_BIDIRECTIONAL, 0);
      const got = r.mem.read(ORIG, 5000);
      expect(all(got.subarray(0, 10), 0x21)).toBe(true);
      expect(all(got.subarray(10), 0x42)).toBe(true);
    }
  });

  it('DMA_ATTR_SKIP_CPU_SYNC: 5.10 skips the map copy, 6.6 copies anyway; unmap skips the copy back in both', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      r.cpu.store(ORIG, bytes(64, 0x5a));
      const tlb = map(r, ORIG, 64, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
      expect(all(r.mem.read(tlb, 64), k === '5.10' ? 0x00 : 0x5a), k).toBe(true);
      r.mem.write(tlb, bytes(64, 0x66));
      swiotlb_tbl_unmap_single(r.io, r.cpu, tlb, 64, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
      expect(all(r.mem.read(ORIG, 64), 0x5a)).toBe(true);
    }
  });

  it('rejects mapping_size > alloc_size', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      const n = notes(() => expect(map(r, ORIG, 200, DMA_TO_DEVICE, 0, 100)).toBe(DMA_MAPPING_ERROR));
      expect(n).toContain('Invalid sizes');
      expect(swiotlbUsed(r.io)).toBe(0);
    }
  });
});

describe('pool exhaustion and slot bookkeeping', () => {
  it('returns DMA_MAPPING_ERROR when full, and frees slots on unmap', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      const tlbs: bigint[] = [];
      for (let i = 0; i < 64; i++) {
        const t = map(r, ORIG + BigInt(i) * 4096n, 4096, DMA_TO_DEVICE);
        expect(t).not.toBe(DMA_MAPPING_ERROR);
        tlbs.push(t);
      }
      expect(new Set(tlbs).size).toBe(64);
      expect(swiotlbUsed(r.io)).toBe(128);
      const n = notes(() => expect(map(r, ORIG, 1, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR));
      expect(n).toContain('swiotlb buffer is full');
      expect(notes(() => map(r, ORIG, 1, DMA_TO_DEVICE, DMA_ATTR_NO_WARN))).toContain('DMA_ATTR_NO_WARN: no message');
      swiotlb_tbl_unmap_single(r.io, r.cpu, tlbs[10], 4096, DMA_TO_DEVICE, 0);
      expect(swiotlbUsed(r.io)).toBe(126);
      expect(map(r, ORIG, 4096, DMA_TO_DEVICE)).toBe(tlbs[10]);
      for (const t of tlbs) swiotlb_tbl_unmap_single(r.io, r.cpu, t, 4096, DMA_TO_DEVICE, 0);
      expect(swiotlbUsed(r.io)).toBe(0);
      expect(swiotlbListConsistent(r.io)).toBe(true);
      expect(r.io.slots.map((s) => s.list)).toEqual(rig(k).io.slots.map((s) => s.list));
    }
  });

  it('a mapping never spans two segments', () => {
    for (const k of VERSIONS) {
      const r = rig(k, 256);
      expect(map(r, ORIG, IO_TLB_SIZE * IO_TLB_SEGSIZE + 1, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
      const a = map(r, ORIG, IO_TLB_SIZE * 100, DMA_TO_DEVICE);
      const b = map(r, ORIG, IO_TLB_SIZE * 100, DMA_TO_DEVICE);
      expect(a).toBe(POOL);
      expect(b).toBe(POOL + BigInt(128 * IO_TLB_SIZE));
    }
  });

  it('5.10 frees the slots the caller names, 6.6 the slots it recorded', () => {
    const r5 = rig('5.10');
    const a = map(r5, ORIG, 4096, DMA_TO_DEVICE);
    map(r5, ORIG + 4096n, 4096, DMA_TO_DEVICE);
    swiotlb_tbl_unmap_single(r5.io, r5.cpu, a, 4096, DMA_TO_DEVICE, 0, 8192);
    expect(swiotlbUsed(r5.io)).toBe(0); // the second mapping's slots went with it
    const r6 = rig('6.6');
    const b = map(r6, ORIG, 4096, DMA_TO_DEVICE);
    map(r6, ORIG + 4096n, 4096, DMA_TO_DEVICE);
    swiotlb_tbl_unmap_single(r6.io, r6.cpu, b, 8192, DMA_TO_DEVICE, 0);
    expect(swiotlbUsed(r6.io)).toBe(2);
    expect(swiotlbListConsistent(r6.io)).toBe(true);
  });
});

describe('slot alignment', () => {
  it('allocations of a page or more are page aligned (5.10 stride)', () => {
    const r = rig('5.10');
    expect(map(r, ORIG, 2048, DMA_TO_DEVICE)).toBe(POOL);
    expect(map(r, ORIG + 0x800n, 4096, DMA_TO_DEVICE)).toBe(POOL + 4096n);
    expect(() => map(r, ORIG, 64, DMA_TO_DEVICE, 0, 64, 0xfff)).toThrow(ModelError);
  });

  it('6.6 honours alloc_align_mask', () => {
    const r = rig('6.6');
    expect(map(r, ORIG, 2048, DMA_TO_DEVICE)).toBe(POOL);
    const t = map(r, ORIG + 0x10000n, 2048, DMA_TO_DEVICE, 0, 2048, 0x3fff);
    expect(t).toBe(POOL + 0x4000n);
    expect(t & 0x3fffn).toBe(0n);
  });

  it('6.6 matches the original address bits, not zero, for page-sized mappings', () => {
    const r = rig('6.6');
    expect(map(r, ORIG, 2048, DMA_TO_DEVICE)).toBe(POOL);
    expect(map(r, ORIG + 0x1000n, 4096, DMA_TO_DEVICE)).toBe(POOL + 0x1000n); // page aligned original
    const r2 = rig('6.6');
    map(r2, ORIG, 2048, DMA_TO_DEVICE);
    expect(map(r2, ORIG + 0x800n, 4096, DMA_TO_DEVICE)).toBe(POOL + 0x800n); // bit 11 follows the original
  });
});

describe('bounce syncs', () => {
  it('for_device copies orig -> slot, for_cpu slot -> orig, per direction', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      r.cpu.store(ORIG, bytes(512, 0x10));
      const tlb = map(r, ORIG, 512, DMA_BIDIRECTIONAL);
      r.cpu.store(ORIG, bytes(512, 0x22));
      swiotlb_sync_single_for_device(r.io, r.cpu, tlb, 512, DMA_BIDIRECTIONAL);
      expect(all(r.mem.read(tlb, 512), 0x22)).toBe(true);
      r.mem.write(tlb, bytes(512, 0x33));
      swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb, 512, DMA_BIDIRECTIONAL);
      expect(all(r.mem.read(ORIG, 512), 0x33)).toBe(true);
      // No copy for the direction that does not need one.
      r.cpu.store(ORIG, bytes(512, 0x44));
      swiotlb_sync_single_for_device(r.io, r.cpu, tlb, 512, DMA_FROM_DEVICE);
      expect(all(r.mem.read(tlb, 512), 0x33)).toBe(true);
      swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb, 512, DMA_TO_DEVICE);
      expect(all(r.mem.read(ORIG, 512), 0x44)).toBe(true);
      expect(() => swiotlb_sync_single_for_device(r.io, r.cpu, tlb, 512, DMA_NONE)).toThrow(KernelBug);
      expect(() => swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb, 512, DMA_NONE)).toThrow(KernelBug);
    }
  });

  it('a partial sync inside a multi-slot mapping hits the matching original bytes', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      r.cpu.store(ORIG, bytes(6000, 0x01));
      const tlb = map(r, ORIG, 6000, DMA_FROM_DEVICE);
      r.mem.write(tlb + 3000n, bytes(100, 0x7e));
      swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb + 3000n, 100, DMA_FROM_DEVICE);
      const got = r.mem.read(ORIG + 2990n, 120);
      expect(all(got.subarray(10, 110), 0x7e)).toBe(true);
      expect(got[9]).not.toBe(0x7e);
      expect(got[110]).not.toBe(0x7e);
    }
  });

  it('6.6 clamps an oversized sync to the mapping; 5.10 copies it all', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      r.cpu.store(ORIG, bytes(200, 0x01));
      const tlb = map(r, ORIG, 100, DMA_BIDIRECTIONAL);
      r.mem.write(tlb, bytes(200, 0x44));
      const n = notes(() => swiotlb_sync_single_for_cpu(r.io, r.cpu, tlb, 200, DMA_FROM_DEVICE));
      const got = r.mem.read(ORIG, 200);
      expect(all(got.subarray(0, 100), 0x44)).toBe(true);
      expect(all(got.subarray(100), k === '6.6' ? 0x01 : 0x44), k).toBe(true);
      expect(n.includes('WARN: Buffer overflow detected')).toBe(k === '6.6');
    }
  });

  it('5.10 names: swiotlb_tbl_sync_single exists only there', () => {
    const r = rig('5.10');
    r.cpu.store(ORIG, bytes(64, 0x31));
    const tlb = map(r, ORIG, 64, DMA_FROM_DEVICE);
    r.mem.write(tlb, bytes(64, 0x32));
    swiotlb_tbl_sync_single(r.io, r.cpu, tlb, 64, DMA_FROM_DEVICE, SYNC_FOR_CPU);
    expect(all(r.mem.read(ORIG, 64), 0x32)).toBe(true);
    expect(() => swiotlb_tbl_sync_single(r.io, r.cpu, tlb, 64, DMA_FROM_DEVICE, 7)).toThrow(KernelBug);
    const r6 = rig('6.6');
    expect(() => swiotlb_tbl_sync_single(r6.io, r6.cpu, POOL, 64, DMA_FROM_DEVICE, SYNC_FOR_CPU)).toThrow(ModelError);
  });

  it('syncing a free slot does nothing', () => {
    for (const k of VERSIONS) {
      const r = rig(k);
      r.cpu.store(ORIG, bytes(64, 0x31));
      swiotlb_sync_single_for_cpu(r.io, r.cpu, POOL, 64, DMA_FROM_DEVICE);
      expect(all(r.mem.read(ORIG, 64), 0x31)).toBe(true);
    }
  });
});

describe('swiotlb sequences (property)', () => {
  const op = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('map' as const),
        size: fc.oneof(fc.integer({ min: 1, max: 2048 }), fc.integer({ min: 1, max: 70000 })),
        dir: fc.constantFrom(DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE),
        mask: fc.constantFrom(0, 0xfff, 0x3fff),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }) },
  );

  it('keeps the free runs canonical, live mappings disjoint and aligned, data bounced', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VERSIONS), fc.array(op, { maxLength: 40 }), (k, ops) => {
        const r = rig(k, 256);
        const live: { tlb: bigint; size: number; dir: number }[] = [];
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'map') {
            const orig = ORIG + BigInt(n++) * 0x20000n;
            r.cpu.store(orig, bytes(Math.min(o.size, 64), n & 0xff));
            const mask = k === '5.10' ? 0 : o.mask;
            const tlb = map(r, orig, o.size, o.dir, 0, o.size, mask);
            if (tlb === DMA_MAPPING_ERROR) continue;
            const m = BigInt((mask | (o.size >= 4096 ? 0xfff : 0)) & ~(IO_TLB_SIZE - 1));
            expect(tlb & m).toBe(0n);
            if (k === '6.6' || o.dir !== DMA_FROM_DEVICE) expect(all(r.mem.read(tlb, Math.min(o.size, 64)), n & 0xff)).toBe(true);
            live.push({ tlb, size: o.size, dir: o.dir });
          } else if (live.length > 0) {
            const [m] = live.splice(o.pick % live.length, 1);
            swiotlb_tbl_unmap_single(r.io, r.cpu, m.tlb, m.size, m.dir, 0);
          }
          expect(swiotlbListConsistent(r.io)).toBe(true);
        }
        const spans = live.map((m) => [m.tlb, m.tlb + BigInt(nr_slots(m.size) * IO_TLB_SIZE)] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
        for (let i = 1; i < spans.length; i++) expect(spans[i - 1][1]).toBeLessThanOrEqual(spans[i][0]);
        for (const [s, e] of spans) {
          expect(s >= r.io.start && e <= r.io.end).toBe(true);
          // never across a segment boundary
          expect((s - POOL) / BigInt(IO_TLB_SIZE * IO_TLB_SEGSIZE)).toBe((e - 1n - POOL) / BigInt(IO_TLB_SIZE * IO_TLB_SEGSIZE));
        }
        expect(swiotlbUsed(r.io)).toBe(live.reduce((a, m) => a + nr_slots(m.size), 0));
      }),
      { numRuns: 60 },
    );
  });
});
