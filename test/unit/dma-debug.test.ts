import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  MAP_ERR_CHECKED,
  MAP_ERR_NOT_CHECKED,
  debugDmaOutstanding,
  debug_dma_alloc_coherent,
  debug_dma_free_coherent,
  debug_dma_map_page,
  debug_dma_map_single,
  debug_dma_mapping_error,
  debug_dma_sync_single_for_cpu,
  debug_dma_sync_single_for_device,
  debug_dma_unmap_page,
  dmaDebugCreate,
  dma_debug_device_change,
  hash_fn,
  type DmaDebugDevice,
  type DmaDebugState,
} from '../../reference/kernel/dma/debug.ts';
import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_NONE,
  DMA_TO_DEVICE,
  dmaDirName,
  valid_dma_direction,
} from '../../reference/include/linux/dma-direction.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { KernelBug, U64_MAX } from '../../reference/types.ts';

const KERNELS = ['5.10', '6.6'] as const;

function dev(name = 'eth0'): DmaDebugDevice {
  return { name };
}

function checks(st: DmaDebugState): string[] {
  return st.reports.map((r) => r.check);
}

/** map + dma_mapping_error, the correct driver pattern. */
function mapChecked(st: DmaDebugState, d: DmaDebugDevice, paddr: bigint, size: bigint, dir: number, dma: bigint, attrs = 0): void {
  debug_dma_map_page(st, d, paddr, size, dir, dma, attrs);
  debug_dma_mapping_error(st, d, dma);
}

describe('dma-direction / attrs', () => {
  it('has the kernel values', () => {
    expect([DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_NONE]).toEqual([0, 1, 2, 3]);
    expect(valid_dma_direction(DMA_NONE)).toBe(false);
    expect(valid_dma_direction(DMA_FROM_DEVICE)).toBe(true);
    expect(dmaDirName(DMA_TO_DEVICE)).toBe('DMA_TO_DEVICE');
    expect(DMA_ATTR_SKIP_CPU_SYNC).toBe(32);
    expect(DMA_MAPPING_ERROR).toBe(U64_MAX);
  });
  it('hash_fn uses bits 13..26', () => {
    expect(hash_fn(0x1fffn)).toBe(0);
    expect(hash_fn(0x2000n)).toBe(1);
    expect(hash_fn(0x8000_0000n)).toBe((0x8000_0000 >> 13) & 16383);
  });
});

