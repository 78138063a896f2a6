// npm run verify: every invariant on every built-in profile, as a table or JSON.
// Exit 0 when every verdict matches what its profile declares, 1 otherwise, 2 on bad input.

import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Profile } from '../reference/config/profile.ts';
import { BUILTIN_PROFILES, findProfile } from '../reference/config/profiles.ts';
import { INVARIANTS } from '../properties/catalog.ts';
import { verifyProfile, type VerifyResult } from '../properties/verify.ts';
import { parseArgs, intOption, UsageError } from './args.ts';
import { loadUserProfile } from './user-input.ts';
import { saveCounterexamples } from '../properties/counterexample-file.ts';

const HELP = `usage: npm run verify -- [options]

Runs every invariant on every built-in profile and prints profile x invariant
verdicts: "holds (N sequences)" or "VIOLATED" with the shrunk counterexample.

options:
  --profile NAME     only this profile (repeatable); names: --list
  --invariant NAME   only this invariant (repeatable): ${INVARIANTS.join(', ')}
  --runs N           sequences per property (default 1000)
  --seed S           fast-check seed (default: random, printed)
  --path P           replay one counterexample path (needs one --profile and one --invariant)
  --config FILE      your kernel's .config (see "your own machine" below)
  --dtb FILE         your board's device tree blob (dtc -I dts -O dtb -o board.dtb board.dts)
  --cmdline "ARGS"   the command line your bootloader passes (coherent_pool=, cma=); replaces /chosen/bootargs
  --kernel 5.10|6.6  kernel version (default: from the .config header, else 6.6)
  --json FILE        also write the results as JSON
  --save-dir DIR     where each violation is saved for npm run replay (default counterexamples)
  --no-save          do not save violations
  --workers N        check profiles on N worker threads (default 1)
  --shard I/N        check only every N-th profile starting at the I-th (1-based), so N CI jobs cover the matrix together
  --list             list the built-in profiles and exit
  --help             this text

your own machine: any of --config, --dtb, --cmdline, --kernel builds a profile
named user:… from your files and runs every invariant on it (expected: all
hold); the built-in profiles run only if named with --profile. What your files
do not give (memory, devices, harts, Kconfig, ...) comes from the SG2042
defaults (c920-sg2042-6.6 or c920-sg2042-5.10-fixed) and is printed as
"fallback: ..." lines. Unreadable or malformed files exit 2.

exit status: 0 every verdict as the profile declares, 1 otherwise, 2 bad input`;

async function main(argv: string[]): Promise<number> {
  const { opts, positional } = parseArgs(argv, {
    profile: { value: true, repeat: true },
    invariant: { value: true, repeat: true },
    runs: { value: true },
    seed: { value: true },
    path: { value: true },
    json: { value: true },
    'save-dir': { value: true },
    'no-save': { value: false },
    config: { value: true },
    dtb: { value: true },
    cmdline: { value: true },
    kernel: { value: true },
    workers: { value: true },
    shard: { value: true },
    list: { value: false },
    help: { value: false },
  });
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}" (see --help)`);
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  if (opts.list) {
    for (const p of BUILTIN_PROFILES) console.log(`${p.name.padEnd(48)} ${p.description}`);
    return 0;
  }
  const profiles = (opts.profile ?? []).map((n) => {
    const p = findProfile(n);
    if (!p) throw new UsageError(`unknown profile "${n}" (see --list)`);
    return p;
  });
  for (const inv of opts.invariant ?? []) if (!INVARIANTS.includes(inv)) throw new UsageError(`unknown invariant "${inv}"`);
  const runs = intOption(opts.runs?.[0], 'runs', 1, 10_000_000) ?? 1000;
  const seed = intOption(opts.seed?.[0], 'seed', -(2 ** 31), 2 ** 32 - 1) ?? (Date.now() ^ 0x5eed) | 0;
  const path = opts.path?.[0];
  const user = loadUserProfile(opts);
  if (path !== undefined && (profiles.length + (user ? 1 : 0) !== 1 || (opts.invariant ?? []).length !== 1)) {
    throw new UsageError('--path needs exactly one profile (--profile, or your files) and one --invariant');
  }
  if (user) {
    console.log(`your machine: ${user.profile.description}`);
    for (const f of user.fallbacks) console.log(`fallback: ${f}`);
    for (const n of user.notes) console.log(`note: ${n}`);
  }
  const all = user ? [user.profile, ...profiles] : profiles.length > 0 ? profiles : BUILTIN_PROFILES;
  const shard = parseShard(opts.shard?.[0]);
  const targets = shard ? all.filter((_, k) => k % shard.n === shard.i - 1) : all;
  const workers = Math.min(intOption(opts.workers?.[0], 'workers', 1, 64) ?? 1, Math.max(1, targets.length));
  if (path !== undefined && workers > 1) throw new UsageError('--path replays one case: use it without --workers');
  const tty = process.stderr.isTTY === true;
  console.log(
    `dmacheck verify: ${targets.length} profile(s)${shard ? ` (shard ${shard.i}/${shard.n} of ${all.length})` : ''}, ${runs} sequences per property, seed ${seed}${workers > 1 ? `, ${workers} workers` : ''}`,
  );
  const vopts = {
    runs,
    seed,
    ...(opts.invariant ? { invariants: opts.invariant } : {}),
    ...(path !== undefined ? { path } : {}),
  };
  const t0 = performance.now();
  let done = 0;
  const progress = (name: string) => {
    if (!tty) return;
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(`checked ${done}/${targets.length} profiles (${name}), ${s.toFixed(0)} s   \r`);
  };
  const byProfile = new Map<string, VerifyResult[]>();
  if (workers <= 1) {
    for (const p of targets) {
      if (tty) process.stderr.write(`checking ${p.name} (${done + 1}/${targets.length}) ...   \r`);
      byProfile.set(p.name, verifyProfile(p, vopts));
      done++;
      progress(p.name);
    }
  } else {
    await runWorkers(targets, workers, vopts, (name, rs) => {
      byProfile.set(name, rs);
      done++;
      progress(name);
    });
  }
  // Results in profile order, whichever worker finished first.
  const results: VerifyResult[] = targets.flatMap((p) => byProfile.get(p.name) ?? []);
  if (tty) process.stderr.write(' '.repeat(60) + '\r');
  printTable(results, seed, user ? { name: user.profile.name, args: user.args } : undefined);
  if (!opts['no-save']) {
    const dir = opts['save-dir']?.[0] ?? 'counterexamples';
    try {
      for (const f of saveCounterexamples(results, targets, dir)) console.log(`saved ${f}  (npm run replay -- ${f})`);
    } catch (e) {
      throw new UsageError(`cannot save counterexamples in ${dir}: ${(e as Error).message}`);
    }
  }
  if (opts.json) {
    const json = {
      seed,
      results: results.map((r) => ({
        profile: r.profile,
        invariant: r.invariant,
        verdict: r.verdict,
        expected: r.expected,
        runs: r.runs,
        ...(r.counterexample
          ? {
              counterexample: {
                harness: r.counterexample.harness,
                seed: r.counterexample.seed,
                path: r.counterexample.path,
                ops: r.counterexample.ops,
                trace: r.counterexample.trace,
                failure: r.counterexample.failure,
              },
            }
          : {}),
      })),
    };
    try {
      writeFileSync(opts.json[0], JSON.stringify(json, null, 2) + '\n');
    } catch (e) {
      throw new UsageError(`cannot write ${opts.json[0]}: ${(e as Error).message}`);
    }
  }
  const bad = results.filter((r) => r.verdict !== r.expected);
  console.log(`\n${results.length - bad.length}/${results.length} verdicts as declared`);
  return bad.length === 0 ? 0 : 1;
}

