// Test helper: run a function under a Tracer and return its kernel call tree.
// The trace is part of what the model reports (replays print it, kernel-path
// coverage counts its names and notes), so tests pin names, nesting and notes.
import { Tracer, setTracer } from '../../reference/trace.ts';

export interface Traced<T> {
  result: T;
  /** Kernel functions entered, indented two spaces per depth: "  gen_pool_first_fit". */
  calls: string[];
  /** Notes (knote details) in order. */
  notes: string[];
  /** Depth of an event recorded after fn returned: 0 when every kenter had its kexit. */
  depthAfter: number;
}

export function traceCalls<T>(fn: () => T): Traced<T> {
  const t = new Tracer();
  setTracer(t);
  let result: T;
  try {
    result = fn();
    t.note('<end>');
  } finally {
    setTracer(null);
  }
  const end = t.events[t.events.length - 1];
  const body = t.events.slice(0, -1);
  return {
    result,
    calls: body.filter((e) => e.fn !== '#').map((e) => `${'  '.repeat(e.depth)}${e.fn}`),
    notes: body.filter((e) => e.fn === '#').map((e) => e.detail ?? ''),
    depthAfter: end.depth,
  };
}

/** Like traceCalls for a function expected to throw: the notes recorded before the throw. */
export function notesUntilThrow(fn: () => unknown): string[] {
  const t = new Tracer();
  setTracer(t);
  try {
    fn();
  } catch {
    // the caller asserts the error itself
  } finally {
    setTracer(null);
  }
  return t.events.filter((e) => e.fn === '#').map((e) => e.detail ?? '');
}
