// Fault switches in arch/riscv: cache maintenance, memory types, dma-noncoherent.

import type { FaultInfo } from './types.ts';

export const RISCV_FAULTS = {
  'cmo-clean-l1-only': {
    fn: 'ALT_CMO_OP',
    description: 'clean uses th.dcache.cval1/cpal1, which reach the L1 only: dirty data stays in the L2',
    historic: 'F2',
    commit: '8eb8fe67e2c84324398f5983c41b4f831d0705b3',
    title: 'riscv: errata: fix T-Head dcache.cva encoding',
    target: { base: 'c920-sg2042-6.6', breaks: ['no-stale-read'] },
  },
  'cmo-inval-as-flush': {
    fn: 'ALT_CMO_OP',
    description: 'inval performs clean+invalidate, writing stale dirty lines over data the device wrote',
    historic: 'F4',
    analogue: true,
    title: 'riscv: dma-mapping: only invalidate after DMA, not flush',
    target: { base: 'c920-sg2042-6.6-rx-header', breaks: ['no-stale-read'] },
  },
  'cmo-block-size-128': {
    fn: 'ALT_CMO_OP',
    description: 'the loop aligns and steps by 128 bytes although the hardware block is 64, skipping every other line',
    historic: 'F3',
    analogue: true,
    commit: '8f7e001e0325de63a42f23342ac3b8139150c5cf',
    title: 'RISC-V: Clean up the Zicbom block size probing',
    target: { base: 'c920-sg2042-6.6', breaks: ['no-stale-read'] },
  },
  'thead-nocache-typo': {
    fn: '_PAGE_NOCACHE_THEAD',
    description: 'uses the v6.7 typo constant 0x1000000000000001: after ALT_SVPBMT drops bit 0 the NC type is SH only (non-bufferable)',
    historic: 'F1',
    commit: 'c21f014818600ae017f97ee087e7c136b1916aa7',
    title: 'riscv: mm: fix NOCACHE_THEAD does not set bit[61] correctly',
    target: { base: 'c920-sg2042-6.8-mt', breaks: ['pte-attributes'] },
  },
  'pgprot-dmacoherent-cacheable': {
    fn: 'pgprot_dmacoherent',
    description: 'returns the prot unchanged, so coherent remaps stay cacheable',
    historic: 'B11',
    analogue: true,
    title: "dma-direct: fail allocations that can't be made coherent",
    target: { base: 'c920-sg2042-6.6', breaks: ['no-stale-read', 'pte-attributes'] },
  },
  'prep-coherent-skipped': {
    fn: 'arch_dma_prep_coherent',
    description: 'does nothing: dirty lines of the linear alias survive the remap and are written back over the buffer later',
    historic: 'G2',
    analogue: true,
    commit: 'b7d9aae404841d9999b7476170867ae441e948d2',
    title: 'Revert "arm64: dma: Drop cache invalidation from arch_dma_prep_coherent()"',
    target: { base: 'c920-sg2042-6.6', breaks: ['no-stale-read'] },
  },
  'sync-for-cpu-skipped': {
    fn: 'arch_sync_dma_for_cpu',
    description: 'does nothing: lines speculatively filled during DMA are read instead of what the device wrote',
    historic: 'G4',
    analogue: true,
    title: 'ARM: dma-mapping: fix for speculative prefetching',
    target: { base: 'c920v2-sg2044-6.6', breaks: ['no-stale-read'] },
  },
} as const satisfies Record<string, FaultInfo>;
