// Boot once, copy many times. A property run boots a fresh machine for every
// generated sequence, and booting (the atomic pools' remap, thousands of PTEs)
// cost more than the operations that followed. The machine after boot is a
// pure function of its Profile (nothing random; the only module-level state is
// the tracer and the kernel call stack, empty between calls), so a deep copy
// of the booted graph is the same machine.
//
// The copy keeps object identity and sharing (one copy per original object,
// cycles included), prototypes and property attributes. Frozen objects are
// values (pte_t, pgprot_t, constant tables) and are shared, as is everything
// reachable from the Profile, which nothing mutates. Functions are shared:
// the few closures that capture the machine are re-made by the caller.

export function cloneGraph<T>(root: T, shared: ReadonlySet<object>): T {
  const memo = new Map<object, unknown>();
  const copy = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (shared.has(v) || Object.isFrozen(v)) return v;
    const hit = memo.get(v);
    if (hit !== undefined) return hit;
    if (Array.isArray(v)) {
      const a: unknown[] = new Array(v.length);
      memo.set(v, a);
      for (let i = 0; i < v.length; i++) if (i in v) a[i] = copy(v[i]);
      return a;
    }
    if (v instanceof Map) {
      // Page tables are Maps of thousands of bigints: copy natively, then replace the object entries.
      const m = new Map(v);
      memo.set(v, m);
      v.forEach((x: unknown, k: unknown) => {
        if (typeof k === 'object' && k !== null) {
          m.delete(k);
          m.set(copy(k), copy(x));
        } else if (typeof x === 'object' && x !== null) m.set(k, copy(x));
      });
      return m;
    }
    if (v instanceof Set) {
      const s = new Set();
      memo.set(v, s);
      for (const x of v) s.add(copy(x));
      return s;
    }
    if (ArrayBuffer.isView(v)) {
      if (!(v instanceof Uint8Array || v instanceof Uint16Array || v instanceof Uint32Array || v instanceof Int32Array || v instanceof Float64Array || v instanceof BigUint64Array))
        throw new Error(`cloneGraph: unsupported view ${v.constructor.name}`);
      const c = v.slice();
      memo.set(v, c);
      return c;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null && (v instanceof Date || v instanceof RegExp || v instanceof WeakMap || v instanceof WeakSet || v instanceof Promise))
      throw new Error(`cloneGraph: unsupported object ${(v as object).constructor.name}`);
    const o = (proto === Object.prototype ? {} : Object.create(proto as object | null)) as Record<string, unknown>;
    memo.set(v, o);
    const src = v as Record<string, unknown>;
    // The machine's objects are plain data: own enumerable, writable string-keyed properties
    // (checked by test/unit/boot-image.test.ts), so assignment keeps their shape.
    for (const k of Object.keys(src)) o[k] = copy(src[k]);
    return o;
  };
  return copy(root) as T;
}

/** Every object reachable from `root` (the Profile: shared by all copies, never mutated). */
export function reachable(root: unknown): Set<object> {
  const out = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || out.has(v)) continue;
    out.add(v);
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v instanceof Set) for (const x of v) stack.push(x);
    else if (!ArrayBuffer.isView(v)) for (const k of Reflect.ownKeys(v)) stack.push((v as Record<PropertyKey, unknown>)[k]);
  }
  return out;
}
