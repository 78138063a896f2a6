// How generated operations name their targets: small indices resolved against
// what is live when the operation runs, so a shrunk list stays meaningful.

/** Index i counts from the newest: operations mostly act on what was just allocated or mapped. */
export function pick<T>(xs: readonly T[], i: number): T | undefined {
  return xs.length === 0 ? undefined : xs[xs.length - 1 - (i % xs.length)];
}

/** A byte range [o, o+n) inside a buffer of `size` bytes, never empty. */
export function span(size: number, off: number, len: number): { o: number; n: number } {
  const o = off % size;
  return { o, n: Math.max(1, Math.min(len, size - o)) };
}
