import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { deviceSpecOf, DtbError, isaExtensions, mergeRanges, readDtb } from '../../reference/config/dtb.ts';
import { buildFdt, cells64, type TNode } from './fdt-builder.ts';
import { parseFdt } from '../../reference/config/fdt.ts';

const GiB = 1n << 30n;
const MiB = 1n << 20n;
const example = (f: string) => readDtb(new Uint8Array(readFileSync(new URL(`../../examples/${f}`, import.meta.url))));

describe('examples/sg2042-like.dtb', () => {
  const d = example('sg2042-like.dtb');

  it('memory: four adjacent 32 GiB NUMA banks merge into 128 GiB from 0', () => {
    expect(d.memory).toEqual([{ base: 0n, size: 128n * GiB }]);
    expect(d.memReserve).toEqual([]);
    expect(d.model).toBe('SG2042-like example board (dmacheck)');
    expect(d.compatible).toEqual(['dmacheck,sg2042-like', 'sophgo,sg2042']);
    expect(d.bootargs).toBe('console=ttyS0,115200 earlycon');
  });

  it('reserved-memory: a static no-map per-device pool and a dynamic CMA default area', () => {
    expect(d.reservedMemory).toEqual([{ name: 'emmc-pool@c0000000', base: 0xc000_0000n, size: MiB, compatible: 'shared-dma-pool', noMap: true }]);
    expect(d.dynamicReserved).toEqual([
      {
        name: 'linux,cma',
        size: 64n * MiB,
        alignment: 4n * MiB,
        allocRanges: [],
        compatible: 'shared-dma-pool',
        reusable: true,
        noMap: false,
        cmaDefault: true,
        dmaDefault: false,
      },
    ]);
  });

  it('harts: four C920s, rv64imafdc, no block size', () => {
    expect(d.cpus.map((c) => c.path)).toEqual(['/cpus/cpu@0', '/cpus/cpu@1', '/cpus/cpu@2', '/cpus/cpu@3']);
    expect(d.cpus[0]).toEqual({ path: '/cpus/cpu@0', compatible: ['thead,c920', 'riscv'], isa: 'rv64imafdc', extensions: ['i', 'm', 'a', 'f', 'd', 'c'], cbomBlockSize: null });
  });

  it('devices: the DMA masters, non-coherent from the root, with their windows and pools', () => {
    expect(d.devices).toEqual([
      { path: '/soc/ethernet@7040026000', name: 'ethernet@7040026000', compatible: ['sophgo,sg2042-dwmac', 'snps,dwmac-5.00a'], coherence: 'noncoherent', dmaMaskBits: 64, why: 'compatible "snps,dwmac-5.00a"' },
      {
        path: '/soc/mmc@704002a000',
        name: 'mmc@704002a000',
        compatible: ['sophgo,sg2042-dwcmshc'],
        coherence: 'noncoherent',
        dmaMaskBits: 32,
        memoryRegion: 'emmc-pool@c0000000',
        why: 'memory-region',
      },
      {
        path: '/soc/dma-bus/dma-controller@7040110000',
        name: 'dma-controller@7040110000',
        compatible: ['snps,axi-dma-1.01a'],
        coherence: 'noncoherent',
        dmaMaskBits: 32,
        dmaRanges: [{ cpu: 0n, dma: 0n, size: 128n * GiB }],
        why: 'behind /soc/dma-bus dma-ranges',
      },
      {
        path: '/soc/pcie@7060000000',
        name: 'pcie@7060000000',
        compatible: ['sophgo,sg2042-pcie-host'],
        coherence: 'noncoherent',
        dmaMaskBits: 64,
        // PCI dma-ranges: the flags cell (0x02000000) is not part of the bus address.
        dmaRanges: [{ cpu: 0n, dma: 0n, size: 128n * GiB }],
        why: 'compatible "sophgo,sg2042-pcie-host"',
      },
    ]);
    expect(d.notes).toEqual(['/soc/ethernet@7040028000: status "disabled", not a device']);
  });

  it('DeviceSpecs: non-coherent on both kernels', () => {
    expect(d.devices.map((x) => deviceSpecOf(x, '6.6').coherent)).toEqual([false, false, false, false]);
    expect(deviceSpecOf(d.devices[1], '5.10')).toEqual({ name: 'mmc@704002a000', coherent: false, dmaMaskBits: 32, coherentMaskBits: 32, memoryRegion: 'emmc-pool@c0000000' });
  });
});

