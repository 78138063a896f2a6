// Addresses up to 2^56 and 64-bit masks must be exact: a double would round them.
import { describe, expect, it } from 'vitest';
import { DMA_BIT_MASK, get_order, min_not_zero, PAGE_ALIGN, PFN_PHYS, PHYS_PFN, roundup_pow_of_two, U64_MAX } from '../../reference/types.ts';
import { gen_pool_add_virt, gen_pool_alloc, gen_pool_create, gen_pool_virt_to_phys } from '../../reference/lib/genalloc.ts';
import { PhysMemory, POISON } from '../../reference/mm/memory.ts';
import { fcSettingsFromEnv, numRunsFor } from '../../properties/settings.ts';

describe('exact 64-bit arithmetic', () => {
  it('DMA_BIT_MASK(64) is all ones and DMA_BIT_MASK(n) = 2^n - 1', () => {
    expect(DMA_BIT_MASK(64)).toBe(0xffff_ffff_ffff_ffffn);
    expect(DMA_BIT_MASK(64)).toBe(U64_MAX);
    expect(DMA_BIT_MASK(56)).toBe((1n << 56n) - 1n);
    expect(DMA_BIT_MASK(32)).toBe(0xffff_ffffn);
    expect(DMA_BIT_MASK(0)).toBe(0n);
    expect(() => DMA_BIT_MASK(65)).toThrow(/0\.\.64/);
    // the same value as a double is not exact: this is why the model uses bigint
    expect(Number(DMA_BIT_MASK(64)) === Number(DMA_BIT_MASK(64) - 1n)).toBe(true);
  });

  it('min_not_zero treats 0 as "no limit"', () => {
    expect(min_not_zero(0n, DMA_BIT_MASK(32))).toBe(DMA_BIT_MASK(32));
    expect(min_not_zero(DMA_BIT_MASK(64), 0n)).toBe(DMA_BIT_MASK(64));
    expect(min_not_zero(DMA_BIT_MASK(64), DMA_BIT_MASK(40))).toBe(DMA_BIT_MASK(40));
  });

  it('PFNs of 2^56 addresses round-trip through number', () => {
    const top = (1n << 56n) - 4096n;
    expect(PFN_PHYS(PHYS_PFN(top))).toBe(top);
    expect(PAGE_ALIGN((1n << 56n) - 4095n)).toBe(1n << 56n);
  });

  it('get_order and roundup_pow_of_two follow the kernel', () => {
    expect(get_order(1)).toBe(0);
    expect(get_order(4096)).toBe(0);
    expect(get_order(4097)).toBe(1);
    expect(get_order(4n << 20n)).toBe(10);
    expect(get_order(0)).toBe(52);
    expect(roundup_pow_of_two(3)).toBe(4);
    expect(roundup_pow_of_two(1)).toBe(1);
    expect(roundup_pow_of_two(1024)).toBe(1024);
  });

  it('gen_pool_virt_to_phys is exact for physical addresses near 2^56', () => {
    const pool = gen_pool_create(12, -1)!;
    const phys = (1n << 56n) - (1n << 20n) + 4096n;
    expect(gen_pool_add_virt(pool, 0xffff_ffc8_0000_1000n, phys, 1n << 16n, -1)).toBe(0);
    gen_pool_alloc(pool, 4096n);
    const a = gen_pool_alloc(pool, 4096n);
    expect(a).toBe(0xffff_ffc8_0000_2000n);
    expect(gen_pool_virt_to_phys(pool, a + 7n)).toBe(phys + 4096n + 7n);
  });

  it('sparse memory near 2^56 reads poison until written, then the bytes', () => {
    const mem = new PhysMemory([{ base: (1n << 56n) - (1n << 30n), size: 1n << 30n }]);
    const pa = (1n << 56n) - 64n;
    expect([...mem.read(pa, 4)]).toEqual([POISON, POISON, POISON, POISON]);
    mem.write(pa + 1n, new Uint8Array([1, 2]));
    expect([...mem.read(pa, 4)]).toEqual([POISON, 1, 2, POISON]);
    expect(mem.touchedLines).toBe(1);
    expect(() => mem.read(1n << 56n, 1)).toThrow(/outside RAM/);
  });
});

describe('fast-check settings from the environment', () => {
  it('reads FC_SEED and FC_NUM_RUNS, pins the seed under Stryker', () => {
    expect(fcSettingsFromEnv({ FC_SEED: '42' })).toEqual({ seed: 42 });
    expect(fcSettingsFromEnv({ FC_NUM_RUNS: '5' })).toEqual({ numRuns: 5 });
    expect(fcSettingsFromEnv({ STRYKER_MUTATOR_WORKER: '1' })).toEqual({ seed: 0x5eed, numRuns: 30 });
    expect(numRunsFor(1000, {})).toBe(1000);
    expect(numRunsFor(1000, { FC_NUM_RUNS: '77' })).toBe(77);
    expect(numRunsFor(1000, { STRYKER_MUTATOR_WORKER: '0' })).toBe(30);
    expect(() => numRunsFor(1000, { FC_NUM_RUNS: 'x' })).toThrow(/integer/);
  });
});
