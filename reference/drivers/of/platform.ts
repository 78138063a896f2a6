// drivers/of/platform.c and the drivers/base pieces it calls (5.10, 6.6; spec
// kernel-alloc.md §9.1): a DT node becomes a platform device with 32-bit
// default masks; at probe, platform_dma_configure runs of_dma_configure, then
// the driver sets its masks and claims its memory-region.

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import type { DeviceSpec } from '../../config/profile.ts';
import type { device_node } from './address.ts';
import { dma_default_coherent } from './address.ts';
import { of_dma_configure } from './device.ts';
import { of_reserved_mem_device_init } from './of_reserved_mem.ts';
import { dma_set_coherent_mask, dma_set_mask_and_coherent } from '../../kernel/dma/mapping.ts';
import { kenter, kexit, knote } from '../../trace.ts';
import { DMA_BIT_MASK, ModelError } from '../../types.ts';

/**
 * drivers/base/core.c device_initialize (5.10: dma_coherent stays 0; 6.6 seeds
 * it with dma_default_coherent when the arch has a sync hook). `hwSnoops` is
 * the hardware fact the model carries beside the kernel's view.
 */
export function device_initialize(m: Machine, name: string, hwSnoops: boolean, memoryRegion: string | null): device {
  kenter('device_initialize');
  try {
    const syncHooks = m.cfg('CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE') || m.cfg('CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU') || m.cfg('CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL');
    return {
      name,
      dma_mask: null,
      coherent_dma_mask: 0n,
      bus_dma_limit: 0n,
      dma_range_map: null,
      dma_coherent: m.profile.kernel === '6.6' && syncHooks ? dma_default_coherent(m) : false,
      hwSnoops,
      dma_ops: null,
      dma_mem: null,
      cma_area: null,
      memoryRegion,
    };
  } finally {
    kexit();
  }
}

/**
 * drivers/base/platform.c setup_pdev_dma_masks (5.10, 6.6): coherent mask 0 →
 * 32-bit; no dma_mask pointer → point at platform_dma_mask = DMA_BIT_MASK(32).
 */
export function setup_pdev_dma_masks(dev: device): void {
  kenter('setup_pdev_dma_masks');
  try {
    if (dev.coherent_dma_mask === 0n) dev.coherent_dma_mask = DMA_BIT_MASK(32);
    if (dev.dma_mask === null) dev.dma_mask = DMA_BIT_MASK(32);
  } finally {
    kexit();
  }
}

/** drivers/of/platform.c of_device_alloc (5.10, 6.6) via platform_device_alloc: masks already 32-bit. */
export function of_device_alloc(m: Machine, np: device_node, name: string, hwSnoops: boolean): device {
  kenter('of_device_alloc');
  try {
    const dev = device_initialize(m, name, hwSnoops, np.memoryRegion?.[0] ?? null);
    setup_pdev_dma_masks(dev);
    return dev;
  } finally {
    kexit();
  }
}

/**
 * drivers/of/platform.c of_platform_device_create_pdata (5.10, 6.6): NULL for
 * an unavailable or already populated node; the coherent mask is forced to
 * 32 bits again, and a missing dma_mask would point at it.
 */
export function of_platform_device_create_pdata(m: Machine, np: device_node, name: string, hwSnoops: boolean): device | null {
  kenter('of_platform_device_create_pdata');
  try {
    if (np.disabled || np.populated) {
      knote('unavailable or already populated');
      return null;
    }
    np.populated = true;
    const dev = of_device_alloc(m, np, name, hwSnoops);
    dev.coherent_dma_mask = DMA_BIT_MASK(32);
    if (dev.dma_mask === null) dev.dma_mask = dev.coherent_dma_mask;
    return dev;
  } finally {
    kexit();
  }
}

/** drivers/base/platform.c platform_dma_configure (5.10, 6.6): DT devices get of_dma_configure(dev, np, true). */
export function platform_dma_configure(m: Machine, dev: device, np: device_node): number {
  kenter('platform_dma_configure');
  try {
    return of_dma_configure(m, dev, np, true);
  } finally {
    kexit();
  }
}

/**
 * Model helper: the device tree a DeviceSpec stands for. The device sits on a
 * bus node that carries the dma-ranges and, for a non-coherent device,
 * `dma-noncoherent` (SG2042 puts it on its soc node); a coherent device has
 * `dma-coherent` on its own node.
 */
export function deviceTreeOf(spec: DeviceSpec): device_node {
  const root: device_node = { full_name: '/', parent: null };
  const bus: device_node = { full_name: '/soc', parent: root };
  if (spec.dmaRanges !== undefined) bus.dmaRanges = spec.dmaRanges;
  if (!spec.coherent) bus.dmaNoncoherent = true;
  const node: device_node = { full_name: `/soc/${spec.name}`, parent: bus };
  if (spec.coherent) node.dmaCoherent = true;
  if (spec.memoryRegion !== undefined) node.memoryRegion = [spec.memoryRegion];
  return node;
}

/**
 * Model helper: of_platform_populate for one DeviceSpec, then its probe —
 * platform_dma_configure, the driver's dma_set_mask_and_coherent (and
 * dma_set_coherent_mask when the coherent width differs), then
 * of_reserved_mem_device_init when it has a memory-region. A mask the kernel
 * refuses (-EIO) leaves the configured masks, as a driver that carries on would.
 */
export function probeDeviceSpec(m: Machine, spec: DeviceSpec): device {
  const np = deviceTreeOf(spec);
  const dev = of_platform_device_create_pdata(m, np, spec.name, spec.coherent);
  if (dev === null) throw new ModelError(`${spec.name}: a fresh node cannot be unavailable`);
  platform_dma_configure(m, dev, np);
  if (dma_set_mask_and_coherent(m, dev, DMA_BIT_MASK(spec.dmaMaskBits)) !== 0) knote('driver: dma_set_mask_and_coherent failed');
  if (spec.coherentMaskBits !== spec.dmaMaskBits && dma_set_coherent_mask(m, dev, DMA_BIT_MASK(spec.coherentMaskBits)) !== 0) {
    knote('driver: dma_set_coherent_mask failed');
  }
  if (spec.memoryRegion !== undefined && of_reserved_mem_device_init(m, dev) !== 0) knote('driver: of_reserved_mem_device_init failed');
  return dev;
}

/** Model helper: every DeviceSpec of the profile, in order (m.devices[i] is specs[i]). */
export function ofPlatformPopulate(m: Machine, specs: readonly DeviceSpec[]): device[] {
  return specs.map((s) => probeDeviceSpec(m, s));
}
