// kernel/dma/debug.c (CONFIG_DMA_API_DEBUG, 5.10 and 6.6): the branches the
// main suite (dma-debug.test.ts) leaves open — err_printk's rate limit, the
// best-fit score of __hash_bucket_find, both bucket_find_contain walks to the
// bucket, the cacheline overlap counter at its limits, the sg entry-count
// checks of check_unmap / check_sync, and the hooks after global_disable.
import { describe, expect, it } from 'vitest';
import {
  MAP_ERR_CHECK_NOT_APPLICABLE,
  MAP_ERR_NOT_CHECKED,
  add_dma_entry,
  check_sync,
  check_unmap,
  debugDmaOutstanding,
  debug_dma_alloc_coherent,
  debug_dma_free_coherent,
  debug_dma_map_page,
  debug_dma_mapping_error,
  debug_dma_sync_single_for_cpu,
  debug_dma_unmap_page,
  dmaDebugCreate,
  dma_debug_device_change,
  hash_fn,
  type DmaDebugDevice,
  type DmaDebugEntry,
  type DmaDebugState,
} from '../../reference/kernel/dma/debug.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { DMA_ATTR_SKIP_CPU_SYNC } from '../../reference/include/linux/dma-mapping-attrs.ts';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { KernelBug, ModelError } from '../../reference/types.ts';
import { traceCalls } from './trace-calls.ts';

const KERNELS = ['5.10', '6.6'] as const;
const checks = (st: DmaDebugState): string[] => st.reports.map((r) => r.check);
const unmapNotMapped = (st: DmaDebugState, d: DmaDebugDevice, dma: bigint): void => debug_dma_unmap_page(st, d, dma, 1n, DMA_TO_DEVICE);

/** dma_map_page + dma_mapping_error, the correct driver pattern. */
function mapChecked(st: DmaDebugState, d: DmaDebugDevice, paddr: bigint, size: bigint, dir: number, dma: bigint): void {
  debug_dma_map_page(st, d, paddr, size, dir, dma, 0);
  debug_dma_mapping_error(st, d, dma);
}

/** The hash entry of one live mapping (what debugfs dump would show). */
function entryAt(st: DmaDebugState, dma: bigint): DmaDebugEntry {
  const e = st.hash.get(hash_fn(dma))?.find((x) => x.dev_addr === dma);
  if (e === undefined) throw new Error(`no entry at ${dma}`);
  return e;
}

describe('dma_debug_init / debugfs num_errors', () => {
  it('only 5.10 and 6.6 checkers exist; num_errors is a non-negative integer (0 is legal)', () => {
    expect(() => dmaDebugCreate('5.4' as KernelVersion)).toThrow(ModelError);
    expect(() => dmaDebugCreate('6.6', { numErrors: -1 })).toThrow(ModelError);
    expect(() => dmaDebugCreate('6.6', { numErrors: 1.5 })).toThrow(ModelError);
    expect(dmaDebugCreate('6.6', { numErrors: 0 }).show_num_errors).toBe(0);
  });
});

describe('err_printk rate limit (show_all_errors / show_num_errors)', () => {
  const d: DmaDebugDevice = { name: 'eth0' };
  it('num_errors=0 prints nothing and stays 0 (the decrement needs show_num_errors > 0)', () => {
    const st = dmaDebugCreate('5.10', { numErrors: 0 });
    unmapNotMapped(st, d, 0x1000n);
    unmapNotMapped(st, d, 0x2000n);
    expect(st.reports.map((r) => r.printed)).toEqual([false, false]);
    expect(st.error_count).toBe(2);
    expect(st.show_num_errors).toBe(0); // debugfs num_errors reads 0, not a wrapped u32
  });
  it('all_errors=1 does not use up num_errors: switched back off, the budget is still there', () => {
    const st = dmaDebugCreate('6.6', { allErrors: true, numErrors: 1 });
    unmapNotMapped(st, d, 0x1000n);
    unmapNotMapped(st, d, 0x2000n);
    expect(st.show_num_errors).toBe(1);
    st.show_all_errors = false; // echo 0 > /sys/kernel/debug/dma-api/all_errors
    unmapNotMapped(st, d, 0x3000n);
    unmapNotMapped(st, d, 0x4000n);
    expect(st.reports.map((r) => r.printed)).toEqual([true, true, true, false]);
    expect(st.show_num_errors).toBe(0);
  });
});

