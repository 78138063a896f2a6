// Sparse physical memory: only 64-byte lines that were written exist. Untouched
// RAM reads the poison byte, never zero, so "was it zeroed?" is observable.
// Not a kernel file: the DRAM behind the memory controller.

import type { MemoryRange } from '../config/profile.ts';
import { ModelError, hex } from '../types.ts';

export const LINE_SHIFT = 6;
export const LINE_BYTES = 1 << LINE_SHIFT;
export const POISON = 0xa5;

export function lineOf(pa: bigint): number {
  return Number(pa >> BigInt(LINE_SHIFT));
}

export function lineBase(line: number): bigint {
  return BigInt(line) << BigInt(LINE_SHIFT);
}

export class PhysMemory {
  private readonly lines = new Map<number, Uint8Array>();
  readonly banks: readonly MemoryRange[];

  constructor(banks: readonly MemoryRange[]) {
    this.banks = banks;
  }

  isRam(pa: bigint, len = 1n): boolean {
    for (const b of this.banks) {
      if (pa >= b.base && pa + len <= b.base + b.size) return true;
    }
    return false;
  }

  private check(line: number): void {
    if (!this.isRam(lineBase(line), BigInt(LINE_BYTES))) {
      throw new ModelError(`physical access outside RAM at ${hex(lineBase(line))}`);
    }
  }

  /** The line's current bytes (a copy); poison if never written. */
  readLine(line: number): Uint8Array {
    const l = this.lines.get(line);
    if (l !== undefined) return l.slice();
    this.check(line);
    return new Uint8Array(LINE_BYTES).fill(POISON);
  }

  /** Write `data` (64 bytes) as the line's content; `mask` limits which bytes change. */
  writeLine(line: number, data: Uint8Array, mask?: readonly boolean[]): void {
    let l = this.lines.get(line);
    if (l === undefined) {
      this.check(line);
      l = new Uint8Array(LINE_BYTES).fill(POISON);
      this.lines.set(line, l);
    }
    if (mask === undefined) l.set(data.subarray(0, LINE_BYTES));
    else for (let i = 0; i < LINE_BYTES; i++) if (mask[i]) l[i] = data[i];
  }

  read(pa: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = pa + BigInt(done);
      const line = lineOf(a);
      const off = Number(a & BigInt(LINE_BYTES - 1));
      const n = Math.min(LINE_BYTES - off, len - done);
      const l = this.lines.get(line);
      if (l !== undefined) out.set(l.subarray(off, off + n), done);
      else {
        this.check(line);
        out.fill(POISON, done, done + n);
      }
      done += n;
    }
    return out;
  }

  write(pa: bigint, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const a = pa + BigInt(done);
      const line = lineOf(a);
      const off = Number(a & BigInt(LINE_BYTES - 1));
      const n = Math.min(LINE_BYTES - off, data.length - done);
      let l = this.lines.get(line);
      if (l === undefined) {
        this.check(line);
        l = new Uint8Array(LINE_BYTES).fill(POISON);
        this.lines.set(line, l);
      }
      l.set(data.subarray(done, done + n), off);
      done += n;
    }
  }

  fill(pa: bigint, len: number, byte: number): void {
    this.write(pa, new Uint8Array(len).fill(byte));
  }

  /** Lines that exist (cost follows the work, not the declared RAM). */
  get touchedLines(): number {
    return this.lines.size;
  }
}
