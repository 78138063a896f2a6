// drivers/base/devres.c (5.10, 6.6): the managed-resource list, as much as the
// dmam_* helpers need. Records sit on dev->devres_head oldest first; lookups and
// release walk it newest first, as the kernel's list_for_each_entry_reverse does.
// devres_alloc's kmalloc is not modelled (it never fails here).

import type { Machine } from '../../system.ts';
import type { device } from '../../include/linux/device.ts';
import { kenter, kexit } from '../../trace.ts';
import { ENOENT } from '../../types.ts';

/** struct devres: the release callback that identifies the kind, and its payload. */
export interface devres {
  release: (m: Machine, dev: device, res: unknown) => void;
  data: unknown;
}

export type dr_match_t = (dev: device, res: unknown, match_data: unknown) => boolean;

/** drivers/base/devres.c devres_add (5.10, 6.6). */
export function devres_add(dev: device, dr: devres): void {
  kenter('devres_add');
  try {
    (dev.devres_head ??= []).push(dr);
  } finally {
    kexit();
  }
}

/**
 * drivers/base/devres.c devres_destroy (5.10, 6.6) = devres_remove + free: the
 * newest record with this release function that `match` accepts; -ENOENT if none.
 */
export function devres_destroy(dev: device, release: devres['release'], match: dr_match_t | null, match_data: unknown): number {
  kenter('devres_destroy');
  try {
    const list = dev.devres_head ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const dr = list[i];
      if (dr.release !== release) continue;
      if (match !== null && !match(dev, dr.data, match_data)) continue;
      list.splice(i, 1);
      return 0;
    }
    return -ENOENT;
  } finally {
    kexit();
  }
}

/** drivers/base/devres.c devres_release_all (5.10, 6.6): on driver detach, release every record newest first. */
export function devres_release_all(m: Machine, dev: device): number {
  kenter('devres_release_all');
  try {
    const list = dev.devres_head ?? [];
    const n = list.length;
    while (list.length > 0) {
      const dr = list.pop()!;
      dr.release(m, dev, dr.data);
    }
    return n;
  } finally {
    kexit();
  }
}
