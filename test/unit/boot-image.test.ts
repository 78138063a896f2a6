// The boot image is only a speed-up if a copy is the machine a fresh boot
// would give: same state, no sharing of anything mutable, no closure left
// pointing into the image.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cloneGraph, reachable } from '../../reference/boot-image.ts';
import { buildMachine, type Machine } from '../../reference/system.ts';
import { BUILTIN_PROFILES, findProfile } from '../../reference/config/profiles.ts';
import { setTracer, Tracer } from '../../reference/trace.ts';
import { HARNESSES } from '../../properties/catalog.ts';
import { runSequence } from '../../model/harness.ts';
import { sequenceArb } from '../../properties/run.ts';
import type { Profile } from '../../reference/config/profile.ts';
import { PAGE_KERNEL, walkPageTable } from '../../reference/arch/riscv/pgtable.ts';
import { vmap, vunmap, VM_MAP } from '../../reference/mm/vmalloc.ts';
import { PAGE_SIZE_N } from '../../reference/types.ts';

/** A real boot: with a tracer active buildMachine never uses the image. */
function freshBoot(p: Profile): Machine {
  setTracer(new Tracer());
  try {
    return buildMachine(p);
  } finally {
    setTracer(null);
  }
}

/** Canonical text of a machine graph: shape and values, functions by name only, cycles by first path. */
function canon(root: unknown): string {
  const seen = new Map<object, string>();
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'function') return `fn`;
    if (typeof v !== 'object' || v === null) return v;
    const again = seen.get(v);
    if (again !== undefined) return `@${again}`;
    seen.set(v, path);
    if (v instanceof Map) return ['Map', [...v].map(([k, x], i) => [walk(k, `${path}.k${i}`), walk(x, `${path}.v${i}`)])];
    if (v instanceof Set) return ['Set', [...v].map((x, i) => walk(x, `${path}.s${i}`))];
    if (ArrayBuffer.isView(v)) return [v.constructor.name, Array.from(v as Uint8Array, (x) => String(x))];
    const o: Record<string, unknown> = { __proto: Object.getPrototypeOf(v)?.constructor?.name };
    for (const k of Object.keys(v)) o[k] = walk((v as Record<string, unknown>)[k], `${path}.${k}`);
    return o;
  };
  return JSON.stringify(walk(root, '$'));
}

/** Profiles that boot (a broken one may oops at boot, which is never cached). */
function boots(p: Profile): boolean {
  try {
    freshBoot(p);
    return true;
  } catch {
    return false;
  }
}

describe('cloneGraph', () => {
  it('keeps sharing, cycles, prototypes, Map keys and typed arrays; shares frozen and listed objects', () => {
    class Box {
      constructor(public v: number) {}
      twice(): number {
        return this.v * 2;
      }
    }
    const frozen = Object.freeze({ pte: 5n });
    const shared = { name: 'profile' };
    const key = { k: 1 };
    const inner = { n: 1, arr: new Uint32Array([1, 2, 3]) };
    const root: Record<string, unknown> = { a: inner, b: inner, box: new Box(3), frozen, shared, map: new Map<unknown, unknown>([[key, inner], [7, 8n]]), set: new Set([inner]) };
    root.self = root;
    const c = cloneGraph(root, new Set([shared]));
    expect(c).not.toBe(root);
    expect(c.a).not.toBe(inner);
    expect(c.a).toBe(c.b);
    expect(c.self).toBe(c);
    expect(c.box).toBeInstanceOf(Box);
    expect((c.box as Box).twice()).toBe(6);
    expect(c.frozen).toBe(frozen);
    expect(c.shared).toBe(shared);
    const m = c.map as Map<unknown, unknown>;
    const [k2] = [...m.keys()].filter((k) => typeof k === 'object');
    expect(k2).not.toBe(key);
    expect(m.get(k2)).toBe(c.a);
    expect(m.get(7)).toBe(8n);
    expect([...(c.set as Set<unknown>)][0]).toBe(c.a);
    (c.a as typeof inner).arr[0] = 99;
    expect(inner.arr[0]).toBe(1);
  });

  it('refuses objects it cannot copy faithfully', () => {
    expect(() => cloneGraph({ d: new DataView(new ArrayBuffer(4)) }, new Set())).toThrow(/unsupported view/);
    expect(() => cloneGraph({ w: new WeakMap() }, new Set())).toThrow(/unsupported object/);
  });

  it('reachable lists everything under the root', () => {
    const leaf = { x: 1 };
    const r = reachable({ a: [leaf], m: new Map([[1, leaf]]) });
    expect(r.has(leaf)).toBe(true);
    expect(r.size).toBe(4);
  });
});

