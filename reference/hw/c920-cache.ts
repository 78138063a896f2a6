// The XuanTie C920/C910 data-cache hierarchy: a private L1 D-cache per hart and
// an L2 per cluster, write-back and write-allocate, L2 inclusive of L1 (spec
// riscv-c920-coherence.md §5.1). Not a kernel file: this is the hardware the
// kernel's cache-maintenance instructions (reference/arch/riscv/cmo.ts) act on.
//
// Why capacity and replacement are not simulated: the caches are sparse (a
// directory from line index to its copies in every L1 and L2; absent = Invalid)
// with unbounded room. A real cache
// evicts when a set fills, under a replacement policy that depends on timing
// and on every other access. Instead, "the hardware evicted this line now" is
// an explicit event (evictLine) that the generated sequence supplies at any
// point. Every eviction a real policy could perform, at any moment, is one of
// those events, so the set of behaviours reachable here contains every
// replacement policy's behaviours (an over-approximation, sound for finding
// stale data). The same holds for hardware prefetch / speculative loads
// (speculativeFill). Nothing here is random.
//
// Coherence among harts (UM §7.3.2: MESI inside a cluster; the SoC keeps the
// clusters coherent): modelled with a single-writer rule instead of MESI
// states. A store first reads the line for ownership (pulling any dirty copy
// elsewhere), then removes every other hart's L1 copy and every other
// cluster's L2 copy, taking over the responsibility to write back a dirty L2
// copy it removed. A load miss asks any other L1 that holds the line dirty to
// write it down to its own L2 (it stays valid there, clean); a cluster whose
// L2 misses copies the line from a dirty L2 of another cluster (that cluster
// stays the owner, like MOESI "O") or else from memory. Invariants kept (see
// checkInvariants): an L1 Dirty line is the only L1 copy and only its own
// cluster's L2 also holds the line; at most one L2 holds a line Dirty and every
// other L2 copy then has the same bytes; an L1 Clean line equals its L2 line.
// Non-shareable pages (not kept coherent by the UM) are not modelled: Linux maps
// all normal memory shareable.
//
// Broadcast: line operations by VA/PA act on the line in every hart's L1 and in
// every L2 (the UM's "shareable" broadcast; cross-cluster reach on SG2042 is
// UNVERIFIED, but mainline relies on it: a DMA sync may run on any hart). The
// L1-only forms (scope 'L1': th.dcache.cval1 / cpal1) write dirty L1 data down
// to the L2 only, never to memory. Whole-cache operations (call/iall/ciall) act
// on the local hart's L1 or one cluster's L2 only.

import { ModelError } from '../types.ts';
import { LINE_BYTES, LINE_SHIFT, type PhysMemory } from '../mm/memory.ts';

export interface CacheGeometry {
  lineBytes: 64;
  clusters: number;
  hartsPerCluster: number;
  l1: { sizeBytes: number; ways: number };
  /** null: no L2 (C906); the L1 then writes straight to memory. */
  l2: { sizeBytes: number; ways: number } | null;
}

/** SG2042: 16 clusters × 4 C920 harts, 64 KiB 2-way L1 D per hart, 1 MiB 16-way L2 per cluster (sg2042-cpus.dtsi). */
export const SG2042_GEOMETRY: CacheGeometry = {
  lineBytes: 64,
  clusters: 16,
  hartsPerCluster: 4,
  l1: { sizeBytes: 64 * 1024, ways: 2 },
  l2: { sizeBytes: 1024 * 1024, ways: 16 },
};

/** Small machine for tests and generated sequences: 2 clusters × 2 harts, C920 cache sizes. */
export const MODEL_GEOMETRY: CacheGeometry = {
  lineBytes: 64,
  clusters: 2,
  hartsPerCluster: 2,
  l1: { sizeBytes: 64 * 1024, ways: 2 },
  l2: { sizeBytes: 1024 * 1024, ways: 16 },
};

/** C906 (D1): one hart, L1 only. Size/ways UNVERIFIED (docs.rs xuantie: 4-way); unused since capacity is not simulated. */
export const C906_GEOMETRY: CacheGeometry = {
  lineBytes: 64,
  clusters: 1,
  hartsPerCluster: 1,
  l1: { sizeBytes: 32 * 1024, ways: 4 },
  l2: null,
};

