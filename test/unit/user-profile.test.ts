import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUserProfile, UserInputError } from '../../reference/config/user-profile.ts';
import { hartFacts, platformOf, SG2042_BOARD, SG2042_CPU } from '../../reference/config/platform-facts.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import type { DtbCpu } from '../../reference/config/dtb.ts';
import { loadUserProfile } from '../../cli/user-input.ts';
import { UsageError } from '../../cli/args.ts';
import { buildFdt, cells64, type TNode } from './fdt-builder.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;
const ex = (f: string) => new URL(`../../examples/${f}`, import.meta.url);
const builtin = (n: string) => {
  const p = findProfile(n);
  if (!p) throw new Error(n);
  return p;
};
const kconfigText = (k: Record<string, boolean | number | string>, header = '') =>
  `${header}\n${Object.entries(k)
    .map(([s, v]) => (v === true ? `${s}=y` : v === false ? `# ${s} is not set` : typeof v === 'number' ? `${s}=${v}` : `${s}="${v}"`))
    .join('\n')}\n`;

describe('buildUserProfile fallbacks', () => {
  it('nothing given: the c920-sg2042-6.6 machine, every piece listed as a fallback', () => {
    const u = buildUserProfile({});
    const b = builtin('c920-sg2042-6.6');
    expect(u.profile).toMatchObject({ name: 'user', kernel: '6.6', kconfig: b.kconfig, memory: b.memory, reserved: b.reserved, devices: b.devices, platform: b.platform, cmdline: '' });
    expect(u.profile.reservedMemory).toBeUndefined();
    expect(u.profile.expectDefault).toBe('holds');
    expect(u.fallbacks.map((f) => f.split(':')[0])).toEqual(['kernel', 'kconfig', 'cpus', 'memory', 'reserved-memory', 'devices', 'cmdline']);
    expect(u.profile.description).toBe('SG2042 defaults on a 6.6 kernel');
  });

  it('--kernel 5.10 alone: the c920-sg2042-5.10-fixed machine', () => {
    const u = buildUserProfile({ kernel: '5.10' });
    const b = builtin('c920-sg2042-5.10-fixed');
    expect(u.profile).toMatchObject({ kernel: '5.10', kconfig: b.kconfig, platform: b.platform, devices: b.devices });
    expect(u.fallbacks[0]).toMatch(/^kconfig: no --config; the c920-sg2042-5.10-fixed Kconfig/);
  });

  it('the .config header picks the kernel; other releases fall back to the nearer model kernel', () => {
    const k = (h: string) => buildUserProfile({ config: `# Linux/riscv ${h} Kernel Configuration\nCONFIG_RISCV=y\n` });
    expect(k('6.6.30').profile.kernel).toBe('6.6');
    expect(k('6.6.30').fallbacks.some((f) => f.startsWith('kernel'))).toBe(false);
    expect(k('5.10.113').profile.kernel).toBe('5.10');
    expect(k('6.12.1').profile.kernel).toBe('6.6');
    expect(k('6.12.1').fallbacks[0]).toBe('kernel: the .config is for Linux 6.12.1; the model has 5.10 and 6.6, using 6.6 (pass --kernel to choose)');
    expect(k('5.4.61').profile.kernel).toBe('5.10');
    const both = buildUserProfile({ config: '# Linux/riscv 6.6.1 Kernel Configuration\n', kernel: '5.10' });
    expect(both.profile.kernel).toBe('5.10');
    expect(both.notes).toContain('--kernel 5.10 given; the .config header says Linux 6.6.1');
  });

  it('notes a .config for another architecture and reassigned symbols', () => {
    const u = buildUserProfile({ config: '# Linux/arm64 6.6.0 Kernel Configuration\nCONFIG_A=y\nCONFIG_A=m\n' });
    expect(u.notes.slice(0, 2)).toEqual(['.config line 3: CONFIG_A reassigned (the later value wins)', '.config is for arm64, not riscv']);
    expect(u.profile.kconfig).toEqual({ CONFIG_A: 'm' });
  });
});