describe('boot image', () => {
  const profiles = BUILTIN_PROFILES.filter(boots);

  it.each(profiles.map((p) => [p.name, p] as const))('%s: a copy equals a fresh boot, before and after another copy is used', (_n, p) => {
    const fresh = canon(freshBoot(p));
    const a = buildMachine(p);
    expect(canon(a)).toBe(fresh);
    // Use the copy hard: if anything were shared with the image, the next copy would differ.
    const h = HARNESSES.find((x) => x.name === 'coherence')!;
    if (h.appliesTo(p)) {
      const seqs = fc.sample(sequenceArb(h, p, h.maxOps ?? 60), { numRuns: 3, seed: 7 });
      for (const s of seqs) runSequence(h, p, s, []);
    }
    expect(canon(buildMachine(p))).toBe(fresh);
  });

  it('the copied machine objects are plain data (own enumerable writable properties only)', () => {
    const m = buildMachine(findProfile('board-1g-6.6-dt-pools')!);
    const seen = new Set<object>();
    const stack: unknown[] = [m];
    while (stack.length > 0) {
      const v = stack.pop();
      if (typeof v !== 'object' || v === null || seen.has(v) || Object.isFrozen(v)) continue;
      seen.add(v);
      if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
      else if (v instanceof Set) for (const x of v) stack.push(x);
      else if (Array.isArray(v)) stack.push(...(v as unknown[]));
      else if (!ArrayBuffer.isView(v)) {
        expect(Object.getOwnPropertySymbols(v)).toEqual([]);
        for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(v))) {
          expect(d.enumerable && d.writable && 'value' in d, `property ${k}`).toBe(true);
          stack.push(d.value);
        }
      }
    }
    expect(seen.size).toBeGreaterThan(100);
  });

  it('page tables are copied on first write: a mapping made in one copy is absent from the others', () => {
    const p = findProfile('c920-sg2042-6.6')!;
    const a = buildMachine(p);
    const before = buildMachine(p);
    const pfns = [0x4_0000, 0x4_0001, 0x4_0002];
    const va = vmap(a.init_mm, pfns, pfns.length, VM_MAP, PAGE_KERNEL(a.init_mm.cfg));
    expect(va).not.toBeNull();
    // The new mapping shares its PTE page with the boot-time remaps (the copy-on-write case):
    // the page below is the guard page of the area before it.
    const boot = va! - 2n * PAGE_SIZE_N;
    expect(walkPageTable(a.init_mm, boot)).not.toBeNull();
    expect(walkPageTable(a.init_mm, va!)?.pa).toBe(0x4_0000n << 12n);
    const after = buildMachine(p);
    for (const m of [before, after]) {
      expect(walkPageTable(m.init_mm, va!)).toBeNull();
      expect(walkPageTable(m.init_mm, boot)).toEqual(walkPageTable(a.init_mm, boot));
    }
    vunmap(a.init_mm, va!);
    expect(walkPageTable(a.init_mm, va!)).toBeNull();
    expect(canon(buildMachine(p))).toBe(canon(after));
  });

  it('closures act on the copy, not on the image', () => {
    const p = findProfile('c920-sg2042-6.6')!;
    const a = buildMachine(p);
    const b = buildMachine(p);
    const pa = a.swiotlbPool!.base;
    a.cpuMem.store(pa, new Uint8Array([1, 2, 3]));
    expect(a.caches.lineCount).toBeGreaterThan(0);
    expect(b.caches.lineCount).toBe(0);
    expect(Array.from(a.cpuMem.load(pa, 3))).toEqual([1, 2, 3]);
    expect(Array.from(b.cpuMem.load(pa, 3))).toEqual([0, 0, 0]);
  });

  it('every harness gives the same verdicts and failing steps on copies as on fresh boots', () => {
    const names = ['c920-sg2042-6.6', 'c920-sg2042-5.10-vendor', 'board-1g-6.6-dt-pools', 'c920-sg2042-6.6+cmo-clean-l1-only', 'board-1g-6.6+pool-size-64x'];
    for (const name of names) {
      const p = findProfile(name)!;
      for (const h of HARNESSES.filter((x) => x.appliesTo(p))) {
        const invs = h.invariants.map((i) => i.name);
        for (const s of fc.sample(sequenceArb(h, p, h.maxOps ?? 60), { numRuns: 15, seed: 3 })) {
          const copied = runSequence(h, p, s, invs);
          setTracer(new Tracer());
          let booted;
          try {
            booted = runSequence(h, p, s, invs);
          } finally {
            setTracer(null);
          }
          expect(copied, `${name} ${h.name}`).toEqual(booted);
        }
      }
    }
  });
});
