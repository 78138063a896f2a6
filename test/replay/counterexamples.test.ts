// Every file in counterexamples/ is a regression test: its operations, replayed
// on the profile recorded in it, must break the recorded invariant at the
// recorded step. Drop a file written by `npm run verify` in and it is checked here.

import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCounterexampleFile } from '../../properties/counterexample-file.ts';
import { replayCounterexample, linesOfInterest } from '../../properties/replay.ts';
import { runSequence } from '../../model/harness.ts';
import { harness } from '../../properties/catalog.ts';
import { renderReplayHtml } from '../../cli/replay-html.ts';

const DIR = 'counterexamples';
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('saved counterexamples replay to their recorded verdict', () => {
  it('the directory holds some', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const name of files) {
    it(name, () => {
      const f = readCounterexampleFile(join(DIR, name));
      const r = replayCounterexample(f);
      expect(r.failure, 'the replay must break an invariant').not.toBeNull();
      expect({ step: r.failure!.step, invariant: r.failure!.invariant }).toEqual({ step: f.failure.step, invariant: f.failure.invariant });
      expect(r.reproduced).toBe(true);
      expect(r.failure!.message).toBe(f.failure.message);
      // The instrumented replay reaches the verdict verify's own runner reaches.
      const plain = runSequence(harness(f.harness)!, f.profile, f.ops, [f.invariant], true);
      expect(plain && { step: plain.step, invariant: plain.invariant, message: plain.message }).toEqual({
        step: r.failure!.step,
        invariant: r.failure!.invariant,
        message: r.failure!.message,
      });
      if (!r.bootFailed) expect(plain!.trace).toEqual(r.steps.map((s) => s.text));
    });
  }
});

describe('replay details', () => {
  const vendor = files.find((f) => f.startsWith('c920-sg2042-5.10-vendor--no-stale-read'));
  it.skipIf(vendor === undefined)('vendor 5.10: the kernel path of dma_alloc_coherent, the dirty zeroing line, the device reading memory', () => {
    const f = readCounterexampleFile(join(DIR, vendor!));
    const r = replayCounterexample(f);
    const alloc = r.steps.find((s) => (s.op as { k: string }).k === 'alloc_coherent')!;
    const fns = alloc.calls.filter((e) => e.fn !== '#').map((e) => e.fn);
    expect(fns).toContain('dma_direct_alloc');
    expect(fns).not.toContain('arch_dma_prep_coherent');
    expect(alloc.calls.some((e) => e.fn === '#' && /every device is coherent/.test(e.detail ?? ''))).toBe(true);
    // The zeroing memset went through the cacheable linear map: dirty in an L1, memory still poison.
    expect(alloc.changes.some((c) => c.level === 'L1' && c.from === 'I' && c.to === 'D')).toBe(true);
    const failing = r.steps[r.failure!.step];
    const read = failing.accesses.find((a) => a.by === 'device' && a.kind === 'mem-read')!;
    expect(read.bytes).toBe('a5');
    const t = failing.touched.find((x) => x.line === read.line)!;
    expect(t.after.l1.some((c) => c.state === 'D' && c.bytes.startsWith('00'))).toBe(true);
    expect(t.after.mem.startsWith('a5')).toBe(true);

    const { lines, focus, alike } = linesOfInterest(r, 4);
    expect(lines).toContain(read.line);
    const tl = replayCounterexample(f, { watch: lines, focus, alike });
    expect(tl.timeline!.snaps).toHaveLength(r.steps.length + 1);
    const html = renderReplayHtml('x.json', f, tl);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('class="D');
    expect(html).toContain('dma_direct_alloc');
  });
});
