// What dmacheck needs from a board's device tree blob: RAM banks, the
// /reserved-memory pools, the DMA masters with their bus windows and
// coherence, the harts' ISA facts and the boot arguments. The blob reader is
// fdt.ts; this file gives the nodes their meaning, following what the kernel's
// boot code reads (early_init_dt_scan_memory, of_reserved_mem, of_dma_get_range,
// of_dma_is_coherent, riscv_fill_hwcap / riscv_init_cbo_blocksizes).

import type { DeviceSpec, KernelVersion, MemoryRange, ReservedMemorySpec } from './profile.ts';
import {
  baseName,
  cellsOf,
  DtbError,
  findNode,
  hasProp,
  isAvailable,
  parseFdt,
  phandleMap,
  propString,
  propStrings,
  propTuples,
  propU32,
  propU32s,
  walk,
  type Fdt,
  type FdtNode,
} from './fdt.ts';

export { DtbError } from './fdt.ts';

export interface DtbCpu {
  path: string;
  compatible: string[];
  /** `riscv,isa` as written, or null when only `riscv,isa-extensions` is given. */
  isa: string | null;
  /** Lower-case extension names: single letters and multi-letter ones ("zicbom", "svpbmt", "xtheadvector"). */
  extensions: string[];
  /** `riscv,cbom-block-size`; null when absent. */
  cbomBlockSize: number | null;
}

export interface DtbDevice {
  path: string;
  name: string;
  compatible: string[];
  /** The first dma-coherent / dma-noncoherent up from the node (root included), or none. */
  coherence: 'coherent' | 'noncoherent' | 'unmarked';
  dmaMaskBits: number;
  /** of_dma_get_range's result with CPU addresses, the walk from the node (5.10); undefined when it finds none. */
  dmaRanges?: { cpu: bigint; dma: bigint; size: bigint }[];
  /**
   * Only for a master with dma-ranges of its own (a bus controller): the walk from its DMA parent,
   * as 6.6's of_dma_configure_id does (f1ad5338a4d5, v6.1); null when that walk finds none.
   */
  dmaRangesFromParent?: { cpu: bigint; dma: bigint; size: bigint }[] | null;
  /** The first memory-region target, when it is a /reserved-memory child. */
  memoryRegion?: string;
  /** Why the node counts as a DMA master. */
  why: string;
}

/** A /reserved-memory child with `size` and no `reg`: the kernel places it at boot. */
export interface DynamicReserved {
  name: string;
  size: bigint;
  alignment: bigint | null;
  allocRanges: MemoryRange[];
  compatible: ReservedMemorySpec['compatible'];
  reusable: boolean;
  noMap: boolean;
  cmaDefault: boolean;
  dmaDefault: boolean;
}

export interface DtbFacts {
  model: string | null;
  compatible: string[];
  memory: MemoryRange[];
  /** /memreserve/ entries (memblock reservations). */
  memReserve: MemoryRange[];
  reservedMemory: ReservedMemorySpec[];
  dynamicReserved: DynamicReserved[];
  devices: DtbDevice[];
  cpus: DtbCpu[];
  /** /chosen bootargs. */
  bootargs: string | null;
  /** Things read but not taken over, and assumptions made. */
  notes: string[];
}

export function readDtb(blob: Uint8Array): DtbFacts {
  return extractDtbFacts(parseFdt(blob));
}

export function extractDtbFacts(fdt: Fdt): DtbFacts {
  const notes: string[] = [];
  const root = fdt.root;
  const phandles = phandleMap(fdt);
  const rm = reservedMemoryOf(fdt, notes);
  return {
    model: propString(root, 'model'),
    compatible: propStrings(root, 'compatible') ?? [],
    memory: memoryOf(root),
    memReserve: memReserveOf(fdt),
    reservedMemory: rm.static,
    dynamicReserved: rm.dynamic,
    devices: devicesOf(fdt, phandles, notes),
    cpus: cpusOf(fdt, notes),
    bootargs: (() => {
      const chosen = findNode(fdt, '/chosen');
      return chosen === null ? null : propString(chosen, 'bootargs');
    })(),
    notes,
  };
}

/** drivers/of/fdt.c early_init_dt_scan_memory: top-level device_type "memory" nodes, linux,usable-memory first. */
function memoryOf(root: FdtNode): MemoryRange[] {
  const banks: MemoryRange[] = [];
  const c = cellsOf(root);
  for (const n of root.children) {
    if (propString(n, 'device_type') !== 'memory' || !isAvailable(n)) continue;
    const prop = hasProp(n, 'linux,usable-memory') ? 'linux,usable-memory' : 'reg';
    for (const [base, size] of propTuples(n, prop, [c.address, c.size]) ?? []) if (size > 0n) banks.push({ base, size });
  }
  return mergeRanges(banks);
}

