// StrykerJS mutation testing (`npm run mutation`). Pinned to 9.6.1: Stryker 10
// needs Node 22, and vitest 5 breaks the runner's test-name filter (#6210).
//
// Scope for now: the bitmap and genalloc libraries and the RISC-V CMO loops.
// The rest of reference/ is to be added later; widen `mutate` and the include
// list of vitest.mutation.config.ts together.
// Check a run with `node bench/mutation-check.mjs`: a Survived mutant with
// testsCompleted 0 is a non-measurement (toolchain notes C1), not a survivor.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  mutate: ['reference/lib/bitmap.ts', 'reference/lib/genalloc.ts', 'reference/arch/riscv/cmo.ts'],
  // The vitest runner always works per test; stated so the intent is visible.
  coverageAnalysis: 'perTest',
  // Module-load mutants (instruction tables, flavour tables) would each re-run every test.
  ignoreStatic: true,
  concurrency: 2,
  // Generous: property files run up to 30 sequences per mutant on a 2-core machine.
  timeoutMS: 30_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 15,
  thresholds: { high: 85, low: 70, break: null },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['coverage', 'scratch', 'out'],
  tempDirName: '.stryker-tmp',
  // Stryker's sandbox step rewrites tsconfig paths through the TypeScript JS API
  // (ts.parseConfigFileTextToJson), which TypeScript 7 no longer ships. Our
  // tsconfig.json needs no rewriting (no extends, no references, nothing outside
  // the project), so point the option at a file that does not exist to skip it.
  tsconfigFile: 'tsconfig.stryker-skip.json',
};
