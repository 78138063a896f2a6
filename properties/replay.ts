// Re-executes a saved counterexample step by step with a kernel Tracer
// installed, recording per operation what runSequence does not keep: the kernel
// call path, the cache lines and memory it touched, and the cache state changes.
// The steps mirror runSequence (model/harness.ts) exactly: same setup, same
// final operations, the same invariant checks after each one, so the verdict
// is the one verify would reach.

import type { Machine } from '../reference/system.ts';
import { C920Caches, type CacheLevel, type LineStateName } from '../reference/hw/c920-cache.ts';
import { Tracer, setTracer, type TraceEvent } from '../reference/trace.ts';
import { findProfile } from '../reference/config/profiles.ts';
import { harness, type AnyHarness } from './catalog.ts';
import type { CounterexampleFile, RecordedFailure } from './counterexample-file.ts';
import { encodeProfile } from './profile-json.ts';
import { hexBytes, observe, type LineAccess, type Observer } from './replay-observe.ts';

export interface LineChange {
  line: number;
  level: CacheLevel;
  /** Hart for L1, cluster for L2. */
  where: number;
  from: LineStateName;
  to: LineStateName;
}

export interface ReplayStep {
  /** Index over ops followed by the harness's final operations (as failure.step counts). */
  step: number;
  final: boolean;
  op: unknown;
  /** The operation as it resolved (the harness's `explain` line). */
  text: string;
  /** Who acted: "hart2", "device", "kernel on hart0", "hw on hart1", or "" without a machine. */
  actor: string;
  /** Kernel functions entered (depth from the operation) and branch notes (fn "#"). */
  calls: TraceEvent[];
  accesses: LineAccess[];
  changes: LineChange[];
  /** Every line accessed or changed, with its state afterwards (bytes from `focus`, where this step touched it). */
  touched: { line: number; focus: number; after: LineSnap }[];
  /** Set on the step where an invariant broke or the kernel oopsed. */
  violation: RecordedFailure | null;
}

/** One watched line after a step: state per hart L1 / cluster L2 with 4 bytes at `focus`, and memory there. */
export interface LineSnap {
  l1: { state: LineStateName; bytes: string }[];
  l2: { state: LineStateName; bytes: string }[];
  mem: string;
}

export interface Timeline {
  lines: number[];
  /** Byte offset inside each line the bytes are shown from. */
  focus: number[];
  /** How many other lines had the same history as each (drawn once). */
  alike: number[];
  /** snaps[0] before the first operation, snaps[k + 1] after step k; snaps[s][i] is lines[i]. */
  snaps: LineSnap[][];
}

export interface ReplayResult {
  harness: string;
  hasMachine: boolean;
  harts: number;
  clusters: number;
  kernelHart: number;
  steps: ReplayStep[];
  /** The first violation, as runSequence reports it; null when every invariant held. */
  failure: RecordedFailure | null;
  /** Same step and same invariant as recorded. */
  reproduced: boolean;
  /** Same message as recorded too (addresses included: the replay is deterministic). */
  sameMessage: boolean;
  /** A built-in profile of the same name exists and differs from the recorded one. */
  profileDrift: boolean;
  timeline?: Timeline;
  /** Kernel calls made while the harness set the machine up. */
  bootCalls: TraceEvent[];
  /** The machine did not boot: the setup oopsed (failure is then step 0, op "boot"). */
  bootFailed: boolean;
}

export interface ReplayOptions {
  /** Lines to snapshot after every step (for the HTML timeline). */
  watch?: readonly number[];
  /** Byte offset to show per watched line. */
  focus?: readonly number[];
  alike?: readonly number[];
}

function machineOf(state: unknown): Machine | null {
  const m = (state as { m?: unknown } | null)?.m as Machine | undefined;
  return m !== undefined && m.caches instanceof C920Caches ? m : null;
}

function cacheSnapshot(c: C920Caches): Map<string, LineStateName> {
  const out = new Map<string, LineStateName>();
  for (const x of c.cachedLines()) out.set(`${x.level}:${x.where}:${x.line}`, x.state);
  return out;
}

