// Prints the plain closing line CI reads ("vitest: N passed, N failed") from vitest's JSON report.
import { readFileSync } from 'node:fs';
try {
  const r = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
} catch {
  console.log('vitest: 0 passed, 1 failed');
}
