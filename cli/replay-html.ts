// The replay as one self-contained HTML page (inline CSS, no scripts, no
// external assets): a timeline with one column per operation and, for each
// cache line involved, lanes for the CPU, every L1 and L2 that ever held it,
// memory and the device. The failing step is highlighted; each column header
// carries the call path as a tooltip, and a details panel per step below.

import { lineBase } from '../reference/mm/memory.ts';
import { hex } from '../reference/types.ts';
import type { CounterexampleFile } from '../properties/counterexample-file.ts';
import type { LineSnap, ReplayResult, ReplayStep } from '../properties/replay.ts';
import type { LineAccess } from '../properties/replay-observe.ts';
import { renderCalls, renderLines, renderVerdict } from './replay-text.ts';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const CSS = `
body{font:13px/1.35 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#1d232a;background:#fff}
h1{font-size:18px;margin:0 0 4px}
.meta{color:#4a5560;margin:2px 0}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-weight:600;color:#fff}
.ok{background:#2e7d32}.bad{background:#c62828}
.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:14px;height:14px;vertical-align:-3px;border:1px solid #999;margin-right:4px;border-radius:2px}
.wrap{overflow-x:auto;border:1px solid #d0d7de;margin:12px 0;max-width:100%}
table.tl{border-collapse:separate;border-spacing:0;font:12px/1.2 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.tl th,.tl td{border-right:1px solid #e3e7eb;border-bottom:1px solid #e3e7eb;padding:3px 4px;text-align:center;white-space:nowrap;min-width:58px}
.tl th.lane{position:sticky;left:0;background:#f6f8fa;text-align:right;min-width:96px;z-index:1;font-weight:600}
.tl thead th{background:#f6f8fa}
.tl thead th a{color:inherit;text-decoration:none}
.tl tr.op td{font-size:11px;max-width:90px;overflow:hidden;text-overflow:ellipsis;color:#333}
.tl tr.grp th{background:#eaeef2;text-align:left;position:sticky;left:0;font-weight:600;padding:5px 6px}
.tl td.I{background:#f4f5f6;color:#9aa3ab}
.tl td.C{background:#cfe8fc;color:#0b3d66}
.tl td.D{background:#ffcc80;color:#6b3a00;font-weight:600}
.tl td.chg{box-shadow:inset 0 0 0 2px #37474f}
.tl td.memchg{background:#fff59d;font-weight:600}
.tl td .b{display:block;font-size:10px;opacity:.85}
.tl .fail{background-image:linear-gradient(rgba(229,57,53,.16),rgba(229,57,53,.16))}
.tl thead th.fail{background:#e53935;color:#fff}
.tl td.fail{border-left:2px solid #e53935;border-right:2px solid #e53935}
.acc{font-size:11px;color:#1d232a}
.dev{color:#6a1b9a;font-weight:600}
details{border:1px solid #d0d7de;border-radius:4px;margin:4px 0;padding:2px 8px}
details.failing{border-color:#e53935;background:#fff5f5}
summary{cursor:pointer;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{margin:4px 0 6px;font-size:11.5px;white-space:pre;overflow-x:auto}
.wrap-pre{white-space:pre-wrap}
.verdict{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;background:#f6f8fa;padding:8px;border-radius:4px}
`;

function stepLabel(st: ReplayStep, nOps: number): string {
  return st.final ? `F${st.step - nOps + 1}` : String(st.step + 1);
}

