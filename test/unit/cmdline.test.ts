// reference/lib/cmdline.ts against lib/cmdline.c next_arg and kernel/params.c parse_args / parameq
// (5.10, 6.6): the cases below are worked through the C by hand.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { earlyParams, next_arg, parameq, skip_spaces } from '../../reference/lib/cmdline.ts';

describe('next_arg', () => {
  it.each([
    ['cma=64M quiet', { param: 'cma', val: '64M', next: 8 }],
    ['quiet', { param: 'quiet', val: null, next: 5 }],
    ['cma="64M"', { param: 'cma', val: '64M', next: 9 }],
    ['"cma=64M"  x', { param: 'cma', val: '64M', next: 11 }],
    ['x="a b" y', { param: 'x', val: 'a b', next: 8 }],
    ['cma="64M quiet', { param: 'cma', val: '64M quiet', next: 14 }],
    ['cma=64M"', { param: 'cma', val: '64M"', next: 8 }],
    ['a=b=c', { param: 'a', val: 'b=c', next: 5 }],
    // An "=" at position 0 is not the separator (equals == 0 means none found yet).
    ['=x', { param: '=x', val: null, next: 2 }],
    ['"quiet"', { param: 'quiet', val: null, next: 7 }],
    ['a="', { param: 'a', val: '', next: 3 }],
    ['"', { param: '', val: null, next: 1 }],
    ['a=\t\u00a0b', { param: 'a', val: '', next: 4 }],
  ])('%j', (args, want) => {
    expect(next_arg(args, 0)).toEqual(want);
  });
});

describe('parse_args for early parameters', () => {
  it('skips leading blanks, stops at a bare "--" but not at "--" inside quotes or with a value', () => {
    expect(earlyParams('  a=1 -- b=2')).toEqual([{ param: 'a', val: '1' }]);
    expect(earlyParams('a="x -- y" --=3 b')).toEqual([
      { param: 'a', val: 'x -- y' },
      { param: '--', val: '3' },
      { param: 'b', val: null },
    ]);
    expect(earlyParams(' \t ')).toEqual([]);
    expect(skip_spaces('  x', 0)).toBe(2);
  });

  it('parameq: "-" and "_" are the same character in names, nothing else is', () => {
    expect(parameq('cma-pernuma', 'cma_pernuma')).toBe(true);
    expect(parameq('cma', 'cma_')).toBe(false);
    expect(parameq('cmb', 'cma')).toBe(false);
  });

  it('without quotes, the arguments are the blank-separated words (property)', () => {
    const word = fc.stringMatching(/^[a-z_=.,0-9-]{1,8}$/).filter((w) => w !== '--' && !w.startsWith('--='));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), fc.array(fc.constantFrom(' ', '\t', '  '), { minLength: 8, maxLength: 8 }), (words, gaps) => {
        const line = words.map((w, i) => w + gaps[i]).join('');
        const want = words.map((w) => {
          const eq = w.indexOf('=', 1);
          return eq < 0 ? { param: w, val: null } : { param: w.slice(0, eq), val: w.slice(eq + 1) };
        });
        expect(earlyParams(line)).toEqual(want);
      }),
    );
  });
});
