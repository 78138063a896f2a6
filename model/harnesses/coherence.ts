// The DMA API ownership rules under generated driver behaviour and hardware
// freedom: kmalloc'd streaming buffers mapped in every direction, coherent
// buffers, CPU loads/stores on any hart, device reads/writes, syncs, and
// speculative fills / evictions of any line at any time. The model keeps a
// shadow copy of every byte as its owner last wrote it; every read by the
// current owner must return it.

import fc from 'fast-check';
import type { Harness } from '../harness.ts';
import { pick, span } from '../resolve.ts';
import type { Profile } from '../../reference/config/profile.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { kfree, kmalloc } from '../../reference/mm/slab.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { page_address, phys_to_virt, walkPageTable, hartMemoryType } from '../../reference/arch/riscv/pgtable.ts';
import { helperPurpose, intendedTable } from '../oracle/memtypes.ts';
import { checkPgprotHelpers } from './pgprot-boot.ts';
import { __free_pages, alloc_pages } from '../../reference/mm/page_alloc.ts';
import { dma_alloc_coherent, dma_free_coherent, dma_map_single, dma_unmap_single } from '../../reference/include/linux/dma-mapping.ts';
import { dma_mapping_error, dma_sync_single_for_cpu, dma_sync_single_for_device } from '../../reference/kernel/dma/mapping.ts';
import { dma_to_phys } from '../../reference/include/linux/dma-direct.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, dmaDirName } from '../../reference/include/linux/dma-direction.ts';
import { cpuLoad, cpuStore } from '../../reference/hw/cpu.ts';
import { deviceRead, deviceWrite } from '../../reference/hw/device.ts';
import { LINE_BYTES, lineBase, lineOf } from '../../reference/mm/memory.ts';
import { hex, PAGE_SIZE } from '../../reference/types.ts';

const DIRS = [DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL] as const;

/** Op kinds, for swarm testing (each run switches some off). */
export const COHERENCE_KINDS = [
  'kmalloc',
  'kfree',
  'dirty_pages',
  'cpu_store',
  'cpu_load',
  'map',
  'dev_write',
  'dev_read',
  'sync_cpu',
  'sync_dev',
  'unmap',
  'alloc_coherent',
  'free_coherent',
  'spec_fill',
  'evict',
] as const;
export type CoherenceKind = (typeof COHERENCE_KINDS)[number];

export type CoherenceOp =
  | { k: 'kmalloc'; size: number; count: number }
  | { k: 'kmalloc_rx'; hdr: number; size: number; dir: number }
  | { k: 'kfree'; i: number }
  | { k: 'dirty_pages'; order: number; val: number; hart: number }
  | { k: 'cpu_store'; target: number; coh: boolean; off: number; len: number; val: number; hart: number; near?: boolean }
  | { k: 'cpu_load'; target: number; coh: boolean; off: number; len: number; hart: number; fresh?: boolean }
  | { k: 'map'; i: number; dev: number; dir: number }
  | { k: 'dev_write'; target: number; coh: boolean; off: number; len: number; val: number }
  | { k: 'dev_read'; target: number; coh: boolean; off: number; len: number }
  | { k: 'sync_cpu'; i: number }
  | { k: 'sync_dev'; i: number }
  | { k: 'unmap'; i: number }
  | { k: 'alloc_coherent'; dev: number; size: number }
  | { k: 'free_coherent'; i: number }
  | { k: 'spec_fill'; where: LineSource; target: number; off: number; hart: number }
  | { k: 'evict'; where: LineSource; target: number; off: number; hart: number; level: 'L1' | 'L2' };

/**
 * Which line a hardware event hits: a line some operation touched lately
 * ('hot'), a line the CPU stored to lately ('stored': the candidates for dirty
 * write-backs), a line of a streaming buffer, of a coherent buffer, or the bus side
 * of a mapping (the swiotlb slot when bounced). All RAM is reachable through
 * the cacheable linear map, so every choice is something the hardware may do.
 */
export type LineSource = 'hot' | 'stored' | 'buf' | 'coh' | 'dma';

interface Mapping {
  dev: device;
  dir: number;
  dma: bigint;
  owner: 'cpu' | 'device';
  /**
   * Bytes the CPU wrote after dma_sync_single_for_cpu. Unmapping without a
   * sync_for_device first hands the buffer back "from the device" once more
   * (invalidate or bounce copy-back for FROM_DEVICE/BIDIRECTIONAL), so the DMA
   * API leaves those bytes undefined.
   */
  cpuDirty: Uint8Array | null;
}

