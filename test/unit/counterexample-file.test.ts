import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CounterexampleFileError,
  counterexampleFileName,
  counterexampleFileOf,
  decodeCounterexampleFile,
  encodeCounterexampleFile,
  readCounterexampleFile,
  saveCounterexamples,
  type CounterexampleFile,
} from '../../properties/counterexample-file.ts';
import { decodeBigint, decodeProfile, encodeBigint, encodeProfile, ShapeError } from '../../properties/profile-json.ts';
import { BUILTIN_PROFILES, findProfile } from '../../reference/config/profiles.ts';
import type { VerifyResult } from '../../properties/verify.ts';

const vendor = findProfile('c920-sg2042-5.10-vendor')!;

/** The counterexample verify finds on the vendor 5.10 profile (seed 1): zeroing stays in the L1, the device reads poison. */
function sample(): CounterexampleFile {
  return {
    schemaVersion: 1,
    dmacheckVersion: '0.1.0',
    createdAt: '2026-01-02T03:04:05.000Z',
    profile: vendor,
    invariant: 'no-stale-read',
    harness: 'coherence',
    seed: 1,
    path: '4:1:0',
    replayPath: null,
    ops: [
      { k: 'alloc_coherent', dev: 0, size: 4096 },
      { k: 'dev_read', target: 0, coh: true, off: 0, len: 1 },
    ],
    trace: ['coh#0 = dma_alloc_coherent(dwmac0, 4096, GFP_KERNEL)', 'dwmac0: read 1 bytes at coh#0+0 = 0xa5..'],
    failure: { step: 1, op: '{"k":"dev_read"}', invariant: 'no-stale-read', message: 'dwmac0 read 0xa5 at byte 0 of coherent buffer coh#0, but its owner last wrote 0x0' },
    expected: 'violated',
  };
}

function mutate(f: (doc: Record<string, any>) => void): string {
  const doc = JSON.parse(encodeCounterexampleFile(sample()));
  f(doc);
  return JSON.stringify(doc);
}

function errorOf(text: string): CounterexampleFileError {
  try {
    decodeCounterexampleFile(text, 'x.json');
  } catch (e) {
    expect(e).toBeInstanceOf(CounterexampleFileError);
    const err = e as CounterexampleFileError;
    expect(err.message).not.toContain('\n');
    return err;
  }
  throw new Error('decoded without error');
}

describe('bigint encoding', () => {
  it('writes hex with the n suffix and reads it back exactly', () => {
    expect(encodeBigint(0x8_0000_0000n)).toBe('0x800000000n');
    expect(encodeBigint(0n)).toBe('0x0n');
    expect(encodeBigint(-5n)).toBe('-0x5n');
    expect(decodeBigint('0xffffffffffffffffn', 'x')).toBe((1n << 64n) - 1n);
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }), (v) => decodeBigint(encodeBigint(v), 'x') === v));
  });
  it('rejects anything else where a bigint belongs', () => {
    for (const bad of ['0x10', '16n', 16, '0xg1n', '0X10n', null]) expect(() => decodeBigint(bad, 'p.base')).toThrow(ShapeError);
  });
});

describe('profile JSON', () => {
  it('round-trips every built-in profile exactly', () => {
    for (const p of BUILTIN_PROFILES) expect(decodeProfile(encodeProfile(p))).toEqual(p);
  });
  it('names the bad field', () => {
    const doc = encodeProfile(findProfile('board-1g-6.6-dt-pools')!) as Record<string, any>;
    doc.devices[1].dmaRanges[0].size = 1073741824;
    expect(() => decodeProfile(doc)).toThrow('profile.devices[1].dmaRanges[0].size: expected a bigint');
  });
});

