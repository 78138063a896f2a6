#!/usr/bin/env node
// Reads a StrykerJS report (default reports/mutation/mutation.json), prints the
// mutation score per file, and exits 1 when a Survived mutant completed no test:
// such a mutant was never measured (the runner's test-name filter matched
// nothing, toolchain notes C1), so the score around it would be a lie.
//
//   node bench/mutation-check.mjs [report.json ...] [--survivors] [--min <percent>]
//
// Several reports (the chunks of bench/mutation-chunks.sh) are merged: a file
// reported twice counts from the last report that lists it.
//
// --survivors lists every Survived / NoCoverage mutant with its source line;
// --min fails (exit 1) when a file's score is below the given percentage.

import { loadReportFiles } from './mutation-lib.mjs';

const args = process.argv.slice(2);
const reportPaths = [];
let listSurvivors = false;
let min = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--survivors') listSurvivors = true;
  else if (a === '--min') min = Number(args[++i]);
  else if (a.startsWith('--')) {
    console.error(`unknown option ${a}`);
    process.exit(2);
  } else reportPaths.push(a);
}
if (min !== null && !Number.isFinite(min)) {
  console.error('--min needs a number');
  process.exit(2);
}

if (reportPaths.length === 0) reportPaths.push('reports/mutation/mutation.json');
const report = { files: loadReportFiles(reportPaths) };

// Stryker's own definitions: detected = Killed + Timeout; valid adds Survived and
// NoCoverage; Ignored, CompileError and RuntimeError are left out of the score.
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

const pct = (n, d) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(2)} %`);
const where = (m) => `${m.location.start.line}:${m.location.start.column}`;

const rows = [];
const unmeasured = [];
const survivors = [];
let totDet = 0;
let totValid = 0;
for (const [file, entry] of Object.entries(report.files ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
  const counts = {};
  for (const m of entry.mutants) {
    counts[m.status] = (counts[m.status] ?? 0) + 1;
    if (m.status === 'Survived' && m.testsCompleted === 0) unmeasured.push({ file, m });
    if (UNDETECTED.has(m.status)) survivors.push({ file, m, lines: entry.source.split('\n') });
  }
  const det = [...DETECTED].reduce((s, k) => s + (counts[k] ?? 0), 0);
  const valid = det + [...UNDETECTED].reduce((s, k) => s + (counts[k] ?? 0), 0);
  totDet += det;
  totValid += valid;
  rows.push({ file, det, valid, counts });
}

if (rows.length === 0) {
  console.error(`${reportPaths.join(', ')} list no files`);
  process.exit(2);
}

const w = Math.max(...rows.map((r) => r.file.length), 5);
console.log(`${'file'.padEnd(w)}  score     killed timeout survived nocov ignored`);
for (const r of rows) {
  const c = (k) => String(r.counts[k] ?? 0).padStart(k === 'NoCoverage' ? 5 : k === 'Killed' ? 6 : 7);
  console.log(
    `${r.file.padEnd(w)}  ${pct(r.det, r.valid).padStart(8)}  ${c('Killed')} ${c('Timeout')} ${String(r.counts.Survived ?? 0).padStart(8)} ${c('NoCoverage')} ${c('Ignored')}`,
  );
}
console.log(`${'all'.padEnd(w)}  ${pct(totDet, totValid).padStart(8)}`);

if (listSurvivors && survivors.length > 0) {
  console.log(`\n${survivors.length} undetected mutant(s):`);
  for (const { file, m, lines } of survivors) {
    const src = (lines[m.location.start.line - 1] ?? '').trim();
    console.log(`  ${m.status} #${m.id} ${file}:${where(m)} ${m.mutatorName}: ${JSON.stringify(m.replacement)}`);
    console.log(`      ${src}   [tests completed: ${m.testsCompleted ?? '?'}]`);
  }
}

let fail = false;
if (unmeasured.length > 0) {
  fail = true;
  console.log(`\nFAIL: ${unmeasured.length} Survived mutant(s) completed 0 tests (not measured):`);
  for (const { file, m } of unmeasured) {
    console.log(`  #${m.id} ${file}:${where(m)} ${m.mutatorName} -> ${JSON.stringify(m.replacement)}`);
  }
}
if (min !== null) {
  for (const r of rows) {
    if (r.valid > 0 && (100 * r.det) / r.valid < min) {
      fail = true;
      console.log(`FAIL: ${r.file} scores ${pct(r.det, r.valid)}, below ${min} %`);
    }
  }
}
process.exit(fail ? 1 : 0);
