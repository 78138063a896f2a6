#!/usr/bin/env node
// A sampled mutation run, for chunks too big to run whole in the time at hand.
// The sample is clusters of whole source lines: every file of the chunk is cut
// into blocks of BLOCK lines and a fixed fraction of the blocks is drawn with a
// seeded generator (same seed, same sample). StrykerJS mutates only those lines
// (its `file:from-to` mutate syntax), and the score over the sample estimates
// the chunk's score; `estimate` gives a 95 % interval by resampling the blocks
// (mutants in one block are not independent, so blocks are the unit).
//
//   node bench/mutation-sample.mjs ranges <fraction> <seed> <file,file,...>   prints a MUTATE value
//   node bench/mutation-sample.mjs estimate <report.json> [<seed>]            score, interval, blocks

import { readFileSync } from 'node:fs';

const BLOCK = 10;

/** mulberry32: a small seeded generator (deterministic sample). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function fail(msg) {
  console.error(`mutation-sample: ${msg}`);
  process.exit(2);
}

function ranges(fraction, seed, files) {
  if (!(fraction > 0 && fraction <= 1)) fail('fraction must be in (0, 1]');
  if (!Number.isInteger(seed)) fail('seed must be an integer');
  const next = rng(seed);
  const out = [];
  for (const f of files) {
    let text;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      fail(`cannot read ${f}: ${e.message}`);
    }
    const lines = text.split('\n').length;
    const blocks = Math.ceil(lines / BLOCK);
    // Exactly round(fraction * blocks) blocks per file (at least one): a partial Fisher-Yates shuffle.
    const want = Math.max(1, Math.round(fraction * blocks));
    const ids = Array.from({ length: blocks }, (_, i) => i);
    for (let i = 0; i < want; i++) {
      const j = i + Math.floor(next() * (blocks - i));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    for (const b of ids.slice(0, want).sort((x, y) => x - y)) out.push(`${f}:${b * BLOCK + 1}-${Math.min(lines, (b + 1) * BLOCK)}`);
  }
  return out.join(',');
}

function estimate(path, seed) {
  let report;
  try {
    report = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    fail(`cannot read ${path}: ${e.message}`);
  }
  const blocks = new Map();
  for (const [file, entry] of Object.entries(report.files ?? {})) {
    for (const m of entry.mutants) {
      const det = m.status === 'Killed' || m.status === 'Timeout';
      const valid = det || m.status === 'Survived' || m.status === 'NoCoverage';
      if (!valid) continue;
      const key = `${file}:${Math.floor((m.location.start.line - 1) / BLOCK)}`;
      const b = blocks.get(key) ?? { det: 0, valid: 0 };
      b.det += det ? 1 : 0;
      b.valid += 1;
      blocks.set(key, b);
    }
  }
  const bs = [...blocks.values()];
  if (bs.length === 0) fail('no mutants in the report');
  const score = (xs) => xs.reduce((s, b) => s + b.det, 0) / xs.reduce((s, b) => s + b.valid, 0);
  const next = rng(seed);
  const boots = [];
  for (let r = 0; r < 2000; r++) boots.push(score(bs.map(() => bs[Math.floor(next() * bs.length)])));
  boots.sort((a, b) => a - b);
  const pct = (x) => `${(100 * x).toFixed(2)} %`;
  const n = bs.reduce((s, b) => s + b.valid, 0);
  console.log(`sampled score ${pct(score(bs))} (95 % interval ${pct(boots[49])} – ${pct(boots[1949])}), ${n} mutants in ${bs.length} blocks of ${BLOCK} lines`);
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'ranges' && rest.length === 3) console.log(ranges(Number(rest[0]), Number(rest[1]), rest[2].split(',')));
else if (cmd === 'estimate' && (rest.length === 1 || rest.length === 2)) estimate(rest[0], rest.length === 2 ? Number(rest[1]) : 1);
else fail('usage: ranges <fraction> <seed> <files> | estimate <report.json> [<seed>]');