export type CacheLevel = 'L1' | 'L2';
/** How far a line operation reaches: the L1s only (cval1/cpal1) or L1s and L2s (to memory). */
export type LineOpScope = 'L1' | 'L1L2';
export type LineStateName = 'I' | 'C' | 'D';

export interface CachedLineInfo {
  level: CacheLevel;
  /** Hart index for L1, cluster index for L2. */
  where: number;
  line: number;
  state: 'C' | 'D';
}

interface Line {
  dirty: boolean;
  data: Uint8Array;
}

/**
 * Every cached copy of one line: one slot per hart (L1) and per cluster (L2),
 * null where the line is Invalid. The caches are kept as this directory, keyed
 * by line, rather than a map per cache: a store, fill or broadcast maintenance
 * operation asks about the same line in every cache, which is then one lookup.
 */
interface LineCopies {
  l1: (Line | null)[];
  l2: (Line | null)[];
  /** Valid copies in l1 and l2 together; the entry is removed when it reaches 0. */
  count: number;
}

const LINE_MASK = BigInt(LINE_BYTES - 1);
const SHIFT = BigInt(LINE_SHIFT);

export class C920Caches {
  readonly geometry: CacheGeometry;
  readonly mem: PhysMemory;
  readonly harts: number;
  /** Clusters with an L2: 0 when the geometry has none. */
  private readonly l2Count: number;
  private readonly dir = new Map<number, LineCopies>();
  private copies = 0;
  /** All-Invalid slot arrays that new directory entries copy (slice of a packed array is a memcpy). */
  private readonly noL1: null[];
  private readonly noL2: null[];

  constructor(geometry: CacheGeometry, mem: PhysMemory) {
    if (geometry.lineBytes !== LINE_BYTES) throw new ModelError(`cache line must be ${LINE_BYTES} bytes`);
    if (!(Number.isInteger(geometry.clusters) && geometry.clusters >= 1)) throw new ModelError('clusters must be >= 1');
    if (!(Number.isInteger(geometry.hartsPerCluster) && geometry.hartsPerCluster >= 1)) {
      throw new ModelError('hartsPerCluster must be >= 1');
    }
    this.geometry = geometry;
    this.mem = mem;
    this.harts = geometry.clusters * geometry.hartsPerCluster;
    this.l2Count = geometry.l2 === null ? 0 : geometry.clusters;
    this.noL1 = [];
    for (let h = 0; h < this.harts; h++) this.noL1.push(null);
    this.noL2 = [];
    for (let c = 0; c < this.l2Count; c++) this.noL2.push(null);
  }

  get hasL2(): boolean {
    return this.l2Count > 0;
  }

  clusterOf(hart: number): number {
    this.checkHart(hart);
    return Math.floor(hart / this.geometry.hartsPerCluster);
  }

  // ---- CPU accesses -------------------------------------------------------

  /** Cacheable CPU load of `len` bytes (may span lines); misses allocate Clean lines. */
  load(hart: number, pa: bigint, len: number): Uint8Array {
    this.checkHart(hart);
    const out = new Uint8Array(len);
    let line = Number(pa >> SHIFT);
    let off = Number(pa & LINE_MASK);
    let done = 0;
    while (done < len) {
      const n = Math.min(LINE_BYTES - off, len - done);
      const d = this.fillL1(hart, line, null, 0).data;
      for (let i = 0; i < n; i++) out[done + i] = d[off + i];
      done += n;
      off = 0;
      line++;
    }
    return out;
  }

  /** Cacheable CPU store: write-allocate, the hart's L1 line becomes the only Dirty copy. */
  store(hart: number, pa: bigint, data: Uint8Array): void {
    this.checkHart(hart);
    let line = Number(pa >> SHIFT);
    let off = Number(pa & LINE_MASK);
    let done = 0;
    while (done < data.length) {
      const n = Math.min(LINE_BYTES - off, data.length - done);
      // Read for ownership; a whole-line store gives the L1 its bytes directly instead of copying the L2's first.
      const whole = off === 0 && n === LINE_BYTES;
      const l = this.fillL1(hart, line, whole ? data : null, done);
      this.claimExclusive(hart, line);
      if (!whole) {
        const d = l.data;
        for (let i = 0; i < n; i++) d[off + i] = data[done + i];
      }
      l.dirty = true;
      done += n;
      off = 0;
      line++;
    }
  }

  /**
   * Hardware prefetch or speculative load: the line enters L1 (and L2) Clean if
   * absent, with the same coherence as a load. The caller guarantees the line
   * is mapped cacheable somewhere; the cache cannot know.
   */
  speculativeFill(hart: number, line: number): void {
    this.checkHart(hart);
    this.fillL1(hart, line, null, 0);
  }

