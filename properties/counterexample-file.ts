// Saved counterexamples: one JSON file per violation, self-contained (the full
// profile travels with it, so a later change to a built-in profile cannot
// change what the file replays). The reader is strict: anything it cannot
// replay exactly as written is a CounterexampleFileError with a one-line message.
//
// Format, schemaVersion 1 (README "Replaying a failure"):
//   schemaVersion    1
//   dmacheckVersion  package.json version of the writer
//   createdAt?       ISO 8601 time of writing
//   profile          the whole Profile; every bigint as a hex string "0x…n" (properties/profile-json.ts)
//   invariant        the invariant that was checked
//   harness          the harness that generated the operations (properties/catalog.ts)
//   seed, path       fast-check seed and counterexample path (informational: they replay only
//                    with the generators of the writing version, so replay uses `ops`)
//   replayPath?      null: reserved; the operation list below is the replay input
//   ops              the shrunk operation list as data
//   trace            the same operations as they resolved, readable
//   failure          { step, op, invariant, message }: step counts from 0 over ops followed by the
//                    harness's final operations; invariant is `invariant` or "kernel-bug"
//   expected         what the profile declares for the invariant: "violated" (a fault or broken
//                    profile: the file is a detection regression input) or "holds" (a bug)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Profile } from '../reference/config/profile.ts';
import { expectationOf } from '../reference/config/profile.ts';
import { harness } from './catalog.ts';
import type { VerifyResult } from './verify.ts';
import { ShapeError, array, decodeProfile, encodeProfile, int, object, oneOf, str } from './profile-json.ts';

export const SCHEMA_VERSION = 1;

export interface RecordedFailure {
  step: number;
  op: string;
  invariant: string;
  message: string;
}

export interface CounterexampleFile {
  schemaVersion: typeof SCHEMA_VERSION;
  dmacheckVersion: string;
  createdAt?: string;
  profile: Profile;
  invariant: string;
  harness: string;
  seed: number;
  path: string;
  replayPath?: null;
  ops: unknown[];
  trace: string[];
  failure: RecordedFailure;
  expected: 'holds' | 'violated';
}

/** unreadable: no such file; not-json: bad JSON; newer-schema: written by a newer dmacheck; invalid: a field is wrong. */
export type CounterexampleFileErrorKind = 'unreadable' | 'not-json' | 'newer-schema' | 'invalid';

export class CounterexampleFileError extends Error {
  constructor(
    readonly kind: CounterexampleFileErrorKind,
    message: string,
  ) {
    super(message.replace(/\s*\n\s*/g, ' '));
  }
}

let version: string | undefined;

/** The version in package.json (the writer's version stamp). */
export function dmacheckVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** The file for one violation `verify` found; null when the result has no counterexample. */
export function counterexampleFileOf(profile: Profile, r: VerifyResult, createdAt: Date | null = new Date()): CounterexampleFile | null {
  const c = r.counterexample;
  if (c === undefined) return null;
  return {
    schemaVersion: SCHEMA_VERSION,
    dmacheckVersion: dmacheckVersion(),
    ...(createdAt !== null ? { createdAt: createdAt.toISOString() } : {}),
    profile,
    invariant: r.invariant,
    harness: c.harness,
    seed: c.seed,
    path: c.path,
    replayPath: null,
    ops: c.ops,
    trace: c.trace,
    failure: { step: c.failure.step, op: c.failure.op, invariant: c.failure.invariant, message: c.failure.message },
    expected: r.expected,
  };
}

export function encodeCounterexampleFile(f: CounterexampleFile): string {
  const doc = {
    schemaVersion: f.schemaVersion,
    dmacheckVersion: f.dmacheckVersion,
    ...(f.createdAt !== undefined ? { createdAt: f.createdAt } : {}),
    profile: encodeProfile(f.profile),
    invariant: f.invariant,
    harness: f.harness,
    seed: f.seed,
    path: f.path,
    replayPath: null,
    ops: f.ops,
    trace: f.trace,
    failure: f.failure,
    expected: f.expected,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** `<profile>--<invariant>.json` with anything but letters, digits, `.`, `_`, `+` and `-` replaced by `_`. */
export function counterexampleFileName(profile: string, invariant: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^\.+/, '_');
  return `${clean(profile)}--${clean(invariant)}.json`;
}

/** Writes the file into `dir` (created if missing) and returns its path. */
export function writeCounterexampleFile(dir: string, f: CounterexampleFile): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, counterexampleFileName(f.profile.name, f.invariant));
  writeFileSync(file, encodeCounterexampleFile(f));
  return file;
}

