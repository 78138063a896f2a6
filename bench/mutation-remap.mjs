#!/usr/bin/env node
// A StrykerJS rerun renumbers mutants, so the #ids of bench/mutation-equivalents.md and
// bench/mutation-kills.json stop matching. This carries them over to the new reports.
// An id that is still an undetected mutant of its file in the new report is kept. Otherwise
// its mutant is looked up:
//   - in the old report when one is given (--old, e.g. the chunk's report saved before the rerun);
//   - else, for the files of a --stale report (ids from a run whose report is gone), from the
//     equivalents line itself: its `file.ts:LINE`, and the mutator named on it.
// The new mutant must have the same mutator and replacement and the same original code,
// on the nearest line whose whole text is unchanged, else the nearest within 40 lines. From the line text alone: the same mutator, at most
// 3 lines away, a replacement spelled out on the line preferred.
// Ids with no match are left as they are: mutation-sorted.mjs then prints them as stale.
//
//   node bench/mutation-remap.mjs [--old old.json ...] [--stale new.json ...] new.json ... [--write]

import { readFileSync, writeFileSync } from 'node:fs';
import { EQUIVALENTS_URL, KILLS_URL, listedEquivalentLines, loadReportFiles } from './mutation-lib.mjs';

const args = process.argv.slice(2);
const write = args.includes('--write');
const verbose = args.includes('--verbose');
const oldPaths = [];
const newPaths = [];
const stalePaths = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--write' || args[i] === '--verbose') continue;
  if (args[i] === '--old') oldPaths.push(args[++i]);
  else if (args[i] === '--stale') stalePaths.push(args[++i]);
  else newPaths.push(args[i]);
}
newPaths.push(...stalePaths);
if (newPaths.length === 0 || oldPaths.includes(undefined) || stalePaths.includes(undefined)) {
  console.error('usage: node bench/mutation-remap.mjs [--old old.json ...] [--stale new.json ...] new.json ... [--write]');
  process.exit(2);
}

/** Per file: id → { id, line, mutatorName, replacement, original, undetected }. */
function index(files) {
  const out = new Map();
  for (const [file, entry] of Object.entries(files)) {
    const src = entry.source.split('\n');
    const byId = new Map();
    for (const m of entry.mutants) {
      const { start, end } = m.location;
      const original =
        start.line === end.line
          ? src[start.line - 1].slice(start.column - 1, end.column - 1)
          : [src[start.line - 1].slice(start.column - 1), ...src.slice(start.line, end.line - 1), src[end.line - 1].slice(0, end.column - 1)].join('\n');
      byId.set(Number(m.id), {
        id: Number(m.id),
        line: start.line,
        mutatorName: m.mutatorName,
        replacement: m.replacement ?? '',
        original,
        lineText: src[start.line - 1].trim(),
        undetected: m.status === 'Survived' || m.status === 'NoCoverage',
      });
    }
    out.set(file, byId);
  }
  return out;
}

const neu = index(loadReportFiles(newPaths));
// Files whose listed ids come from a run whose report is gone: matched from the lines' text alone.
const stale = new Set(Object.keys(loadReportFiles(stalePaths)));
const old = index(loadReportFiles(oldPaths));
const claimed = new Map(); // file → Set of new ids already given

function claim(file, id) {
  const s = claimed.get(file) ?? new Set();
  s.add(id);
  claimed.set(file, s);
}

const MUTATORS = new Set([...neu.values()].flatMap((f) => [...f.values()].map((m) => m.mutatorName)));

/**
 * How far a mutant is from what an equivalents line says (Infinity: not it). The line's
 * `file.ts:LINE` within 3 lines; its mutator, if it names any; a replacement spelled out in full
 * only breaks ties (lines often shorten it: `→ >=`).
 */