describe('examples/sg2044-like.dtb', () => {
  const d = example('sg2044-like.dtb');

  it('memory: 2 GiB at 2 GiB and 62 GiB at 4 GiB merge; /memreserve/ kept', () => {
    expect(d.memory).toEqual([{ base: 0x8000_0000n, size: 64n * GiB }]);
    expect(d.memReserve).toEqual([{ base: 0x8000_0000n, size: 0x8_0000n }]);
    expect(d.bootargs).toBe('console=ttyS0,115200 coherent_pool=512K');
  });

  it('reserved-memory: a static CMA default area', () => {
    expect(d.reservedMemory).toEqual([{ name: 'linux,cma@f8000000', base: 0xf800_0000n, size: 64n * MiB, compatible: 'shared-dma-pool', reusable: true, cmaDefault: true }]);
    expect(d.dynamicReserved).toEqual([]);
  });

  it('harts: the disabled one is left out; isa-extensions with Zicbom, Svpbmt and 64-byte blocks', () => {
    expect(d.cpus).toHaveLength(2);
    for (const c of d.cpus) {
      expect(c.isa).toBeNull();
      expect(c.extensions).toEqual(expect.arrayContaining(['zicbom', 'svpbmt', 'zicboz', 'v']));
      expect(c.cbomBlockSize).toBe(64);
    }
  });

  it('devices: soc-level dma-noncoherent, a dma-coherent PCIe host, an offset USB window', () => {
    const by = Object.fromEntries(d.devices.map((x) => [x.name, x]));
    expect(Object.keys(by)).toEqual(['ethernet@7030006000', 'mmc@703000a000', 'usb@7040010000', 'pcie@6c00000000']);
    expect(by['ethernet@7030006000'].coherence).toBe('noncoherent');
    expect(by['mmc@703000a000']).toMatchObject({ coherence: 'noncoherent', dmaMaskBits: 32, why: 'compatible "sophgo,sg2044-dwcmshc"' });
    expect(by['usb@7040010000']).toMatchObject({ coherence: 'noncoherent', dmaMaskBits: 32, dmaRanges: [{ dma: 0n, cpu: 0x8000_0000n, size: 64n * GiB }] });
    expect(by['pcie@6c00000000']).toMatchObject({
      coherence: 'coherent',
      dmaMaskBits: 64,
      dmaRanges: [
        { dma: 0x8000_0000n, cpu: 0x8000_0000n, size: 2n * GiB },
        { dma: 0x1_0000_0000n, cpu: 0x1_0000_0000n, size: 62n * GiB },
      ],
    });
    expect(deviceSpecOf(by['pcie@6c00000000'], '5.10').coherent).toBe(true);
  });
});

// ------------------------------------------------------------------ constructed trees

const root = (children: TNode[], props: TNode['props'] = {}): TNode => ({
  name: '',
  props: { '#address-cells': [2], '#size-cells': [2], compatible: ['x,board'], ...props },
  children,
});
const mem = (base: bigint, size: bigint, extra: TNode['props'] = {}): TNode => ({ name: `memory@${base.toString(16)}`, props: { device_type: 'memory', reg: cells64(base, size), ...extra } });
const read = (t: TNode, memReserve?: { address: bigint; size: bigint }[]) => readDtb(buildFdt(t, memReserve ? { memReserve } : {}));

describe('/memreserve/', () => {
  it('reserves entries up to the first of size 0, as early_init_fdt_scan_reserved_mem does', () => {
    const rsv = [
      { address: 0x8000_0000n, size: 0x1000n },
      { address: 0x8010_0000n, size: 0n },
      { address: 0x8020_0000n, size: 0x2000n },
    ];
    // The blob itself lists all three: the format ends the block only at address 0 and size 0.
    expect(parseFdt(buildFdt(root([mem(0x8000_0000n, GiB)]), { memReserve: rsv })).memReserve).toEqual(rsv);
    const d = read(root([mem(0x8000_0000n, GiB)]), rsv);
    expect(d.memReserve).toEqual([{ base: 0x8000_0000n, size: 0x1000n }]);
  });
});

