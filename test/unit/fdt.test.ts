import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  baseName,
  cellsOf,
  child,
  DtbError,
  findNode,
  isAvailable,
  parseFdt,
  phandleMap,
  propString,
  propStrings,
  propTuples,
  propU32,
  propU32s,
  walk,
} from '../../reference/config/fdt.ts';
import { buildFdt, cells, type TNode } from './fdt-builder.ts';

const TREE: TNode = {
  name: '',
  props: { '#address-cells': [2], '#size-cells': [1], compatible: ['vendor,board', 'vendor,soc'], model: 'Test' },
  children: [
    { name: 'memory@80000000', props: { device_type: 'memory', reg: [0, 0x8000_0000, 0x4000_0000] } },
    { name: 'soc', props: { 'dma-ranges': null, phandle: [7] }, children: [{ name: 'uart@1000', props: { status: 'disabled' } }] },
  ],
};

describe('parseFdt', () => {
  it('reads a version 17 blob: tree, properties, memory reservations', () => {
    const f = parseFdt(buildFdt(TREE, { memReserve: [{ address: 0x8000_0000n, size: 0x8_0000n }] }));
    expect(f.version).toBe(17);
    expect(f.lastCompVersion).toBe(16);
    expect(f.memReserve).toEqual([{ address: 0x8000_0000n, size: 0x8_0000n }]);
    expect(f.root.path).toBe('/');
    expect(f.root.children.map((c) => c.path)).toEqual(['/memory@80000000', '/soc']);
    expect(findNode(f, '/soc/uart@1000')?.path).toBe('/soc/uart@1000');
    expect(propStrings(f.root, 'compatible')).toEqual(['vendor,board', 'vendor,soc']);
    expect(propString(f.root, 'model')).toBe('Test');
    expect(f.root.props.get('dma-ranges')).toBeUndefined();
    expect(findNode(f, '/soc')?.props.get('dma-ranges')?.length).toBe(0);
  });

  it('reads version 16 (no size_dt_struct) and skips FDT_NOP', () => {
    const f = parseFdt(buildFdt(TREE, { version: 16, nops: true }));
    expect(f.version).toBe(16);
    expect([...walk(f.root)].map((n) => n.name)).toEqual(['', 'memory@80000000', 'soc', 'uart@1000']);
    expect(propU32s(findNode(f, '/memory')!, 'reg')).toEqual([0, 0x8000_0000, 0x4000_0000]);
  });

  it('reads the dtc-built examples', () => {
    for (const f of ['sg2042-like.dtb', 'sg2044-like.dtb']) {
      const fdt = parseFdt(new Uint8Array(readFileSync(new URL(`../../examples/${f}`, import.meta.url))));
      expect(fdt.version).toBe(17);
      expect(findNode(fdt, '/cpus/cpu@0')).not.toBeNull();
      // dtc writes a phandle only for a node something refers to (sg2042-like: the eMMC pool, the L2, the UART alias is a path).
      expect(phandleMap(fdt).size).toBe(f === 'sg2042-like.dtb' ? 2 : 0);
    }
  });

  it('accepts a blob inside a larger buffer at an offset', () => {
    const b = buildFdt(TREE);
    const big = new Uint8Array(b.length + 13);
    big.set(b, 5);
    expect(parseFdt(big.subarray(5)).root.children.length).toBe(2);
  });
});

