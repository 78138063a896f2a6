// npm run replay as a user runs it: exit 0 on a reproduced verdict, 2 with one
// line on a damaged or too-new file, and a self-contained HTML timeline.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TSX = 'node_modules/.bin/tsx';

function replay(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(TSX, ['cli/replay.ts', ...args], { timeout: 60_000 }, (e, out, err) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, out: String(out), err: String(err) });
    });
  });
}

let dir = '';
const good = readdirSync('counterexamples').find((f) => f.endsWith('.json'))!;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dmacheck-replay-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run replay', () => {
  it('damaged file, newer schema, missing file, bad usage: exit 2 with one line', async () => {
    const damaged = join(dir, 'damaged.json');
    writeFileSync(damaged, readFileSync(join('counterexamples', good), 'utf8').slice(0, 200));
    const newer = join(dir, 'newer.json');
    writeFileSync(newer, JSON.stringify({ ...JSON.parse(readFileSync(join('counterexamples', good), 'utf8')), schemaVersion: 2 }));
    const runs = await Promise.all([replay(damaged), replay(newer), replay(join(dir, 'none.json')), replay(), replay(damaged, '--bogus')]);
    const [d, n, m, u, b] = runs;
    for (const r of runs) {
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^replay: /);
    }
    expect(d.err).toContain('not valid JSON');
    expect(n.err).toContain('schema version 2');
    expect(m.err).toContain('cannot read (ENOENT)');
    expect(u.err).toContain('needs a counterexample FILE');
    expect(b.err).toContain('unknown option --bogus');
  });

  it('a saved counterexample: exit 0, per-step trace and verdict, and an HTML timeline', async () => {
    const html = join(dir, 'out.html');
    const [r, h] = await Promise.all([replay(join('counterexamples', good), '--html', html), replay('--help')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\s+1\. /m);
    expect(r.out).toContain('verdict: reproduced');
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<table class="tl">');
    expect(page).toContain('class="fail"');
    expect(h.code).toBe(0);
    expect(h.out).toContain('usage: npm run replay -- FILE');
  });

  it('a file whose verdict no longer reproduces: exit 1', async () => {
    const f = JSON.parse(readFileSync(join('counterexamples', good), 'utf8'));
    // Same operations, but claiming the kernel oopsed instead.
    f.failure.invariant = 'kernel-bug';
    const moved = join(dir, 'moved.json');
    writeFileSync(moved, JSON.stringify(f));
    const r = await replay(moved, '--quiet');
    expect(r.code).toBe(1);
    expect(r.out).toContain('verdict: NOT reproduced');
  });
});