  /**
   * The hardware chose to evict `line` from this hart's L1 or its cluster's L2.
   * Clean: dropped. Dirty: written to the next level. An L2 eviction first
   * back-invalidates the cluster's L1 copies (their dirty data goes into the L2
   * line, then to memory). No-op if absent (or no L2 exists).
   */
  evictLine(hart: number, level: CacheLevel, line: number): void {
    this.checkHart(hart);
    const e = this.dir.get(line);
    if (level === 'L1') {
      const l = e?.l1[hart];
      if (e === undefined || l == null) return;
      if (l.dirty) this.writeDownL1(hart, line, l, e);
      this.dropL1(line, e, hart);
      return;
    }
    if (this.l2Count === 0) return;
    const c = this.clusterOf(hart);
    const x = e?.l2[c];
    if (e === undefined || x == null) return;
    this.backInvalidate(c, line, e, x, true);
    if (x.dirty) this.mem.writeLine(line, x.data);
    this.dropL2(line, e, c);
  }

  // ---- line maintenance (broadcast to every L1 and every L2) --------------

  /** Write back dirty copies; they stay valid. 'L1': L1 data goes to L2 only. */
  cleanLine(hart: number, line: number, scope: LineOpScope): void {
    this.checkHart(hart);
    const e = this.dir.get(line);
    if (e === undefined) return;
    for (let g = 0; g < this.harts; g++) {
      const l = e.l1[g];
      if (l !== null && l.dirty) {
        this.writeDownL1(g, line, l, e);
        l.dirty = false;
      }
    }
    if (scope === 'L1') return;
    for (let c = 0; c < this.l2Count; c++) {
      const x = e.l2[c];
      if (x !== null && x.dirty) {
        this.mem.writeLine(line, x.data);
        x.dirty = false;
      }
    }
  }

  /** Drop every copy without write-back: dirty data is lost. */
  invalLine(hart: number, line: number, scope: LineOpScope): void {
    this.checkHart(hart);
    const e = this.dir.get(line);
    if (e === undefined) return;
    for (let g = 0; g < this.harts; g++) if (e.l1[g] !== null) this.dropL1(line, e, g);
    if (scope === 'L1') return;
    for (let c = 0; c < this.l2Count; c++) if (e.l2[c] !== null) this.dropL2(line, e, c);
  }

  /** Clean then invalidate. 'L1': dirty L1 data lands in the L2, which keeps the line. */
  flushLine(hart: number, line: number, scope: LineOpScope): void {
    this.checkHart(hart);
    const e = this.dir.get(line);
    if (e === undefined) return;
    for (let g = 0; g < this.harts; g++) {
      const l = e.l1[g];
      if (l === null) continue;
      if (l.dirty) this.writeDownL1(g, line, l, e);
      this.dropL1(line, e, g);
    }
    if (scope === 'L1') return;
    for (let c = 0; c < this.l2Count; c++) {
      const x = e.l2[c];
      if (x === null) continue;
      if (x.dirty) this.mem.writeLine(line, x.data);
      this.dropL2(line, e, c);
    }
  }

  // ---- whole-cache maintenance (local hart / one cluster) -----------------
  // These walk the whole directory: they are rare, and it holds only the lines a sequence touched.

  /** th.dcache.call: dirty L1 lines of this hart written down (to L2), all stay valid. */
  l1CleanAll(hart: number): void {
    this.checkHart(hart);
    for (const [line, e] of this.dir) {
      const l = e.l1[hart];
      if (l !== null && l.dirty) {
        this.writeDownL1(hart, line, l, e);
        l.dirty = false;
      }
    }
  }

  /** th.dcache.iall: this hart's L1 emptied, dirty data lost. */
  l1InvalAll(hart: number): void {
    this.checkHart(hart);
    for (const [line, e] of this.dir) if (e.l1[hart] !== null) this.dropL1(line, e, hart);
  }

  /** th.dcache.ciall: this hart's L1 written down and emptied. */
  l1FlushAll(hart: number): void {
    this.checkHart(hart);
    for (const [line, e] of this.dir) {
      const l = e.l1[hart];
      if (l === null) continue;
      if (l.dirty) this.writeDownL1(hart, line, l, e);
      this.dropL1(line, e, hart);
    }
  }

