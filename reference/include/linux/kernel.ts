// include/linux/kernel.h might_sleep / might_sleep_if (5.10, 6.6): the
// annotation every function that may block carries. With
// CONFIG_DEBUG_ATOMIC_SLEEP it reports a call from atomic context; without a
// task (unit tests of a bare allocator) there is nothing to check.

import type { task_struct } from './sched.ts';
import { __might_sleep } from '../../kernel/sched/core.ts';
import { kenter, kexit } from '../../trace.ts';

/** include/linux/kernel.h might_sleep (5.10, 6.6); might_resched is a no-op for a !PREEMPT_VOLUNTARY model. */
export function might_sleep(t: task_struct | undefined): void {
  kenter('might_sleep');
  try {
    if (t !== undefined) __might_sleep(t);
  } finally {
    kexit();
  }
}

/** include/linux/kernel.h might_sleep_if (5.10, 6.6). */
export function might_sleep_if(t: task_struct | undefined, cond: boolean): void {
  kenter('might_sleep_if');
  try {
    if (cond) might_sleep(t);
  } finally {
    kexit();
  }
}