describe.each(KERNELS)('__hash_bucket_find best fit (%s)', (kernel) => {
  const d: DmaDebugDevice = { name: 'eth0' };
  it('a lone match scoring only on sg_call_ents (level 1) is still the one found', () => {
    // Coherent 4 KiB BIDIRECTIONAL freed with dma_unmap_page(64, TO_DEVICE): size, type
    // and direction all differ, yet it is the only entry at that address, so
    // last_lvl = -1 lets it win and every mismatch is reported.
    const st = dmaDebugCreate(kernel);
    debug_dma_alloc_coherent(st, d, 4096n, 0xc000_0000n, 0x8200_0000n, 0);
    debug_dma_unmap_page(st, d, 0xc000_0000n, 64n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-size-mismatch', 'unmap-wrong-function', 'unmap-dir-mismatch']);
    expect(debugDmaOutstanding(st)).toBe(0);
  });
  it('type is part of the score: a single entry beats a coherent one at the same address', () => {
    const st = dmaDebugCreate(kernel);
    debug_dma_alloc_coherent(st, d, 256n, 0xc000_0000n, 0x8200_0000n, 0);
    mapChecked(st, d, 0x8300_0000n, 256n, DMA_BIDIRECTIONAL, 0xc000_0000n);
    debug_dma_unmap_page(st, d, 0xc000_0000n, 256n, DMA_BIDIRECTIONAL);
    expect(st.reports).toEqual([]);
    expect(entryAt(st, 0xc000_0000n).type).toBe('coherent');
    debug_dma_free_coherent(st, d, 256n, 0x8200_0000n, 0xc000_0000n);
    expect(st.reports).toEqual([]);
  });
  it('direction is part of the score: the FROM_DEVICE twin is the perfect fit', () => {
    const st = dmaDebugCreate(kernel);
    mapChecked(st, d, 0x8300_0000n, 256n, DMA_TO_DEVICE, 0xc000_0000n);
    mapChecked(st, d, 0x8400_0000n, 256n, DMA_FROM_DEVICE, 0xc000_0000n);
    debug_dma_unmap_page(st, d, 0xc000_0000n, 256n, DMA_FROM_DEVICE);
    expect(st.reports).toEqual([]);
    expect(entryAt(st, 0xc000_0000n).direction).toBe(DMA_TO_DEVICE);
  });
  it('sg_call_ents is part of the score: the sg entry of the same nents is the perfect fit', () => {
    const st = dmaDebugCreate(kernel);
    const sg = (paddr: bigint, ents: number): DmaDebugEntry => ({
      dev: d,
      type: 'sg',
      paddr,
      dev_addr: 0xc000_0000n,
      size: 4096n,
      direction: DMA_TO_DEVICE,
      sg_call_ents: ents,
      map_err_type: MAP_ERR_CHECK_NOT_APPLICABLE,
    });
    add_dma_entry(st, 'debug_dma_map_sg', sg(0x8300_0000n, 2), 0);
    add_dma_entry(st, 'debug_dma_map_sg', sg(0x8400_0000n, 3), 0);
    check_unmap(st, 'debug_dma_unmap_sg', { ...sg(0n, 3) });
    expect(st.reports).toEqual([]);
    expect(entryAt(st, 0xc000_0000n).sg_call_ents).toBe(2);
  });
  it('two imperfect matches give nothing, named in the call trace; a lone one does not say so', () => {
    const note = 'several imperfect matches: none returned';
    const st = dmaDebugCreate(kernel);
    mapChecked(st, d, 0x8300_0000n, 256n, DMA_TO_DEVICE, 0xc000_0000n);
    const lone = traceCalls(() => debug_dma_unmap_page(st, d, 0xc000_0000n, 128n, DMA_TO_DEVICE));
    expect(lone.notes).not.toContain(note);
    expect(checks(st)).toEqual(['unmap-size-mismatch']);
    mapChecked(st, d, 0x8300_0000n, 256n, DMA_TO_DEVICE, 0xc000_0000n);
    mapChecked(st, d, 0x8400_0000n, 512n, DMA_TO_DEVICE, 0xc000_0000n);
    const two = traceCalls(() => debug_dma_unmap_page(st, d, 0xc000_0000n, 128n, DMA_TO_DEVICE));
    expect(two.notes).toContain(note);
    expect(checks(st)).toEqual(['unmap-size-mismatch', 'unmap-not-mapped']);
  });
});

describe.each(KERNELS)('containing_match (%s)', (kernel) => {
  it('an empty bucket is walked without a single match call (the call trace shows none)', () => {
    const st = dmaDebugCreate(kernel);
    const d: DmaDebugDevice = { name: 'eth0' };
    const t = traceCalls(() => {
      debug_dma_unmap_page(st, d, 0x8000_0000n, 64n, DMA_TO_DEVICE);
      debug_dma_sync_single_for_cpu(st, d, 0x8000_0000n, 64n, DMA_TO_DEVICE);
    });
    expect(t.calls.filter((c) => /exact_match|containing_match/.test(c))).toEqual([]);
    expect(checks(st)).toEqual(['unmap-not-mapped', 'sync-not-mapped']);
  });
  it('another device syncing the same bus address has not mapped it', () => {
    const a: DmaDebugDevice = { name: 'a' };
    const b: DmaDebugDevice = { name: 'b' };
    const st = dmaDebugCreate(kernel);
    mapChecked(st, a, 0x8000_0000n, 4096n, DMA_FROM_DEVICE, 0x8000_0000n);
    debug_dma_sync_single_for_cpu(st, b, 0x8000_0040n, 64n, DMA_FROM_DEVICE);
    expect(checks(st)).toEqual(['sync-not-mapped']);
    expect(st.reports[0].message).toBe('DMA-API: b: device driver tries to sync DMA memory it has not allocated [device address=0x0000000080000040] [size=64 bytes]');
  });
});

describe('bucket_find_contain 5.10: while (range <= dma_get_max_seg_size(dev)) range += 8 KiB', () => {
  const base = 0x100000n; // bucket-aligned
  const syncInto = (d: DmaDebugDevice, offset: bigint): DmaDebugState => {
    const st = dmaDebugCreate('5.10');
    mapChecked(st, d, 0x8000_0000n, 1n << 20n, DMA_FROM_DEVICE, base);
    debug_dma_sync_single_for_cpu(st, d, base + offset, 64n, DMA_FROM_DEVICE);
    return st;
  };
  it('max_segment_size 0 in dma_parms means the 64 KiB default: 9 buckets are searched', () => {
    expect(syncInto({ name: 'eth0', maxSegmentSize: 0 }, 0x10000n + 0x1000n).reports).toEqual([]);
  });
  it('the 10th bucket down is not searched', () => {
    expect(checks(syncInto({ name: 'eth0' }, 0x12000n))).toEqual(['sync-not-mapped']);
  });
  it('a max_segment_size that is not a u32 is a model error, not a search', () => {
    for (const bad of [-1, 1.5, 2 ** 32]) {
      const d: DmaDebugDevice = { name: 'eth0', maxSegmentSize: bad };
      expect(() => debug_dma_sync_single_for_cpu(dmaDebugCreate('5.10'), d, 0x5000_0000n, 64n, DMA_FROM_DEVICE)).toThrow(ModelError);
    }
  });
  it('the u32 range wraps from max_segment_size 0xffffe000 on (the last multiple of 8 KiB), not before', () => {
    const wraps: DmaDebugDevice = { name: 'nvme0', maxSegmentSize: 0xffffe000 };
    expect(() => debug_dma_sync_single_for_cpu(dmaDebugCreate('5.10'), wraps, 0x5000_0000n, 64n, DMA_FROM_DEVICE)).toThrow(KernelBug);
    const ends: DmaDebugDevice = { name: 'nvme0', maxSegmentSize: 0xffffdfff };
    const st = dmaDebugCreate('5.10');
    debug_dma_sync_single_for_cpu(st, ends, 0x5000_0000n, 64n, DMA_FROM_DEVICE);
    expect(checks(st)).toEqual(['sync-not-mapped']);
  });
});

describe('bucket_find_contain 6.6: min(HASH_SIZE, (dev_addr >> 13) + 1) buckets', () => {
  const d: DmaDebugDevice = { name: 'eth0' };
  const bucketsSearched = (st: DmaDebugState, dma: bigint): number =>
    traceCalls(() => debug_dma_sync_single_for_cpu(st, d, dma, 64n, DMA_FROM_DEVICE)).calls.filter((c) => c.trim() === '__hash_bucket_find').length;
  it('a mapping at bus address 0 is found from two buckets up', () => {
    const st = dmaDebugCreate('6.6');
    mapChecked(st, d, 0x8000_0000n, 0x10000n, DMA_FROM_DEVICE, 0n);
    debug_dma_sync_single_for_cpu(st, d, 0x4000n, 64n, DMA_FROM_DEVICE);
    expect(st.reports).toEqual([]);
  });
  it('a miss at a low address stops at bucket 0; a high one visits each bucket once', () => {
    const st = dmaDebugCreate('6.6');
    expect(bucketsSearched(st, 0x4000n)).toBe(3);
    expect(bucketsSearched(st, 0x1_0000_0000n)).toBe(16384);
    expect(checks(st)).toEqual(['sync-not-mapped', 'sync-not-mapped']);
  });
});

describe('active cacheline tracking', () => {
  const d: DmaDebugDevice = { name: 'eth0' };
  const cln = 0x8000_0000n >> 6n;
  const mapNth = (st: DmaDebugState, i: number): void =>
    mapChecked(st, d, 0x8000_0000n + BigInt(i) * 4n, 4n, DMA_FROM_DEVICE, 0x1_0000_0000n + BigInt(i) * 0x10000n);
  it('the radix tree holds the first entry of the line with no overlap tags', () => {
    const st = dmaDebugCreate('6.6');
    mapNth(st, 0);
    expect(st.activeCachelines.get(cln)).toEqual({ entry: entryAt(st, 0x1_0000_0000n), overlap: 0 });
  });
  it('WARN_ONCE only past 7 overlaps: none at 1 or at 7, one at 8 (%pa is zero-padded)', () => {
    const st = dmaDebugCreate('5.10');
    mapNth(st, 0);
    mapNth(st, 1);
    expect(st.warnings).toEqual([]);
    for (let i = 2; i < 8; i++) mapNth(st, i);
    expect(st.activeCachelines.get(cln)?.overlap).toBe(7);
    expect(st.warnings).toEqual([]);
    mapNth(st, 8);
    expect(st.warnings).toEqual([
      { check: 'cacheline-overlap-exceeded', message: 'DMA-API: exceeded 7 overlapping mappings of cacheline 0x0000000002000000', fn: 'debug_dma_map_page' },
    ]);
  });
  it('after saturation the line goes early; unmapping the rest reads a missing line as 0', () => {
    const st = dmaDebugCreate('6.6');
    for (let i = 0; i < 10; i++) mapNth(st, i);
    for (let i = 0; i < 10; i++) debug_dma_unmap_page(st, d, 0x1_0000_0000n + BigInt(i) * 0x10000n, 4n, DMA_FROM_DEVICE);
    expect(debugDmaOutstanding(st)).toBe(0);
    expect(st.activeCachelines.size).toBe(0);
    expect(checks(st)).toEqual(Array(9).fill('cacheline-overlap'));
  });
  it('unmapping a TO_DEVICE mapping leaves the line of a FROM_DEVICE one alone', () => {
    const st = dmaDebugCreate('6.6');
    mapChecked(st, d, 0x8000_0000n, 64n, DMA_FROM_DEVICE, 0x9000_0000n);
    mapChecked(st, d, 0x8000_0000n, 64n, DMA_TO_DEVICE, 0xa000_0000n);
    debug_dma_unmap_page(st, d, 0xa000_0000n, 64n, DMA_TO_DEVICE);
    expect(st.activeCachelines.get(cln)?.overlap).toBe(0);
    mapChecked(st, d, 0x8000_0000n, 64n, DMA_FROM_DEVICE, 0xb000_0000n);
    expect(checks(st)).toEqual(['cacheline-overlap']);
  });
});

describe('add_dma_entry EEXIST on 6.6 for coherent allocations', () => {
  const d: DmaDebugDevice = { name: 'eth0' };
  const overlap = (kernel: KernelVersion, attrs: number, bounce: boolean): string[] => {
    const st = dmaDebugCreate(kernel);
    mapChecked(st, d, 0x8200_0000n, 64n, DMA_FROM_DEVICE, 0x8200_0000n);
    debug_dma_alloc_coherent(st, d, 4096n, 0xc000_0000n, 0x8200_0000n, attrs, { bounceUnalignedKmalloc: bounce });
    return checks(st);
  };
  it('6.6 passes attrs and the bounce case through: either silences the report', () => {
    expect(overlap('6.6', 0, false)).toEqual(['cacheline-overlap']);
    expect(overlap('6.6', DMA_ATTR_SKIP_CPU_SYNC, false)).toEqual([]);
    expect(overlap('6.6', 0, true)).toEqual([]);
    expect(overlap('5.10', 0, false)).toEqual([]);
  });
  it('called without the bounce argument, the overlap is reported', () => {
    const st = dmaDebugCreate('6.6');
    mapChecked(st, d, 0x8200_0000n, 64n, DMA_FROM_DEVICE, 0x8200_0000n);
    add_dma_entry(st, 'debug_dma_map_page', { ...entryAt(st, 0x8200_0000n), dev_addr: 0x9000_0000n }, 0);
    expect(checks(st)).toEqual(['cacheline-overlap']);
  });
});

describe.each(KERNELS)('sg entry count (%s): debug_dma_unmap_sg / debug_dma_sync_sg_* refs carry nelems', (kernel) => {
  const d: DmaDebugDevice = { name: 'ahci' };
  const sgEntry = (ents: number, type: DmaDebugEntry['type'] = 'sg'): DmaDebugEntry => ({
    dev: d,
    type,
    paddr: 0x8000_0000n,
    dev_addr: 0xc000_0000n,
    size: 4096n,
    direction: DMA_TO_DEVICE,
    sg_call_ents: ents,
    map_err_type: MAP_ERR_CHECK_NOT_APPLICABLE,
  });
  const mapped = (): DmaDebugState => {
    const st = dmaDebugCreate(kernel);
    add_dma_entry(st, 'debug_dma_map_sg', sgEntry(4), 0);
    return st;
  };
  it('check_unmap: a different nelems is reported, the same is not', () => {
    const st = mapped();
    check_unmap(st, 'debug_dma_unmap_sg', { ...sgEntry(3), paddr: 0n });
    expect(checks(st)).toEqual(['unmap-sg-count-mismatch']);
    expect(st.reports[0].message).toBe('DMA-API: ahci: device driver frees DMA sg list with different entry count [map count=4] [unmap count=3]');
    const ok = mapped();
    check_unmap(ok, 'debug_dma_unmap_sg', { ...sgEntry(4), paddr: 0n });
    expect(ok.reports).toEqual([]);
    expect(debugDmaOutstanding(ok)).toBe(0);
  });
  it('check_unmap: dma_unmap_page of an sg entry is the wrong function, not a count mismatch', () => {
    const st = mapped();
    debug_dma_unmap_page(st, d, 0xc000_0000n, 4096n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-wrong-function']);
  });
  it('check_sync: a different nelems is reported, the same is not; a single sync is not counted', () => {
    const st = mapped();
    check_sync(st, 'debug_dma_sync_sg_for_device', d, { ...sgEntry(3), paddr: 0n }, false);
    expect(checks(st)).toEqual(['sync-sg-count-mismatch']);
    expect(st.reports[0].message).toBe('DMA-API: ahci: device driver syncs DMA sg list with different entry count [map count=4] [sync count=3]');
    const ok = mapped();
    check_sync(ok, 'debug_dma_sync_sg_for_device', d, { ...sgEntry(4), paddr: 0n }, false);
    debug_dma_sync_single_for_cpu(ok, d, 0xc000_0000n, 4096n, DMA_TO_DEVICE);
    expect(ok.reports).toEqual([]);
  });
});

describe('after global_disable (set at run time when dma-debug runs out of memory)', () => {
  const d: DmaDebugDevice = { name: 'eth0' };
  it('dma_mapping_error no longer marks entries (debugfs dump still shows "not checked")', () => {
    const st = dmaDebugCreate('6.6');
    debug_dma_map_page(st, d, 0x8000_0000n, 64n, DMA_TO_DEVICE, 0x8000_0000n, 0);
    st.global_disable = true;
    debug_dma_mapping_error(st, d, 0x8000_0000n);
    expect(entryAt(st, 0x8000_0000n).map_err_type).toBe(MAP_ERR_NOT_CHECKED);
  });
  it('driver unbind reports nothing though entries remain', () => {
    const st = dmaDebugCreate('5.10');
    mapChecked(st, d, 0x8000_0000n, 64n, DMA_TO_DEVICE, 0x8000_0000n);
    st.global_disable = true;
    dma_debug_device_change(st, d);
    expect(st.reports).toEqual([]);
    expect(debugDmaOutstanding(st, d)).toBe(1);
  });
});

describe('dma_debug_device_change: the entry named is the last in bucket-index order', () => {
  it('not the last mapped: bucket 8 comes after bucket 0 whatever the mapping order', () => {
    const d: DmaDebugDevice = { name: 'eth0' };
    const st = dmaDebugCreate('6.6');
    mapChecked(st, d, 0x8001_0000n, 128n, DMA_FROM_DEVICE, 0x8001_0000n); // hash_fn 8
    mapChecked(st, d, 0x8002_0000n, 64n, DMA_FROM_DEVICE, 0x8002_0000n); // hash_fn 16
    mapChecked(st, d, 0x8000_0000n, 32n, DMA_TO_DEVICE, 0x8000_0000n); // hash_fn 0
    dma_debug_device_change(st, d);
    expect(st.reports[0].message).toContain('[count=3] One of leaked entries details: [device address=0x0000000080020000] [size=64 bytes]');
  });
});