describe('buildUserProfile from the examples', () => {
  it('sg2042-like.dtb + sg2042-6.6.config: the SG2042 6.6 platform, the dtb memory, pools and masters', () => {
    const u = buildUserProfile({ dtb: readFileSync(ex('sg2042-like.dtb')), config: readFileSync(ex('sg2042-6.6.config'), 'utf8'), name: 'mine' });
    const p = u.profile;
    expect(p.name).toBe('mine');
    expect(p.kernel).toBe('6.6');
    expect(p.platform).toEqual(builtin('c920-sg2042-6.6').platform);
    expect(p.memory).toEqual([{ base: 0n, size: 128n * GiB }]);
    expect(p.reserved).toEqual([{ base: 0n, size: 32n * MiB }]);
    expect(p.cmdline).toBe('console=ttyS0,115200 earlycon');
    expect(p.devices.map((d) => [d.name, d.coherent, d.dmaMaskBits])).toEqual([
      ['ethernet@7040026000', false, 64],
      ['mmc@704002a000', false, 32],
      ['dma-controller@7040110000', false, 32],
      ['pcie@7060000000', false, 64],
    ]);
    // The dynamic 64 MiB CMA area goes top-down below the 124 GiB the 6.6 linear map covers, 4 MiB aligned.
    expect(p.reservedMemory).toEqual([
      { name: 'emmc-pool@c0000000', base: 0xc000_0000n, size: MiB, compatible: 'shared-dma-pool', noMap: true },
      { name: 'linux,cma', base: 124n * GiB - 64n * MiB, size: 64n * MiB, compatible: 'shared-dma-pool', reusable: true, cmaDefault: true },
    ]);
    expect(u.fallbacks).toEqual(['firmware + kernel image: not in a dtb; reserved 0x0..0x2000000 (2 MiB OpenSBI + 30 MiB image) as on SG2042']);
    expect(u.notes).toContain('platform: MAEE, memory types thead-mae, CMO thead-va');
    expect(u.notes).toContain('device mmc@704002a000 (memory-region): non-coherent, 32-bit mask (assumed), memory-region emmc-pool@c0000000');
  });

  it('sg2042-like.dtb + the vendor 5.10 .config: no vendor CMO, static MAE bits, 5.10 device notes', () => {
    const u = buildUserProfile({ dtb: readFileSync(ex('sg2042-like.dtb')), config: readFileSync(ex('sg2042-5.10-vendor.config'), 'utf8') });
    expect(u.profile.kernel).toBe('5.10');
    expect(u.profile.platform).toEqual(builtin('c920-sg2042-5.10-vendor').platform);
    expect(u.profile.reservedMemory?.[1].base).toBe(128n * GiB - 64n * MiB);
    expect(u.notes).toContain('device ethernet@7040026000 (compatible "snps,dwmac-5.00a"): non-coherent (5.10 reads only dma-coherent), 64-bit mask (assumed)');
  });

  it('sg2044-like.dtb + sg2044-6.6.config: the SG2044 platform; bootargs as the command line', () => {
    const u = buildUserProfile({ dtb: readFileSync(ex('sg2044-like.dtb')), config: readFileSync(ex('sg2044-6.6.config'), 'utf8') });
    expect(u.profile.platform).toEqual(builtin('c920v2-sg2044-6.6').platform);
    expect(u.profile.cmdline).toBe('console=ttyS0,115200 coherent_pool=512K');
    expect(u.profile.reserved).toEqual([{ base: 0x8000_0000n, size: 32n * MiB }]);
    expect(u.profile.devices.find((d) => d.name === 'pcie@6c00000000')?.coherent).toBe(true);
    expect(u.notes).toContain('platform: Svpbmt, memory types svpbmt, CMO zicbom, cbom block 64');
    expect(u.notes).toContain('device pcie@6c00000000 (compatible "sophgo,sg2044-pcie"): coherent, 64-bit mask (assumed), dma-ranges bus 0x80000000 = cpu 0x80000000 +0x80000000, bus 0x100000000 = cpu 0x100000000 +0xf80000000');
  });

  it('the SG2044 .config on SG2042 harts patches in neither CMO nor memory types, and says so', () => {
    const u = buildUserProfile({ config: readFileSync(ex('sg2044-6.6.config'), 'utf8') });
    expect(u.profile.platform).toMatchObject({ cmoFlavour: 'none', memTypes: { scheme: 'none' }, maee: true });
    expect(u.notes).toContain('cache maintenance: the harts support T-Head CMO but CONFIG_ERRATA_THEAD_CMO is not set: no CMO is patched in');
    expect(u.notes).toContain('memory types: no CONFIG_ERRATA_THEAD_PBMT: PTEs carry no memory-type bits');
  });
});

