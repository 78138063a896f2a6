// One throughput measurement: a harness on a built-in profile (optionally with
// its RAM rescaled), invariants checked after every operation. bench/run.ts
// runs each measurement in a process of its own: measured one after another in
// one process, the harnesses measured first leave the shared code paths
// (runSequence, the invariant checks, the allocators) compiled for their own
// object shapes, and the coherence figure dropped from ~80 k to ~52 k ops/s.
//   tsx bench/throughput.ts <harness> <profile> [<MiB>]   (prints one JSON row)

import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { findProfile } from '../reference/config/profiles.ts';
import type { Profile } from '../reference/config/profile.ts';
import { HARNESSES, type AnyHarness } from '../properties/catalog.ts';
import { runSequence } from '../model/harness.ts';
import { checkProperty, sequenceArb } from '../properties/run.ts';

export const SEQUENCES = Number(process.env.BENCH_SEQUENCES ?? 500);
/** After the cold pass, untimed passes while the JIT settles (the second and third pass still ran 10-30 % slower). */
const SETTLE_PASSES = 2;
/** Timed passes after those; the steady figure is their median. */
const WARM_PASSES = 5;

export interface Row {
  harness: string;
  profile: string;
  sequences: number;
  ops: number;
  /** First pass: includes the JIT compiling the model. */
  coldOpsPerSec: number;
  /** Median of 5 passes after 3 (cold + 2 settling): what a long property run sees. */
  opsPerSec: number;
  seqPerSec: number;
  propertySeqPerSec: number;
  /** Highest heapUsed seen (sampled every 25 sequences), MiB. */
  peakHeapMiB: number;
}

export function scaled(base: Profile, mibs: number): Profile {
  const mib = (x: number) => BigInt(x) << 20n;
  return {
    ...base,
    name: `${base.name}@${mibs >= 1024 ? `${mibs / 1024}GiB` : `${mibs}MiB`}`,
    memory: [{ base: 0x8000_0000n, size: mib(mibs) }],
    reserved: [{ base: 0x8000_0000n, size: mib(2) }],
  };
}

export function throughput(h: AnyHarness, p: Profile): Row {
  const invs = h.invariants.map((i) => i.name);
  const seqs = fc.sample(sequenceArb(h, p, h.maxOps ?? 60), { numRuns: SEQUENCES, seed: 1 });
  let ops = 0;
  for (const s of seqs) ops += s.length + (h.finalOps ? h.finalOps().length : 0);
  let peak = 0;
  const pass = (): number => {
    const t0 = performance.now();
    for (let i = 0; i < seqs.length; i++) {
      runSequence(h, p, seqs[i], invs);
      if (i % 25 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    return (performance.now() - t0) / 1000;
  };
  const cold = pass();
  for (let i = 0; i < SETTLE_PASSES; i++) pass();
  const warm: number[] = [];
  for (let i = 0; i < WARM_PASSES; i++) warm.push(pass());
  const dt = warm.sort((a, b) => a - b)[WARM_PASSES >> 1];
  // The whole property as the suite runs it: generation + execution + checks.
  const t1 = performance.now();
  checkProperty(h, p, invs, { numRuns: SEQUENCES, seed: 1 });
  const dt2 = (performance.now() - t1) / 1000;
  return {
    harness: h.name,
    profile: p.name,
    sequences: SEQUENCES,
    ops,
    coldOpsPerSec: Math.round(ops / cold),
    opsPerSec: Math.round(ops / dt),
    seqPerSec: Math.round(SEQUENCES / dt),
    propertySeqPerSec: Math.round(SEQUENCES / dt2),
    peakHeapMiB: Math.round(peak / 2 ** 20),
  };
}

function main(argv: string[]): void {
  const [hName, pName, mibs] = argv;
  const h = HARNESSES.find((x) => x.name === hName);
  const base = pName === undefined ? undefined : findProfile(pName);
  if (h === undefined || base === undefined || (mibs !== undefined && !/^[1-9][0-9]*$/.test(mibs))) {
    console.error('usage: tsx bench/throughput.ts <harness> <profile> [<MiB>]');
    process.exit(2);
  }
  const p = mibs === undefined ? base : scaled(base, Number(mibs));
  if (!h.appliesTo(p)) {
    console.error(`bench: harness ${h.name} does not apply to ${p.name}`);
    process.exit(2);
  }
  console.log(JSON.stringify(throughput(h, p)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
