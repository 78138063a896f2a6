// kernel/dma/coherent.c (5.10, 6.6; spec kernel-alloc.md §3): per-device
// coherent memory (a reserved region a device allocates from by bitmap, never
// falling back to the page allocator) and 6.6's CONFIG_DMA_GLOBAL_POOL.
//
// The pool's CPU mapping is memremap(MEMREMAP_WC). riscv defines neither
// arch_memremap_wb nor ioremap_wc (arch/riscv/include/asm/io.h includes
// asm-generic/io.h, whose fallback is `#define ioremap_wc ioremap`), so on 5.10
// and 6.6 the pool is a GENERIC_IOREMAP alias with _PAGE_IOREMAP, which is
// PAGE_KERNEL_IO here (strongly-ordered IO on T-Head and Svpbmt, the static
// SO type on vendor 5.10), not a write-combine type. memremap refuses System
// RAM for WC, so only `no-map` regions (not System RAM in the resource tree)
// can back a pool on riscv.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import type { reserved_mem, reserved_mem_ops, RmemSetupCtx } from '../../drivers/of/of_reserved_mem.ts';
import type { MemoryRange } from '../../config/profile.ts';
import { phys_to_dma } from '../../include/linux/dma-direct.ts';
import { bitmapAlloc, bitmap_find_free_region, bitmap_release_region } from '../../lib/bitmap.ts';
import { vmap, vunmap, VM_IOREMAP } from '../../mm/vmalloc.ts';
import { PAGE_KERNEL_IO, type pgprot_t } from '../../arch/riscv/pgtable.ts';
import { cpuMemset } from '../../hw/cpu.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { EBUSY, EINVAL, ENOMEM, ModelError, PAGE_ALIGN, PAGE_SHIFT, PAGE_SIZE_N, PFN_PHYS, PHYS_PFN, get_order, hex, u64 } from '../../types.ts';
import type { DmaHandle } from './direct.ts';

/** include/uapi/asm-generic/errno-base.h ENODEV (types.ts has no entry yet). */
const ENODEV = 19;
/** include/uapi/asm-generic/errno.h ENOSYS. */
const ENOSYS = 38;

/** kernel/dma/coherent.c struct dma_coherent_mem (5.10, 6.6); the spinlock is implicit (one thread). */
export interface dma_coherent_mem {
  /** CPU pointer from memremap(MEMREMAP_WC). */
  virt_base: bigint;
  /** DMA address of page 0 as declared (DT path: the CPU address). */
  device_base: bigint;
  pfn_base: number;
  /** Pages (an int in the kernel: size >> PAGE_SHIFT, truncating). */
  size: number;
  /** One bit per page. */
  bitmap: Uint32Array;
  use_dev_dma_pfn_offset: boolean;
}

/** coherent.c's file-scope globals, one set per machine. */
export interface CoherentGlobals {
  /** dma_coherent_default_memory: the global pool (6.6 CONFIG_DMA_GLOBAL_POOL; 5.10 ARM only). */
  dma_coherent_default_memory: dma_coherent_mem | null;
  /** dma_reserved_default_memory: the `linux,dma-default` region rmem_dma_setup recorded. */
  dma_reserved_default_memory: reserved_mem | null;
}

export function coherentGlobalsCreate(): CoherentGlobals {
  return { dma_coherent_default_memory: null, dma_reserved_default_memory: null };
}

/** Model helper: coherent.c is built (6.6's DMA_GLOBAL_POOL selects DMA_DECLARE_COHERENT). */
export function declareCoherentBuilt(m: Machine): boolean {
  return m.cfg('CONFIG_DMA_DECLARE_COHERENT') || (m.profile.kernel === '6.6' && m.cfg('CONFIG_DMA_GLOBAL_POOL'));
}

// ---------------------------------------------------------------------------
// The CPU mapping: kernel/iomem.c memremap → asm-generic ioremap_wc → mm/ioremap.c ioremap_prot

const MEMREMAP_WB = 1 << 0;
const MEMREMAP_WT = 1 << 1;
export const MEMREMAP_WC = 1 << 2;

/**
 * Model helper for kernel/resource.c region_intersects(.., IORESOURCE_SYSTEM_RAM):
 * System RAM is what memblock kept (the linear-mapped banks) minus `no-map`
 * reserved-memory regions, which riscv's resource setup registers as reserved.
 */