describe('memory nodes', () => {
  it('linux,usable-memory wins over reg; disabled and non-memory nodes are skipped; zero sizes dropped', () => {
    const d = read(
      root([
        mem(0x8000_0000n, 4n * GiB, { 'linux,usable-memory': cells64(0x8000_0000n, GiB, 0x2_0000_0000n, 0n) }),
        mem(0x4_0000_0000n, GiB, { status: 'disabled' }),
        { name: 'memory@5', props: { reg: cells64(5n, 5n) } },
      ]),
      [{ address: 0x1000n, size: 0n }],
    );
    expect(d.memory).toEqual([{ base: 0x8000_0000n, size: GiB }]);
    expect(d.memReserve).toEqual([]);
    expect(d.cpus).toEqual([]);
    expect(d.bootargs).toBeNull();
    expect(d.model).toBeNull();
  });

  it('mergeRanges sorts, merges overlap and adjacency, keeps gaps', () => {
    expect(
      mergeRanges([
        { base: 0x3000n, size: 0x1000n },
        { base: 0n, size: 0x1000n },
        { base: 0x1000n, size: 0x800n },
        { base: 0x1200n, size: 0x100n },
      ]),
    ).toEqual([
      { base: 0n, size: 0x1800n },
      { base: 0x3000n, size: 0x1000n },
    ]);
  });
});

describe('reserved-memory', () => {
  const rm = (children: TNode[], props: TNode['props'] = {}): TNode => ({ name: 'reserved-memory', props: { '#address-cells': [2], '#size-cells': [2], ranges: null, ...props }, children });

  it('reads flags, compatibles, dynamic nodes with alloc-ranges; notes what it skips', () => {
    const d = read(
      root([
        mem(0n, 4n * GiB),
        rm([
          { name: 'r@1000000', props: { compatible: ['restricted-dma-pool'], reg: cells64(0x100_0000n, MiB, 0x200_0000n, MiB), 'linux,dma-default': null } },
          { name: 'fw@0', props: { reg: cells64(0n, 0x8_0000n), 'no-map': null } },
          { name: 'off', props: { compatible: 'shared-dma-pool', reg: cells64(0n, MiB), status: 'disabled' } },
          { name: 'dyn', props: { compatible: 'shared-dma-pool', size: cells64(8n * MiB), 'alloc-ranges': cells64(0n, 2n * GiB) } },
          { name: 'bad', props: { compatible: 'shared-dma-pool' } },
        ]),
      ]),
    );
    expect(d.reservedMemory).toEqual([
      { name: 'r@1000000', base: 0x100_0000n, size: MiB, compatible: 'restricted-dma-pool', dmaDefault: true },
      { name: 'fw@0', base: 0n, size: 0x8_0000n, compatible: 'other', noMap: true },
    ]);
    expect(d.dynamicReserved).toEqual([
      { name: 'dyn', size: 8n * MiB, alignment: null, allocRanges: [{ base: 0n, size: 2n * GiB }], compatible: 'shared-dma-pool', reusable: false, noMap: false, cmaDefault: false, dmaDefault: false },
    ]);
    expect(d.notes).toEqual([
      '/reserved-memory/r@1000000: 2 reg entries, only the first becomes the region',
      '/reserved-memory/off: status disabled, skipped',
      '/reserved-memory/bad: neither reg nor a single size, skipped',
    ]);
  });

  it('notes cell counts that differ from the root (the node is refused, nothing more is read) and non-empty ranges', () => {
    const d = read(root([mem(0n, GiB), rm([], { '#address-cells': [1], '#size-cells': [1], ranges: [0, 0, 0, 0x1000] })]));
    expect(d.notes).toEqual(['/reserved-memory: #address-cells/#size-cells differ from the root (the kernel refuses such a node)']);
    const e = read(root([mem(0n, GiB), rm([], { ranges: [0, 0, 0, 0, 0, 0x1000] })]));
    expect(e.notes).toEqual(['/reserved-memory: non-empty ranges ignored (addresses taken as CPU addresses)']);
  });
});