describe('parseFdt errors', () => {
  const bad = (blob: Uint8Array) => {
    try {
      parseFdt(blob);
    } catch (e) {
      expect(e).toBeInstanceOf(DtbError);
      return (e as Error).message;
    }
    throw new Error('parsed');
  };
  const good = buildFdt(TREE);
  const patch = (b: Uint8Array, off: number, v: number) => {
    const c = b.slice();
    new DataView(c.buffer).setUint32(off, v, false);
    return c;
  };

  it('rejects short input, bad magic and a .dts', () => {
    expect(bad(new Uint8Array(10))).toMatch(/too short/);
    expect(bad(new TextEncoder().encode('/dts-v1/;\n/ {\n\tmodel = "an example board";\n};\n'))).toMatch(/bad magic 0x2f647473.*is this a \.dts/);
  });

  it('rejects a version 17 header cut short', () => {
    expect(bad(good.subarray(0, 37))).toBe('truncated header');
  });

  it('rejects unsupported versions', () => {
    expect(bad(patch(good, 20, 15))).toMatch(/unsupported version 15/);
    expect(bad(patch(good, 24, 18))).toMatch(/last compatible 18/);
  });

  it('rejects truncation and blocks outside the blob', () => {
    expect(bad(good.subarray(0, good.length - 4))).toMatch(/header says \d+ bytes, the file has/);
    expect(bad(patch(good, 12, good.length))).toMatch(/strings block .* outside the blob/);
    expect(bad(patch(good, 8, 2))).toMatch(/structure block .* outside the blob/);
    expect(bad(patch(good, 36, 0x10_0000))).toMatch(/structure block/);
  });

  it('rejects misaligned blocks', () => {
    const off = new DataView(good.buffer).getUint32(8, false);
    const size = new DataView(good.buffer).getUint32(36, false);
    expect(bad(patch(patch(good, 8, off + 2), 36, size - 4))).toMatch(/not 4-byte aligned/);
    expect(bad(patch(good, 16, 44))).toMatch(/not 8-byte aligned/);
  });

  it('rejects a reservation block without its terminator', () => {
    const b = good.slice();
    const dv = new DataView(b.buffer);
    const rsv = dv.getUint32(16, false);
    // Point the reservation map at the strings block end so no zero entry is found in range.
    dv.setUint32(16, (b.length - 8) & ~7, false);
    expect(rsv).toBe(40);
    expect(bad(b)).toMatch(/memory reservation entry/);
  });

  it('rejects broken structure blocks', () => {
    const m = (f: (w: number[]) => number[]) => bad(buildFdt(TREE, { mutateStruct: f }));
    expect(m((w) => w.slice(0, -1))).toMatch(/ends without FDT_END/);
    expect(m((w) => [...w.slice(0, -1), 2, 9])).toMatch(/FDT_END_NODE without an open node/);
    expect(m((w) => [...w.slice(0, -1), 1, 0x61000000, 2, 9])).toMatch(/node after the root node closed/);
    expect(m((w) => [...w.slice(0, -1), 3, 0, 0, 9])).toMatch(/property outside any node/);
    expect(m((w) => w.slice(0, -2).concat([9]))).toMatch(/FDT_END inside node \//);
    expect(m(() => [9])).toMatch(/no root node/);
    expect(m((w) => [...w.slice(0, 2), 7, ...w.slice(2)])).toMatch(/unknown structure token 0x7 at offset/);
    expect(m(() => [1, 0x61000000, 2, 9])).toMatch(/first node must be the root/);
    // A property whose length runs past the block, and one whose name offset is outside the strings.
    expect(m((w) => [1, 0, 3, 0x1000, 0, 2, 9])).toMatch(/runs past the structure block/);
    expect(m((w) => [1, 0, 3, 0, 0x1000, 2, 9])).toMatch(/name offset 4096 outside the strings block/);
    expect(m(() => [1, 0x61616161, 0x61616161])).toMatch(/node name at offset \d+ is not NUL-terminated/);
  });

  it('rejects a property name that is not NUL-terminated', () => {
    const b = good.slice();
    b[b.length - 1] = 0x41;
    expect(bad(b)).toMatch(/property name at strings offset \d+ is not NUL-terminated/);
  });
});

describe('property and tree helpers', () => {
  const f = parseFdt(
    buildFdt({
      name: '',
      props: { '#address-cells': [2], '#size-cells': [2], odd: new Uint8Array([1, 2, 3]), unterminated: new Uint8Array([0x61]), empty: null },
      children: [
        { name: 'a@1', props: { reg: [0, 1, 0, 2, 1, 0, 0, 4], two: [1, 2], phandle: [3], status: 'okay' } },
        { name: 'a@2', props: { 'linux,phandle': [4], status: 'ok' } },
        { name: 'b', props: { phandle: [0xffffffff], status: 'fail' } },
      ],
    }),
  );
  it('reads cells, tuples and strings', () => {
    const a1 = findNode(f, '/a@1')!;
    expect(propTuples(a1, 'reg', [2, 2])).toEqual([
      [1n, 2n],
      [0x1_0000_0000n, 4n],
    ]);
    expect(propTuples(a1, 'nope', [2, 2])).toBeNull();
    expect(() => propTuples(a1, 'reg', [3])).toThrow(/8 cells, not a multiple of 3/);
    expect(() => propTuples(a1, 'reg', [0])).toThrow(DtbError);
    expect(propU32(a1, 'phandle')).toBe(3);
    expect(propU32(a1, 'nope')).toBeNull();
    expect(() => propU32(a1, 'two')).toThrow(/should be one cell, has 2/);
    expect(() => propU32s(f.root, 'odd')).toThrow(/3 bytes, not a list of 32-bit cells/);
    expect(() => propStrings(f.root, 'unterminated')).toThrow(/not a NUL-terminated string/);
    expect(propStrings(f.root, 'empty')).toEqual([]);
    expect(propString(f.root, 'empty')).toBeNull();
  });

  it('finds children with and without unit addresses', () => {
    expect(child(f.root, 'a')?.name).toBe('a@1');
    expect(child(f.root, 'a@2')?.name).toBe('a@2');
    expect(child(f.root, 'a@3')).toBeNull();
    expect(findNode(f, '/x/y')).toBeNull();
    expect(baseName(findNode(f, '/a@2')!)).toBe('a');
    expect(baseName(findNode(f, '/b')!)).toBe('b');
  });

  it('maps phandles (both spellings, not the reserved values) and status', () => {
    const m = phandleMap(f);
    expect([...m.keys()].sort()).toEqual([3, 4]);
    expect(m.get(4)?.name).toBe('a@2');
    expect([findNode(f, '/a@1')!, findNode(f, '/a@2')!, findNode(f, '/b')!].map(isAvailable)).toEqual([true, true, false]);
  });

  // drivers/of/base.c of_bus_n_addr_cells / of_bus_n_size_cells: the nearest ancestor with the
  // property, else OF_ROOT_NODE_*_CELLS_DEFAULT = 1 (include/linux/of.h, 5.10 and 6.6).
  it('a node without #address-cells/#size-cells inherits them from the nearest ancestor', () => {
    expect(cellsOf(f.root)).toEqual({ address: 2, size: 2 });
    expect(cellsOf(findNode(f, '/b')!)).toEqual({ address: 2, size: 2 });
  });

  it('a root without them: 1 and 1, what the early scan takes (dt_root_addr_cells, dt_root_size_cells)', () => {
    const bare = parseFdt(buildFdt({ name: '', props: {}, children: [{ name: 'c', props: { '#size-cells': [0] } }] }));
    expect(cellsOf(bare.root)).toEqual({ address: 1, size: 1 });
    expect(cellsOf(findNode(bare, '/c')!)).toEqual({ address: 1, size: 0 });
  });

  it('cells() writes big-endian words', () => {
    expect([...cells(0x01020304)]).toEqual([1, 2, 3, 4]);
  });
});
