// reference/config/user-profile.ts: the Profile built from a user's .config and
// .dtb, pinned down where StrykerJS showed no other test did
// (bench/mutation-equivalents.md lists the survivors that cannot be killed).
import { describe, expect, it } from 'vitest';
import { buildUserProfile } from '../../reference/config/user-profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildFdt, cells64, type TNode } from './fdt-builder.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;

const root = (children: TNode[], props: TNode['props'] = {}): TNode => ({ name: '', props: { '#address-cells': [2], '#size-cells': [2], ...props }, children });
const mem = (base: bigint, size: bigint): TNode => ({ name: `memory@${base.toString(16)}`, props: { device_type: 'memory', reg: cells64(base, size) } });
const rm = (children: TNode[]): TNode => ({ name: 'reserved-memory', props: { '#address-cells': [2], '#size-cells': [2], ranges: null }, children });
const cfg = (header: string, lines: string[] = []) => `${header}\nCONFIG_RISCV=y\n${lines.join('\n')}\n`;
const H66 = '# Linux/riscv 6.6.30 Kernel Configuration';

describe('inputs and fallbacks', () => {
  it('a riscv .config, or one without a header, gets no "not riscv" note', () => {
    expect(buildUserProfile({ config: cfg(H66) }).notes.some((n) => n.includes('not riscv'))).toBe(false);
    expect(buildUserProfile({ config: cfg('') }).notes.some((n) => n.includes('not riscv'))).toBe(false);
  });

  it('--kernel without a .config header, or agreeing with it, gets no disagreement note', () => {
    expect(buildUserProfile({ kernel: '6.6' }).notes.some((n) => n.startsWith('--kernel'))).toBe(false);
    expect(buildUserProfile({ kernel: '6.6', config: cfg(H66) }).notes.some((n) => n.startsWith('--kernel'))).toBe(false);
  });

  it('a 5.10.y .config header picks 5.10 without a kernel fallback', () => {
    const u = buildUserProfile({ config: cfg('# Linux/riscv 5.10.113 Kernel Configuration') });
    expect(u.profile.kernel).toBe('5.10');
    expect(u.fallbacks.some((f) => f.startsWith('kernel'))).toBe(false);
  });

  it('without a dtb each fallback says "no --dtb" and names the SG2042 pieces; no faults', () => {
    const u = buildUserProfile({});
    const b = findProfile('c920-sg2042-6.6');
    expect(u.fallbacks).toContain('cpus: no --dtb; SG2042 C920 harts (rv64imafdc, XTheadMae + XTheadCmo, no Zicbom/Svpbmt)');
    expect(u.fallbacks).toContain('memory: no --dtb; SG2042 banks (4 x 32 GiB from 0x0) and reservations');
    expect(u.fallbacks).toContain(`devices: no --dtb; the SG2042 pair (${b?.devices.map((d) => `${d.name} ${d.dmaMaskBits}-bit`).join(', ')}, non-coherent)`);
    expect(u.profile.faults).toEqual([]);
  });

  it('the dtb\'s notes are passed on', () => {
    const u = buildUserProfile({ dtb: buildFdt(root([mem(0x8000_0000n, GiB), { name: 'mmc@1', props: { compatible: 'x,sdhci', status: 'disabled' } }])) });
    expect(u.notes).toContain('/mmc@1: status "disabled", not a device');
  });
});

describe('5.10 board and platform', () => {
  it('no dtb: the SG2042 board compatible picks the Sophgo range helpers without a guess note', () => {
    const u = buildUserProfile({ kernel: '5.10' });
    expect(u.profile.platform.vendorCmo).toBe('sg2042-sophgo');
    expect(u.notes).toEqual(['platform: MAEE, memory types vendor-5.10-static, CMO vendor sg2042-sophgo']);
  });

  it('a dtb root compatible picks the vendor tree it names', () => {
    const u = buildUserProfile({ kernel: '5.10', dtb: buildFdt(root([mem(0x8000_0000n, GiB)], { compatible: ['beagle,beaglev-ahead', 'thead,th1520'] })) });
    expect(u.profile.platform.vendorCmo).toBe('th1520-beagleboard');
    expect(u.notes).toContain('platform: MAEE, memory types vendor-5.10-static, CMO vendor th1520-beagleboard');
  });
});

describe('memory checks', () => {
  it('6.6 takes DRAM that does not start 2 MiB aligned (only 5.10 refuses it)', () => {
    expect(buildUserProfile({ kernel: '6.6', dtb: buildFdt(root([mem(0x8010_0000n, GiB)])) }).profile.memory).toEqual([{ base: 0x8010_0000n, size: GiB }]);
  });

  it('a bank ending exactly at 2^56 is inside the 56-bit physical address space', () => {
    const top = 1n << 56n;
    expect(buildUserProfile({ dtb: buildFdt(root([mem(top - GiB, GiB)])) }).profile.memory).toEqual([{ base: top - GiB, size: GiB }]);
  });
});

