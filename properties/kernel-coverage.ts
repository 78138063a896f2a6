// Kernel-path coverage: which kernel functions (kenter names) and named branches
// (knote details) the generated sequences actually reach. Line coverage says a
// line ran under some test; this says the *property harnesses* drove the kernel
// path, which is what a "holds" verdict relies on.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import type { Profile } from '../reference/config/profile.ts';
import { expectationOf } from '../reference/config/profile.ts';
import { Tracer, setTracer } from '../reference/trace.ts';
import { runSequence } from '../model/harness.ts';
import { HARNESSES, type AnyHarness } from './catalog.ts';
import { sequenceArb } from './run.ts';

/**
 * Counts instead of recording: a run of thousands of sequences would otherwise
 * keep millions of events alive. The call stack only serves to key a note by
 * the kernel function it was taken in.
 */
export class CountingTracer extends Tracer {
  readonly functions = new Map<string, number>();
  readonly branches = new Map<string, number>();
  private readonly stack: string[] = [];
  override enter(fn: string): void {
    this.functions.set(fn, (this.functions.get(fn) ?? 0) + 1);
    this.stack.push(fn);
  }
  override exit(): void {
    this.stack.pop();
  }
  override note(detail: string): void {
    const key = `${this.stack.at(-1) ?? '(top level)'}: ${detail}`;
    this.branches.set(key, (this.branches.get(key) ?? 0) + 1);
  }
  override clear(): void {
    this.functions.clear();
    this.branches.clear();
    this.stack.length = 0;
  }
}

export interface KernelPathReport {
  /** Every kernel function: the checklist ones (0 when never reached) and any reached name. */
  functions: Record<string, number>;
  /** "fn: note" -> how often that named branch was taken. */
  branches: Record<string, number>;
  /** Checklist functions no sequence reached, sorted. */
  neverReached: string[];
  /** knote literals in reference/ that no sequence took (as "file: note"; dynamic notes are not listed). */
  branchesNeverTaken: string[];
  /** Kernel functions by header comment that call no kenter, so no run can count them ("file: name"). */
  untraced: string[];
  sequences: number;
  runs: number;
  seed: number;
  profiles: string[];
}

export interface CollectOptions {
  runs: number;
  seed: number;
  profiles: readonly Profile[];
  harnesses?: readonly AnyHarness[];
  /** Called before each (profile, harness) pair, e.g. for a progress line. */
  onPair?: (profile: string, harness: string) => void;
}

/**
 * Runs `runs` generated sequences of every applicable harness on every profile
 * under a counting tracer. Invariants the profile declares broken are not
 * checked, so sequences on a broken machine run to the end instead of stopping
 * at the known violation (a KernelBug still ends its sequence, as in verify).
 */
export interface CollectError {
  profile: string;
  harness: string;
  /**
   * Sequences cut short by a kernel BUG (at boot or in an operation) or by an
   * exception runSequence does not catch: paths after that point went unrun.
   */
  count: number;
  first: string;
}

export function collectKernelPaths(opts: CollectOptions): { tracer: CountingTracer; sequences: number; errors: CollectError[] } {
  const tracer = new CountingTracer();
  let sequences = 0;
  const errors: CollectError[] = [];
  setTracer(tracer);
  try {
    for (const profile of opts.profiles) {
      for (const h of opts.harnesses ?? HARNESSES) {
        if (!h.appliesTo(profile)) continue;
        opts.onPair?.(profile.name, h.name);
        const invs = h.invariants.map((i) => i.name).filter((n) => expectationOf(profile, n) === 'holds');
        const seqs = fc.sample(sequenceArb(h, profile, h.maxOps ?? 60), { numRuns: opts.runs, seed: opts.seed });
        let err: CollectError | null = null;
        const cut = (message: string) => {
          if (err === null) errors.push((err = { profile: profile.name, harness: h.name, count: 0, first: message }));
          err.count++;
        };
        for (const ops of seqs) {
          sequences++;
          // An exception escaping runSequence (an invariant check that throws, say)
          // must not end the whole report.
          try {
            const f = runSequence(h, profile, ops, invs);
            if (f !== null && f.invariant === 'kernel-bug') cut(f.message);
          } catch (e) {
            cut(e instanceof Error ? e.message : String(e));
          }
        }
      }
    }
  } finally {
    setTracer(null);
  }
  return { tracer, sequences, errors };
}

function tsFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFilesUnder(p));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

const KENTER = /\bkenter\(([^)]*)\)/g;
const STRING = /'([^'\\]+)'|"([^"\\]+)"/g;

/**
 * The kernel names one source file passes to kenter: string literals in the
 * argument (both arms of a version ternary count), or, for `kenter(fn)`, the
 * nearest earlier `const fn = '...'` in the same file.
 */
export function kenterNamesInSource(src: string): string[] {
  const names = new Set<string>();
  for (const m of src.matchAll(KENTER)) {
    // kenter(name, detail): only the first argument names the function; in a
    // version ternary only the arms do (not the '5.10' it compares against).
    let first = m[1].split(',')[0].trim();
    if (first.includes('?')) first = first.slice(first.indexOf('?') + 1);
    const lits = [...first.matchAll(STRING)].map((s) => s[1] ?? s[2]);
    if (lits.length > 0) {
      for (const l of lits) names.add(l);
      continue;
    }
    const ident = /^([A-Za-z_$][\w$]*)$/.exec(first);
    if (ident === null) continue;
    const before = src.slice(0, m.index);
    const defs = [...before.matchAll(new RegExp(`\\bconst ${ident[1]}\\s*=\\s*'([^']+)'`, 'g'))];
    if (defs.length > 0) names.add(defs[defs.length - 1][1]);
  }
  return [...names];
}

const KNOTE = /\bknote\(\s*'([^'\\]+)'\s*\)/g;

/** Constant knote texts per file (relative to referenceDir): the named-branch checklist. */
export function knoteLiteralsIn(referenceDir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of tsFilesUnder(referenceDir)) {
    const notes = [...new Set([...readFileSync(f, 'utf8').matchAll(KNOTE)].map((m) => m[1]))];
    if (notes.length > 0) out.set(relative(referenceDir, f), notes);
  }
  return out;
}

