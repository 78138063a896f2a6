// The coherence harness's receive-behind-a-header structs (DeviceSpec.rxBehindHeader):
// which bytes the shadow gives up when the driver shares a line with a DMA buffer, and
// that it gives up no more than that.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { coherenceHarness as h, type CoherenceOp, type CoherenceState } from '../../model/harnesses/coherence.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE } from '../../reference/include/linux/dma-direction.ts';
import { cpuLoad } from '../../reference/hw/cpu.ts';

const RX66 = 'c920-sg2042-6.6-rx-header';

function run(profile: string, ops: CoherenceOp[]): CoherenceState {
  const st = h.setup(findProfile(profile)!);
  for (const op of ops) h.apply(st, op, false);
  return st;
}

const defined = (sh: Int16Array, from: number, to: number) => Array.from(sh.subarray(from, to)).every((v) => v >= 0);
const undef = (sh: Int16Array, from: number, to: number) => Array.from(sh.subarray(from, to)).every((v) => v === -1);

const struct: CoherenceOp = { k: 'kmalloc_rx', hdr: 16, size: 128, dir: DMA_FROM_DEVICE };
const hdrStore: CoherenceOp = { k: 'cpu_store', target: 0, coh: false, off: 0, len: 8, val: 0x21, hart: 1, near: true };
const frame: CoherenceOp = { k: 'dev_write', target: 0, coh: false, off: 0, len: 96, val: 0x90 };

describe('rx buffer behind a header', () => {
  it('allocates one struct, posts the buffer to the rx device at once, 16 bytes in', () => {
    const st = run(RX66, [struct]);
    const [hdr, rx] = st.objs;
    expect(rx.pa - hdr.pa).toBe(16n);
    expect(hdr.pa % 64n).toBe(0n);
    expect(rx.map).toMatchObject({ dev: { name: 'dwmac0' }, dir: DMA_FROM_DEVICE, owner: 'device' });
    expect(hdr.map).toBeNull();
  });

  it('a near store picks the header, the CPU-owned half of the shared line', () => {
    const st = run(RX66, [struct, { k: 'kmalloc', size: 256, count: 2 }, hdrStore]);
    expect(Array.from(st.objs[0].shadow.subarray(0, 8))).toEqual([0x21, 0x28, 0x2f, 0x36, 0x3d, 0x44, 0x4b, 0x52]);
    expect(st.objs[0].part?.role).toBe('hdr');
  });

  it('6.6: after unmap the frame is the device\'s and the header update made during DMA is undefined', () => {
    const st = run(RX66, [struct, hdrStore, frame, { k: 'unmap', i: 0 }]);
    const [hdr, rx] = st.objs;
    expect(undef(hdr.shadow, 0, 8)).toBe(true);
    expect(defined(rx.shadow, 0, 96)).toBe(true);
    // The invalidate dropped the header line: what the CPU now reads is the frame.
    expect(Array.from(cpuLoad(st.m, 0, rx.va, 4))).toEqual(Array.from(rx.shadow.subarray(0, 4)));
    expect(st.stale).toBeNull();
  });

  it('an eviction of the dirty header line after the frame arrived undefines exactly the bytes it replaced', () => {
    const st = run(RX66, [struct, hdrStore, frame, { k: 'evict', where: 'stored', target: 0, off: 0, hart: 1, level: 'L2' }]);
    const rx = st.objs[1];
    // The old line held never-written RAM (0xa5); the frame's byte 3 happens to be 0xa5 too, so it did not change.
    expect(Array.from(rx.shadow.subarray(0, 48)).map((v, i) => (v === -1 ? '-' : i)).join('')).toBe('---3' + '-'.repeat(44));
    expect(rx.shadow[3]).toBe(0xa5);
    expect(defined(rx.shadow, 48, 96)).toBe(true);
  });

  it('an eviction before the frame arrived changes nothing the device wrote', () => {
    const st = run(RX66, [struct, hdrStore, { k: 'evict', where: 'stored', target: 0, off: 0, hart: 1, level: 'L2' }, frame]);
    expect(defined(st.objs[1].shadow, 0, 96)).toBe(true);
  });

  it('a header store followed by sync_for_device is written back, so it survives the next invalidate', () => {
    const st = run(RX66, [
      { ...struct, dir: DMA_BIDIRECTIONAL },
      { k: 'sync_cpu', i: 0 },
      // Both halves CPU-owned: index 1 is the header.
      { k: 'cpu_store', target: 1, coh: false, off: 0, len: 8, val: 0x21, hart: 1 },
      { k: 'sync_dev', i: 0 },
      { k: 'unmap', i: 0 },
      { k: 'cpu_load', target: 1, coh: false, off: 0, len: 8, hart: 2 },
    ]);
    expect(defined(st.objs[0].shadow, 0, 8)).toBe(true);
    expect(st.stale).toBeNull();
    // Unmapped straight from the CPU's ownership instead, the store is at the invalidate's mercy.
    const direct = run(RX66, [{ ...struct, dir: DMA_BIDIRECTIONAL }, { k: 'sync_cpu', i: 0 }, { k: 'cpu_store', target: 1, coh: false, off: 0, len: 8, val: 0x21, hart: 1 }, { k: 'unmap', i: 0 }]);
    expect(undef(direct.objs[0].shadow, 0, 8)).toBe(true);
  });

  it('6.0-6.5 flushes after DMA: the old bytes of the header line overwrite the frame', () => {
    const st = run('c920-sg2042-6.5-rx-header', [struct, hdrStore, frame, { k: 'unmap', i: 0 }, { k: 'cpu_load', target: 0, coh: false, off: 0, len: 48, hart: 0, fresh: true }]);
    expect(st.stale).toMatch(/^hart0 read 0xa5 at byte 0 of buf#1, but its owner last wrote 0x90/);
  });

  it('the header is never mapped, and the struct is freed whole once the buffer is unmapped', () => {
    const st = run(RX66, [struct, { k: 'map', i: 0, dev: 0, dir: DMA_FROM_DEVICE }, { k: 'kfree', i: 0 }]);
    expect(st.objs.map((o) => o.part?.role)).toEqual(['hdr', 'rx']);
    expect(st.objs[0].map).toBeNull();
    const freed = run(RX66, [struct, { k: 'unmap', i: 0 }, { k: 'kfree', i: 0 }]);
    expect(freed.objs).toEqual([]);
  });

  it('machines without such a driver never generate the struct', () => {
    const ops = (name: string) => JSON.stringify(fc.sample(h.ops(findProfile(name)!), { numRuns: 400, seed: 1 }));
    expect(ops('c920-sg2042-6.6')).not.toContain('kmalloc_rx');
    expect(ops(RX66)).toContain('kmalloc_rx');
  });
});