describe.each(KERNELS)('correct use reports nothing (%s)', (kernel) => {
  it('map → mapping_error → syncs → unmap', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x8010_0040n, 1500n, DMA_FROM_DEVICE, 0x8010_0040n);
    expect(debugDmaOutstanding(st)).toBe(1);
    expect(st.activeCachelines.size).toBe(1);
    debug_dma_sync_single_for_cpu(st, d, 0x8010_0040n, 1500n, DMA_FROM_DEVICE);
    debug_dma_sync_single_for_device(st, d, 0x8010_0040n, 1500n, DMA_FROM_DEVICE);
    // a partial sync in the middle of the mapping is found by the containing search
    debug_dma_sync_single_for_cpu(st, d, 0x8010_0440n, 64n, DMA_FROM_DEVICE);
    debug_dma_unmap_page(st, d, 0x8010_0040n, 1500n, DMA_FROM_DEVICE);
    expect(st.reports).toEqual([]);
    expect(st.error_count).toBe(0);
    expect(debugDmaOutstanding(st)).toBe(0);
    expect(st.activeCachelines.size).toBe(0);
  });

  it('TO_DEVICE mapping synced for cpu with TO_DEVICE is fine, and is not cacheline-tracked', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x9000_0000n, 256n, DMA_TO_DEVICE, 0x9000_0000n);
    expect(st.activeCachelines.size).toBe(0);
    debug_dma_sync_single_for_cpu(st, d, 0x9000_0000n, 256n, DMA_TO_DEVICE);
    debug_dma_sync_single_for_device(st, d, 0x9000_0000n, 256n, DMA_TO_DEVICE);
    debug_dma_unmap_page(st, d, 0x9000_0000n, 256n, DMA_TO_DEVICE);
    expect(st.reports).toEqual([]);
  });

  it('BIDIRECTIONAL mapping: sync direction is not checked', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x9000_0000n, 256n, DMA_BIDIRECTIONAL, 0x9000_0000n);
    debug_dma_sync_single_for_cpu(st, d, 0x9000_0000n, 256n, DMA_TO_DEVICE);
    debug_dma_sync_single_for_device(st, d, 0x9000_0000n, 256n, DMA_FROM_DEVICE);
    debug_dma_unmap_page(st, d, 0x9000_0000n, 256n, DMA_BIDIRECTIONAL);
    expect(st.reports).toEqual([]);
  });

  it('coherent alloc → free', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    debug_dma_alloc_coherent(st, d, 5000n, 0xc000_0000n, 0x8200_0000n, 0);
    expect(st.hash.get(hash_fn(0xc000_0000n))?.[0]).toMatchObject({ type: 'coherent', direction: DMA_BIDIRECTIONAL, map_err_type: 0 });
    expect(st.activeCachelines.has(0x8200_0000n >> 6n)).toBe(true);
    debug_dma_free_coherent(st, d, 5000n, 0x8200_0000n, 0xc000_0000n);
    expect(st.reports).toEqual([]);
    expect(debugDmaOutstanding(st)).toBe(0);
    expect(st.activeCachelines.size).toBe(0);
  });

  it('a failed mapping (DMA_MAPPING_ERROR) creates no entry and no report', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    debug_dma_map_page(st, d, 0x8000_0000n, 64n, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, 0);
    debug_dma_mapping_error(st, d, DMA_MAPPING_ERROR);
    expect(debugDmaOutstanding(st)).toBe(0);
    expect(st.activeCachelines.size).toBe(0);
    expect(st.reports).toEqual([]);
  });

  it('alloc_coherent with no usable CPU address records nothing; free likewise ignored', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    debug_dma_alloc_coherent(st, d, 4096n, 0xc000_0000n, null, 0);
    expect(debugDmaOutstanding(st)).toBe(0);
    debug_dma_free_coherent(st, d, 4096n, null, 0xc000_0000n);
    expect(st.reports).toEqual([]);
  });
});