// ------------------------------------------------------------------ constructed dtbs

const root = (children: TNode[], props: TNode['props'] = {}): TNode => ({ name: '', props: { '#address-cells': [2], '#size-cells': [2], ...props }, children });
const mem = (base: bigint, size: bigint): TNode => ({ name: `memory@${base.toString(16)}`, props: { device_type: 'memory', reg: cells64(base, size) } });
const rm = (children: TNode[]): TNode => ({ name: 'reserved-memory', props: { '#address-cells': [2], '#size-cells': [2], ranges: null }, children });
const mmc: TNode = { name: 'mmc@1', props: { compatible: 'x,sdhci' } };

describe('buildUserProfile with constructed dtbs', () => {
  it('a dtb without memory, harts or masters falls back for each; /chosen bootargs are used', () => {
    const u = buildUserProfile({ dtb: buildFdt(root([{ name: 'chosen', props: { bootargs: 'cma=16M' } }])) });
    expect(u.fallbacks.map((f) => f.split(';')[0])).toEqual(['kernel: no --kernel and no "Linux/riscv X.Y Kernel Configuration" header', 'kconfig: no --config', 'cpus: no /cpus/cpu@N in the dtb', 'memory: no device_type "memory" node in the dtb', 'devices: no DMA master found in the dtb']);
    expect(u.profile.cmdline).toBe('cma=16M');
    expect(u.notes).toContain("cmdline: from the dtb's /chosen/bootargs");
    expect(u.profile.description).toBe('SG2042 defaults on a 6.6 kernel');
  });

  it('an unmarked device is coherent on 6.6 and the note says why', () => {
    const u = buildUserProfile({ dtb: buildFdt(root([mem(0x8000_0000n, GiB), mmc])) });
    expect(u.profile.devices).toEqual([{ name: 'mmc@1', coherent: true, dmaMaskBits: 32, coherentMaskBits: 32 }]);
    expect(u.notes).toContain('device mmc@1 (compatible "x,sdhci"): coherent (no dma-coherent/dma-noncoherent up the tree: the 6.6 default), 32-bit mask (assumed)');
  });

  it('places dynamic pools: alloc-ranges, pageblock alignment for CMA, avoiding reservations; no room is a note', () => {
    const dtb = buildFdt(
      root([
        mem(0x8000_0000n, GiB),
        rm([
          { name: 'fixed@bc000000', props: { reg: cells64(0xbc00_0000n, 64n * MiB), compatible: 'shared-dma-pool', 'no-map': null } },
          { name: 'cma', props: { compatible: 'shared-dma-pool', reusable: null, size: cells64(6n * MiB), 'linux,cma-default': null } },
          { name: 'low', props: { compatible: 'shared-dma-pool', size: cells64(MiB), alignment: cells64(MiB), 'alloc-ranges': cells64(0x8000_0000n, 0x300_0000n) } },
          { name: 'huge', props: { compatible: 'shared-dma-pool', size: cells64(2n * GiB) } },
          { name: 'dflt', props: { compatible: 'shared-dma-pool', size: cells64(0x3000n), 'linux,dma-default': null } },
        ]),
        mmc,
      ]),
      { memReserve: [{ address: 0x8000_0000n, size: 0x8_0000n }] },
    );
    // CONFIG_CMA: __reserved_mem_alloc_size raises a reusable pool's alignment to a pageblock only then.
    const u = buildUserProfile({ dtb, kernel: '5.10', config: kconfigText({ CONFIG_RISCV: true, CONFIG_CMA: true }, '# Linux/riscv 5.10.113 Kernel Configuration') });
    expect(u.profile.reserved).toEqual([{ base: 0x8000_0000n, size: 32n * MiB }]);
    expect(u.profile.reservedMemory).toEqual([
      { name: 'fixed@bc000000', base: 0xbc00_0000n, size: 64n * MiB, compatible: 'shared-dma-pool', noMap: true },
      // Below the fixed pool, 4 MiB aligned: 0xbc00_0000 - 6 MiB rounded down to 4 MiB.
      { name: 'cma', base: 0xbb80_0000n, size: 6n * MiB, compatible: 'shared-dma-pool', reusable: true, cmaDefault: true },
      // alloc-ranges [0x8000_0000, +48 MiB) minus the 32 MiB firmware + image: the top MiB of the window.
      { name: 'low', base: 0x82f0_0000n, size: MiB, compatible: 'shared-dma-pool' },
      // Page aligned, so it fits in the 2 MiB the CMA alignment left free under the fixed pool.
      { name: 'dflt', base: 0xbbff_d000n, size: 0x3000n, compatible: 'shared-dma-pool', dmaDefault: true },
    ]);
    expect(u.notes).toContain('/reserved-memory/huge: no room for 2 GiB, the kernel would fail to allocate it; skipped');
    expect(u.notes).toContain('/reserved-memory/dflt: 12288 bytes without reg, placed top-down at 0xbbffd000 as memblock would (approximation)');
  });

  it('refuses what the model cannot take', () => {
    expect(() => buildUserProfile({ kernel: '5.10', dtb: buildFdt(root([mem(0x8010_0000n, GiB)])) })).toThrow(new UserInputError('5.10 needs DRAM to start 2 MiB aligned; the dtb\'s starts at 0x80100000'));
    expect(() => buildUserProfile({ dtb: buildFdt(root([mem(1n << 56n, GiB)])) })).toThrow(/past the 56-bit physical address space/);
  });
});

