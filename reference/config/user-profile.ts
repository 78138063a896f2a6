// A Profile from the user's own files: their kernel .config, their board's
// .dtb, the command line their bootloader passes and the kernel version. Every
// piece they leave out comes from the SG2042 defaults (c920-sg2042-6.6, or
// c920-sg2042-5.10-fixed for a 5.10 kernel) and is listed in `fallbacks`, so
// the report says what was checked and what was assumed.

import type { DeviceSpec, KernelVersion, MemoryRange, Profile, ReservedMemorySpec } from './profile.ts';
import { kconfigEnabled } from './profile.ts';
import { findProfile } from './profiles.ts';
import { parseKconfig, releaseMajorMinor } from './kconfig.ts';
import { deviceSpecOf, mergeRanges, readDtb, type DtbFacts, type DynamicReserved } from './dtb.ts';
import { hartFacts, platformOf, SG2042_BOARD, SG2042_CPU } from './platform-facts.ts';
import { SV39_LAYOUT } from '../arch/riscv/pgtable.ts';
import { cmaMinAlignmentBytes } from '../mm/cma.ts';

export class UserInputError extends Error {}

export interface UserInputs {
  /** .config text. */
  config?: string;
  /** Where the .config came from, for error messages. */
  configSource?: string;
  dtb?: Uint8Array;
  /** What the bootloader passes (stands for /chosen/bootargs). */
  cmdline?: string;
  kernel?: KernelVersion;
  /** Profile name; 'user' by default. */
  name?: string;
}

export interface UserProfile {
  profile: Profile;
  /** One line per piece taken from the SG2042 defaults. */
  fallbacks: string[];
  /** What was read and assumed beside the fallbacks (devices found, skipped nodes, patched-in CMO). */
  notes: string[];
}

const MiB = 1n << 20n;
const PAGE = 4096n;
/** CMA areas are aligned to pageblocks: 4 MiB with 4 KiB pages on both kernels (MAX_ORDER 11 exclusive / 10 inclusive). */

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function size(v: bigint): string {
  return v % (1n << 30n) === 0n ? `${v >> 30n} GiB` : v % MiB === 0n ? `${v >> 20n} MiB` : `${v} bytes`;
}

