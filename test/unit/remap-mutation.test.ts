// reference/kernel/dma/remap.ts: what StrykerJS showed no other test pins down
// (bench/mutation-equivalents.md lists the survivors that cannot be killed).
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../reference/system.ts';
import { dma_common_contiguous_remap, dma_common_free_remap, dma_common_pages_remap } from '../../reference/kernel/dma/remap.ts';
import { dma_pgprot, PAGE_KERNEL } from '../../reference/arch/riscv/pgtable.ts';
import { kstack } from '../../reference/trace.ts';
import { machine } from '../support/machines.ts';
import { traceCalls } from './trace-calls.ts';

const PFN = 0x10_0400;
const KERNELS = ['c920-sg2042-5.10-fixed', 'c920-sg2042-6.6'] as const;

/** The prot dma_direct_alloc hands a non-coherent device. */
function dmaProt(m: Machine) {
  return dma_pgprot(PAGE_KERNEL(m.init_mm.cfg), 0, false, m.profile.kernel, m.init_mm.cfg);
}

describe('dma_common_pages_remap when vmap fails', () => {
  it('returns NULL without looking the (absent) area up', () => {
    // kernel/dma/remap.c (5.10, 6.6): vaddr = vmap(...); if (vaddr) find_vm_area(vaddr)->pages = pages;
    // A size of 0 is 0 pages, and vmap of 0 pages fails (__get_vm_area_node: !size returns NULL).
    for (const name of KERNELS) {
      const m = machine(name);
      const prot = dmaProt(m);
      const r = traceCalls(() => dma_common_pages_remap(m, [PFN], 0n, prot, 'iommu'));
      expect(r.result, name).toBeNull();
      expect(r.calls[0], name).toBe('dma_common_pages_remap');
      expect(r.calls.filter((c) => c.trim() === 'find_vm_area'), name).toEqual([]);
    }
  });
});

describe('the remap helpers return to their caller', () => {
  // Checked inside the test, not only by test/setup/kstack.ts: a dump_stack (might_sleep report)
  // taken after one of these calls must not show it as still running.
  it('pages_remap, contiguous_remap and free_remap (valid and invalid area) leave the kernel stack empty', () => {
    for (const name of KERNELS) {
      const m = machine(name);
      const a = dma_common_pages_remap(m, [PFN + 3, PFN], 8192n, dmaProt(m), 'iommu')!;
      expect(a, name).not.toBeNull();
      expect(kstack(), name).toEqual([]);
      const b = dma_common_contiguous_remap(m, PFN + 8, 4096n, dmaProt(m), 'test')!;
      expect(kstack(), name).toEqual([]);
      dma_common_free_remap(m, a, 8192n);
      expect(kstack(), name).toEqual([]);
      dma_common_free_remap(m, b, 4096n);
      expect(kstack(), name).toEqual([]);
      dma_common_free_remap(m, b, 4096n); // already gone: WARN path
      expect(kstack(), name).toEqual([]);
      expect(m.warnings.length, name).toBe(1);
    }
  });
});
