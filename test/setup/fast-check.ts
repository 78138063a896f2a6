// Wires FC_SEED / FC_NUM_RUNS into fast-check (it reads no environment itself)
// and pins the seed under StrykerJS: a random seed in test names makes every
// mutant "survive" because the mutant run cannot find the dry run's tests.
import fc from 'fast-check';
import { fcSettingsFromEnv } from '../../properties/settings.ts';

fc.configureGlobal({ ...fc.readConfigureGlobal(), ...fcSettingsFromEnv(process.env) });
