// CONFIG_DMA_API_DEBUG against a driver that knows what it did wrong. The
// driver runs the legal life cycle (kmalloc, map + dma_mapping_error, syncs in
// the mapped direction, unmap with the mapped size and direction, coherent
// alloc/free) and, now and then, commits one protocol violation on purpose.
// Each operation states which err_printk ids it must cause; after every one
// the new reports must be exactly that multiset. Misuse goes through the real
// DMA API, so each one is chosen so that what the kernel does beyond the
// checker (cache maintenance, swiotlb slot release, page freeing) is harmless
// and the model's bookkeeping stays in step with the checker's hash.
//
// Expected reports (check ids of reference/kernel/dma/debug.ts):
//   legal op                              none
//   unmap of a mapping never checked      map-error-not-checked (also beside every
//                                         other report of an unmap of it: check_unmap
//                                         finds the entry, reports each mismatch, then
//                                         the unchecked error, then removes the entry)
//   map_unchecked                         none now; its unmap reports later
//   unmap_unmapped                        unmap-not-mapped
//   unmap_wrong_size                      unmap-size-mismatch (entry removed)
//   unmap_wrong_dir                       unmap-dir-mismatch (entry removed)
//   double_unmap                          unmap-not-mapped (the first unmap is legal)
//   sync_unmapped                         sync-not-mapped
//   sync_wrong_dir (mapping not BIDI:     sync-dir-mismatch, plus
//     check_sync skips BIDI entirely)       sync-dir-to-device-for-cpu for a TO_DEVICE
//                                           mapping synced for the CPU, or
//                                           sync-dir-from-device-for-device for a
//                                           FROM_DEVICE mapping synced for the device
//   free_coherent_wrong_size              unmap-size-mismatch (check_unmap, entry removed)
//   overlap_map (a second FROM/BIDI       cacheline-overlap on 6.6 unless
//     mapping starting inside the first     m.bounceUnalignedKmalloc (then silenced);
//     line of a tracked mapping)            none on 5.10 (the EEXIST is a TODO there)
// Besides the reports, the number of live debug entries must equal the
// model's live mappings plus coherent buffers after every operation.
// Swarm treats all misuse kinds as one group, so about one sequence in five is
// legal throughout. Legal partial syncs start within 4 KiB of the mapping and
// mappings stay below 20000 bytes: 5.10's bucket_find_contain looks only
// max_seg_size (64 KiB) below the address, so a legal partial sync deeper into
// a larger mapping gets a false sync-not-mapped there (fixed in v6.0).

import fc from 'fast-check';
import type { Harness } from '../harness.ts';
import { pick } from '../resolve.ts';
import type { Profile } from '../../reference/config/profile.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { kfree, kmalloc } from '../../reference/mm/slab.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { phys_to_virt } from '../../reference/arch/riscv/pgtable.ts';
import { dma_alloc_coherent, dma_free_coherent, dma_map_single, dma_unmap_single } from '../../reference/include/linux/dma-mapping.ts';
import { dma_mapping_error, dma_sync_single_for_cpu, dma_sync_single_for_device } from '../../reference/kernel/dma/mapping.ts';
import { dma_to_phys, phys_to_dma } from '../../reference/include/linux/dma-direct.ts';
import { DMA_MAPPING_ERROR } from '../../reference/include/linux/dma-mapping-attrs.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, dmaDirName } from '../../reference/include/linux/dma-direction.ts';
import { is_swiotlb_buffer } from '../../reference/kernel/dma/swiotlb.ts';
import { dmaDebugCreate, debugDmaOutstanding, type DmaDebugState } from '../../reference/kernel/dma/debug.ts';
import { ModelError, hex } from '../../reference/types.ts';

const DIRS = [DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL] as const;
/** swiotlb slot size: a wrong unmap size stays within the slots the map took (5.10 frees by size). */
const IO_TLB_SIZE = 2048;
/** A wrong coherent free size stays within the pages of the allocation (dma_direct_free frees get_order(size)). */
const PAGE_BYTES = 4096;