describe.each(KERNELS)('check_unmap (%s)', (kernel) => {
  it('unmap of a never-mapped address', () => {
    const st = dmaDebugCreate(kernel);
    debug_dma_unmap_page(st, dev(), 0x1234_5000n, 64n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-not-mapped']);
    expect(st.reports[0].fn).toBe('debug_dma_unmap_page');
    expect(st.reports[0].message).toBe(
      'DMA-API: eth0: device driver tries to free DMA memory it has not allocated [device address=0x0000000012345000] [size=64 bytes]',
    );
  });

  it('unmap of DMA_MAPPING_ERROR', () => {
    const st = dmaDebugCreate(kernel);
    debug_dma_unmap_page(st, dev(), DMA_MAPPING_ERROR, 64n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-invalid-address']);
  });

  it('unmap with a different device is "not allocated"', () => {
    const st = dmaDebugCreate(kernel);
    const a = dev('a');
    mapChecked(st, a, 0x8000_0000n, 64n, DMA_TO_DEVICE, 0x8000_0000n);
    debug_dma_unmap_page(st, dev('b'), 0x8000_0000n, 64n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-not-mapped']);
    expect(debugDmaOutstanding(st, a)).toBe(1);
  });

  it('wrong size: reported, entry still removed', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x8000_0000n, 4096n, DMA_FROM_DEVICE, 0x8000_0000n);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 2048n, DMA_FROM_DEVICE);
    expect(checks(st)).toEqual(['unmap-size-mismatch']);
    expect(st.reports[0].message).toContain('[map size=4096 bytes] [unmap size=2048 bytes]');
    expect(debugDmaOutstanding(st)).toBe(0);
    expect(st.activeCachelines.size).toBe(0);
  });

  it('wrong direction', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x8000_0000n, 4096n, DMA_FROM_DEVICE, 0x8000_0000n);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-dir-mismatch']);
    expect(st.reports[0].message).toContain('[mapped with DMA_FROM_DEVICE] [unmapped with DMA_TO_DEVICE]');
  });

  it('mapping error not checked', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    debug_dma_map_page(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE, 0x8000_0000n, 0);
    expect(st.hash.get(hash_fn(0x8000_0000n))?.[0].map_err_type).toBe(MAP_ERR_NOT_CHECKED);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['map-error-not-checked']);
    expect(st.reports[0].message).toBe(
      'DMA-API: eth0: device driver failed to check map error[device address=0x0000000080000000] [size=4096 bytes] [mapped as single]',
    );
  });

  it('all mismatches of one unmap are reported, in kernel order', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    debug_dma_map_page(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE, 0x8000_0000n, 0);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 100n, DMA_FROM_DEVICE);
    expect(checks(st)).toEqual(['unmap-size-mismatch', 'unmap-dir-mismatch', 'map-error-not-checked']);
  });

  it('unmap_page of a coherent allocation: wrong function (+ direction)', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    debug_dma_alloc_coherent(st, d, 4096n, 0xc000_0000n, 0x8200_0000n, 0);
    debug_dma_unmap_page(st, d, 0xc000_0000n, 4096n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-wrong-function', 'unmap-dir-mismatch']);
    expect(st.reports[0].message).toContain('[mapped as coherent] [unmapped as single]');
  });

  it('free_coherent with the wrong size / unknown address / other CPU address', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    debug_dma_alloc_coherent(st, d, 8192n, 0xc000_0000n, 0x8200_0000n, 0);
    debug_dma_free_coherent(st, d, 4096n, 0x8200_0000n, 0xc000_0000n);
    expect(checks(st)).toEqual(['unmap-size-mismatch']);
    expect(st.reports[0].fn).toBe('debug_dma_free_coherent');

    debug_dma_free_coherent(st, d, 4096n, 0x8300_0000n, 0xd000_0000n);
    expect(checks(st).slice(1)).toEqual(['unmap-not-mapped']);

    debug_dma_alloc_coherent(st, d, 4096n, 0xc000_4000n, 0x8200_4000n, 0);
    debug_dma_free_coherent(st, d, 4096n, 0x8200_5000n, 0xc000_4000n);
    expect(checks(st).slice(2)).toEqual(['unmap-cpu-address-mismatch']);
    expect(st.reports[2].message).toContain('[cpu alloc address=0x0000000082004000] [cpu free address=0x0000000082005000]');
    expect(debugDmaOutstanding(st)).toBe(0);
  });

  it('same address mapped twice: best fit picks the exact size; ambiguity → "not allocated"', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    // no IOMMU: the same page mapped twice gives the same dma address
    mapChecked(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE, 0x8000_0000n);
    mapChecked(st, d, 0x8000_0000n, 512n, DMA_TO_DEVICE, 0x8000_0000n);
    const bucket = st.hash.get(hash_fn(0x8000_0000n))!;
    expect(bucket.map((e) => e.map_err_type)).toEqual([MAP_ERR_CHECKED, MAP_ERR_CHECKED]);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 1000n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-not-mapped']);
    expect(debugDmaOutstanding(st)).toBe(2);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 512n, DMA_TO_DEVICE);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-not-mapped']);
    expect(debugDmaOutstanding(st)).toBe(0);
  });

  it('debug.c calls dma_mapping_error itself, which marks same-address entries checked', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    debug_dma_map_page(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE, 0x8000_0000n, 0);
    const bucket = st.hash.get(hash_fn(0x8000_0000n))!;
    expect(bucket.map((e) => e.map_err_type)).toEqual([MAP_ERR_NOT_CHECKED]);
    // debug_dma_map_page's own dma_mapping_error() runs before the new entry is added
    debug_dma_map_page(st, d, 0x8000_0000n, 512n, DMA_TO_DEVICE, 0x8000_0000n, 0);
    expect(bucket.map((e) => e.map_err_type)).toEqual([MAP_ERR_CHECKED, MAP_ERR_NOT_CHECKED]);
    // check_unmap's "not allocated" path calls it too
    debug_dma_unmap_page(st, d, 0x8000_0000n, 1000n, DMA_TO_DEVICE);
    expect(bucket.map((e) => e.map_err_type)).toEqual([MAP_ERR_CHECKED, MAP_ERR_CHECKED]);
    expect(checks(st)).toEqual(['unmap-not-mapped']);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 512n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['unmap-not-mapped']);
  });
});

