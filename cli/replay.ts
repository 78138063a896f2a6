// npm run replay -- FILE [--html OUT.html]: re-executes a saved counterexample
// on its recorded profile with the kernel tracer on and prints what each
// operation did. Exit 0 when the recorded verdict is reproduced, 1 when it is
// not, 2 on bad input (one line).

import { writeFileSync } from 'node:fs';
import { parseArgs, intOption, UsageError } from './args.ts';
import { CounterexampleFileError, readCounterexampleFile } from '../properties/counterexample-file.ts';
import { linesOfInterest, replayCounterexample, type ReplayResult } from '../properties/replay.ts';
import { renderReplayText, renderVerdict } from './replay-text.ts';
import { renderReplayHtml } from './replay-html.ts';

const HELP = `usage: npm run replay -- FILE [options]

Re-executes the operations saved in FILE (written by npm run verify into
counterexamples/) on the profile recorded in it, with the kernel tracer on, and
prints per operation: the operation as it resolved, the kernel call path it took
(indented by depth; "a → b" when a only calls b; "· note" for a branch taken),
and the cache lines it touched (L1 per hart h0.., L2 per cluster c0.., states
I/C/D, a few bytes from the touched offset, memory). Ends with the broken
invariant and whether the recorded verdict was reproduced.

options:
  --html OUT.html   also write a self-contained timeline page (open it in a browser)
  --lines N         cache lines drawn in the timeline (default 8)
  --calls N|all     call-path lines per operation (default 40; 0 hides them)
  --boot            also print the kernel calls made while the machine was set up
                    (printed anyway, the last of them, when the machine oopses at boot)
  --quiet           print the verdict only
  --help            this text

exit status: 0 the recorded verdict is reproduced, 1 it is not, 2 bad input`;

function main(argv: string[]): number {
  const { opts, positional } = parseArgs(argv, {
    html: { value: true },
    lines: { value: true },
    calls: { value: true },
    quiet: { value: false },
    boot: { value: false },
    help: { value: false },
  });
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  if (positional.length !== 1) throw new UsageError(positional.length === 0 ? 'needs a counterexample FILE (see --help)' : `one FILE only, got ${positional.length}`);
  const file = positional[0];
  const callsOpt = opts.calls?.[0];
  const maxCallLines = callsOpt === 'all' ? Infinity : (intOption(callsOpt, 'calls', 0, 1_000_000) ?? 40);
  const nLines = intOption(opts.lines?.[0], 'lines', 1, 64) ?? 8;
  const f = readCounterexampleFile(file);
  const r = replayCounterexample(f);
  console.log((opts.quiet ? renderVerdict(f, r) : renderReplayText(file, f, r, { maxCallLines, maxLineGroups: 12, boot: opts.boot !== undefined })).join('\n'));
  if (opts.html) {
    // A second, identical run snapshots the chosen lines after every step (the replay is deterministic).
    const withTimeline = replayCounterexample(f, timelineOf(r, nLines));
    try {
      writeFileSync(opts.html[0], renderReplayHtml(file, f, withTimeline));
    } catch (e) {
      throw new UsageError(`cannot write ${opts.html[0]}: ${(e as Error).message}`);
    }
    console.log(`timeline: ${opts.html[0]}`);
  }
  return r.reproduced ? 0 : 1;
}

function timelineOf(r: ReplayResult, n: number) {
  const { lines, focus, alike } = linesOfInterest(r, n);
  return { watch: lines, focus, alike };
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError || e instanceof CounterexampleFileError) {
    console.error(`replay: ${e.message}`);
    process.exitCode = 2;
  } else throw e;
}
