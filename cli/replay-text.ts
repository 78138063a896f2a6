// The text report of npm run replay: per operation the resolved operation, the
// kernel call path it took and the cache lines it touched, then the verdict.

import type { TraceEvent } from '../reference/trace.ts';
import { lineBase } from '../reference/mm/memory.ts';
import { hex } from '../reference/types.ts';
import { INVARIANT_DOCS } from '../properties/invariant.ts';
import { expectationOf } from '../reference/config/profile.ts';
import type { CounterexampleFile } from '../properties/counterexample-file.ts';
import type { LineSnap, ReplayResult, ReplayStep } from '../properties/replay.ts';
import type { LineAccess } from '../properties/replay-observe.ts';

export interface TextOptions {
  /** Most call-path lines per operation; 0 hides call paths, Infinity shows all. */
  maxCallLines: number;
  /** Most cache-line groups per operation. */
  maxLineGroups: number;
  /** Print the kernel calls of the machine's setup. */
  boot?: boolean;
}

interface CallNode {
  ev: TraceEvent;
  children: CallNode[];
}

function callTree(events: readonly TraceEvent[]): CallNode[] {
  const roots: CallNode[] = [];
  const stack: CallNode[] = [];
  for (const ev of events) {
    const n: CallNode = { ev, children: [] };
    while (stack.length > 0 && stack[stack.length - 1].ev.depth >= ev.depth) stack.pop();
    (stack.length > 0 ? stack[stack.length - 1].children : roots).push(n);
    if (ev.fn !== '#') stack.push(n);
  }
  return roots;
}

function label(ev: TraceEvent): string {
  if (ev.fn === '#') return `· ${ev.detail ?? ''}`;
  return ev.detail !== undefined ? `${ev.fn} (${ev.detail})` : ev.fn;
}

/**
 * The call path as an indented tree. A function whose only event is one call
 * is joined to it with an arrow (dma_alloc_attrs → dma_direct_alloc → ...), and
 * repeated identical lines (a maintenance loop) are counted instead of repeated.
 */
export function renderCalls(events: readonly TraceEvent[]): string[] {
  const out: string[] = [];
  const walk = (nodes: CallNode[], indent: number) => {
    for (const n of nodes) {
      let text = label(n.ev);
      let cur = n;
      while (cur.ev.fn !== '#' && cur.children.length === 1 && cur.children[0].ev.fn !== '#') {
        cur = cur.children[0];
        text += ` → ${label(cur.ev)}`;
      }
      out.push(`${'  '.repeat(indent)}${text}`);
      walk(cur.children, indent + 1);
    }
  };
  walk(callTree(events), 0);
  const merged: string[] = [];
  let count = 1;
  for (let i = 0; i < out.length; i++) {
    if (out[i] === out[i + 1]) {
      count++;
      continue;
    }
    merged.push(count > 1 ? `${out[i]}  ×${count}` : out[i]);
    count = 1;
  }
  return merged;
}

function accessText(a: LineAccess): string | null {
  const b = a.bytes !== undefined ? ` ${a.bytes}` : '';
  switch (a.kind) {
    case 'load':
      return `${a.by} load${b}`;
    case 'store':
      return `${a.by} store${b}`;
    case 'fill':
      return `speculative fill by ${a.by}`;
    case 'evict-L1':
    case 'evict-L2':
      return `${a.kind.slice(6)} eviction on ${a.by}`;
    case 'clean':
    case 'inval':
    case 'flush':
      return `${a.kind} (from ${a.by})`;
    case 'snoop-read':
      return `device snoop read${b}`;
    case 'snoop-write':
      return `device snoop write${b}`;
    case 'mem-read':
      return a.by === 'cache' ? null : `${a.by} read from memory${b}`;
    case 'mem-write':
      return a.by === 'cache' ? `write-back to memory${b}` : `${a.by} write to memory${b}`;
  }
}

