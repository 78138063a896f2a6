// reference/boot-image.ts compileClone / cloneGraph / reachable: the corners
// the machine-level checks in boot-image.test.ts do not reach — primitive
// roots, sparse arrays (holes and their length), the root object met again
// inside an array, a Map (as key and as value) or a Set, and the objects
// the copy must refuse. A copy that got any of these wrong would hand a
// property run a machine that is not the booted one.
import { describe, expect, it } from 'vitest';
import { cloneGraph, compileClone, reachable } from '../../reference/boot-image.ts';

describe('compileClone: roots that are not objects', () => {
  it('a primitive or null root is its own copy', () => {
    expect(cloneGraph(7, new Set())).toBe(7);
    expect(cloneGraph(5n, new Set())).toBe(5n);
    expect(cloneGraph(null, new Set())).toBeNull();
    expect(compileClone('pte', new Set())()).toBe('pte');
  });
});

describe('compileClone: arrays', () => {
  it('holes stay holes, trailing ones included, and the length is kept', () => {
    const leaf = { n: 1 };
    const src = [leaf, , 3, ,] as unknown[];
    expect(src.length).toBe(4);
    const c = cloneGraph({ list: src }, new Set()).list;
    expect(c.length).toBe(4);
    expect(1 in c).toBe(false);
    expect(3 in c).toBe(false);
    expect(c[0]).toEqual(leaf);
    expect(c[0]).not.toBe(leaf);
    expect(c[2]).toBe(3);
    expect(Object.keys(c)).toEqual(['0', '2']);
  });

  it('the root met again inside an array is the copy of the root', () => {
    const root: { list: unknown[] } = { list: [] };
    root.list.push(root);
    const c = cloneGraph(root, new Set());
    expect(c).not.toBe(root);
    expect(c.list[0]).toBe(c);
  });
});

describe('compileClone: plain objects', () => {
  it('a copy has exactly the keys of its original', () => {
    const src = { a: 1, b: { c: 2n } };
    const c = cloneGraph(src, new Set());
    expect(Object.keys(c)).toEqual(['a', 'b']);
    expect(Object.keys(c.b)).toEqual(['c']);
    expect('undefined' in c).toBe(false);
  });
});

describe('compileClone: Maps and Sets', () => {
  it('an object Map key is copied (not dropped, not shared), and the root as key or value is the copy', () => {
    const key = { k: 1 };
    type Root = { m: Map<unknown, unknown>; byRoot: Map<unknown, unknown>; s: Set<unknown> };
    const root = { m: new Map<unknown, unknown>([[key, 'v']]), byRoot: new Map(), s: new Set() } as Root;
    root.byRoot.set(root, 'self').set('up', root);
    root.s.add(root);
    const c = cloneGraph(root, new Set());
    const keys = [...c.m.keys()];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toEqual(key);
    expect(keys[0]).not.toBe(key);
    expect(c.m.has(undefined)).toBe(false);
    expect(c.byRoot.get(c)).toBe('self');
    expect(c.byRoot.has(root)).toBe(false);
    expect(c.byRoot.get('up')).toBe(c);
    expect(c.s.size).toBe(1);
    expect(c.s.has(c)).toBe(true);
    // The copy is independent of its original: changing one leaves the other alone.
    (keys[0] as { k: number }).k = 9;
    expect(key.k).toBe(1);
  });
});

describe('compileClone: objects it cannot copy faithfully', () => {
  it('a Date or a RegExp is refused, wherever it sits', () => {
    expect(() => cloneGraph({ when: new Date(0) }, new Set())).toThrow(/unsupported object Date/);
    expect(() => cloneGraph({ re: /x/ }, new Set())).toThrow(/unsupported object RegExp/);
  });
});

describe('reachable', () => {
  it('finds objects held only by a Map (key and value) or a Set', () => {
    const k = { k: 1 };
    const v = { v: 2 };
    const s = { s: 3 };
    const r = reachable({ m: new Map([[k, v]]), set: new Set([s]) });
    expect(r.has(k)).toBe(true);
    expect(r.has(v)).toBe(true);
    expect(r.has(s)).toBe(true);
  });
});
