// The 32 GiB device pool of c920-sg2042-5.10-gpu-32g (historic D2): the same
// machine on 6.6, whose gen_pool counts in unsigned long, holds every genpool
// invariant; 5.10's int arithmetic is what breaks it (test/detect/faults.test.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { findProfile } from '../../reference/config/profiles.ts';
import { genpoolHarness } from '../../model/harnesses/genpool.ts';
import { checkProperty } from '../../properties/run.ts';
import { numRunsFor } from '../../properties/settings.ts';
import { runSequence } from '../../model/harness.ts';

const seed = fc.readConfigureGlobal().seed ?? (Date.now() ^ 0x2a) | 0;
const runs = numRunsFor(300);
const broken = findProfile('c920-sg2042-5.10-gpu-32g')!;
const on66 = { ...broken, name: 'c920-sg2042-6.6-gpu-32g', kernel: '6.6' as const, expect: {}, expectDefault: 'holds' as const };
const invariants = genpoolHarness.invariants.map((i) => i.name);

describe('a 32 GiB device pool (gen_pool_create(PAGE_SHIFT), one chunk)', () => {
  it('holds every genpool invariant on 6.6, with requests up to 8 GiB', () => {
    const r = checkProperty(genpoolHarness, on66, invariants, { numRuns: runs, seed });
    const c = r.counterexample;
    expect(r.verdict, c ? `seed ${seed} path ${c.path}: ${c.failure.message}\n${c.trace.join('\n')}` : '').toBe('holds');
  });

  it('the commit\'s scenario: 4 GiB leaves 5.10\'s avail unchanged, 6.6 counts it', () => {
    const op = { k: 'alloc_dev', dev: 0, halfGiB: 8, pages: 0 } as const;
    expect(runSequence(genpoolHarness, on66, [op], invariants)).toBeNull();
    const f = runSequence(genpoolHarness, broken, [op], ['conservation'])!;
    expect(f.message).toBe(`pool 2: gen_pool_avail ${32n << 30n} + allocated ${4n << 30n} != gen_pool_size ${32n << 30n}`);
    // Profiles without device memory get no device pool and no such requests.
    const st = genpoolHarness.setup(findProfile('c920-sg2042-5.10-fixed')!);
    expect(st.devicePools).toEqual([]);
    expect(genpoolHarness.apply(st, op, true)).toBe('(no device memory)');
  });
});