/** Builds the profile; throws KconfigError, DtbError or UserInputError on input dmacheck cannot take. */
export function buildUserProfile(inp: UserInputs): UserProfile {
  const fallbacks: string[] = [];
  const notes: string[] = [];
  const parsed = inp.config !== undefined ? parseKconfig(inp.config, inp.configSource) : null;
  if (parsed !== null) {
    notes.push(...parsed.warnings.map((w) => `.config ${w}`));
    if (parsed.arch !== undefined && parsed.arch !== 'riscv') notes.push(`.config is for ${parsed.arch}, not riscv`);
  }

  const kernel = kernelOf(inp.kernel, parsed?.kernelRelease, fallbacks, notes);
  const baseName = kernel === '6.6' ? 'c920-sg2042-6.6' : 'c920-sg2042-5.10-fixed';
  const base = findProfile(baseName);
  if (base === undefined) throw new Error(`built-in profile ${baseName} missing`);

  let kconfig: Profile['kconfig'];
  if (parsed !== null) kconfig = parsed.symbols;
  else {
    kconfig = base.kconfig;
    fallbacks.push(`kconfig: no --config; the ${baseName} Kconfig (${Object.keys(base.kconfig).length} symbols)`);
  }

  const dt: DtbFacts | null = inp.dtb !== undefined ? readDtb(inp.dtb) : null;
  if (dt !== null) notes.push(...dt.notes);

  // Harts → platform.
  let cpus = dt?.cpus ?? [];
  if (cpus.length === 0) {
    fallbacks.push(`cpus: ${dt === null ? 'no --dtb' : 'no /cpus/cpu@N in the dtb'}; SG2042 C920 harts (${SG2042_CPU.isa}, XTheadMae + XTheadCmo, no Zicbom/Svpbmt)`);
    cpus = [SG2042_CPU];
  }
  let board = dt?.compatible ?? [];
  if (board.length === 0) board = SG2042_BOARD;
  const platform = platformOf(hartFacts(cpus, notes), board, kconfig, kernel, notes);
  notes.push(
    `platform: ${platform.maee ? 'MAEE' : platform.pbmte ? 'Svpbmt' : 'no memory-type extension'}, memory types ${platform.memTypes.scheme}, CMO ${
      kernel === '5.10' ? `vendor ${platform.vendorCmo ?? 'none'}` : platform.cmoFlavour
    }${platform.cbomBlockSize > 0 ? `, cbom block ${platform.cbomBlockSize}` : ''}`,
  );

  // Memory and memblock reservations.
  let memory: MemoryRange[];
  let reserved: MemoryRange[];
  if (dt !== null && dt.memory.length > 0) {
    memory = dt.memory;
    const low = memory[0].base;
    // The dtb does not say where firmware and the kernel image sit; riscv boards put OpenSBI at the
    // start of DRAM and load the kernel 2 MiB above it.
    reserved = mergeRanges([...dt.memReserve, { base: low, size: 2n * MiB }, { base: low + 2n * MiB, size: 30n * MiB }]);
    fallbacks.push(`firmware + kernel image: not in a dtb; reserved ${hex(low)}..${hex(low + 32n * MiB)} (2 MiB OpenSBI + 30 MiB image) as on SG2042`);
  } else {
    memory = [...base.memory];
    reserved = [...base.reserved];
    fallbacks.push(`memory: ${dt === null ? 'no --dtb' : 'no device_type "memory" node in the dtb'}; SG2042 banks (${memory.length} x ${size(memory[0].size)} from ${hex(memory[0].base)}) and reservations`);
  }
  checkMemory(memory, kernel);

  // Reserved-memory pools.
  const reservedMemory: ReservedMemorySpec[] = [...(dt?.reservedMemory ?? [])];
  for (const d of dt?.dynamicReserved ?? []) {
    const placed = placeDynamic(d, memory, kernel, kconfig, [...reserved, ...reservedMemory], reservedMemory);
    if (placed === null) notes.push(`/reserved-memory/${d.name}: no room for ${size(d.size)}, the kernel would fail to allocate it; skipped`);
    else {
      reservedMemory.push(placed.spec);
      notes.push(`/reserved-memory/${d.name}: ${size(d.size)} without reg, placed ${placed.dir} at ${hex(placed.spec.base)} as memblock would (approximation)`);
    }
  }
  if (dt === null) fallbacks.push('reserved-memory: no --dtb; none (as on SG2042)');

  // DMA masters.
  let devices: DeviceSpec[];
  if (dt !== null && dt.devices.length > 0) {
    devices = dt.devices.map((d) => deviceSpecOf(d, kernel));
    for (const d of dt.devices) {
      const spec = deviceSpecOf(d, kernel);
      const coh =
        d.coherence === 'unmarked'
          ? `${spec.coherent ? 'coherent' : 'non-coherent'} (no dma-coherent/dma-noncoherent up the tree: the ${kernel} default)`
          : d.coherence === 'coherent'
            ? 'coherent'
            : kernel === '5.10'
              ? 'non-coherent (5.10 reads only dma-coherent)'
              : 'non-coherent';
      const win = d.dmaRanges?.map((r) => `bus ${hex(r.dma)} = cpu ${hex(r.cpu)} +${hex(r.size)}`).join(', ');
      notes.push(
        `device ${d.name} (${d.why}): ${coh}, ${d.dmaMaskBits}-bit mask (assumed)${win ? `, dma-ranges ${win}` : ''}${d.memoryRegion ? `, memory-region ${d.memoryRegion}` : ''}`,
      );
    }
  } else {
    devices = [...base.devices];
    fallbacks.push(`devices: ${dt === null ? 'no --dtb' : 'no DMA master found in the dtb'}; the SG2042 pair (${devices.map((d) => `${d.name} ${d.dmaMaskBits}-bit`).join(', ')}, non-coherent)`);
  }

  const cmdline = cmdlineOf(inp.cmdline, dt?.bootargs ?? null, kconfig, fallbacks, notes);

  const profile: Profile = {
    name: inp.name ?? 'user',
    description: `${dt?.model ?? 'SG2042 defaults'} on ${parsed?.kernelRelease ? `Linux ${parsed.kernelRelease}` : `a ${kernel} kernel`}`,
    kernel,
    kconfig,
    memory,
    reserved,
    cmdline,
    zoneDmaBits: 24,
    platform,
    devices,
    ...(reservedMemory.length > 0 ? { reservedMemory } : {}),
    faults: [],
    expect: {},
    expectDefault: 'holds',
  };
  return { profile, fallbacks, notes };
}

