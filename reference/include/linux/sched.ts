// include/linux/sched.h struct task_struct (5.10, 6.6): only what
// CONFIG_DEBUG_ATOMIC_SLEEP reads and prints. riscv keeps preempt_count in
// thread_info (asm-generic/preempt.h reads current_thread_info()->preempt_count);
// the model has one CPU running one task, so it sits on the task.

/** What kernel/sched/core.c printed for one "sleeping function called from invalid context". */
export interface SleepInAtomicReport {
  /** The function that called might_sleep (the kernel prints its file:line). */
  at: string;
  preempt_count: number;
  /** Kernel call stack at the report, outermost first, might_sleep's own frames left out. */
  stack: string[];
}

export interface task_struct {
  readonly pid: number;
  readonly comm: string;
  /** PREEMPT_COUNT is on: CONFIG_DEBUG_ATOMIC_SLEEP selects it, so spin_lock's preempt_disable is counted. */
  preempt_count: number;
  /** Model: the reports __might_sleep printed, in order (the kernel rate-limits them to one per second). */
  sleepReports: SleepInAtomicReport[];
}

/** Model constructor: the task that runs driver calls, in process context with nothing held. */
export function createTask(pid: number, comm: string): task_struct {
  return { pid, comm, preempt_count: 0, sleepReports: [] };
}