/** Short text of an operation for its column: the op kind, else the first words of its line. */
function shortOp(st: ReplayStep): string {
  const k = (st.op as { k?: unknown }).k;
  return typeof k === 'string' ? k : st.text.split(/[\s(]/)[0].slice(0, 16);
}

function accessCell(as: LineAccess[], device: boolean, extra: string): string {
  const parts: string[] = [];
  for (const a of as) {
    let s: string | null = null;
    const isDev = a.by === 'device';
    if (device !== isDev) continue;
    const h = a.by.startsWith('hart') ? `h${a.by.slice(4)}` : a.by === 'uncached' ? 'nc' : '';
    switch (a.kind) {
      case 'load':
        s = `${h} ld ${a.bytes?.slice(0, 4) ?? ''}`;
        break;
      case 'store':
        s = `${h} st ${a.bytes?.slice(0, 4) ?? ''}`;
        break;
      case 'fill':
        s = `fill ${h}`;
        break;
      case 'evict-L1':
      case 'evict-L2':
        s = `ev ${a.kind.slice(6)} ${h}`;
        break;
      case 'clean':
      case 'inval':
      case 'flush':
        s = a.kind;
        break;
      case 'snoop-read':
      case 'mem-read':
        if (a.by !== 'cache') s = `${isDev ? '' : `${h} `}rd ${a.bytes?.slice(0, 4) ?? ''}`;
        break;
      case 'snoop-write':
      case 'mem-write':
        if (a.by !== 'cache') s = `${isDev ? '' : `${h} `}wr ${a.bytes?.slice(0, 4) ?? ''}`;
        break;
    }
    if (s !== null && !parts.includes(s.trim())) parts.push(s.trim());
  }
  if (parts.length === 0) return `<td class="${extra}"></td>`;
  const shown = parts.slice(0, 2).map(esc).join('<br>') + (parts.length > 2 ? '<br>…' : '');
  return `<td class="acc${device ? ' dev' : ''} ${extra}" title="${esc(parts.join('\n'))}">${shown}</td>`;
}

export function renderReplayHtml(file: string, f: CounterexampleFile, r: ReplayResult): string {
  const nOps = f.ops.length;
  const failStep = r.failure?.step ?? -1;
  const tl = r.timeline;
  const cols = r.steps;
  const failCls = (st: ReplayStep) => (st.step === failStep ? ' fail' : '');
  const head: string[] = [];
  head.push(
    `<tr><th class="lane">step</th>${tl ? '<th title="state before the first operation">start</th>' : ''}${cols
      .map((st) => {
        const tip = [st.text, '', ...renderCalls(st.calls).slice(0, 40)].join('\n');
        return `<th class="${failCls(st).trim()}" title="${esc(tip)}"><a href="#s${st.step}">${esc(stepLabel(st, nOps))}</a></th>`;
      })
      .join('')}</tr>`,
  );
  head.push(
    `<tr class="op"><th class="lane">operation</th>${tl ? '<td></td>' : ''}${cols
      .map((st) => `<td class="${failCls(st).trim()}" title="${esc(st.text)}">${esc(shortOp(st))}</td>`)
      .join('')}</tr>`,
  );
  if (r.hasMachine) {
    head.push(
      `<tr class="op"><th class="lane">actor</th>${tl ? '<td></td>' : ''}${cols
        .map((st) => `<td class="${failCls(st).trim()}">${esc(st.actor.replace('kernel on ', 'kernel ').replace('hw on ', 'hw '))}</td>`)
        .join('')}</tr>`,
    );
  }
  const body: string[] = [];
  if (tl !== undefined) {
    const span = cols.length + 2;
    tl.lines.forEach((line, i) => {
      const snaps = tl.snaps.map((s) => s[i]);
      body.push(`<tr class="grp"><th colspan="${span}">line ${esc(hex(lineBase(line)))}${tl.alike[i] > 0 ? ` and ${tl.alike[i]} more line(s) with the same history` : ''} · bytes from offset ${tl.focus[i]}</th></tr>`);
      const accs = (st: ReplayStep) => st.accesses.filter((a) => a.line === line);
      body.push(`<tr><th class="lane">CPU</th><td></td>${cols.map((st) => accessCell(accs(st), false, failCls(st).trim())).join('')}</tr>`);
      const cacheRow = (label: string, get: (s: LineSnap) => { state: string; bytes: string }) => {
        const cells = snaps.map((s, k) => {
          const c = get(s);
          const prev = k > 0 ? get(snaps[k - 1]) : null;
          const st = k > 0 ? cols[k - 1] : null;
          const changed = prev !== null && (prev.state !== c.state || prev.bytes !== c.bytes);
          const cls = [c.state, changed ? 'chg' : '', st ? failCls(st).trim() : ''].join(' ').trim();
          const tip = `${label} ${c.state === 'I' ? 'Invalid' : c.state === 'C' ? 'Clean' : 'Dirty'}${c.bytes ? `: ${c.bytes}..` : ''}`;
          return `<td class="${cls}" title="${esc(tip)}">${c.state}${c.bytes ? `<span class="b">${esc(c.bytes.slice(0, 4))}</span>` : ''}</td>`;
        });
        body.push(`<tr><th class="lane">${esc(label)}</th>${cells.join('')}</tr>`);
      };
      const everValid = (pick: (s: LineSnap) => { state: string }[], n: number) =>
        Array.from({ length: n }, (_, w) => w).filter((w) => snaps.some((s) => pick(s)[w].state !== 'I'));
      const harts = everValid((s) => s.l1, r.harts);
      const clusters = everValid((s) => s.l2, r.clusters);
      if (harts.length === 0) cacheRow('L1 (all harts)', () => ({ state: 'I', bytes: '' }));
      for (const h of harts) cacheRow(`L1 h${h}`, (s) => s.l1[h]);
      if (r.clusters > 0 && clusters.length === 0) cacheRow('L2 (all)', () => ({ state: 'I', bytes: '' }));
      for (const c of clusters) cacheRow(`L2 c${c}`, (s) => s.l2[c]);
      body.push(
        `<tr><th class="lane">memory</th>${snaps
          .map((s, k) => {
            const changed = k > 0 && snaps[k - 1].mem !== s.mem;
            const st = k > 0 ? cols[k - 1] : null;
            const cls = [changed ? 'memchg' : '', st ? failCls(st).trim() : ''].join(' ').trim();
            return `<td class="${cls}" title="memory: ${esc(s.mem)}..">${esc(s.mem.slice(0, 4))}</td>`;
          })
          .join('')}</tr>`,
      );
      body.push(`<tr><th class="lane">device</th><td></td>${cols.map((st) => accessCell(accs(st), true, failCls(st).trim())).join('')}</tr>`);
    });
  }
  const bootTail = (() => {
    if (!r.bootFailed) return '';
    let start = r.bootCalls.length - 1;
    while (start > 0 && r.bootCalls[start].depth > 0) start--;
    const calls = renderCalls(r.bootCalls.slice(Math.max(0, start)));
    return `<details class="failing" open><summary>boot: the machine oopsed while it was set up</summary><pre>${esc(calls.slice(-60).join('\n'))}</pre><pre class="wrap-pre">${esc(r.failure?.message ?? '')}</pre></details>`;
  })();
  const details = r.steps.map((st) => {
    const calls = renderCalls(st.calls);
    const lines = r.hasMachine ? renderLines(st, 24) : [];
    const v = st.violation !== null ? `\n>>> ${st.violation.invariant}: ${st.violation.message}` : '';
    return `<details id="s${st.step}"${st.violation !== null ? ' class="failing" open' : ''}><summary>${esc(stepLabel(st, nOps))}. ${esc(st.text)}${st.actor ? `  [${esc(st.actor)}]` : ''}</summary><pre>${esc(calls.length > 0 ? calls.join('\n') : '(no kernel function)')}</pre>${lines.length > 0 ? `<pre>${esc(lines.join('\n'))}</pre>` : ''}${v ? `<pre class="wrap-pre">${esc(v.trim())}</pre>` : ''}</details>`;
  });
  const p = f.profile;
  const badge = r.reproduced ? '<span class="badge ok">reproduced</span>' : '<span class="badge bad">NOT reproduced</span>';
  const legend = r.hasMachine
    ? `<p class="legend"><span><i class="sw" style="background:#f4f5f6"></i>I invalid</span><span><i class="sw" style="background:#cfe8fc"></i>C clean</span><span><i class="sw" style="background:#ffcc80"></i>D dirty</span><span><i class="sw" style="background:#fff;box-shadow:inset 0 0 0 2px #37474f"></i>changed by this step</span><span><i class="sw" style="background:#fff59d"></i>memory written</span><span><i class="sw" style="background:#e53935"></i>failing step</span> &nbsp; cells show the state and the first bytes from the offset named per line; hover for more</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dmacheck replay: ${esc(p.name)} / ${esc(f.invariant)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(p.name)} — ${esc(f.invariant)} ${badge}</h1>
<p class="meta">${esc(file)} · Linux ${esc(p.kernel)}${p.faults.length ? ` · fault ${esc(p.faults.join(', '))}` : ''} · harness ${esc(f.harness)} · ${nOps} operation(s) · recorded by dmacheck ${esc(f.dmacheckVersion)}</p>
${r.failure ? `<p class="meta"><b>${esc(r.failure.invariant)}</b> ${r.bootFailed ? 'at boot' : `after step ${esc(stepLabel(r.steps[r.failure.step], nOps))}`}: ${esc(r.failure.message)}</p>` : '<p class="meta">every invariant held</p>'}
${legend}
${cols.length > 0 ? `<div class="wrap"><table class="tl"><thead>${head.join('\n')}</thead><tbody>${body.join('\n')}</tbody></table></div>` : ''}
<h2 style="font-size:15px">Steps (kernel call path and cache lines)</h2>
${bootTail}${details.join('\n')}
<h2 style="font-size:15px">Verdict</h2>
<div class="verdict">${esc(renderVerdict(f, r).join('\n'))}</div>
</body></html>
`;
}
