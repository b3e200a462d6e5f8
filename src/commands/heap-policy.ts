// How far V8 lets the heap grow past what is live. After each full collection V8 sets the next limit
// at up to 4× the live size, a factor it picks from measured GC and allocation speeds, so it changes
// from run to run. Check mode holds one big input (whole dumps, every Service, a cluster's pods) and
// makes short-lived garbage beside it, so that factor decides the peak: -A on 10,000 Services × 14
// endpoints with a pod behind every endpoint peaked at 467–479 MB in 8 runs and at 852–875 MB in 2.
// The limit is 1.4× what is live. At 1.25× (the first setting) that case peaked at 428–437 MB, but
// without pods the live heap is 45–65 MB, and 25 % of it is less than -A allocates while a collection
// marks: at 14 endpoints some runs collected without pause, 27–28 full collections instead of 4–6
// (--trace-gc), 8.9–13.9 s and up to 19 s of CPU instead of 6.1–6.9 s; 1 run in 13 of the build of
// 2026-12-06, about half of 16 after the next day's changes. At 1.4×: 5 full collections in 4 runs
// of 4 at 10 and at 14 endpoints, 276–284 MB at 14 (3 runs), and 440–500 MB with the pods (4 runs;
// 1.25×: 434–470 MB, 1.5×: 509–516 MB, 2×: 475–607 MB). A one-Service trace is left alone: it is
// short, and collecting more often only cost it time (0.65–0.67 s → 0.70–0.73 s at 1.5×) for no
// smaller peak. All alternated runs, peak RSS by /usr/bin/time.
import {setFlagsFromString} from 'node:v8'

/** From now on, this process's old generation may grow to 1.4× what the last full collection left. */
export function keepHeapNearLive(): void {
  setFlagsFromString('--heap-growing-percent=40')
}