function fits(m, hint) {
  const named = [...MUTATORS].filter((n) => hint.text.includes(n));
  if (named.length > 0 && !named.includes(m.mutatorName)) return Infinity;
  // The code the line quotes (first backticked snippet of its segment) must be part of the mutant's.
  const quoted = /`([^`]+)`/.exec(hint.text)?.[1];
  if (quoted !== undefined && !m.original.includes(quoted.replace(/\.\.\.$|…$/, '').trim()) && !quoted.includes(m.original)) return Infinity;
  const d = Math.abs(m.line - hint.line);
  if (d > 3) return Infinity;
  return hint.text.includes(m.replacement) ? d : d + 0.5;
}

/**
 * The new mutant for an old id: { id, undetected }, or null. The nearest mutant with the same
 * signature wins, detected or not, so a mutant the rerun killed is not confused with a look-alike
 * survivor further away. `hint` (from the md line) is used when no old report has the id.
 */
function remap(file, id, hint) {
  const now = neu.get(file);
  if (now === undefined) return null;
  const taken = claimed.get(file) ?? new Set();
  const same = now.get(id);
  const was = old.get(file)?.get(id);
  // Without an old report an id may be a coincidence from an older run: kept only if the line agrees.
  if (was === undefined && same?.undetected && !taken.has(id) && (hint === null || fits(same, hint) <= 3)) return { id, undetected: true };
  let best = null;
  for (const m of now.values()) {
    if (taken.has(m.id)) continue;
    let d;
    if (was !== undefined) {
      if (m.mutatorName !== was.mutatorName || m.replacement !== was.replacement || m.original !== was.original) continue;
      // The same code often appears twice (a regex, `?? []`): a line whose whole text is unchanged wins.
      const sameLine = m.lineText === was.lineText;
      d = Math.abs(m.line - was.line) + (sameLine ? 0 : 1000);
      if (!sameLine && d > 1040) continue;
    } else if (hint !== null) {
      if (!m.undetected) continue;
      d = fits(m, hint);
      if (d > 3) continue;
    } else continue;
    if (best === null || d < best.d) best = { id: m.id, undetected: m.undetected, d };
  }
  return best === null ? null : { id: best.id, undetected: best.undetected };
}

function describe(file, id) {
  const m = neu.get(file).get(id);
  return `${file.split('/').pop()}:${m.line} ${m.mutatorName} \`${m.original.split('\n')[0].slice(0, 50)}\` → \`${m.replacement.split('\n')[0].slice(0, 40)}\``;
}

// ---- equivalents
const lines = readFileSync(EQUIVALENTS_URL, 'utf8').split('\n');
let kept = 0, moved = 0, lost = 0;
const lostList = [];
const killedEq = []; // listed as equivalent, yet the rerun killed it: the listing is wrong
for (const { i, line, section } of listedEquivalentLines(lines)) {
  if (!neu.has(section)) continue;
  lines[i] = line.replace(/#(\d+)/g, (whole, n, at) => {
    // The id's segment: from the nearest `file.ts:LINE` before it to the next one (or the reason's dash).
    const refs = [...line.matchAll(/([\w.-]+\.ts):(\d+)/g)];
    const ref = refs.filter((r) => r.index < at).pop();
    const nextRef = refs.find((r) => r.index > at);
    const stop = Math.min(nextRef?.index ?? line.length, line.indexOf(' — ') >= 0 ? line.indexOf(' — ') : line.length);
    const hint = ref && stale.has(section) ? { line: Number(ref[2]), text: line.slice(ref.index, Math.max(stop, at + whole.length)) } : null;
    const id = Number(n);
    const to = remap(section, id, hint);
    if (to === null) {
      lost++;
      lostList.push(`${section} #${id}`);
      return whole;
    }
    claim(section, to.id);
    if (verbose && to.id !== id) console.log(`  ${section} #${id} → #${to.id} ${describe(section, to.id)}`);
    if (!to.undetected) killedEq.push(`${section} #${id} → #${to.id}`);
    if (to.id === id) kept++;
    else moved++;
    return `#${to.id}`;
  });
}

// ---- hand kills (only with an old report: the json carries no text)
const kills = JSON.parse(readFileSync(KILLS_URL, 'utf8'));
let kMoved = 0, kDone = 0, kLost = 0;
for (const [file, ids] of Object.entries(kills)) {
  if (!neu.has(file)) continue;
  kills[file] = ids.map((id) => {
    const was = old.get(file)?.get(id);
    if (was === undefined) return id;
    // Killed by the rerun: the hand kill is now a measured one; keep the id (it reads as "already killed").
    const to = remap(file, id, null);
    // Measured now (killed by the rerun) or gone with the code: no longer a hand kill to count.
    if (to === null) {
      kLost++;
      return null;
    }
    claim(file, to.id);
    if (!to.undetected) {
      kDone++;
      return null;
    }
    if (to.id !== id) kMoved++;
    return to.id;
  }).filter((id) => id !== null);
}

console.log(`equivalents: ${kept} kept, ${moved} renumbered, ${lost} not found${lost ? ` (${lostList.slice(0, 10).join(', ')}${lost > 10 ? ', ...' : ''})` : ''}`);
console.log(`hand kills: ${kMoved} renumbered and still undetected (check them), ${kDone} killed by the rerun and ${kLost} gone with their code (both dropped)`);
if (killedEq.length > 0) console.log(`listed as equivalent but killed by the rerun (check the listing): ${killedEq.join(', ')}`);
if (write) {
  writeFileSync(EQUIVALENTS_URL, lines.join('\n'));
  writeFileSync(KILLS_URL, `${JSON.stringify(kills, null, 1)}\n`);
  console.log('written');
} else console.log('(dry run: --write to rewrite the files)');
