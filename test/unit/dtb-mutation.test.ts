// reference/config/dtb.ts: what the device tree blob means, pinned down where
// StrykerJS showed no other test did (bench/mutation-equivalents.md lists the
// survivors that cannot be killed). Every value is computed inside the test:
// the example-blob tests in dtb.test.ts read their blob in the describe body,
// which StrykerJS counts as no test's coverage.
import { describe, expect, it } from 'vitest';
import { deviceSpecOf, DtbError, isaExtensions, readDtb, type DtbDevice } from '../../reference/config/dtb.ts';
import { buildFdt, cells, cells64, type TNode } from './fdt-builder.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;

const root = (children: TNode[], props: TNode['props'] = {}): TNode => ({
  name: '',
  props: { '#address-cells': [2], '#size-cells': [2], compatible: ['x,board'], ...props },
  children,
});
const mem = (base: bigint, size: bigint, extra: TNode['props'] = {}): TNode => ({ name: `memory@${base.toString(16)}`, props: { device_type: 'memory', reg: cells64(base, size), ...extra } });
const rm = (children: TNode[], props: TNode['props'] = {}): TNode => ({ name: 'reserved-memory', props: { '#address-cells': [2], '#size-cells': [2], ranges: null, ...props }, children });
const bus = (name: string, props: TNode['props'], children: TNode[]): TNode => ({ name, props: { '#address-cells': [2], '#size-cells': [2], ranges: null, ...props }, children });
const dev = (name: string, props: TNode['props'] = {}, children: TNode[] = []): TNode => ({ name, props, children });
const read = (t: TNode, memReserve?: { address: bigint; size: bigint }[]) => readDtb(buildFdt(t, memReserve ? { memReserve } : {}));

describe('root, memory and /memreserve/', () => {
  it('the root compatible list is read as written, and is empty without the property', () => {
    expect(read(root([mem(0n, GiB)])).compatible).toEqual(['x,board']);
    const t = root([mem(0n, GiB)]);
    delete t.props?.compatible;
    expect(read(t).compatible).toEqual([]);
  });

  it('/memreserve/ entries become memblock reservations (drivers/of/fdt.c early_init_fdt_scan_reserved_mem)', () => {
    expect(read(root([mem(0x8000_0000n, GiB)]), [{ address: 0x8000_0000n, size: 0x8_0000n }]).memReserve).toEqual([{ base: 0x8000_0000n, size: 0x8_0000n }]);
  });

  it('a memory node without reg gives no bank (early_init_dt_scan_memory: reg == NULL, continue)', () => {
    const d = read(root([mem(0x8000_0000n, GiB), { name: 'memory@1', props: { device_type: 'memory' } }]));
    expect(d.memory).toEqual([{ base: 0x8000_0000n, size: GiB }]);
  });
});

