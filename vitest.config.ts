import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/setup/fast-check.ts', 'test/setup/kstack.ts'],
    include: ['test/**/*.test.ts'],
    // Property files are CPU-bound: use every core (vitest's default leaves one idle).
    maxWorkers: availableParallelism(),
    testTimeout: 120_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['reference/**/*.ts', 'model/**/*.ts', 'properties/**/*.ts'],
      reporter: ['text-summary', 'html', 'lcov', 'json-summary'],
      reportsDirectory: 'coverage',
      reportOnFailure: true,
      // The reference model is what every verdict rests on: a line nobody runs is a
      // claim nobody checked. The run fails when reference/ drops below these.
      thresholds: {
        'reference/**': { lines: 95, branches: 90 },
      },
    },
  },
});