describe('command line', () => {
  const k = (extra: Record<string, boolean | string>) => kconfigText({ CONFIG_RISCV: true, ...extra }, '# Linux/riscv 6.6.1 Kernel Configuration');
  const chosen = (bootargs: string) => buildFdt(root([{ name: 'chosen', props: { bootargs } }]));

  it('--cmdline replaces the dtb bootargs', () => {
    expect(buildUserProfile({ cmdline: ' cma=8M ', dtb: chosen('cma=1M') }).profile.cmdline).toBe('cma=8M');
  });
  it('CONFIG_CMDLINE when the bootloader passes nothing', () => {
    const u = buildUserProfile({ config: k({ CONFIG_CMDLINE: 'coherent_pool=2M' }) });
    expect(u.profile.cmdline).toBe('coherent_pool=2M');
    expect(u.notes).toContain('cmdline: CONFIG_CMDLINE (no bootloader command line)');
    expect(buildUserProfile({ config: k({ CONFIG_CMDLINE: 'coherent_pool=2M' }), dtb: chosen('') }).profile.cmdline).toBe('coherent_pool=2M');
  });
  it('CONFIG_CMDLINE_EXTEND appends; CONFIG_CMDLINE_FORCE replaces', () => {
    expect(buildUserProfile({ config: k({ CONFIG_CMDLINE: 'cma=4M', CONFIG_CMDLINE_EXTEND: true }), cmdline: 'quiet' }).profile.cmdline).toBe('quiet cma=4M');
    const f = buildUserProfile({ config: k({ CONFIG_CMDLINE: 'cma=4M', CONFIG_CMDLINE_FORCE: true }), cmdline: 'cma=64M' });
    expect(f.profile.cmdline).toBe('cma=4M');
    expect(f.notes).toContain("cmdline: CONFIG_CMDLINE_FORCE: the bootloader's command line is ignored");
    expect(buildUserProfile({ config: k({ CONFIG_CMDLINE: 'cma=4M', CONFIG_CMDLINE_FORCE: true }) }).notes.some((n) => n.includes('FORCE'))).toBe(false);
  });
  it('an empty --cmdline is no fallback', () => {
    const u = buildUserProfile({ cmdline: '' });
    expect(u.profile.cmdline).toBe('');
    expect(u.fallbacks.some((f) => f.startsWith('cmdline'))).toBe(false);
  });
});

