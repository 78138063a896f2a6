// A reader for flattened device tree blobs (Devicetree Specification v0.4,
// chapter 5: header, memory reservation block, structure block, strings
// block; versions 16 and 17). No npm package does this (checked: dtb, fdt,
// devicetree, device-tree, dtb-parser, fdt-parser, libfdt, ... are not on the
// registry), so this is the small reader. It only reads: it builds the node
// tree with raw property bytes and leaves meaning to reference/config/dtb.ts.

export class DtbError extends Error {}

export const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
/** Header size of a version 17 blob (version 16 lacks size_dt_struct: 36 bytes). */
const HEADER_V17 = 40;

export interface FdtNode {
  /** Node name with its unit address ("memory@0"); "" for the root. */
  name: string;
  path: string;
  parent: FdtNode | null;
  props: Map<string, Uint8Array>;
  children: FdtNode[];
}

export interface Fdt {
  version: number;
  lastCompVersion: number;
  bootCpuidPhys: number;
  /** /memreserve/ entries of the memory reservation block. */
  memReserve: { address: bigint; size: bigint }[];
  root: FdtNode;
}

/** Parses a blob; throws DtbError on anything that is not a well-formed FDT. */
export function parseFdt(blob: Uint8Array): Fdt {
  if (blob.length < HEADER_V17 - 4) throw new DtbError(`too short for a device tree blob (${blob.length} bytes)`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const u32 = (off: number) => dv.getUint32(off, false);
  const magic = u32(0);
  if (magic !== FDT_MAGIC) throw new DtbError(`bad magic 0x${magic.toString(16).padStart(8, '0')} (a .dtb starts with 0xd00dfeed; is this a .dts?)`);
  const totalsize = u32(4);
  const offStruct = u32(8);
  const offStrings = u32(12);
  const offRsvmap = u32(16);
  const version = u32(20);
  const lastComp = u32(24);
  const bootCpuid = u32(28);
  const sizeStrings = u32(32);
  if (version < 16 || lastComp > 17) throw new DtbError(`unsupported version ${version} (last compatible ${lastComp}); versions 16 and 17 are read`);
  const headerSize = version >= 17 ? HEADER_V17 : HEADER_V17 - 4;
  if (blob.length < headerSize) throw new DtbError('truncated header');
  if (totalsize > blob.length) throw new DtbError(`header says ${totalsize} bytes, the file has ${blob.length} (truncated?)`);
  const sizeStruct = version >= 17 ? u32(36) : totalsize - offStruct;
  const within = (off: number, len: number, what: string) => {
    if (off < headerSize || off + len > totalsize || off + len < off) throw new DtbError(`${what} (offset ${off}, ${len} bytes) lies outside the blob`);
  };
  within(offStruct, sizeStruct, 'structure block');
  within(offStrings, sizeStrings, 'strings block');
  if (offStruct % 4 !== 0) throw new DtbError(`structure block offset ${offStruct} is not 4-byte aligned`);
  if (offRsvmap % 8 !== 0) throw new DtbError(`memory reservation block offset ${offRsvmap} is not 8-byte aligned`);

  const memReserve: Fdt['memReserve'] = [];
  for (let off = offRsvmap; ; off += 16) {
    within(off, 16, 'memory reservation entry');
    const address = dv.getBigUint64(off, false);
    const size = dv.getBigUint64(off + 8, false);
    if (address === 0n && size === 0n) break;
    memReserve.push({ address, size });
  }

  const strings = blob.subarray(offStrings, offStrings + sizeStrings);
  const end = offStruct + sizeStruct;
  let p = offStruct;
  const token = () => {
    if (p + 4 > end) throw new DtbError(`structure block ends without FDT_END (offset ${p})`);
    const t = u32(p);
    p += 4;
    return t;
  };
  const cstring = (buf: Uint8Array, from: number, limit: number, what: string): string => {
    let q = from;
    while (q < limit && buf[q] !== 0) q++;
    if (q >= limit) throw new DtbError(`${what} is not NUL-terminated`);
    return new TextDecoder('latin1').decode(buf.subarray(from, q));
  };
  const align4 = (n: number) => (n + 3) & ~3;

  let root: FdtNode | null = null;
  let cur: FdtNode | null = null;
  for (;;) {
    const at = p;
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      if (root !== null && cur === null) throw new DtbError(`node after the root node closed (offset ${at})`);
      const name = cstring(blob, p, end, `node name at offset ${at}`);
      p = align4(p + name.length + 1);
      if (cur === null && name !== '') throw new DtbError(`the first node must be the root (named ""), got "${name}"`);
      const node: FdtNode = { name, path: cur === null ? '/' : cur.path === '/' ? `/${name}` : `${cur.path}/${name}`, parent: cur, props: new Map(), children: [] };
      if (cur === null) root = node;
      else cur.children.push(node);
      cur = node;
    } else if (t === FDT_END_NODE) {
      if (cur === null) throw new DtbError(`FDT_END_NODE without an open node (offset ${at})`);
      cur = cur.parent;
    } else if (t === FDT_PROP) {
      if (cur === null) throw new DtbError(`property outside any node (offset ${at})`);
      const len = token();
      const nameoff = token();
      if (p + len > end) throw new DtbError(`property at offset ${at} runs past the structure block`);
      if (nameoff >= sizeStrings) throw new DtbError(`property name offset ${nameoff} outside the strings block`);
      const name = cstring(strings, nameoff, sizeStrings, `property name at strings offset ${nameoff}`);
      cur.props.set(name, blob.slice(p, p + len));
      p = align4(p + len);
    } else if (t === FDT_END) {
      if (cur !== null) throw new DtbError(`FDT_END inside node ${cur.path}`);
      if (root === null) throw new DtbError('no root node');
      break;
    } else throw new DtbError(`unknown structure token 0x${t.toString(16)} at offset ${at}`);
  }
  return { version, lastCompVersion: lastComp, bootCpuidPhys: bootCpuid, memReserve, root: root as FdtNode };
}