describe.each(KERNELS)('check_sync (%s)', (kernel) => {
  it('sync of memory never mapped', () => {
    const st = dmaDebugCreate(kernel);
    debug_dma_sync_single_for_cpu(st, dev(), 0x4000_0000n, 64n, DMA_FROM_DEVICE);
    expect(checks(st)).toEqual(['sync-not-mapped']);
    expect(st.reports[0].fn).toBe('debug_dma_sync_single_for_cpu');
  });

  it('sync running past the end of the mapping is not contained → "not allocated"', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x8000_0000n, 4096n, DMA_FROM_DEVICE, 0x8000_0000n);
    debug_dma_sync_single_for_cpu(st, d, 0x8000_0000n, 4097n, DMA_FROM_DEVICE);
    debug_dma_sync_single_for_cpu(st, d, 0x8000_0f00n, 512n, DMA_FROM_DEVICE);
    expect(checks(st)).toEqual(['sync-not-mapped', 'sync-not-mapped']);
  });

  it('"outside allocated range" fires when the u64 end wraps (size_t -1)', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x8000_0000n, 4096n, DMA_FROM_DEVICE, 0x8000_0000n);
    debug_dma_sync_single_for_device(st, d, 0x8000_0000n, U64_MAX, DMA_FROM_DEVICE);
    expect(checks(st)).toEqual(['sync-size-overflow']);
    expect(st.reports[0].message).toContain('[allocation size=4096 bytes]');
  });

  it('sync with a different direction', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x8000_0000n, 4096n, DMA_FROM_DEVICE, 0x8000_0000n);
    debug_dma_sync_single_for_cpu(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['sync-dir-mismatch']);
  });

  it('sync_for_cpu of a TO_DEVICE mapping with FROM_DEVICE: mismatch + read-only for cpu', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE, 0x8000_0000n);
    debug_dma_sync_single_for_cpu(st, d, 0x8000_0000n, 4096n, DMA_FROM_DEVICE);
    expect(checks(st)).toEqual(['sync-dir-mismatch', 'sync-dir-to-device-for-cpu']);
    expect(st.reports[1].message).toContain('syncs device read-only DMA memory for cpu');
    expect(st.reports[1].message).toContain('[mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]');
  });

  it('sync_for_device of a FROM_DEVICE mapping with TO_DEVICE: mismatch + write-only to device', () => {
    const st = dmaDebugCreate(kernel);
    const d = dev();
    mapChecked(st, d, 0x8000_0000n, 4096n, DMA_FROM_DEVICE, 0x8000_0000n);
    debug_dma_sync_single_for_device(st, d, 0x8000_0000n, 4096n, DMA_TO_DEVICE);
    expect(checks(st)).toEqual(['sync-dir-mismatch', 'sync-dir-from-device-for-device']);
  });
});