describe('/reserved-memory', () => {
  it('notes differing #address-cells alone and #size-cells alone (of_reserved_mem.c __reserved_mem_check_root checks each)', () => {
    const note = '/reserved-memory: #address-cells/#size-cells differ from the root (the kernel refuses such a node)';
    expect(read(root([mem(0n, GiB), rm([], { '#address-cells': [1] })])).notes).toEqual([note]);
    expect(read(root([mem(0n, GiB), rm([], { '#size-cells': [1] })])).notes).toEqual([note]);
    expect(read(root([mem(0n, GiB), rm([])])).notes).toEqual([]);
  });

  it('a /reserved-memory without ranges is read without a crash', () => {
    // (The kernel's __reserved_mem_check_root refuses the node; the model only has to not fall over.)
    const t = root([mem(0n, GiB), rm([{ name: 'p@1000000', props: { reg: cells64(0x100_0000n, MiB) } }])]);
    delete t.children?.[1].props?.ranges;
    expect(() => read(t)).not.toThrow();
  });

  it('static regions carry reusable and linux,cma-default', () => {
    const d = read(root([mem(0n, 4n * GiB), rm([{ name: 'linux,cma@f8000000', props: { compatible: 'shared-dma-pool', reg: cells64(0xf800_0000n, 64n * MiB), reusable: null, 'linux,cma-default': null } }])]));
    expect(d.reservedMemory).toEqual([{ name: 'linux,cma@f8000000', base: 0xf800_0000n, size: 64n * MiB, compatible: 'shared-dma-pool', reusable: true, cmaDefault: true }]);
  });

  it('an empty reg reserves nothing and does not crash (__reserved_mem_reserve_reg: zero entries)', () => {
    const d = read(root([mem(0n, GiB), rm([{ name: 'e', props: { reg: null } }])]));
    expect(d.reservedMemory).toEqual([]);
    expect(d.dynamicReserved).toEqual([]);
  });

  it('a size of two cells-worth is refused (__reserved_mem_alloc_size: len != dt_root_size_cells)', () => {
    const d = read(root([mem(0n, GiB), rm([{ name: 'two', props: { compatible: 'shared-dma-pool', size: cells64(MiB, MiB) } }])]));
    expect(d.dynamicReserved).toEqual([]);
    expect(d.notes).toEqual(['/reserved-memory/two: neither reg nor a single size, skipped']);
  });

  it('dynamic regions: alignment as given, no alloc-ranges means none', () => {
    const d = read(root([mem(0n, GiB), rm([{ name: 'dyn', props: { compatible: 'shared-dma-pool', size: cells64(8n * MiB), alignment: cells64(2n * MiB) } }])]));
    expect(d.dynamicReserved).toEqual([
      { name: 'dyn', size: 8n * MiB, alignment: 2n * MiB, allocRanges: [], compatible: 'shared-dma-pool', reusable: false, noMap: false, cmaDefault: false, dmaDefault: false },
    ]);
  });

  it('an empty alignment property does not crash the reader', () => {
    expect(() => read(root([mem(0n, GiB), rm([{ name: 'dyn', props: { size: cells64(8n * MiB), alignment: null } }])]))).not.toThrow();
  });

  it('alloc-ranges that is not a list of (address, size) skips the node with a note, the rest of the blob is read', () => {
    // __reserved_mem_alloc_size (5.10, 6.6): len % t_len != 0 → pr_err("invalid alloc-ranges property"), -EINVAL.
    const d = read(root([mem(0n, GiB), rm([{ name: 'ar', props: { compatible: 'shared-dma-pool', size: cells64(MiB), 'alloc-ranges': cells(0, 0x1000_0000, 0) } }, { name: 'ok', props: { size: cells64(MiB) } }])]));
    expect(d.dynamicReserved.map((r) => r.name)).toEqual(['ok']);
    expect(d.notes).toEqual(['/reserved-memory/ar: alloc-ranges is not a list of (address, size), the kernel skips the node (invalid alloc-ranges property)']);
  });

  it('a first reg entry of size 0 is noted as allocated from size', () => {
    // __reserved_mem_reserve_reg saves it with size 0; fdt_init_reserved_mem then allocates it from `size`.
    const d = read(root([mem(0n, GiB), rm([{ name: 'z', props: { reg: cells64(0x100_0000n, 0n), size: cells64(MiB) } }])]));
    expect(d.notes).toEqual(['/reserved-memory/z: first reg entry has size 0, the kernel allocates it from size like a dynamic region']);
  });

  it('a root with #address-cells 0 takes an empty alignment as 0 (dt_mem_next_cell of no cells), not as a bad length', () => {
    // __reserved_mem_alloc_size (5.10, 6.6): len != dt_root_addr_cells * sizeof(__be32) is the only check,
    // 0 == 0 passes, and align 0 becomes SMP_CACHE_BYTES in early_init_dt_alloc_reserved_memory_arch.
    const zero = { '#address-cells': [0] };
    const d = read(root([{ name: 'memory@0', props: { device_type: 'memory', reg: cells64(GiB) } }, rm([{ name: 'a', props: { size: cells64(MiB), alignment: null } }], zero)], zero));
    expect(d.dynamicReserved.map((r) => [r.name, r.alignment])).toEqual([['a', 0n]]);
    expect(d.notes).toEqual([]);
  });
});