function kernelOf(given: KernelVersion | undefined, release: string | undefined, fallbacks: string[], notes: string[]): KernelVersion {
  const mm = release !== undefined ? releaseMajorMinor(release) : null;
  if (given !== undefined) {
    if (mm !== null && `${mm[0]}.${mm[1]}` !== given) notes.push(`--kernel ${given} given; the .config header says Linux ${release}`);
    return given;
  }
  if (mm !== null) {
    const v = `${mm[0]}.${mm[1]}`;
    if (v === '6.6' || v === '5.10') return v;
    const near: KernelVersion = mm[0] >= 6 ? '6.6' : '5.10';
    fallbacks.push(`kernel: the .config is for Linux ${release}; the model has 5.10 and 6.6, using ${near} (pass --kernel to choose)`);
    return near;
  }
  fallbacks.push('kernel: no --kernel and no "Linux/riscv X.Y Kernel Configuration" header; 6.6');
  return '6.6';
}

function checkMemory(memory: readonly MemoryRange[], kernel: KernelVersion): void {
  if (memory.length === 0) throw new UserInputError('the dtb describes no memory');
  const low = memory[0].base;
  if (kernel === '5.10' && low % (2n * MiB) !== 0n) throw new UserInputError(`5.10 needs DRAM to start 2 MiB aligned; the dtb's starts at ${hex(low)}`);
  for (const b of memory) if (b.base + b.size > 1n << 56n) throw new UserInputError(`memory bank at ${hex(b.base)} reaches past the 56-bit physical address space`);
}

/** early_init_dt_alloc_reserved_memory_arch's default alignment: SMP_CACHE_BYTES = L1_CACHE_BYTES, 64 on riscv (asm/cache.h L1_CACHE_SHIFT 6). */
const SMP_CACHE_BYTES = 64n;

/**
 * drivers/of/of_reserved_mem.c __reserved_mem_alloc_size (5.10, 6.6): the pool
 * is aligned to `alignment`, or SMP_CACHE_BYTES when there is none (or it is 0),
 * CMA pools at least to a pageblock. Without alloc-ranges memblock places it
 * top-down (riscv never sets bottom-up) in all of RAM the linear map covers,
 * around every reservation. With alloc-ranges the windows are tried in the order
 * listed and the first one with room wins; inside a window 5.10 goes top-down,
 * 6.6 (__reserved_mem_alloc_in_range, v6.5) bottom-up when the window starts
 * inside or at the end of an already placed reserved_mem region and does not
 * also end inside one (top-down when only its end is, or otherwise).
 */
