// How the kernel cuts its command line into early parameters: lib/cmdline.c
// next_arg and init/main.c parse_early_param → kernel/params.c parse_args with
// do_early_param (5.10 and 6.6 alike). Quotes matter: `cma="64M"` reaches
// early_cma as 64M, a quote keeps blanks inside one argument, and an unpaired
// quote runs to the end of the line. Splitting on blanks gets those wrong.
// Pure string functions: no tracing (they run once per boot, before any
// kernel function the trace shows).

/** One parameter as do_early_param sees it: `param=val`, or val null without `=`. */
export interface KernelParam {
  param: string;
  val: string | null;
}

/** lib/ctype.c isspace: the C blanks, and 0xa0 (Latin-1 no-break space), which the kernel's table marks _S. */
function isKernelSpace(c: string): boolean {
  return c === ' ' || (c >= '\t' && c <= '\r') || c === '\u00a0';
}

/** lib/string.c skip_spaces. */
export function skip_spaces(s: string, pos: number): number {
  let i = pos;
  while (i < s.length && isKernelSpace(s[i])) i++;
  return i;
}

/**
 * lib/cmdline.c next_arg (5.10, 6.6): the argument starting at `pos` and where the next one starts.
 * The kernel cuts the buffer with NULs in place; the cuts are kept as positions here: after the
 * name at the first `=` (one at position 0 does not count), before a closing quote of a value that
 * opened with one, and before a final quote of an argument that opened with one.
 */
export function next_arg(args: string, pos: number): KernelParam & { next: number } {
  let s = pos;
  let inQuote = false;
  let quoted = false;
  if (args[s] === '"') {
    s++;
    inQuote = true;
    quoted = true;
  }
  let i = 0;
  let equals = 0;
  for (; s + i < args.length; i++) {
    const c = args[s + i];
    if (isKernelSpace(c) && !inQuote) break;
    if (equals === 0 && c === '=') equals = i;
    if (c === '"') inQuote = !inQuote;
  }
  const end = s + i;
  // Where the kernel writes args[i-1] = '\0' (6.6 guards i > 0; at i = 0 the byte is the opening quote, outside the argument).
  const lastIsQuote = i > 0 && args[end - 1] === '"';
  let cut = end;
  let param: string;
  let val: string | null = null;
  if (equals === 0) {
    if (quoted && lastIsQuote) cut = end - 1;
    param = args.slice(s, cut);
  } else {
    param = args.slice(s, s + equals);
    let v = s + equals + 1;
    if (args[v] === '"') {
      v++;
      if (lastIsQuote) cut = end - 1;
    }
    if (quoted && lastIsQuote) cut = end - 1;
    val = v <= cut ? args.slice(v, cut) : args.slice(v, end);
  }
  const next = end < args.length ? end + 1 : end;
  return { param, val, next: skip_spaces(args, next) };
}

/** kernel/params.c parameq: names compare with '-' and '_' the same. */
export function parameq(a: string, b: string): boolean {
  return a.length === b.length && a.replace(/-/g, '_') === b.replace(/-/g, '_');
}

/**
 * Model helper: what parse_early_param hands do_early_param, in order. parse_args skips leading
 * blanks and stops at a bare `--` (the rest is for init).
 */
export function earlyParams(cmdline: string): KernelParam[] {
  const out: KernelParam[] = [];
  let pos = skip_spaces(cmdline, 0);
  while (pos < cmdline.length) {
    const a = next_arg(cmdline, pos);
    if (a.val === null && a.param === '--') break;
    out.push({ param: a.param, val: a.val });
    pos = a.next;
  }
  return out;
}
