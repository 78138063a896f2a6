// npm run bugs as a library: a few fault profiles give well-formed, found rows
// with their historic reference. The full detection claim is faults.test.ts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FAULTS, type FaultInfo, type FaultName } from '../../reference/config/faults.ts';
import { FAULT_PROFILES } from '../../reference/config/profiles.ts';
import { bugTargets, detectedCount, faultsWithoutTarget, formatBugTable, historicLabel, knownScenarioOps, runBugs, type BugRow } from '../../properties/bugs.ts';
import { numRunsFor } from '../../properties/settings.ts';

const seed = fc.readConfigureGlobal().seed ?? 42;
const runs = numRunsFor(3000);

describe('historic catalog in faults.ts', () => {
  it.each(Object.keys(FAULTS) as FaultName[])('%s names its origin', (f) => {
    const info: FaultInfo = FAULTS[f];
    // Every fault is either made up for the model or traced to a kernel bug (catalog id and/or commit).
    expect(info.historic !== undefined || info.commit !== undefined).toBe(true);
    if (info.historic !== undefined) expect(info.historic).toMatch(/^(model|[A-H]\d+[a-z]?)$/);
    if (info.commit !== undefined) expect(info.commit).toMatch(/^[0-9a-f]{40}$/);
    if (info.historic === 'model') expect(info.commit ?? info.title ?? info.analogue).toBeUndefined();
    else expect(info.title).toBeTruthy();
  });

  it('labels ids, analogues and commits', () => {
    expect(historicLabel(FAULTS['pool-size-64x'])).toBe('A1 3ee06a6d532f');
    expect(historicLabel(FAULTS['sync-for-cpu-skipped'])).toBe('~G4');
    expect(historicLabel(FAULTS['buddy-no-merge'])).toBe('model');
    expect(historicLabel(FAULTS['swiotlb-from-device-no-copy'])).toBe('- ddbd89deb7d3');
  });
});

describe('bug table rows', () => {
  const pick = new Set(['pool-size-64x', 'cmo-clean-l1-only', 'gfp-zone-dma32-as-normal']);
  const targets = bugTargets().filter((t) => pick.has(t.bug));
  let cached: BugRow[] | undefined;
  // Computed once, by whichever test runs first (each test also runs alone with -t).
  const getRows = () => (cached ??= runBugs({ runs, seed }, targets));

  it('finds each picked fault with a shrunk counterexample and a detection time', () => {
    expect(targets.map((t) => `${t.bug}/${t.invariant}`).sort()).toEqual([
      'cmo-clean-l1-only/no-stale-read',
      'gfp-zone-dma32-as-normal/zone',
      'pool-size-64x/pool-floor',
    ]);
    const rows = getRows();
    for (const r of rows) {
      expect(r.found, `${r.bug} not found`).toBe(true);
      expect(r.kind).toBe('fault');
      expect(r.profile).toBe(`${FAULT_PROFILES.find((p) => p.faults[0] === r.bug)!.name}`);
      expect(r.caughtBy).toBe(r.invariant);
      expect(r.harness).not.toBeNull();
      expect(r.shrunkOps).toBeGreaterThan(0);
      expect(r.runsToDetect).toBeGreaterThan(0);
      expect(r.runsToDetect).toBeLessThanOrEqual(runs);
      // Detection is measured before shrinking starts.
      expect(r.detectMs).toBeGreaterThan(0);
      expect(r.detectMs!).toBeLessThanOrEqual(r.totalMs);
      expect(r.message).toBeTruthy();
      expect(r.seed).toBe(seed);
    }
    expect(rows.find((r) => r.bug === 'cmo-clean-l1-only')!.ref).toMatchObject({ historic: 'F2', commit: '8eb8fe67e2c84324398f5983c41b4f831d0705b3' });
    expect(detectedCount(rows)).toEqual({ detected: 3, total: 3, missed: [] });
  });

  it('prints one line per row under a header', () => {
    const rows = getRows();
    const lines = formatBugTable(rows);
    expect(lines).toHaveLength(rows.length + 1);
    expect(lines[0]).toMatch(/^fault\s+invariant\s+caught by\s+found\s+ops\s+known\s+detect ms\s+seqs\s+historic$/);
    const l = lines.find((x) => x.startsWith('pool-size-64x'))!;
    expect(l).toMatch(/^pool-size-64x\s+pool-floor\s+alloc\s+yes\s+\d+\s+-\s+[\d.]+\s+\d+\s+A1 3ee06a6d532f$/);
  });

  it('a broken profile that stands for a catalogued bug carries its reference', () => {
    const t = bugTargets().find((x) => x.bug === 'c920-sg2042-6.6-dma-hole')!;
    expect(t).toMatchObject({ kind: 'profile', invariant: 'max-mapping-size' });
    expect(historicLabel(t.ref)).toBe('B8 a409d9600959');
  });

  it('counts a fault as missed when one of its invariants is not found', () => {
    const r = (bug: string, found: boolean) => ({ bug, found }) as BugRow;
    expect(detectedCount([r('a', true), r('a', false), r('b', true)])).toEqual({ detected: 1, total: 2, missed: ['a'] });
  });
});

describe('faults with no target', () => {
  it('are exactly the faults no fault profile turns on, each with a reason', () => {
    const targeted = new Set(FAULT_PROFILES.flatMap((p) => p.faults));
    const none = faultsWithoutTarget();
    for (const u of none) {
      expect(targeted.has(u.fault)).toBe(false);
      expect(u.reason).not.toBe('');
    }
    expect(new Set([...targeted, ...none.map((u) => u.fault)])).toEqual(new Set(Object.keys(FAULTS)));
  });
});

describe('shortest known scenarios', () => {
  it('come from the golden scenarios declared violated on that profile', () => {
    expect(knownScenarioOps('c920-sg2042-6.6+cmo-clean-l1-only', 'no-stale-read')).toBe(4);
    expect(knownScenarioOps('c920-sg2042-6.6', 'no-stale-read')).toBeNull();
    expect(knownScenarioOps('board-1g-6.6+pool-size-64x', 'pool-floor')).toBeNull();
  });
});