function placeDynamic(
  d: DynamicReserved,
  /** Sorted, as mergeRanges and the built-in tables give them (memory[0] is the lowest bank). */
  memory: readonly MemoryRange[],
  kernel: KernelVersion,
  kconfig: Profile['kconfig'],
  taken: readonly MemoryRange[],
  rmems: readonly MemoryRange[],
): { spec: ReservedMemorySpec; dir: 'top-down' | 'bottom-up' } | null {
  let align = d.alignment === null || d.alignment === 0n ? SMP_CACHE_BYTES : d.alignment;
  // IS_ENABLED(CONFIG_CMA) only: a pageblock (5.10 max(MAX_ORDER - 1, pageblock_order), 4 MiB; 6.6
  // CMA_MIN_ALIGNMENT_BYTES, 2 MiB with CONFIG_HUGETLB_PAGE).
  if (kconfigEnabled({ kconfig }, 'CONFIG_CMA') && d.compatible === 'shared-dma-pool' && d.reusable && !d.noMap) {
    const cmaAlign = cmaMinAlignmentBytes(kernel, kconfigEnabled({ kconfig }, 'CONFIG_HUGETLB_PAGE'));
    if (align < cmaAlign) align = cmaAlign;
  }
  const limit = (memory[0].base & ~(2n * MiB - 1n)) + SV39_LAYOUT[kernel].linearMapSize;
  const clashOf = (cand: bigint) => taken.find((t) => t.base < cand + d.size && cand < t.base + t.size);
  /** The RAM of bank b inside [start, end) and the linear map (empty when lo >= hi). */
  const piece = (b: MemoryRange, start: bigint, end: bigint): { lo: bigint; hi: bigint } => {
    const lo = start > b.base ? start : b.base;
    let hi = end < b.base + b.size ? end : b.base + b.size;
    if (hi > limit) hi = limit;
    return { lo, hi };
  };
  /** memblock's __memblock_find_range_top_down: the highest free aligned start. */
  const topDown = (start: bigint, end: bigint): bigint | null => {
    for (const b of [...memory].reverse()) {
      const { lo, hi } = piece(b, start, end);
      // Walk down from the top of the piece past each reservation in the way.
      for (let top = hi; top - d.size >= lo; ) {
        const cand = (top - d.size) & ~(align - 1n);
        if (cand < lo) break;
        const clash = clashOf(cand);
        if (clash === undefined) return cand;
        top = clash.base;
      }
    }
    return null;
  };
  /** memblock's __memblock_find_range_bottom_up: the lowest free aligned start. */
  const bottomUp = (start: bigint, end: bigint): bigint | null => {
    for (const b of memory) {
      const { lo, hi } = piece(b, start, end);
      // Walk up from the bottom of the piece past each reservation in the way.
      for (let bot = lo; ; ) {
        const cand = (bot + align - 1n) & ~(align - 1n);
        if (cand + d.size > hi) break;
        const clash = clashOf(cand);
        if (clash === undefined) return cand;
        bot = clash.base + clash.size;
      }
    }
    return null;
  };
  let best: bigint | null = null;
  let dir: 'top-down' | 'bottom-up' = 'top-down';
  if (d.allocRanges.length === 0) best = topDown(0n, 1n << 64n);
  for (const w of d.allocRanges) {
    const start = w.base;
    const end = w.base + w.size;
    let up = false;
    let down = false;
    for (const r of rmems) {
      if (r.size === 0n) continue;
      if (start >= r.base && start <= r.base + r.size) up = true;
      if (end >= r.base && end <= r.base + r.size) down = true;
    }
    dir = kernel === '6.6' && up && !down ? 'bottom-up' : 'top-down';
    best = dir === 'bottom-up' ? bottomUp(start, end) : topDown(start, end);
    if (best !== null) break;
  }
  if (best === null) return null;
  const spec: ReservedMemorySpec = {
    name: d.name,
    base: best,
    size: d.size,
    compatible: d.compatible,
    ...(d.reusable ? { reusable: true } : {}),
    ...(d.noMap ? { noMap: true } : {}),
    ...(d.cmaDefault ? { cmaDefault: true } : {}),
    ...(d.dmaDefault ? { dmaDefault: true } : {}),
  };
  return { spec, dir };
}

/**
 * drivers/of/fdt.c early_init_dt_scan_chosen (5.10, 6.6): the bootloader's
 * bootargs, unless CONFIG_CMDLINE_FORCE; CONFIG_CMDLINE_EXTEND appends
 * CONFIG_CMDLINE; otherwise CONFIG_CMDLINE only when bootargs are empty
 * (zero length: the test is on the first byte, blanks count).
 */
function cmdlineOf(given: string | undefined, bootargs: string | null, kconfig: Profile['kconfig'], fallbacks: string[], notes: string[]): string {
  const cfg = typeof kconfig.CONFIG_CMDLINE === 'string' ? kconfig.CONFIG_CMDLINE : '';
  const on = (s: string) => kconfigEnabled({ kconfig }, s);
  if (on('CONFIG_CMDLINE_FORCE') && cfg !== '') {
    if (given !== undefined || bootargs !== null) notes.push('cmdline: CONFIG_CMDLINE_FORCE: the bootloader\'s command line is ignored');
    return cfg;
  }
  let args = given ?? bootargs;
  if (given === undefined && bootargs !== null) notes.push('cmdline: from the dtb\'s /chosen/bootargs');
  // The kernel tests cmdline[0] untrimmed: bootargs of blanks are a command line, CONFIG_CMDLINE stays out.
  if (args === null || args === '') {
    if (cfg !== '') {
      notes.push('cmdline: CONFIG_CMDLINE (no bootloader command line)');
      return cfg;
    }
    if (given === undefined && bootargs === null) fallbacks.push('cmdline: no --cmdline, no /chosen/bootargs, no CONFIG_CMDLINE; empty (as on SG2042)');
    args = '';
  } else if (on('CONFIG_CMDLINE_EXTEND') && cfg !== '') args = `${args} ${cfg}`;
  return args.trim();
}
