// A Profile as JSON and back, for saved counterexamples. JSON has no bigint, so
// every bigint (addresses, sizes, dma-ranges) is written as a hex string with
// the BigInt literal suffix: 0x800000000n -> "0x800000000n". The reader is
// schema-directed: only fields that are bigint in Profile accept (and require)
// that form, so an ordinary string that happens to look like it is never turned
// into a number. Unknown keys are rejected: a typo in a hand-edited file would
// otherwise silently replay a different machine.

import { BACKPORTS, type DeviceSpec, type Expectation, type KernelVersion, type MemoryRange, type PlatformSpec, type Profile, type ReservedMemorySpec } from '../reference/config/profile.ts';
import { isFaultName, type FaultName } from '../reference/config/faults.ts';

/** A field of a decoded document is missing or has the wrong shape; `path` says which. */
export class ShapeError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

const BIGINT_RE = /^-?0x[0-9a-f]+n$/;

export function encodeBigint(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}n` : `0x${v.toString(16)}n`;
}

export function decodeBigint(v: unknown, path: string): bigint {
  if (typeof v !== 'string' || !BIGINT_RE.test(v)) throw new ShapeError(path, `expected a bigint written as "0x…n", got ${show(v)}`);
  const neg = v.startsWith('-');
  const n = BigInt(v.slice(neg ? 1 : 0, -1));
  return neg ? -n : n;
}

/** JSON.stringify replacer: bigint -> "0x…n". */
export function bigintReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? encodeBigint(v) : v;
}

/** The profile as plain JSON data (bigints encoded). */
export function encodeProfile(p: Profile): unknown {
  return JSON.parse(JSON.stringify(p, bigintReplacer));
}

// ---- decoding ---------------------------------------------------------------

type AssertSame<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

const KERNELS = ['5.10', '6.6'] as const;
const GEOMETRIES = ['sg2042', 'model'] as const;
const CMO_FLAVOURS = ['none', 'zicbom', 'thead-va-cval1', 'thead-va', 'thead-pa', 'sophgo-pa'] as const;
const VENDOR_CMO = ['th1520-beagleboard', 'th1520-beagleboard-preinit', 'sg2042-sophgo', 'd1-c906'] as const;
const MEMTYPE_SCHEMES = ['svpbmt', 'thead-mae', 'none', 'vendor-5.10-static'] as const;
const THEAD_TABLES = ['5.19-6.6', '6.7-typo', 'fixed', 'sophgo'] as const;
const COMPATIBLES = ['shared-dma-pool', 'restricted-dma-pool', 'other'] as const;
const EXPECTATIONS = ['holds', 'violated', 'n/a'] as const;
const CBIE = [0, 1, 2, 3] as const;
const SYNC_POLICIES = ['6.0-6.5', '6.6'] as const;

// Field lists per object: the decoder rejects keys not listed, and the checks below fail
// to compile when Profile gains or loses a field, so a new field cannot be dropped silently.
const PROFILE_REQUIRED = ['name', 'description', 'kernel', 'kconfig', 'memory', 'reserved', 'cmdline', 'zoneDmaBits', 'platform', 'devices', 'faults', 'expect', 'expectDefault'] as const;
const PROFILE_OPTIONAL = ['reservedMemory', 'riscvDmaSyncPolicy', 'bugRef', 'backports'] as const;
const PLATFORM_KEYS = ['geometry', 'maee', 'pbmte', 'cbomBlockSize', 'menvcfgCbie', 'cmoFlavour', 'vendorCmo', 'memTypes', 'swiotlbSlots'] as const;
const DEVICE_REQUIRED = ['name', 'coherent', 'dmaMaskBits', 'coherentMaskBits'] as const;
const DEVICE_OPTIONAL = ['dmaRanges', 'memoryRegion', 'deviceMemory', 'rxBehindHeader'] as const;
const RESMEM_REQUIRED = ['name', 'base', 'size', 'compatible'] as const;
const RESMEM_FLAGS = ['reusable', 'noMap', 'cmaDefault', 'dmaDefault'] as const;

// Compile-time: the lists above name every member of the Profile types, no more, no less.
const typesCovered: [
  AssertSame<(typeof KERNELS)[number], KernelVersion>,
  AssertSame<(typeof GEOMETRIES)[number], PlatformSpec['geometry']>,
  AssertSame<(typeof CMO_FLAVOURS)[number], PlatformSpec['cmoFlavour']>,
  AssertSame<(typeof VENDOR_CMO)[number] | null, PlatformSpec['vendorCmo']>,
  AssertSame<(typeof MEMTYPE_SCHEMES)[number], PlatformSpec['memTypes']['scheme']>,
  AssertSame<(typeof THEAD_TABLES)[number], PlatformSpec['memTypes']['theadTable']>,
  AssertSame<(typeof COMPATIBLES)[number], ReservedMemorySpec['compatible']>,
  AssertSame<(typeof EXPECTATIONS)[number], Expectation>,
  AssertSame<(typeof CBIE)[number], PlatformSpec['menvcfgCbie']>,
  AssertSame<(typeof SYNC_POLICIES)[number], NonNullable<Profile['riscvDmaSyncPolicy']>>,
  AssertSame<(typeof PROFILE_REQUIRED)[number] | (typeof PROFILE_OPTIONAL)[number], keyof Profile>,
  AssertSame<(typeof PLATFORM_KEYS)[number], keyof PlatformSpec>,
  AssertSame<(typeof DEVICE_REQUIRED)[number] | (typeof DEVICE_OPTIONAL)[number], keyof DeviceSpec>,
  AssertSame<(typeof RESMEM_REQUIRED)[number] | (typeof RESMEM_FLAGS)[number], keyof ReservedMemorySpec>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void typesCovered;

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Checks `v` is an object with exactly the required keys plus any of the optional ones. */
export function object(v: unknown, path: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(path, `expected an object, got ${show(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of required) if (!(k in o)) throw new ShapeError(path, `missing field "${k}"`);
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) throw new ShapeError(path, `unknown field "${k}"`);
  return o;
}

