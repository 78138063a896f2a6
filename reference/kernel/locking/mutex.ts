// kernel/locking/mutex.c mutex_lock (5.10, 6.6): the lock itself is not
// modelled (one task, nothing contends); what remains is that taking any mutex
// may sleep, so it is a might_sleep site even when uncontended.

import type { task_struct } from '../../include/linux/sched.ts';
import { might_sleep } from '../../include/linux/kernel.ts';
import { kenter, kexit } from '../../trace.ts';

/** kernel/locking/mutex.c mutex_lock (5.10, 6.6): might_sleep(), then the (uncontended) fast path. */
export function mutex_lock(t: task_struct | undefined): void {
  kenter('mutex_lock');
  try {
    might_sleep(t);
  } finally {
    kexit();
  }
}
