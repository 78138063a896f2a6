// The verify command as users run it: exit codes, JSON, workers, shards.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const verify = (...args: string[]) => spawnSync(tsx, ['cli/verify.ts', ...args], { encoding: 'utf8', timeout: 120_000 });

describe('npm run verify', () => {
  it('runs two profiles on two workers and writes the documented JSON', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dmacheck-')), 'v.json');
    const r = verify('--profile', 'three-zone-5.10', '--profile', 'board-1g-6.6', '--runs', '20', '--seed', '7', '--workers', '2', '--no-save', '--json', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 workers/);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.seed).toBe(7);
    expect(new Set(j.results.map((x: { profile: string }) => x.profile))).toEqual(new Set(['three-zone-5.10', 'board-1g-6.6']));
    for (const x of j.results) expect(['holds', 'violated']).toContain(x.verdict);
  });

  it('a shard checks every N-th profile', () => {
    const r = verify('--profile', 'three-zone-5.10', '--profile', 'board-1g-6.6', '--runs', '5', '--shard', '2/2', '--no-save');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 profile\(s\) \(shard 2\/2 of 2\)/);
    expect(r.stdout).toMatch(/board-1g-6\.6/);
    expect(r.stdout).not.toMatch(/three-zone-5\.10\s+order-alignment/);
  });

  it('bad input is one line on stderr and exit 2', () => {
    for (const args of [['--shard', '0/2'], ['--bogus'], ['--runs', 'x'], ['--profile', 'nope'], ['--workers', '0']]) {
      const r = verify(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^verify: /);
    }
  });
});
