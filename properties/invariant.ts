// An invariant is a named, pure predicate over the state of one harness run
// (reference + model). It returns null when it holds, else a message that says
// what broke in kernel terms.

export interface Invariant<S> {
  readonly name: string;
  readonly description: string;
  check(state: S): string | null;
}

/** The invariants every harness may be asked about, with their one-line meaning. */
export const INVARIANT_DOCS: Readonly<Record<string, string>> = {
  'order-alignment':
    'gen_pool_first_fit_order_align offsets are aligned to roundup_pow_of_two(nbits) within the chunk; buddy blocks of order n are aligned to 2^n pages; CMA allocations to min(get_order(size), CONFIG_CMA_ALIGNMENT) pages',
  'no-overlap': 'live allocations never overlap: gen_pool allocations within a pool, buddy blocks across the machine',
  conservation:
    'gen_pool_avail + allocated == gen_pool_size; free + allocated pages == managed pages; freeing everything restores the start state',
  zone: 'every page allocation lands in the zone its GFP flags ask for or an allowed lower fallback',
  refinement:
    'bitmap and gen_pool results agree with independent linear-scan oracles on every operation; every request the DMA layer makes of a CMA area gets the CMA oracle\'s answer (the lowest free run aligned to min(order, CONFIG_CMA_ALIGNMENT))',
  'no-stale-read':
    'every read by the current owner (CPU after sync_for_cpu/unmap, device after map/sync_for_device, both for coherent memory) returns what the owner last wrote',
  'pte-attributes':
    "a coherent buffer's CPU mapping keeps its PFN and permission bits and, for a non-coherent device, is not cacheable as the hart reads its memory-type bits; at boot, pgprot_noncached/writecombine/dmacoherent on PAGE_KERNEL change only bits 63:59 and give the type the kernel's table documents",
  'debug-agreement':
    'with CONFIG_DMA_API_DEBUG, every injected DMA API misuse is reported with its check id and legal use reports nothing; live debug entries match the driver',
  'pool-floor':
    'every pool dma_atomic_pool_init sets out to create exists, and no atomic pool is ever smaller than atomic_pool_size (which matches the kernel formula for the RAM); after the refill work runs each pool has at least atomic_pool_size available unless the page allocator ran out (reported)',
  'coherent-ok-mask':
    'every coherent DMA handle satisfies addr + size - 1 <= min_not_zero(coherent_dma_mask, dma-ranges limit) and translates back to the buffer; every pool chunk lies in the zone its pool stands for',
  'zeroed-and-coherent':
    'right after dma_alloc_coherent the buffer reads zero from CPU and device; afterwards CPU stores reach the device and device stores reach the CPU with no sync',
  'atomic-context':
    'no sleeping in atomic context: a dma_alloc_coherent with a non-blocking gfp (GFP_ATOMIC, GFP_NOWAIT), run with preempt_count raised, reaches no might_sleep site (vmap, alloc_vmap_area, vunmap, mutex_lock in cma_alloc, a blocking __alloc_pages); what CONFIG_DEBUG_ATOMIC_SLEEP reports as "BUG: sleeping function called from invalid context"',
  'max-mapping-size':
    'a streaming mapping no larger than dma_max_mapping_size(dev) never fails for RAM the device reaches directly (inside one dma-ranges entry, under its mask) or through a reachable swiotlb with a free run for it',
};
