// Machines and devices for unit tests: a built-in profile booted as is or with
// Kconfig symbols changed, and its devices by name.
import { buildMachine, type Machine } from '../../reference/system.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import type { device } from '../../reference/include/linux/device.ts';
import type { Profile } from '../../reference/config/profile.ts';
import { get_vm_area } from '../../reference/mm/vmalloc.ts';

export function machine(name: string, kconfig: Record<string, boolean> = {}): Machine {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return buildMachine({ ...p, kconfig: { ...p.kconfig, ...kconfig } });
}

export function dev(m: Machine, name: string): device {
  const d = m.devices.find((x) => x.name === name);
  if (d === undefined) throw new Error(`no device ${name}`);
  return d;
}

/** A built-in profile by name (a typo fails the test loudly). */
export function profileNamed(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

/**
 * Another vmalloc user reserves every free range of [VMALLOC_START, VMALLOC_END) (address
 * space only, no pages), so the next vmap / dma_common_contiguous_remap fails as on a kernel
 * whose vmalloc space ran out. The failed attempts WARN "vmap allocation ... failed" into m.warnings.
 */
export function fillVmallocSpace(m: Machine): void {
  const { VMALLOC_START, VMALLOC_END } = m.init_mm.layout;
  for (let size = (VMALLOC_END - VMALLOC_START) & ~4095n; size >= 4096n; size /= 2n) {
    while (get_vm_area(m.init_mm, size, 0) !== null);
  }
}
