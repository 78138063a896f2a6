import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { KconfigError, parseKconfig, releaseMajorMinor } from '../../reference/config/kconfig.ts';
import { kconfigEnabled } from '../../reference/config/profile.ts';

const REAL = `#
# Automatically generated file; DO NOT EDIT.
# Linux/riscv 6.6.30 Kernel Configuration
#
CONFIG_CC_VERSION_TEXT="riscv64-linux-gnu-gcc (GCC) 13.2.0"
CONFIG_GCC_VERSION=130200
CONFIG_64BIT=y
CONFIG_PAGE_OFFSET=0xff60000000000000
CONFIG_ARCH_MMAP_RND_BITS_MIN=18
CONFIG_PHYS_RAM_BASE=0x80000000
CONFIG_ZONE_DMA32=y
CONFIG_VIRTIO_NET=m
# CONFIG_DMA_API_DEBUG is not set
CONFIG_CMDLINE=""
CONFIG_EXTRA_FIRMWARE="a\\"b\\\\c"

#
# Memory Management options
#
CONFIG_CMA_SIZE_MBYTES=16
CONFIG_LOG_BUF_SHIFT=-1
# end of Memory Management options
`;

describe('parseKconfig on real-format text', () => {
  const k = parseKconfig(REAL);

  it('reads the header comment', () => {
    expect(k.arch).toBe('riscv');
    expect(k.kernelRelease).toBe('6.6.30');
  });

  it('maps y / m / strings / numbers', () => {
    expect(k.symbols.CONFIG_64BIT).toBe(true);
    expect(k.symbols.CONFIG_VIRTIO_NET).toBe('m');
    expect(kconfigEnabled({ kconfig: k.symbols }, 'CONFIG_VIRTIO_NET')).toBe(true);
    expect(k.symbols.CONFIG_CC_VERSION_TEXT).toBe('riscv64-linux-gnu-gcc (GCC) 13.2.0');
    expect(k.symbols.CONFIG_GCC_VERSION).toBe(130200);
    expect(k.symbols.CONFIG_CMA_SIZE_MBYTES).toBe(16);
    expect(k.symbols.CONFIG_LOG_BUF_SHIFT).toBe(-1);
    expect(k.symbols.CONFIG_PHYS_RAM_BASE).toBe(0x8000_0000);
  });

  it('keeps 64-bit hex values exact as strings', () => {
    expect(k.symbols.CONFIG_PAGE_OFFSET).toBe('0xff60000000000000');
    expect(BigInt(k.symbols.CONFIG_PAGE_OFFSET as string)).toBe(0xff60000000000000n);
  });

  it('unescapes strings; an empty string is not "enabled"', () => {
    expect(k.symbols.CONFIG_EXTRA_FIRMWARE).toBe('a"b\\c');
    expect(k.symbols.CONFIG_CMDLINE).toBe('');
    expect(kconfigEnabled({ kconfig: k.symbols }, 'CONFIG_CMDLINE')).toBe(false);
  });

  it('records "is not set" as absent from symbols', () => {
    expect('CONFIG_DMA_API_DEBUG' in k.symbols).toBe(false);
    expect(k.notSet).toEqual(['CONFIG_DMA_API_DEBUG']);
    expect(kconfigEnabled({ kconfig: k.symbols }, 'CONFIG_DMA_API_DEBUG')).toBe(false);
  });

  it('takes CRLF line ends and =n', () => {
    const c = parseKconfig('CONFIG_A=y\r\nCONFIG_B=n\r\n');
    expect(c.symbols).toEqual({ CONFIG_A: true, CONFIG_B: false });
    expect(c.kernelRelease).toBeUndefined();
  });

  it('lets a later assignment win and says so (merged fragments)', () => {
    const c = parseKconfig('CONFIG_A=y\n# CONFIG_A is not set\nCONFIG_B=1\nCONFIG_B=2\n');
    expect(c.symbols).toEqual({ CONFIG_B: 2 });
    expect(c.notSet).toEqual(['CONFIG_A']);
    expect(c.warnings).toEqual(['line 2: CONFIG_A reassigned (the later value wins)', 'line 4: CONFIG_B reassigned (the later value wins)']);
    expect(parseKconfig('# CONFIG_A is not set\nCONFIG_A=y').symbols.CONFIG_A).toBe(true);
  });

  it('reads the example .config files', () => {
    for (const f of ['sg2042-6.6.config', 'sg2044-6.6.config', 'sg2042-5.10-vendor.config']) {
      const c = parseKconfig(readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8'), f);
      expect(c.arch).toBe('riscv');
      expect(c.symbols.CONFIG_SWIOTLB).toBe(true);
    }
  });
});

describe('parseKconfig on malformed text', () => {
  const err = (text: string) => {
    try {
      parseKconfig(text, 'x.config');
    } catch (e) {
      expect(e).toBeInstanceOf(KconfigError);
      return { line: (e as KconfigError).line, message: (e as Error).message };
    }
    throw new Error('no error');
  };

  it('names the line of a bad value', () => {
    expect(err('CONFIG_A=y\n\nCONFIG_B=yes\n')).toEqual({ line: 3, message: 'x.config:3: value "yes" is not y, m, n, a number, a hex number or a "quoted string"' });
  });

  it('rejects a line that is no assignment', () => {
    expect(err('CONFIG_A=y\nthis is junk\n').line).toBe(2);
    expect(err('CONFIG_A y').message).toMatch(/expected CONFIG_NAME=value/);
  });

  it('rejects names without the CONFIG_ prefix or with bad characters', () => {
    expect(err('FOO=y').message).toBe('x.config:1: "FOO" is not a CONFIG_ symbol name');
    expect(err('CONFIG_A-B=y').message).toMatch(/"CONFIG_A-B" is not a CONFIG_ symbol name/);
  });

  it('rejects unterminated strings and text after the quote', () => {
    expect(err('CONFIG_S="abc').message).toMatch(/:1: unterminated string/);
    expect(err('CONFIG_S="abc\\"').message).toMatch(/unterminated string/);
    expect(err('CONFIG_S="abc\\').message).toMatch(/unterminated string/);
    expect(err('CONFIG_S="abc" x').message).toMatch(/text after the closing quote: "x"/);
  });

  it('rejects an empty value and bad hex', () => {
    expect(err('CONFIG_A=').message).toMatch(/empty value/);
    expect(err('CONFIG_A=0xzz').message).toMatch(/is not y, m, n/);
  });

  it('clips long junk in the message', () => {
    expect(err(`CONFIG_A=${'q'.repeat(100)}`).message).toMatch(/q{57}\.\.\."/);
  });
});

describe('parseKconfig round trip', () => {
  it('reads back what a writer in the .config format wrote', () => {
    const value = fc.oneof(
      fc.boolean(),
      fc.constant('m' as const),
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      fc.string({ maxLength: 20 }).filter((s) => !s.includes('\n') && !s.includes('\r')),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/), value, { maxKeys: 8 }), (d) => {
        const lines = Object.entries(d).map(([k, v]) =>
          v === true ? `CONFIG_${k}=y` : v === false ? `# CONFIG_${k} is not set` : typeof v === 'number' ? `CONFIG_${k}=${v}` : v === 'm' ? `CONFIG_${k}=m` : `CONFIG_${k}="${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`,
        );
        const c = parseKconfig(lines.join('\n'));
        for (const [k, v] of Object.entries(d)) {
          if (v === false) expect(c.notSet).toContain(`CONFIG_${k}`);
          else expect(c.symbols[`CONFIG_${k}`]).toBe(v);
        }
      }),
    );
  });
});

describe('releaseMajorMinor', () => {
  it('splits releases', () => {
    expect(releaseMajorMinor('6.6.30')).toEqual([6, 6]);
    expect(releaseMajorMinor('5.10.113-sophgo')).toEqual([5, 10]);
    expect(releaseMajorMinor('6.6.0-rc2')).toEqual([6, 6]);
    expect(releaseMajorMinor('next')).toBeNull();
  });
});