// ------------------------------------------------------------ property values

export function hasProp(n: FdtNode, name: string): boolean {
  return n.props.has(name);
}

/** A property as big-endian u32 cells; null when absent; DtbError when its length is not a multiple of 4. */
export function propU32s(n: FdtNode, name: string): number[] | null {
  const v = n.props.get(name);
  if (v === undefined) return null;
  if (v.length % 4 !== 0) throw new DtbError(`${n.path}: ${name} is ${v.length} bytes, not a list of 32-bit cells`);
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 4) out.push(dv.getUint32(i, false));
  return out;
}

export function propU32(n: FdtNode, name: string): number | null {
  const v = propU32s(n, name);
  if (v === null) return null;
  if (v.length !== 1) throw new DtbError(`${n.path}: ${name} should be one cell, has ${v.length}`);
  return v[0];
}

/** A string list (NUL-separated); null when absent. */
export function propStrings(n: FdtNode, name: string): string[] | null {
  const v = n.props.get(name);
  if (v === undefined) return null;
  if (v.length === 0) return [];
  if (v[v.length - 1] !== 0) throw new DtbError(`${n.path}: ${name} is not a NUL-terminated string`);
  return new TextDecoder('latin1').decode(v.subarray(0, v.length - 1)).split('\0');
}

export function propString(n: FdtNode, name: string): string | null {
  return propStrings(n, name)?.[0] ?? null;
}

/**
 * Groups u32 cells into numbers of `sizes[i]` cells each, repeated: reg, ranges, dma-ranges.
 * Each number is what include/linux/of.h of_read_number gives (5.10, 6.6): a u64.
 */
export function propTuples(n: FdtNode, name: string, sizes: readonly number[]): bigint[][] | null {
  const cells = propU32s(n, name);
  if (cells === null) return null;
  const per = sizes.reduce((a, b) => a + b, 0);
  if (per === 0 || cells.length % per !== 0) {
    throw new DtbError(`${n.path}: ${name} has ${cells.length} cells, not a multiple of ${per} (${sizes.join('+')} from #address-cells/#size-cells)`);
  }
  const out: bigint[][] = [];
  for (let i = 0; i < cells.length; i += per) {
    const t: bigint[] = [];
    let j = i;
    for (const s of sizes) {
      let v = 0n;
      // of_read_number / dt_mem_next_cell accumulate in a u64: cells above the low two fall off the top.
      for (let k = 0; k < s; k++) v = BigInt.asUintN(64, (v << 32n) | BigInt(cells[j++]));
      t.push(v);
    }
    out.push(t);
  }
  return out;
}

// ------------------------------------------------------------ tree helpers

/** The node name without its unit address ("memory@80000000" → "memory"). */
export function baseName(n: FdtNode): string {
  const at = n.name.indexOf('@');
  return at < 0 ? n.name : n.name.slice(0, at);
}

/** A child by name; a name without "@" also matches "name@unit" (the first such). */
export function child(n: FdtNode, name: string): FdtNode | null {
  return n.children.find((c) => c.name === name) ?? (name.includes('@') ? null : (n.children.find((c) => baseName(c) === name) ?? null));
}

/** A node by absolute path ("/reserved-memory", "/cpus/cpu@0"). */
export function findNode(fdt: Fdt, path: string): FdtNode | null {
  let n: FdtNode | null = fdt.root;
  for (const part of path.split('/').filter((s) => s !== '')) {
    n = child(n, part);
    if (n === null) return null;
  }
  return n;
}

/** Every node, parents before children, in blob order. */
export function* walk(n: FdtNode): Generator<FdtNode> {
  yield n;
  for (const c of n.children) yield* walk(c);
}

/** phandle → node (`phandle` or the older `linux,phandle`). */
export function phandleMap(fdt: Fdt): Map<number, FdtNode> {
  const m = new Map<number, FdtNode>();
  for (const n of walk(fdt.root)) {
    const ph = propU32s(n, 'phandle') ?? propU32s(n, 'linux,phandle');
    if (ph !== null && ph.length === 1 && ph[0] !== 0 && ph[0] !== 0xffffffff) m.set(ph[0], n);
  }
  return m;
}

/** #address-cells / #size-cells a node sets for its children (spec defaults 2 and 1). */
export function cellsOf(n: FdtNode): { address: number; size: number } {
  return { address: inheritedCells(n, '#address-cells'), size: inheritedCells(n, '#size-cells') };
}

/**
 * drivers/of/base.c of_bus_n_addr_cells / of_bus_n_size_cells (5.10, 6.6): the nearest node up the
 * tree that has the property, else OF_ROOT_NODE_{ADDR,SIZE}_CELLS_DEFAULT (1), also what the early
 * scan takes for a root without them (dt_root_addr_cells, dt_root_size_cells).
 */
function inheritedCells(n: FdtNode, prop: '#address-cells' | '#size-cells'): number {
  for (let at: FdtNode | null = n; at !== null; at = at.parent) {
    const v = propU32(at, prop);
    if (v !== null) return v;
  }
  return 1;
}

/** of_device_is_available: status absent, "okay" or "ok". */
export function isAvailable(n: FdtNode): boolean {
  const s = propString(n, 'status');
  return s === null || s === 'okay' || s === 'ok';
}
