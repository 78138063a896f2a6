#!/usr/bin/env node
// The mutation score after sorting the survivors, next to the measured one.
// A survivor is sorted when it is either listed as equivalent, with its reason,
// in bench/mutation-equivalents.md (under the `## <file>` heading, by `#id`), or
// killed by a test written for it and checked by hand (the mutant applied to the
// source, the test seen failing), listed in bench/mutation-kills.json. The
// sorted score is (detected + hand kills) / (valid - equivalent): what StrykerJS
// would report on a rerun if every hand check holds, which a rerun confirms.
// Ids must be those of the report given (a rerun renumbers mutants): an id that
// is not an undetected mutant of that file is printed as stale and not counted.
// Paragraphs starting "Not equivalent" (known divergences left unkilled) do not count.
//
//   node bench/mutation-sorted.mjs reports/mutation/chunks/*.json

import { readFileSync } from 'node:fs';
import { EQUIVALENTS_URL, KILLS_URL, listedEquivalentLines, loadReportFiles } from './mutation-lib.mjs';

const paths = process.argv.slice(2);
if (paths.length === 0) {
  console.error('usage: node bench/mutation-sorted.mjs <report.json> ...');
  process.exit(2);
}
const files = loadReportFiles(paths);

const equivalent = new Map();
for (const { line, section } of listedEquivalentLines(readFileSync(EQUIVALENTS_URL, 'utf8').split('\n'))) {
  const ids = equivalent.get(section) ?? new Set();
  for (const m of line.matchAll(/#(\d+)/g)) ids.add(Number(m[1]));
  equivalent.set(section, ids);
}
const kills = JSON.parse(readFileSync(KILLS_URL, 'utf8'));

const pct = (n, d) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(2)} %`);
const rows = [];
const stale = [];
let tDet = 0, tValid = 0, tSortedDet = 0, tSortedValid = 0, tUnsorted = 0;
for (const [file, entry] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
  const undetected = new Set();
  let det = 0, valid = 0;
  for (const m of entry.mutants) {
    if (m.status === 'Killed' || m.status === 'Timeout') det++;
    else if (m.status === 'Survived' || m.status === 'NoCoverage') undetected.add(Number(m.id));
    else continue;
    valid++;
  }
  const take = (ids, what) => {
    let n = 0;
    for (const id of ids ?? []) {
      if (undetected.has(id)) {
        undetected.delete(id);
        n++;
      } else stale.push(`${file} #${id} (${what})`);
    }
    return n;
  };
  const k = take(kills[file], 'kill');
  const e = take(equivalent.get(file), 'equivalent');
  rows.push([file, pct(det, valid), k, e, undetected.size, pct(det + k, valid - e)]);
  tDet += det; tValid += valid; tSortedDet += det + k; tSortedValid += valid - e; tUnsorted += undetected.size;
}
console.log('| file | measured | hand kills | equivalent | unsorted | after sorting |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`| **all** | **${pct(tDet, tValid)}** | | | ${tUnsorted} | **${pct(tSortedDet, tSortedValid)}** |`);
if (stale.length > 0) console.log(`\n${stale.length} listed id(s) not undetected in these reports (stale or already killed): ${stale.slice(0, 12).join(', ')}${stale.length > 12 ? ', ...' : ''}`);