function stateText(s: LineSnap, changes: ReadonlyMap<string, string>, bytes: boolean): string {
  const parts: string[] = [];
  const copy = (level: 'L1' | 'L2', where: number, c: { state: string; bytes: string }) => {
    const ch = changes.get(`${level}:${where}`);
    if (c.state === 'I' && ch === undefined) return;
    const who = level === 'L1' ? `h${where}` : `c${where}`;
    const st = ch !== undefined ? `${ch}→${c.state}` : c.state;
    parts.push(`${level} ${who} ${st}${bytes && c.bytes !== '' ? ` ${c.bytes}` : ''}`);
  };
  s.l1.forEach((c, h) => copy('L1', h, c));
  s.l2.forEach((c, k) => copy('L2', k, c));
  if (parts.length === 0) parts.push('not cached');
  parts.push(`mem${bytes ? ` ${s.mem}` : ''}`);
  return parts.join(', ');
}

/** Cache lines one operation touched, consecutive lines with the same story grouped. */
export function renderLines(st: ReplayStep, maxGroups: number): string[] {
  const rows: { line: number; sig: string; full: string }[] = [];
  for (const t of st.touched) {
    const changes = new Map<string, string>();
    for (const c of st.changes) if (c.line === t.line) changes.set(`${c.level}:${c.where}`, c.from);
    const seen = new Set<string>();
    const acts: string[] = [];
    const actsNoBytes: string[] = [];
    for (const a of st.accesses) {
      if (a.line !== t.line) continue;
      const s = accessText(a);
      if (s === null || seen.has(s)) continue;
      seen.add(s);
      acts.push(s);
      actsNoBytes.push(accessText({ ...a, bytes: undefined }) ?? '');
    }
    const full = `${acts.length > 0 ? `${acts.join('; ')} | ` : ''}${stateText(t.after, changes, true)}`;
    const sig = `${[...new Set(actsNoBytes)].join('; ')} | ${stateText(t.after, changes, false)}`;
    rows.push({ line: t.line, sig, full });
  }
  const groups: { first: (typeof rows)[number]; n: number; last: number }[] = [];
  for (const r of rows) {
    const g = groups[groups.length - 1];
    if (g !== undefined && g.first.sig === r.sig && r.line === g.last + 1) {
      g.n++;
      g.last = r.line;
    } else groups.push({ first: r, n: 1, last: r.line });
  }
  const out: string[] = [];
  for (const g of groups.slice(0, maxGroups)) {
    const addr = hex(lineBase(g.first.line));
    const span = g.n > 1 ? ` ..${hex(lineBase(g.last))} (${g.n} lines, first shown)` : '';
    out.push(`line ${addr}${span}: ${g.first.full}`);
  }
  if (groups.length > maxGroups) out.push(`… ${groups.length - maxGroups} more line groups`);
  return out;
}

function stepNo(st: ReplayStep, nOps: number): string {
  return st.final ? `F${st.step - nOps + 1}` : String(st.step + 1);
}

