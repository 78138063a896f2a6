// kernel/sched/core.c under CONFIG_DEBUG_ATOMIC_SLEEP: 5.10 __might_sleep ->
// ___might_sleep(file, line, 0), 6.6 __might_sleep -> __might_resched(file,
// line, 0). Both print "BUG: sleeping function called from invalid context"
// with in_atomic() and a stack dump, taint the kernel, and carry on.
//
// Left out: the RCU read-side depth (the model takes no rcu_read_lock),
// irqs_disabled() (nothing here disables interrupts without also raising
// preempt_count), the idle task and non_block sections (never current here),
// system_state (the model's tasks only run after boot), and the once-per-second
// rate limit (every report is kept; the first is what an invariant shows).

import type { task_struct } from '../../include/linux/sched.ts';
import { preempt_count } from '../../include/linux/preempt.ts';
import { kenter, kexit, knote, kstack } from '../../trace.ts';

// The annotation's own frames; the report names the function that called it (mutex_lock stays).
const OWN_FRAMES = new Set(['might_sleep', 'might_sleep_if', '__might_sleep']);

/** kernel/sched/core.c __might_sleep (5.10 via ___might_sleep, 6.6 via __might_resched) with preempt_offset 0. */
export function __might_sleep(t: task_struct): void {
  kenter('__might_sleep');
  try {
    if (preempt_count(t) === 0) return;
    knote('BUG: sleeping function called from invalid context');
    const frames = kstack();
    while (frames.length > 0 && OWN_FRAMES.has(frames[frames.length - 1])) frames.pop();
    t.sleepReports.push({ at: frames[frames.length - 1] ?? '(top level)', preempt_count: preempt_count(t), stack: frames });
  } finally {
    kexit();
  }
}
