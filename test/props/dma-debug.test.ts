// CONFIG_DMA_API_DEBUG agrees with a driver that knows its own misuse: every
// injected violation is reported with its id, legal use reports nothing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CORRECT_PROFILES } from '../../reference/config/profiles.ts';
import type { Profile } from '../../reference/config/profile.ts';
import { checkProperty, replayOps } from '../../properties/run.ts';
import { numRunsFor } from '../../properties/settings.ts';
import { dmaDebugHarness, sameGranuleSize, type DmaDebugOp } from '../../model/harnesses/dma-debug.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../reference/include/linux/dma-direction.ts';

const seed = fc.readConfigureGlobal().seed ?? 42;
const INV = ['debug-agreement'];

function profile(name: string): Profile {
  const p = CORRECT_PROFILES.find((x) => x.name === name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

/** 6.6 without a swiotlb pool: no bounce-unaligned-kmalloc, so overlapping mappings are reported. */
function noSwiotlb(p: Profile): Profile {
  return { ...p, name: `${p.name}-no-swiotlb`, platform: { ...p.platform, swiotlbSlots: 0 } };
}

describe('dma-debug harness', () => {
  it.each(['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed'])('debug-agreement holds on %s', (name) => {
    const r = checkProperty(dmaDebugHarness, profile(name), INV, { numRuns: numRunsFor(1000), seed });
    if (r.counterexample) console.log(r.counterexample.failure.message + '\n  ' + r.counterexample.trace.join('\n  '));
    expect(r.verdict).toBe('holds');
  });

  it('debug-agreement holds on 6.6 without swiotlb (cacheline-overlap expected)', () => {
    const r = checkProperty(dmaDebugHarness, noSwiotlb(profile('c920-sg2042-6.6')), INV, { numRuns: numRunsFor(300), seed });
    if (r.counterexample) console.log(r.counterexample.failure.message + '\n  ' + r.counterexample.trace.join('\n  '));
    expect(r.verdict).toBe('holds');
  });

  it('a worked sequence: every misuse reports its id', () => {
    const ops: DmaDebugOp[] = [
      { k: 'kmalloc', size: 256, count: 3 },
      { k: 'map', i: 0, dev: 0, dir: DMA_TO_DEVICE },
      { k: 'sync_wrong_dir', i: 0, toCpu: true, pick: 0 },
      { k: 'unmap_wrong_size', i: 0, pick: 7 },
      { k: 'map_unchecked', i: 0, dev: 1, dir: DMA_FROM_DEVICE },
      { k: 'unmap_wrong_dir', i: 0, pick: 1 },
      { k: 'unmap_unmapped', i: 1, dev: 0, dir: DMA_BIDIRECTIONAL },
      { k: 'sync_unmapped', i: 1, dev: 1, dir: DMA_FROM_DEVICE, toCpu: false },
      { k: 'map', i: 0, dev: 0, dir: DMA_FROM_DEVICE },
      { k: 'overlap_map', i: 0, dev: 0, dir: DMA_FROM_DEVICE, pick: 0 },
      { k: 'double_unmap', i: 0 },
      { k: 'alloc_coherent', dev: 0, size: 5000 },
      { k: 'free_coherent_wrong_size', i: 0, pick: 3 },
    ];
    for (const p of [profile('c920-sg2042-6.6'), profile('c920-sg2042-5.10-fixed'), noSwiotlb(profile('c920-sg2042-6.6'))]) {
      const f = replayOps(dmaDebugHarness, p, ops, INV);
      expect(f, f?.message).toBeNull();
    }
    const st = dmaDebugHarness.setup(profile('c920-sg2042-6.6'));
    for (const op of ops) dmaDebugHarness.apply(st, op, false);
    expect(st.dbg.reports.map((r) => r.check)).toEqual([
      'sync-dir-mismatch',
      'sync-dir-to-device-for-cpu',
      'unmap-size-mismatch',
      'unmap-dir-mismatch',
      'map-error-not-checked',
      'unmap-not-mapped',
      'sync-not-mapped',
      'unmap-not-mapped',
      'unmap-size-mismatch',
    ]);
    // Without swiotlb nothing silences the EEXIST of the overlapping mapping.
    const st2 = dmaDebugHarness.setup(noSwiotlb(profile('c920-sg2042-6.6')));
    for (const op of ops) dmaDebugHarness.apply(st2, op, false);
    expect(st2.dbg.reports.map((r) => r.check)).toContain('cacheline-overlap');
  });

  it('sameGranuleSize stays within the blocks and never returns the size itself', () => {
    expect(sameGranuleSize(1, 0, 2048)).toBe(2);
    expect(sameGranuleSize(2048, 0, 2048)).toBe(1);
    expect(sameGranuleSize(2049, 5, 2048)).toBe(2055);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30000 }), fc.nat(), (size, p) => {
        const n = sameGranuleSize(size, p, 4096)!;
        return n !== size && Math.ceil(n / 4096) === Math.ceil(size / 4096);
      }),
    );
  });

  it('detects debug-unmap-skips-dir-check with a shrunk counterexample', () => {
    const base = profile('c920-sg2042-6.6');
    const faulty: Profile = { ...base, name: `${base.name}+debug-unmap-skips-dir-check`, faults: ['debug-unmap-skips-dir-check'] };
    const r = checkProperty(dmaDebugHarness, faulty, INV, { numRuns: numRunsFor(1000), seed });
    expect(r.verdict).toBe('violated');
    const c = r.counterexample!;
    expect(c.failure.invariant).toBe('debug-agreement');
    expect(c.failure.message).toContain('missing unmap-dir-mismatch');
    console.log(`[${faulty.name}] debug-agreement broken after ${c.trace.length} ops (${c.shrinks} shrinks): ${c.failure.message}\n  ` + c.trace.join('\n  '));
  });
});
