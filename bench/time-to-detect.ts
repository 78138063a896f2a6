// Time to detect: each catalog fault at default settings (3000 sequences at
// most, default sequence length) over BENCH_SEEDS seeds (default 20): median
// and worst time until the first failing sequence, detections out of the
// seeds, median shrunk counterexample length. Part of npm run bench; also runs
// alone (npx tsx bench/time-to-detect.ts). Timings are measurements, never assertions.

import { pathToFileURL } from 'node:url';
import { bugTargets, detectBug, historicLabel, knownScenarioOps, type BugRow } from '../properties/bugs.ts';

export interface TimeToDetectRow {
  fault: string;
  invariant: string;
  profile: string;
  historic: string;
  seeds: number;
  detections: number;
  /** Over the seeds that found the fault; null when none did. */
  medianMs: number | null;
  worstMs: number | null;
  medianOps: number | null;
  medianSeqs: number | null;
  /** Operations of the shortest golden scenario for this (profile, invariant), null when none. */
  knownOps: number | null;
  /** Harnesses whose runs found it (usually one). */
  harnesses: string[];
}

export function seedsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.BENCH_SEEDS;
  if (v === undefined || v === '') return 20;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_SEEDS must be a positive integer, got "${v}"`);
  return n;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Seeds 1..n: fixed, so a rerun measures the same sequences. */
export function timeToDetect(seeds: number, runs = 3000, onRow?: (r: TimeToDetectRow) => void): TimeToDetectRow[] {
  const out: TimeToDetectRow[] = [];
  // Faults and broken profiles alike: a catalogued bug may ship in a kernel (D2 on 5.10, B8 on 6.6) rather than be switched on.
  for (const t of bugTargets()) {
    const found: BugRow[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const r = detectBug(t, { runs, seed });
      if (r.found) found.push(r);
    }
    const row: TimeToDetectRow = {
      fault: t.kind === 'profile' ? `${t.bug} (profile)` : t.bug,
      invariant: t.invariant,
      profile: t.profile.name,
      historic: historicLabel(t.ref),
      seeds,
      detections: found.length,
      medianMs: median(found.map((r) => r.detectMs!)),
      worstMs: found.length === 0 ? null : Math.max(...found.map((r) => r.detectMs!)),
      medianOps: median(found.map((r) => r.shrunkOps!)),
      medianSeqs: median(found.map((r) => r.runsToDetect!)),
      knownOps: knownScenarioOps(t.profile.name, t.invariant),
      harnesses: [...new Set(found.map((r) => r.harness!))],
    };
    onRow?.(row);
    out.push(row);
  }
  return out;
}

/** Milliseconds: one decimal below 10. */
function msText(v: number | null): string {
  if (v === null) return '-';
  return v < 10 ? v.toFixed(1) : String(Math.round(v));
}

/** Counts: a median of an even number of seeds may end in .5. */
function countText(v: number | null): string {
  if (v === null) return '-';
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export function formatTimeToDetect(rows: readonly TimeToDetectRow[]): string[] {
  const w = Math.max(5, ...rows.map((r) => r.fault.length));
  const wi = Math.max(9, ...rows.map((r) => r.invariant.length));
  const out = [`${'fault'.padEnd(w)}  ${'invariant'.padEnd(wi)}  found  median ms  worst ms  median seqs  median ops  known  historic`];
  for (const r of rows) {
    out.push(
      `${r.fault.padEnd(w)}  ${r.invariant.padEnd(wi)}  ${`${r.detections}/${r.seeds}`.padStart(5)}  ${msText(r.medianMs).padStart(9)}  ${msText(r.worstMs).padStart(8)}  ${countText(r.medianSeqs).padStart(11)}  ${countText(r.medianOps).padStart(10)}  ${countText(r.knownOps).padStart(5)}  ${r.historic}`,
    );
  }
  return out;
}

/** Prints the table; returns the rows for bench/results.json. */
export function runTimeToDetect(seeds = seedsFromEnv()): TimeToDetectRow[] {
  console.log(`\ntime to detect: every fault and broken profile, ${seeds} seeds (1..${seeds}), up to 3000 sequences each`);
  console.log('(ms until the first failing sequence, before shrinking; over the seeds that found it)');
  const tty = process.stderr.isTTY === true;
  const rows = timeToDetect(seeds, 3000, (r) => {
    if (tty) process.stderr.write(`${r.fault} / ${r.invariant}`.padEnd(78) + '\r');
  });
  if (tty) process.stderr.write(' '.repeat(78) + '\r');
  for (const line of formatTimeToDetect(rows)) console.log(line);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) runTimeToDetect();
