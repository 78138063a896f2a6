// A bus master: reads and writes through its DMA addresses. The bus translates
// DMA to physical addresses with the parent's dma-ranges; a non-coherent master
// sees only memory, a coherent one snoops the CPU caches. The device only
// drives as many address lines as its mask has bits: higher bits are lost.

import type { Machine } from '../system.ts';
import type { device } from '../include/linux/device.ts';
import { translate_dma_to_phys } from '../include/linux/dma-direct.ts';
import { ModelError, hex, U64_MAX } from '../types.ts';

function busToPhys(dev: device, dma: bigint): bigint {
  const width = dev.dma_mask ?? U64_MAX;
  const onBus = dma & width;
  if (dev.dma_range_map === null) return onBus;
  const pa = translate_dma_to_phys(dev, onBus);
  if (pa === U64_MAX) throw new ModelError(`${dev.name}: bus address ${hex(onBus)} is outside every dma-range`);
  return pa;
}

export function deviceRead(m: Machine, dev: device, dma: bigint, len: number): Uint8Array {
  const pa = busToPhys(dev, dma);
  return dev.hwSnoops ? m.caches.snoopRead(pa, len) : m.mem.read(pa, len);
}

export function deviceWrite(m: Machine, dev: device, dma: bigint, data: Uint8Array): void {
  const pa = busToPhys(dev, dma);
  if (dev.hwSnoops) m.caches.snoopWrite(pa, data);
  else m.mem.write(pa, data);
}