// drivers/of/of_reserved_mem.c __reserved_mem_alloc_size → early_init_dt_alloc_reserved_memory_arch →
// memblock_phys_alloc_range(size, align, start, end): top-down inside [start, end), in RAM only,
// around every reservation; alloc-ranges are tried in order, the first that succeeds wins.
describe('dynamic /reserved-memory placement', () => {
  const place = (pools: TNode[], o: { memory?: TNode[]; kernel?: '6.6' | '5.10'; config?: string } = {}) =>
    buildUserProfile({ kernel: o.kernel ?? '6.6', dtb: buildFdt(root([...(o.memory ?? [mem(0x8000_0000n, GiB)]), rm(pools)])), ...(o.config ? { config: o.config } : {}) });
  const dyn = (name: string, props: TNode['props']): TNode => ({ name, props: { compatible: 'shared-dma-pool', ...props } });
  const baseOf = (u: ReturnType<typeof place>, name: string) => u.profile.reservedMemory?.find((r) => r.name === name)?.base;

  it('top-down over all RAM: the highest bank wins; no-map is kept; the note gives the size in MiB', () => {
    const u = place([dyn('nm', { size: cells64(16n * MiB), 'no-map': null })], { memory: [mem(0x8000_0000n, GiB), mem(0x1_0000_0000n, GiB)] });
    expect(u.profile.reservedMemory).toEqual([{ name: 'nm', base: 0x1_3f00_0000n, size: 16n * MiB, compatible: 'shared-dma-pool', noMap: true }]);
    expect(u.notes).toContain('/reserved-memory/nm: 16 MiB without reg, placed top-down at 0x13f000000 as memblock would (approximation)');
  });

  it('only a reusable shared-dma-pool is aligned up to a pageblock; a larger alignment stays', () => {
    // IS_ENABLED(CONFIG_CMA) && shared-dma-pool && reusable && !nomap: align = max(align, CMA_MIN_ALIGNMENT_BYTES).
    expect(baseOf(place([{ name: 'r', props: { reusable: null, size: cells64(MiB) } }]), 'r')).toBe(0xbff0_0000n);
    expect(baseOf(place([dyn('c', { reusable: null, size: cells64(4n * MiB), alignment: cells64(8n * MiB) })]), 'c')).toBe(0xbf80_0000n);
  });

  it('stays inside the linear map, which starts at DRAM rounded down to 2 MiB (arch/riscv/mm/init.c setup_bootmem)', () => {
    const u = place([dyn('t', { size: cells64(MiB) })], { memory: [mem(0x8030_0000n, 130n * GiB)] });
    expect(baseOf(u, 't')).toBe(0x8020_0000n + 124n * GiB - MiB);
  });

  it('an alloc-ranges window reaching below RAM does not place the pool there', () => {
    const u = place([dyn('lo', { size: cells64(64n * MiB), 'alloc-ranges': cells64(0x7000_0000n, 0x1400_0000n) })]);
    expect(u.profile.reservedMemory).toBeUndefined();
    expect(u.notes).toContain('/reserved-memory/lo: no room for 64 MiB, the kernel would fail to allocate it; skipped');
  });

  it('an alloc-ranges window is not left at its bottom', () => {
    const u = place([
      { name: 'fixed@b0800000', props: { reg: cells64(0xb080_0000n, 8n * MiB) } },
      dyn('w', { size: cells64(16n * MiB), 'alloc-ranges': cells64(0xb000_0000n, 16n * MiB) }),
    ]);
    expect(baseOf(u, 'w')).toBeUndefined();
  });

  it('an alloc-ranges window reaching past RAM places the pool at the top of RAM', () => {
    expect(baseOf(place([dyn('w', { size: cells64(16n * MiB), 'alloc-ranges': cells64(0x8000_0000n, 2n * GiB) })]), 'w')).toBe(0xbf00_0000n);
  });

  it('a pool exactly the size of its window fits', () => {
    expect(baseOf(place([dyn('w', { size: cells64(16n * MiB), 'alloc-ranges': cells64(0xb000_0000n, 16n * MiB) })]), 'w')).toBe(0xb000_0000n);
  });

  it('alignment that drops the pool below its window means no room', () => {
    const config = cfg(H66, ['CONFIG_CMA=y']);
    expect(baseOf(place([dyn('w', { reusable: null, size: cells64(2n * MiB), 'alloc-ranges': cells64(0xb010_0000n, 4n * MiB) })], { config }), 'w')).toBeUndefined();
  });

  // __reserved_mem_alloc_size (5.10, 6.6): IS_ENABLED(CONFIG_CMA) && shared-dma-pool && reusable && !no-map.
  it('a reusable pool is raised to a pageblock only with CONFIG_CMA: 4 MiB, 6.6 with CONFIG_HUGETLB_PAGE 2 MiB', () => {
    const w = () => [dyn('w', { reusable: null, size: cells64(MiB), 'alloc-ranges': cells64(0xb000_0000n, 0x38_0000n) })];
    // Top-down in [0xb000_0000, 0xb038_0000): 0xb028_0000 rounded down to the alignment.
    expect(baseOf(place(w(), { config: cfg(H66, ['CONFIG_CMA=y']) }), 'w')).toBe(0xb000_0000n);
    expect(baseOf(place(w(), { config: cfg(H66, ['CONFIG_CMA=y', 'CONFIG_HUGETLB_PAGE=y']) }), 'w')).toBe(0xb020_0000n);
    expect(baseOf(place(w(), { config: cfg(H66) }), 'w')).toBe(0xb028_0000n);
    expect(baseOf(place(w(), { kernel: '5.10', config: cfg('# Linux/riscv 5.10.113 Kernel Configuration', ['CONFIG_CMA=y', 'CONFIG_HUGETLB_PAGE=y']) }), 'w')).toBe(0xb000_0000n);
    // Only a shared-dma-pool: a reusable node of another kind keeps its own alignment under CONFIG_CMA too.
    const other = [{ name: 'w', props: { compatible: 'x,other', reusable: null, size: cells64(MiB), 'alloc-ranges': cells64(0xb000_0000n, 0x38_0000n) } }];
    expect(baseOf(place(other, { config: cfg(H66, ['CONFIG_CMA=y']) }), 'w')).toBe(0xb028_0000n);
  });

  it('steps below a reservation in the top of the candidate; touching the end of one is no clash', () => {
    expect(baseOf(place([{ name: 'f@bff00000', props: { reg: cells64(0xbff0_0000n, MiB) } }, dyn('p', { size: cells64(16n * MiB) })]), 'p')).toBe(0xbef0_0000n);
    expect(baseOf(place([{ name: 'f@be000000', props: { reg: cells64(0xbe00_0000n, 16n * MiB) } }, dyn('p', { size: cells64(16n * MiB) })]), 'p')).toBe(0xbf00_0000n);
    // The two pools below the top: the second goes right under the first.
    const u = place([dyn('a', { size: cells64(16n * MiB) }), dyn('b', { size: cells64(16n * MiB) })]);
    expect([baseOf(u, 'a'), baseOf(u, 'b')]).toEqual([0xbf00_0000n, 0xbe00_0000n]);
  });

  it('alloc-ranges: the first window listed, here the higher one, is used', () => {
    const u = place([dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(0xb000_0000n, 16n * MiB, 0x9000_0000n, 16n * MiB) })]);
    expect(baseOf(u, 'w')).toBe(0xb0c0_0000n);
  });

  it('with CONFIG_CMA an alignment above the pageblock is kept: max(align, CMA_MIN_ALIGNMENT_BYTES)', () => {
    const u = place([dyn('c', { reusable: null, size: cells64(4n * MiB), alignment: cells64(8n * MiB) })], { config: cfg(H66, ['CONFIG_CMA=y']) });
    expect(baseOf(u, 'c')).toBe(0xbf80_0000n);
  });

  // 6.6 __reserved_mem_alloc_in_range: bottom_up when the window's start lies in [rmem->base, rmem->base + rmem->size]
  // of a region already in reserved_mem[], top_down likewise for its end; memblock is switched only when they differ.
  const fix = (base: bigint, size = 16n * MiB): TNode => ({ name: `f@${base.toString(16)}`, props: { reg: cells64(base, size) } });
  const win = (base: bigint, size: bigint, extra: TNode[] = []) => baseOf(place([...extra, dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(base, size) })]), 'w');

  it('6.6 bottom-up stops at the window\'s end: a pool that would cross it has no room; one that ends exactly at it fits', () => {
    // Window [0xb000_0000, +18 MiB) starting in f@b0000000: the lowest free start 0xb100_0000 + 4 MiB passes the end.
    const u = place([fix(0xb000_0000n), dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(0xb000_0000n, 18n * MiB) })]);
    expect(baseOf(u, 'w')).toBeUndefined();
    expect(u.notes).toContain('/reserved-memory/w: no room for 4 MiB, the kernel would fail to allocate it; skipped');
    expect(win(0xb000_0000n, 20n * MiB, [fix(0xb000_0000n)])).toBe(0xb100_0000n);
  });

  it('6.6: a window starting below or above every region stays top-down', () => {
    expect(win(0xa000_0000n, 32n * MiB, [fix(0xb000_0000n)])).toBe(0xa1c0_0000n);
    expect(win(0xb000_0000n, 32n * MiB, [fix(0xa000_0000n)])).toBe(0xb1c0_0000n);
  });

  it('6.6: a window starting exactly at a region\'s end goes bottom-up (start <= rmem->base + rmem->size)', () => {
    expect(win(0xb100_0000n, 32n * MiB, [fix(0xb000_0000n)])).toBe(0xb100_0000n);
  });

  it('6.6: a region wholly above the window\'s end does not make it top-down; one ending exactly at the window\'s end does', () => {
    expect(win(0xa000_0000n, 64n * MiB, [fix(0xa000_0000n), fix(0xb800_0000n)])).toBe(0xa100_0000n);
    // Start in f@a0000000, end == the end of f@b0000000: both set, memblock stays top-down, below f@b0000000.
    expect(win(0xa000_0000n, 0x1100_0000n, [fix(0xa000_0000n), fix(0xb000_0000n)])).toBe(0xafc0_0000n);
  });

  it('6.6: a size-0 region placed earlier is skipped ("not reserved yet"), even with the window starting at its base', () => {
    // __reserved_mem_alloc_size takes size 0 (only the cell count is checked) and memblock places it at the
    // window's top, 0xa100_0000; it stays rmem->size == 0, which the next allocation skips.
    const z = dyn('z', { size: cells64(0n), 'alloc-ranges': cells64(0xa000_0000n, 16n * MiB) });
    const u = place([z, dyn('w', { size: cells64(4n * MiB), 'alloc-ranges': cells64(0xa100_0000n, 32n * MiB) })]);
    expect([baseOf(u, 'z'), baseOf(u, 'w')]).toEqual([0xa100_0000n, 0xa2c0_0000n]);
  });
});