describe('DMA masters', () => {
  const bus = (name: string, props: TNode['props'], children: TNode[]): TNode => ({ name, props: { '#address-cells': [2], '#size-cells': [2], ranges: null, ...props }, children });
  const dev = (name: string, props: TNode['props'] = {}, children: TNode[] = []): TNode => ({ name, props, children });

  it('finds masters by compatible, #dma-cells, parent dma-ranges, memory-region; not interrupt controllers or plain nodes', () => {
    const d = read(
      root([
        mem(0n, 4n * GiB),
        { name: 'reserved-memory', props: { '#address-cells': [2], '#size-cells': [2], ranges: null }, children: [{ name: 'pool@0', props: { reg: cells64(0x1000_0000n, MiB), phandle: [9], compatible: 'shared-dma-pool' } }] },
        dev('fw', { phandle: [10] }),
        bus('soc', {}, [
          dev('ahci@1', { compatible: 'generic-ahci' }),
          dev('dma@2', { '#dma-cells': [1] }),
          dev('vpu@3', { 'memory-region': [9, 10] }),
          dev('gpio@4', { compatible: 'snps,dw-apb-gpio' }),
          dev('npu@5', { 'memory-region': [10] }),
          bus('win', { 'dma-ranges': cells64(0n, 0n, 4n * GiB) }, [dev('any@6'), dev('plic@7', { 'interrupt-controller': null })]),
        ]),
      ]),
    );
    expect(d.devices.map((x) => [x.name, x.why])).toEqual([
      ['ahci@1', 'compatible "generic-ahci"'],
      ['dma@2', 'DMA engine (#dma-cells)'],
      ['vpu@3', 'memory-region'],
      ['any@6', 'behind /soc/win dma-ranges'],
    ]);
    expect(d.devices[2].memoryRegion).toBe('pool@0');
    expect(d.devices.every((x) => x.coherence === 'unmarked')).toBe(true);
  });

  it('notes a memory-region that is not a reserved-memory child; a disabled subtree is skipped', () => {
    const d = read(
      root([
        mem(0n, GiB),
        { name: 'reserved-memory', props: { '#address-cells': [2], '#size-cells': [2], ranges: null }, children: [{ name: 'p@0', props: { reg: cells64(0n, MiB), phandle: [2] } }] },
        dev('other', { phandle: [1] }),
        bus('soc', {}, [dev('eth@1', { compatible: 'snps,dwmac', 'memory-region': [1, 2] }), bus('off', { status: 'disabled' }, [dev('mmc@2', { compatible: 'x,sdhci' })])]),
      ]),
    );
    expect(d.devices.map((x) => x.name)).toEqual(['eth@1']);
    expect(d.devices[0].memoryRegion).toBeUndefined();
    expect(d.notes).toEqual(['/soc/eth@1: memory-region <1> is not a /reserved-memory child, ignored']);
  });

  it('repeated node names become paths', () => {
    const d = read(root([mem(0n, GiB), bus('a', {}, [dev('mmc', { compatible: 'x,sdhci' })]), bus('b', {}, [dev('mmc', { compatible: 'x,sdhci' })])]));
    expect(d.devices.map((x) => x.name)).toEqual(['/a/mmc', '/b/mmc']);
  });

  it('coherence: the nearest marking wins, from the node itself up to the root', () => {
    const d = read(
      root(
        [
          mem(0n, GiB),
          bus('soc', { 'dma-coherent': null }, [dev('a', { compatible: 'x,sdhci' }), dev('b', { compatible: 'x,sdhci', 'dma-noncoherent': null })]),
          dev('c', { compatible: 'x,sdhci' }),
        ],
        { 'dma-noncoherent': null },
      ),
    );
    expect(d.devices.map((x) => x.coherence)).toEqual(['coherent', 'noncoherent', 'noncoherent']);
    // Unmarked: coherent on 6.6 (ARCH_DMA_DEFAULT_COHERENT), non-coherent on 5.10.
    const u = read(root([mem(0n, GiB), dev('u', { compatible: 'x,sdhci' })])).devices[0];
    expect(u.coherence).toBe('unmarked');
    expect([deviceSpecOf(u, '6.6').coherent, deviceSpecOf(u, '5.10').coherent]).toEqual([true, false]);
  });

  it('dma-ranges: empty is identity and the walk goes on; translation through the windows above', () => {
    const d = read(
      root([
        mem(0n, 8n * GiB),
        bus('top', { 'dma-ranges': cells64(0n, 0x1_0000_0000n, 4n * GiB) }, [
          bus('mid', { 'dma-ranges': cells64(0x1000n, 0n, 2n * GiB, 0x8000_0000_0000n, 0x1_0000_0000_0000n, MiB) }, [
            bus('leaf', { 'dma-ranges': null }, [dev('m', { compatible: 'x,sdhci' })]),
          ]),
        ]),
      ]),
    );
    const m = d.devices.find((x) => x.name === 'm');
    // bus 0x1000 → mid's parent 0 → top's CPU 0x1_0000_0000; the second entry has no window above and is dropped.
    expect(m?.dmaRanges).toEqual([{ dma: 0x1000n, cpu: 0x1_0000_0000n, size: 2n * GiB }]);
    expect(d.notes).toContain('/top/mid: dma-ranges entry at bus 0x800000000000 has no CPU address, dropped');
  });

  it('dma-ranges: a bus without the property below one that had it means no map; all entries dropped means none', () => {
    const d = read(
      root([
        mem(0n, GiB),
        bus('top', { 'dma-ranges': cells64(0n, 0n, GiB) }, [bus('plain', {}, [dev('m', { compatible: 'x,sdhci' })])]),
        bus('t2', { 'dma-ranges': cells64(0n, 0n, GiB) }, [bus('x', { 'dma-ranges': cells64(0n, 0x1_0000_0000n, GiB) }, [dev('n', { compatible: 'x,sdhci' })])]),
      ]),
    );
    expect(d.devices.find((x) => x.name === 'm')?.dmaRanges).toBeUndefined();
    expect(d.devices.find((x) => x.name === 'n')?.dmaRanges).toBeUndefined();
  });

  it('dma-ranges: none anywhere, or only empty ones, means no map', () => {
    const d = read(root([mem(0n, GiB), bus('soc', { 'dma-ranges': null }, [dev('m', { compatible: 'x,sdhci' })]), dev('n', { compatible: 'x,sdhci' })]));
    expect(d.devices.map((x) => x.dmaRanges)).toEqual([undefined, undefined]);
  });
});

