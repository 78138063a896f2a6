// include/linux/slab.h + mm/slab_common.c + mm/slub.c (5.10, 6.6) details the
// StrykerJS sample of the mm chunk found unpinned: kmalloc_index with a
// KMALLOC_MIN_SIZE of 32 or 128, create_boot_cache's natural alignment, no
// dma-kmalloc caches without CONFIG_ZONE_DMA, the slab tail past the last object,
// and the model's refusal of PFN 0 and of bad sizes / configurations.
// bench/mutation-equivalents.md lists the survivors no test can kill.
import { describe, expect, it } from 'vitest';
import type { KernelVersion } from '../../reference/config/profile.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { buildMm, type MmConfig } from '../../reference/mm/page_alloc.ts';
import {
  kfree,
  kmalloc,
  kmallocCaches,
  kmallocCreate,
  kmallocMinalign,
  kmalloc_index,
  ksize,
  type KmallocState,
  type SlabConfig,
} from '../../reference/mm/slab.ts';
import { KernelBug, ModelError, PAGE_SIZE } from '../../reference/types.ts';

const MiB = 1n << 20n;

/** 64 MiB of DRAM at `base`, nothing reserved, ZONE_DMA32 only. */
function mmAt(kernel: KernelVersion, base: bigint): MmConfig {
  return {
    kernel,
    memory: [{ base, size: 64n * MiB }],
    reserved: [],
    CONFIG_ZONE_DMA: false,
    CONFIG_ZONE_DMA32: true,
    zoneDmaBits: 24,
    faults: new Set(),
  };
}

/** Mainline 5.10 riscv: ARCH_KMALLOC_MINALIGN 8, no ARCH_DMA_MINALIGN (kmalloc-96 and -192 exist). */
const main510: SlabConfig = { kernel: '5.10', ARCH_KMALLOC_MINALIGN: 8, ARCH_DMA_MINALIGN: null, faults: new Set() };

function main510At(base = 0x8000_0000n): KmallocState {
  return kmallocCreate(buildMm(mmAt('5.10', base)), main510);
}

describe('kmalloc_index (include/linux/slab.h, 5.10 and 6.6)', () => {
  // "if (KMALLOC_MIN_SIZE <= 32 && size > 64 && size <= 96) return 1;
  //  if (KMALLOC_MIN_SIZE <= 64 && size > 128 && size <= 192) return 2;"
  it('a KMALLOC_MIN_SIZE of exactly 32 still has kmalloc-96', () => {
    const v510: SlabConfig = { kernel: '5.10', ARCH_KMALLOC_MINALIGN: 32, ARCH_DMA_MINALIGN: 32, faults: new Set() };
    const v66: SlabConfig = { kernel: '6.6', ARCH_KMALLOC_MINALIGN: 32, ARCH_DMA_MINALIGN: 32, faults: new Set() };
    for (const cfg of [v510, v66]) {
      expect(kmalloc_index(80, cfg)).toBe(1);
      expect(kmalloc_index(150, cfg)).toBe(2);
    }
  });

  it('a KMALLOC_MIN_SIZE of 128 has no kmalloc-192: 129..192 go to kmalloc-256', () => {
    const cfg: SlabConfig = { kernel: '6.6', ARCH_KMALLOC_MINALIGN: 128, ARCH_DMA_MINALIGN: 128, faults: new Set() };
    expect(kmalloc_index(150, cfg)).toBe(8);
    expect(kmalloc_index(80, cfg)).toBe(7);
  });

  it('a negative or fractional size is a model misuse, never an index', () => {
    expect(() => kmalloc_index(-1, main510)).toThrow(ModelError);
    expect(() => kmalloc_index(1.5, main510)).toThrow(ModelError);
  });
});

describe('kmalloc cache configuration checks', () => {
  it('a dma_cache_alignment that is not a power of two is refused', () => {
    const cfg: SlabConfig = { kernel: '6.6', ARCH_KMALLOC_MINALIGN: 8, ARCH_DMA_MINALIGN: 64, dma_cache_alignment: 48, faults: new Set() };
    expect(() => kmallocMinalign(cfg)).toThrow(ModelError);
  });
});

describe('create_kmalloc_caches / create_boot_cache (mm/slab_common.c)', () => {
  it('natural alignment for power-of-two sizes only: kmalloc-64 aligned 64, kmalloc-96 and -192 keep ARCH_KMALLOC_MINALIGN', () => {
    const st = main510At();
    const align = Object.fromEntries(kmallocCaches(st).map((c) => [c.name, c.align]));
    expect(align['kmalloc-8']).toBe(8);
    expect(align['kmalloc-64']).toBe(64);
    expect(align['kmalloc-96']).toBe(8);
    expect(align['kmalloc-192']).toBe(8);
    expect(align['kmalloc-8k']).toBe(8192);
  });

  it('no dma-kmalloc-* caches without CONFIG_ZONE_DMA', () => {
    expect(kmallocCaches(main510At(), 'KMALLOC_DMA')).toEqual([]);
  });
});

describe('the slab tail past the last object (mm/slub.c)', () => {
  // kmalloc-96: 4096 / 96 = 42 objects, the 64 bytes from 42 * 96 on belong to none.
  it('kfree of the tail is not an object start; ksize of it is a misuse; ksize of object 1 is the stride', () => {
    const st = main510At();
    const G = gfpFlags('5.10');
    const p = kmalloc(st, 90, G.GFP_KERNEL)!;
    const q = kmalloc(st, 90, G.GFP_KERNEL)!;
    expect(q).toBe(p + 96n);
    expect(ksize(st, q)).toBe(96);
    expect(() => kfree(st, p + 42n * 96n)).toThrow(KernelBug);
    expect(() => ksize(st, p + 42n * 96n)).toThrow(ModelError);
  });
});

describe('PFN 0 (PA 0 is NULL, 16 is ZERO_SIZE_PTR in the model)', () => {
  it('a slab page or a large kmalloc at PFN 0 is refused instead of returning a NULL-looking pointer', () => {
    const G = gfpFlags('5.10');
    // Nothing reserved at 0: the first page handed out is PFN 0.
    expect(() => kmalloc(main510At(0n), 64, G.GFP_KERNEL)).toThrow(ModelError);
    expect(() => kmalloc(main510At(0n), 3 * PAGE_SIZE, G.GFP_KERNEL)).toThrow(ModelError);
  });
});