export function mergeRanges(rs: readonly MemoryRange[]): MemoryRange[] {
  const s = [...rs].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  const out: MemoryRange[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last !== undefined && r.base <= last.base + last.size) {
      const end = r.base + r.size > last.base + last.size ? r.base + r.size : last.base + last.size;
      last.size = end - last.base;
    } else out.push({ base: r.base, size: r.size });
  }
  return out;
}

function poolCompatible(n: FdtNode): ReservedMemorySpec['compatible'] {
  const c = propStrings(n, 'compatible') ?? [];
  if (c.includes('shared-dma-pool')) return 'shared-dma-pool';
  if (c.includes('restricted-dma-pool')) return 'restricted-dma-pool';
  return 'other';
}

/**
 * A property of exactly `count` cells as one u64 (of_read_number), null when absent, 'bad' for any
 * other length. __reserved_mem_alloc_size (5.10, 6.6) checks only len == cells * 4: with a root
 * #address-cells 0 an empty alignment passes and dt_mem_next_cell(0, ...) reads it as 0.
 */
function propNumber(n: FdtNode, name: string, count: number): bigint | null | 'bad' {
  const cells = propU32s(n, name);
  if (cells === null) return null;
  if (cells.length !== count) return 'bad';
  if (count === 0) return 0n;
  return (propTuples(n, name, [count]) as bigint[][])[0][0];
}

/**
 * The children of /reserved-memory as the kernel's early scan sees them (5.10: drivers/of/fdt.c
 * __fdt_scan_reserved_mem; 6.6: fdt.c fdt_scan_reserved_mem; both with __reserved_mem_check_root
 * and __reserved_mem_reserve_reg) and as drivers/of/of_reserved_mem.c __reserved_mem_alloc_size
 * (5.10, 6.6) reads a dynamic one: static (reg) and dynamic (size) regions.
 */
function reservedMemoryOf(fdt: Fdt, notes: string[]): { static: ReservedMemorySpec[]; dynamic: DynamicReserved[] } {
  const out = { static: [] as ReservedMemorySpec[], dynamic: [] as DynamicReserved[] };
  const rm = findNode(fdt, '/reserved-memory');
  if (rm === null) return out;
  const root = cellsOf(fdt.root);
  // __reserved_mem_check_root: #size-cells and #address-cells present and equal to the root's
  // (dt_root_size_cells / dt_root_addr_cells), and a ranges property; otherwise pr_err("Reserved
  // memory: unsupported node format, ignoring") and no child is read.
  if (propU32(rm, '#address-cells') !== root.address || propU32(rm, '#size-cells') !== root.size) {
    notes.push('/reserved-memory: #address-cells/#size-cells differ from the root (the kernel refuses such a node)');
    return out;
  }
  if (!hasProp(rm, 'ranges')) {
    notes.push('/reserved-memory: no ranges property (the kernel refuses such a node)');
    return out;
  }
  const ranges = rm.props.get('ranges');
  if (ranges !== undefined && ranges.length > 0) notes.push('/reserved-memory: non-empty ranges ignored (addresses taken as CPU addresses)');
  // Every cell count below is the root's (the check above made the node's the same).
  const ac = root.address;
  const sc = root.size;
  for (const n of rm.children) {
    if (!isAvailable(n)) {
      notes.push(`${n.path}: status disabled, skipped`);
      continue;
    }
    const flags = {
      compatible: poolCompatible(n),
      reusable: hasProp(n, 'reusable'),
      noMap: hasProp(n, 'no-map'),
      cmaDefault: hasProp(n, 'linux,cma-default'),
      dmaDefault: hasProp(n, 'linux,dma-default'),
    };
    const reg = propTuples(n, 'reg', [ac, sc]);
    if (reg !== null && reg.length === 0) {
      // __reserved_mem_reserve_reg: a zero-length reg passes (`if (len && ...)`), the loop saves
      // nothing and it returns 0, so the caller's `err == -ENOENT && size` never looks at size.
      notes.push(`${n.path}: empty reg, nothing reserved (a size property is not read)`);
      continue;
    }
    if (reg !== null && reg[0][1] !== 0n) {
      // __reserved_mem_reserve_reg: every reg entry is reserved, the first one names the region.
      if (reg.length > 1) notes.push(`${n.path}: ${reg.length} reg entries, only the first becomes the region`);
      const [base, size] = reg[0];
      out.static.push({
        name: n.name,
        base,
        size,
        compatible: flags.compatible,
        ...(flags.reusable ? { reusable: true } : {}),
        ...(flags.noMap ? { noMap: true } : {}),
        ...(flags.cmaDefault ? { cmaDefault: true } : {}),
        ...(flags.dmaDefault ? { dmaDefault: true } : {}),
      });
      continue;
    }
    // No reg (-ENOENT, saved as base 0 size 0 when a size property exists), or a first reg entry
    // of size 0 (saved with size 0): fdt_init_reserved_mem sees rmem->size == 0 either way and calls
    // __reserved_mem_alloc_size, which wants `size` of exactly dt_root_size_cells cells.
    if (reg !== null) notes.push(`${n.path}: first reg entry has size 0, the kernel allocates it from size like a dynamic region`);
    const size = propNumber(n, 'size', sc);
    if (size === null || size === 'bad') {
      notes.push(`${n.path}: neither reg nor a single size, skipped`);
      continue;
    }
    // `alignment` is read with dt_root_addr_cells (not the size cells); any other length is -EINVAL.
    const alignment = propNumber(n, 'alignment', ac);
    if (alignment === 'bad') {
      notes.push(`${n.path}: alignment is not ${ac} cell(s) (#address-cells), the kernel skips the node (invalid alignment property)`);
      continue;
    }
    const ar = propU32s(n, 'alloc-ranges');
    if (ar !== null && ar.length % (ac + sc) !== 0) {
      notes.push(`${n.path}: alloc-ranges is not a list of (address, size), the kernel skips the node (invalid alloc-ranges property)`);
      continue;
    }
    out.dynamic.push({
      name: n.name,
      size,
      alignment,
      allocRanges: (propTuples(n, 'alloc-ranges', [ac, sc]) ?? []).map(([base, sz]) => ({ base, size: sz })),
      ...flags,
    });
  }
  return out;
}