describe('DMA masters: which nodes', () => {
  it('only the root level skips /cpus, /chosen, memory nodes and the like, even behind a root dma-ranges', () => {
    // Every top-level node is "behind / dma-ranges" here; of_platform_populate creates no device for
    // compatible-less nodes such as /cpus, /chosen, /aliases, memory nodes (of_platform_bus_create, strict).
    const d = read(
      root(
        [
          mem(0n, GiB),
          { name: 'ram@80000000', props: { device_type: 'memory', reg: cells64(0x8000_0000n, GiB) } },
          { name: 'cpus', props: { '#address-cells': [1], '#size-cells': [0] }, children: [] },
          dev('chosen', { bootargs: 'quiet' }),
          dev('aliases'),
          rm([]),
          dev('dma@1000', { compatible: 'x,dma' }),
        ],
        { 'dma-ranges': cells64(0n, 0n, 4n * GiB) },
      ),
    );
    expect(d.devices.map((x) => x.path)).toEqual(['/dma@1000']);
    // Deeper down a node name means nothing: a controller named "memory" under a bus is still a master.
    const e = read(root([mem(0n, GiB), bus('soc', {}, [dev('memory@1000', { compatible: 'x,ahci' }), dev('chosen', { '#dma-cells': [1] })])]));
    expect(e.devices.map((x) => x.path)).toEqual(['/soc/memory@1000', '/soc/chosen']);
  });

  it('a disabled master is noted with its status', () => {
    const d = read(root([mem(0n, GiB), dev('mmc@1', { compatible: 'x,sdhci', status: 'fail' })]));
    expect(d.devices).toEqual([]);
    expect(d.notes).toEqual(['/mmc@1: status "fail", not a device']);
  });

  it('memory-region: a dangling phandle, the root\'s phandle, an empty list: no crash, no region', () => {
    const d = read(
      root(
        [
          mem(0n, GiB),
          rm([{ name: 'p@0', props: { reg: cells64(0n, MiB), phandle: [2] } }]),
          dev('a@1', { compatible: 'x,sdhci', 'memory-region': [7] }),
          dev('b@2', { compatible: 'x,sdhci', 'memory-region': [1] }),
          dev('c@3', { compatible: 'x,sdhci', 'memory-region': null }),
          dev('d@4', { 'memory-region': [7] }),
        ],
        { phandle: [1] },
      ),
    );
    expect(d.devices.map((x) => [x.name, x.memoryRegion])).toEqual([
      ['a@1', undefined],
      ['b@2', undefined],
      ['c@3', undefined],
    ]);
    expect(d.notes).toEqual(['/a@1: memory-region <7> is not a /reserved-memory child, ignored', '/b@2: memory-region <1> is not a /reserved-memory child, ignored']);
  });

  it('a device without compatible has an empty list; no window means no dmaRanges key', () => {
    const d = read(root([mem(0n, GiB), dev('dma@1', { '#dma-cells': [1] })]));
    expect(d.devices).toHaveLength(1);
    expect(d.devices[0]).toStrictEqual({ path: '/dma@1', name: 'dma@1', compatible: [], coherence: 'unmarked', dmaMaskBits: 32, why: 'DMA engine (#dma-cells)' });
  });
});