describe('platformOf', () => {
  const cpu = (over: Partial<DtbCpu>): DtbCpu => ({ ...SG2042_CPU, ...over });
  const K66 = builtin('c920-sg2042-6.6').kconfig;
  const STD = builtin('c920v2-sg2044-6.6').kconfig;

  it('reproduces the built-in platforms from their harts and Kconfig', () => {
    const n: string[] = [];
    expect(platformOf(hartFacts([SG2042_CPU], n), SG2042_BOARD, K66, '6.6', n)).toEqual(builtin('c920-sg2042-6.6').platform);
    expect(platformOf(hartFacts([SG2042_CPU], n), SG2042_BOARD, builtin('c920-sg2042-5.10-fixed').kconfig, '5.10', n)).toEqual(builtin('c920-sg2042-5.10-fixed').platform);
    expect(platformOf(hartFacts([SG2042_CPU], n), SG2042_BOARD, builtin('c920-sg2042-5.10-vendor').kconfig, '5.10', n)).toEqual(builtin('c920-sg2042-5.10-vendor').platform);
    const c2 = cpu({ extensions: ['i', 'zicbom', 'svpbmt'], cbomBlockSize: 64 });
    expect(platformOf(hartFacts([c2, c2], n), ['sophgo,sg2044'], STD, '6.6', n)).toEqual(builtin('c920v2-sg2044-6.6').platform);
    expect(n).toEqual([]);
  });

  it('hart facts: the extensions every hart has; block sizes; xtheadmae keeps the errata path', () => {
    const n: string[] = [];
    expect(hartFacts([cpu({ extensions: ['zicbom'], cbomBlockSize: 64 }), cpu({ extensions: [], cbomBlockSize: 64 })], n).zicbom).toBe(false);
    expect(hartFacts([cpu({ extensions: ['zicbom'] })], n)).toMatchObject({ zicbom: false, theadErrata: true });
    expect(hartFacts([cpu({ extensions: ['zicbom'], cbomBlockSize: 48 })], n).zicbom).toBe(false);
    expect(hartFacts([cpu({ cbomBlockSize: 64 }), cpu({ cbomBlockSize: 128 })], n).cbomBlockSize).toBe(64);
    expect(hartFacts([cpu({ extensions: ['svpbmt', 'xtheadmae'] })], n)).toMatchObject({ svpbmt: true, theadErrata: true });
    expect(hartFacts([cpu({ compatible: ['sifive,u74'], extensions: ['xtheadba'] })], n).thead).toBe(true);
    expect(hartFacts([], n)).toMatchObject({ thead: false, zicbom: false, svpbmt: false, theadErrata: false, cbomBlockSize: 0 });
    expect(n).toEqual([
      'Zicbom listed but riscv,cbom-block-size is missing: the kernel disables Zicbom',
      'Zicbom listed but riscv,cbom-block-size is 48, not a power of two: the kernel disables Zicbom',
      'harts disagree on riscv,cbom-block-size (64, 128): the kernel warns and keeps 64',
    ]);
  });

  it('6.6 without the matching options, and harts with neither extension', () => {
    const std = hartFacts([cpu({ compatible: ['sifive,u74'], extensions: ['zicbom', 'svpbmt'], cbomBlockSize: 64 })], []);
    const n: string[] = [];
    expect(platformOf(std, [], { CONFIG_RISCV_ISA_ZICBOM: true }, '6.6', n)).toMatchObject({ cmoFlavour: 'zicbom', memTypes: { scheme: 'none' }, pbmte: true, maee: false, menvcfgCbie: 3 });
    expect(platformOf(std, [], {}, '6.6', n).cmoFlavour).toBe('none');
    const plain = hartFacts([cpu({ compatible: ['sifive,u74'], extensions: ['i'] })], []);
    expect(platformOf(plain, [], K66, '6.6', n)).toMatchObject({ cmoFlavour: 'none', memTypes: { scheme: 'none' }, maee: false });
    expect(n).toEqual([
      'memory types: no CONFIG_RISCV_ISA_SVPBMT: PTEs carry no memory-type bits',
      'cache maintenance: the harts support Zicbom but CONFIG_RISCV_ISA_ZICBOM is not set: no CMO is patched in',
      'memory types: no CONFIG_RISCV_ISA_SVPBMT: PTEs carry no memory-type bits',
      'cache maintenance: the harts have neither Zicbom nor T-Head CMO: no CMO is patched in',
      'memory types: no Svpbmt or XTheadMae on the harts: PTEs carry no memory-type bits',
    ]);
  });

  it('5.10: the vendor range helpers follow the board; non-T-Head harts get no memory types', () => {
    const h = hartFacts([SG2042_CPU], []);
    const hooks = { CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU: true };
    const n: string[] = [];
    expect(platformOf(h, ['thead,th1520'], hooks, '5.10', n).vendorCmo).toBe('th1520-beagleboard');
    expect(platformOf(h, ['allwinner,sun20i-d1'], hooks, '5.10', n).vendorCmo).toBe('d1-c906');
    expect(platformOf(h, ['acme,board'], hooks, '5.10', n).vendorCmo).toBe('sg2042-sophgo');
    expect(platformOf(h, [], hooks, '5.10', n).vendorCmo).toBe('sg2042-sophgo');
    const other = hartFacts([cpu({ compatible: ['sifive,u74'] })], []);
    expect(platformOf(other, [], {}, '5.10', n)).toMatchObject({ memTypes: { scheme: 'none' }, vendorCmo: null, cmoFlavour: 'none' });
    expect(n).toEqual([
      '5.10 vendor C920 patch: board compatible (acme,board) names no known vendor tree; taking the SG2042 (Sophgo) dma_wb_range variant',
      '5.10 vendor C920 patch: board compatible (none) names no known vendor tree; taking the SG2042 (Sophgo) dma_wb_range variant',
      '5.10 on non-T-Head harts: no memory-type bits (mainline 5.10 has no Svpbmt support)',
    ]);
  });
});