// drivers/of/fdt.c early_init_dt_scan_chosen; arch/riscv/Kconfig offers the CMDLINE_EXTEND /
// CMDLINE_FORCE choice only `if CMDLINE != ""`, so without a built-in line neither applies.
describe('command line', () => {
  const k = (lines: string[]) => cfg(H66, lines);
  const chosen = (bootargs: string) => buildFdt(root([mem(0x8000_0000n, GiB), { name: 'chosen', props: { bootargs } }]));

  it('CONFIG_CMDLINE_FORCE without a CONFIG_CMDLINE leaves the bootloader\'s line', () => {
    expect(buildUserProfile({ config: k(['CONFIG_CMDLINE_FORCE=y']), cmdline: 'quiet' }).profile.cmdline).toBe('quiet');
  });

  it('CONFIG_CMDLINE_FORCE notes that the dtb bootargs are ignored', () => {
    const u = buildUserProfile({ config: k(['CONFIG_CMDLINE="cma=4M"', 'CONFIG_CMDLINE_FORCE=y']), dtb: chosen('cma=64M') });
    expect(u.profile.cmdline).toBe('cma=4M');
    expect(u.notes).toContain("cmdline: CONFIG_CMDLINE_FORCE: the bootloader's command line is ignored");
  });

  it('"from the dtb" only when the dtb bootargs are used', () => {
    const from = "cmdline: from the dtb's /chosen/bootargs";
    expect(buildUserProfile({}).notes).not.toContain(from);
    expect(buildUserProfile({ cmdline: 'quiet' }).notes).not.toContain(from);
    expect(buildUserProfile({ cmdline: 'quiet', dtb: chosen('cma=1M') }).notes).not.toContain(from);
  });

  it('empty dtb bootargs are a command line, not a fallback', () => {
    const u = buildUserProfile({ dtb: chosen('') });
    expect(u.profile.cmdline).toBe('');
    expect(u.fallbacks.some((f) => f.startsWith('cmdline'))).toBe(false);
  });

  it('bootargs of blanks are a command line: CONFIG_CMDLINE is only for a zero-length one (cmdline[0] is tested untrimmed)', () => {
    const withCfg = k(['CONFIG_CMDLINE="cma=4M"']);
    expect(buildUserProfile({ config: withCfg, dtb: chosen('   ') }).profile.cmdline).toBe('');
    expect(buildUserProfile({ config: withCfg, cmdline: ' \t' }).profile.cmdline).toBe('');
    expect(buildUserProfile({ config: withCfg, dtb: chosen('') }).profile.cmdline).toBe('cma=4M');
  });

  it('CONFIG_CMDLINE without EXTEND is not appended to a bootloader line', () => {
    expect(buildUserProfile({ config: k(['CONFIG_CMDLINE="cma=4M"']), cmdline: 'quiet' }).profile.cmdline).toBe('quiet');
  });
});