// ------------------------------------------------------------------ DMA masters

/**
 * Compatibles of common DMA-capable controllers (substring match). The blob
 * does not say which nodes master the bus; these, nodes behind a non-empty
 * dma-ranges, nodes with a memory-region and DMA engines (#dma-cells) do.
 */
const DMA_COMPATIBLES = ['snps,dwmac', 'snps,dw-mshc', 'dwcmshc', 'sdhci', 'pcie', 'ahci', 'xhci', 'dwc3', 'ehci', 'ohci', 'nvme'];
/**
 * Mask width a driver asks for with dma_set_mask_and_coherent. The blob does
 * not carry it: PCIe hosts (standing for their endpoints), dwmac and NVMe
 * drivers set 64 bits, everything else is taken at the platform default 32.
 */
const WIDE_COMPATIBLES = ['pcie', 'snps,dwmac', 'nvme'];
/** Subtrees that describe no devices. */
const NOT_DEVICES = new Set(['/cpus', '/memory', '/reserved-memory', '/chosen', '/aliases', '/__symbols__', '/__fixups__', '/__local_fixups__']);

function devicesOf(fdt: Fdt, phandles: Map<number, FdtNode>, notes: string[]): DtbDevice[] {
  const out: DtbDevice[] = [];
  const skip = (n: FdtNode) => NOT_DEVICES.has(n.path) || propString(n, 'device_type') === 'memory' || NOT_DEVICES.has(`/${baseName(n)}`);
  const visit = (n: FdtNode) => {
    for (const c of n.children) {
      if (n === fdt.root && skip(c)) continue;
      const why = masterReason(c, phandles);
      if (!isAvailable(c)) {
        // of_platform_populate skips an unavailable node and everything below it.
        if (why !== null) notes.push(`${c.path}: status "${propString(c, 'status') ?? ''}", not a device`);
        continue;
      }
      if (why !== null) out.push(deviceOf(c, why, phandles, notes));
      visit(c);
    }
  };
  visit(fdt.root);
  // DeviceSpec names must tell devices apart: fall back to the path where node names repeat.
  const counts = new Map<string, number>();
  for (const d of out) counts.set(d.name, (counts.get(d.name) ?? 0) + 1);
  for (const d of out) if ((counts.get(d.name) ?? 0) > 1) d.name = d.path;
  return out;
}