function regionIntersectsSystemRam(m: Machine, start: bigint, size: bigint): 'intersects' | 'disjoint' | 'mixed' {
  const banks: readonly MemoryRange[] = m.init_mm.memory ?? m.profile.memory;
  const noMap = (m.profile.reservedMemory ?? []).filter((r) => r.noMap);
  const end = start + size;
  let ram = 0n;
  for (const b of banks) {
    const lo = b.base > start ? b.base : start;
    const hi = b.base + b.size < end ? b.base + b.size : end;
    if (hi <= lo) continue;
    ram += hi - lo;
    for (const r of noMap) {
      const nlo = r.base > lo ? r.base : lo;
      const nhi = r.base + r.size < hi ? r.base + r.size : hi;
      if (nhi > nlo) ram -= nhi - nlo;
    }
  }
  if (ram === 0n) return 'disjoint';
  return ram === size ? 'intersects' : 'mixed';
}

/**
 * mm/ioremap.c ioremap_prot (GENERIC_IOREMAP, 5.10; 6.6 generic_ioremap_prot):
 * a VM_IOREMAP area mapping [phys, phys+size) with `prot`. The kernel's
 * ioremap_page_range may use huge entries; page-sized PTEs translate the same.
 */
export function ioremap_prot(m: Machine, phys: bigint, size: bigint, prot: pgprot_t): bigint | null {
  kenter('ioremap_prot');
  try {
    // The kernel's last_addr < phys_addr test relies on 64-bit wrap-around; bigints do not wrap.
    if (size === 0n || u64(phys + size - 1n) < phys) return null;
    const offset = phys & (PAGE_SIZE_N - 1n);
    const base = phys - offset;
    const len = PAGE_ALIGN(size + offset);
    const count = Number(len >> BigInt(PAGE_SHIFT));
    const pfns: number[] = [];
    for (let i = 0; i < count; i++) pfns.push(PHYS_PFN(base) + i);
    const va = vmap(m.init_mm, pfns, count, VM_IOREMAP, prot, 'ioremap_prot');
    return va === null ? null : va + offset;
  } finally {
    kexit();
  }
}

/** include/asm-generic/io.h iounmap (GENERIC_IOREMAP, 5.10, 6.6): vunmap of the page-aligned address. */
export function iounmap(m: Machine, addr: bigint): void {
  kenter('iounmap');
  try {
    vunmap(m.init_mm, addr & ~(PAGE_SIZE_N - 1n));
  } finally {
    kexit();
  }
}

/**
 * kernel/iomem.c memremap (5.10, 6.6) for the flags coherent.c passes. A mixed
 * range, or a WC/WT request over System RAM, WARNs and fails; WC then goes to
 * ioremap_wc, which riscv leaves as the generic ioremap (_PAGE_IOREMAP).
 */
export function memremap(m: Machine, offset: bigint, size: bigint, flags: number): bigint | null {
  kenter('memremap');
  try {
    if (flags === 0) return null;
    const is_ram = regionIntersectsSystemRam(m, offset, size);
    if (is_ram === 'mixed') {
      m.warnings.push(`memremap attempted on mixed range ${hex(offset)} size: ${hex(size)}`);
      return null;
    }
    if (flags & MEMREMAP_WB) throw new ModelError('memremap(MEMREMAP_WB) is not modelled (coherent.c asks for WC)');
    if (is_ram === 'intersects') {
      knote('WC over System RAM refused');
      m.warnings.push(`memremap attempted on ram ${hex(offset)} size: ${hex(size)}`);
      return null;
    }
    if (flags & MEMREMAP_WT) throw new ModelError('memremap(MEMREMAP_WT) is not modelled');
    if (flags & MEMREMAP_WC) {
      knote('ioremap_wc = ioremap on riscv');
      return ioremap_prot(m, offset, size, PAGE_KERNEL_IO(m.init_mm.cfg));
    }
    return null;
  } finally {
    kexit();
  }
}

