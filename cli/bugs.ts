// npm run bugs: proof of power. Every fault profile and broken profile against
// the invariants it declares violated, as a table with detection time, shrunk
// counterexample length and the historic kernel bug each fault stands for.
// Exit 0 when every fault is found, 1 when one goes undetected, 2 on bad input.

import { writeFileSync } from 'node:fs';
import { isFaultName } from '../reference/config/faults.ts';
import { BROKEN_PROFILES } from '../reference/config/profiles.ts';
import { bugTargets, detectedCount, faultsWithoutTarget, formatBugTable, historicLabel, runBugs } from '../properties/bugs.ts';
import { intOption, parseArgs, UsageError } from './args.ts';

const HELP = `usage: npm run bugs -- [options]

Runs every fault profile and broken profile against the invariants it declares
violated and prints: fault, invariant, harness that found it, found (yes/no),
shrunk counterexample length (operations), time until the first failing
sequence (ms, before shrinking), sequences until then, the shortest known
scenario (golden litmus scenarios in model/scenarios.ts, "-" when none) and the historic bug
(historic-bugs.md id, "~" = analogue, "model" = made up for the model; then the
fix commit). Then the faults in reference/config/faults.ts that no profile
reaches yet, with the reason.

options:
  --runs N      sequences per property at most (default 3000; stops at the first failure)
  --seed S      fast-check seed (default 42, the seed of the detection tests)
  --fault NAME  only this fault or broken profile (repeatable)
  --json FILE   also write the rows as JSON
  --help        this text

exit status: 0 every fault detected, 1 some fault undetected (a catalog fault no
profile reaches counts as undetected), 2 bad input`;

function main(argv: string[]): number {
  const { opts, positional } = parseArgs(argv, {
    runs: { value: true },
    seed: { value: true },
    fault: { value: true, repeat: true },
    json: { value: true },
    help: { value: false },
  });
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}" (see --help)`);
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  const runs = intOption(opts.runs?.[0], 'runs', 1, 10_000_000) ?? 3000;
  const seed = intOption(opts.seed?.[0], 'seed', -(2 ** 31), 2 ** 32 - 1) ?? 42;
  let targets = bugTargets();
  for (const f of opts.fault ?? []) {
    if (!targets.some((t) => t.bug === f)) {
      const why = isFaultName(f) ? 'has no target profile yet' : BROKEN_PROFILES.some((p) => p.name === f) ? 'declares nothing violated' : 'is not a fault or broken profile';
      throw new UsageError(`"${f}" ${why}`);
    }
  }
  if (opts.fault) targets = targets.filter((t) => opts.fault!.includes(t.bug));

  const tty = process.stderr.isTTY === true;
  console.log(`dmacheck bugs: ${targets.length} (fault, invariant) target(s), up to ${runs} sequences each, seed ${seed}\n`);
  const rows = runBugs({ runs, seed }, targets, (r) => {
    if (tty) process.stderr.write(`${r.bug} / ${r.invariant}: ${r.found ? 'found' : 'NOT found'}`.padEnd(78) + '\r');
  });
  if (tty) process.stderr.write(' '.repeat(78) + '\r');
  for (const line of formatBugTable(rows)) console.log(line);

  const unreachable = opts.fault ? [] : faultsWithoutTarget();
  if (unreachable.length > 0) {
    console.log(`\nfaults with no target profile yet (${unreachable.length}):`);
    for (const u of unreachable) console.log(`  ${u.fault} [${historicLabel(u.ref)}] ${u.fn}: ${u.reason}`);
  }
  // A catalog fault that no profile reaches is not detected: it counts against the total.
  const counted = detectedCount(rows);
  const detected = counted.detected;
  const total = counted.total + unreachable.length;
  const missed = [...counted.missed, ...unreachable.map((u) => u.fault)];
  if (missed.length > 0) console.log(`\nundetected: ${missed.join(', ')}`);
  if (opts.json) {
    const json = { date: new Date().toISOString(), seed, runs, detected, total, rows, noTarget: unreachable };
    try {
      writeFileSync(opts.json[0], JSON.stringify(json, null, 2) + '\n');
    } catch (e) {
      throw new UsageError(`cannot write ${opts.json[0]}: ${(e as Error).message}`);
    }
  }
  console.log(`\nfaults detected: ${detected}/${total}`);
  return missed.length === 0 ? 0 : 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`bugs: ${e.message}`);
    process.exitCode = 2;
  } else throw e;
}
