import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/setup/fast-check.ts'],
    include: ['test/**/*.test.ts'],
    // Property files are CPU-bound: use every core (vitest's default leaves one idle).
    maxWorkers: availableParallelism(),
    testTimeout: 120_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['reference/**/*.ts', 'model/**/*.ts', 'properties/**/*.ts'],
      reporter: ['text-summary', 'html', 'lcov', 'json-summary'],
      reportOnFailure: true,
    },
  },
});
