// Golden scenarios: fixed operation lists of the coherence harness with the
// verdict each profile must give, in the manner of the kernel's litmus tests.
// Each one is the minimal event sequence of a canonical stale-data case
// (riscv-c920-coherence.md §7) or a historic bug (historic-bugs.md), so a
// change to the reference that moves one of them is seen by name, not as a
// shrunk random counterexample.
//
// Reading the ops: indices count from the newest live buffer of the kind the
// op needs (see model/harnesses/coherence.ts): `map i:0` maps the newest
// unmapped buffer, `cpu_store target:0` writes the newest CPU-owned one,
// `dev_write target:0` the newest device-owned FROM/BIDI mapping. Devices:
// 0 = dwmac0 (non-coherent, 64-bit), 1 = sdhci0 (non-coherent, 32-bit).
// The model machine has 4 harts in 2 clusters; kernel code runs on hart 0.
// Never-written RAM reads the poison byte 0xa5 (reference/mm/memory.ts), so
// no device or CPU value below starts with it.

import type { CoherenceOp } from './harnesses/coherence.ts';
import type { Profile } from '../reference/config/profile.ts';
import { BROKEN_PROFILES, CORRECT_PROFILES } from '../reference/config/profiles.ts';
import { isFaultName, type FaultName } from '../reference/config/faults.ts';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../reference/include/linux/dma-direction.ts';

export type GoldenInvariant = 'no-stale-read' | 'pte-attributes';
export type GoldenVerdict = 'holds' | 'violated';

export interface GoldenScenario {
  name: string;
  description: string;
  /** Spec section and/or kernel commit the scenario stands for. */
  source: string;
  ops: CoherenceOp[];
  invariant: GoldenInvariant;
  /** Profile name, or 'profile+fault' (several faults: 'profile+f1+f2'). */
  expect: Record<string, GoldenVerdict>;
}

const DWMAC0 = 0;
const SDHCI0 = 1;

const P66 = 'c920-sg2042-6.6';
const P2044 = 'c920v2-sg2044-6.6';
const P510 = 'c920-sg2042-5.10-fixed';
const VENDOR = 'c920-sg2042-5.10-vendor';
const RX66 = 'c920-sg2042-6.6-rx-header';

