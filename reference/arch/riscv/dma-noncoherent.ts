// arch/riscv/mm/dma-noncoherent.c (mainline 6.6) and the vendor 5.10 C920
// patch's arch/riscv/mm/dma-mapping.c, plus the empty stubs include/linux/
// dma-map-ops.h leaves when CONFIG_ARCH_HAS_SYNC_DMA_FOR_{DEVICE,CPU} or
// CONFIG_ARCH_HAS_DMA_PREP_COHERENT is unset (what the seed notes found).

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { ALT_CMO_OP, dma_wb_range, dma_wbinv_range, type CmoCpu, type CmoOp } from './cmo.ts';
import { hartMemoryType, linearRangePa, page_address, phys_to_virt, walkPageTable } from './pgtable.ts';
import { lineOf } from '../../mm/memory.ts';
import { cpuMemset } from '../../hw/cpu.ts';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../include/linux/dma-direction.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { KernelBug, L1_CACHE_BYTES, ModelError, PFN_PHYS, hex } from '../../types.ts';

const ARCH_DMA_MINALIGN = L1_CACHE_BYTES;

/** Vendor dma_wbinv_range variants whose loop cleans and invalidates every line (th.dcache.cipa). */
const FULL_FLUSH_VENDOR: ReadonlySet<string> = new Set(['th1520-beagleboard', 'sg2042-sophgo', 'd1-c906']);

function linearCacheable(m: Machine, pfn: number): boolean {
  const t = walkPageTable(m.init_mm, page_address(m.init_mm, pfn));
  if (t === null) return false;
  const mt = hartMemoryType(t.pte, m.hart);
  return mt.fault === undefined && mt.kind === 'cacheable';
}

function cmoCpu(m: Machine): CmoCpu {
  return {
    hart: m.kernelHart,
    caches: m.caches,
    translate: (va) => walkPageTable(m.init_mm, va)?.pa ?? null,
    translateRange: (va, len) => linearRangePa(m.init_mm, va, len),
    menvcfgCbie: m.profile.platform.menvcfgCbie,
    faults: m.faults,
  };
}

/** 6.6: the T-Head errata probe forces 64; Zicbom takes riscv,cbom-block-size from the device tree. */
export function riscv_cbom_block_size(m: Machine): number {
  const f = m.profile.platform.cmoFlavour;
  if (f === 'zicbom') return m.profile.platform.cbomBlockSize;
  if (f === 'none') return 0;
  return L1_CACHE_BYTES;
}

/** arch/riscv/mm/dma-noncoherent.c riscv_noncoherent_supported (6.6): whether any CMO alternative was patched in. */
export function riscv_noncoherent_supported(m: Machine): boolean {
  kenter('riscv_noncoherent_supported');
  try {
    const f = m.profile.platform.cmoFlavour;
    const ok = (f === 'zicbom' && m.cfg('CONFIG_RISCV_ISA_ZICBOM')) || (f !== 'zicbom' && f !== 'none' && m.cfg('CONFIG_ERRATA_THEAD_CMO'));
    // The kernel calls it once at boot; the model asks per device, so the WARN is printed once.
    const w = 'Non-coherent DMA support enabled without a block size';
    if (ok && riscv_cbom_block_size(m) === 0 && !m.warnings.includes(w)) m.warnings.push(w);
    return ok;
  } finally {
    kexit();
  }
}

function hasSyncHooks(m: Machine): boolean {
  return m.cfg('CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE') || m.cfg('CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU') || m.cfg('CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL');
}

/** include/linux/dma-map-ops.h dev_is_dma_coherent (5.10, 6.6): without any sync hook every device is coherent. */
export function dev_is_dma_coherent(m: Machine, dev: device): boolean {
  kenter('dev_is_dma_coherent');
  try {
    if (!hasSyncHooks(m)) knote('no ARCH_HAS_SYNC_DMA_* hook: every device is coherent');
    return hasSyncHooks(m) ? dev.dma_coherent : true;
  } finally {
    kexit();
  }
}