function parseShard(v: string | undefined): { i: number; n: number } | null {
  if (v === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--shard must look like I/N (e.g. 1/4), got "${v}"`);
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || i < 1 || i > n) throw new UsageError(`--shard ${v}: need 1 <= I <= N`);
  return { i, n };
}

/** Spreads profiles round-robin over worker threads and resolves when every profile has reported. */
function runWorkers(
  targets: readonly Profile[],
  n: number,
  vopts: Parameters<typeof verifyProfile>[1],
  onProfile: (name: string, rs: VerifyResult[]) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = targets.length;
    for (let w = 0; w < n; w++) {
      const mine = targets.filter((_, k) => k % n === w);
      if (mine.length === 0) continue;
      // The worker is TypeScript too: its bootstrap registers tsx's loader first (threads do not inherit it).
      const worker = new Worker(new URL('./verify-worker-boot.mjs', import.meta.url), { workerData: { profiles: mine, opts: vopts } });
      worker.on('message', (msg: { profile: string; results: VerifyResult[] }) => {
        onProfile(msg.profile, msg.results);
        if (--pending === 0) resolve();
      });
      worker.on('error', reject);
    }
  });
}

function printTable(results: VerifyResult[], seed: number, user?: { name: string; args: string }): void {
  const w = Math.max(...results.map((r) => r.profile.length), 7);
  console.log(`\n${'profile'.padEnd(w)}  ${'invariant'.padEnd(16)}  verdict`);
  for (const r of results) {
    const v = r.verdict === 'holds' ? `holds (${r.runs} sequences)` : 'VIOLATED';
    const mark = r.verdict === r.expected ? '' : `   <-- expected ${r.expected}`;
    console.log(`${r.profile.padEnd(w)}  ${r.invariant.padEnd(16)}  ${v}${mark}`);
  }
  for (const r of results) {
    const c = r.counterexample;
    if (!c) continue;
    console.log(`\n${r.profile} / ${r.invariant}: VIOLATED (${r.expected === 'violated' ? 'expected' : 'NOT expected'})`);
    console.log(`  ${c.failure.invariant === 'kernel-bug' ? 'kernel BUG' : 'broken'} after step ${c.failure.step + 1}: ${c.failure.message}`);
    console.log(`  shrunk counterexample (${c.trace.length} operations, ${c.shrinks} shrinks, harness ${c.harness}):`);
    c.trace.forEach((t, i) => console.log(`    ${String(i + 1).padStart(2)}. ${t}`));
    const which = r.profile === user?.name ? user.args : `--profile ${r.profile}`;
    console.log(`  replay: npm run verify -- ${which} --invariant ${r.invariant} --seed ${seed} --path "${c.path}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`verify: ${e.message}`);
      process.exitCode = 2;
    } else throw e;
  },
);
