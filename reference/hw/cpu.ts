// A hart's loads and stores: every access takes a virtual address, walks the
// page table and obeys the memory type the hart reads from the PTE. Cacheable
// goes through the caches; NC and IO go straight to memory and do not look up
// the cache, which is what makes two aliases with different types dangerous.

import type { Machine } from '../system.ts';
import { hartMemoryType, walkPageTable, type MemKind } from '../arch/riscv/pgtable.ts';
import { KernelBug, PAGE_SIZE, hex } from '../types.ts';

export interface Access {
  pa: bigint;
  kind: MemKind;
}

/** Translates one byte address as the hart would; a fault is a kernel oops on a kernel address. */
export function translateForHart(m: Machine, va: bigint): Access {
  const t = walkPageTable(m.init_mm, va);
  if (t === null) throw new KernelBug(`Unable to handle kernel paging request at virtual address ${hex(va)}`);
  const mt = hartMemoryType(t.pte, m.hart);
  if (mt.fault !== undefined) throw new KernelBug(`page fault at ${hex(va)}: PTE ${hex(t.pte)} (${mt.fault})`);
  return { pa: t.pa, kind: mt.kind };
}

// Accesses are split at page boundaries: each page may map anywhere with any type.
const PAGE_MASK = BigInt(PAGE_SIZE - 1);

/** Bytes from `a` to the end of its page, at most `left`. */
function pieceLength(a: bigint, left: number): number {
  return Math.min(PAGE_SIZE - Number(a & PAGE_MASK), left);
}

export function cpuLoad(m: Machine, hart: number, va: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let done = 0; done < len; ) {
    const v = va + BigInt(done);
    const n = pieceLength(v, len - done);
    const a = translateForHart(m, v);
    out.set(a.kind === 'cacheable' ? m.caches.load(hart, a.pa, n) : m.mem.read(a.pa, n), done);
    done += n;
  }
  return out;
}

export function cpuStore(m: Machine, hart: number, va: bigint, data: Uint8Array): void {
  for (let done = 0; done < data.length; ) {
    const v = va + BigInt(done);
    const n = pieceLength(v, data.length - done);
    const a = translateForHart(m, v);
    const bytes = data.subarray(done, done + n);
    if (a.kind === 'cacheable') m.caches.store(hart, a.pa, bytes);
    else m.mem.write(a.pa, bytes);
    done += n;
  }
}

/** memset through a kernel virtual address, as kernel code does. */
export function cpuMemset(m: Machine, hart: number, va: bigint, byte: number, len: number): void {
  // Page by page from one read-only page of the byte: zeroing a 64 KiB buffer made a 64 KiB array.
  const src = memsetPage(byte);
  for (let done = 0; done < len; ) {
    const v = va + BigInt(done);
    const n = pieceLength(v, len - done);
    cpuStore(m, hart, v, src.subarray(0, n));
    done += n;
  }
}

const memsetPages = new Map<number, Uint8Array>();
/** A page of `byte`, made once (never written: stores copy out of it). */
function memsetPage(byte: number): Uint8Array {
  const b = byte & 0xff;
  let p = memsetPages.get(b);
  if (p === undefined) {
    p = new Uint8Array(PAGE_SIZE).fill(b);
    memsetPages.set(b, p);
  }
  return p;
}
