// A small flattened-device-tree writer for tests: builds blobs with exact
// control over version, NOPs and the memory reservation block, and lets a test
// break one part on purpose.

export type PropValue = Uint8Array | string | string[] | number[] | null;

export interface TNode {
  name: string;
  props?: Record<string, PropValue>;
  children?: TNode[];
}

export interface BuildOptions {
  version?: 16 | 17;
  memReserve?: { address: bigint; size: bigint }[];
  /** Put an FDT_NOP before every property and node. */
  nops?: boolean;
  /** Replace the structure block tokens after they are built. */
  mutateStruct?: (words: number[]) => number[];
}

/** Big-endian u32 cells. */
export function cells(...v: (number | bigint)[]): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  const dv = new DataView(out.buffer);
  v.forEach((x, i) => dv.setUint32(i * 4, Number(x), false));
  return out;
}

/** A 64-bit value as two cells. */
export function cells64(...v: bigint[]): Uint8Array {
  return cells(...v.flatMap((x) => [Number(x >> 32n), Number(x & 0xffff_ffffn)]));
}

function encode(v: PropValue): Uint8Array {
  if (v === null) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return encode([v]);
  if (v.length > 0 && typeof v[0] === 'string') return new TextEncoder().encode((v as string[]).map((s) => `${s}\0`).join(''));
  return cells(...(v as number[]));
}

export function buildFdt(root: TNode, o: BuildOptions = {}): Uint8Array {
  const version = o.version ?? 17;
  const strings: string[] = [];
  const strOff = new Map<string, number>();
  let strLen = 0;
  const nameoff = (s: string) => {
    let off = strOff.get(s);
    if (off === undefined) {
      off = strLen;
      strOff.set(s, off);
      strings.push(s);
      strLen += s.length + 1;
    }
    return off;
  };
  const words: number[] = [];
  const pushBytes = (b: Uint8Array) => {
    const padded = new Uint8Array((b.length + 3) & ~3);
    padded.set(b);
    const dv = new DataView(padded.buffer);
    for (let i = 0; i < padded.length; i += 4) words.push(dv.getUint32(i, false));
  };
  const node = (n: TNode) => {
    if (o.nops) words.push(4);
    words.push(1);
    pushBytes(new TextEncoder().encode(`${n.name}\0`));
    for (const [k, v] of Object.entries(n.props ?? {})) {
      if (o.nops) words.push(4);
      const b = encode(v);
      words.push(3, b.length, nameoff(k));
      pushBytes(b);
    }
    for (const c of n.children ?? []) node(c);
    words.push(2);
  };
  node(root);
  words.push(9);
  const struct = o.mutateStruct ? o.mutateStruct(words) : words;
  const headerSize = version === 17 ? 40 : 36;
  const rsv = [...(o.memReserve ?? []), { address: 0n, size: 0n }];
  const offRsv = (headerSize + 7) & ~7;
  const offStruct = offRsv + rsv.length * 16;
  const offStrings = offStruct + struct.length * 4;
  const strBytes = new TextEncoder().encode(strings.map((s) => `${s}\0`).join(''));
  const total = offStrings + strBytes.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const hdr = [0xd00dfeed, total, offStruct, offStrings, offRsv, version, 16, 0, strBytes.length];
  if (version === 17) hdr.push(struct.length * 4);
  hdr.forEach((w, i) => dv.setUint32(i * 4, w, false));
  rsv.forEach((r, i) => {
    dv.setBigUint64(offRsv + i * 16, r.address, false);
    dv.setBigUint64(offRsv + i * 16 + 8, r.size, false);
  });
  struct.forEach((w, i) => dv.setUint32(offStruct + i * 4, w >>> 0, false));
  out.set(strBytes, offStrings);
  return out;
}