export const GOLDEN_SCENARIOS: GoldenScenario[] = [
  {
    name: 'from-device-spec-fill',
    description:
      'A FROM_DEVICE buffer is cleaned at map; the hart then speculatively refills its line with the old memory contents ' +
      'while the device owns it; the device writes memory. Only the invalidate of dma_sync_single_for_cpu (inside unmap) ' +
      'removes the stale clean line before the CPU reads.',
    source: 'riscv-c920-coherence.md §7(b); historic-bugs.md G4 (ARM speculative prefetch)',
    ops: [
      { k: 'kmalloc', size: 64, count: 1 },
      { k: 'map', i: 0, dev: DWMAC0, dir: DMA_FROM_DEVICE },
      { k: 'spec_fill', where: 'buf', target: 0, off: 0, hart: 0 },
      { k: 'dev_write', target: 0, coh: false, off: 0, len: 64, val: 0xe1 },
      { k: 'unmap', i: 0 },
      { k: 'cpu_load', target: 0, coh: false, off: 0, len: 64, hart: 0 },
    ],
    invariant: 'no-stale-read',
    expect: {
      [P66]: 'holds',
      [P2044]: 'holds',
      [P510]: 'holds',
      [VENDOR]: 'violated',
      [`${P66}+sync-for-cpu-skipped`]: 'violated',
      [`${P2044}+sync-for-cpu-skipped`]: 'violated',
      [`${P510}+sync-for-cpu-skipped`]: 'violated',
    },
  },
  {
    name: 'to-device-dirty-l2',
    description:
      'The CPU fills a TO_DEVICE buffer (dirty in its L1); dma_map_single cleans it. With the L1-only clean ' +
      '(th.dcache.cval1) the dirty data only moves into the L2, and the non-coherent device reads old memory.',
    source: 'riscv-c920-coherence.md §7(c); historic-bugs.md F2, 8eb8fe67e2c8 "riscv: errata: fix T-Head dcache.cva encoding" (TH1520 eMMC)',
    ops: [
      { k: 'kmalloc', size: 64, count: 1 },
      { k: 'cpu_store', target: 0, coh: false, off: 0, len: 64, val: 0x3c, hart: 0 },
      { k: 'map', i: 0, dev: DWMAC0, dir: DMA_TO_DEVICE },
      { k: 'dev_read', target: 0, coh: false, off: 0, len: 64 },
    ],
    invariant: 'no-stale-read',
    expect: {
      [P66]: 'holds',
      [P2044]: 'holds',
      [P510]: 'holds',
      [VENDOR]: 'violated',
      [`${P66}+cmo-clean-l1-only`]: 'violated',
      [`${P2044}+cmo-clean-l1-only`]: 'violated',
    },
  },
  {
    name: 'coherent-zero-through-dirty-alias',
    description:
      'A page is written through the cacheable linear map and freed with its lines still dirty; dma_alloc_coherent gets it ' +
      'back, remaps it uncached and zeroes it through the uncached alias. Without arch_dma_prep_coherent the stale dirty ' +
      'line of the linear alias is later evicted over the zeroes, and the device reads old data instead of zero.',
    source: 'riscv-c920-coherence.md §7(e); historic-bugs.md G2 (arch_dma_prep_coherent)',
    ops: [
      { k: 'dirty_pages', order: 0, val: 0x77, hart: 0 },
      { k: 'alloc_coherent', dev: DWMAC0, size: 4096 },
      { k: 'evict', where: 'coh', target: 0, off: 0, hart: 0, level: 'L2' },
      { k: 'dev_read', target: 0, coh: true, off: 0, len: 64 },
    ],
    invariant: 'no-stale-read',
    expect: {
      [P66]: 'holds',
      [P2044]: 'holds',
      [P510]: 'holds',
      [`${P66}+prep-coherent-skipped`]: 'violated',
      [`${P2044}+prep-coherent-skipped`]: 'violated',
      [`${P510}+prep-coherent-skipped`]: 'violated',
    },
  },
  {
    name: 'coherent-buffer-cacheable',
    description:
      'The driver writes a descriptor into a dma_alloc_coherent buffer and the non-coherent device reads it. If the CPU ' +
      'mapping is cacheable (vendor 5.10: every device counts as coherent, so no remap; or pgprot_dmacoherent returning ' +
      'the prot unchanged) the descriptor sits dirty in the cache and the device reads the old bytes.',
    source: 'riscv-c920-coherence.md §7(d); vendor 5.10 as the seed notes found it (no ARCH_HAS_SYNC_DMA_* hooks, so no remap)',
    ops: [
      { k: 'alloc_coherent', dev: DWMAC0, size: 4096 },
      { k: 'cpu_store', target: 0, coh: true, off: 0, len: 64, val: 0x5a, hart: 0 },
      { k: 'dev_read', target: 0, coh: true, off: 0, len: 64 },
    ],
    invariant: 'no-stale-read',
    expect: {
      [P66]: 'holds',
      [P2044]: 'holds',
      [P510]: 'holds',
      [VENDOR]: 'violated',
      [`${P66}+pgprot-dmacoherent-cacheable`]: 'violated',
      [`${P2044}+pgprot-dmacoherent-cacheable`]: 'violated',
      [`${P510}+pgprot-dmacoherent-cacheable`]: 'violated',
    },
  },
  {
    name: 'coherent-buffer-cacheable-pte',
    description:
      'The same allocation checked at the page table: the CPU mapping of a coherent buffer for a non-coherent device must ' +
      'be non-cacheable as the hart reads its PTE (MAE bits on SG2042, Svpbmt on SG2044), with its PFN and permissions intact.',
    source: 'riscv-c920-coherence.md §7(d), §3.3-3.5',
    ops: [{ k: 'alloc_coherent', dev: DWMAC0, size: 4096 }],
    invariant: 'pte-attributes',
    expect: {
      [P66]: 'holds',
      [P2044]: 'holds',
      [P510]: 'holds',
      [VENDOR]: 'violated',
      [`${P66}+pgprot-dmacoherent-cacheable`]: 'violated',
      [`${P2044}+pgprot-dmacoherent-cacheable`]: 'violated',
      [`${P510}+pgprot-dmacoherent-cacheable`]: 'violated',
    },
  },
  {
    name: 'swiotlb-from-device-leak',
    description:
      'The 32-bit sdhci0 cannot reach a kmalloc buffer above 4 GiB, so the mapping bounces through swiotlb. The CPU filled ' +
      'the buffer; the device writes only its first 16 bytes of a FROM_DEVICE mapping. Unmap copies the whole slot back: ' +
      'unless map copied the original into the slot first, bytes 16..63 come back as the old slot contents (an info leak, ' +
      'and the CPU\'s own data lost).',
    source: 'ddbd89deb7d3 "swiotlb: fix info leak with DMA_FROM_DEVICE"',
    ops: [
      { k: 'kmalloc', size: 64, count: 1 },
      { k: 'cpu_store', target: 0, coh: false, off: 0, len: 64, val: 0xc3, hart: 0 },
      { k: 'map', i: 0, dev: SDHCI0, dir: DMA_FROM_DEVICE },
      { k: 'dev_write', target: 0, coh: false, off: 0, len: 16, val: 0x11 },
      { k: 'unmap', i: 0 },
      { k: 'cpu_load', target: 0, coh: false, off: 16, len: 48, hart: 0 },
    ],
    invariant: 'no-stale-read',
    expect: {
      [P66]: 'holds',
      [P2044]: 'holds',
      [P510]: 'holds',
      [`${P510}+swiotlb-from-device-no-copy`]: 'violated',
    },
  },
  {
    name: 'block-size-128',
    description:
      'A 128-byte TO_DEVICE buffer (kmalloc-128, so 128-aligned) is written by the CPU: two dirty lines. A clean loop that ' +
      'strides 128 bytes over 64-byte blocks cleans only the first; the device reads the second line from stale memory.',
    source: 'historic-bugs.md F3, 8f7e001e0325 "RISC-V: Clean up the Zicbom block size probing" (stride larger than the block)',
    ops: [
      { k: 'kmalloc', size: 128, count: 1 },
      { k: 'cpu_store', target: 0, coh: false, off: 0, len: 128, val: 0x48, hart: 0 },
      { k: 'map', i: 0, dev: DWMAC0, dir: DMA_TO_DEVICE },
      { k: 'dev_read', target: 0, coh: false, off: 0, len: 128 },
    ],
    invariant: 'no-stale-read',
    expect: {
      [P66]: 'holds',
      [P2044]: 'holds',
      [`${P66}+cmo-block-size-128`]: 'violated',
      [`${P2044}+cmo-block-size-128`]: 'violated',
    },
  },
  {
    name: 'neighbour-shares-line',
    description:
      'Two 8-byte kmalloc objects; the newer one is mapped FROM_DEVICE, the CPU updates the older one (dirtying the shared ' +
      'line with the DMA buffer\'s old bytes), the device writes its buffer. With 8-byte kmalloc alignment on 5.10 the ' +
      'post-DMA flush writes the stale line over the device data. 5.10 kmalloc alignment 64 keeps the objects apart; 6.6 ' +
      'keeps ARCH_KMALLOC_MINALIGN 8 but bounces the small unaligned buffer through swiotlb, so it holds there even ' +
      'with the minalign fault.',
    source: 'riscv-c920-coherence.md §7(f); historic-bugs.md G5, F4',
    ops: [
      { k: 'kmalloc', size: 8, count: 2 },
      { k: 'map', i: 0, dev: DWMAC0, dir: DMA_FROM_DEVICE },
      { k: 'cpu_store', target: 0, coh: false, off: 0, len: 8, val: 0x21, hart: 0 },
      { k: 'dev_write', target: 0, coh: false, off: 0, len: 8, val: 0x90 },
      { k: 'unmap', i: 0 },
      // After the unmap both are CPU-owned: 0 = the DMA buffer, 1 = the neighbour.
      { k: 'cpu_load', target: 0, coh: false, off: 0, len: 8, hart: 0 },
      { k: 'cpu_load', target: 1, coh: false, off: 0, len: 8, hart: 0 },
    ],
    invariant: 'no-stale-read',
    expect: {
      [P510]: 'holds',
      [P66]: 'holds',
      [P2044]: 'holds',
      [`${P510}+kmalloc-minalign-8`]: 'violated',
      [`${P66}+kmalloc-minalign-8`]: 'holds',
    },
  },
  {
    name: 'inval-as-flush-after-dma',
    description:
      'The CPU fills a FROM_DEVICE buffer before mapping it, and the pre-DMA clean does not reach memory (L1-only ' +
      'th.dcache.cval1: the dirty line moves to the L2). The device writes memory. A correct post-DMA invalidate drops ' +
      'the dirty L2 line, so the CPU reads the device data; an "invalidate" implemented as clean+invalidate writes the ' +
      'stale line over it. Legal DMA API use leaves no dirty line at unmap on a correct 6.6 (map cleans; small unaligned ' +
      'buffers bounce), so the hazard needs the first fault to set it up: the inval-as-flush fault alone holds here.',
    source: 'riscv-c920-coherence.md §7(g); u-boot-thead adec30ace4ce "fix(c9xx): don\'t flush dcache when invalidating"; historic-bugs.md F2, F4',
    ops: [
      { k: 'kmalloc', size: 64, count: 1 },
      { k: 'cpu_store', target: 0, coh: false, off: 0, len: 64, val: 0x66, hart: 0 },
      { k: 'map', i: 0, dev: DWMAC0, dir: DMA_FROM_DEVICE },
      { k: 'dev_write', target: 0, coh: false, off: 0, len: 64, val: 0xd2 },
      { k: 'unmap', i: 0 },
      { k: 'cpu_load', target: 0, coh: false, off: 0, len: 64, hart: 0 },
    ],
    invariant: 'no-stale-read',
    expect: {
      [P66]: 'holds',
      [`${P66}+cmo-inval-as-flush`]: 'holds',
      [`${P66}+cmo-clean-l1-only`]: 'holds',
      [`${P66}+cmo-clean-l1-only+cmo-inval-as-flush`]: 'violated',
    },
  },
  {
    name: 'rx-header-flush-after-dma',
    description:
      'A driver receives into a buffer 16 bytes into its kmalloc\'d struct and posts it FROM_DEVICE; during the DMA it ' +
      'updates the header, dirtying the line it shares with the buffer\'s first 48 bytes (still the old ones). The device ' +
      'writes the frame. 6.6 invalidates at unmap: the frame survives and the header update is lost (undefined: the ' +
      'driver broke the DMA API). A post-DMA flush (the 6.0-6.5 table, the vendor 5.10 patch, or an "invalidate" that flushes) writes the old ' +
      'bytes over the frame.',
    source: 'historic-bugs.md F4 ("riscv: dma-mapping: only invalidate after DMA, not flush"); riscv-c920-coherence.md §7(a) variant, §7(f)',
    ops: [
      { k: 'kmalloc_rx', hdr: 16, size: 128, dir: DMA_FROM_DEVICE },
      { k: 'cpu_store', target: 0, coh: false, off: 0, len: 8, val: 0x21, hart: 1, near: true },
      { k: 'dev_write', target: 0, coh: false, off: 0, len: 64, val: 0x90 },
      { k: 'unmap', i: 0 },
      // Both halves are CPU-owned again: 0 = the frame (newest), 1 = the header.
      { k: 'cpu_load', target: 0, coh: false, off: 0, len: 64, hart: 0, fresh: true },
      { k: 'cpu_load', target: 1, coh: false, off: 0, len: 16, hart: 0 },
    ],
    invariant: 'no-stale-read',
    expect: {
      [RX66]: 'holds',
      [`${RX66}+cmo-inval-as-flush`]: 'violated',
      'c920-sg2042-6.5-rx-header': 'violated',
      'c920-sg2042-5.10-rx-header': 'violated',
    },
  },
  {
    name: 'rx-header-line-evicted',
    description:
      'As rx-header-flush-after-dma, but the hardware evicts the dirty header line after the device wrote the frame: ' +
      'memory gets the old first 48 bytes back even on 6.6. Exactly those bytes are undefined; the rest of the frame ' +
      'must still read as the device wrote it, which a kernel without the post-DMA invalidate fails at byte 48 (a ' +
      'line of the frame speculatively filled during the DMA).',
    source: 'historic-bugs.md F4; riscv-c920-coherence.md §7(f) step 5b',
    ops: [
      { k: 'kmalloc_rx', hdr: 16, size: 128, dir: DMA_FROM_DEVICE },
      { k: 'cpu_store', target: 0, coh: false, off: 0, len: 8, val: 0x21, hart: 1, near: true },
      { k: 'spec_fill', where: 'buf', target: 0, off: 64, hart: 0 },
      { k: 'dev_write', target: 0, coh: false, off: 0, len: 96, val: 0x90 },
      { k: 'evict', where: 'stored', target: 0, off: 0, hart: 1, level: 'L2' },
      { k: 'unmap', i: 0 },
      { k: 'cpu_load', target: 0, coh: false, off: 0, len: 96, hart: 0, fresh: true },
    ],
    invariant: 'no-stale-read',
    expect: {
      [RX66]: 'holds',
      [`${RX66}+sync-for-cpu-skipped`]: 'violated',
    },
  },
];

const BASES: readonly Profile[] = [...CORRECT_PROFILES, ...BROKEN_PROFILES];

/**
 * 'name' or 'name+fault[+fault...]' -> the profile with exactly those faults on.
 * Throws on an unknown profile or fault name (a typo in a scenario table).
 */
export function goldenProfile(key: string): Profile {
  const [name, ...faults] = key.split('+');
  const base = BASES.find((p) => p.name === name);
  if (base === undefined) throw new Error(`golden scenario: unknown profile ${name}`);
  for (const f of faults) if (!isFaultName(f)) throw new Error(`golden scenario: unknown fault ${f} in ${key}`);
  if (faults.length === 0) return base;
  return { ...base, name: key, faults: faults as FaultName[] };
}
