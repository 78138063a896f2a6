// npm run bench: throughput of every harness (invariants checked after every
// operation), how cost scales with the declared RAM, and how long each catalog
// fault takes to detect (bench/time-to-detect.ts; BENCH_SEEDS seeds, default 20).
// Prints tables and writes bench/results.json. Timings are measurements, never assertions.

import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { CORRECT_PROFILES } from '../reference/config/profiles.ts';
import type { Profile } from '../reference/config/profile.ts';
import { HARNESSES, type AnyHarness } from '../properties/catalog.ts';
import { runSequence } from '../model/harness.ts';
import { checkProperty, sequenceArb } from '../properties/run.ts';
import { runTimeToDetect } from './time-to-detect.ts';

const SEQUENCES = Number(process.env.BENCH_SEQUENCES ?? 500);

interface Row {
  harness: string;
  profile: string;
  sequences: number;
  ops: number;
  seqPerSec: number;
  opsPerSec: number;
  propertySeqPerSec: number;
  /** Highest heapUsed seen (sampled every 25 sequences), MiB. */
  peakHeapMiB: number;
}

function throughput(h: AnyHarness, p: Profile): Row {
  const invs = h.invariants.map((i) => i.name);
  const seqs = fc.sample(sequenceArb(h, p, h.maxOps ?? 60), { numRuns: SEQUENCES, seed: 1 });
  let ops = 0;
  for (const s of seqs) ops += s.length + (h.finalOps ? h.finalOps().length : 0);
  let peak = 0;
  const t0 = performance.now();
  for (let i = 0; i < seqs.length; i++) {
    runSequence(h, p, seqs[i], invs);
    if (i % 25 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  const dt = (performance.now() - t0) / 1000;
  // The whole property as the suite runs it: generation + execution + checks.
  const t1 = performance.now();
  checkProperty(h, p, invs, { numRuns: SEQUENCES, seed: 1 });
  const dt2 = (performance.now() - t1) / 1000;
  return {
    harness: h.name,
    profile: p.name,
    sequences: SEQUENCES,
    ops,
    seqPerSec: Math.round(SEQUENCES / dt),
    opsPerSec: Math.round(ops / dt),
    propertySeqPerSec: Math.round(SEQUENCES / dt2),
    peakHeapMiB: Math.round(peak / 2 ** 20),
  };
}

function scaled(base: Profile, mibs: number): Profile {
  const mib = (x: number) => BigInt(x) << 20n;
  const size = mib(mibs);
  return {
    ...base,
    name: `${base.name}@${mibs >= 1024 ? `${mibs / 1024}GiB` : `${mibs}MiB`}`,
    memory: [{ base: 0x8000_0000n, size }],
    reserved: [{ base: 0x8000_0000n, size: mib(2) }],
  };
}

function main(): void {
  const base = CORRECT_PROFILES.find((p) => p.name === 'c920-sg2042-6.6')!;
  const rows: Row[] = [];
  for (const h of HARNESSES) if (h.appliesTo(base)) rows.push(throughput(h, base));
  console.log(`throughput on ${base.name} (${SEQUENCES} sequences each, invariants after every operation)`);
  console.log('(coherence is the mixed workload: kmalloc, map/unmap/sync in every direction, coherent buffers, CPU and device accesses, speculative fills, evictions)');
  console.log('harness       seq/s     ops/s   property seq/s (with generation)');
  for (const r of rows) console.log(`${r.harness.padEnd(12)} ${String(r.seqPerSec).padStart(6)} ${String(r.opsPerSec).padStart(9)} ${String(r.propertySeqPerSec).padStart(8)}`);

  const scale: { ram: string; buddyOpsPerSec: number; opsPerSec: number; heapMiB: number; peakHeapMiB: number }[] = [];
  const coh = HARNESSES.find((h) => h.name === 'coherence')!;
  const buddy = HARNESSES.find((h) => h.name === 'buddy')!;
  console.log('\nscale: declared RAM vs cost (buddy + coherence harnesses)');
  console.log('RAM        buddy ops/s  coherence ops/s  heap MiB  peak heap MiB');
  for (const mibs of [256, 4096, 32768, 131072]) {
    const p = scaled(base, mibs);
    global.gc?.();
    const b = throughput(buddy, p);
    const c = throughput(coh, p);
    const heap = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
    const peakHeap = Math.max(b.peakHeapMiB, c.peakHeapMiB);
    scale.push({ ram: p.name.split('@')[1], buddyOpsPerSec: b.opsPerSec, opsPerSec: c.opsPerSec, heapMiB: heap, peakHeapMiB: peakHeap });
    console.log(`${p.name.split('@')[1].padEnd(10)} ${String(b.opsPerSec).padStart(11)} ${String(c.opsPerSec).padStart(16)} ${String(heap).padStart(9)} ${String(peakHeap).padStart(14)}`);
  }
  const timeToDetect = runTimeToDetect();
  const out = { date: new Date().toISOString(), node: process.version, sequences: SEQUENCES, throughput: rows, scale, timeToDetect };
  writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
  console.log('\nwritten bench/results.json');
}

main();