/** arch/riscv/mm/dma-noncoherent.c arch_setup_dma_ops (6.6; 5.10 has no ARCH_HAS_SETUP_DMA_OPS: the generic stub). */
export function arch_setup_dma_ops(m: Machine, dev: device, coherent: boolean): void {
  kenter('arch_setup_dma_ops');
  try {
    if (!m.cfg('CONFIG_ARCH_HAS_SETUP_DMA_OPS')) {
      knote('stub: dev->dma_coherent left as it was');
      return;
    }
    if (!coherent && riscv_cbom_block_size(m) > ARCH_DMA_MINALIGN) {
      m.warnings.push(`${dev.name}: ARCH_DMA_MINALIGN smaller than riscv,cbom-block-size (${ARCH_DMA_MINALIGN} < ${riscv_cbom_block_size(m)})`);
    }
    if (!coherent && !riscv_noncoherent_supported(m)) {
      m.warnings.push(`${dev.name}: device non-coherent but no non-coherent operations supported`);
    }
    dev.dma_coherent = coherent;
  } finally {
    kexit();
  }
}

/** 6.6: the three range helpers; VA flavours get the linear-map address, PA flavours the physical one. */
function cmoRange(m: Machine, op: CmoOp, paddr: bigint, size: bigint): void {
  const f = m.profile.platform.cmoFlavour;
  const pa = f === 'thead-pa' || f === 'sophgo-pa';
  const start = pa ? paddr : phys_to_virt(m.init_mm, paddr);
  let block = riscv_cbom_block_size(m);
  if (block === 0) block = L1_CACHE_BYTES; // NOP flavour: the loop never runs, any power of two will do
  const r = ALT_CMO_OP(op, start, size, block, cmoCpu(m), f);
  if (r.kind !== 'done') throw new KernelBug(`${r.insn} raised ${r.kind} during DMA cache maintenance at ${hex(paddr)}`);
}

/** arch/riscv/mm/dma-noncoherent.c arch_dma_cache_wback (6.6). */
export function arch_dma_cache_wback(m: Machine, paddr: bigint, size: bigint): void {
  kenter('arch_dma_cache_wback');
  try {
    cmoRange(m, 'clean', paddr, size);
  } finally {
    kexit();
  }
}

/** arch/riscv/mm/dma-noncoherent.c arch_dma_cache_inv (6.6). */
export function arch_dma_cache_inv(m: Machine, paddr: bigint, size: bigint): void {
  kenter('arch_dma_cache_inv');
  try {
    cmoRange(m, 'inval', paddr, size);
  } finally {
    kexit();
  }
}

/** arch/riscv/mm/dma-noncoherent.c arch_dma_cache_wback_inv (6.6). */
export function arch_dma_cache_wback_inv(m: Machine, paddr: bigint, size: bigint): void {
  kenter('arch_dma_cache_wback_inv');
  try {
    cmoRange(m, 'flush', paddr, size);
  } finally {
    kexit();
  }
}

function vendorVariant(m: Machine) {
  const v = m.profile.platform.vendorCmo;
  if (v === null) throw new ModelError(`${m.profile.name}: 5.10 with arch DMA hooks needs the vendor C920 patch (platform.vendorCmo)`);
  return v;
}

/**
 * arch_sync_dma_for_device: 6.6 arch/riscv/mm/dma-noncoherent.c (clean for every
 * direction: FROM_DEVICE falls through to BIDIRECTIONAL, which cleans because
 * ARCH_HAS_SYNC_DMA_FOR_CPU invalidates afterwards); vendor 5.10 C920 patch
 * (TO_DEVICE dma_wb_range, FROM_DEVICE and BIDIRECTIONAL dma_wbinv_range, BUG
 * otherwise, pr_err in the Sophgo tree); empty without CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE.
 */
