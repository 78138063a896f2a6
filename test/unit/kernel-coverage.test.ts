// properties/kernel-coverage.ts: static checklists, seed-note parsing, the
// counting tracer and one small collection run; plus the plain Tracer it extends.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { CORRECT_PROFILES } from '../../reference/config/profiles.ts';
import { harness } from '../../properties/catalog.ts';
import {
  CountingTracer,
  buildReport,
  collectKernelPaths,
  declaredFunctionsIn,
  editDistance,
  kenterNamesInSource,
  kernelFunctionsIn,
  knoteLiteralsIn,
  seedFunctionsInText,
  seedGaps,
} from '../../properties/kernel-coverage.ts';
import { Tracer, kenter, kexit, knote, setTracer } from '../../reference/trace.ts';

const REF = resolve(import.meta.dirname, '../../reference');

describe('Tracer', () => {
  it('records depth, an optional detail and notes; exit never goes below depth 0', () => {
    const t = new Tracer();
    t.exit();
    t.enter('a', 'x=1');
    t.note('n');
    t.enter('b');
    t.exit();
    t.exit();
    t.exit();
    t.enter('c');
    expect(t.events).toEqual([
      { depth: 0, fn: 'a', detail: 'x=1' },
      { depth: 1, fn: '#', detail: 'n' },
      { depth: 1, fn: 'b' },
      { depth: 0, fn: 'c' },
    ]);
    t.clear();
    expect(t.events).toEqual([]);
  });
});

describe('kenterNamesInSource', () => {
  it('takes literals, both arms of a version ternary (not the compared version) and `const fn` indirections', () => {
    const src = [
      "kenter('gen_pool_alloc');",
      "kenter(mm.kernel === '5.10' ? 'set_pte_at' : 'set_ptes');",
      "const fn = 'debug_dma_map_page';",
      'kenter(fn);',
      "kenter(\"dma_map_page_attrs\", 'detail is not a name');",
      'kenter(dynamicName);',
    ].join('\n');
    expect(kenterNamesInSource(src).sort()).toEqual(['debug_dma_map_page', 'dma_map_page_attrs', 'gen_pool_alloc', 'set_pte_at', 'set_ptes']);
  });

  it('the reference/ checklist holds known kernel functions and no version strings', () => {
    const list = kernelFunctionsIn(REF);
    for (const n of ['gen_pool_first_fit_order_align', '__free_pages', 'set_pte_at', 'set_ptes', 'debug_dma_map_page']) expect(list.has(n)).toBe(true);
    expect([...list.keys()].some((n) => /^\d/.test(n))).toBe(false);
    expect(list.has('kenter')).toBe(false);
    const notes = knoteLiteralsIn(REF);
    expect([...notes.values()].flat().length).toBeGreaterThan(50);
    const declared = declaredFunctionsIn(REF);
    // Header-named kernel functions without kenter, e.g. the thin dma-mapping.h wrappers.
    expect(declared.kernel.get('dma_map_single')).toBe('include/linux/dma-mapping.ts');
    expect(declared.all.has('dma_coherent_ok')).toBe(true);
  });
});

describe('seed notes', () => {
  it('headings that are one lower-case identifier count; topics, types, fields and instructions do not', () => {
    const text = [
      '# dma_alloc_coherent',
      '## dma_alloc_attrs',
      '### device.coherent_dma_mask',
      '### 1. arch_dma_alloc',
      '# pool',
      '## vmap',
      '#### pte_t',
      '#### DCACHE.CIPA',
      '## keyword __force',
      '#### __pte',
      'dma_not_a_heading',
      '## dma_alloc_attrs',
    ].join('\n');
    expect(seedFunctionsInText(text)).toEqual(['dma_alloc_coherent', 'dma_alloc_attrs', 'arch_dma_alloc', 'vmap', '__pte']);
  });

  it('gaps: untraced names are told apart from absent ones; a typo or a shortened name gets its likely counterpart', () => {
    const checklist = ['__alloc_pages_node', 'atomic_pool_work_fn', 'vmap'];
    const declared = new Set(['dma_coherent_ok']);
    expect(seedGaps(['vmap', '__aloc_pages_node', 'atomic_pool_work', 'dma_coherent_ok', 'arch_dma_set_uncached'], checklist, declared)).toEqual([
      { name: '__aloc_pages_node', status: 'absent', nearest: '__alloc_pages_node' },
      { name: 'atomic_pool_work', status: 'absent', nearest: 'atomic_pool_work_fn' },
      { name: 'dma_coherent_ok', status: 'untraced' },
      { name: 'arch_dma_set_uncached', status: 'absent' },
    ]);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'ab')).toBe(2);
  });
});

