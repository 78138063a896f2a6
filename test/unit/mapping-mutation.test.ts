// reference/kernel/dma/mapping.ts: exact outcomes that StrykerJS showed no other test
// pins down (bench/mutation-equivalents.md lists the survivors that cannot be killed).
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../reference/system.ts';
import {
  dma_addressing_limited,
  dma_alloc_attrs,
  dma_set_coherent_mask,
  dmam_match,
  get_dma_ops,
} from '../../reference/kernel/dma/mapping.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { DMA_BIT_MASK } from '../../reference/types.ts';
import { machine, dev } from '../support/machines.ts';

describe('get_dma_ops', () => {
  it('CONFIG_DMA_OPS with no dev->dma_ops: NULL, so the direct path', () => {
    const m = machine('c920-sg2042-6.6', { CONFIG_DMA_OPS: true });
    expect(get_dma_ops(m, dev(m, 'sdhci0'))).toBeNull();
  });
});

describe('dma_alloc_attrs', () => {
  it('a failed allocation records nothing in dma-debug and returns NULL (with and without CONFIG_DMA_API_DEBUG)', () => {
    for (const debug of [false, true]) {
      const m = machine('c920-sg2042-6.6', { CONFIG_DMA_API_DEBUG: debug });
      expect(m.debug !== null).toBe(debug);
      const cpu = dma_alloc_attrs(m, dev(m, 'dwmac0'), 1n << 40n, { dma_handle: 0n }, gfpFlags('6.6').GFP_KERNEL, 0);
      expect(cpu).toBeNull();
    }
  });
});

describe('dma_set_coherent_mask', () => {
  it('a mask that cannot reach RAM: -EIO and the old mask stays', () => {
    const m = machine('board-1g-6.6');
    const d = dev(m, 'sdhci0');
    const old = d.coherent_dma_mask;
    expect(dma_set_coherent_mask(m, d, DMA_BIT_MASK(16))).toBe(-5);
    expect(d.coherent_dma_mask).toBe(old);
  });
});

describe('dma_addressing_limited', () => {
  it('a mask exactly equal to the required mask is not limited', () => {
    const m = machine('board-1g-6.6'); // RAM ends below 4 GiB: required mask 32 bits
    expect(dma_addressing_limited(m, dev(m, 'sdhci0'))).toBe(false);
  });
});

describe('dmam_match', () => {
  it('same vaddr and size but another handle: WARN, still a match', () => {
    const m = machine('board-1g-6.6');
    const d = dev(m, 'sdhci0');
    const a = { size: 4096n, vaddr: 0x1000n, dma_handle: 0x2000n, attrs: 0 };
    expect(dmam_match(m, d, a, { ...a })).toBe(true);
    expect(m.warnings).toEqual([]);
    expect(dmam_match(m, d, a, { ...a, dma_handle: 0x3000n })).toBe(true);
    expect(m.warnings).toEqual(['sdhci0: dmam_match: size or dma_handle differs (WARN_ON)']);
  });
});
