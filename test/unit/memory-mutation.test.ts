// The physical memory model (reference/mm/memory.ts: bank edges, boot-time
// zeroing over lines already written) and mm/memblock.c's merging of nested
// reservations (5.10, 6.6), as the StrykerJS sample of the mm chunk left them.
// bench/mutation-equivalents.md lists the survivors no test can kill.
import { describe, expect, it } from 'vitest';
import { PhysMemory, POISON } from '../../reference/mm/memory.ts';
import { memblockFreePfnRanges } from '../../reference/mm/memblock.ts';
import { PAGE_SIZE } from '../../reference/types.ts';

const BASE = 0x8000_0000n;
const PAGE = BigInt(PAGE_SIZE);

describe('PhysMemory.isRam at the bank edges', () => {
  it('the first and the last byte of a bank are RAM, one byte outside is not', () => {
    const mem = new PhysMemory([{ base: BASE, size: 0x10_0000n }]);
    expect(mem.isRam(BASE)).toBe(true);
    expect(mem.isRam(BASE, 0x10_0000n)).toBe(true); // the whole bank
    expect(mem.isRam(BASE + 0xf_ffffn)).toBe(true);
    expect(mem.isRam(BASE - 1n)).toBe(false);
    expect(mem.isRam(BASE, 0x10_0001n)).toBe(false);
  });
});

describe('PhysMemory.zeroLines over lines already written', () => {
  it('written lines inside the range read zero afterwards; the line just past it keeps its bytes', () => {
    const mem = new PhysMemory([{ base: BASE, size: 0x10_0000n }]);
    mem.fill(BASE + 0x1000n, 64, 7); // first line of the range
    mem.fill(BASE + 0x1fc0n, 64, 8); // last line of the range
    mem.fill(BASE + 0x2000n, 64, 9); // first line past it
    mem.zeroLines(BASE + 0x1000n, 0x1000n);
    expect(Array.from(mem.read(BASE + 0x1000n, 2))).toEqual([0, 0]);
    expect(Array.from(mem.read(BASE + 0x1ffen, 4))).toEqual([0, 0, 9, 9]);
    expect(Array.from(mem.read(BASE + 0xfffn, 1))).toEqual([POISON]);
  });
});

describe('memblock: a reservation inside another (for_each_free_mem_range)', () => {
  it('the inner one does not shorten the outer one: merged, the outer end stands', () => {
    const memory = [{ base: BASE, size: 16n * PAGE }];
    // [0, 8) pages reserved, and again [2, 3) inside it (e.g. a DT node inside the kernel image).
    const reserved = [
      { base: BASE, size: 8n * PAGE },
      { base: BASE + 2n * PAGE, size: PAGE },
    ];
    const pfn0 = Number(BASE / PAGE);
    expect(memblockFreePfnRanges(memory, reserved)).toEqual([{ start: pfn0 + 8, end: pfn0 + 16 }]);
  });
});
