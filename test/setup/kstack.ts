// Every kernel function the reference enters it must leave (kenter in a try,
// kexit in its finally): the call stack is what dump_stack prints in a
// might_sleep report, so a missing kexit would put stale frames in every later
// report. Checked after each test; the stack is emptied so one leak fails one test.
import { afterEach, expect } from 'vitest';
import { kexit, kstack } from '../../reference/trace.ts';

afterEach(() => {
  const left = kstack();
  while (kstack().length > 0) kexit();
  expect(left, 'kernel functions entered and never left').toEqual([]);
});
