// Fault switches: deliberate defects a profile can turn on so that a property
// has something to find. Each names the kernel function it breaks. Historic
// kernel bugs (issue 6) join this list with their commit ids.

export interface FaultInfo {
  fn: string;
  description: string;
  /**
   * The entry of /work/shared/spec/historic-bugs.md this fault stands for ('A1', 'F2', 'D4b'), or 'model'
   * for a defect made up so that a property has something to find. Absent: a real kernel bug that the
   * catalog does not list (commit and title say which).
   */
  historic?: string;
  /** The fault reproduces the historic bug's effect on this machine, not its exact code defect. */
  analogue?: boolean;
  /** The kernel commit that fixed the bug, full SHA, only where historic-bugs.md (or a look-up) verified it. */
  commit?: string;
  /** Subject line of that commit, or of the fix where the SHA is not confirmed. */
  title?: string;
}

export const FAULTS = {
  'genalloc-order-align-mask': {
    fn: 'gen_pool_first_fit_order_align',
    description: 'aligns to nr - 1 instead of roundup_pow_of_two(nr) - 1, so 3-unit requests are not order-aligned',
    historic: 'model',
  },
  'genalloc-avail-not-decremented': {
    fn: 'gen_pool_alloc_algo_owner',
    description: 'forgets to subtract the allocation from chunk->avail',
    historic: 'D2',
    analogue: true,
    commit: '36845663843fc59c5d794e3dc0641472e3e572da',
    title: 'lib/genalloc: fix the overflow when size is too big',
  },
  'bitmap-area-end-off-by-one': {
    fn: 'bitmap_find_next_zero_area_off',
    description: 'accepts an area that ends one bit past the end of the map (end > size + 1)',
    historic: 'model',
  },
  'buddy-no-merge': {
    fn: '__free_one_page',
    description: 'never merges a freed block with its free buddy',
    historic: 'model',
  },
  'buddy-split-keeps-upper': {
    fn: 'expand',
    description: 'splitting a larger block puts the half it hands out back on the free list as well',
    historic: 'model',
  },
  'buddy-unaligned-carve': {
    fn: 'memblock_free_pages',
    description: 'hands boot memory to the buddy allocator in blocks not aligned to their order',
    historic: 'model',
  },
  'gfp-zone-dma32-as-normal': {
    fn: 'gfp_zone',
    description: 'maps __GFP_DMA32 to ZONE_NORMAL, so DMA32 requests may land above 4 GiB',
    historic: 'model',
  },
  'cmo-clean-l1-only': {
    fn: 'ALT_CMO_OP',
    description: 'clean uses th.dcache.cval1/cpal1, which reach the L1 only: dirty data stays in the L2',
    historic: 'F2',
    commit: '8eb8fe67e2c84324398f5983c41b4f831d0705b3',
    title: 'riscv: errata: fix T-Head dcache.cva encoding',
  },
  'cmo-inval-as-flush': {
    fn: 'ALT_CMO_OP',
    description: 'inval performs clean+invalidate, writing stale dirty lines over data the device wrote',
    historic: 'F4',
    analogue: true,
    title: 'riscv: dma-mapping: only invalidate after DMA, not flush',
  },
  'cmo-block-size-128': {
    fn: 'ALT_CMO_OP',
    description: 'the loop aligns and steps by 128 bytes although the hardware block is 64, skipping every other line',
    historic: 'F3',
    analogue: true,
    commit: '8f7e001e0325de63a42f23342ac3b8139150c5cf',
    title: 'RISC-V: Clean up the Zicbom block size probing',
  },
  'thead-nocache-typo': {
    fn: '_PAGE_NOCACHE_THEAD',
    description: 'uses the v6.7 typo constant 0x1000000000000001: after ALT_SVPBMT drops bit 0 the NC type is SH only (non-bufferable)',
    historic: 'F1',
    commit: 'c21f014818600ae017f97ee087e7c136b1916aa7',
    title: 'riscv: mm: fix NOCACHE_THEAD does not set bit[61] correctly',
  },
  'pgprot-dmacoherent-cacheable': {
    fn: 'pgprot_dmacoherent',
    description: 'returns the prot unchanged, so coherent remaps stay cacheable',
    historic: 'B11',
    analogue: true,
    title: "dma-direct: fail allocations that can't be made coherent",
  },
  'prep-coherent-skipped': {
    fn: 'arch_dma_prep_coherent',
    description: 'does nothing: dirty lines of the linear alias survive the remap and are written back over the buffer later',
    historic: 'G2',
    analogue: true,
    commit: 'b7d9aae404841d9999b7476170867ae441e948d2',
    title: 'Revert "arm64: dma: Drop cache invalidation from arch_dma_prep_coherent()"',
  },
  'sync-for-cpu-skipped': {
    fn: 'arch_sync_dma_for_cpu',
    description: 'does nothing: lines speculatively filled during DMA are read instead of what the device wrote',
    historic: 'G4',
    analogue: true,
    title: 'ARM: dma-mapping: fix for speculative prefetching',
  },
  'kmalloc-minalign-8': {
    fn: 'kmalloc',
    description: 'minimum alignment 8 even where the kernel guarantees ARCH_DMA_MINALIGN: small objects share 64-byte lines',
    historic: 'G5',
    analogue: true,
    title: 'arm64: Fix DMA range invalidation for cache line unaligned buffers',
  },
  'swiotlb-from-device-no-copy': {
    fn: 'swiotlb_tbl_map_single',
    description:
      'copies the original buffer into the bounce slot only for TO_DEVICE/BIDIRECTIONAL (v5.10 before ddbd89deb7d3 "swiotlb: fix info leak with DMA_FROM_DEVICE"): bytes the device does not write come back as stale slot contents',
    commit: 'ddbd89deb7d32b1fbb879f48d68fda1a8ac58e8e',
    title: 'swiotlb: fix info leak with DMA_FROM_DEVICE',
  },
  'debug-unmap-skips-dir-check': {
    fn: 'check_unmap',
    description: 'CONFIG_DMA_API_DEBUG does not compare the unmap direction with the map direction, so a wrong-direction unmap goes unreported',
    historic: 'model',
  },
  'pool-size-64x': {
    fn: 'dma_atomic_pool_init',
    description:
      'sizes the atomic pools as max(totalram_pages >> PAGE_SHIFT, 1) * 128 KiB capped at 4 MiB (1d659236fb43, fixed by 3ee06a6d532f "dma-pool: fix too large DMA pools on medium memory size systems"): 64x too large below 512 MiB',
    historic: 'A1',
    commit: '3ee06a6d532f75f20528ff4d2c473cda36c484fe',
    title: 'dma-pool: fix too large DMA pools on medium memory size systems',
  },
  'pool-cma-wrong-zone': {
    fn: 'cma_in_zone',
    description:
      'ignores the zone, so a pool takes its chunk from the default CMA area wherever it lies (before d7e673ec2c8e "dma-pool: Only allocate from CMA when in same memory zone")',
    historic: 'A3',
    commit: 'd7e673ec2c8e0ea39c4c70fc490d67d7fbda869d',
    title: 'dma-pool: Only allocate from CMA when in same memory zone',
  },
  'pool-for-empty-zone': {
    fn: 'dma_atomic_pool_init',
    description:
      '6.6 creates the ZONE_DMA pool on CONFIG_ZONE_DMA alone, even when the zone has no managed pages (before a674e48c5443 "dma/pool: create dma atomic pool only if dma zone has managed pages")',
    historic: 'A6',
    commit: 'a674e48c5443d12a8a43c3ac42367aa39505d506',
    title: 'dma/pool: create dma atomic pool only if dma zone has managed pages',
  },
  'pool-guess-inverted': {
    fn: 'dma_direct_use_pool',
    description:
      'the pool predicate loses its "!": blocking allocations go to the atomic pool and atomic ones to the remap path (8d7c141bb80f in linux-next, merged fixed as 28e4576d556b "dma-direct: add a dma_direct_use_pool helper")',
    historic: 'A8',
    commit: '28e4576d556bca543b0996e9edd4b767397e24c6',
    title: 'dma-direct: add a dma_direct_use_pool helper',
  },
  'cma-aligned-offset-wrong': {
    fn: 'cma_bitmap_aligned_offset',
    description:
      'passes the distance from base_pfn to the next 2^align boundary instead of from the previous one (b5be83e308f7, v4.0-v4.12, fixed by "cma: fix calculation of aligned offset"): results are misaligned when the alignment is more than twice the base alignment',
    historic: 'D4b',
    title: 'cma: fix calculation of aligned offset',
  },
  'cma-alignment-uncapped': {
    fn: 'dma_alloc_from_contiguous',
    description:
      'dma_alloc_from_contiguous and cma_alloc_aligned do not cap the alignment order at CONFIG_CMA_ALIGNMENT, so large requests need a larger aligned hole than the kernel asks for',
    historic: 'model',
  },
  'coherent-device-base-ignores-ranges': {
    fn: 'dma_get_device_base',
    description:
      'per-device pools from the device tree hand out device_base (the CPU address) + offset instead of phys_to_dma of the pool: a device behind dma-ranges with an offset is given CPU addresses (historic C2, fixed by a445e940ea68 "dma-mapping: fix handling of dma-ranges for reserved memory (again)")',
    historic: 'C2',
    commit: 'a445e940ea686fc60475564009821010eb213be3',
    title: 'dma-mapping: fix handling of dma-ranges for reserved memory (again)',
  },
  'dma-ranges-limit-ignored': {
    fn: 'of_dma_configure_id',
    description:
      'installs the dma-ranges map and clamps the default masks but never sets bus_dma_limit: once the driver raises its masks, dma_capable and dma_coherent_ok accept buffers that run past the end of the bus window (in the spirit of historic B12 "ARM/dma-mapping: take the bus limit into account in __dma_alloc" and B8 a409d9600959)',
    historic: 'B12',
    analogue: true,
    title: 'ARM/dma-mapping: take the bus limit into account in __dma_alloc',
  },
  'coherent-no-zeroing': {
    fn: 'dma_direct_alloc',
    description: 'zeroes the buffer only when the caller passed __GFP_ZERO, so old memory contents leak to the CPU and the device',
    historic: 'G3',
    commit: '6829e274a623187c24f7cfc0e3d35f25d087fcc5',
    title: 'arm64: dma-mapping: always clear allocated buffers (CVE-2015-8950)',
    analogue: true,
  },
} as const satisfies Record<string, FaultInfo>;

export type FaultName = keyof typeof FAULTS;

export function isFaultName(s: string): s is FaultName {
  return Object.prototype.hasOwnProperty.call(FAULTS, s);
}