/** The checklist: every kernel name reference/ enters, with the files that enter it. */
export function kernelFunctionsIn(referenceDir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of tsFilesUnder(referenceDir)) {
    if (f.endsWith('trace.ts')) continue;
    for (const n of kenterNamesInSource(readFileSync(f, 'utf8'))) {
      const files = out.get(n) ?? [];
      files.push(relative(referenceDir, f));
      out.set(n, files);
    }
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

const HEADER_FN = /\/\*\*\s*(?:arch|include|kernel|mm|lib|drivers)\/[\w./-]+\.[ch]\s+([A-Za-z_]\w*)(?:(?!\*\/)[^])*\*\/\s*export function (\w+)\s*[(<]/g;
const ANY_FN = /\bfunction\s+([A-Za-z_]\w*)\s*[(<]/g;

/**
 * Functions reference/ declares: `all` is every function name (to tell "modelled
 * but not traced" from "not modelled"); `kernel` the exported ones whose header
 * comment names a kernel file and the same function, i.e. kernel functions by
 * the project's convention whether or not they call kenter.
 */
export function declaredFunctionsIn(referenceDir: string): { all: Set<string>; kernel: Map<string, string> } {
  const all = new Set<string>();
  const kernel = new Map<string, string>();
  for (const f of tsFilesUnder(referenceDir)) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(ANY_FN)) all.add(m[1]);
    for (const m of src.matchAll(HEADER_FN)) if (m[1] === m[2] && !kernel.has(m[2])) kernel.set(m[2], relative(referenceDir, f));
  }
  return { all, kernel };
}

/**
 * Function names in the seed notes' headings. The notes mix functions with
 * topics ("# pool", "# GFP"), types ("pte_t"), fields ("device.coherent_dma_mask")
 * and instructions ("DCACHE.CIPA"), so a heading counts as a function when it is
 * one lower-case C identifier, not a `_t` type, and (below the top level, or
 * containing an underscore: top-level one-word headings are chapter titles).
 * A leading "1. " list number is dropped.
 */
export function seedFunctionsInText(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(#+)\s*(?:\d+\.\s*)?(.*?)\s*$/.exec(line);
    if (m === null) continue;
    const level = m[1].length;
    const name = m[2];
    if (!/^[a-z_][a-z0-9_]*$/.test(name) || name.endsWith('_t')) continue;
    if (level === 1 && !name.includes('_')) continue;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

export function seedFunctionsIn(seedDir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(seedDir).filter((n) => n.endsWith('.txt')).sort()) {
    for (const n of seedFunctionsInText(readFileSync(join(seedDir, f), 'utf8'))) if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** Levenshtein distance, for "did the notes mean X?" hints on misspelt headings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export interface SeedGap {
  name: string;
  /** 'untraced': reference/ has a function of that name that calls no kenter; 'absent': no such function. */
  status: 'untraced' | 'absent';
  /** For an absent one: the closest kenter name within two edits (a typo in the notes), else the shortest one extending it. */
  nearest?: string;
}

/** Seed-note functions with no kenter counterpart anywhere in reference/. */
export function seedGaps(seedNames: readonly string[], checklist: Iterable<string>, declared: ReadonlySet<string> = new Set()): SeedGap[] {
  const known = [...checklist];
  const have = new Set(known);
  const out: SeedGap[] = [];
  for (const name of seedNames) {
    if (have.has(name)) continue;
    const status = declared.has(name) ? 'untraced' : 'absent';
    if (status === 'untraced') {
      out.push({ name, status });
      continue;
    }
    let best: string | undefined;
    let bestD = 3;
    for (const k of known) {
      const d = editDistance(name, k);
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    // The notes sometimes head a section with a work item or a shortened name
    // (atomic_pool_work for atomic_pool_work_fn): a kenter name extending it is the likely counterpart.
    best ??= known.filter((k) => k.startsWith(`${name}_`)).sort((a, b) => a.length - b.length)[0];
    out.push(best === undefined ? { name, status } : { name, status, nearest: best });
  }
  return out;
}

export interface ReportInputs {
  /** kenter names found statically (kernelFunctionsIn). */
  checklist: Iterable<string>;
  /** Constant knote texts per file (knoteLiteralsIn). */
  notes: ReadonlyMap<string, readonly string[]>;
  /** Kernel-named functions by header comment (declaredFunctionsIn().kernel). */
  kernelNamed?: ReadonlyMap<string, string>;
}

/** Merges the counts with the checklists into the kernel-paths.json shape. */
export function buildReport(
  tracer: CountingTracer,
  inputs: ReportInputs,
  meta: { sequences: number; runs: number; seed: number; profiles: string[] },
): KernelPathReport {
  const functions: Record<string, number> = {};
  const names = new Set([...inputs.checklist, ...tracer.functions.keys()]);
  for (const n of [...names].sort()) functions[n] = tracer.functions.get(n) ?? 0;
  const branches: Record<string, number> = {};
  for (const k of [...tracer.branches.keys()].sort()) branches[k] = tracer.branches.get(k)!;
  const neverReached = Object.keys(functions).filter((n) => functions[n] === 0);
  const taken = new Set([...tracer.branches.keys()].map((k) => k.slice(k.indexOf(': ') + 2)));
  const branchesNeverTaken: string[] = [];
  for (const [file, list] of inputs.notes) for (const n of list) if (!taken.has(n)) branchesNeverTaken.push(`${file}: ${n}`);
  const untraced: string[] = [];
  for (const [n, file] of inputs.kernelNamed ?? []) if (!names.has(n)) untraced.push(`${file}: ${n}`);
  untraced.sort();
  return { functions, branches, neverReached, branchesNeverTaken, untraced, ...meta };
}
