// How far V8 lets the heap grow past what is live. After each full collection V8 sets the next limit
// at up to 4× the live size, a factor it picks from measured GC and allocation speeds, so it changes
// from run to run. Check mode holds one big input (whole dumps, every Service, a cluster's pods) and
// makes short-lived garbage beside it, so that factor decides the peak: -A on 10,000 Services × 14
// endpoints with a pod behind every endpoint peaked at 467–479 MB in 8 runs and at 852–875 MB in 2.
// With the limit at 1.25× what is live: 428–437 MB in 6 runs of 6, and -A without pods 244–256 MB
// instead of 266–268 MB at 10 endpoints (a few percent more CPU: 8.3–8.6 s against 6.6–8.7 s over 5
// runs). A one-Service trace is left alone: it is short, and collecting more often only cost it time
// (0.65–0.67 s → 0.70–0.73 s at 1.5×) for no smaller peak. All alternated runs, peak RSS by /usr/bin/time.
import {setFlagsFromString} from 'node:v8'

/** From now on, this process's old generation may grow to 1.25× what the last full collection left. */
export function keepHeapNearLive(): void {
  setFlagsFromString('--heap-growing-percent=25')
}