  /**
   * th.l2cache.call: the cluster's dirty L2 lines go to memory and stay valid.
   * Acts on the L2 only: newer dirty data still in an L1 is not included
   * (UNVERIFIED whether hardware cleans L1 first; callers run dcache.call first).
   */
  l2CleanAll(cluster: number): void {
    if (this.l2Count === 0) return; // no L2: the instruction is a NOP
    this.checkCluster(cluster);
    for (const [line, e] of this.dir) {
      const x = e.l2[cluster];
      if (x !== null && x.dirty) {
        this.mem.writeLine(line, x.data);
        x.dirty = false;
      }
    }
  }

  /** th.l2cache.iall: the cluster's L2 and (inclusivity) its L1s emptied, dirty data lost. */
  l2InvalAll(cluster: number): void {
    if (this.l2Count === 0) return;
    this.checkCluster(cluster);
    for (const g of this.hartsOf(cluster)) this.l1InvalAll(g);
    for (const [line, e] of this.dir) if (e.l2[cluster] !== null) this.dropL2(line, e, cluster);
  }

  /** th.l2cache.ciall: L1s of the cluster written into the L2, then the L2 to memory; all emptied. */
  l2FlushAll(cluster: number): void {
    if (this.l2Count === 0) return;
    this.checkCluster(cluster);
    for (const g of this.hartsOf(cluster)) this.l1FlushAll(g);
    for (const [line, e] of this.dir) {
      const x = e.l2[cluster];
      if (x === null) continue;
      if (x.dirty) this.mem.writeLine(line, x.data);
      this.dropL2(line, e, cluster);
    }
  }

  // ---- coherent (snooping) device ----------------------------------------

  /**
   * A snooping device's read: the newest value anywhere (a dirty L1, else a
   * dirty L2, else memory). No cache state changes: the owner keeps its dirty
   * line, which is one legal snoop response and keeps the most dirty data alive.
   */
  snoopRead(pa: bigint, len: number): Uint8Array {
    const out = this.mem.read(pa, len);
    let line = Number(pa >> SHIFT);
    let off = Number(pa & LINE_MASK);
    let done = 0;
    while (done < len) {
      const n = Math.min(LINE_BYTES - off, len - done);
      const d = this.newestDirty(line);
      if (d !== null) out.set(d.subarray(off, off + n), done);
      done += n;
      off = 0;
      line++;
    }
    return out;
  }

  /**
   * A snooping device's write: every cached copy of each touched line is first
   * written back and invalidated (so CPU bytes outside the device's range
   * survive in a partially written line), then memory takes the device's bytes.
   * Later CPU loads miss and see them.
   */
  snoopWrite(pa: bigint, data: Uint8Array): void {
    let line = Number(pa >> SHIFT);
    const last = Number((pa + BigInt(Math.max(data.length, 1) - 1)) >> SHIFT);
    if (data.length > 0) for (; line <= last; line++) this.flushLine(0, line, 'L1L2');
    this.mem.write(pa, data);
  }

  // ---- inspection ---------------------------------------------------------

  /** State of `line` in hart `where`'s L1 or cluster `where`'s L2. */
  lineState(where: number, level: CacheLevel, line: number): LineStateName {
    const l = this.copyAt(where, level, line);
    return l === null ? 'I' : l.dirty ? 'D' : 'C';
  }

  /** A copy of the line's cached bytes, or null if Invalid there. */
  lineBytes(where: number, level: CacheLevel, line: number): Uint8Array | null {
    const l = this.copyAt(where, level, line);
    return l === null ? null : l.data.slice();
  }

  *cachedLines(): IterableIterator<CachedLineInfo> {
    for (let h = 0; h < this.harts; h++) {
      for (const [line, e] of this.dir) {
        const l = e.l1[h];
        if (l !== null) yield { level: 'L1', where: h, line, state: l.dirty ? 'D' : 'C' };
      }
    }
    for (let c = 0; c < this.l2Count; c++) {
      for (const [line, e] of this.dir) {
        const x = e.l2[c];
        if (x !== null) yield { level: 'L2', where: c, line, state: x.dirty ? 'D' : 'C' };
      }
    }
  }

  /** Whether any cache holds any line in [first, end): lets range maintenance skip what cannot change anything. */
  hasLineInRange(first: number, end: number): boolean {
    return this.nextLineInRange(first, end) >= 0;
  }