function diff(before: Map<string, LineStateName>, after: Map<string, LineStateName>): LineChange[] {
  const out: LineChange[] = [];
  const keys = new Set([...before.keys(), ...after.keys()]);
  for (const k of keys) {
    const from = before.get(k) ?? 'I';
    const to = after.get(k) ?? 'I';
    if (from === to) continue;
    const [level, where, line] = k.split(':');
    out.push({ line: Number(line), level: level as CacheLevel, where: Number(where), from, to });
  }
  return out.sort((a, b) => a.line - b.line || a.level.localeCompare(b.level) || a.where - b.where);
}

function actorOf(op: unknown, m: Machine | null): string {
  if (m === null) return '';
  const o = op as { k?: unknown; hart?: unknown };
  const k = typeof o.k === 'string' ? o.k : '';
  if (k === 'spec_fill' || k === 'evict') return `hw on hart${String(o.hart)}`;
  if (typeof o.hart === 'number') return `hart${o.hart}`;
  if (k.startsWith('dev_')) return 'device';
  return `kernel on hart${m.kernelHart}`;
}

function snapLine(m: Machine, line: number, focus: number): LineSnap {
  const c = m.caches;
  const copy = (level: CacheLevel, where: number) => {
    const b = c.lineBytes(where, level, line);
    return { state: c.lineState(where, level, line), bytes: b === null ? '' : hexBytes(b, focus) };
  };
  const l1 = [];
  for (let h = 0; h < c.harts; h++) l1.push(copy('L1', h));
  const l2 = [];
  if (c.hasL2) for (let k = 0; k < c.geometry.clusters; k++) l2.push(copy('L2', k));
  return { l1, l2, mem: hexBytes(m.mem.readLine(line), focus) };
}

function sameProfile(f: CounterexampleFile): boolean {
  const builtin = findProfile(f.profile.name);
  return builtin === undefined || JSON.stringify(encodeProfile(builtin)) === JSON.stringify(encodeProfile(f.profile));
}

/** Replays `f` on its recorded profile. Throws only for a file whose harness is unknown (the reader rejects those). */
export function replayCounterexample(f: CounterexampleFile, opts: ReplayOptions = {}): ReplayResult {
  const h: AnyHarness | undefined = harness(f.harness);
  if (h === undefined) throw new Error(`unknown harness ${f.harness}`);
  const invs = h.invariants.filter((i) => i.name === f.invariant);
  const tracer = new Tracer();
  let state: unknown;
  setTracer(tracer);
  try {
    state = h.setup(f.profile);
  } catch (e) {
    // As runSequence: a machine that oopses at boot violates everything it was to check.
    const msg = e instanceof Error ? e.message : String(e);
    const failure: RecordedFailure = { step: 0, op: 'boot', invariant: 'kernel-bug', message: `boot: ${msg}` };
    const reproduced = f.failure.op === 'boot' && f.failure.invariant === 'kernel-bug';
    return {
      harness: h.name,
      hasMachine: false,
      harts: 0,
      clusters: 0,
      kernelHart: 0,
      steps: [],
      failure,
      reproduced,
      sameMessage: reproduced && f.failure.message === failure.message,
      profileDrift: !sameProfile(f),
      bootCalls: [...tracer.events],
      bootFailed: true,
    };
  } finally {
    setTracer(null);
  }
  const bootCalls = [...tracer.events];
  const m = machineOf(state);
  const all = h.finalOps ? [...f.ops, ...h.finalOps()] : [...f.ops];
  const steps: ReplayStep[] = [];
  const watch = opts.watch ?? [];
  const timeline: Timeline | undefined =
    m !== null && watch.length > 0 ? { lines: [...watch], focus: watch.map((_, i) => opts.focus?.[i] ?? 0), alike: watch.map((_, i) => opts.alike?.[i] ?? 0), snaps: [] } : undefined;
  const obs: Observer | null = m !== null ? observe(m) : null;
  const snapAll = () => {
    if (timeline === undefined || m === null || obs === null) return;
    obs.paused = true;
    timeline.snaps.push(timeline.lines.map((l, i) => snapLine(m, l, timeline.focus[i])));
    obs.paused = false;
  };
  let failure: RecordedFailure | null = null;
  try {
    snapAll();
    for (let step = 0; step < all.length && failure === null; step++) {
      const op = all[step];
      const before = m !== null ? cacheSnapshot(m.caches) : null;
      if (obs !== null) {
        obs.accesses = [];
        const k = (op as { k?: unknown }).k;
        obs.deviceOp = typeof k === 'string' && k.startsWith('dev_');
      }
      tracer.clear();
      setTracer(tracer);
      let text: string;
      try {
        const line = h.apply(state, op, true) as string | void;
        text = line ?? h.describe(op);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        text = `${h.describe(op)}  -> ${msg}`;
        failure = { step, op: h.describe(op), invariant: 'kernel-bug', message: msg };
      } finally {
        setTracer(null);
      }
      if (failure === null) {
        for (const inv of invs) {
          const msg = inv.check(state);
          if (msg !== null) {
            failure = { step, op: h.describe(op), invariant: inv.name, message: msg };
            break;
          }
        }
      }
      const changes = before !== null && m !== null ? diff(before, cacheSnapshot(m.caches)) : [];
      const touched: ReplayStep['touched'] = [];
      if (m !== null && obs !== null) {
        const focus = new Map<number, number>();
        for (const a of obs.accesses) if (!focus.has(a.line) || (a.by !== 'cache' && focus.get(a.line) === -1)) focus.set(a.line, a.by === 'cache' ? -1 : a.off);
        for (const c of changes) if (!focus.has(c.line)) focus.set(c.line, -1);
        obs.paused = true;
        for (const l of [...focus.keys()].sort((a, b) => a - b)) {
          const off = Math.max(0, focus.get(l)!);
          touched.push({ line: l, focus: off, after: snapLine(m, l, off) });
        }
        obs.paused = false;
      }
      steps.push({
        step,
        final: step >= f.ops.length,
        op,
        text,
        actor: actorOf(op, m),
        calls: [...tracer.events],
        accesses: obs?.accesses ?? [],
        changes,
        touched,
        violation: failure,
      });
      snapAll();
    }
  } finally {
    setTracer(null);
    obs?.detach();
  }
  const rec = f.failure;
  const reproduced = failure !== null && rec.op !== 'boot' && failure.step === rec.step && failure.invariant === rec.invariant;
  return {
    harness: h.name,
    hasMachine: m !== null,
    harts: m?.caches.harts ?? 0,
    clusters: m !== null && m.caches.hasL2 ? m.caches.geometry.clusters : 0,
    kernelHart: m?.kernelHart ?? 0,
    steps,
    failure,
    reproduced,
    sameMessage: reproduced && failure !== null && failure.message === rec.message,
    profileDrift: !sameProfile(f),
    bootCalls,
    bootFailed: false,
    ...(timeline !== undefined ? { timeline } : {}),
  };
}