export const DMA_DEBUG_LEGAL_KINDS = ['kmalloc', 'kfree', 'map', 'check_late', 'sync', 'unmap', 'alloc_coherent', 'free_coherent'] as const;
export const DMA_DEBUG_MISUSE_KINDS = [
  'map_unchecked',
  'unmap_unmapped',
  'unmap_wrong_size',
  'unmap_wrong_dir',
  'double_unmap',
  'sync_unmapped',
  'sync_wrong_dir',
  'free_coherent_wrong_size',
  'overlap_map',
] as const;
type MisuseKind = (typeof DMA_DEBUG_MISUSE_KINDS)[number];
/** Swarm groups: every legal kind alone, and all misuse as one group, so about one run in eight is legal throughout. */
const SWARM_KINDS = [...DMA_DEBUG_LEGAL_KINDS, 'misuse'] as const;

export type DmaDebugOp =
  | { k: 'kmalloc'; size: number; count: number }
  | { k: 'kfree'; i: number }
  | { k: 'map'; i: number; dev: number; dir: number }
  | { k: 'check_late'; i: number }
  | { k: 'sync'; i: number; toCpu: boolean; off: number; len: number }
  | { k: 'unmap'; i: number }
  | { k: 'alloc_coherent'; dev: number; size: number }
  | { k: 'free_coherent'; i: number }
  | { k: 'map_unchecked'; i: number; dev: number; dir: number }
  | { k: 'unmap_unmapped'; i: number; dev: number; dir: number }
  | { k: 'unmap_wrong_size'; i: number; pick: number }
  | { k: 'unmap_wrong_dir'; i: number; pick: number }
  | { k: 'double_unmap'; i: number }
  | { k: 'sync_unmapped'; i: number; dev: number; dir: number; toCpu: boolean }
  | { k: 'sync_wrong_dir'; i: number; toCpu: boolean; pick: number }
  | { k: 'free_coherent_wrong_size'; i: number; pick: number }
  | { k: 'overlap_map'; i: number; dev: number; dir: number; pick: number }
  /** Final op: unmap, free and kfree everything the legal way. */
  | { k: 'cleanup' };

interface Buf {
  id: number;
  pa: bigint;
  va: bigint;
  size: number;
  /** Live streaming mappings of this buffer (2 only after overlap_map). */
  maps: number;
}

interface Mapping {
  id: number;
  buf: Buf;
  /** The mapped range inside the buffer: all of it, except the second mapping of overlap_map. */
  off: number;
  len: number;
  dev: device;
  dir: number;
  dma: bigint;
  /** dma_mapping_error() was called on it (map_unchecked leaves it false). */
  checked: boolean;
}

interface Coh {
  id: number;
  dev: device;
  cpu: bigint;
  dma: bigint;
  size: number;
  /** False for per-device coherent memory: dma_alloc_attrs returns before the debug hook (spec §2.1 step 4). */
  tracked: boolean;
}

export interface DmaDebugHarnessState {
  m: Machine;
  dbg: DmaDebugState;
  bufs: Buf[];
  maps: Mapping[];
  cohs: Coh[];
  nextId: number;
  /** Reports already compared. */
  seen: number;
  violation: string | null;
}

/** A size other than `size` that needs the same number of `granule`-sized blocks; null if there is none. */
export function sameGranuleSize(size: number, p: number, granule: number): number | null {
  const blocks = Math.ceil(size / granule);
  const lo = (blocks - 1) * granule + 1;
  const hi = blocks * granule;
  if (hi - lo < 1) return null;
  const n = lo + (p % (hi - lo));
  return n >= size ? n + 1 : n;
}

function otherDir(dir: number, p: number): number {
  const others = DIRS.filter((d) => d !== dir);
  return others[p % others.length];
}

function devName(d: device): string {
  return d.name;
}