describe('bucket_find_contain: 5.10 bounded by max_seg_size, 6.6 searches all lower buckets', () => {
  const base = 0x100000n;
  const setup = (kernel: '5.10' | '6.6', d: DmaDebugDevice): DmaDebugState => {
    const st = dmaDebugCreate(kernel);
    mapChecked(st, d, 0x8000_0000n, 1n << 20n, DMA_FROM_DEVICE, base);
    return st;
  };
  it('partial sync 128 KiB into a 1 MiB mapping', () => {
    const d = dev();
    const st510 = setup('5.10', d);
    debug_dma_sync_single_for_cpu(st510, d, base + 0x20000n, 4096n, DMA_FROM_DEVICE);
    expect(checks(st510)).toEqual(['sync-not-mapped']);
    const st66 = setup('6.6', d);
    debug_dma_sync_single_for_cpu(st66, d, base + 0x20000n, 4096n, DMA_FROM_DEVICE);
    expect(st66.reports).toEqual([]);
  });
  it('64 KiB in is still found on 5.10 (range <= max_range is inclusive)', () => {
    const d = dev();
    const st = setup('5.10', d);
    debug_dma_sync_single_for_cpu(st, d, base + 0x10000n + 0x1000n, 4096n, DMA_FROM_DEVICE);
    expect(st.reports).toEqual([]);
  });
  it('5.10 with a large max_segment_size finds it', () => {
    const d: DmaDebugDevice = { name: 'nvme0', maxSegmentSize: 1 << 20 };
    const st = setup('5.10', d);
    debug_dma_sync_single_for_cpu(st, d, base + 0x80000n, 4096n, DMA_FROM_DEVICE);
    expect(st.reports).toEqual([]);
  });
  it('5.10 with max_segment_size = UINT_MAX never ends on a miss', () => {
    const d: DmaDebugDevice = { name: 'nvme0', maxSegmentSize: 0xffffffff };
    const st = dmaDebugCreate('5.10');
    expect(() => debug_dma_sync_single_for_cpu(st, d, 0x5000_0000n, 64n, DMA_FROM_DEVICE)).toThrow(KernelBug);
    const st66 = dmaDebugCreate('6.6');
    debug_dma_sync_single_for_cpu(st66, d, 0x5000_0000n, 64n, DMA_FROM_DEVICE);
    expect(checks(st66)).toEqual(['sync-not-mapped']);
  });
});

describe('cacheline overlap (add_dma_entry EEXIST)', () => {
  const d = dev();
  const overlapping = (st: DmaDebugState, attrs = 0, bounce = false): void => {
    mapChecked(st, d, 0x8000_0000n, 32n, DMA_FROM_DEVICE, 0x8000_0000n);
    debug_dma_map_page(st, d, 0x8000_0020n, 32n, DMA_FROM_DEVICE, 0x8000_0020n, attrs, { bounceUnalignedKmalloc: bounce });
    debug_dma_mapping_error(st, d, 0x8000_0020n);
  };
  it('6.6 reports it', () => {
    const st = dmaDebugCreate('6.6');
    overlapping(st);
    expect(checks(st)).toEqual(['cacheline-overlap']);
    expect(st.reports[0].fn).toBe('debug_dma_map_page');
    expect(st.reports[0].message).toBe("DMA-API: eth0: cacheline tracking EEXIST, overlapping mappings aren't supported");
    expect(st.activeCachelines.get(0x8000_0000n >> 6n)?.overlap).toBe(1);
  });
  it('5.10 does not (TODO in the source) but still counts the overlap', () => {
    const st = dmaDebugCreate('5.10');
    overlapping(st);
    expect(st.reports).toEqual([]);
    expect(st.activeCachelines.get(0x8000_0000n >> 6n)?.overlap).toBe(1);
  });
  it('6.6: DMA_ATTR_SKIP_CPU_SYNC or the bounce-unaligned-kmalloc case silence it', () => {
    const a = dmaDebugCreate('6.6');
    overlapping(a, DMA_ATTR_SKIP_CPU_SYNC);
    const b = dmaDebugCreate('6.6');
    overlapping(b, 0, true);
    expect(a.reports).toEqual([]);
    expect(b.reports).toEqual([]);
  });
  it('TO_DEVICE mappings never overlap; coherent allocations do', () => {
    const st = dmaDebugCreate('6.6');
    mapChecked(st, d, 0x8000_0000n, 32n, DMA_TO_DEVICE, 0x8000_0000n);
    mapChecked(st, d, 0x8000_0000n, 64n, DMA_FROM_DEVICE, 0x9000_0000n);
    mapChecked(st, d, 0x8000_0010n, 16n, DMA_TO_DEVICE, 0x8000_0010n);
    expect(st.reports).toEqual([]);
    debug_dma_alloc_coherent(st, d, 4096n, 0xc000_0000n, 0x8000_0000n, 0);
    expect(checks(st)).toEqual(['cacheline-overlap']);
    expect(st.reports[0].fn).toBe('debug_dma_alloc_coherent');
  });
  it('unmapping balances the counter; the line goes when it drops below 0', () => {
    const st = dmaDebugCreate('6.6');
    overlapping(st);
    const cln = 0x8000_0000n >> 6n;
    debug_dma_unmap_page(st, d, 0x8000_0020n, 32n, DMA_FROM_DEVICE);
    expect(st.activeCachelines.get(cln)?.overlap).toBe(0);
    debug_dma_unmap_page(st, d, 0x8000_0000n, 32n, DMA_FROM_DEVICE);
    expect(st.activeCachelines.has(cln)).toBe(false);
    expect(checks(st)).toEqual(['cacheline-overlap']);
  });
  it('the counter saturates at 7 with one WARN_ONCE; the line is then dropped early', () => {
    const st = dmaDebugCreate('5.10');
    const cln = 0x8000_0000n >> 6n;
    for (let i = 0; i < 10; i++) mapChecked(st, d, 0x8000_0000n + BigInt(i) * 4n, 4n, DMA_FROM_DEVICE, 0x1_0000_0000n + BigInt(i) * 0x10000n);
    expect(st.activeCachelines.get(cln)?.overlap).toBe(7);
    expect(st.warnings.map((w) => w.check)).toEqual(['cacheline-overlap-exceeded']);
    for (let i = 0; i < 8; i++) debug_dma_unmap_page(st, d, 0x1_0000_0000n + BigInt(i) * 0x10000n, 4n, DMA_FROM_DEVICE);
    expect(st.activeCachelines.has(cln)).toBe(false); // two mappings still live
    expect(debugDmaOutstanding(st)).toBe(2);
    expect(st.reports).toEqual([]);
  });
});

