// Machines and devices for unit tests: a built-in profile booted as is or with
// Kconfig symbols changed, and its devices by name.
import { buildMachine, type Machine } from '../../reference/system.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import type { device } from '../../reference/include/linux/device.ts';
import type { Profile } from '../../reference/config/profile.ts';

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
