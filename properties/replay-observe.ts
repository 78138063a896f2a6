// Watches a Machine's caches and memory while a replay runs, by wrapping the
// methods of those two instances. Observation only: every wrapper passes its
// arguments and result through unchanged, so the replay computes exactly what
// runSequence computes. Only the replay tool attaches it; reference/ never does.

import type { Machine } from '../reference/system.ts';
import { LINE_BYTES, lineOf } from '../reference/mm/memory.ts';

export type AccessKind =
  | 'load'
  | 'store'
  | 'fill'
  | 'evict-L1'
  | 'evict-L2'
  | 'clean'
  | 'inval'
  | 'flush'
  | 'snoop-read'
  | 'snoop-write'
  | 'mem-read'
  | 'mem-write';

/** One access to one line. `by`: "hart3", "device", "uncached" (CPU or kernel through an NC/IO alias), "cache" (fill or write-back). */
export interface LineAccess {
  line: number;
  /** First byte offset in the line the access covered. */
  off: number;
  kind: AccessKind;
  by: string;
  /** Up to 4 bytes at `off` as hex, for data moves (reads report what was returned). */
  bytes?: string;
}

export function hexBytes(b: Uint8Array, off: number, n = 4): string {
  let s = '';
  for (let i = off; i < Math.min(b.length, off + n); i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

type Fn = (...args: never[]) => unknown;

export interface Observer {
  accesses: LineAccess[];
  /** Whether direct memory accesses now come from a device (a device operation is running). */
  deviceOp: boolean;
  /** Suspends recording (snapshots read memory too). */
  paused: boolean;
  detach(): void;
}

/** Splits [pa, pa+len) into per-line pieces. */
function pieces(pa: bigint, len: number): { line: number; off: number; at: number }[] {
  const out: { line: number; off: number; at: number }[] = [];
  let done = 0;
  do {
    const a = pa + BigInt(done);
    const off = Number(a & BigInt(LINE_BYTES - 1));
    out.push({ line: lineOf(a), off, at: done });
    done += LINE_BYTES - off;
  } while (done < len);
  return out;
}

export function observe(m: Machine): Observer {
  const obs: Observer = { accesses: [], deviceOp: false, paused: false, detach: () => {} };
  let depth = 0;
  const restore: (() => void)[] = [];
  // Entries go in before those of nested calls (an eviction, then its write-back), though they are built after the call (reads report their data).
  let out: LineAccess[] = [];
  const rec = (a: LineAccess) => {
    if (!obs.paused) out.push(a);
  };
  function wrap<T extends object>(target: T, name: keyof T & string, log: (args: unknown[], result: unknown, nested: boolean) => void): void {
    const orig = target[name] as unknown as Fn;
    const own = Object.prototype.hasOwnProperty.call(target, name);
    const w = function (this: unknown, ...args: unknown[]) {
      const nested = depth > 0;
      const at = obs.accesses.length;
      depth++;
      try {
        const r = (orig as (...a: unknown[]) => unknown).apply(target, args);
        out = [];
        log(args, r, nested);
        obs.accesses.splice(at, 0, ...out);
        return r;
      } finally {
        depth--;
      }
    };
    (target as Record<string, unknown>)[name] = w;
    restore.push(() => {
      if (own) (target as Record<string, unknown>)[name] = orig;
      else delete (target as Record<string, unknown>)[name];
    });
  }
  const c = m.caches;
  const direct = () => (obs.deviceOp ? 'device' : 'uncached');
  // Cache entry points: only the outermost call is an access; nested ones are the cache's own work.
  wrap(c, 'load', ([hart, pa, len], r, nested) => {
    if (!nested) for (const p of pieces(pa as bigint, len as number)) rec({ line: p.line, off: p.off, kind: 'load', by: `hart${hart}`, bytes: hexBytes(r as Uint8Array, p.at) });
  });
  wrap(c, 'store', ([hart, pa, data], _r, nested) => {
    const d = data as Uint8Array;
    if (!nested) for (const p of pieces(pa as bigint, d.length)) rec({ line: p.line, off: p.off, kind: 'store', by: `hart${hart}`, bytes: hexBytes(d, p.at) });
  });
  wrap(c, 'speculativeFill', ([hart, line], _r, nested) => {
    if (!nested) rec({ line: line as number, off: 0, kind: 'fill', by: `hart${hart}` });
  });
  wrap(c, 'evictLine', ([hart, level, line], _r, nested) => {
    if (!nested) rec({ line: line as number, off: 0, kind: level === 'L1' ? 'evict-L1' : 'evict-L2', by: `hart${hart}` });
  });
  for (const [name, kind] of [
    ['cleanLine', 'clean'],
    ['invalLine', 'inval'],
    ['flushLine', 'flush'],
  ] as const) {
    wrap(c, name, ([hart, line], _r, nested) => {
      if (!nested) rec({ line: line as number, off: 0, kind, by: `hart${hart}` });
    });
  }
  wrap(c, 'snoopRead', ([pa, len], r, nested) => {
    if (!nested) for (const p of pieces(pa as bigint, len as number)) rec({ line: p.line, off: p.off, kind: 'snoop-read', by: 'device', bytes: hexBytes(r as Uint8Array, p.at) });
  });
  wrap(c, 'snoopWrite', ([pa, data], _r, nested) => {
    const d = data as Uint8Array;
    if (!nested) for (const p of pieces(pa as bigint, d.length)) rec({ line: p.line, off: p.off, kind: 'snoop-write', by: 'device', bytes: hexBytes(d, p.at) });
  });
  // Memory: outside a cache call it is an uncached CPU access or a non-snooping device.
  const mem = m.mem;
  wrap(mem, 'read', ([pa, len], r, nested) => {
    for (const p of pieces(pa as bigint, len as number)) rec({ line: p.line, off: p.off, kind: 'mem-read', by: nested ? 'cache' : direct(), bytes: hexBytes(r as Uint8Array, p.at) });
  });
  wrap(mem, 'write', ([pa, data], _r, nested) => {
    const d = data as Uint8Array;
    for (const p of pieces(pa as bigint, d.length)) rec({ line: p.line, off: p.off, kind: 'mem-write', by: nested ? 'cache' : direct(), bytes: hexBytes(d, p.at) });
  });
  wrap(mem, 'readLine', ([line], r, nested) => {
    rec({ line: line as number, off: 0, kind: 'mem-read', by: nested ? 'cache' : direct(), bytes: hexBytes(r as Uint8Array, 0) });
  });
  wrap(mem, 'writeLine', ([line, data], _r, nested) => {
    rec({ line: line as number, off: 0, kind: 'mem-write', by: nested ? 'cache' : direct(), bytes: hexBytes(data as Uint8Array, 0) });
  });
  obs.detach = () => {
    for (const r of restore.reverse()) r();
  };
  return obs;
}