/** kernel/iomem.c memunmap (5.10, 6.6): an ioremap'd alias is iounmap'd. */
export function memunmap(m: Machine, addr: bigint): void {
  kenter('memunmap');
  try {
    iounmap(m, addr);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------------------
// Pool objects

/** kernel/dma/coherent.c dev_get_coherent_memory (5.10, 6.6). */
export function dev_get_coherent_memory(dev: device | null): dma_coherent_mem | null {
  kenter('dev_get_coherent_memory');
  try {
    return dev !== null && dev.dma_mem !== null ? dev.dma_mem : null;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/coherent.c dma_get_device_base (5.10, 6.6): DT pools translate the
 * pool's physical base through the device's dma-ranges. Fault
 * coherent-device-base-ignores-ranges: the pre-a445e940ea68 behaviour, where the
 * declared device_base (the CPU address for DT pools) is always used.
 */
export function dma_get_device_base(m: Machine, dev: device, mem: dma_coherent_mem): bigint {
  kenter('dma_get_device_base');
  try {
    if (mem.use_dev_dma_pfn_offset && !m.faults.has('coherent-device-base-ignores-ranges')) {
      return phys_to_dma(dev, PFN_PHYS(mem.pfn_base));
    }
    return mem.device_base;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/coherent.c dma_init_coherent_memory. 5.10 fills an out-parameter
 * and returns 0/-errno, and leaves use_dev_dma_pfn_offset 0 (kzalloc; the DT
 * caller sets it afterwards, so `use_dma_pfn_offset` is ignored); 6.6 returns
 * the object or ERR_PTR and stores `use_dma_pfn_offset`. Both forms come back
 * here as the object or a negative errno. Size 0 or a failed memremap →
 * -EINVAL; the kzalloc failures (-ENOMEM) are not modelled.
 */
export function dma_init_coherent_memory(
  m: Machine,
  phys_addr: bigint,
  device_addr: bigint,
  size: bigint,
  use_dma_pfn_offset: boolean,
): dma_coherent_mem | number {
  kenter('dma_init_coherent_memory');
  try {
    const pages = Number(BigInt.asIntN(32, size >> BigInt(PAGE_SHIFT)));
    if (size === 0n) return -EINVAL;
    const mem_base = memremap(m, phys_addr, size, MEMREMAP_WC);
    if (mem_base === null) {
      knote('memremap failed');
      return -EINVAL;
    }
    return {
      virt_base: mem_base,
      device_base: device_addr,
      pfn_base: PHYS_PFN(phys_addr),
      size: pages,
      bitmap: bitmapAlloc(Math.max(pages, 0)),
      use_dev_dma_pfn_offset: m.profile.kernel === '6.6' ? use_dma_pfn_offset : false,
    };
  } finally {
    kexit();
  }
}

/** kernel/dma/coherent.c _dma_release_coherent_memory (6.6; 5.10's static dma_release_coherent_memory(mem)): unmap and free. */
export function _dma_release_coherent_memory(m: Machine, mem: dma_coherent_mem | null): void {
  kenter('_dma_release_coherent_memory');
  try {
    if (mem === null) return;
    memunmap(m, mem.virt_base);
  } finally {
    kexit();
  }
}

/** kernel/dma/coherent.c dma_assign_coherent_memory (5.10, 6.6): -ENODEV without a device, -EBUSY if it has a pool. */
export function dma_assign_coherent_memory(dev: device | null, mem: dma_coherent_mem): number {
  kenter('dma_assign_coherent_memory');
  try {
    if (dev === null) return -ENODEV;
    if (dev.dma_mem !== null) return -EBUSY;
    dev.dma_mem = mem;
    return 0;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/coherent.c dma_declare_coherent_memory (5.10, 6.6): a driver-declared pool, device_base
 * taken as given. Without coherent.c in the build, include/linux/dma-map-ops.h's stub returns -ENOSYS.
 */
export function dma_declare_coherent_memory(m: Machine, dev: device | null, phys_addr: bigint, device_addr: bigint, size: bigint): number {
  kenter('dma_declare_coherent_memory');
  try {
    if (!declareCoherentBuilt(m)) {
      knote('CONFIG_DMA_DECLARE_COHERENT is not set: the dma-map-ops.h stub');
      return -ENOSYS;
    }
    const mem = dma_init_coherent_memory(m, phys_addr, device_addr, size, false);
    if (typeof mem === 'number') return mem;
    const ret = dma_assign_coherent_memory(dev, mem);
    if (ret !== 0) _dma_release_coherent_memory(m, mem);
    return ret;
  } finally {
    kexit();
  }
}

/** kernel/dma/coherent.c dma_release_coherent_memory (6.6 only; 5.10's function of that name is the static per-pool one). */
export function dma_release_coherent_memory(m: Machine, dev: device | null): void {
  kenter('dma_release_coherent_memory');
  try {
    if (m.profile.kernel !== '6.6') throw new ModelError('dma_release_coherent_memory(dev) exists only in 6.6');
    if (dev === null) return;
    _dma_release_coherent_memory(m, dev_get_coherent_memory(dev));
    dev.dma_mem = null;
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------------------
// Allocation and release

/**
 * kernel/dma/coherent.c __dma_alloc_from_coherent (5.10, 6.6): the first
 * naturally aligned run of 2^get_order(size) pages; the handle is written only
 * on success; `size` bytes (not the whole run) are zeroed through the pool's
 * CPU mapping.
 */
export function __dma_alloc_from_coherent(m: Machine, dev: device, mem: dma_coherent_mem, size: bigint, h: DmaHandle): bigint | null {
  kenter('__dma_alloc_from_coherent');
  try {
    const order = get_order(size);
    if (size > BigInt(mem.size) << BigInt(PAGE_SHIFT)) {
      knote('larger than the pool');
      return null;
    }
    const pageno = bitmap_find_free_region(mem.bitmap, mem.size, order);
    if (pageno < 0) {
      knote('pool exhausted');
      return null;
    }
    const off = BigInt(pageno) << BigInt(PAGE_SHIFT);
    h.dma_handle = dma_get_device_base(m, dev, mem) + off;
    const ret = mem.virt_base + off;
    cpuMemset(m, m.kernelHart, ret, 0, Number(size));
    return ret;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/coherent.c dma_alloc_from_dev_coherent (5.10, 6.6): 0 when the
 * device has no pool; otherwise 1 whatever happened, with *ret possibly NULL
 * (an exhausted pool is a hard failure, no fallback). The stub when
 * CONFIG_DMA_DECLARE_COHERENT is off returns 0.
 */
export function dma_alloc_from_dev_coherent(m: Machine, dev: device, size: bigint, h: DmaHandle, ret: { cpu_addr: bigint | null }): number {
  kenter('dma_alloc_from_dev_coherent');
  try {
    if (!declareCoherentBuilt(m)) return 0;
    const mem = dev_get_coherent_memory(dev);
    if (mem === null) return 0;
    ret.cpu_addr = __dma_alloc_from_coherent(m, dev, mem, size, h);
    return 1;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/coherent.c __dma_release_from_coherent (5.10, 6.6): 1 if vaddr is
 * inside the pool, and then the 2^order bits at its page are cleared whether or
 * not they were allocated (a wrong size frees a neighbour's pages).
 */
export function __dma_release_from_coherent(mem: dma_coherent_mem | null, order: number, vaddr: bigint): number {
  kenter('__dma_release_from_coherent');
  try {
    if (mem === null || vaddr < mem.virt_base || vaddr >= mem.virt_base + (BigInt(mem.size) << BigInt(PAGE_SHIFT))) return 0;
    const page = Number((vaddr - mem.virt_base) >> BigInt(PAGE_SHIFT));
    bitmap_release_region(mem.bitmap, page, order);
    return 1;
  } finally {
    kexit();
  }
}

/** kernel/dma/coherent.c dma_release_from_dev_coherent (5.10, 6.6; stub 0 without CONFIG_DMA_DECLARE_COHERENT). */
export function dma_release_from_dev_coherent(m: Machine, dev: device, order: number, vaddr: bigint): number {
  kenter('dma_release_from_dev_coherent');
  try {
    if (!declareCoherentBuilt(m)) return 0;
    return __dma_release_from_coherent(dev_get_coherent_memory(dev), order, vaddr);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------------------
// The global pool

/**
 * kernel/dma/coherent.c dma_init_global_coherent (6.6, CONFIG_DMA_GLOBAL_POOL):
 * device_base = phys, handles translated through each device's dma-ranges.
 */
export function dma_init_global_coherent(m: Machine, phys_addr: bigint, size: bigint): number {
  kenter('dma_init_global_coherent');
  try {
    if (m.profile.kernel !== '6.6') throw new ModelError('dma_init_global_coherent exists only in 6.6 (CONFIG_DMA_GLOBAL_POOL)');
    const mem = dma_init_coherent_memory(m, phys_addr, phys_addr, size, true);
    if (typeof mem === 'number') return mem;
    m.dmaCoherent.dma_coherent_default_memory = mem;
    knote('DMA: default coherent area is set');
    return 0;
  } finally {
    kexit();
  }
}

/**
 * kernel/dma/coherent.c dma_init_reserved_memory (core_initcall; 6.6 under
 * CONFIG_DMA_GLOBAL_POOL; 5.10 has it for CONFIG_ARM only, so riscv 5.10 never
 * gets a global pool). -ENOMEM when no `linux,dma-default` region was recorded.
 */
export function dma_init_reserved_memory(m: Machine): number {
  kenter('dma_init_reserved_memory');
  try {
    if (m.profile.kernel !== '6.6' || !m.cfg('CONFIG_DMA_GLOBAL_POOL')) return 0;
    const rmem = m.dmaCoherent.dma_reserved_default_memory;
    if (rmem === null) return -ENOMEM;
    return dma_init_global_coherent(m, rmem.base, rmem.size);
  } finally {
    kexit();
  }
}

/** kernel/dma/coherent.c dma_alloc_from_global_coherent (5.10, 6.6): NULL without a global pool. */
export function dma_alloc_from_global_coherent(m: Machine, dev: device, size: bigint, h: DmaHandle): bigint | null {
  kenter('dma_alloc_from_global_coherent');
  try {
    const mem = m.dmaCoherent.dma_coherent_default_memory;
    if (mem === null) return null;
    return __dma_alloc_from_coherent(m, dev, mem, size, h);
  } finally {
    kexit();
  }
}

/** kernel/dma/coherent.c dma_release_from_global_coherent (5.10, 6.6): 0 without a global pool. */
export function dma_release_from_global_coherent(m: Machine, order: number, vaddr: bigint): number {
  kenter('dma_release_from_global_coherent');
  try {
    const mem = m.dmaCoherent.dma_coherent_default_memory;
    if (mem === null) return 0;
    return __dma_release_from_coherent(mem, order, vaddr);
  } finally {
    kexit();
  }
}

// ---------------------------------------------------------------------------
// Device tree: RESERVEDMEM_OF_DECLARE(dma, "shared-dma-pool", rmem_dma_setup)

/**
 * kernel/dma/coherent.c rmem_dma_device_init (5.10, 6.6): create the pool once
 * (device_base = the CPU base, translated per device), cache it in rmem->priv,
 * give it to the device; the assignment's -EBUSY/-ENODEV is ignored. 5.10 sets
 * use_dev_dma_pfn_offset on every call, 6.6 passes it at creation.
 */
export function rmem_dma_device_init(m: Machine, rmem: reserved_mem, dev: device | null): number {
  kenter('rmem_dma_device_init');
  try {
    let mem = rmem.priv as dma_coherent_mem | null;
    if (mem === null) {
      const r = dma_init_coherent_memory(m, rmem.base, rmem.base, rmem.size, true);
      if (typeof r === 'number') {
        knote('failed to init DMA memory pool');
        return r;
      }
      mem = r;
      rmem.priv = mem;
    }
    if (m.profile.kernel === '5.10') mem.use_dev_dma_pfn_offset = true;
    dma_assign_coherent_memory(dev, mem);
    return 0;
  } finally {
    kexit();
  }
}

/** kernel/dma/coherent.c rmem_dma_device_release (5.10, 6.6): the device forgets the pool; the pool stays. */
export function rmem_dma_device_release(_m: Machine, _rmem: reserved_mem, dev: device | null): void {
  kenter('rmem_dma_device_release');
  try {
    if (dev !== null) dev.dma_mem = null;
  } finally {
    kexit();
  }
}

export const rmem_dma_ops: reserved_mem_ops = { device_init: rmem_dma_device_init, device_release: rmem_dma_device_release };

/**
 * kernel/dma/coherent.c rmem_dma_setup (5.10, 6.6): `reusable` nodes belong to
 * CMA (-EINVAL). The no-map requirement and 5.10's `linux,dma-default` are
 * CONFIG_ARM only; 6.6 records `linux,dma-default` under CONFIG_DMA_GLOBAL_POOL
 * (WARN when a second one appears).
 */
export function rmem_dma_setup(ctx: RmemSetupCtx, rmem: reserved_mem): number {
  kenter('rmem_dma_setup');
  try {
    if (rmem.node.reusable) return -EINVAL;
    if (ctx.kernel === '6.6' && ctx.cfg('CONFIG_DMA_GLOBAL_POOL') && rmem.node.dmaDefault) {
      if (ctx.dmaCoherent.dma_reserved_default_memory !== null) {
        ctx.warnings.push('Reserved memory: region for default DMA coherent area is redefined');
      }
      ctx.dmaCoherent.dma_reserved_default_memory = rmem;
    }
    rmem.ops = rmem_dma_ops;
    knote('created DMA memory pool');
    return 0;
  } finally {
    kexit();
  }
}