/**
 * The lines worth drawing, most telling first: those the failing step touched,
 * then those with most state changes and accesses. Lines with the same history
 * (a buffer zeroed line by line) are drawn once: `alike` counts the others.
 * `focus` is the byte offset to show for each line.
 */
export function linesOfInterest(r: ReplayResult, max = 8): { lines: number[]; focus: number[]; alike: number[] } {
  const score = new Map<number, number>();
  const focus = new Map<number, number>();
  const story = new Map<number, string[]>();
  const bump = (line: number, s: number, what: string) => {
    score.set(line, (score.get(line) ?? 0) + s);
    const st = story.get(line) ?? [];
    st.push(what);
    story.set(line, st);
  };
  for (const st of r.steps) {
    const failing = st.violation !== null;
    for (const a of st.accesses) {
      bump(a.line, failing ? 1000 : a.by === 'cache' ? 1 : 3, `${st.step}:${a.kind}:${a.by}`);
      if (a.by !== 'cache' && (failing || !focus.has(a.line))) focus.set(a.line, a.off);
    }
    for (const c of st.changes) bump(c.line, failing ? 1000 : 2, `${st.step}:${c.level}${c.where}:${c.from}${c.to}`);
  }
  const reps = new Map<string, { line: number; score: number; n: number }>();
  for (const [line, sc] of score) {
    const key = [...new Set(story.get(line))].join(',');
    const rep = reps.get(key);
    if (rep === undefined) reps.set(key, { line, score: sc, n: 1 });
    else {
      rep.n++;
      if (line < rep.line) rep.line = line;
    }
  }
  const chosen = [...reps.values()]
    .sort((a, b) => b.score - a.score || a.line - b.line)
    .slice(0, max)
    .sort((a, b) => a.line - b.line);
  return { lines: chosen.map((c) => c.line), focus: chosen.map((c) => focus.get(c.line) ?? 0), alike: chosen.map((c) => c.n - 1) };
}