describe('harts', () => {
  const cpus = (cs: TNode[]): TNode => ({ name: 'cpus', props: { '#address-cells': [1], '#size-cells': [0] }, children: cs });
  it('reads riscv,isa, riscv,isa-extensions, neither; skips non-cpu nodes', () => {
    const d = read(
      root([
        mem(0n, GiB),
        cpus([
          { name: 'cpu@0', props: { device_type: 'cpu', 'riscv,isa': 'rv64imafdc_zicbom_svpbmt_xtheadvector', 'riscv,cbom-block-size': [64] } },
          { name: 'cpu@1', props: { device_type: 'cpu', 'riscv,isa-extensions': ['I', 'Zicbom'] } },
          { name: 'cpu@2', props: { device_type: 'cpu' } },
          { name: 'cpu-map', props: {} },
        ]),
      ]),
    );
    expect(d.cpus.map((c) => c.extensions)).toEqual([['i', 'm', 'a', 'f', 'd', 'c', 'zicbom', 'svpbmt', 'xtheadvector'], ['i', 'zicbom'], []]);
    expect(d.cpus[0].cbomBlockSize).toBe(64);
    expect(d.notes).toEqual(['/cpus/cpu@2: neither riscv,isa nor riscv,isa-extensions']);
  });

  it('isaExtensions: versions, g, a multi-letter extension right after the letters, bad strings', () => {
    expect(isaExtensions('RV64GC')).toEqual(['i', 'm', 'a', 'f', 'd', 'c']);
    expect(isaExtensions('rv64i2p0m2p0a_zicsr2p0_zicbom1p0')).toEqual(['i', 'm', 'a', 'zicsr', 'zicbom']);
    expect(isaExtensions('rv64imacsvpbmt')).toEqual(['i', 'm', 'a', 'c', 'svpbmt']);
    expect(isaExtensions('rv32i__zicbom')).toEqual(['i', 'zicbom']);
    expect(() => isaExtensions('x86_64')).toThrow(DtbError);
  });
});
