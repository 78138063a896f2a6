// npm run bench: throughput of every harness (invariants checked after every
// operation), how cost scales with the declared RAM, and how long each catalog
// fault takes to detect (bench/time-to-detect.ts; BENCH_SEEDS seeds, default 20).
// Prints tables and writes bench/results.json. Timings are measurements, never assertions.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CORRECT_PROFILES } from '../reference/config/profiles.ts';
import { HARNESSES } from '../properties/catalog.ts';
import { SEQUENCES, scaled, type Row } from './throughput.ts';
import { runTimeToDetect } from './time-to-detect.ts';

/** One measurement in a fresh process (bench/throughput.ts says why), same loader flags as this one. */
function measure(harness: string, profile: string, mibs?: number): Row {
  const script = fileURLToPath(new URL('./throughput.ts', import.meta.url));
  const args = [...process.execArgv, script, harness, profile, ...(mibs === undefined ? [] : [String(mibs)])];
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Row;
}

/** BENCH_PARTS=throughput,scale,detect picks parts; bench/results.json is written only by a full run. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'throughput,scale,detect').split(','));

function main(): void {
  for (const x of PARTS) {
    if (!['throughput', 'scale', 'detect'].includes(x)) {
      console.error(`bench: unknown part "${x}" in BENCH_PARTS (throughput, scale, detect)`);
      process.exit(2);
    }
  }
  const base = CORRECT_PROFILES.find((p) => p.name === 'c920-sg2042-6.6')!;
  const rows: Row[] = [];
  if (PARTS.has('throughput')) {
  for (const h of HARNESSES) if (h.appliesTo(base)) rows.push(measure(h.name, base.name));
  console.log(`throughput on ${base.name} (${SEQUENCES} sequences each, invariants after every operation)`);
  console.log('(coherence is the mixed workload: kmalloc, map/unmap/sync in every direction, coherent buffers, CPU and device accesses, speculative fills, evictions)');
  console.log('(each row in a fresh process; ops/s: median of 5 passes over the same sequences after 3 untimed ones; cold ops/s: the first pass)');
  console.log('harness       seq/s     ops/s  cold ops/s   property seq/s (with generation)');
  for (const r of rows) console.log(`${r.harness.padEnd(12)} ${String(r.seqPerSec).padStart(6)} ${String(r.opsPerSec).padStart(9)} ${String(r.coldOpsPerSec).padStart(11)} ${String(r.propertySeqPerSec).padStart(8)}`);
  }

  const scale: { ram: string; buddyOpsPerSec: number; opsPerSec: number; peakHeapMiB: number }[] = [];
  const coh = HARNESSES.find((h) => h.name === 'coherence')!;
  const buddy = HARNESSES.find((h) => h.name === 'buddy')!;
  if (PARTS.has('scale')) {
    console.log('\nscale: declared RAM vs cost (buddy + coherence harnesses, peak heap of either run)');
    console.log('RAM        buddy ops/s  coherence ops/s  peak heap MiB');
  }
  for (const mibs of PARTS.has('scale') ? [256, 4096, 32768, 131072] : []) {
    const b = measure(buddy.name, base.name, mibs);
    const c = measure(coh.name, base.name, mibs);
    const peakHeap = Math.max(b.peakHeapMiB, c.peakHeapMiB);
    const ram = scaled(base, mibs).name.split('@')[1];
    scale.push({ ram, buddyOpsPerSec: b.opsPerSec, opsPerSec: c.opsPerSec, peakHeapMiB: peakHeap });
    console.log(`${ram.padEnd(10)} ${String(b.opsPerSec).padStart(11)} ${String(c.opsPerSec).padStart(16)} ${String(peakHeap).padStart(14)}`);
  }
  if (!PARTS.has('detect')) return;
  const timeToDetect = runTimeToDetect();
  if (PARTS.size < 3) return;
  const out = { date: new Date().toISOString(), node: process.version, sequences: SEQUENCES, throughput: rows, scale, timeToDetect };
  writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
  console.log('\nwritten bench/results.json');
}

main();
