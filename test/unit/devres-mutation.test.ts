// reference/drivers/base/devres.ts: devres_destroy's lookup and devres_release_all
// on an empty list (drivers/base/devres.c, the same in 5.10 and 6.6): the
// StrykerJS survivors of chunk debug-of.
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../reference/system.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { devres_add, devres_destroy, devres_release_all, type devres } from '../../reference/drivers/base/devres.ts';
import { ENOENT } from '../../reference/types.ts';
import { machine } from '../support/machines.ts';

/** Two release callbacks (two kinds of record) that log what they free. */
function kinds(log: string[]): { relA: devres['release']; relB: devres['release'] } {
  return {
    relA: (_m: Machine, _d: device, res: unknown) => log.push(`A:${String(res)}`),
    relB: (_m: Machine, _d: device, res: unknown) => log.push(`B:${String(res)}`),
  };
}

describe('devres_destroy (find_dr: release must match, then match() if given)', () => {
  it('skips a newer record of another kind even when match() would accept it', () => {
    const m = machine('c920-sg2042-6.6');
    const d = m.devices[0];
    const log: string[] = [];
    const { relA, relB } = kinds(log);
    devres_add(d, { release: relA, data: 1 });
    devres_add(d, { release: relB, data: 2 });
    expect(devres_destroy(d, relA, () => true, null)).toBe(0);
    // Only the B record is left for driver detach.
    expect(devres_release_all(m, d)).toBe(1);
    expect(log).toEqual(['B:2']);
  });

  it('with match NULL the newest record of the kind goes; with none left, -ENOENT', () => {
    const m = machine('c920-sg2042-6.6');
    const d = m.devices[0];
    const log: string[] = [];
    const { relA } = kinds(log);
    devres_add(d, { release: relA, data: 1 });
    devres_add(d, { release: relA, data: 2 });
    expect(devres_destroy(d, relA, null, null)).toBe(0);
    expect(devres_destroy(d, relA, null, null)).toBe(0);
    expect(devres_destroy(d, relA, null, null)).toBe(-ENOENT);
    expect(devres_release_all(m, d)).toBe(0);
    expect(log).toEqual([]); // devres_destroy frees without calling release
  });
});

describe('devres_release_all', () => {
  it('a device that never had a managed resource: nothing to release, 0', () => {
    const m = machine('c920-sg2042-6.6');
    const d = m.devices[0];
    expect(d.devres_head).toBeUndefined();
    expect(devres_release_all(m, d)).toBe(0);
  });
});
