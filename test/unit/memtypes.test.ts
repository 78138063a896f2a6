// The documented memory types per table (model/oracle/memtypes.ts) and the
// boot-time pgprot check of pte-attributes that compares the kernel against them.
import { describe, expect, it } from 'vitest';
import { helperPurpose, inexpressible, intendedTable } from '../../model/oracle/memtypes.ts';
import { checkPgprotHelpers } from '../../model/harnesses/pgprot-boot.ts';
import { CORRECT_PROFILES, findProfile } from '../../reference/config/profiles.ts';
import type { Profile } from '../../reference/config/profile.ts';
import { buildMachine } from '../../reference/system.ts';

const bits = (mt: Profile['platform']['memTypes']) => Object.fromEntries(Object.entries(intendedTable(mt).types).map(([k, v]) => [k, v.bits]));
const thead = (theadTable: Profile['platform']['memTypes']['theadTable']) => ({ scheme: 'thead-mae' as const, theadTable });
const boot = (name: string, patch: (p: Profile) => Profile = (p) => p) => checkPgprotHelpers(buildMachine(patch(findProfile(name)!)));

describe('intended memory types per table', () => {
  it('T-Head 5.19-6.6 documents NC 00000 and IO 10000; v6.7+ and Sophgo NC 00110 (B|SH) and IO 10010 (SO|SH)', () => {
    expect(bits(thead('5.19-6.6'))).toEqual({ PMA: 0b01110n, NC: 0b00000n, IO: 0b10000n });
    for (const t of ['6.7-typo', 'fixed', 'sophgo'] as const) expect(bits(thead(t))).toEqual({ PMA: 0b01110n, NC: 0b00110n, IO: 0b10010n });
  });

  it('Svpbmt NC and IO are PBMT 1 and 2 (bits 61, 62); vendor 5.10 NC is SH only; no scheme means no types', () => {
    expect(bits({ scheme: 'svpbmt', theadTable: '5.19-6.6' })).toEqual({ PMA: 0n, NC: 0b00100n, IO: 0b01000n });
    expect(bits({ scheme: 'vendor-5.10-static', theadTable: '5.19-6.6' })).toEqual({ PMA: 0b01110n, NC: 0b00010n, IO: 0b10010n });
    expect(intendedTable({ scheme: 'none', theadTable: '5.19-6.6' }).types.IO).toEqual({ bits: 0n, kind: 'cacheable' });
  });

  it('only the 5.19-6.6 T-Head NC cannot reach a PTE (ALT_THEAD_PMA promotes 00000)', () => {
    expect(inexpressible(thead('5.19-6.6'), 'NC')).toMatch(/ALT_THEAD_PMA/);
    expect(inexpressible(thead('5.19-6.6'), 'IO')).toBeNull();
    expect(inexpressible(thead('fixed'), 'NC')).toBeNull();
    expect(inexpressible({ scheme: 'none', theadTable: '5.19-6.6' }, 'NC')).toBeNull();
  });

  it('pgprot_dmacoherent is writecombine on the vendor BSP and noncached in mainline', () => {
    expect(helperPurpose('pgprot_dmacoherent', { scheme: 'vendor-5.10-static', theadTable: '5.19-6.6' })).toBe('NC');
    expect(helperPurpose('pgprot_dmacoherent', thead('fixed'))).toBe('IO');
    expect(helperPurpose('pgprot_writecombine', thead('fixed'))).toBe('NC');
  });
});

describe('boot-time pgprot check (pte-attributes)', () => {
  it.each(CORRECT_PROFILES.map((p) => [p.name] as const))('%s: every helper gives its documented type', (name) => {
    expect(boot(name)).toBeNull();
  });

  it('the v6.7 typo: writecombine is SH only (00010) where the table documents B|SH', () => {
    const msg = boot('c920-sg2042-6.8-mt+thead-nocache-typo');
    expect(msg).toMatch(/^boot: pgprot_writecombine\(PAGE_KERNEL\) through pfn_pte gives PTE 0x1[0-9a-f]{15}: memory type 00010 \(noncacheable, not a C910 UM row\), but NC is 00110/);
  });

  it('a kernel built with the 6.7 table breaks it the same way', () => {
    const msg = boot('c920-sg2042-6.6', (p) => ({ ...p, platform: { ...p.platform, memTypes: thead('6.7-typo') } }));
    expect(msg).toMatch(/pgprot_writecombine.*memory type 00010/);
  });

  it('a cacheable pgprot_dmacoherent is caught before any buffer is allocated', () => {
    expect(boot('c920-sg2042-6.6+pgprot-dmacoherent-cacheable')).toMatch(/pgprot_dmacoherent.*memory type 01110 \(cacheable\), but IO is 10000 \(io\)/);
  });

  it('vendor MAE bits on a standard Svpbmt hart fault', () => {
    const p = findProfile('c920-sg2042-5.10-fixed')!;
    const m = buildMachine(p);
    m.hart = { maee: false, pbmte: true };
    expect(checkPgprotHelpers(m)).toMatch(/faults on this hart/);
  });
});
