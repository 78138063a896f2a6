// Builds the pieces of one machine from a Profile. The only entry point the
// model layer needs; it grows as the coherence and allocation stacks land.

import type { Profile } from './config/profile.ts';
import { kconfigEnabled } from './config/profile.ts';
import type { MmConfig } from './mm/page_alloc.ts';

export function mmConfigOf(p: Profile): MmConfig {
  return {
    kernel: p.kernel,
    memory: p.memory,
    reserved: p.reserved,
    CONFIG_ZONE_DMA: kconfigEnabled(p, 'CONFIG_ZONE_DMA'),
    CONFIG_ZONE_DMA32: kconfigEnabled(p, 'CONFIG_ZONE_DMA32'),
    zoneDmaBits: p.zoneDmaBits,
    faults: new Set(p.faults),
  };
}
