// A small, strict argument parser: unknown options and missing values are a
// one-line error (exit 2), never a stack trace.

export class UsageError extends Error {}

export interface OptionSpec {
  /** Takes a value (--runs 100) or is a flag (--help). */
  value: boolean;
  repeat?: boolean;
}

export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>) {
  const opts: Record<string, string[]> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const s = spec[name];
    if (s === undefined) throw new UsageError(`unknown option --${name} (see --help)`);
    let v = 'true';
    if (s.value) {
      if (eq >= 0) v = a.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
        v = argv[++i];
      }
    } else if (eq >= 0) throw new UsageError(`--${name} takes no value`);
    if (opts[name] !== undefined && !s.repeat) throw new UsageError(`--${name} given twice`);
    (opts[name] ??= []).push(v);
  }
  return { opts, positional };
}

export function intOption(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name} must be an integer, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}