function masterReason(n: FdtNode, phandles: Map<number, FdtNode>): string | null {
  const parentRanges = n.parent?.props.get('dma-ranges');
  // An interrupt controller on such a bus is no bus master.
  if (parentRanges !== undefined && parentRanges.length > 0 && !hasProp(n, 'interrupt-controller')) return `behind ${n.parent?.path} dma-ranges`;
  const mr = propU32s(n, 'memory-region');
  if (mr !== null && mr.some((ph) => phandles.get(ph)?.parent?.path === '/reserved-memory')) return 'memory-region';
  const compat = propStrings(n, 'compatible') ?? [];
  const hit = compat.find((c) => DMA_COMPATIBLES.some((k) => c.includes(k)));
  if (hit !== undefined) return `compatible "${hit}"`;
  if (hasProp(n, '#dma-cells')) return 'DMA engine (#dma-cells)';
  return null;
}

function deviceOf(n: FdtNode, why: string, phandles: Map<number, FdtNode>, notes: string[]): DtbDevice {
  const compatible = propStrings(n, 'compatible') ?? [];
  const wide = compatible.some((c) => WIDE_COMPATIBLES.some((k) => c.includes(k)));
  const d: DtbDevice = { path: n.path, name: n.name, compatible, coherence: coherenceOf(n), dmaMaskBits: wide ? 64 : 32, why };
  const ranges = dmaRangesOf(n, notes);
  if (ranges !== undefined) d.dmaRanges = ranges;
  // A PCI host stands for the endpoints behind it, which pci_dma_configure configures from the host
  // node (np != dev->of_node: the host's own dma-ranges on both versions). Notes of the parent walk are
  // those the node's siblings get: not repeated here.
  const t = propString(n, 'device_type');
  if (n.props.has('dma-ranges') && n.parent !== null && t !== 'pci' && t !== 'pciex') d.dmaRangesFromParent = dmaRangesOf(n.parent, []) ?? null;
  const mr = propU32s(n, 'memory-region');
  if (mr !== null && mr.length > 0) {
    const target = phandles.get(mr[0]);
    if (target?.parent?.path === '/reserved-memory') d.memoryRegion = target.name;
    else notes.push(`${n.path}: memory-region <${mr[0]}> is not a /reserved-memory child, ignored`);
  }
  return d;
}

/** drivers/of/address.c of_dma_is_coherent (6.6 form): the first marking up the tree decides. */
function coherenceOf(n: FdtNode): DtbDevice['coherence'] {
  for (let p: FdtNode | null = n; p !== null; p = p.parent) {
    if (hasProp(p, 'dma-coherent')) return 'coherent';
    if (hasProp(p, 'dma-noncoherent')) return 'noncoherent';
  }
  return 'unmarked';
}

/**
 * drivers/of/address.c of_dma_get_range (5.10, 6.6): from the node up to the
 * first non-empty dma-ranges; `dma-ranges;` is identity and the walk goes on;
 * a bus without the property below one that had it (or none at all) means no
 * map. Each entry's parent address is then translated to a CPU address through
 * the dma-ranges above (of_translate_dma_address: a missing or empty one is 1:1);
 * entries that fall outside every window are dropped as the kernel drops them.
 */
function dmaRangesOf(n: FdtNode, notes: string[]): DtbDevice['dmaRanges'] {
  let node: FdtNode | null = n;
  let found = false;
  for (; node !== null; node = node.parent) {
    const r = node.props.get('dma-ranges');
    if (r !== undefined && r.length > 0) break;
    if (found && r === undefined) return undefined;
    found = true;
  }
  if (node === null || node.parent === null) return undefined;
  const bus = node;
  const own = cellsOf(bus);
  const up = cellsOf(bus.parent as FdtNode);
  const out: { cpu: bigint; dma: bigint; size: bigint }[] = [];
  for (const [dma, parentAddr, size] of propTuples(bus, 'dma-ranges', [own.address, up.address, own.size]) ?? []) {
    const cpu = translateUp(bus.parent as FdtNode, parentAddr);
    if (cpu === null) notes.push(`${bus.path}: dma-ranges entry at bus 0x${dma.toString(16)} has no CPU address, dropped`);
    else out.push({ cpu, dma, size });
  }
  return out.length > 0 ? out : undefined;
}