describe('DMA masters: dma-ranges (drivers/of/address.c of_dma_get_range, of_translate_dma_address)', () => {
  const sd = (name = 'm'): TNode => dev(name, { compatible: 'x,sdhci' });
  const rangesOf = (d: ReturnType<typeof read>, name = 'm') => d.devices.find((x) => x.name === name)?.dmaRanges;

  // drivers/of/device.c of_dma_configure_id: 6.6 (f1ad5338a4d5, v6.1) reads the ranges from the
  // master's DMA parent, 5.10 from the master itself, so a bus controller's own dma-ranges are its
  // children's, not its own, on 6.6.
  it('a platform master with dma-ranges of its own: 5.10 uses them, 6.6 walks from its parent; a PCI host keeps its own', () => {
    const host = (parentProps: TNode['props'], own: TNode['props'] = {}) =>
      read(
        root([
          mem(0n, 8n * GiB),
          bus('soc', parentProps, [
            { name: 'ctl@1', props: { compatible: 'x,ctl', '#dma-cells': [1], '#address-cells': [2], '#size-cells': [2], 'dma-ranges': cells64(0n, 0x8000_0000n, GiB), ...own } },
          ]),
        ]),
      ).devices.find((x) => x.name === 'ctl@1')!;
    const own = [{ dma: 0n, cpu: 0x8000_0000n, size: GiB }];
    const plain = host({});
    expect(deviceSpecOf(plain, '5.10').dmaRanges).toEqual(own);
    expect(deviceSpecOf(plain, '6.6').dmaRanges).toBeUndefined();
    // The parent's window applies on 6.6.
    const viaParent = host({ 'dma-ranges': cells64(0x1000_0000n, 0x1000_0000n, 2n * GiB) });
    expect(deviceSpecOf(viaParent, '6.6').dmaRanges).toEqual([{ dma: 0x1000_0000n, cpu: 0x1000_0000n, size: 2n * GiB }]);
    // Nothing above the host: the 6.6 walk finds none (of_dma_get_range's -ENODEV).
    expect(plain.dmaRangesFromParent).toBeNull();
    // pci_dma_configure hands the endpoints the host node itself: its own dma-ranges on 6.6 too.
    expect(deviceSpecOf(host({}, { device_type: 'pci' }), '6.6').dmaRanges).toEqual(own);
    // of_bus_pci_match: device_type "pciex" is a PCI host too.
    expect(deviceSpecOf(host({}, { device_type: 'pciex' }), '6.6').dmaRanges).toEqual(own);
  });

  it('an address below a window above has no CPU address (of_bus_default_map: da < cp)', () => {
    const d = read(root([mem(0n, 8n * GiB), bus('top', { 'dma-ranges': cells64(0x1000n, 0x1_0000_0000n, 0x1000n) }, [bus('x', { 'dma-ranges': cells64(0n, 0n, 0x1000n) }, [sd()])])]));
    expect(rangesOf(d)).toBeUndefined();
  });

  it('an address at the end of a window above has no CPU address (da >= cp + s)', () => {
    const d = read(root([mem(0n, 8n * GiB), bus('top', { 'dma-ranges': cells64(0n, 0x1_0000_0000n, 0x1000n) }, [bus('x', { 'dma-ranges': cells64(0n, 0x1000n, 0x1000n) }, [sd()])])]));
    expect(rangesOf(d)).toBeUndefined();
  });

  it('translation up subtracts the window\'s child address and adds its parent address', () => {
    const d = read(
      root([mem(0n, 8n * GiB), bus('top', { 'dma-ranges': cells64(0x1000_0000n, 0x2000_0000n, 0x1000_0000n) }, [bus('x', { 'dma-ranges': cells64(0n, 0x1000_0100n, MiB) }, [sd()])])]),
    );
    expect(rangesOf(d)).toEqual([{ dma: 0n, cpu: 0x2000_0100n, size: MiB }]);
  });

  it('an empty dma-ranges above the window is 1:1 on the way up', () => {
    const d = read(root([mem(0n, 8n * GiB), bus('top', { 'dma-ranges': null }, [bus('x', { 'dma-ranges': cells64(0n, 0x1000_0000n, GiB) }, [sd()])])]));
    expect(rangesOf(d)).toEqual([{ dma: 0n, cpu: 0x1000_0000n, size: GiB }]);
  });

  it('dma-ranges on the root: no crash, the root\'s own ranges translate nothing above it', () => {
    // Walking up from a bus stops below the root (of_translate_dma_address ends at the root).
    const d = read(root([mem(0n, 8n * GiB), bus('soc', { 'dma-ranges': cells64(0n, 0x4000_0000n, GiB) }, [sd()]), sd('top')], { 'dma-ranges': cells64(0n, 0n, 2n * GiB) }));
    expect(rangesOf(d)).toEqual([{ dma: 0n, cpu: 0x4000_0000n, size: GiB }]);
    expect(d.devices.map((x) => x.name)).toContain('top');
  });

  it('only empty dma-ranges up to and including the root: no map, no crash', () => {
    const d = read(root([mem(0n, GiB), bus('soc', { 'dma-ranges': null }, [sd()])], { 'dma-ranges': null }));
    expect(rangesOf(d)).toBeUndefined();
  });

  it('a "pciex" host with 3 address cells drops the space flags, as "pci" does (of_bus_pci_match)', () => {
    const pci = (type: string) =>
      read(
        root([
          mem(0n, 8n * GiB),
          { name: 'pcie@1', props: { device_type: type, compatible: 'x,pcie', '#address-cells': [3], '#size-cells': [2], ranges: null, 'dma-ranges': cells(0x0200_0000, 0, 0, 0, 0x8000_0000, 0, 0x4000_0000) }, children: [sd()] },
        ]),
      );
    for (const t of ['pci', 'pciex']) expect(rangesOf(pci(t))).toEqual([{ dma: 0n, cpu: 0x8000_0000n, size: GiB }]);
  });

  it('a non-PCI bus with 3 address cells: of_read_number keeps the low 64 bits, as for PCI (the top cell falls off)', () => {
    const d = read(
      root([
        mem(0n, 8n * GiB),
        { name: 'bus@1', props: { compatible: 'simple-bus', '#address-cells': [3], '#size-cells': [2], ranges: null, 'dma-ranges': cells(0x7, 0, 0, 0, 0x8000_0000, 0, 0x4000_0000) }, children: [sd()] },
      ]),
    );
    expect(rangesOf(d)).toEqual([{ dma: 0n, cpu: 0x8000_0000n, size: GiB }]);
  });
});

