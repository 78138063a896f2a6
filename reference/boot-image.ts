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
// reachable from the Profile, which nothing mutates, and whatever else the
// caller lists (reference/system.ts adds the boot's leaf page-table maps,
// which pgtable.ts copies on first write). Functions are shared: the few
// closures that capture the machine are re-made by the caller.

export function cloneGraph<T>(root: T, shared: ReadonlySet<object>): T {
  return compileClone(root, shared)();
}

// A copy is made for every generated sequence, from an image that never
// changes, so the walk over the image (memo lookups, frozen and shared checks,
// key lists) is done once: compileClone records every object to copy with its
// prototype, keys and which values are references to other copied objects.
// A copy is then two passes over that list (make the shells, fill them).

const enum Kind {
  Obj,
  Arr,
  Map,
  NativeMap,
  Set,
  View,
}
/** A slot value that is another copied object (its index) or kept as is (-1); -2 is an array hole. */
type Ref = number;
interface PlanNode {
  kind: Kind;
  src: object;
  proto: object | null;
  keys: string[];
  vals: unknown[];
  refs: Ref[];
  /** Maps: the key side of each entry (values use vals/refs). */
  keyVals: unknown[];
  keyRefs: Ref[];
}

/** Records the image once; the returned function makes a fresh copy on every call. */
export function compileClone<T>(root: T, shared: ReadonlySet<object>): () => T {
  if (typeof root !== 'object' || root === null) return () => root;
  const index = new Map<object, number>();
  const plan: PlanNode[] = [];
  const isCopied = (v: unknown): v is object => typeof v === 'object' && v !== null && !shared.has(v) && !Object.isFrozen(v);
  const visit = (v: object): number => {
    const hit = index.get(v);
    if (hit !== undefined) return hit;
    const i = plan.length;
    index.set(v, i);
    const node: PlanNode = { kind: Kind.Obj, src: v, proto: null, keys: [], vals: [], refs: [], keyVals: [], keyRefs: [] };
    plan.push(node);
    const slot = (x: unknown, vals: unknown[], refs: Ref[]): void => {
      if (isCopied(x)) {
        vals.push(undefined);
        refs.push(visit(x));
      } else {
        vals.push(x);
        refs.push(-1);
      }
    };
    if (Array.isArray(v)) {
      node.kind = Kind.Arr;
      for (let j = 0; j < v.length; j++) {
        if (j in v) slot(v[j], node.vals, node.refs);
        else {
          node.vals.push(undefined);
          node.refs.push(-2);
        }
      }
    } else if (v instanceof Map) {
      let native = true;
      for (const [k, x] of v) if (isCopied(k) || isCopied(x)) native = false;
      if (native) node.kind = Kind.NativeMap;
      else {
        node.kind = Kind.Map;
        for (const [k, x] of v) {
          slot(k, node.keyVals, node.keyRefs);
          slot(x, node.vals, node.refs);
        }
      }
    } else if (v instanceof Set) {
      node.kind = Kind.Set;
      for (const x of v) slot(x, node.vals, node.refs);
    } else if (ArrayBuffer.isView(v)) {
      if (!(v instanceof Uint8Array || v instanceof Uint16Array || v instanceof Uint32Array || v instanceof Int32Array || v instanceof Float64Array || v instanceof BigUint64Array))
        throw new Error(`cloneGraph: unsupported view ${v.constructor.name}`);
      node.kind = Kind.View;
    } else {
      const proto = Object.getPrototypeOf(v) as object | null;
      if (proto !== Object.prototype && proto !== null && (v instanceof Date || v instanceof RegExp || v instanceof WeakMap || v instanceof WeakSet || v instanceof Promise))
        throw new Error(`cloneGraph: unsupported object ${v.constructor.name}`);
      node.proto = proto;
      // The machine's objects are plain data: own enumerable, writable string-keyed properties
      // (checked by test/unit/boot-image.test.ts), so assignment keeps their shape.
      for (const k of Object.keys(v)) {
        node.keys.push(k);
        slot((v as Record<string, unknown>)[k], node.vals, node.refs);
      }
    }
    return i;
  };
  visit(root);
  const n = plan.length;
  return () => {
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = plan[i];
      switch (p.kind) {
        case Kind.Obj:
          out[i] = p.proto === Object.prototype ? {} : Object.create(p.proto);
          break;
        case Kind.Arr:
          out[i] = new Array(p.refs.length);
          break;
        case Kind.NativeMap:
          out[i] = new Map(p.src as Map<unknown, unknown>);
          break;
        case Kind.Map:
          out[i] = new Map();
          break;
        case Kind.Set:
          out[i] = new Set();
          break;
        case Kind.View:
          out[i] = (p.src as Uint8Array).slice();
          break;
      }
    }
    for (let i = 0; i < n; i++) {
      const p = plan[i];
      const { vals, refs } = p;
      switch (p.kind) {
        case Kind.Obj: {
          const o = out[i] as Record<string, unknown>;
          const keys = p.keys;
          for (let j = 0; j < keys.length; j++) o[keys[j]] = refs[j] < 0 ? vals[j] : out[refs[j]];
          break;
        }
        case Kind.Arr: {
          const a = out[i] as unknown[];
          for (let j = 0; j < refs.length; j++) if (refs[j] !== -2) a[j] = refs[j] < 0 ? vals[j] : out[refs[j]];
          break;
        }
        case Kind.Map: {
          const m = out[i] as Map<unknown, unknown>;
          const { keyVals, keyRefs } = p;
          for (let j = 0; j < refs.length; j++) m.set(keyRefs[j] < 0 ? keyVals[j] : out[keyRefs[j]], refs[j] < 0 ? vals[j] : out[refs[j]]);
          break;
        }
        case Kind.Set: {
          const s = out[i] as Set<unknown>;
          for (let j = 0; j < refs.length; j++) s.add(refs[j] < 0 ? vals[j] : out[refs[j]]);
          break;
        }
      }
    }
    return out[0] as T;
  };
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
