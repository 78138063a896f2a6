// might_sleep and its sites (CONFIG_DEBUG_ATOMIC_SLEEP): include/linux/kernel.h,
// include/linux/preempt.h, kernel/sched/core.c, kernel/locking/mutex.c; and the
// sleeping functions of the DMA allocation paths (historic A8: what the inverted
// dma_direct_use_pool reached from atomic context).
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../reference/config/profile.ts';
import { CORRECT_PROFILES, findProfile } from '../../reference/config/profiles.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { createTask, type task_struct } from '../../reference/include/linux/sched.ts';
import { in_atomic, preempt_count, preempt_disable, preempt_enable } from '../../reference/include/linux/preempt.ts';
import { might_sleep, might_sleep_if } from '../../reference/include/linux/kernel.ts';
import { mutex_lock } from '../../reference/kernel/locking/mutex.ts';
import { gfpFlags } from '../../reference/include/linux/gfp.ts';
import { kenter, kexit, kstack } from '../../reference/trace.ts';
import { alloc_pages, __free_pages } from '../../reference/mm/page_alloc.ts';
import { vmap, vunmap, VM_MAP } from '../../reference/mm/vmalloc.ts';
import { PAGE_KERNEL } from '../../reference/arch/riscv/pgtable.ts';
import { cma_alloc } from '../../reference/mm/cma.ts';
import { dma_alloc_contiguous } from '../../reference/kernel/dma/contiguous.ts';
import { dma_alloc_attrs } from '../../reference/kernel/dma/mapping.ts';
import type { device } from '../../reference/include/linux/device.ts';
import { ModelError } from '../../reference/types.ts';
import { dev } from '../support/machines.ts';

function profile(name: string): Profile {
  const p = findProfile(name);
  if (p === undefined) throw new Error(`no profile ${name}`);
  return p;
}

/** Runs f inside a frame named fn, as a kernel function calling it would. */
function inFrame<T>(fn: string, f: () => T): T {
  kenter(fn);
  try {
    return f();
  } finally {
    kexit();
  }
}

/** Runs f with preempt_count raised (a spinlock held), returning what __might_sleep reported meanwhile. */
function atomically<T>(t: task_struct, f: () => T): { value: T; reports: task_struct['sleepReports'] } {
  const seen = t.sleepReports.length;
  preempt_disable(t);
  try {
    return { value: f(), reports: t.sleepReports.slice(seen) };
  } finally {
    preempt_enable(t);
  }
}

describe('preempt_count and might_sleep', () => {
  it('process context: might_sleep reports nothing; under preempt_disable it reports the calling function and the stack', () => {
    const t = createTask(7, 'test');
    inFrame('caller', () => might_sleep(t));
    expect(t.sleepReports).toEqual([]);
    expect(in_atomic(t)).toBe(false);
    preempt_disable(t);
    preempt_disable(t);
    expect(preempt_count(t)).toBe(2);
    expect(in_atomic(t)).toBe(true);
    inFrame('outer', () => inFrame('caller', () => might_sleep(t)));
    preempt_enable(t);
    preempt_enable(t);
    expect(t.sleepReports).toEqual([{ at: 'caller', preempt_count: 2, stack: ['outer', 'caller'] }]);
    expect(in_atomic(t)).toBe(false);
  });

  it('might_sleep_if only checks when the condition holds; no task means no check', () => {
    const t = createTask(7, 'test');
    preempt_disable(t);
    inFrame('a', () => might_sleep_if(t, false));
    expect(t.sleepReports).toHaveLength(0);
    inFrame('b', () => might_sleep_if(t, true));
    expect(t.sleepReports.map((r) => r.at)).toEqual(['b']);
    inFrame('c', () => might_sleep(undefined));
    preempt_enable(t);
    expect(t.sleepReports).toHaveLength(1);
  });

  it('mutex_lock is a might_sleep site of its own, and the report names it', () => {
    const t = createTask(7, 'test');
    const { reports } = atomically(t, () => inFrame('cma_alloc', () => mutex_lock(t)));
    expect(reports).toEqual([{ at: 'mutex_lock', preempt_count: 1, stack: ['cma_alloc', 'mutex_lock'] }]);
    mutex_lock(t);
    expect(t.sleepReports).toHaveLength(1);
  });

  it('an unpaired preempt_enable is misuse', () => {
    expect(() => preempt_enable(createTask(7, 'test'))).toThrow(ModelError);
  });

  it('the call stack unwinds through exceptions', () => {
    const before = kstack();
    expect(() => inFrame('x', () => inFrame('y', () => {
      throw new Error('boom');
    }))).toThrow('boom');
    expect(kstack()).toEqual(before);
  });
});