describe('CountingTracer', () => {
  it('counts entries and keys notes by the innermost kernel function', () => {
    const t = new CountingTracer();
    setTracer(t);
    try {
      knote('before any function');
      kenter('outer');
      knote('a');
      kenter('inner');
      knote('a');
      kexit();
      knote('a');
      kexit();
      kenter('outer');
      kexit();
    } finally {
      setTracer(null);
    }
    expect(Object.fromEntries(t.functions)).toEqual({ outer: 2, inner: 1 });
    expect(Object.fromEntries(t.branches)).toEqual({ '(top level): before any function': 1, 'outer: a': 2, 'inner: a': 1 });
    expect(t.events).toEqual([]); // counts only, no event list
    const r = buildReport(t, { checklist: ['outer', 'never'], notes: new Map([['x.ts', ['a', 'b']]]), kernelNamed: new Map([['thin', 'y.ts']]) }, {
      sequences: 0,
      runs: 0,
      seed: 1,
      profiles: [],
    });
    expect(r.functions).toEqual({ inner: 1, never: 0, outer: 2 });
    expect(r.neverReached).toEqual(['never']);
    expect(r.branchesNeverTaken).toEqual(['x.ts: b']);
    expect(r.untraced).toEqual(['y.ts: thin']);
    t.clear();
    expect(t.functions.size + t.branches.size).toBe(0);
  });

  it('a short collection run reaches the genalloc path and leaves no tracer installed', () => {
    const h = harness('genpool')!;
    const { tracer, sequences } = collectKernelPaths({ runs: 3, seed: 7, profiles: [CORRECT_PROFILES[0]], harnesses: [h] });
    expect(sequences).toBe(3);
    expect(tracer.functions.get('gen_pool_alloc_algo_owner') ?? 0).toBeGreaterThan(0);
    // Same seed, same counts: the report is reproducible.
    const again = collectKernelPaths({ runs: 3, seed: 7, profiles: [CORRECT_PROFILES[0]], harnesses: [h] });
    expect(Object.fromEntries(again.tracer.functions)).toEqual(Object.fromEntries(tracer.functions));
    kenter('after');
    kexit();
    expect(tracer.functions.has('after')).toBe(false);
    expect(again.errors).toEqual([]);
  });

  it('sequences cut short (a machine that oopses at boot) are counted per (profile, harness); the counts up to the throw stay', () => {
    const h = { ...harness('genpool')!, name: 'boom', setup: () => {
      kenter('boot');
      kexit();
      throw new Error('oops while booting');
    } };
    const { tracer, sequences, errors } = collectKernelPaths({ runs: 2, seed: 1, profiles: [CORRECT_PROFILES[0]], harnesses: [h] });
    expect(sequences).toBe(2);
    expect(errors).toEqual([{ profile: CORRECT_PROFILES[0].name, harness: 'boom', count: 2, first: 'boot: oops while booting' }]);
    expect(tracer.functions.get('boot')).toBe(2);

    // An exception escaping runSequence itself (here an invariant check that throws) is caught the same way.
    const g = harness('genpool')!;
    const bad = { ...g, name: 'bad-check', invariants: [{ name: 'refinement', description: '', check: () => {
      throw new Error('check blew up');
    } }] };
    const r = collectKernelPaths({ runs: 1, seed: 1, profiles: [CORRECT_PROFILES[0]], harnesses: [bad] });
    expect(r.errors).toEqual([{ profile: CORRECT_PROFILES[0].name, harness: 'bad-check', count: 1, first: 'check blew up' }]);
  });
});
