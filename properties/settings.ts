// How many sequences a property runs and with which seed, from the environment.
// fast-check reads no environment variables itself, so this is the one place.

export interface FcSettings {
  seed?: number;
  numRuns?: number;
}

const STRYKER_SEED = 0x5eed;

function intFrom(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got "${v}"`);
  return n;
}

/** Global fast-check settings: FC_SEED, and a pinned seed under StrykerJS (see toolchain notes C1). */
export function fcSettingsFromEnv(env: NodeJS.ProcessEnv): FcSettings {
  const out: FcSettings = {};
  const seed = intFrom(env.FC_SEED, 'FC_SEED');
  if (seed !== undefined) out.seed = seed | 0;
  const runs = intFrom(env.FC_NUM_RUNS, 'FC_NUM_RUNS');
  if (runs !== undefined) out.numRuns = runs;
  if (env.STRYKER_MUTATOR_WORKER !== undefined) {
    out.seed = STRYKER_SEED;
    out.numRuns = Math.min(out.numRuns ?? 30, 30);
  }
  return out;
}

/**
 * Sequences per property: FC_NUM_RUNS if set, a small count under Stryker
 * (each mutant pays a whole run), else the default the caller asks for.
 */
export function numRunsFor(defaultRuns: number, env: NodeJS.ProcessEnv = process.env): number {
  const n = intFrom(env.FC_NUM_RUNS, 'FC_NUM_RUNS');
  if (n !== undefined) {
    if (n < 1) throw new Error('FC_NUM_RUNS must be at least 1');
    return n;
  }
  if (env.STRYKER_MUTATOR_WORKER !== undefined) return Math.min(defaultRuns, 30);
  return defaultRuns;
}