interface Obj {
  id: number;
  pa: bigint;
  va: bigint;
  size: number;
  /** -1 = unknown (kmalloc does not zero). */
  shadow: Int16Array;
  map: Mapping | null;
  /** One half of a kmalloc_rx struct: the header, or the receive buffer right behind it (same allocation at `base`). */
  part?: { role: 'hdr' | 'rx'; sibling: Obj; base: bigint };
  /**
   * rx only, while mapped FROM_DEVICE/BIDIRECTIONAL: header bytes stored since the shared line
   * was last cleaned (the next post-DMA invalidate may drop them), and the shared lines such a
   * store dirtied while the device owned the buffer (a write-back of one puts old rx bytes in memory).
   */
  racing?: { hdrBytes: Set<number>; lines: Set<number> };
}

interface Coh {
  id: number;
  dev: device;
  cpu: bigint;
  dma: bigint;
  size: number;
  shadow: Int16Array;
}

export interface CoherenceState {
  m: Machine;
  objs: Obj[];
  cohs: Coh[];
  /** Lines recent operations touched, newest last (bounded). */
  hot: number[];
  /** Lines recent CPU stores touched, newest last (bounded). */
  stored: number[];
  /** Buffers the device handed back lately (sync_for_cpu, unmap after FROM/BIDI DMA), newest last. */
  returned: Obj[];
  nextId: number;
  stale: string | null;
  pte: string | null;
}

function mkShadow(n: number, v: number): Int16Array {
  return new Int16Array(n).fill(v);
}

function compare(st: CoherenceState, who: string, got: Uint8Array, shadow: Int16Array, off: number, what: string): void {
  if (st.stale !== null) return;
  for (let i = 0; i < got.length; i++) {
    const want = shadow[off + i];
    if (want >= 0 && got[i] !== want) {
      st.stale = `${who} read ${hex(got[i])} at byte ${off + i} of ${what}, but its owner last wrote ${hex(want)}`;
      return;
    }
  }
}

/**
 * The memory-type bits (63:59) a coherent buffer's CPU mapping should carry: a
 * device the kernel treats as coherent gets PAGE_KERNEL (PMA), a non-coherent
 * one what pgprot_dmacoherent is for on this kernel (model/oracle/memtypes.ts).
 */
function expectedMtBits(m: Machine, dev: device): bigint {
  const k = m.profile.kconfig;
  const hooks = Boolean(k.CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE || k.CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU);
  const treatedCoherent = !hooks || (dev.hwSnoops && Boolean(k.CONFIG_ARCH_HAS_SETUP_DMA_OPS));
  const mt = m.profile.platform.memTypes;
  return intendedTable(mt).types[treatedCoherent ? 'PMA' : helperPurpose('pgprot_dmacoherent', mt)].bits;
}

function checkCoherentPtes(st: CoherenceState, c: Coh): void {
  if (st.pte !== null) return;
  const m = st.m;
  const pages = Math.ceil(c.size / PAGE_SIZE);
  const basePa = dma_to_phys(c.dev, c.dma);
  for (let p = 0; p < pages; p++) {
    const va = c.cpu + BigInt(p * PAGE_SIZE);
    const t = walkPageTable(m.init_mm, va);
    if (t === null) {
      st.pte = `coherent buffer #${c.id} page ${p} at ${hex(va)} has no mapping`;
      return;
    }
    const want = basePa + BigInt(p * PAGE_SIZE);
    if (t.pa !== want) {
      st.pte = `coherent buffer #${c.id} page ${p}: PTE ${hex(t.pte)} maps ${hex(t.pa)}, the DMA handle says ${hex(want)} (PFN not intact)`;
      return;
    }
    const mt = hartMemoryType(t.pte, m.hart);
    if (mt.fault !== undefined) {
      st.pte = `coherent buffer #${c.id} page ${p}: PTE ${hex(t.pte)} faults on this hart (${mt.fault})`;
      return;
    }
    // A device that does not snoop must never meet a cacheable CPU alias, whatever the kernel asked for.
    if (!c.dev.hwSnoops && mt.kind === 'cacheable') {
      st.pte = `coherent buffer #${c.id} of non-coherent ${c.dev.name}: PTE ${hex(t.pte)} is cacheable as this hart reads it (MAEE=${m.hart.maee ? 1 : 0}, PBMTE=${m.hart.pbmte ? 1 : 0})`;
      return;
    }
    const mtWant = expectedMtBits(m, c.dev);
    if (t.pte >> 59n !== mtWant) {
      st.pte = `coherent buffer #${c.id} of ${c.dev.name}: PTE ${hex(t.pte)} has memory-type bits 63:59 = ${(t.pte >> 59n).toString(2).padStart(5, '0')}, the kernel asks for ${mtWant.toString(2).padStart(5, '0')}`;
      return;
    }
    if (!t.linear && (t.pte & 0x3ffn) !== 0xe7n) {
      st.pte = `coherent buffer #${c.id} page ${p}: PTE ${hex(t.pte)} permission bits ${hex(t.pte & 0x3ffn)}, expected V|R|W|G|A|D (0xe7)`;
      return;
    }
  }
}

