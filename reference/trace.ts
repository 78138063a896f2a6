// Kernel call-path recording for replays. Observation only: whether a tracer is
// installed never changes what the reference computes, so determinism holds.

export interface TraceEvent {
  depth: number;
  fn: string;
  detail?: string;
}

export class Tracer {
  readonly events: TraceEvent[] = [];
  private depth = 0;
  enter(fn: string, detail?: string): void {
    this.events.push(detail === undefined ? { depth: this.depth, fn } : { depth: this.depth, fn, detail });
    this.depth++;
  }
  exit(): void {
    if (this.depth > 0) this.depth--;
  }
  /** A note inside the current function (a branch taken, a value computed). */
  note(detail: string): void {
    this.events.push({ depth: this.depth, fn: '#', detail });
  }
  clear(): void {
    this.events.length = 0;
    this.depth = 0;
  }
}

let active: Tracer | null = null;

// The kernel functions entered and not yet left, kept whether or not a tracer
// is installed: dump_stack() in a report (a sleep in atomic context) needs it.
const callStack: string[] = [];

export function setTracer(t: Tracer | null): void {
  active = t;
}

/** Whether kernel calls are being recorded (then nothing may skip them: see reference/boot-image.ts). */
export function isTracing(): boolean {
  return active !== null;
}

/** Call at the top of every function that stands for a kernel function; pair with kexit() in a finally. */
export function kenter(fn: string, detail?: string): void {
  callStack.push(fn);
  if (active !== null) active.enter(fn, detail);
}

export function kexit(): void {
  callStack.pop();
  if (active !== null) active.exit();
}

/** The kernel call stack right now, outermost first (dump_stack prints it innermost first). */
export function kstack(): string[] {
  return callStack.slice();
}

/** Record a named branch taken inside a kernel function (feeds kernel-path coverage). */
export function knote(detail: string): void {
  if (active !== null) active.note(detail);
}