describe('deviceSpecOf', () => {
  const base: DtbDevice = { path: '/m', name: 'm', compatible: [], coherence: 'coherent', dmaMaskBits: 32, why: 'x' };
  it('carries dmaRanges and memoryRegion only when the device has them', () => {
    expect(deviceSpecOf(base, '6.6')).toStrictEqual({ name: 'm', coherent: true, dmaMaskBits: 32, coherentMaskBits: 32 });
    const r = [{ cpu: 0x8000_0000n, dma: 0n, size: GiB }];
    expect(deviceSpecOf({ ...base, dmaRanges: r, memoryRegion: 'pool' }, '6.6')).toStrictEqual({ name: 'm', coherent: true, dmaMaskBits: 32, coherentMaskBits: 32, dmaRanges: r, memoryRegion: 'pool' });
  });
});

describe('harts', () => {
  it('a hart without compatible has an empty list', () => {
    const d = read(root([mem(0n, GiB), { name: 'cpus', props: { '#address-cells': [1], '#size-cells': [0] }, children: [{ name: 'cpu@0', props: { device_type: 'cpu', 'riscv,isa': 'rv64imac' } }] }]));
    expect(d.cpus[0].compatible).toEqual([]);
  });

  // arch/riscv/kernel/cpufeature.c riscv_parse_isa_string: a single letter's version is digits, optionally
  // "p" digits; a multi-letter extension (s, x, z) ends at "_" or the end and its version is stripped from
  // the end the same way; rv32/rv64 must open the string (strncasecmp(isa, "rv64", 4)).
  it('single-letter versions: several digits, with or without "pN", only right after the letter', () => {
    expect(isaExtensions('rv64i10m')).toEqual(['i', 'm']);
    expect(isaExtensions('rv64i2m')).toEqual(['i', 'm']);
    expect(isaExtensions('rv64i2p10m')).toEqual(['i', 'm']);
    expect(isaExtensions('rv64ima2p0')).toEqual(['i', 'm', 'a']);
  });

  it('multi-letter names: x and z start one after the letters; versions are stripped from the end only', () => {
    expect(isaExtensions('rv64imacxtheadvector')).toEqual(['i', 'm', 'a', 'c', 'xtheadvector']);
    expect(isaExtensions('rv64imaczicbom')).toEqual(['i', 'm', 'a', 'c', 'zicbom']);
    expect(isaExtensions('rv64izve32x')).toEqual(['i', 'zve32x']);
    expect(isaExtensions('rv64isvpbmt12p0')).toEqual(['i', 'svpbmt']);
    expect(isaExtensions('rv64isvpbmt1')).toEqual(['i', 'svpbmt']);
    expect(isaExtensions('rv64isvpbmt1p10')).toEqual(['i', 'svpbmt']);
    expect(isaExtensions('rv64isvpbmt1p0')).toEqual(['i', 'svpbmt']);
    expect(isaExtensions('rv64i_zve32x_svpbmt12p0_zicbom1_zicboz1p10_zicsr1p0')).toEqual(['i', 'zve32x', 'svpbmt', 'zicbom', 'zicboz', 'zicsr']);
  });

  // The kernel skips a character that is not alphanumeric (ext_err) and ignores a hart whose string does not
  // open with rv64; trailing blanks thus change nothing. The model refuses the rest with a one-line DtbError
  // rather than guessing what a malformed riscv,isa meant.
  it('trailing blanks are no extension; a string not opening with rv64/rv32 or with other characters is a clear error', () => {
    expect(isaExtensions('rv64imac ')).toEqual(['i', 'm', 'a', 'c']);
    expect(() => isaExtensions('foo_rv64imac')).toThrow(DtbError);
    expect(() => isaExtensions('rv64ima,c')).toThrow(DtbError);
  });
});
