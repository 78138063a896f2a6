// Worker thread for `verify --workers N`: checks the profiles it is handed and
// posts their results back. Profiles and results are plain data (bigints
// included), so they cross the thread boundary by structured clone.

import { parentPort, workerData } from 'node:worker_threads';
import type { Profile } from '../reference/config/profile.ts';
import { verifyProfile, type VerifyOptions } from '../properties/verify.ts';

interface Job {
  profiles: Profile[];
  opts: Omit<VerifyOptions, 'onResult'>;
}

const job = workerData as Job;
for (const p of job.profiles) {
  parentPort!.postMessage({ profile: p.name, results: verifyProfile(p, job.opts) });
}
