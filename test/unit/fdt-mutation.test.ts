// reference/config/fdt.ts: what StrykerJS showed no other test pins down
// (bench/mutation-equivalents.md lists the survivors no test can kill). The
// truth is libfdt (scripts/dtc/libfdt fdt_check_header, fdt_get_phandle) and
// drivers/of/fdt.c, which read the same blob at boot.
import { describe, expect, it } from 'vitest';
import { baseName, DtbError, parseFdt, phandleMap } from '../../reference/config/fdt.ts';
import { buildFdt, cells, type TNode } from './fdt-builder.ts';

const ONE_PROP: TNode = { name: '', props: { a: [1] } };

function bad(blob: Uint8Array): string {
  try {
    parseFdt(blob);
  } catch (e) {
    if (e instanceof DtbError) return e.message;
    throw e;
  }
  return '(parsed)';
}

function header(words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w, false));
  return out;
}

describe('parseFdt header checks (libfdt fdt_check_header)', () => {
  it('last_comp_version 17 is readable: only a blob needing a reader newer than 17 is refused', () => {
    const blob = buildFdt(ONE_PROP);
    new DataView(blob.buffer).setUint32(24, 17, false);
    expect(parseFdt(blob).lastCompVersion).toBe(17);
  });

  it('a version 16 header is 36 bytes: a block may start right after it, at offset 36', () => {
    // header (36) | strings "a\0" at 36 | pad | reservation terminator at 40 | structure at 56
    const struct = [1, 0, 3, 4, 0, 1, 2, 9]; // BEGIN_NODE "" PROP(len 4, nameoff 0) 1 END_NODE END
    const total = 56 + struct.length * 4;
    const blob = new Uint8Array(total);
    blob.set(header([0xd00dfeed, total, 56, 36, 40, 16, 16, 0, 2]), 0);
    blob.set(new TextEncoder().encode('a\0'), 36);
    blob.set(header(struct), 56);
    const f = parseFdt(blob);
    expect(f.version).toBe(16);
    expect([...f.root.props.keys()]).toEqual(['a']);
    expect(f.root.props.get('a')).toEqual(cells(1));
  });

  it('a tree without properties has an empty strings block, which is fine', () => {
    const f = parseFdt(buildFdt({ name: '', children: [{ name: 'cpus' }] }));
    expect(f.root.children.map((c) => c.name)).toEqual(['cpus']);
  });

  it('a complete version 17 header and nothing else: the missing part is the reservation block, not the header', () => {
    const blob = header([0xd00dfeed, 40, 40, 40, 40, 17, 16, 0, 0, 0]);
    expect(bad(blob)).toMatch(/^memory reservation entry \(offset 40, 16 bytes\) lies outside the blob$/);
  });
});

describe('memory reservation block (drivers/of/fdt.c early_init_fdt_scan_reserved_mem)', () => {
  it('an entry at address 0 with a size is a reservation, not the terminator; the walk goes on past it', () => {
    const rsv = [
      { address: 0n, size: 0x1000n },
      { address: 0x8000_0000n, size: 0x20_0000n },
    ];
    expect(parseFdt(buildFdt(ONE_PROP, { memReserve: rsv })).memReserve).toEqual(rsv);
  });
});

describe('structure block', () => {
  it('a property that ends exactly where the block ends fits; what is missing is FDT_END', () => {
    // Drop END_NODE and END: the last property's value now ends at the block's end.
    const blob = buildFdt(ONE_PROP, { mutateStruct: (w) => w.slice(0, -2) });
    expect(bad(blob)).toMatch(/^structure block ends without FDT_END/);
  });

  it('a name offset equal to the strings block size lies outside it', () => {
    // ONE_PROP's strings block is "a\0": 2 bytes. Words: BEGIN_NODE, "", PROP, len, nameoff, ...
    const blob = buildFdt(ONE_PROP, { mutateStruct: (w) => w.map((x, i) => (i === 4 ? 2 : x)) });
    expect(bad(blob)).toBe('property name offset 2 outside the strings block');
  });
});

describe('tree helpers', () => {
  it('baseName of a node named "@unit" is "" (of_node_name_eq compares the text before "@")', () => {
    const f = parseFdt(buildFdt({ name: '', children: [{ name: '@1000' }, { name: 'uart@10' }, { name: 'cpus' }] }));
    expect(f.root.children.map(baseName)).toEqual(['', 'uart', 'cpus']);
  });

  it('phandleMap: a phandle property that is not exactly one cell, or is 0, names no node (fdt_get_phandle, fdt_node_offset_by_phandle)', () => {
    const f = parseFdt(
      buildFdt({
        name: '',
        children: [
          { name: 'two', props: { phandle: [5, 6] } },
          { name: 'zero', props: { phandle: [0] } },
          { name: 'ok', props: { phandle: [7] } },
        ],
      }),
    );
    const m = phandleMap(f);
    expect([...m.keys()]).toEqual([7]);
    expect(m.get(7)?.name).toBe('ok');
  });
});
