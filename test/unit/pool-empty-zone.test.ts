// An atomic pool for a zone with no managed pages (historic A6, a674e48c5443;
// companion 62b310707364 has_managed_dma): which pools dma_atomic_pool_init
// sets out to create, and the boot clause of pool-floor that catches a
// configured pool that could not be created.
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { findProfile } from '../../reference/config/profiles.ts';
import { buildMachine } from '../../reference/system.ts';
import { atomicPoolsOf, has_managed_dma } from '../../reference/kernel/dma/pool.ts';
import { ZoneType } from '../../reference/mm/mmzone.ts';
import { allocHarness } from '../../model/harnesses/alloc.ts';
import { runSequence } from '../../model/harness.ts';
import { ENOMEM } from '../../reference/types.ts';

const MiB = 1n << 20n;

function profile(name: string, patch: Partial<Profile> = {}): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return { ...p, ...patch };
}

function poolFloorAtBoot(p: Profile): string | null {
  return allocHarness.setup(p).v['pool-floor'] ?? null;
}

describe('has_managed_dma (mm/page_alloc.c, 62b310707364)', () => {
  it('false without CONFIG_ZONE_DMA, false for a ZONE_DMA whose RAM memblock reserved, true once it has managed pages', () => {
    expect(has_managed_dma(buildMachine(profile('c920-sg2042-6.6')))).toBe(false);
    const kdump = buildMachine(profile('kdump-like-6.6'));
    expect(kdump.mm.node_zones[ZoneType.ZONE_DMA].present_pages).toBe(256);
    expect(kdump.mm.node_zones[ZoneType.ZONE_DMA].managed_pages).toBe(0);
    expect(has_managed_dma(kdump)).toBe(false);
    // The same machine with the low 1 MiB handed to the buddy.
    const freed = buildMachine(profile('kdump-like-6.6', { reserved: [{ base: 0x3000_0000n, size: 2n * MiB }] }));
    expect(has_managed_dma(freed)).toBe(true);
    expect(has_managed_dma(buildMachine(profile('three-zone-5.10')))).toBe(true);
  });
});

describe('kdump-like-6.6: ZONE_DMA configured, no managed pages', () => {
  it('6.6 creates kernel and dma32 pools only and the initcall succeeds', () => {
    const s = atomicPoolsOf(buildMachine(profile('kdump-like-6.6')));
    expect(s.configured).toEqual({ dma: false, dma32: true, kernel: true });
    expect(s.atomic_pool_dma).toBeNull();
    expect(s.atomic_pool_dma32).not.toBeNull();
    expect(s.atomic_pool_kernel).not.toBeNull();
    expect(s.initResult).toBe(0);
    expect(s.log.some((l) => l.startsWith('DMA: failed'))).toBe(false);
  });

  it('pool-floor holds at boot; with pool-for-empty-zone the dma pool is configured, missing, and pool-floor says so', () => {
    expect(poolFloorAtBoot(profile('kdump-like-6.6'))).toBeNull();
    const bad = profile('kdump-like-6.6+pool-for-empty-zone');
    const s = atomicPoolsOf(buildMachine(bad));
    expect(s.configured.dma).toBe(true);
    expect(s.initResult).toBe(-ENOMEM);
    expect(poolFloorAtBoot(bad)).toMatch(
      /^atomic pool dma: dma_atomic_pool_init set out to create it but it does not exist, 0 < atomic_pool_size 131072 \(DMA: failed to allocate 128 KiB GFP_KERNEL\|__GFP_DMA pool for atomic allocation\)$/,
    );
    // The violation is there before any operation: the shortest sequence is the final free_all alone.
    expect(runSequence(allocHarness, bad, [], ['pool-floor'])?.step).toBe(0);
  });

  it('5.10 has the bug natively: the same memory map on 5.10 breaks pool-floor (no 5.10 profile here has an empty ZONE_DMA)', () => {
    const p510 = profile('three-zone-5.10', {
      memory: profile('kdump-like-6.6').memory,
      reserved: profile('kdump-like-6.6').reserved,
    });
    const s = atomicPoolsOf(buildMachine(p510));
    expect(s.configured.dma).toBe(true);
    expect(s.atomic_pool_dma).toBeNull();
    expect(poolFloorAtBoot(p510)).toMatch(/^atomic pool dma: dma_atomic_pool_init set out to create it/);
    expect(poolFloorAtBoot(profile('three-zone-5.10'))).toBeNull();
  });

});
