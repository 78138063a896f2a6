// npm run kernel-coverage: which kernel functions and named branches the property
// harnesses reach, against the checklist of every kenter name in reference/ and
// the function headings of the seed notes. Exit 0 after a report, 2 on bad input.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROKEN_PROFILES, CORRECT_PROFILES } from '../reference/config/profiles.ts';
import {
  buildReport,
  collectKernelPaths,
  declaredFunctionsIn,
  kernelFunctionsIn,
  knoteLiteralsIn,
  seedFunctionsIn,
  seedGaps,
  type KernelPathReport,
  type SeedGap,
} from '../properties/kernel-coverage.ts';
import { intOption, parseArgs, UsageError } from './args.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_SEED_DIR = '/work/shared/seed';
const PROFILES = [...CORRECT_PROFILES, ...BROKEN_PROFILES];

const HELP = `usage: npm run kernel-coverage -- [options]

Runs every property harness on every correct and broken built-in profile with a
counting tracer and reports how often each kernel function (kenter) and each
named branch (knote, keyed by the kernel function it is taken in) was reached.
The checklist is every kenter name in reference/**/*.ts; never-reached ones are
listed first. Also lists seed-note headings that name a function with no kenter
counterpart in reference/ (a gap in the model).

options:
  --runs N         sequences per (profile, harness) pair (default 200)
  --seed S         fast-check seed (default 42, so reports compare run to run)
  --profile NAME   only this profile (repeatable): ${PROFILES.map((p) => p.name).join(', ')}
  --json FILE      where to write the report (default coverage/kernel-paths.json)
  --seed-dir DIR   seed notes to check (default ${DEFAULT_SEED_DIR})
  --quiet          print only the summary, never-reached lists and seed gaps
  --help           this text

exit status: 0 report written, 2 bad input`;