function unmapExpect(mp: Mapping): string[] {
  return mp.checked ? [] : ['map-error-not-checked'];
}

function dropMapping(st: DmaDebugHarnessState, mp: Mapping): void {
  st.maps.splice(st.maps.indexOf(mp), 1);
  mp.buf.maps -= 1;
}

function isBounced(m: Machine, mp: Mapping): boolean {
  return m.io_tlb !== null && is_swiotlb_buffer(m.io_tlb, dma_to_phys(mp.dev, mp.dma));
}

function sortedEq(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

/** Compares the reports since the last operation with what this one expects, and the live entry count. */
function settle(st: DmaDebugHarnessState, what: string, expect: readonly string[]): string {
  const fresh = st.dbg.reports.slice(st.seen);
  st.seen = st.dbg.reports.length;
  const got = fresh.map((r) => r.check);
  if (st.violation === null && !sortedEq(got, expect)) {
    const missing = expect.filter((e) => !got.includes(e));
    const extra = fresh.filter((r) => !expect.includes(r.check));
    const parts = [`${what}: expected [${expect.join(', ')}], the checker reported [${got.join(', ')}]`];
    if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
    for (const r of extra) parts.push(`unexpected ${r.check} (${r.fn}: ${r.message})`);
    st.violation = parts.join('; ');
  }
  const live = debugDmaOutstanding(st.dbg);
  const want = st.maps.length + st.cohs.filter((c) => c.tracked).length;
  if (st.violation === null && live !== want) {
    st.violation = `${what}: the checker holds ${live} live entries, the driver has ${st.maps.length} mappings and ${st.cohs.length} coherent buffers`;
  }
  return got.length === 0 ? '' : `  -> reports [${got.join(', ')}]`;
}

function mapDesc(mp: Mapping): string {
  const at = mp.off === 0 ? '' : `+${mp.off}`;
  return `map#${mp.id} (buf#${mp.buf.id}${at}, ${devName(mp.dev)}, ${mp.len}, ${dmaDirName(mp.dir)}, dma ${hex(mp.dma)}${mp.checked ? '' : ', unchecked'})`;
}

/** Buffers no device has mapped (the only ones a driver may kfree, map afresh, or use as "never mapped" addresses). */
function unmappedBufs(st: DmaDebugHarnessState): Buf[] {
  return st.bufs.filter((b) => b.maps === 0);
}

/** dma_map_single, with or without the driver's dma_mapping_error check. */
function doMap(st: DmaDebugHarnessState, b: Buf, dev: device, dir: number, check: boolean, off = 0): { mp: Mapping | null; line: string } {
  const len = b.size - off;
  const dma = dma_map_single(st.m, dev, b.va + BigInt(off), BigInt(len), dir);
  // The model knows whether the map failed without asking dma_mapping_error (an unchecked driver would not).
  const failed = check ? dma_mapping_error(st.m, dev, dma) !== 0 : dma === DMA_MAPPING_ERROR;
  const call = `dma_map_single(${devName(dev)}, buf#${b.id}${off === 0 ? '' : `+${off}`}, ${len}, ${dmaDirName(dir)})`;
  if (failed) return { mp: null, line: `${call} = DMA_MAPPING_ERROR` };
  const mp: Mapping = { id: st.nextId++, buf: b, off, len, dev, dir, dma, checked: check };
  st.maps.push(mp);
  b.maps += 1;
  return { mp, line: `${call} = ${hex(dma)}${check ? ', dma_mapping_error = 0' : ' (never checked)'} -> map#${mp.id}` };
}

function legalUnmap(st: DmaDebugHarnessState, mp: Mapping): string[] {
  dma_unmap_single(st.m, mp.dev, mp.dma, BigInt(mp.len), mp.dir);
  dropMapping(st, mp);
  return unmapExpect(mp);
}

/** One debug-enabled Profile object per profile, so buildMachine's boot image is reused across sequences. */
const debugProfiles = new WeakMap<Profile, Profile>();
function withDmaApiDebug(profile: Profile): Profile {
  let d = debugProfiles.get(profile);
  if (d === undefined) debugProfiles.set(profile, (d = { ...profile, kconfig: { ...profile.kconfig, CONFIG_DMA_API_DEBUG: true } }));
  return d;
}

export const dmaDebugHarness: Harness<DmaDebugHarnessState, DmaDebugOp> = {
  name: 'dma-debug',
  appliesTo: (p) => p.devices.length > 0,
  setup(profile: Profile) {
    const m = buildMachine(withDmaApiDebug(profile));
    if (m.debug === null) throw new ModelError('dma-debug: CONFIG_DMA_API_DEBUG did not create the checker');
    // buildMachine creates the checker without the profile's faults; nothing is mapped at boot,
    // so a fresh one that honours them is the same checker.
    if (m.debug.faults !== m.faults) m.debug = dmaDebugCreate(profile.kernel, { faults: m.faults });
    return { m, dbg: m.debug, bufs: [], maps: [], cohs: [], nextId: 0, seen: 0, violation: null };
  },
  ops(profile) {
    const idx = fc.nat({ max: 3 });
    const dev = fc.nat({ max: Math.max(0, profile.devices.length - 1) });
    const dir = fc.constantFrom(...DIRS);
    const p = fc.nat({ max: 4095 });
    // Small sizes share cache lines on 6.6 (8-byte kmalloc alignment) and bounce; large ones span slots and pages.
    const kmallocSize = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(8, 16, 24, 32, 64, 96, 128, 192, 256, 1500, 2048, 4096) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 3000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 8193, max: 20000 }) },
    );
    const cohSize = fc.oneof(
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 9000 }) },
      { weight: 1, arbitrary: fc.constantFrom(4096, 8192, 12288, 16384) },
    );
    const partial = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4096 }) });
    return fc.oneof(
      { weight: 5, arbitrary: fc.record({ k: fc.constant('kmalloc' as const), size: kmallocSize, count: fc.integer({ min: 1, max: 3 }) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('kfree' as const), i: idx }) },
      { weight: 6, arbitrary: fc.record({ k: fc.constant('map' as const), i: idx, dev, dir }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('check_late' as const), i: idx }) },
      { weight: 4, arbitrary: fc.record({ k: fc.constant('sync' as const), i: idx, toCpu: fc.boolean(), off: p, len: partial }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('unmap' as const), i: idx }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('alloc_coherent' as const), dev, size: cohSize }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('free_coherent' as const), i: idx }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('map_unchecked' as const), i: idx, dev, dir }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('unmap_unmapped' as const), i: idx, dev, dir }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('unmap_wrong_size' as const), i: idx, pick: p }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('unmap_wrong_dir' as const), i: idx, pick: p }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('double_unmap' as const), i: idx }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('sync_unmapped' as const), i: idx, dev, dir, toCpu: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('sync_wrong_dir' as const), i: idx, toCpu: fc.boolean(), pick: p }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('free_coherent_wrong_size' as const), i: idx, pick: p }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('overlap_map' as const), i: idx, dev, dir: fc.constantFrom(DMA_FROM_DEVICE, DMA_BIDIRECTIONAL), pick: p }) },
    );
  },
  maxOps: 60,
  swarm: {
    kinds: SWARM_KINDS,
    kindOf: (op) => (isMisuse(op) ? 'misuse' : op.k),
  },
  finalOps: () => [{ k: 'cleanup' }],
  apply(st, op, explain) {
    const m = st.m;
    const G = gfpFlags(m.profile.kernel);
    let expect: string[] = [];
    let line: string;
    switch (op.k) {
      case 'kmalloc': {
        const got: string[] = [];
        for (let n = 0; n < op.count; n++) {
          const pa = kmalloc(m.slab, op.size, G.GFP_KERNEL);
          if (pa === null) {
            got.push('NULL');
            break;
          }
          const b: Buf = { id: st.nextId++, pa, va: phys_to_virt(m.init_mm, pa), size: op.size, maps: 0 };
          st.bufs.push(b);
          got.push(`buf#${b.id} = phys ${hex(pa)}`);
        }
        line = `kmalloc(${op.size}, GFP_KERNEL) x${op.count}: ${got.join(', ')}`;
        break;
      }
      case 'kfree': {
        const b = pick(unmappedBufs(st), op.i);
        if (!b) {
          line = '(kfree: no unmapped buffer)';
          break;
        }
        kfree(m.slab, b.pa);
        st.bufs.splice(st.bufs.indexOf(b), 1);
        line = `kfree(buf#${b.id})`;
        break;
      }
      case 'map':
      case 'map_unchecked': {
        const b = pick(unmappedBufs(st), op.i);
        if (!b) {
          line = `(${op.k}: no unmapped buffer)`;
          break;
        }
        line = doMap(st, b, m.devices[op.dev % m.devices.length], op.dir, op.k === 'map').line;
        break;
      }
      case 'check_late': {
        // Checking late is still checking: the entry becomes CHECKED and its unmap is clean.
        const mp = pick(st.maps, op.i);
        if (!mp) {
          line = '(check_late: nothing mapped)';
          break;
        }
        const r = dma_mapping_error(m, mp.dev, mp.dma);
        mp.checked = true;
        line = `dma_mapping_error(${devName(mp.dev)}, map#${mp.id}) = ${r}`;
        break;
      }
      case 'sync': {
        const mp = pick(st.maps, op.i);
        if (!mp) {
          line = '(sync: nothing mapped)';
          break;
        }
        // A partial sync (offset + length inside the mapping) is legal; op.len 0 syncs the whole mapping.
        // ... but only where one mapping covers the buffer: a partial sync inside two overlapping
        // mappings of one device matches both imperfectly, and __hash_bucket_find then returns none.
        const size = mp.len;
        const whole = op.len === 0 || mp.buf.maps > 1;
        const off = whole ? 0 : op.off % size;
        const len = whole ? size : 1 + ((op.len - 1) % (size - off));
        const fn = op.toCpu ? dma_sync_single_for_cpu : dma_sync_single_for_device;
        fn(m, mp.dev, mp.dma + BigInt(off), BigInt(len), mp.dir);
        line = `dma_sync_single_for_${op.toCpu ? 'cpu' : 'device'}(${mapDesc(mp)} +${off}, ${len})`;
        break;
      }
      case 'unmap': {
        const mp = pick(st.maps, op.i);
        if (!mp) {
          line = '(unmap: nothing mapped)';
          break;
        }
        line = `dma_unmap_single(${mapDesc(mp)})`;
        expect = legalUnmap(st, mp);
        break;
      }
      case 'alloc_coherent': {
        const dev = m.devices[op.dev % m.devices.length];
        const h = { dma_handle: 0n };
        const cpu = dma_alloc_coherent(m, dev, BigInt(op.size), h, G.GFP_KERNEL);
        if (cpu === null) {
          line = `dma_alloc_coherent(${devName(dev)}, ${op.size}) = NULL`;
          break;
        }
        const c: Coh = { id: st.nextId++, dev, cpu, dma: h.dma_handle, size: op.size, tracked: dev.dma_mem === null };
        st.cohs.push(c);
        line = `coh#${c.id} = dma_alloc_coherent(${devName(dev)}, ${op.size}) = ${hex(cpu)}, dma ${hex(c.dma)}`;
        break;
      }
      case 'free_coherent':
      case 'free_coherent_wrong_size': {
        const c = pick(st.cohs, op.i);
        if (!c) {
          line = `(${op.k}: no coherent buffer)`;
          break;
        }
        // Same page count, so dma_direct_free releases exactly the allocation either way.
        const size = op.k === 'free_coherent' ? c.size : (sameGranuleSize(c.size, op.pick, PAGE_BYTES) ?? c.size);
        dma_free_coherent(m, c.dev, BigInt(size), c.cpu, c.dma);
        st.cohs.splice(st.cohs.indexOf(c), 1);
        if (size !== c.size && c.tracked) expect = ['unmap-size-mismatch'];
        line = `dma_free_coherent(${devName(c.dev)}, ${size}, coh#${c.id} of ${c.size})`;
        break;
      }
      case 'unmap_unmapped':
      case 'sync_unmapped': {
        // The bus address a buffer no device maps would have: no live entry is at it or covers it
        // (kmalloc objects are disjoint; bounced mappings live in the swiotlb pool), and the
        // kernel only does cache maintenance there.
        const b = pick(unmappedBufs(st), op.i);
        if (!b) {
          line = `(${op.k}: no unmapped buffer)`;
          break;
        }
        const dev = m.devices[op.dev % m.devices.length];
        const addr = phys_to_dma(dev, b.pa);
        if (addr === DMA_MAPPING_ERROR) {
          // Outside the device's dma-ranges window: no bus address to misuse.
          line = `(${op.k}: buf#${b.id} is outside ${devName(dev)}'s dma-ranges)`;
          break;
        }
        if (op.k === 'unmap_unmapped') {
          dma_unmap_single(m, dev, addr, BigInt(b.size), op.dir);
          expect = ['unmap-not-mapped'];
          line = `dma_unmap_single(${devName(dev)}, ${hex(addr)} = unmapped buf#${b.id}, ${b.size}, ${dmaDirName(op.dir)})`;
        } else {
          (op.toCpu ? dma_sync_single_for_cpu : dma_sync_single_for_device)(m, dev, addr, BigInt(b.size), op.dir);
          expect = ['sync-not-mapped'];
          line = `dma_sync_single_for_${op.toCpu ? 'cpu' : 'device'}(${devName(dev)}, ${hex(addr)} = unmapped buf#${b.id}, ${b.size}, ${dmaDirName(op.dir)})`;
        }
        break;
      }
      case 'unmap_wrong_size': {
        const mp = pick(st.maps, op.i);
        if (!mp) {
          line = '(unmap_wrong_size: nothing mapped)';
          break;
        }
        // Within the swiotlb slots of the mapping: 5.10 frees as many slots as the unmap size asks.
        const size = sameGranuleSize(mp.len, op.pick, IO_TLB_SIZE)!;
        line = `dma_unmap_single(${mapDesc(mp)} with size ${size})`;
        dma_unmap_single(m, mp.dev, mp.dma, BigInt(size), mp.dir);
        // check_unmap reports and still removes the entry (and the kernel frees the mapping).
        dropMapping(st, mp);
        expect = ['unmap-size-mismatch', ...unmapExpect(mp)];
        break;
      }
      case 'unmap_wrong_dir': {
        const mp = pick(st.maps, op.i);
        if (!mp) {
          line = '(unmap_wrong_dir: nothing mapped)';
          break;
        }
        const dir = otherDir(mp.dir, op.pick);
        line = `dma_unmap_single(${mapDesc(mp)} with ${dmaDirName(dir)})`;
        dma_unmap_single(m, mp.dev, mp.dma, BigInt(mp.len), dir);
        dropMapping(st, mp);
        expect = ['unmap-dir-mismatch', ...unmapExpect(mp)];
        break;
      }
      case 'double_unmap': {
        // 5.10 frees swiotlb slots by size even when they are free already (io_tlb_used goes
        // wrong), so a bounced mapping is unmapped twice only on 6.6, which frees what the slot
        // records (nothing). Back to back, so nothing can take the address in between.
        const cands = m.profile.kernel === '5.10' ? st.maps.filter((x) => !isBounced(m, x)) : st.maps;
        const mp = pick(cands, op.i);
        if (!mp) {
          line = '(double_unmap: nothing suitable mapped)';
          break;
        }
        line = `dma_unmap_single(${mapDesc(mp)}) twice`;
        expect = legalUnmap(st, mp);
        dma_unmap_single(m, mp.dev, mp.dma, BigInt(mp.len), mp.dir);
        expect.push('unmap-not-mapped');
        break;
      }
      case 'sync_wrong_dir': {
        // check_sync does no direction checks at all on a BIDIRECTIONAL entry. One mapping per
        // buffer: with a wrong direction, two overlapping entries both match imperfectly (see sync).
        const mp = pick(
          st.maps.filter((x) => x.dir !== DMA_BIDIRECTIONAL && x.buf.maps === 1),
          op.i,
        );
        if (!mp) {
          line = '(sync_wrong_dir: no TO/FROM_DEVICE mapping)';
          break;
        }
        const dir = otherDir(mp.dir, op.pick);
        (op.toCpu ? dma_sync_single_for_cpu : dma_sync_single_for_device)(m, mp.dev, mp.dma, BigInt(mp.len), dir);
        expect = ['sync-dir-mismatch'];
        // The kernel's direction rules: the CPU must not take back a buffer the device only read
        // with a direction that implies it wrote, nor hand the device a buffer it only writes as if it read it.
        if (op.toCpu && mp.dir === DMA_TO_DEVICE) expect.push('sync-dir-to-device-for-cpu');
        if (!op.toCpu && mp.dir === DMA_FROM_DEVICE) expect.push('sync-dir-from-device-for-device');
        line = `dma_sync_single_for_${op.toCpu ? 'cpu' : 'device'}(${mapDesc(mp)} with ${dmaDirName(dir)})`;
        break;
      }
      case 'overlap_map': {
        // A second device-writable mapping that starts inside the first cache line of a mapping
        // the checker tracks (a TO_DEVICE first mapping is not tracked): the rest of the buffer
        // from `off`, by either device. A different start keeps (device, address) keys apart.
        const mp = pick(
          st.maps.filter((x) => x.off === 0 && x.dir !== DMA_TO_DEVICE && x.buf.maps === 1 && x.buf.size > 1 && Number(x.buf.pa & 63n) < 63),
          op.i,
        );
        if (!mp) {
          line = '(overlap_map: no tracked mapping with room in its first line)';
          break;
        }
        const room = Math.min(63 - Number(mp.buf.pa & 63n), mp.buf.size - 1);
        const off = 1 + (op.pick % room);
        const r = doMap(st, mp.buf, m.devices[op.dev % m.devices.length], op.dir, true, off);
        line = `overlapping: ${r.line}`;
        // 5.10 leaves the EEXIST unreported; 6.6 silences it when small kmalloc buffers may bounce.
        if (r.mp !== null && m.profile.kernel === '6.6' && !m.bounceUnalignedKmalloc) expect = ['cacheline-overlap'];
        break;
      }
      case 'cleanup': {
        for (const mp of [...st.maps]) expect.push(...legalUnmap(st, mp));
        for (const c of st.cohs) dma_free_coherent(m, c.dev, BigInt(c.size), c.cpu, c.dma);
        st.cohs = [];
        for (const b of st.bufs) kfree(m.slab, b.pa);
        st.bufs = [];
        line = 'cleanup: unmap every mapping, free every coherent buffer, kfree every buffer';
        break;
      }
    }
    const rep = settle(st, line, expect);
    return explain ? line + rep : undefined;
  },
  describe(op) {
    return JSON.stringify(op);
  },
  invariants: [
    {
      name: 'debug-agreement',
      description:
        'CONFIG_DMA_API_DEBUG reports exactly the protocol violations the driver commits (each with its check id) and nothing for legal use; its live entries match the driver',
      check: (st) => st.violation,
    },
  ],
};

/** Whether an op is one of the deliberate violations. */
export function isMisuse(op: DmaDebugOp): boolean {
  return (DMA_DEBUG_MISUSE_KINDS as readonly string[]).includes(op.k as MisuseKind);
}