  /** The lowest line in [first, end) that any cache holds, or -1: range maintenance jumps over the rest. */
  nextLineInRange(first: number, end: number): number {
    const held = this.dir.size;
    if (held === 0 || end <= first) return -1;
    if (held < end - first) {
      let best = -1;
      for (const line of this.dir.keys()) if (line >= first && line < end && (best < 0 || line < best)) best = line;
      return best;
    }
    for (let l = first; l < end; l++) if (this.dir.has(l)) return l;
    return -1;
  }

  /** Valid lines held in all caches (the model's cost follows this, not the cache sizes). */
  get lineCount(): number {
    return this.copies;
  }

  /** The model's own invariants (inclusivity, single writer, copy agreement, directory counts); a message or null. */
  checkInvariants(): string | null {
    let total = 0;
    for (const [line, e] of this.dir) {
      let n = 0;
      for (let h = 0; h < this.harts; h++) {
        const l = e.l1[h];
        if (l === null) continue;
        n++;
        const c = Math.floor(h / this.geometry.hartsPerCluster);
        const x = this.l2Count > 0 ? e.l2[c] : null;
        if (this.l2Count > 0 && x === null) return `L1 of hart ${h} holds line ${line} absent from L2 ${c}`;
        if (!l.dirty && x !== null && !sameBytes(l.data, x.data)) return `clean L1 line ${line} of hart ${h} differs from L2 ${c}`;
        if (!l.dirty) continue;
        for (let g = 0; g < this.harts; g++) {
          if (g !== h && e.l1[g] !== null) return `line ${line} dirty in hart ${h} but also cached by hart ${g}`;
        }
        for (let d = 0; d < this.l2Count; d++) {
          if (d !== c && e.l2[d] !== null) return `line ${line} dirty in hart ${h} but also in L2 ${d}`;
        }
      }
      for (let c = 0; c < this.l2Count; c++) {
        const x = e.l2[c];
        if (x === null) continue;
        n++;
        if (!x.dirty) continue;
        for (let d = 0; d < this.l2Count; d++) {
          const y = e.l2[d];
          if (d === c || y === null) continue;
          if (y.dirty) return `line ${line} dirty in L2 ${c} and L2 ${d}`;
          if (!sameBytes(x.data, y.data)) return `line ${line} in L2 ${d} differs from its dirty owner L2 ${c}`;
        }
      }
      if (n === 0 || n !== e.count) return `directory entry of line ${line} counts ${e.count} copies, holds ${n}`;
      total += n;
    }
    if (total !== this.copies) return `directory counts ${this.copies} copies, holds ${total}`;
    return null;
  }

  // ---- internals ----------------------------------------------------------

  private checkHart(h: number): void {
    if (!(Number.isInteger(h) && h >= 0 && h < this.harts)) throw new ModelError(`no hart ${h}`);
  }

  private checkCluster(c: number): void {
    if (!(Number.isInteger(c) && c >= 0 && c < this.geometry.clusters)) throw new ModelError(`no cluster ${c}`);
  }

  private hartsOf(cluster: number): number[] {
    const k = this.geometry.hartsPerCluster;
    const out: number[] = [];
    for (let g = cluster * k; g < (cluster + 1) * k; g++) out.push(g);
    return out;
  }

  /** The copy in hart `where`'s L1 or cluster `where`'s L2 (null: Invalid, or no L2 exists). */
  private copyAt(where: number, level: CacheLevel, line: number): Line | null {
    if (level === 'L1') this.checkHart(where);
    else if (this.l2Count === 0) return null;
    else this.checkCluster(where);
    const e = this.dir.get(line);
    if (e === undefined) return null;
    return level === 'L1' ? e.l1[where] : e.l2[where];
  }

  private entryFor(line: number): LineCopies {
    let e = this.dir.get(line);
    if (e === undefined) {
      e = { l1: this.noL1.slice() as (Line | null)[], l2: this.noL2.slice() as (Line | null)[], count: 0 };
      this.dir.set(line, e);
    }
    return e;
  }

  private dropL1(line: number, e: LineCopies, hart: number): void {
    e.l1[hart] = null;
    this.dropped(line, e);
  }

  private dropL2(line: number, e: LineCopies, cluster: number): void {
    e.l2[cluster] = null;
    this.dropped(line, e);
  }

  private dropped(line: number, e: LineCopies): void {
    this.copies--;
    if (--e.count === 0) this.dir.delete(line);
  }