function objFor(st: CoherenceState, i: number): Obj | undefined {
  return pick(st.objs, i);
}

/** Buffers a legal driver may touch from the CPU: not mapped, or synced back to the CPU. */
function cpuOwned(st: CoherenceState): Obj[] {
  return st.objs.filter((o) => o.map === null || o.map.owner === 'cpu');
}

function rxDevices(m: Machine): device[] {
  return m.devices.filter((d) => m.profile.devices.some((s) => s.name === d.name && s.rxBehindHeader === true));
}

function handedBack(st: CoherenceState, b: Obj): void {
  if (b.map?.dir === DMA_TO_DEVICE) return;
  st.returned = st.returned.filter((x) => x !== b && st.objs.includes(x)).slice(-(HOT_LINES - 1));
  st.returned.push(b);
}

function linesOf(pa: bigint, n: number): number[] {
  const out: number[] = [];
  for (let l = lineOf(pa); l <= lineOf(pa + BigInt(n - 1)); l++) out.push(l);
  return out;
}

/** First and last line: two disjoint buffers can only share a line at an end of each. */
function endLines(o: Obj): [number, number] {
  return [lineOf(o.pa), lineOf(o.pa + BigInt(o.size - 1))];
}

/** CPU-owned buffers with a cache line in common with a device-owned mapping: where a store races the DMA. */
function sharingLine(st: CoherenceState): Obj[] {
  const busy = new Set(st.objs.filter((o) => o.map?.owner === 'device').flatMap(endLines));
  if (busy.size === 0) return [];
  return cpuOwned(st).filter((o) => endLines(o).some((l) => busy.has(l)));
}

/** An rx buffer mapped in place (not bounced), FROM_DEVICE or BIDIRECTIONAL. */
function rxInPlace(o: Obj): boolean {
  return o.part?.role === 'rx' && o.map !== null && o.map.dir !== DMA_TO_DEVICE && dma_to_phys(o.map.dev, o.map.dma) === o.pa;
}

/** A header store while its rx buffer is mapped: the shared line may be dropped or written back behind the driver's back. */
function noteHeaderStore(hdr: Obj, o: number, n: number): void {
  const rx = hdr.part!.sibling;
  if (!rxInPlace(rx)) return;
  rx.racing ??= { hdrBytes: new Set(), lines: new Set() };
  for (let i = o; i < o + n; i++) rx.racing.hdrBytes.add(i);
  if (rx.map!.owner !== 'device') return;
  const rxLines = new Set(linesOf(rx.pa, rx.size));
  for (const l of linesOf(hdr.pa + BigInt(o), n)) if (rxLines.has(l)) rx.racing.lines.add(l);
}

/**
 * The buffer is the CPU's again (sync_for_cpu, unmap): on a kernel that invalidates after
 * DMA the header stores still in the shared line are gone, as DMA-API.rst warns. They are
 * undefined; the rx bytes are not (the device's data must win).
 */
function settleHeader(b: Obj): void {
  if (b.racing === undefined) return;
  const hdr = b.part!.sibling;
  for (const i of b.racing.hdrBytes) hdr.shadow[i] = -1;
  b.racing = undefined;
}

/**
 * Evicting a shared line the header store dirtied, while the device owns the rx buffer, writes
 * that line's old rx bytes over whatever the device put in memory: the hardware may do this
 * at any time, so exactly the rx bytes the write-back changed are undefined from here on.
 */
function evictRacing(st: CoherenceState, line: number, evict: () => void): void {
  const hit = st.objs.filter((o) => o.racing?.lines.has(line) && o.map?.owner === 'device');
  if (hit.length === 0) return evict();
  const before = st.m.mem.readLine(line);
  evict();
  const after = st.m.mem.readLine(line);
  const base = lineBase(line);
  for (const b of hit) {
    for (let i = 0; i < LINE_BYTES; i++) {
      const off = Number(base + BigInt(i) - b.pa);
      if (off >= 0 && off < b.size && before[i] !== after[i]) b.shadow[off] = -1;
    }
  }
}

const HOT_LINES = 16;

