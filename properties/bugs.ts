// Proof of power: every fault profile and broken profile is run against the
// invariants it declares violated, and the suite must find each one. Detection
// time (until the first failing sequence) is measured apart from shrinking, so
// a slow shrink does not pass for a hard-to-find bug.

import fc from 'fast-check';
import type { Profile } from '../reference/config/profile.ts';
import { FAULTS, isFaultName, type FaultInfo, type FaultName } from '../reference/config/faults.ts';
import { BROKEN_PROFILES, FAULT_PROFILES } from '../reference/config/profiles.ts';
import { runSequence } from '../model/harness.ts';
import { harnessesFor, type AnyHarness } from './catalog.ts';
import { sequenceArb } from './run.ts';
import { minimizeOps } from './minimize.ts';
import { GOLDEN_SCENARIOS } from '../model/scenarios.ts';

/** Where a bug comes from (see FaultInfo in reference/config/faults.ts). */
export type HistoricRef = Pick<FaultInfo, 'historic' | 'analogue' | 'commit' | 'title'>;

export interface BugTarget {
  /** The fault switch, or the broken profile's name. */
  bug: string;
  kind: 'fault' | 'profile';
  profile: Profile;
  invariant: string;
  ref: HistoricRef;
}

export interface BugRow {
  bug: string;
  kind: 'fault' | 'profile';
  profile: string;
  /** The invariant the profile declares violated. */
  invariant: string;
  /**
   * True when a harness broke exactly this invariant, or the machine oopsed at boot (it then breaks
   * everything it was to check). A kernel BUG later in a sequence is not this invariant: found is false.
   */
  found: boolean;
  /** What the failing sequence actually broke ('kernel-bug' when the reference threw), null when nothing failed. */
  caughtBy: string | null;
  harness: string | null;
  /** Operations of the shrunk counterexample up to the violation (final ops included), null when not found. */
  shrunkOps: number | null;
  /** ms from the start until the first failing sequence, over every harness tried; null when not found. */
  detectMs: number | null;
  /** Sequences run until the first failure, over every harness tried. */
  runsToDetect: number | null;
  /** Detection plus shrinking. */
  totalMs: number;
  seed: number;
  path: string | null;
  message: string | null;
  ref: HistoricRef;
  /** Operations of the shortest golden scenario (model/scenarios.ts) that breaks this invariant on this profile; null when none. */
  knownOps: number | null;
}

/** The shortest known scenario for (profile, invariant): the golden litmus scenarios declared violated there. */
export function knownScenarioOps(profile: string, invariant: string): number | null {
  const lens = GOLDEN_SCENARIOS.filter((g) => g.invariant === invariant && g.expect[profile] === 'violated').map((g) => g.ops.length);
  return lens.length === 0 ? null : Math.min(...lens);
}

export interface BugOptions {
  runs: number;
  seed: number;
}

const BROKEN_PROFILE_REF: HistoricRef = { title: 'vendor 5.10 BSP as shipped (seed notes): arch DMA options unset' };

function refOf(f: FaultName): HistoricRef {
  const info: FaultInfo = FAULTS[f];
  const out: HistoricRef = {};
  if (info.historic !== undefined) out.historic = info.historic;
  if (info.analogue !== undefined) out.analogue = info.analogue;
  if (info.commit !== undefined) out.commit = info.commit;
  if (info.title !== undefined) out.title = info.title;
  return out;
}

function violated(p: Profile): string[] {
  return Object.entries(p.expect)
    .filter(([, v]) => v === 'violated')
    .map(([inv]) => inv);
}

/** One target per (fault or broken profile, invariant it declares violated), faults first. */
export function bugTargets(): BugTarget[] {
  const out: BugTarget[] = [];
  for (const p of FAULT_PROFILES) {
    const f = p.faults[0];
    if (p.faults.length !== 1 || !isFaultName(f)) throw new Error(`fault profile ${p.name} does not carry exactly one fault`);
    for (const inv of violated(p)) out.push({ bug: f, kind: 'fault', profile: p, invariant: inv, ref: refOf(f) });
  }
  for (const p of BROKEN_PROFILES) {
    for (const inv of violated(p)) out.push({ bug: p.name, kind: 'profile', profile: p, invariant: inv, ref: p.bugRef ?? BROKEN_PROFILE_REF });
  }
  return out;
}

interface HarnessRun {
  failedAt: number | null;
  runs: number;
  ms: number;
  ops: unknown[] | null;
  seed: number;
  path: string | null;
}

/** One harness, one invariant: fast-check as checkProperty runs it, with the time of the first failure noted. */
function runHarness(h: AnyHarness, profile: Profile, invariant: string, opts: BugOptions): HarnessRun {
  const t0 = performance.now();
  let failedAt: number | null = null;
  const prop = fc.property(sequenceArb(h, profile, h.maxOps ?? 60), (ops) => {
    const ok = runSequence(h, profile, ops, [invariant]) === null;
    if (!ok && failedAt === null) failedAt = performance.now() - t0;
    return ok;
  });
  const d = fc.check(prop, { numRuns: opts.runs, seed: opts.seed });
  const ms = performance.now() - t0;
  if (!d.failed || d.counterexample === null) return { failedAt: null, runs: d.numRuns, ms, ops: null, seed: d.seed, path: null };
  return { failedAt, runs: d.numRuns, ms, ops: d.counterexample[0] as unknown[], seed: d.seed, path: d.counterexamplePath ?? null };
}