describe('counterexample file', () => {
  it('round-trips (bigints as "0x…n", replayPath null, field order as documented)', () => {
    const text = encodeCounterexampleFile(sample());
    expect(decodeCounterexampleFile(text)).toEqual(sample());
    expect(text).toContain('"base": "0x800000000n"');
    expect(Object.keys(JSON.parse(text))).toEqual([
      'schemaVersion',
      'dmacheckVersion',
      'createdAt',
      'profile',
      'invariant',
      'harness',
      'seed',
      'path',
      'replayPath',
      'ops',
      'trace',
      'failure',
      'expected',
    ]);
  });

  it('accepts a file without createdAt and replayPath', () => {
    const f = decodeCounterexampleFile(
      mutate((d) => {
        delete d.createdAt;
        delete d.replayPath;
      }),
    );
    expect(f.createdAt).toBeUndefined();
    expect(f.ops).toHaveLength(2);
  });

  it('builds the file from a verify result, and saves one file per violation into a new directory', () => {
    const s = sample();
    const r: VerifyResult = {
      profile: vendor.name,
      invariant: 'no-stale-read',
      expected: 'violated',
      verdict: 'violated',
      runs: 10,
      harnesses: ['coherence'],
      counterexample: { harness: 'coherence', seed: 1, path: '4:1:0', ops: s.ops, trace: s.trace, failure: { ...s.failure, trace: s.trace }, shrinks: 3 },
      ms: 1,
    };
    const f = counterexampleFileOf(vendor, r, new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))!;
    expect(f).toEqual(sample());
    expect(counterexampleFileOf(vendor, { ...r, verdict: 'holds', counterexample: undefined })).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'dmacheck-ce-'));
    try {
      const out = join(dir, 'sub', 'counterexamples');
      const written = saveCounterexamples([r, { ...r, invariant: 'pte-attributes', counterexample: undefined }], [vendor], out);
      expect(written).toEqual([join(out, 'c920-sg2042-5.10-vendor--no-stale-read.json')]);
      const back = readCounterexampleFile(written[0]);
      expect(back.failure).toEqual(sample().failure);
      expect(JSON.parse(readFileSync(written[0], 'utf8')).dmacheckVersion).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sanitises file names', () => {
    expect(counterexampleFileName('c920-sg2042-6.6+prep-coherent-skipped', 'no-stale-read')).toBe('c920-sg2042-6.6+prep-coherent-skipped--no-stale-read.json');
    expect(counterexampleFileName('../a b/c', 'x:y')).toBe('__a_b_c--x_y.json');
  });

  it('newer schema: its own error kind, before any other check', () => {
    const e = errorOf(JSON.stringify({ schemaVersion: 2, dmacheckVersion: '9.0.0', whatever: true }));
    expect(e.kind).toBe('newer-schema');
    expect(e.message).toBe('x.json: schema version 2 (dmacheck 9.0.0) is newer than this dmacheck reads (1); update dmacheck');
  });

  it('damaged files: one-line typed errors naming the problem', () => {
    const cases: [string, string, string][] = [
      ['{"schemaVersion": 1,', 'not-json', 'not valid JSON'],
      ['[1,2]', 'invalid', 'file: expected an object'],
      [mutate((d) => delete d.ops), 'invalid', 'file: missing field "ops"'],
      [mutate((d) => (d.extra = 1)), 'invalid', 'file: unknown field "extra"'],
      [mutate((d) => (d.schemaVersion = 0)), 'invalid', 'schemaVersion: expected one of 1'],
      [mutate((d) => (d.harness = 'nosuch')), 'invalid', 'harness: unknown harness "nosuch"'],
      [mutate((d) => (d.harness = 'genpool')), 'invalid', 'invariant: expected one of'],
      [mutate((d) => (d.profile.platform.cmoFlavour = 'magic')), 'invalid', 'profile.platform.cmoFlavour: expected one of'],
      [mutate((d) => (d.profile.memory[0].base = 0)), 'invalid', 'profile.memory[0].base: expected a bigint'],
      [mutate((d) => (d.profile.faults = ['no-such-fault'])), 'invalid', 'profile.faults[0]: unknown fault "no-such-fault"'],
      [mutate((d) => (d.profile.kernel = '6.1')), 'invalid', 'profile.kernel'],
      [mutate((d) => delete d.profile.platform), 'invalid', 'profile: missing field "platform"'],
      [mutate((d) => (d.ops[0] = { k: 'alloc_coherent', dev: 0 })), 'invalid', 'ops[0]: not an operation the coherence harness generates'],
      [mutate((d) => (d.ops[1].k = 'teleport')), 'invalid', 'ops[1]'],
      [mutate((d) => (d.failure.step = 7)), 'invalid', 'failure.step'],
      [mutate((d) => (d.failure.invariant = 'zone')), 'invalid', 'failure.invariant'],
      [mutate((d) => (d.expected = 'holds')), 'invalid', 'expected: says holds, but the recorded profile declares violated'],
      [mutate((d) => (d.replayPath = '1:2')), 'invalid', 'replayPath: must be null'],
      [mutate((d) => (d.createdAt = 'yesterday')), 'invalid', 'createdAt: not a date'],
      [mutate((d) => (d.trace = [1])), 'invalid', 'trace[0]: expected a string'],
    ];
    for (const [text, kind, msg] of cases) {
      const e = errorOf(text);
      expect(e.kind, msg).toBe(kind);
      expect(e.message.startsWith('x.json: '), e.message).toBe(true);
      expect(e.message, msg).toContain(msg);
    }
  });

  it('a missing file is an unreadable error', () => {
    expect(() => readCounterexampleFile('/nonexistent/x.json')).toThrow(/cannot read \(ENOENT\)/);
  });
});
