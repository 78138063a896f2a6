// StrykerJS mutation testing (`npm run mutation`). Pinned to 9.6.1: Stryker 10
// needs Node 22, and vitest 5 breaks the runner's test-name filter (#6210).
//
// Scope: every file of reference/ with logic in it. Left out: the data tables
// (built-in profiles, the fault catalog, platform facts), whose mutants change
// a machine description rather than the kernel's code. MUTATE narrows it
// (comma-separated globs) for a quick run on one file.
// Check a run with `node bench/mutation-check.mjs`: a Survived mutant with
// testsCompleted 0 is a non-measurement (toolchain notes C1), not a survivor.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  mutate: process.env.MUTATE
    ? process.env.MUTATE.split(',')
    : ['reference/**/*.ts', '!reference/config/profiles.ts', '!reference/config/faults.ts', '!reference/config/faults/**', '!reference/config/platform-facts.ts'],
  // Results are kept per mutant and reused while neither the mutant's file nor its tests change.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  // The vitest runner always works per test; stated so the intent is visible.
  coverageAnalysis: 'perTest',
  // String literals are messages, trace notes and names: a mutant there changes text, not the
  // kernel's behaviour, and they were a third of all mutants. (Kernel-version strings are lost with them.)
  mutator: { excludedMutations: ['StringLiteral'] },
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