/** One file per violation in `results` (profiles by name from `profiles`); returns the paths written. */
export function saveCounterexamples(results: readonly VerifyResult[], profiles: readonly Profile[], dir: string): string[] {
  const out: string[] = [];
  for (const r of results) {
    const p = profiles.find((x) => x.name === r.profile);
    const f = p ? counterexampleFileOf(p, r) : null;
    if (f !== null) out.push(writeCounterexampleFile(dir, f));
  }
  return out;
}

const FIELDS = ['schemaVersion', 'dmacheckVersion', 'profile', 'invariant', 'harness', 'seed', 'path', 'ops', 'trace', 'failure', 'expected'];

/** Parses and checks a counterexample file's text; `source` names it in error messages. */
export function decodeCounterexampleFile(text: string, source = 'counterexample file'): CounterexampleFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CounterexampleFileError('not-json', `${source}: not valid JSON (${(e as Error).message})`);
  }
  // The version is checked before anything else: a newer file may differ in any other field.
  const sv = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).schemaVersion : undefined;
  if (typeof sv === 'number' && Number.isInteger(sv) && sv > SCHEMA_VERSION) {
    const by = (doc as Record<string, unknown>).dmacheckVersion;
    throw new CounterexampleFileError(
      'newer-schema',
      `${source}: schema version ${sv}${typeof by === 'string' ? ` (dmacheck ${by})` : ''} is newer than this dmacheck reads (${SCHEMA_VERSION}); update dmacheck`,
    );
  }
  try {
    return checkDocument(doc);
  } catch (e) {
    if (e instanceof ShapeError) throw new CounterexampleFileError('invalid', `${source}: ${e.message}`);
    throw e;
  }
}

function checkDocument(doc: unknown): CounterexampleFile {
  const o = object(doc, 'file', FIELDS, ['createdAt', 'replayPath']);
  oneOf(o.schemaVersion, 'schemaVersion', [SCHEMA_VERSION]);
  const profile = decodeProfile(o.profile);
  const hname = str(o.harness, 'harness');
  const h = harness(hname);
  if (h === undefined) throw new ShapeError('harness', `unknown harness "${hname}"`);
  if (!h.appliesTo(profile)) throw new ShapeError('harness', `harness ${hname} does not apply to profile ${profile.name}`);
  const invariant = oneOf(
    o.invariant,
    'invariant',
    h.invariants.map((i) => i.name),
  );
  const expected = oneOf(o.expected, 'expected', ['holds', 'violated'] as const);
  const declared = expectationOf(profile, invariant);
  if (declared !== expected) throw new ShapeError('expected', `says ${expected}, but the recorded profile declares ${declared} for ${invariant}`);
  if (o.replayPath !== undefined && o.replayPath !== null) throw new ShapeError('replayPath', 'must be null (replay uses the ops list)');
  const opsArb = h.ops(profile);
  const ops = array(o.ops, 'ops');
  ops.forEach((op, i) => {
    if (!opsArb.canShrinkWithoutContext(op)) throw new ShapeError(`ops[${i}]`, `not an operation the ${hname} harness generates on this profile: ${JSON.stringify(op).slice(0, 60)}`);
  });
  const steps = ops.length + (h.finalOps?.().length ?? 0);
  const fo = object(o.failure, 'failure', ['step', 'op', 'invariant', 'message']);
  const failure: RecordedFailure = {
    step: int(fo.step, 'failure.step', 0, Math.max(0, steps - 1)),
    op: str(fo.op, 'failure.op'),
    invariant: oneOf(fo.invariant, 'failure.invariant', [invariant, 'kernel-bug']),
    message: str(fo.message, 'failure.message'),
  };
  const f: CounterexampleFile = {
    schemaVersion: SCHEMA_VERSION,
    dmacheckVersion: str(o.dmacheckVersion, 'dmacheckVersion'),
    profile,
    invariant,
    harness: hname,
    seed: int(o.seed, 'seed'),
    path: str(o.path, 'path'),
    replayPath: null,
    ops,
    trace: array(o.trace, 'trace').map((t, i) => str(t, `trace[${i}]`)),
    failure,
    expected,
  };
  if (o.createdAt !== undefined) {
    const c = str(o.createdAt, 'createdAt');
    if (Number.isNaN(Date.parse(c))) throw new ShapeError('createdAt', `not a date: ${JSON.stringify(c)}`);
    f.createdAt = c;
  }
  return f;
}

export function readCounterexampleFile(file: string): CounterexampleFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CounterexampleFileError('unreadable', `${file}: cannot read (${code ?? (e as Error).message})`);
  }
  return decodeCounterexampleFile(text, file);
}
