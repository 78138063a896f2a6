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

/** Splits [va, va+len) at page boundaries: each page may map anywhere with any type. */
function pieces(va: bigint, len: number): { va: bigint; off: number; n: number }[] {
  const out: { va: bigint; off: number; n: number }[] = [];
  let done = 0;
  while (done < len) {
    const a = va + BigInt(done);
    const inPage = PAGE_SIZE - Number(a & BigInt(PAGE_SIZE - 1));
    const n = Math.min(inPage, len - done);
    out.push({ va: a, off: done, n });
    done += n;
  }
  return out;
}

export function cpuLoad(m: Machine, hart: number, va: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (const p of pieces(va, len)) {
    const a = translateForHart(m, p.va);
    out.set(a.kind === 'cacheable' ? m.caches.load(hart, a.pa, p.n) : m.mem.read(a.pa, p.n), p.off);
  }
  return out;
}

export function cpuStore(m: Machine, hart: number, va: bigint, data: Uint8Array): void {
  for (const p of pieces(va, data.length)) {
    const a = translateForHart(m, p.va);
    const bytes = data.subarray(p.off, p.off + p.n);
    if (a.kind === 'cacheable') m.caches.store(hart, a.pa, bytes);
    else m.mem.write(a.pa, bytes);
  }
}

/** memset through a kernel virtual address, as kernel code does. */
export function cpuMemset(m: Machine, hart: number, va: bigint, byte: number, len: number): void {
  cpuStore(m, hart, va, new Uint8Array(len).fill(byte));
}