describe('other entry points and err_printk', () => {
  it('debug_dma_map_single: invalid area / vmalloc', () => {
    const st = dmaDebugCreate('6.6');
    debug_dma_map_single(st, dev(), true, false);
    expect(st.reports).toEqual([]);
    debug_dma_map_single(st, dev(), false, true, 0xffff_ffc8_0000_0000n, 128n);
    expect(checks(st)).toEqual(['map-invalid-area', 'map-vmalloc-area']);
    expect(st.reports[1].message).toContain('maps memory from vmalloc area [addr=0xffffffc800000000] [len=128]');
  });
  it('stack and kernel text/rodata checks of map_page', () => {
    const st = dmaDebugCreate('5.10');
    const d = dev();
    debug_dma_map_page(st, d, 0x8000_0000n, 64n, DMA_TO_DEVICE, 0x8000_0000n, 0, { onStack: true, kernelTextOrRodata: true });
    expect(checks(st)).toEqual(['map-from-stack', 'map-kernel-text-rodata']);
    expect(debugDmaOutstanding(st)).toBe(1);
  });
  it('only the first error is printed by default; all are recorded', () => {
    const st = dmaDebugCreate('6.6');
    debug_dma_unmap_page(st, dev(), 0x1000n, 1n, DMA_TO_DEVICE);
    debug_dma_unmap_page(st, dev(), 0x2000n, 1n, DMA_TO_DEVICE);
    expect(st.reports.map((r) => r.printed)).toEqual([true, false]);
    expect(st.error_count).toBe(2);
    const all = dmaDebugCreate('6.6', { allErrors: true });
    debug_dma_unmap_page(all, dev(), 0x1000n, 1n, DMA_TO_DEVICE);
    debug_dma_unmap_page(all, dev(), 0x2000n, 1n, DMA_TO_DEVICE);
    expect(all.reports.map((r) => r.printed)).toEqual([true, true]);
  });
  it('dma_debug=off: nothing is tracked or reported', () => {
    const st = dmaDebugCreate('6.6', { disabled: true });
    const d = dev();
    debug_dma_map_page(st, d, 0x8000_0000n, 64n, DMA_TO_DEVICE, 0x8000_0000n, 0);
    debug_dma_unmap_page(st, d, 0x9000_0000n, 64n, DMA_TO_DEVICE);
    debug_dma_sync_single_for_cpu(st, d, 0x9000_0000n, 64n, DMA_TO_DEVICE);
    expect(debugDmaOutstanding(st)).toBe(0);
    expect(st.reports).toEqual([]);
  });
  it('driver unbind with live mappings reports the count and the last entry in hash order', () => {
    const st = dmaDebugCreate('6.6');
    const a = dev('a');
    const b = dev('b');
    mapChecked(st, a, 0x8000_0000n, 64n, DMA_TO_DEVICE, 0x8000_0000n);
    mapChecked(st, a, 0x8001_0000n, 128n, DMA_FROM_DEVICE, 0x8001_0000n);
    mapChecked(st, b, 0x8002_0000n, 64n, DMA_TO_DEVICE, 0x8002_0000n);
    expect(debugDmaOutstanding(st, a)).toBe(2);
    expect(debugDmaOutstanding(st)).toBe(3);
    dma_debug_device_change(st, a);
    expect(checks(st)).toEqual(['pending-allocations']);
    expect(st.reports[0].message).toContain('[count=2]');
    expect(st.reports[0].message).toContain('[device address=0x0000000080010000] [size=128 bytes] [mapped with DMA_FROM_DEVICE] [mapped as single]');
    expect(debugDmaOutstanding(st, a)).toBe(2);
    dma_debug_device_change(st, dev('c'));
    expect(st.reports.length).toBe(1);
  });
});