describe('cli loadUserProfile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmacheck-user-'));
  const file = (name: string, data: string | Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  const usage = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('no error');
  };

  it('is null without any of the options', () => {
    expect(loadUserProfile({})).toBeNull();
  });

  it('builds the profile and the options that rebuild it', () => {
    const u = loadUserProfile({ config: [ex('sg2042-6.6.config').pathname], dtb: [ex('sg2042-like.dtb').pathname], cmdline: ["cma=32M it's"] });
    expect(u?.profile.name).toBe('user:sg2042-like.dtb:sg2042-6.6.config');
    expect(u?.args).toBe(`--config ${ex('sg2042-6.6.config').pathname} --dtb ${ex('sg2042-like.dtb').pathname} --cmdline 'cma=32M it'\\''s' --kernel 6.6`);
    expect(loadUserProfile({ kernel: ['5.10'] })?.args).toBe('--kernel 5.10');
  });

  it('turns every input problem into a one-line usage error', () => {
    expect(usage(() => loadUserProfile({ kernel: ['6.1'] }))).toBe('--kernel must be 5.10 or 6.6, got "6.1"');
    expect(usage(() => loadUserProfile({ config: [join(dir, 'missing')] }))).toMatch(/^cannot read --config .*missing: no such file$/);
    expect(usage(() => loadUserProfile({ dtb: [dir] }))).toMatch(/^cannot read --dtb .*: is a directory$/);
    const bad = file('bad.config', 'CONFIG_A=y\nCONFIG_B=yes please\n');
    expect(usage(() => loadUserProfile({ config: [bad] }))).toBe(`malformed .config: ${bad}:2: value "yes please" is not y, m, n, a number, a hex number or a "quoted string"`);
    const dts = file('board.dts', '/dts-v1/;\n/ {\n};\n');
    expect(usage(() => loadUserProfile({ dtb: [dts] }))).toMatch(/^malformed dtb .*board\.dts: too short/);
    const odd = file('odd.dtb', buildFdt(root([mem(0x8010_0000n, GiB)])));
    expect(usage(() => loadUserProfile({ dtb: [odd], kernel: ['5.10'] }))).toBe("5.10 needs DRAM to start 2 MiB aligned; the dtb's starts at 0x80100000");
  });

  it('passes other errors through', () => {
    const p = file('perm.config', 'CONFIG_A=y\n');
    // A read error other than ENOENT/EISDIR keeps its message (simulated with a path through a file).
    expect(usage(() => loadUserProfile({ config: [join(p, 'x')] }))).toMatch(/^cannot read --config .*perm\.config\/x: /);
  });
});