describe('sleeping functions on the allocation paths', () => {
  it('every correct machine boots in process context with nothing reported', () => {
    for (const p of CORRECT_PROFILES) {
      const m = buildMachine(p);
      expect(preempt_count(m.current), p.name).toBe(0);
      expect(m.current.sleepReports, p.name).toEqual([]);
      expect(m.mm.current).toBe(m.current);
      expect(m.init_mm.current).toBe(m.current);
    }
  });

  it('__alloc_pages may sleep only with a blocking gfp (5.10 might_sleep_if __GFP_DIRECT_RECLAIM, 6.6 might_alloc)', () => {
    for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed']) {
      const m = buildMachine(profile(name));
      const G = gfpFlags(m.profile.kernel);
      const quiet = atomically(m.current, () => alloc_pages(m.mm, G.GFP_ATOMIC, 0));
      expect(quiet.value).not.toBeNull();
      expect(quiet.reports).toEqual([]);
      const nowait = atomically(m.current, () => alloc_pages(m.mm, G.GFP_NOWAIT, 1));
      expect(nowait.reports).toEqual([]);
      const loud = atomically(m.current, () => alloc_pages(m.mm, G.GFP_KERNEL, 0));
      expect(loud.value).not.toBeNull();
      expect(loud.reports.map((r) => r.at)).toEqual(['prepare_alloc_pages']);
      expect(loud.reports[0].stack.slice(0, 2)).toEqual(['alloc_pages', 'alloc_pages_node']);
      for (const pfn of [quiet.value!, nowait.value!, loud.value!]) __free_pages(m.mm, pfn, pfn === nowait.value ? 1 : 0);
    }
  });

  it('vmap (then alloc_vmap_area) and vunmap may sleep', () => {
    const m = buildMachine(profile('c920-sg2042-6.6'));
    const pfn = alloc_pages(m.mm, gfpFlags('6.6').GFP_KERNEL, 0)!;
    const mapped = atomically(m.current, () => vmap(m.init_mm, [pfn], 1, VM_MAP, PAGE_KERNEL(m.init_mm.cfg)));
    expect(mapped.value).not.toBeNull();
    expect(mapped.reports.map((r) => r.at)).toEqual(['vmap', 'alloc_vmap_area']);
    expect(mapped.reports[1].stack).toEqual(['vmap', 'get_vm_area_caller', '__get_vm_area_node', 'alloc_vmap_area']);
    const unmapped = atomically(m.current, () => vunmap(m.init_mm, mapped.value!));
    expect(unmapped.reports.map((r) => r.at)).toEqual(['vunmap']);
    // The same calls in process context report nothing.
    const va = vmap(m.init_mm, [pfn], 1, VM_MAP, PAGE_KERNEL(m.init_mm.cfg))!;
    vunmap(m.init_mm, va);
    expect(m.current.sleepReports).toHaveLength(3);
  });

  it('cma_alloc takes mutexes: cma_mutex in both, cma->lock too in 5.10 (a spinlock in 6.6)', () => {
    for (const [name, sites] of [
      ['c920-sg2042-6.6-cma', ['mutex_lock']],
      ['c920-sg2042-5.10-cma', ['mutex_lock', 'mutex_lock']],
    ] as const) {
      const m = buildMachine(profile(name));
      const r = atomically(m.current, () => cma_alloc(m, m.cma.default, 4, 2, false));
      expect(r.value, name).not.toBeNull();
      expect(r.reports.map((x) => x.at), name).toEqual(sites);
      expect(r.reports[0].stack.at(-2)).toBe('cma_alloc');
    }
  });

  it('dma_alloc_contiguous never reaches CMA with a non-blocking gfp (5.10, 6.6): NULL and nothing reported', () => {
    for (const name of ['c920-sg2042-6.6-cma', 'c920-sg2042-5.10-cma']) {
      const m = buildMachine(profile(name));
      const G = gfpFlags(m.profile.kernel);
      const r = atomically(m.current, () => dma_alloc_contiguous(m, dev(m, 'dwmac0'), 64n << 10n, G.GFP_ATOMIC));
      expect(r.value).toBeNull();
      expect(r.reports).toEqual([]);
    }
  });

  it('dma_alloc_coherent(GFP_ATOMIC) on a non-coherent device takes the pool and sleeps nowhere; the inverted predicate (A8) sleeps in vmap', () => {
    for (const name of ['c920-sg2042-6.6', 'c920-sg2042-5.10-fixed', 'board-1g-6.6']) {
      const p = profile(name);
      const G = gfpFlags(p.kernel);
      const ok = buildMachine(p);
      const good = atomically(ok.current, () => dma_alloc_attrs(ok, dev(ok, 'sdhci0'), 4096n, { dma_handle: 0n }, G.GFP_ATOMIC, 0));
      expect(good.value, name).not.toBeNull();
      expect(good.reports, name).toEqual([]);
      const bad = buildMachine({ ...p, faults: ['pool-guess-inverted'] });
      const r = atomically(bad.current, () => dma_alloc_attrs(bad, dev(bad, 'sdhci0'), 4096n, { dma_handle: 0n }, G.GFP_ATOMIC, 0));
      expect(r.value, name).not.toBeNull();
      expect(r.reports[0].at, name).toBe('vmap');
      expect(r.reports[0].stack, name).toEqual(expect.arrayContaining(['dma_alloc_attrs', 'dma_direct_alloc', 'dma_common_contiguous_remap', 'vmap']));
    }
  });
});
