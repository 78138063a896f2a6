// reference/config/kconfig.ts: what StrykerJS showed no other test pins down
// (bench/mutation-equivalents.md lists the survivors no test can kill). Every
// parse runs inside its `it`, so the mutation run attributes it to the test.
import { describe, expect, it } from 'vitest';
import { KconfigError, parseKconfig, releaseMajorMinor } from '../../reference/config/kconfig.ts';

function err(text: string): KconfigError {
  try {
    parseKconfig(text, 'x.config');
  } catch (e) {
    if (e instanceof KconfigError) return e;
    throw e;
  }
  throw new Error('no KconfigError');
}

describe('parseKconfig: lines', () => {
  it('a whitespace-only line is a blank line, not an error (scripts/kconfig conf_read_simple reads on past it)', () => {
    const k = parseKconfig('CONFIG_A=y\n  \t\nCONFIG_B=m\n');
    expect(k.symbols).toEqual({ CONFIG_A: true, CONFIG_B: 'm' });
  });

  it('a line starting with "=" has no symbol name at all: the "expected CONFIG_NAME=value" diagnosis', () => {
    const e = err('CONFIG_A=y\n=y\n');
    expect(e.line).toBe(2);
    expect(e.message).toBe('x.config:2: expected CONFIG_NAME=value, "# CONFIG_NAME is not set" or a comment, got "=y"');
  });

  it('the release comes from the header at the top; a header comment further down (a fragment added with cat) does not replace it', () => {
    // scripts/kconfig conf_write writes the heading once, as the file's first lines.
    const k = parseKconfig('#\n# Linux/riscv 6.6.30 Kernel Configuration\n#\nCONFIG_A=y\n# Linux/arm64 5.10.0 Kernel Configuration\nCONFIG_B=y\n');
    expect(k.kernelRelease).toBe('6.6.30');
    expect(k.arch).toBe('riscv');
  });
});

describe('parseKconfig: reassignment (confdata.c: the later value wins)', () => {
  it('a symbol first "is not set", then set, is set and no longer listed as not set', () => {
    const k = parseKconfig('# CONFIG_A is not set\n# CONFIG_B is not set\nCONFIG_A=y\n');
    expect(k.symbols).toEqual({ CONFIG_A: true });
    expect(k.notSet).toEqual(['CONFIG_B']);
    expect(k.warnings).toEqual(['line 3: CONFIG_A reassigned (the later value wins)']);
  });

  it('"is not set" twice lists the symbol once', () => {
    const k = parseKconfig('# CONFIG_A is not set\n# CONFIG_A is not set\n');
    expect(k.notSet).toEqual(['CONFIG_A']);
  });
});

describe('parseKconfig: values (y, m, n, "string", decimal, hex; nothing else)', () => {
  it('digits inside a word are not a number', () => {
    expect(err('CONFIG_A=abc123').message).toMatch(/value "abc123" is not y, m, n, a number/);
  });

  it('a hex number must be the whole value: nothing before "0x", nothing after the digits', () => {
    expect(err('CONFIG_A=10x1f').message).toMatch(/value "10x1f" is not y, m, n/);
    expect(err('CONFIG_A=0x1fzz').message).toMatch(/value "0x1fzz" is not y, m, n/);
    expect(parseKconfig('CONFIG_A=0x1f\n').symbols.CONFIG_A).toBe(0x1f);
  });

  it('a 64-bit hex value that stays a string keeps the form kconfig writes (lower-case 0x...)', () => {
    expect(parseKconfig('CONFIG_PAGE_OFFSET=0xff60000000000000\n').symbols.CONFIG_PAGE_OFFSET).toBe('0xff60000000000000');
  });
});

describe('error messages quote the offending text, clipped at 60 characters', () => {
  it('60 characters are quoted whole', () => {
    const v = 'a'.repeat(59) + 'Z';
    expect(err(`CONFIG_A=${v}`).message).toContain(`value "${v}" is not`);
  });

  it('longer text: its first 57 characters and "..."', () => {
    const v = 'b'.repeat(57) + 'XYZW';
    expect(err(`CONFIG_A=${v}`).message).toContain(`value "${'b'.repeat(57)}..." is not`);
  });
});

describe('releaseMajorMinor', () => {
  it('reads major.minor from the start of the release only', () => {
    expect(releaseMajorMinor('10.1.0')).toEqual([10, 1]);
    expect(releaseMajorMinor('6.6.30')).toEqual([6, 6]);
    expect(releaseMajorMinor('v6.6')).toBeNull();
    expect(releaseMajorMinor('rc-6.6')).toBeNull();
  });
});

// scripts/kconfig/confdata.c conf_read_simple / conf_set_sym_val (5.10, 6.6) skip these lines with a
// warning and keep the symbol's default: reading the value would model a kernel nobody builds.
describe('parseKconfig: lines scripts/kconfig would skip are refused', () => {
  it('an indented assignment ("unexpected data")', () => {
    const e = err('CONFIG_A=y\n  CONFIG_B=y\n');
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/^x\.config:2: indented line "CONFIG_B=y": scripts\/kconfig ignores it/);
  });

  it('an indented "is not set" comment', () => {
    expect(err('\t# CONFIG_B is not set\n').message).toMatch(/^x\.config:1: indented line/);
  });

  it('a blank after "=" (conf_set_sym_val refuses " y")', () => {
    const e = err('CONFIG_A= y\n');
    expect(e.message).toBe(`x.config:1: blank after "=": scripts/kconfig refuses the value " y" and keeps the symbol's default`);
  });

  it('a blank after a number (sym_string_valid reads to the end), but not after y / m / n or a string', () => {
    expect(err('CONFIG_A=12 \n').message).toMatch(/blank after the number "12"/);
    expect(err('CONFIG_A=0x10\t\n').message).toMatch(/blank after the number "0x10"/);
    expect(parseKconfig('CONFIG_A=y \nCONFIG_B=m\t\nCONFIG_C="x" \nCONFIG_D=12\r\n').symbols).toEqual({ CONFIG_A: true, CONFIG_B: 'm', CONFIG_C: 'x', CONFIG_D: 12 });
  });

  it('a blank after a value that is no whole number is diagnosed as a bad value, not as a blank after a number', () => {
    // Only a whole decimal or 0x number gets the "blank after the number" diagnosis; anything else
    // (a number with text before or after it) is refused for what it is.
    for (const v of ['abc', 'x12', '12abc', 'z0x1f', '0x1fzz']) expect(err(`CONFIG_A=${v} \n`).message).toMatch(new RegExp(`value "${v}" is not y, m, n`));
  });
});