/** Remembers the lines [pa, pa+n) as recently touched, for hardware events to aim at. */
function touch(st: CoherenceState, pa: bigint, n: number, list: number[] = st.hot): void {
  const first = lineOf(pa);
  const last = lineOf(pa + BigInt(Math.max(0, n - 1)));
  for (let l = first; l <= last && l < first + 4; l++) {
    const i = list.indexOf(l);
    if (i >= 0) list.splice(i, 1);
    list.push(l);
  }
  if (list.length > HOT_LINES) list.splice(0, list.length - HOT_LINES);
}

function lineTarget(st: CoherenceState, where: LineSource, target: number, off: number): number | null {
  if (where === 'hot' && st.hot.length > 0) return st.hot[st.hot.length - 1 - (target % st.hot.length)];
  if (where === 'stored' && st.stored.length > 0) return st.stored[st.stored.length - 1 - (target % st.stored.length)];
  if (where === 'coh' && st.cohs.length > 0) {
    const c = pick(st.cohs, target)!;
    return lineOf(dma_to_phys(c.dev, c.dma) + BigInt(off % c.size));
  }
  const mapped = st.objs.filter((o) => o.map !== null);
  if (where === 'dma' && mapped.length > 0) {
    const o = pick(mapped, target)!;
    return lineOf(dma_to_phys(o.map!.dev, o.map!.dma) + BigInt(off % o.size));
  }
  const o = objFor(st, target);
  return o ? lineOf(o.pa + BigInt(off % o.size)) : null;
}

function fill(n: number, val: number): Uint8Array {
  const b = new Uint8Array(n);
  // (val + 7i) & 0xff repeats every 256 bytes: write one period, then copy it (page-sized fills are common).
  const period = Math.min(n, 256);
  for (let i = 0; i < period; i++) b[i] = (val + i * 7) & 0xff;
  for (let done = period; done < n; done *= 2) b.copyWithin(done, 0, Math.min(done, n - done));
  return b;
}