export function arch_sync_dma_for_device(m: Machine, paddr: bigint, size: bigint, dir: number): void {
  kenter('arch_sync_dma_for_device');
  try {
    if (!m.cfg('CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE')) {
      knote('empty stub: CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE unset');
      return;
    }
    if (m.profile.kernel === '5.10') {
      const v = vendorVariant(m);
      if (dir === DMA_TO_DEVICE) dma_wb_range(paddr, paddr + size, cmoCpu(m), v);
      else if (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) dma_wbinv_range(paddr, paddr + size, cmoCpu(m), v);
      else if (v === 'sg2042-sophgo') {
        // The Sophgo tree logs and carries on where the others BUG().
        knote('invalid direction: pr_err');
        m.warnings.push(`arch_sync_dma_for_device: invalid direction ${dir}`);
      } else throw new KernelBug(`arch_sync_dma_for_device: invalid direction ${dir}`);
      return;
    }
    if (m.profile.riscvDmaSyncPolicy === '6.0-6.5') {
      knote('6.0-6.5 table');
      if (dir === DMA_TO_DEVICE || dir === DMA_FROM_DEVICE) arch_dma_cache_wback(m, paddr, size);
      else if (dir === DMA_BIDIRECTIONAL) arch_dma_cache_wback_inv(m, paddr, size);
      return;
    }
    if (dir === DMA_TO_DEVICE || dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) arch_dma_cache_wback(m, paddr, size);
  } finally {
    kexit();
  }
}

/**
 * arch_sync_dma_for_cpu: 6.6 (TO_DEVICE nothing; FROM_DEVICE and BIDIRECTIONAL
 * invalidate — needed only because of speculative fills); vendor 5.10 C920
 * patch (FROM_DEVICE and BIDIRECTIONAL dma_wbinv_range); empty without
 * CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU.
 */
export function arch_sync_dma_for_cpu(m: Machine, paddr: bigint, size: bigint, dir: number): void {
  kenter('arch_sync_dma_for_cpu');
  try {
    if (!m.cfg('CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU') || m.faults.has('sync-for-cpu-skipped')) {
      knote('empty stub: CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU unset');
      return;
    }
    if (dir === DMA_TO_DEVICE) return;
    if (m.profile.kernel === '5.10') {
      if (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) dma_wbinv_range(paddr, paddr + size, cmoCpu(m), vendorVariant(m));
      else throw new KernelBug(`arch_sync_dma_for_cpu: invalid direction ${dir}`);
      return;
    }
    if (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) {
      if (m.profile.riscvDmaSyncPolicy === '6.0-6.5') {
        knote('6.0-6.5 table: flush after DMA');
        arch_dma_cache_wback_inv(m, paddr, size);
      } else arch_dma_cache_inv(m, paddr, size);
    }
  } finally {
    kexit();
  }
}

/**
 * arch_dma_prep_coherent: 6.6 flushes the linear-map alias of the pages; the
 * vendor 5.10 patch zeroes them through the cacheable alias and then
 * dma_wbinv_range; empty without CONFIG_ARCH_HAS_DMA_PREP_COHERENT.
 */
export function arch_dma_prep_coherent(m: Machine, pfn: number, size: bigint): void {
  kenter('arch_dma_prep_coherent');
  try {
    if (!m.cfg('CONFIG_ARCH_HAS_DMA_PREP_COHERENT') || m.faults.has('prep-coherent-skipped')) {
      knote('empty stub: CONFIG_ARCH_HAS_DMA_PREP_COHERENT unset');
      return;
    }
    const pa = PFN_PHYS(pfn);
    if (m.profile.kernel === '5.10') {
      const v = vendorVariant(m);
      // Exact shortcut: with no line of the range cached, a memset through the cacheable
      // linear map followed by a full clean+invalidate (cipa variants) leaves zeros in memory
      // and nothing cached; recorded directly instead of 2 x size/64 line operations.
      if (FULL_FLUSH_VENDOR.has(v) && !m.caches.hasLineInRange(lineOf(pa), lineOf(pa + size)) && linearCacheable(m, pfn)) {
        knote('memset through the cacheable alias over uncached lines, then a full flush: zero in memory (recorded directly)');
        m.mem.zeroLines(pa, size);
      } else cpuMemset(m, m.kernelHart, page_address(m.init_mm, pfn), 0, Number(size));
      dma_wbinv_range(pa, pa + size, cmoCpu(m), v);
      return;
    }
    arch_dma_cache_wback_inv(m, pa, size);
  } finally {
    kexit();
  }
}
