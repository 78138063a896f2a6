// Vitest config for StrykerJS mutation runs only (stryker.config.mjs points here);
// `npm test` keeps using vitest.config.ts. Each mutant pays a vitest run, so this
// leaves out the suites whose cost does not shrink under Stryker (see include).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Pins the fast-check seed and caps numRuns under Stryker (properties/settings.ts);
    // without it the mutant runs cannot find the dry run's test names (toolchain notes C1).
    setupFiles: ['test/setup/fast-check.ts', 'test/setup/kstack.ts'],
    // Unit, property and golden tests. Not test/detect (3000 sequences per fault, not reduced under
    // Stryker) and not test/e2e (CLI subprocesses): they would dominate every mutant's run.
    include: ['test/unit/**/*.test.ts', 'test/props/**/*.test.ts', 'test/golden/**/*.test.ts'],
    // Reads reference/ source text, which Stryker instruments: it checks the tooling, not the kernel model.
    exclude: ['test/unit/kernel-coverage.test.ts'],
    // The Stryker vitest runner forces these anyway (threads, one worker): parallelism is Stryker's.
    pool: 'threads',
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