function main(argv: string[]): number {
  const { opts, positional } = parseArgs(argv, {
    runs: { value: true },
    seed: { value: true },
    profile: { value: true, repeat: true },
    json: { value: true },
    'seed-dir': { value: true },
    quiet: { value: false },
    help: { value: false },
  });
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}" (see --help)`);
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  const runs = intOption(opts.runs?.[0], 'runs', 1, 1_000_000) ?? 200;
  const seed = intOption(opts.seed?.[0], 'seed', -(2 ** 31), 2 ** 31 - 1) ?? 42;
  const profiles = (opts.profile ?? []).map((n) => {
    const p = PROFILES.find((q) => q.name === n);
    if (!p) throw new UsageError(`unknown profile "${n}" (correct and broken profiles only: see --help)`);
    return p;
  });
  const targets = profiles.length > 0 ? profiles : PROFILES;
  const jsonPath = resolve(opts.json?.[0] ?? resolve(ROOT, 'coverage/kernel-paths.json'));
  const seedDir = opts['seed-dir']?.[0] ?? DEFAULT_SEED_DIR;
  const quiet = opts.quiet !== undefined;

  const checklist = kernelFunctionsIn(resolve(ROOT, 'reference'));
  const notes = knoteLiteralsIn(resolve(ROOT, 'reference'));
  const declared = declaredFunctionsIn(resolve(ROOT, 'reference'));
  let seedNames: string[] | null = null;
  try {
    seedNames = seedFunctionsIn(seedDir);
  } catch (e) {
    if (opts['seed-dir'] !== undefined) throw new UsageError(`cannot read seed notes in ${seedDir}: ${(e as Error).message}`);
  }

  const tty = process.stderr.isTTY === true;
  const t0 = performance.now();
  console.log(`dmacheck kernel-coverage: ${targets.length} profile(s), ${runs} sequences per harness, seed ${seed}`);
  const { tracer, sequences, errors } = collectKernelPaths({
    runs,
    seed,
    profiles: targets,
    onPair: (p, h) => {
      if (tty) process.stderr.write(`${p} / ${h} ...`.padEnd(70) + '\r');
    },
  });
  if (tty) process.stderr.write(' '.repeat(70) + '\r');
  const report = buildReport(
    tracer,
    { checklist: checklist.keys(), notes, kernelNamed: declared.kernel },
    { sequences, runs, seed, profiles: targets.map((p) => p.name) },
  );
  const gaps = seedNames === null ? null : seedGaps(seedNames, checklist.keys(), declared.all);

  printReport(report, checklist, gaps, quiet);
  if (errors.length > 0) {
    console.log(`\nsequences cut short by a kernel BUG or an exception (${errors.length} profile/harness pairs; paths after that point went unrun):`);
    for (const e of errors) console.log(`  ${e.profile} / ${e.harness}: ${e.count} sequence(s): ${e.first}`);
  }
  console.log(`\n${sequences} sequences in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  try {
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(jsonPath, JSON.stringify({ ...report, seedGaps: gaps ?? [], errors }, null, 2) + '\n');
  } catch (e) {
    throw new UsageError(`cannot write ${jsonPath}: ${(e as Error).message}`);
  }
  console.log(`wrote ${jsonPath}`);
  return 0;
}

function printReport(r: KernelPathReport, checklist: Map<string, string[]>, gaps: SeedGap[] | null, quiet: boolean): void {
  const names = Object.keys(r.functions);
  const reached = names.length - r.neverReached.length;
  const w = Math.max(...names.map((n) => n.length), 8);
  const where = (n: string) => (checklist.get(n) ?? ['(not in the static checklist: dynamic kenter name)']).join(', ');
  console.log(`\nkernel functions reached: ${reached}/${names.length}; named branches taken: ${Object.keys(r.branches).length}`);

  console.log(`\nnever reached (${r.neverReached.length}):`);
  if (r.neverReached.length === 0) console.log('  (none)');
  for (const n of r.neverReached) console.log(`  ${n.padEnd(w)}  ${where(n)}`);

  if (!quiet) {
    console.log(`\n${'function'.padEnd(w)}  ${'calls'.padStart(10)}  file`);
    const byCount = names.filter((n) => r.functions[n] > 0).sort((a, b) => r.functions[a] - r.functions[b] || a.localeCompare(b));
    for (const n of byCount) console.log(`${n.padEnd(w)}  ${String(r.functions[n]).padStart(10)}  ${where(n)}`);
    const keys = Object.keys(r.branches).sort((a, b) => r.branches[a] - r.branches[b] || a.localeCompare(b));
    console.log(`\n${'calls'.padStart(10)}  named branch (function: note)`);
    for (const k of keys) console.log(`${String(r.branches[k]).padStart(10)}  ${k}`);
  }

  console.log(`\nnamed branches (constant knote texts) never taken (${r.branchesNeverTaken.length}):`);
  if (r.branchesNeverTaken.length === 0) console.log('  (none)');
  for (const b of r.branchesNeverTaken) console.log(`  ${b}`);

  console.log(`\nkernel functions (by header comment) without kenter, so never counted (${r.untraced.length}):`);
  if (r.untraced.length === 0) console.log('  (none)');
  for (const u of r.untraced) console.log(`  ${u}`);

  if (gaps === null) {
    console.log('\nseed notes: not found, seed gaps not checked (see --seed-dir)');
    return;
  }
  console.log(`\nseed-note functions with no kenter counterpart in reference/ (${gaps.length}):`);
  if (gaps.length === 0) console.log('  (none)');
  for (const g of gaps) {
    const what = g.status === 'untraced' ? 'modelled, no kenter' : 'NOT MODELLED';
    console.log(`  ${g.name.padEnd(28)}  ${what}${g.nearest !== undefined ? ` (nearest kenter name: ${g.nearest})` : ''}`);
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`kernel-coverage: ${e.message}`);
    process.exitCode = 2;
  } else throw e;
}