/** An object used as a map (any keys). */
export function record(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(path, `expected an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

export function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new ShapeError(path, `expected a string, got ${show(v)}`);
  return v;
}

export function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new ShapeError(path, `expected true or false, got ${show(v)}`);
  return v;
}

export function int(v: unknown, path: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ShapeError(path, `expected an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return v;
}

export function oneOf<T extends string | number>(v: unknown, path: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new ShapeError(path, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${show(v)}`);
  return v as T;
}

export function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new ShapeError(path, `expected an array, got ${show(v)}`);
  return v;
}

function range(v: unknown, path: string): MemoryRange {
  const o = object(v, path, ['base', 'size']);
  return { base: decodeBigint(o.base, `${path}.base`), size: decodeBigint(o.size, `${path}.size`) };
}

function platform(v: unknown, path: string): PlatformSpec {
  const o = object(v, path, PLATFORM_KEYS);
  const mt = object(o.memTypes, `${path}.memTypes`, ['scheme', 'theadTable']);
  return {
    geometry: oneOf(o.geometry, `${path}.geometry`, GEOMETRIES),
    maee: bool(o.maee, `${path}.maee`),
    pbmte: bool(o.pbmte, `${path}.pbmte`),
    cbomBlockSize: int(o.cbomBlockSize, `${path}.cbomBlockSize`, 0, 4096),
    menvcfgCbie: oneOf(o.menvcfgCbie, `${path}.menvcfgCbie`, CBIE),
    cmoFlavour: oneOf(o.cmoFlavour, `${path}.cmoFlavour`, CMO_FLAVOURS),
    vendorCmo: o.vendorCmo === null ? null : oneOf(o.vendorCmo, `${path}.vendorCmo`, VENDOR_CMO),
    memTypes: { scheme: oneOf(mt.scheme, `${path}.memTypes.scheme`, MEMTYPE_SCHEMES), theadTable: oneOf(mt.theadTable, `${path}.memTypes.theadTable`, THEAD_TABLES) },
    swiotlbSlots: int(o.swiotlbSlots, `${path}.swiotlbSlots`, 0, 1 << 24),
  };
}

function device(v: unknown, path: string): DeviceSpec {
  const o = object(v, path, DEVICE_REQUIRED, DEVICE_OPTIONAL);
  const d: DeviceSpec = {
    name: str(o.name, `${path}.name`),
    coherent: bool(o.coherent, `${path}.coherent`),
    dmaMaskBits: int(o.dmaMaskBits, `${path}.dmaMaskBits`, 1, 64),
    coherentMaskBits: int(o.coherentMaskBits, `${path}.coherentMaskBits`, 1, 64),
  };
  if (o.dmaRanges !== undefined) {
    d.dmaRanges = array(o.dmaRanges, `${path}.dmaRanges`).map((r, i) => {
      const p = `${path}.dmaRanges[${i}]`;
      const x = object(r, p, ['cpu', 'dma', 'size']);
      return { cpu: decodeBigint(x.cpu, `${p}.cpu`), dma: decodeBigint(x.dma, `${p}.dma`), size: decodeBigint(x.size, `${p}.size`) };
    });
  }
  if (o.memoryRegion !== undefined) d.memoryRegion = str(o.memoryRegion, `${path}.memoryRegion`);
  if (o.deviceMemory !== undefined) d.deviceMemory = decodeBigint(o.deviceMemory, `${path}.deviceMemory`);
  if (o.rxBehindHeader !== undefined) d.rxBehindHeader = bool(o.rxBehindHeader, `${path}.rxBehindHeader`);
  return d;
}

function reservedMemory(v: unknown, path: string): ReservedMemorySpec {
  const o = object(v, path, RESMEM_REQUIRED, RESMEM_FLAGS);
  const r: ReservedMemorySpec = {
    name: str(o.name, `${path}.name`),
    base: decodeBigint(o.base, `${path}.base`),
    size: decodeBigint(o.size, `${path}.size`),
    compatible: oneOf(o.compatible, `${path}.compatible`, COMPATIBLES),
  };
  for (const f of RESMEM_FLAGS) if (o[f] !== undefined) r[f] = bool(o[f], `${path}.${f}`);
  return r;
}

function kconfig(v: unknown, path: string): Record<string, boolean | number | string> {
  const o = record(v, path);
  const out: Record<string, boolean | number | string> = {};
  for (const [k, x] of Object.entries(o)) {
    if (!k.startsWith('CONFIG_')) throw new ShapeError(`${path}.${k}`, 'Kconfig symbols carry their CONFIG_ prefix');
    if (typeof x !== 'boolean' && typeof x !== 'string' && !(typeof x === 'number' && Number.isFinite(x))) {
      throw new ShapeError(`${path}.${k}`, `expected a boolean, number or string, got ${show(x)}`);
    }
    out[k] = x;
  }
  return out;
}

/** Decodes and checks a profile written by encodeProfile; throws ShapeError naming the bad field. */
export function decodeProfile(v: unknown, path = 'profile'): Profile {
  const o = object(v, path, PROFILE_REQUIRED, PROFILE_OPTIONAL);
  const memory = array(o.memory, `${path}.memory`).map((r, i) => range(r, `${path}.memory[${i}]`));
  if (memory.length === 0) throw new ShapeError(`${path}.memory`, 'a machine needs at least one memory bank');
  const faults: FaultName[] = array(o.faults, `${path}.faults`).map((f, i) => {
    const s = str(f, `${path}.faults[${i}]`);
    if (!isFaultName(s)) throw new ShapeError(`${path}.faults[${i}]`, `unknown fault "${s}" (reference/config/faults.ts)`);
    return s;
  });
  const expect: Record<string, Expectation> = {};
  for (const [k, x] of Object.entries(record(o.expect, `${path}.expect`))) expect[k] = oneOf(x, `${path}.expect.${k}`, EXPECTATIONS);
  const p: Profile = {
    name: str(o.name, `${path}.name`),
    description: str(o.description, `${path}.description`),
    kernel: oneOf(o.kernel, `${path}.kernel`, KERNELS),
    kconfig: kconfig(o.kconfig, `${path}.kconfig`),
    memory,
    reserved: array(o.reserved, `${path}.reserved`).map((r, i) => range(r, `${path}.reserved[${i}]`)),
    cmdline: str(o.cmdline, `${path}.cmdline`),
    zoneDmaBits: int(o.zoneDmaBits, `${path}.zoneDmaBits`, 1, 64),
    platform: platform(o.platform, `${path}.platform`),
    devices: array(o.devices, `${path}.devices`).map((d, i) => device(d, `${path}.devices[${i}]`)),
    faults,
    expect,
    expectDefault: oneOf(o.expectDefault, `${path}.expectDefault`, EXPECTATIONS),
  };
  if (o.riscvDmaSyncPolicy !== undefined) p.riscvDmaSyncPolicy = oneOf(o.riscvDmaSyncPolicy, `${path}.riscvDmaSyncPolicy`, SYNC_POLICIES);
  if (o.reservedMemory !== undefined) {
    p.reservedMemory = array(o.reservedMemory, `${path}.reservedMemory`).map((r, i) => reservedMemory(r, `${path}.reservedMemory[${i}]`));
  }
  if (o.bugRef !== undefined) {
    const b = object(o.bugRef, `${path}.bugRef`, [], ['historic', 'analogue', 'commit', 'title']);
    const ref: NonNullable<Profile['bugRef']> = {};
    if (b.historic !== undefined) ref.historic = str(b.historic, `${path}.bugRef.historic`);
    if (b.analogue !== undefined) ref.analogue = bool(b.analogue, `${path}.bugRef.analogue`);
    if (b.commit !== undefined) ref.commit = str(b.commit, `${path}.bugRef.commit`);
    if (b.title !== undefined) ref.title = str(b.title, `${path}.bugRef.title`);
    p.bugRef = ref;
  }
  if (o.backports !== undefined) p.backports = array(o.backports, `${path}.backports`).map((b, i) => oneOf(b, `${path}.backports[${i}]`, BACKPORTS));
  return p;
}