  /**
   * The hart's L1 line, allocated Clean on a miss with the coherent value. With
   * `whole` (a store about to overwrite the line): the line holds whole[from..from+64)
   * instead, the caller makes it Dirty; the L2 below is filled as on any miss.
   */
  private fillL1(hart: number, line: number, whole: Uint8Array | null, from: number): Line {
    const found = this.dir.get(line);
    const have = found === undefined ? null : found.l1[hart];
    if (have !== null) {
      if (whole !== null) for (let i = 0; i < LINE_BYTES; i++) have.data[i] = whole[from + i];
      return have;
    }
    // A dirty copy in another L1 (at most one) is written down to its next level first.
    if (found !== undefined) {
      for (let g = 0; g < this.harts; g++) {
        const o = found.l1[g];
        if (g !== hart && o !== null && o.dirty) {
          this.writeDownL1(g, line, o, found);
          o.dirty = false;
        }
      }
    }
    let data: Uint8Array | null = null;
    let e = found;
    if (this.l2Count === 0) data = this.mem.readLine(line);
    else {
      const c = Math.floor(hart / this.geometry.hartsPerCluster);
      let x = e === undefined ? null : e.l2[c];
      if (x === null) {
        let src: Uint8Array | null = null;
        if (e !== undefined) {
          for (let d = 0; d < this.l2Count; d++) {
            const y = e.l2[d];
            if (y !== null && y.dirty) {
              src = y.data.slice();
              break;
            }
          }
        }
        // readLine may refuse (outside RAM): no entry is made before it succeeds.
        x = { dirty: false, data: src ?? this.mem.readLine(line) };
        e ??= this.entryFor(line);
        e.l2[c] = x;
        e.count++;
        this.copies++;
      }
      if (whole === null) data = x.data.slice();
    }
    if (whole !== null) {
      data ??= new Uint8Array(LINE_BYTES);
      for (let i = 0; i < LINE_BYTES; i++) data[i] = whole[from + i];
    }
    e ??= this.entryFor(line);
    const l: Line = { dirty: false, data: data! };
    e.l1[hart] = l;
    e.count++;
    this.copies++;
    return l;
  }

  /** After fillL1: remove every other copy so this hart is the single writer. */
  private claimExclusive(hart: number, line: number): void {
    const e = this.dir.get(line)!;
    for (let g = 0; g < this.harts; g++) if (g !== hart && e.l1[g] !== null) this.dropL1(line, e, g);
    if (this.l2Count === 0) return;
    const c = Math.floor(hart / this.geometry.hartsPerCluster);
    const own = e.l2[c];
    for (let d = 0; d < this.l2Count; d++) {
      const y = e.l2[d];
      if (d === c || y === null) continue;
      // Our copy came from this owner, so only the write-back duty moves.
      if (y.dirty && own !== null) own.dirty = true;
      this.dropL2(line, e, d);
    }
  }

  /** Dirty L1 data to the next level: the cluster's L2 line (inclusive, so present) or memory. */
  private writeDownL1(hart: number, line: number, l: Line, e: LineCopies): void {
    if (this.l2Count === 0) {
      this.mem.writeLine(line, l.data);
      return;
    }
    const c = Math.floor(hart / this.geometry.hartsPerCluster);
    const x = e.l2[c];
    if (x === null) throw new ModelError(`inclusivity broken: line ${line} in L1 of hart ${hart} but not in L2 ${c}`);
    x.data.set(l.data);
    x.dirty = true;
  }

  /** Remove the cluster's L1 copies of an L2 line; with writeBack their dirty bytes go into it first. */
  private backInvalidate(cluster: number, line: number, e: LineCopies, x: Line, writeBack: boolean): void {
    const k = this.geometry.hartsPerCluster;
    for (let g = cluster * k; g < (cluster + 1) * k; g++) {
      const l = e.l1[g];
      if (l === null) continue;
      if (writeBack && l.dirty) {
        x.data.set(l.data);
        x.dirty = true;
      }
      this.dropL1(line, e, g);
    }
  }

  private newestDirty(line: number): Uint8Array | null {
    const e = this.dir.get(line);
    if (e === undefined) return null;
    for (let g = 0; g < this.harts; g++) {
      const l = e.l1[g];
      if (l !== null && l.dirty) return l.data;
    }
    for (let c = 0; c < this.l2Count; c++) {
      const x = e.l2[c];
      if (x !== null && x.dirty) return x.data;
    }
    return null;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