describe('property: random legal life cycles report nothing', () => {
  interface Plan {
    coherent: boolean;
    dir: number;
    size: number;
    syncs: { off: number; len: number; forCpu: boolean }[];
  }
  const planArb: fc.Arbitrary<Plan> = fc
    .record({
      coherent: fc.boolean(),
      dir: fc.constantFrom(DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE),
      size: fc.integer({ min: 1, max: 0x8000 }),
      syncs: fc.array(fc.record({ off: fc.nat(), len: fc.nat(), forCpu: fc.boolean() }), { maxLength: 4 }),
    })
    .map((p) => ({
      ...p,
      syncs: p.syncs.map((s) => {
        const off = s.off % p.size;
        return { off, len: 1 + (s.len % (p.size - off)), forCpu: s.forCpu };
      }),
    }));

  it('interleaved map/check/sync/unmap and alloc/free on two devices', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KERNELS),
        fc.array(planArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 80 }),
        fc.nat(0x3f),
        (kernel, plans, picks, lineOff) => {
          const st = dmaDebugCreate(kernel);
          const devs = [dev('d0'), dev('d1')];
          // distinct pages (no shared first cache line), device addresses not identical to phys
          const m = plans.map((p, i) => ({
            p,
            d: devs[i % 2],
            phys: 0x8000_0000n + BigInt(i) * 0x10000n + BigInt(lineOff) * 64n,
            dma: 0x4000_0000n + BigInt(i) * 0x12000n + BigInt(lineOff) * 64n,
            step: 0,
          }));
          const stepOf = (x: (typeof m)[number]): boolean => {
            const { p, d } = x;
            const size = BigInt(p.size);
            const last = p.coherent ? 1 : 2 + p.syncs.length;
            if (x.step > last) return false;
            if (p.coherent) {
              if (x.step === 0) debug_dma_alloc_coherent(st, d, size, x.dma, x.phys, 0);
              else debug_dma_free_coherent(st, d, size, x.phys, x.dma);
            } else if (x.step === 0) {
              debug_dma_map_page(st, d, x.phys, size, p.dir, x.dma, 0);
            } else if (x.step === 1) {
              debug_dma_mapping_error(st, d, x.dma);
            } else if (x.step < last) {
              const s = p.syncs[x.step - 2];
              const fn = s.forCpu ? debug_dma_sync_single_for_cpu : debug_dma_sync_single_for_device;
              fn(st, d, x.dma + BigInt(s.off), BigInt(s.len), p.dir);
            } else {
              debug_dma_unmap_page(st, d, x.dma, size, p.dir);
            }
            x.step++;
            return true;
          };
          for (const pick of picks) stepOf(m[pick % m.length]);
          for (const x of m) while (stepOf(x));
          expect(st.reports).toEqual([]);
          expect(st.warnings).toEqual([]);
          expect(debugDmaOutstanding(st)).toBe(0);
          expect(st.activeCachelines.size).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
