// Vitest config for StrykerJS mutation runs only (stryker.config.mjs points here);
// `npm test` keeps using vitest.config.ts. Each mutant pays a vitest run, so this
// includes only the tests that exercise the mutated files: their unit tests, the
// *-mutation tests written to kill survivors, and the property files whose
// harnesses drive them (foundation: bitmap + genpool; coherence: the CMO loops).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Pins the fast-check seed and caps numRuns under Stryker (properties/settings.ts);
    // without it the mutant runs cannot find the dry run's test names (toolchain notes C1).
    setupFiles: ['test/setup/fast-check.ts'],
    include: [
      'test/unit/bitmap.test.ts',
      'test/unit/genalloc.test.ts',
      'test/unit/cmo.test.ts',
      'test/unit/dma-noncoherent.test.ts',
      'test/unit/*-mutation.test.ts',
      'test/props/foundation.test.ts',
      'test/props/coherence.test.ts',
    ],
    // The Stryker vitest runner forces these anyway (threads, one worker): parallelism is Stryker's.
    pool: 'threads',
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