export function renderReplayText(file: string, f: CounterexampleFile, r: ReplayResult, o: TextOptions): string[] {
  const out: string[] = [];
  const p = f.profile;
  out.push(`dmacheck replay: ${file}`);
  out.push(`  profile ${p.name} (Linux ${p.kernel}${p.faults.length > 0 ? `, fault ${p.faults.join(', ')}` : ''}), harness ${f.harness}, invariant ${f.invariant}`);
  out.push(
    `  recorded by dmacheck ${f.dmacheckVersion}${f.createdAt !== undefined ? ` at ${f.createdAt}` : ''}: seed ${f.seed}, ${f.ops.length} operation(s), broken ${whenBroken(f.failure, f.ops.length)}`,
  );
  if (r.profileDrift) out.push(`  note: the built-in profile ${p.name} has changed since; replaying the recorded one`);
  if (r.hasMachine) out.push(`  caches: L1 per hart h0..h${r.harts - 1}, L2 per cluster c0..c${Math.max(0, r.clusters - 1)}; states I(nvalid) C(lean) D(irty); bytes shown from the touched offset`);
  if (o.boot === true || r.bootFailed) {
    out.push('', `boot: ${r.bootCalls.filter((e) => e.fn !== '#').length} kernel calls while the harness set the machine up${r.bootFailed ? ', the last of them oopsed' : ''}`);
    if (o.boot === true) {
      const calls = renderCalls(r.bootCalls);
      for (const c of calls.slice(0, o.maxCallLines)) out.push(`       ${c}`);
      if (calls.length > o.maxCallLines) out.push(`       … ${calls.length - o.maxCallLines} more call lines (--calls all)`);
    } else {
      // The oops is inside the last top-level call: show the end of its tree, where the path ends.
      let start = r.bootCalls.length - 1;
      while (start > 0 && r.bootCalls[start].depth > 0) start--;
      const calls = renderCalls(r.bootCalls.slice(Math.max(0, start)));
      const n = Math.max(1, o.maxCallLines);
      if (calls.length > n) out.push(`       … ${calls.length - n} call lines before (--boot --calls all)`);
      for (const c of calls.slice(-n)) out.push(`       ${c}`);
    }
  }
  for (const st of r.steps) {
    out.push('');
    const who = st.actor !== '' ? `   [${st.actor}]` : '';
    out.push(`${stepNo(st, f.ops.length).padStart(3)}. ${st.text}${who}`);
    if (o.maxCallLines > 0) {
      const calls = renderCalls(st.calls);
      if (calls.length === 0) out.push('       (no kernel function)');
      for (const c of calls.slice(0, o.maxCallLines)) out.push(`       ${c}`);
      if (calls.length > o.maxCallLines) out.push(`       … ${calls.length - o.maxCallLines} more call lines (--calls all)`);
    }
    if (r.hasMachine) for (const l of renderLines(st, o.maxLineGroups)) out.push(`     ${l}`);
    if (st.violation !== null) out.push(`     >>> ${st.violation.invariant === 'kernel-bug' ? 'kernel BUG' : `${st.violation.invariant} broken`} here`);
  }
  out.push('');
  out.push(...renderVerdict(f, r));
  return out;
}

/** "at boot", "after step 3" or "after final step F1" (failure.step counts from 0 over ops, then final ops). */
function whenBroken(x: { step: number; op: string }, nOps: number): string {
  if (x.op === 'boot') return 'at boot';
  return x.step >= nOps ? `after final step F${x.step - nOps + 1}` : `after step ${x.step + 1}`;
}

export function renderVerdict(f: CounterexampleFile, r: ReplayResult): string[] {
  const out: string[] = [];
  const rec = f.failure;
  const at = (x: { step: number; op: string }) => whenBroken(x, f.ops.length);
  if (r.failure === null) out.push(`replay: every invariant held (${f.invariant} was checked after each of ${r.steps.length} steps)`);
  else {
    const kb = r.failure.invariant === 'kernel-bug';
    out.push(`replay: ${kb ? 'kernel BUG (oops)' : `${r.failure.invariant} BROKEN`} ${at(r.failure)}${r.bootFailed ? '' : `: ${r.steps[r.failure.step]?.text ?? r.failure.op}`}`);
    out.push(`  ${r.failure.message}`);
    const doc = INVARIANT_DOCS[r.failure.invariant];
    if (doc !== undefined) out.push(`  the invariant: ${doc}`);
  }
  out.push(`recorded: ${rec.invariant === 'kernel-bug' ? 'kernel BUG' : `${rec.invariant} broken`} ${at(rec)}`);
  if (r.reproduced) out.push(`verdict: reproduced (same step, same invariant${r.sameMessage ? ', same message' : '; the message differs'})`);
  else out.push('verdict: NOT reproduced');
  const declared = expectationOf(f.profile, f.invariant);
  out.push(
    `profile ${f.profile.name} declares ${f.invariant}: ${declared}` +
      (declared === 'violated' ? ' (an expected violation: the defect is caught)' : ' (a violation here is a bug in the modelled kernel or in the model)'),
  );
  return out;
}