/** of_translate_dma_address: an address in `a`'s child space through the dma-ranges of `a` and its ancestors below the root. */
function translateUp(a: FdtNode, addr: bigint): bigint | null {
  let x = addr;
  for (let node: FdtNode | null = a; node !== null && node.parent !== null; node = node.parent) {
    const r = node.props.get('dma-ranges');
    if (r === undefined || r.length === 0) continue;
    const own = cellsOf(node);
    const up = cellsOf(node.parent);
    const hit = (propTuples(node, 'dma-ranges', [own.address, up.address, own.size]) ?? []).find(([c, , s]) => x >= c && x < c + s);
    if (hit === undefined) return null;
    x = BigInt.asUintN(64, x - hit[0] + hit[1]);
  }
  return x;
}

/** The DeviceSpec a DT master stands for. Unmarked nodes follow the kernel's default for the version. */
export function deviceSpecOf(d: DtbDevice, kernel: KernelVersion): DeviceSpec {
  // 6.6 riscv selects ARCH_DMA_DEFAULT_COHERENT: an unmarked device is coherent. 5.10's of_dma_is_coherent
  // reads only dma-coherent, so an unmarked (or dma-noncoherent) device is non-coherent there.
  const coherent = d.coherence === 'coherent' || (d.coherence === 'unmarked' && kernel === '6.6');
  const ranges = kernel === '6.6' && d.dmaRangesFromParent !== undefined ? d.dmaRangesFromParent : d.dmaRanges;
  return {
    name: d.name,
    coherent,
    dmaMaskBits: d.dmaMaskBits,
    coherentMaskBits: d.dmaMaskBits,
    ...(ranges !== undefined && ranges !== null ? { dmaRanges: ranges } : {}),
    ...(d.memoryRegion !== undefined ? { memoryRegion: d.memoryRegion } : {}),
  };
}

// ------------------------------------------------------------------ harts

/** /cpus/cpu@N: device_type "cpu" nodes that are available. */
function cpusOf(fdt: Fdt, notes: string[]): DtbCpu[] {
  const cpus = findNode(fdt, '/cpus');
  if (cpus === null) return [];
  const out: DtbCpu[] = [];
  for (const n of cpus.children) {
    if (propString(n, 'device_type') !== 'cpu') continue;
    if (!isAvailable(n)) continue;
    const isa = propString(n, 'riscv,isa');
    const list = propStrings(n, 'riscv,isa-extensions');
    let extensions: string[];
    if (list !== null) extensions = list.map((e) => e.toLowerCase());
    else if (isa !== null) extensions = isaExtensions(isa);
    else {
      notes.push(`${n.path}: neither riscv,isa nor riscv,isa-extensions`);
      extensions = [];
    }
    out.push({ path: n.path, compatible: propStrings(n, 'compatible') ?? [], isa, extensions, cbomBlockSize: propU32(n, 'riscv,cbom-block-size') });
  }
  return out;
}

/**
 * An ISA string ("rv64imafdc_zicbom_svpbmt_xtheadvector") as extension names:
 * single letters after rv32/rv64, then the multi-letter ones between underscores
 * (a multi-letter one may also follow the letters directly). Version suffixes
 * ("2p0") are dropped.
 */
export function isaExtensions(isa: string): string[] {
  const s = isa.toLowerCase().trim();
  const m = /^rv(32|64|128)([a-z0-9_]*)$/.exec(s);
  if (m === null) throw new DtbError(`riscv,isa "${isa}" does not start with rv32/rv64`);
  const parts = m[2].split('_').filter((p) => p !== '');
  const out: string[] = [];
  const first = parts.shift() ?? '';
  for (let i = 0; i < first.length; ) {
    const c = first[i];
    if (c === 's' || c === 'x' || c === 'z') {
      out.push(first.slice(i).replace(/\d+(p\d+)?$/, ''));
      break;
    }
    out.push(c);
    i += 1 + (/^\d+(p\d+)?/.exec(first.slice(i + 1))?.[0].length ?? 0);
  }
  for (const p of parts) out.push(p.replace(/\d+(p\d+)?$/, ''));
  // 'g' stands for imafd (plus zicsr/zifencei, which nothing here reads).
  return out.flatMap((e) => (e === 'g' ? ['i', 'm', 'a', 'f', 'd'] : [e]));
}

/**
 * drivers/of/fdt.c early_init_fdt_scan_reserved_mem (5.10, 6.6): the /memreserve/
 * entries are reserved in order until the first entry of size 0 (`if (!size)
 * break;`), not until the format's 0/0 terminator: entries after a size-0 one
 * are not reserved.
 */
function memReserveOf(fdt: Fdt): MemoryRange[] {
  const out: MemoryRange[] = [];
  for (const r of fdt.memReserve) {
    if (r.size === 0n) break;
    out.push({ base: r.address, size: r.size });
  }
  return out;
}
