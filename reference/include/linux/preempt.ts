// include/linux/preempt.h (5.10, 6.6) with CONFIG_PREEMPT_COUNT: the counter
// spin_lock() raises and in_atomic() reads. The model's one CPU runs `t`.

import type { task_struct } from './sched.ts';
import { kenter, kexit } from '../../trace.ts';
import { ModelError } from '../../types.ts';

/** include/linux/preempt.h preempt_count (asm-generic/preempt.h on riscv). */
export function preempt_count(t: task_struct): number {
  kenter('preempt_count');
  try {
    return t.preempt_count;
  } finally {
    kexit();
  }
}

/** include/linux/preempt.h in_atomic: preempt_count() != 0. */
export function in_atomic(t: task_struct): boolean {
  kenter('in_atomic');
  try {
    return preempt_count(t) !== 0;
  } finally {
    kexit();
  }
}

/** include/linux/preempt.h preempt_disable (what spin_lock does first). */
export function preempt_disable(t: task_struct): void {
  kenter('preempt_disable');
  try {
    t.preempt_count++;
  } finally {
    kexit();
  }
}

/** include/linux/preempt.h preempt_enable; an unpaired one would underflow the count (DEBUG_PREEMPT warns): misuse. */
export function preempt_enable(t: task_struct): void {
  kenter('preempt_enable');
  try {
    if (t.preempt_count === 0) throw new ModelError('preempt_enable without preempt_disable');
    t.preempt_count--;
  } finally {
    kexit();
  }
}