export const coherenceHarness: Harness<CoherenceState, CoherenceOp> = {
  name: 'coherence',
  appliesTo: (p) => p.devices.length > 0,
  setup(profile: Profile) {
    const m = buildMachine(profile);
    return { m, objs: [], cohs: [], hot: [], stored: [], returned: [], nextId: 0, stale: null, pte: checkPgprotHelpers(m) };
  },
  ops(profile) {
    const harts = profile.platform.geometry === 'sg2042' ? 64 : 4;
    const hart = fc.nat({ max: harts - 1 });
    // Small indices: operations resolve them modulo the live buffers, so most of them hit something.
    const idx = fc.nat({ max: 3 });
    const off = fc.oneof(fc.nat({ max: 127 }), fc.nat({ max: 20000 }));
    const len = fc.integer({ min: 1, max: 96 });
    const head = fc.nat({ max: 63 });
    const val = fc.nat({ max: 255 });
    const dev = fc.nat({ max: Math.max(0, profile.devices.length - 1) });
    const coh = fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
    const target = { target: idx, coh };
    // Drivers allocate many buffers of one size: same-size objects share slab pages (and, below
    // the kmalloc alignment, cache lines); sizes in page orders make freed pages come back.
    const kmallocSize = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(8, 16, 24, 32, 40, 48, 64, 96, 128, 192, 256, 1500, 2048) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 3000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 8193, max: 20000 }) },
    );
    const cohSize = fc.oneof(
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 9000 }) },
      { weight: 1, arbitrary: fc.constantFrom(4096, 8192, 12288, 16384) },
    );
    const where = fc.constantFrom<LineSource>('hot', 'hot', 'stored', 'stored', 'buf', 'coh', 'dma');
    // Mostly small frames: a write or read lands in the line shared with the header more often.
    const rxSize = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 64, max: 256 }) }, { weight: 1, arbitrary: fc.integer({ min: 257, max: 1600 }) });
    // Only machines whose driver receives behind a header (DeviceSpec.rxBehindHeader) allocate such structs.
    const rxStructs = profile.devices.some((d) => d.rxBehindHeader)
      ? [{ weight: 3, arbitrary: fc.record({ k: fc.constant('kmalloc_rx' as const), hdr: fc.integer({ min: 1, max: 63 }), size: rxSize, dir: fc.constantFrom(DMA_FROM_DEVICE, DMA_BIDIRECTIONAL) }) }]
      : [];
    return fc.oneof(
      ...rxStructs,
      // A driver allocates its buffers in rings of one size.
      { weight: 6, arbitrary: fc.record({ k: fc.constant('kmalloc' as const), size: kmallocSize, count: fc.integer({ min: 1, max: 4 }) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('kfree' as const), i: idx }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('dirty_pages' as const), order: fc.nat({ max: 2 }), val: fc.nat({ max: 255 }), hart }) },
      { weight: 6, arbitrary: fc.record({ k: fc.constant('cpu_store' as const), ...target, off, len, val, hart }) },
      // A store into a buffer that shares a line with one the device owns (a neighbour object, a header).
      { weight: 3, arbitrary: fc.record({ k: fc.constant('cpu_store' as const), ...target, off, len, val, hart, near: fc.constant(true) }) },
      { weight: 6, arbitrary: fc.record({ k: fc.constant('cpu_load' as const), ...target, off, len, hart }) },
      // A driver reads what the device just handed back, from its first line (the frame header).
      { weight: 3, arbitrary: fc.record({ k: fc.constant('cpu_load' as const), ...target, off: head, len, hart, fresh: fc.constant(true) }) },
      { weight: 5, arbitrary: fc.record({ k: fc.constant('map' as const), i: idx, dev, dir: fc.constantFrom(...DIRS) }) },
      { weight: 5, arbitrary: fc.record({ k: fc.constant('dev_write' as const), ...target, off, len, val }) },
      // Devices write frames from the start of the buffer.
      { weight: 2, arbitrary: fc.record({ k: fc.constant('dev_write' as const), ...target, off: head, len, val }) },
      { weight: 5, arbitrary: fc.record({ k: fc.constant('dev_read' as const), ...target, off, len }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('sync_cpu' as const), i: idx }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('sync_dev' as const), i: idx }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('unmap' as const), i: idx }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('alloc_coherent' as const), dev, size: cohSize }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('free_coherent' as const), i: idx }) },
      { weight: 6, arbitrary: fc.record({ k: fc.constant('spec_fill' as const), where, target: idx, off, hart }) },
      { weight: 6, arbitrary: fc.record({ k: fc.constant('evict' as const), where, target: idx, off, hart, level: fc.constantFrom('L1' as const, 'L2' as const) }) },
    );
  },
  maxOps: 100,
  swarm: { kinds: COHERENCE_KINDS, kindOf: (op) => (op.k === 'kmalloc_rx' ? 'kmalloc' : op.k) },
  apply(st, op, explain) {
    const m = st.m;
    const G = gfpFlags(m.profile.kernel);
    switch (op.k) {
      case 'kmalloc': {
        const got: string[] = [];
        for (let n = 0; n < op.count; n++) {
          const pa = kmalloc(m.slab, op.size, G.GFP_KERNEL);
          if (pa === null) {
            got.push('NULL');
            break;
          }
          const o: Obj = { id: st.nextId++, pa, va: phys_to_virt(m.init_mm, pa), size: op.size, shadow: mkShadow(op.size, -1), map: null };
          st.objs.push(o);
          if (explain) got.push(`buf#${o.id} = ${hex(o.va)} (phys ${hex(pa)})`);
        }
        return explain ? `kmalloc(${op.size}, GFP_KERNEL) x${op.count}: ${got.join(', ')}` : undefined;
      }
      case 'dirty_pages': {
        // Any kernel user: pages written through the cacheable linear map and freed while their
        // lines are still dirty in the caches; the next allocation of that order gets them back.
        const pfn = alloc_pages(m.mm, G.GFP_KERNEL, op.order);
        if (pfn === null) return explain ? `alloc_pages(GFP_KERNEL, ${op.order}) = NULL` : undefined;
        const bytes = PAGE_SIZE << op.order;
        const pa = BigInt(pfn) << 12n;
        cpuStore(m, op.hart, page_address(m.init_mm, pfn), fill(bytes, op.val));
        touch(st, pa, bytes, st.stored);
        __free_pages(m.mm, pfn, op.order);
        return explain ? `hart${op.hart}: alloc_pages(GFP_KERNEL, ${op.order}) = pfn ${hex(pfn)}, fill with ${hex(op.val)}.., __free_pages` : undefined;
      }
      case 'kmalloc_rx': {
        const base = kmalloc(m.slab, op.hdr + op.size, G.GFP_KERNEL);
        if (base === null) return explain ? `kmalloc(${op.hdr + op.size}, GFP_KERNEL) = NULL` : undefined;
        const mk = (pa: bigint, size: number): Obj => ({ id: st.nextId++, pa, va: phys_to_virt(m.init_mm, pa), size, shadow: mkShadow(size, -1), map: null });
        const hdr = mk(base, op.hdr);
        const rx = mk(base + BigInt(op.hdr), op.size);
        hdr.part = { role: 'hdr', sibling: rx, base };
        rx.part = { role: 'rx', sibling: hdr, base };
        st.objs.push(hdr, rx);
        const line = `kmalloc(${op.hdr + op.size}, GFP_KERNEL) = ${hex(hdr.va)}: header buf#${hdr.id} (${op.hdr} bytes), rx buf#${rx.id} at +${op.hdr}`;
        // Posted to the receive ring straight away, as rx drivers do.
        const dev = rxDevices(m)[0];
        const dma = dma_map_single(m, dev, rx.va, BigInt(rx.size), op.dir);
        if (dma_mapping_error(m, dev, dma) !== 0) return explain ? `${line}; dma_map_single(${dev.name}, buf#${rx.id}) = DMA_MAPPING_ERROR` : undefined;
        rx.map = { dev, dir: op.dir, dma, owner: 'device', cpuDirty: null };
        touch(st, base, op.hdr + op.size);
        return explain ? `${line}; dma_map_single(${dev.name}, buf#${rx.id}, ${rx.size}, ${dmaDirName(op.dir)}) = ${hex(dma)}` : undefined;
      }
      case 'kfree': {
        const free = st.objs.filter((o) => o.map === null);
        const o = pick(free, op.i);
        if (!o) return explain ? '(kfree: no unmapped buffer)' : undefined;
        if (o.part !== undefined) {
          // One allocation: freed once neither half is mapped.
          if (o.part.sibling.map !== null) return explain ? `(kfree: buf#${o.id}'s struct is still mapped)` : undefined;
          kfree(m.slab, o.part.base);
          st.objs = st.objs.filter((x) => x !== o && x !== o.part!.sibling);
          return explain ? `kfree(struct of buf#${o.id} and buf#${o.part.sibling.id})` : undefined;
        }
        kfree(m.slab, o.pa);
        st.objs.splice(st.objs.indexOf(o), 1);
        return explain ? `kfree(buf#${o.id})` : undefined;
      }
      case 'cpu_store': {
        if (op.coh && st.cohs.length > 0) {
          const c = pick(st.cohs, op.target)!;
          const { o, n } = span(c.size, op.off, op.len);
          const data = fill(n, op.val);
          cpuStore(m, op.hart, c.cpu + BigInt(o), data);
          touch(st, dma_to_phys(c.dev, c.dma) + BigInt(o), n);
          touch(st, dma_to_phys(c.dev, c.dma) + BigInt(o), n, st.stored);
          for (let i = 0; i < n; i++) c.shadow[o + i] = data[i];
          return explain ? `hart${op.hart}: store ${n} bytes (${hex(data[0])}..) at coh#${c.id}+${o}` : undefined;
        }
        const near = op.near === true ? sharingLine(st) : [];
        const b = pick(near.length > 0 ? near : cpuOwned(st), op.target);
        if (!b) return explain ? '(cpu_store: no CPU-owned buffer)' : undefined;
        const { o, n } = span(b.size, op.off, op.len);
        const data = fill(n, op.val);
        cpuStore(m, op.hart, b.va + BigInt(o), data);
        if (b.part?.role === 'hdr') noteHeaderStore(b, o, n);
        touch(st, b.pa + BigInt(o), n);
        touch(st, b.pa + BigInt(o), n, st.stored);
        for (let i = 0; i < n; i++) b.shadow[o + i] = data[i];
        if (b.map) {
          b.map.cpuDirty ??= new Uint8Array(b.size);
          b.map.cpuDirty.fill(1, o, o + n);
        }
        return explain ? `hart${op.hart}: store ${n} bytes (${hex(data[0])}..) at buf#${b.id}+${o}` : undefined;
      }
      case 'cpu_load': {
        if (op.coh && st.cohs.length > 0) {
          const c = pick(st.cohs, op.target)!;
          const { o, n } = span(c.size, op.off, op.len);
          const got = cpuLoad(m, op.hart, c.cpu + BigInt(o), n);
          compare(st, `hart${op.hart}`, got, c.shadow, o, `coherent buffer coh#${c.id}`);
          return explain ? `hart${op.hart}: load ${n} bytes at coh#${c.id}+${o} = ${hex(got[0])}..` : undefined;
        }
        const fresh = op.fresh === true ? st.returned.filter((x) => st.objs.includes(x) && (x.map === null || x.map.owner === 'cpu')) : [];
        const b = pick(fresh.length > 0 ? fresh : cpuOwned(st), op.target);
        if (!b) return explain ? '(cpu_load: no CPU-owned buffer)' : undefined;
        const { o, n } = span(b.size, op.off, op.len);
        const got = cpuLoad(m, op.hart, b.va + BigInt(o), n);
        compare(st, `hart${op.hart}`, got, b.shadow, o, `buf#${b.id}`);
        return explain ? `hart${op.hart}: load ${n} bytes at buf#${b.id}+${o} = ${hex(got[0])}..` : undefined;
      }
      case 'map': {
        // The driver never maps a header; it maps the rx buffer behind it only for its own device.
        const free = st.objs.filter((o) => o.map === null && o.part?.role !== 'hdr');
        const b = pick(free, op.i);
        if (!b) return explain ? '(map: no unmapped buffer)' : undefined;
        const devs = b.part?.role === 'rx' ? rxDevices(m) : m.devices;
        const dev = devs[op.dev % devs.length];
        const dma = dma_map_single(m, dev, b.va, BigInt(b.size), op.dir);
        if (dma_mapping_error(m, dev, dma) !== 0) return explain ? `dma_map_single(${dev.name}, buf#${b.id}, ${b.size}, ${dmaDirName(op.dir)}) = DMA_MAPPING_ERROR` : undefined;
        b.map = { dev, dir: op.dir, dma, owner: 'device', cpuDirty: null };
        touch(st, dma_to_phys(dev, dma), b.size);
        touch(st, b.pa, b.size);
        return explain ? `dma_map_single(${dev.name}, buf#${b.id}, ${b.size}, ${dmaDirName(op.dir)}) = ${hex(dma)}` : undefined;
      }
      case 'dev_write': {
        if (op.coh && st.cohs.length > 0) {
          const c = pick(st.cohs, op.target)!;
          const { o, n } = span(c.size, op.off, op.len);
          const data = fill(n, op.val);
          deviceWrite(m, c.dev, c.dma + BigInt(o), data);
          for (let i = 0; i < n; i++) c.shadow[o + i] = data[i];
          return explain ? `${c.dev.name}: write ${n} bytes (${hex(data[0])}..) at coh#${c.id}+${o}` : undefined;
        }
        const mapped = st.objs.filter((o) => o.map && o.map.owner === 'device' && o.map.dir !== DMA_TO_DEVICE);
        const b = pick(mapped, op.target);
        if (!b || !b.map) return explain ? '(dev_write: no device-owned FROM/BIDI mapping)' : undefined;
        const { o, n } = span(b.size, op.off, op.len);
        const data = fill(n, op.val);
        deviceWrite(m, b.map.dev, b.map.dma + BigInt(o), data);
        touch(st, dma_to_phys(b.map.dev, b.map.dma) + BigInt(o), n);
        for (let i = 0; i < n; i++) b.shadow[o + i] = data[i];
        return explain ? `${b.map.dev.name}: DMA write ${n} bytes (${hex(data[0])}..) at buf#${b.id}+${o}` : undefined;
      }
      case 'dev_read': {
        if (op.coh && st.cohs.length > 0) {
          const c = pick(st.cohs, op.target)!;
          const { o, n } = span(c.size, op.off, op.len);
          const got = deviceRead(m, c.dev, c.dma + BigInt(o), n);
          compare(st, c.dev.name, got, c.shadow, o, `coherent buffer coh#${c.id}`);
          return explain ? `${c.dev.name}: read ${n} bytes at coh#${c.id}+${o} = ${hex(got[0])}..` : undefined;
        }
        const mapped = st.objs.filter((o) => o.map && o.map.owner === 'device' && o.map.dir !== DMA_FROM_DEVICE);
        const b = pick(mapped, op.target);
        if (!b || !b.map) return explain ? '(dev_read: no device-owned TO/BIDI mapping)' : undefined;
        const { o, n } = span(b.size, op.off, op.len);
        const got = deviceRead(m, b.map.dev, b.map.dma + BigInt(o), n);
        compare(st, b.map.dev.name, got, b.shadow, o, `buf#${b.id} (mapped ${dmaDirName(b.map.dir)})`);
        return explain ? `${b.map.dev.name}: DMA read ${n} bytes at buf#${b.id}+${o} = ${hex(got[0])}..` : undefined;
      }
      case 'sync_cpu':
      case 'sync_dev': {
        const want = op.k === 'sync_cpu' ? 'device' : 'cpu';
        const b = pick(
          st.objs.filter((o) => o.map && o.map.owner === want),
          op.i,
        );
        if (!b || !b.map) return explain ? `(${op.k}: nothing to sync)` : undefined;
        const fn = op.k === 'sync_cpu' ? dma_sync_single_for_cpu : dma_sync_single_for_device;
        fn(m, b.map.dev, b.map.dma, BigInt(b.size), b.map.dir);
        // A FROM_DEVICE buffer is not copied towards the device (no bounce to the slot, and the
        // device may overwrite it): what the CPU wrote in between is undefined from here on.
        const dirty = b.map.cpuDirty;
        if (op.k === 'sync_dev' && dirty && b.map.dir === DMA_FROM_DEVICE) for (let i = 0; i < b.size; i++) if (dirty[i]) b.shadow[i] = -1;
        // The clean before DMA wrote the header stores back; after DMA they may be dropped.
        if (op.k === 'sync_dev') b.racing = undefined;
        else {
          settleHeader(b);
          handedBack(st, b);
        }
        b.map.owner = op.k === 'sync_cpu' ? 'cpu' : 'device';
        b.map.cpuDirty = null;
        return explain ? `${op.k === 'sync_cpu' ? 'dma_sync_single_for_cpu' : 'dma_sync_single_for_device'}(${b.map.dev.name}, buf#${b.id}, ${dmaDirName(b.map.dir)})` : undefined;
      }
      case 'unmap': {
        const b = pick(
          st.objs.filter((o) => o.map !== null),
          op.i,
        );
        if (!b || !b.map) return explain ? '(unmap: nothing mapped)' : undefined;
        dma_unmap_single(m, b.map.dev, b.map.dma, BigInt(b.size), b.map.dir);
        settleHeader(b);
        if (b.map.owner === 'device') handedBack(st, b);
        const dirty = b.map.cpuDirty;
        if (dirty && b.map.dir !== DMA_TO_DEVICE) for (let i = 0; i < b.size; i++) if (dirty[i]) b.shadow[i] = -1;
        const line = explain ? `dma_unmap_single(${b.map.dev.name}, buf#${b.id}, ${dmaDirName(b.map.dir)})` : undefined;
        b.map = null;
        return line;
      }
      case 'alloc_coherent': {
        const dev = m.devices[op.dev % m.devices.length];
        const h = { dma_handle: 0n };
        const cpu = dma_alloc_coherent(m, dev, BigInt(op.size), h, G.GFP_KERNEL);
        if (cpu === null) return explain ? `dma_alloc_coherent(${dev.name}, ${op.size}, GFP_KERNEL) = NULL` : undefined;
        const c: Coh = { id: st.nextId++, dev, cpu, dma: h.dma_handle, size: op.size, shadow: mkShadow(op.size, 0) };
        st.cohs.push(c);
        touch(st, dma_to_phys(dev, c.dma), c.size);
        checkCoherentPtes(st, c);
        return explain ? `coh#${c.id} = dma_alloc_coherent(${dev.name}, ${op.size}, GFP_KERNEL) = ${hex(cpu)}, dma ${hex(h.dma_handle)}` : undefined;
      }
      case 'free_coherent': {
        const c = pick(st.cohs, op.i);
        if (!c) return explain ? '(no coherent buffer)' : undefined;
        dma_free_coherent(m, c.dev, BigInt(c.size), c.cpu, c.dma);
        st.cohs.splice(st.cohs.indexOf(c), 1);
        return explain ? `dma_free_coherent(${c.dev.name}, coh#${c.id})` : undefined;
      }
      case 'spec_fill':
      case 'evict': {
        // Any line of RAM is reachable through the cacheable linear map, so the hardware may touch it at any time.
        const line = lineTarget(st, op.where, op.target, op.off);
        if (line === null) return explain ? `(${op.k}: no line)` : undefined;
        if (op.k === 'spec_fill') m.caches.speculativeFill(op.hart, line);
        else evictRacing(st, line, () => m.caches.evictLine(op.hart, op.level, line));
        return explain ? `hw: ${op.k === 'spec_fill' ? `speculative fill on hart${op.hart}` : `evict ${op.level} of hart${op.hart}`} of line ${hex(BigInt(line) << 6n)}` : undefined;
      }
    }
  },
  describe(op) {
    return JSON.stringify(op);
  },
  invariants: [
    {
      name: 'no-stale-read',
      description: 'every read by the current owner returns what the owner last wrote (shadow), CPU and device, streaming and coherent',
      check: (st) => st.stale,
    },
    {
      name: 'pte-attributes',
      description:
        "a coherent buffer's CPU mapping keeps its PFN, its permission bits and a non-cacheable type for a non-coherent device, as the hart reads it; at boot, pgprot_noncached/writecombine/dmacoherent change only bits 63:59 and give the type the kernel's table documents",
      check: (st) => st.pte,
    },
  ],
};