/** Tries every harness that checks the invariant on this profile until one finds it broken. */
export function detectBug(t: BugTarget, opts: BugOptions): BugRow {
  const base = {
    bug: t.bug,
    kind: t.kind,
    profile: t.profile.name,
    invariant: t.invariant,
    seed: opts.seed,
    ref: t.ref,
    knownOps: knownScenarioOps(t.profile.name, t.invariant),
  };
  let spentMs = 0;
  let spentRuns = 0;
  for (const h of harnessesFor(t.invariant).filter((x) => x.appliesTo(t.profile))) {
    const r = runHarness(h, t.profile, t.invariant, opts);
    if (r.ops === null || r.failedAt === null) {
      // This harness cannot see the fault within the budget: its whole run counts towards detection time.
      spentMs += r.ms;
      spentRuns += r.runs;
      continue;
    }
    const ops = minimizeOps(h, t.profile, r.ops, [t.invariant], t.invariant);
    const failure = runSequence(h, t.profile, ops, [t.invariant], true);
    if (failure === null) throw new Error(`counterexample for ${t.bug} (${h.name}, ${t.invariant}) does not reproduce`);
    return {
      ...base,
      found: failure.invariant === t.invariant || failure.op === 'boot',
      caughtBy: failure.invariant,
      harness: h.name,
      shrunkOps: failure.trace.length,
      detectMs: spentMs + r.failedAt,
      runsToDetect: spentRuns + r.runs,
      totalMs: spentMs + r.ms,
      path: r.path,
      message: failure.message,
    };
  }
  return {
    ...base,
    found: false,
    caughtBy: null,
    harness: null,
    shrunkOps: null,
    detectMs: null,
    runsToDetect: null,
    totalMs: spentMs,
    path: null,
    message: null,
  };
}

export function runBugs(opts: BugOptions, targets: readonly BugTarget[] = bugTargets(), onRow?: (r: BugRow) => void): BugRow[] {
  return targets.map((t) => {
    const r = detectBug(t, opts);
    onRow?.(r);
    return r;
  });
}

/** A fault (or broken profile) counts as detected when every invariant it declares was found broken. */
export function detectedCount(rows: readonly BugRow[]): { detected: number; total: number; missed: string[] } {
  const byBug = new Map<string, boolean>();
  for (const r of rows) byBug.set(r.bug, (byBug.get(r.bug) ?? true) && r.found);
  const missed = [...byBug].filter(([, ok]) => !ok).map(([b]) => b);
  return { detected: byBug.size - missed.length, total: byBug.size, missed };
}

/** 'F2 8eb8fe67e2c8', '~G4' (analogue), 'model', '- ddbd89deb7d3' (a real bug the catalog does not list). */
export function historicLabel(ref: HistoricRef): string {
  const id = `${ref.analogue === true ? '~' : ''}${ref.historic ?? '-'}`;
  return ref.commit !== undefined ? `${id} ${ref.commit.slice(0, 12)}` : id;
}

/**
 * Why a fault in faults.ts has no target profile yet (found by reading the
 * reference and by probing the harnesses with the fault on, seed 42). A fault
 * that gains a target in profiles.ts simply drops out of the list.
 */
const NO_TARGET_REASON: Partial<Record<FaultName, string>> = {
};

export interface UnreachableFault {
  fault: FaultName;
  fn: string;
  ref: HistoricRef;
  reason: string;
}

/** Faults in faults.ts that no fault profile turns on. */
export function faultsWithoutTarget(): UnreachableFault[] {
  const targeted = new Set(FAULT_PROFILES.flatMap((p) => p.faults));
  return (Object.keys(FAULTS) as FaultName[])
    .filter((f) => !targeted.has(f))
    .map((f) => ({ fault: f, fn: FAULTS[f].fn, ref: refOf(f), reason: NO_TARGET_REASON[f] ?? 'reason not recorded' }));
}

function ms(v: number | null): string {
  return v === null ? '-' : v < 10 ? v.toFixed(1) : String(Math.round(v));
}

/** The table as printed by npm run bugs (no trailing summary line). */
export function formatBugTable(rows: readonly BugRow[]): string[] {
  const name = (r: BugRow) => (r.kind === 'profile' ? `${r.bug} (profile)` : r.bug);
  const w = Math.max(5, ...rows.map((r) => name(r).length));
  const wi = Math.max(9, ...rows.map((r) => r.invariant.length));
  // The harness whose run failed; what failed, when it was not the invariant itself (a kernel BUG).
  const by = (r: BugRow) => (r.harness === null ? '-' : r.caughtBy === r.invariant ? r.harness : `${r.harness} (${r.caughtBy})`);
  const wb = Math.max(9, ...rows.map((r) => by(r).length));
  const out = [`${'fault'.padEnd(w)}  ${'invariant'.padEnd(wi)}  ${'caught by'.padEnd(wb)}  found  ${'ops'.padStart(3)}  known  ${'detect ms'.padStart(9)}  ${'seqs'.padStart(5)}  historic`];
  for (const r of rows) {
    out.push(
      `${name(r).padEnd(w)}  ${r.invariant.padEnd(wi)}  ${by(r).padEnd(wb)}  ${(r.found ? 'yes' : 'NO').padEnd(5)}  ${String(r.shrunkOps ?? '-').padStart(3)}  ${String(r.knownOps ?? '-').padStart(5)}  ${ms(r.detectMs).padStart(9)}  ${String(r.runsToDetect ?? '-').padStart(5)}  ${historicLabel(r.ref)}`,
    );
  }
  return out;
}
