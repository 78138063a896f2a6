// CMA areas for arithmetic tests of mm/cma.c, without booting a machine.
import type { Machine } from '../../reference/system.ts';
import { cmaObject, type cma } from '../../reference/mm/cma.ts';
import { bitmapAlloc } from '../../reference/lib/bitmap.ts';

/** cma_alloc reads m.faults and m.profile.kernel only (6.6 takes no mutex, so no m.current is needed). */
export function fakeMachine(faults: string[] = []): Machine {
  return { faults: new Set(faults), profile: { kernel: '6.6' } } as unknown as Machine;
}

/** An activated area (bitmap allocated) built directly. */
export function area(base_pfn: number, count: number, order_per_bit = 0): cma {
  const c = cmaObject('t', BigInt(base_pfn) << 12n, BigInt(count) << 12n, order_per_bit);
  c.bitmap = bitmapAlloc(Math.floor(count / 2 ** order_per_bit));
  return c;
}
