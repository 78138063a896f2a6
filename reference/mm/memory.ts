// Sparse physical memory: only 64-byte lines that were written exist. Untouched
// RAM reads the poison byte, never zero, so "was it zeroed?" is observable.
// Not a kernel file: the DRAM behind the memory controller.

import type { MemoryRange } from '../config/profile.ts';
import { ModelError, hex } from '../types.ts';

export const LINE_SHIFT = 6;
export const LINE_BYTES = 1 << LINE_SHIFT;
export const POISON = 0xa5;

const LINE_SHIFT_N = BigInt(LINE_SHIFT);
const LINE_MASK_N = BigInt(LINE_BYTES - 1);

export function lineOf(pa: bigint): number {
  return Number(pa >> LINE_SHIFT_N);
}

export function lineBase(line: number): bigint {
  return BigInt(line) << LINE_SHIFT_N;
}

export class PhysMemory {
  private readonly lines = new Map<number, Uint8Array>();
  /** Line ranges [first, end) that read as zero until written (boot-time memsets), so they cost nothing. */
  private readonly zeroed: { first: number; end: number }[] = [];
  readonly banks: readonly MemoryRange[];

  private readonly lineBanks: ReadonlyArray<readonly [number, number]>;

  constructor(banks: readonly MemoryRange[]) {
    this.banks = banks;
    // Whole lines inside a bank (a bank edge off a line boundary falls back to isRam).
    this.lineBanks = banks.map((b) => [Number((b.base + BigInt(LINE_BYTES - 1)) >> LINE_SHIFT_N), Number((b.base + b.size) >> LINE_SHIFT_N)] as const);
  }

  isRam(pa: bigint, len = 1n): boolean {
    for (const b of this.banks) {
      if (pa >= b.base && pa + len <= b.base + b.size) return true;
    }
    return false;
  }

  /** What every byte of an absent line holds: zero inside a boot-zeroed range, else poison. */
  private absentByte(line: number): number {
    this.check(line);
    for (const z of this.zeroed) if (line >= z.first && line < z.end) return 0;
    return POISON;
  }

  /** A new copy of what an absent line holds. */
  private fresh(line: number): Uint8Array {
    const b = this.absentByte(line);
    const l = new Uint8Array(LINE_BYTES);
    return b === 0 ? l : l.fill(b);
  }

  /** Zero whole lines [pa, pa+len) without materialising them (memblock_alloc's memset at boot). */
  zeroLines(pa: bigint, len: bigint): void {
    if ((pa | len) & BigInt(LINE_BYTES - 1)) throw new ModelError('zeroLines needs line-aligned ranges');
    const first = lineOf(pa);
    const end = lineOf(pa + len);
    if (this.lines.size > 0) for (let l = first; l < end; l++) this.lines.delete(l);
    this.zeroed.push({ first, end });
  }

  private check(line: number): void {
    // Hot (every absent line read): the banks in line numbers, exact below 2^53 lines.
    for (const [first, end] of this.lineBanks) if (line >= first && line < end) return;
    if (!this.isRam(lineBase(line), BigInt(LINE_BYTES))) {
      throw new ModelError(`physical access outside RAM at ${hex(lineBase(line))}`);
    }
  }

  /** The line's current bytes (a copy); poison if never written. */
  readLine(line: number): Uint8Array {
    const l = this.lines.get(line);
    if (l !== undefined) return l.slice();
    return this.fresh(line);
  }

  /** Write `data` (64 bytes) as the line's content; `mask` limits which bytes change. */
  writeLine(line: number, data: Uint8Array, mask?: readonly boolean[]): void {
    let l = this.lines.get(line);
    if (l === undefined) {
      l = this.fresh(line);
      this.lines.set(line, l);
    }
    const n = Math.min(LINE_BYTES, data.length);
    if (mask === undefined) for (let i = 0; i < n; i++) l[i] = data[i];
    else for (let i = 0; i < LINE_BYTES; i++) if (mask[i]) l[i] = data[i];
  }

  // read/write walk lines as numbers after one bigint split, and copy bytes in
  // plain loops: both run for every device access, a subarray per line cost more.
  read(pa: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let line = lineOf(pa);
    let off = Number(pa & LINE_MASK_N);
    for (let done = 0; done < len; line++, off = 0) {
      const n = Math.min(LINE_BYTES - off, len - done);
      const l = this.lines.get(line);
      if (l !== undefined) for (let i = 0; i < n; i++) out[done + i] = l[off + i];
      else {
        // Reads of untouched RAM are the common case (zero checks of fresh buffers): no line is made.
        const b = this.absentByte(line);
        if (b !== 0) out.fill(b, done, done + n);
      }
      done += n;
    }
    return out;
  }

  write(pa: bigint, data: Uint8Array): void {
    let line = lineOf(pa);
    let off = Number(pa & LINE_MASK_N);
    for (let done = 0; done < data.length; line++, off = 0) {
      const n = Math.min(LINE_BYTES - off, data.length - done);
      let l = this.lines.get(line);
      if (l === undefined) {
        // A whole-line write needs no poison fill first, only the RAM check.
        if (n === LINE_BYTES) {
          this.check(line);
          l = new Uint8Array(LINE_BYTES);
        } else l = this.fresh(line);
        this.lines.set(line, l);
      }
      for (let i = 0; i < n; i++) l[off + i] = data[done + i];
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
