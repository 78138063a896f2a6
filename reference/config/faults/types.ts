// What a fault switch records. One file per kernel area holds the switches;
// reference/config/faults.ts merges them into the catalog.

export interface FaultTarget {
  /** The correct built-in profile the fault is switched on in (its name in reference/config/profiles.ts). */
  base: string;
  /** Invariants the fault must break there; npm run bugs and test/detect check each. */
  breaks: readonly string[];
}

export interface FaultInfo {
  fn: string;
  description: string;
  /**
   * The entry of /work/shared/spec/historic-bugs.md this fault stands for ('A1', 'F2', 'D4b'), or 'model'
   * for a defect made up so that a property has something to find. Absent: a real kernel bug that the
   * catalog does not list (commit and title say which).
   */
  historic?: string;
  /** The fault reproduces the historic bug's effect on this machine, not its exact code defect. */
  analogue?: boolean;
  /** The kernel commit that fixed the bug, full SHA, only where historic-bugs.md (or a look-up) verified it. */
  commit?: string;
  /** Subject line of that commit, or of the fix where the SHA is not confirmed. */
  title?: string;
  /** Where the fault is switched on and what it must break; absent while no profile reaches it. */
  target?: FaultTarget;
}
