// From the harts a device tree describes and the Kconfig a kernel was built
// with, the PlatformSpec the model runs: which memory-type scheme and which
// cache-maintenance flavour boot code patches in (riscv-c920-coherence.md
// §1.5, §1.7, §2, §3.4, §4).

import type { KernelVersion, PlatformSpec } from './profile.ts';
import { kconfigEnabled } from './profile.ts';
import type { DtbCpu } from './dtb.ts';

type Kconfig = Readonly<Record<string, boolean | number | string>>;

/** SG2042's C920 harts as its mainline sg2042-cpus.dtsi describes them: rv64imafdc, no Zicbom, no Svpbmt. */
export const SG2042_CPU: DtbCpu = {
  path: '/cpus/cpu@0',
  compatible: ['thead,c920', 'riscv'],
  isa: 'rv64imafdc',
  extensions: ['i', 'm', 'a', 'f', 'd', 'c'],
  cbomBlockSize: null,
};
export const SG2042_BOARD = ['sophgo,sg2042'];

export interface HartFacts {
  /** T-Head core (thead,c9xx compatible or xthead* extensions). */
  thead: boolean;
  /** Every hart lists Zicbom (and the kernel would accept it: a block size is given). */
  zicbom: boolean;
  svpbmt: boolean;
  /** A T-Head core without the standard extensions: the C920v1/C910/C906 case the T-Head errata cover (marchid = mimpid = 0). */
  theadErrata: boolean;
  /** riscv,cbom-block-size of the first hart that has one (0 = none). */
  cbomBlockSize: number;
}

const on = (kconfig: Kconfig, sym: string) => kconfigEnabled({ kconfig }, sym);

/** riscv_fill_hwcap keeps the extensions every hart has; riscv_init_cbo_blocksizes takes the first block size. */
export function hartFacts(cpus: readonly DtbCpu[], notes: string[]): HartFacts {
  const all = (e: string) => cpus.length > 0 && cpus.every((c) => c.extensions.includes(e));
  const thead = cpus.some((c) => c.compatible.some((s) => s.startsWith('thead,')) || c.extensions.some((e) => e.startsWith('xthead')));
  const sizes = cpus.map((c) => c.cbomBlockSize).filter((s): s is number => s !== null);
  const cbomBlockSize = sizes[0] ?? 0;
  if (sizes.some((s) => s !== cbomBlockSize)) notes.push(`harts disagree on riscv,cbom-block-size (${[...new Set(sizes)].join(', ')}): the kernel warns and keeps ${cbomBlockSize}`);
  let zicbom = all('zicbom');
  if (zicbom && (cbomBlockSize === 0 || (cbomBlockSize & (cbomBlockSize - 1)) !== 0)) {
    notes.push(`Zicbom listed but riscv,cbom-block-size is ${cbomBlockSize === 0 ? 'missing' : `${cbomBlockSize}, not a power of two`}: the kernel disables Zicbom`);
    zicbom = false;
  }
  const svpbmt = all('svpbmt');
  const theadMae = cpus.some((c) => c.extensions.includes('xtheadmae'));
  return { thead, zicbom, svpbmt, theadErrata: thead && (theadMae || (!zicbom && !svpbmt)), cbomBlockSize };
}

/** The vendor 5.10 tree a board's root compatible points at (which dma_wb_range variant its C920 patch has). */
function vendorCmoOf(board: readonly string[], notes: string[]): NonNullable<PlatformSpec['vendorCmo']> {
  if (board.some((c) => c.startsWith('sophgo,'))) return 'sg2042-sophgo';
  if (board.some((c) => c.includes('th1520'))) return 'th1520-beagleboard';
  if (board.some((c) => c.includes('sun20i-d1'))) return 'd1-c906';
  notes.push(`5.10 vendor C920 patch: board compatible (${board.join(', ') || 'none'}) names no known vendor tree; taking the SG2042 (Sophgo) dma_wb_range variant`);
  return 'sg2042-sophgo';
}

/**
 * The PlatformSpec for these harts on this kernel. 6.6: Zicbom harts get the
 * Zicbom ALT_CMO_OP when CONFIG_RISCV_ISA_ZICBOM is set; T-Head errata harts
 * get th.dcache.cva (6.6 has the fixed encoding) with CONFIG_ERRATA_THEAD_CMO;
 * memory types come from Svpbmt (CONFIG_RISCV_ISA_SVPBMT) or the MAE errata
 * (CONFIG_ERRATA_THEAD_PBMT), else none. 5.10 has no ALT_CMO_OP: cache
 * maintenance is the vendor patch's range helpers where the sync hooks are
 * built, and the vendor trees' static MAE bits on T-Head harts.
 */
export function platformOf(h: HartFacts, board: readonly string[], kconfig: Kconfig, kernel: KernelVersion, notes: string[]): PlatformSpec {
  const base = {
    // The 2 x 2 model geometry has the C920's line size and cache behaviour; a 64-hart geometry only slows runs.
    geometry: 'model' as const,
    maee: h.theadErrata,
    pbmte: h.svpbmt,
    cbomBlockSize: h.cbomBlockSize,
    // OpenSBI sets menvcfg.CBIE to 3 when the harts have Zicbom.
    menvcfgCbie: (h.zicbom ? 3 : 0) as PlatformSpec['menvcfgCbie'],
    swiotlbSlots: 128,
  };
  if (kernel === '5.10') {
    const hooks = on(kconfig, 'CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE') || on(kconfig, 'CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU');
    if (!h.thead) notes.push('5.10 on non-T-Head harts: no memory-type bits (mainline 5.10 has no Svpbmt support)');
    return {
      ...base,
      cmoFlavour: 'none',
      vendorCmo: hooks ? vendorCmoOf(board, notes) : null,
      memTypes: { scheme: h.thead ? 'vendor-5.10-static' : 'none', theadTable: '5.19-6.6' },
    };
  }
  let cmoFlavour: PlatformSpec['cmoFlavour'] = 'none';
  if (h.zicbom && on(kconfig, 'CONFIG_RISCV_ISA_ZICBOM')) cmoFlavour = 'zicbom';
  else if (h.theadErrata && on(kconfig, 'CONFIG_ERRATA_THEAD_CMO')) cmoFlavour = 'thead-va';
  else if (h.zicbom || h.theadErrata) {
    notes.push(`cache maintenance: the harts support ${h.zicbom ? 'Zicbom' : 'T-Head CMO'} but ${h.zicbom ? 'CONFIG_RISCV_ISA_ZICBOM' : 'CONFIG_ERRATA_THEAD_CMO'} is not set: no CMO is patched in`);
  } else notes.push('cache maintenance: the harts have neither Zicbom nor T-Head CMO: no CMO is patched in');
  let scheme: PlatformSpec['memTypes']['scheme'] = 'none';
  if (h.svpbmt && on(kconfig, 'CONFIG_RISCV_ISA_SVPBMT')) scheme = 'svpbmt';
  else if (h.theadErrata && on(kconfig, 'CONFIG_ERRATA_THEAD_PBMT')) scheme = 'thead-mae';
  else notes.push(`memory types: no ${h.svpbmt ? 'CONFIG_RISCV_ISA_SVPBMT' : h.theadErrata ? 'CONFIG_ERRATA_THEAD_PBMT' : 'Svpbmt or XTheadMae on the harts'}: PTEs carry no memory-type bits`);
  return { ...base, cmoFlavour, vendorCmo: null, memTypes: { scheme, theadTable: '5.19-6.6' } };
}
