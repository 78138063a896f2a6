// Imported for its effect by model/harness.ts, so every run of the model (tests,
// CLI, bench) gets it. V8's allocation-site pretenuring watches which
// allocation sites' objects survive young-generation collections and, past a
// threshold, allocates them straight in the old generation. A generated
// sequence keeps its machine (page tables, cache lines, slab state) alive for
// its whole run and then drops all of it, so whether a site gets pretenured
// depended on GC timing: in about a third of runs it did, the old generation
// filled with dead machines every ~250 ms and the same work ran ~35 % slower
// (bench/throughput.ts, coherence harness: 64-75 k vs 100-115 k ops/s).
// Without pretenuring every run takes the fast path (8 of 8 runs measured).
import v8 from 'node:v8';

v8.setFlagsFromString('--no-allocation-site-pretenuring');
