// Reads a kernel `.config` (what scripts/kconfig writes: `CONFIG_X=y`, `=m`,
// `="text"`, numbers, `# CONFIG_X is not set`, comments) into the resolved
// symbol record a Profile carries. Strict on purpose: a line that is none of
// those is an error with its line number, so a truncated or hand-mangled file
// is reported instead of silently dropping symbols. The same goes for lines
// scripts/kconfig would skip (conf_read_simple, confdata.c, 5.10 and 6.6): an
// indented line ("unexpected data") or a blank after `=` (conf_set_sym_val
// refuses " y"): the kernel build keeps the symbol's default, so reading the
// value would model a kernel nobody builds.

export type KconfigValue = boolean | number | string;

export class KconfigError extends Error {
  readonly line: number;
  constructor(line: number, message: string, source = '.config') {
    super(`${source}:${line}: ${message}`);
    this.line = line;
  }
}

export interface ParsedKconfig {
  /**
   * Set symbols with their CONFIG_ prefix: `y` → true, `m` → 'm' (enabled for
   * kconfigEnabled), `n` → false, strings unescaped, numbers as numbers when
   * exactly representable (a 64-bit hex such as PAGE_OFFSET stays a string).
   */
  symbols: Record<string, KconfigValue>;
  /** Symbols written as `# CONFIG_X is not set`. */
  notSet: string[];
  /** From the header comment "Linux/riscv 6.6.30 Kernel Configuration". */
  kernelRelease?: string;
  arch?: string;
  /** Reassignments (fragments merged by cat): the later value wins, as in confdata.c. */
  warnings: string[];
}

const SYM = /^CONFIG_[A-Za-z0-9_]+$/;
const ASSIGN = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^#\s*(CONFIG_[A-Za-z0-9_]+) is not set\s*$/;
const HEADER = /^#\s*Linux\/([A-Za-z0-9_]+)\s+(\S+)\s+Kernel Configuration\s*$/;

/** Parses `.config` text; throws KconfigError on a malformed line. */
export function parseKconfig(text: string, source = '.config'): ParsedKconfig {
  const out: ParsedKconfig = { symbols: {}, notSet: [], warnings: [] };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const no = i + 1;
    const line = lines[i].trim();
    if (line === '') continue;
    if (/^\s/.test(lines[i])) {
      throw new KconfigError(no, `indented line "${clip(line)}": scripts/kconfig ignores it ("unexpected data"); remove the leading blanks`, source);
    }
    if (line.startsWith('#')) {
      const ns = NOT_SET.exec(line);
      if (ns) {
        assign(out, ns[1], undefined, no);
        continue;
      }
      const h = HEADER.exec(line);
      if (h && out.kernelRelease === undefined) {
        out.arch = h[1];
        out.kernelRelease = h[2];
      }
      continue;
    }
    // The untrimmed line: a blank after a number matters (parseValue).
    const a = ASSIGN.exec(lines[i]);
    if (!a) {
      const eq = line.indexOf('=');
      const name = eq > 0 ? line.slice(0, eq) : line;
      if (eq > 0 && !SYM.test(name)) throw new KconfigError(no, `"${name}" is not a CONFIG_ symbol name`, source);
      throw new KconfigError(no, `expected CONFIG_NAME=value, "# CONFIG_NAME is not set" or a comment, got "${clip(line)}"`, source);
    }
    assign(out, a[1], parseValue(a[2], no, source), no);
  }
  return out;
}

function assign(out: ParsedKconfig, sym: string, v: KconfigValue | undefined, no: number): void {
  const had = sym in out.symbols || out.notSet.includes(sym);
  if (had) out.warnings.push(`line ${no}: ${sym} reassigned (the later value wins)`);
  delete out.symbols[sym];
  out.notSet = out.notSet.filter((s) => s !== sym);
  if (v === undefined) out.notSet.push(sym);
  else out.symbols[sym] = v;
}

function parseValue(raw: string, no: number, source: string): KconfigValue {
  if (/^\s/.test(raw)) {
    throw new KconfigError(no, `blank after "=": scripts/kconfig refuses the value "${clip(raw)}" and keeps the symbol's default`, source);
  }
  const v = raw.trim();
  if (v === 'y') return true;
  if (v === 'n') return false;
  if (v === 'm') return 'm';
  if (v.startsWith('"')) return parseString(v, no, source);
  const numeric = /^-?[0-9]+$/.test(v) || /^0[xX][0-9a-fA-F]+$/.test(v);
  // sym_string_valid reads an int or hex to the end of the line: "12 " is refused (a bool only looks at p[0]).
  if (numeric && v !== raw) throw new KconfigError(no, `blank after the number "${clip(v)}": scripts/kconfig refuses it and keeps the symbol's default`, source);
  if (/^-?[0-9]+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (/^0[xX][0-9a-fA-F]+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v.toLowerCase();
  }
  if (v === '') throw new KconfigError(no, 'empty value (write "# CONFIG_X is not set" or CONFIG_X="")', source);
  throw new KconfigError(no, `value "${clip(v)}" is not y, m, n, a number, a hex number or a "quoted string"`, source);
}

/** Kconfig writes `"` and `\` escaped with a backslash; a backslash keeps whatever follows it. */
function parseString(v: string, no: number, source: string): string {
  let s = '';
  let i = 1;
  let closed = false;
  for (; i < v.length; i++) {
    const c = v[i];
    if (c === '"') {
      closed = true;
      break;
    }
    // A trailing backslash escapes nothing: the string stays open.
    if (c === '\\') i++;
    if (i < v.length) s += v[i];
  }
  if (!closed) throw new KconfigError(no, `unterminated string ${clip(v)}`, source);
  const rest = v.slice(i + 1).trim();
  if (rest !== '') throw new KconfigError(no, `text after the closing quote: "${clip(rest)}"`, source);
  return s;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** "6.6.30" / "6.6.0-rc2" → [6, 6]; null when the release is not major.minor[...]. */
export function releaseMajorMinor(release: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : null;
}
