// How many inputs each property sees. `npm run fuzz` sets FUZZ_RUNS=10000; inside `npm test` a
// sample keeps the suite fast. FUZZ_SEED replays a run fast-check reported as failing.
import type {Parameters} from 'fast-check'

/** Inputs per property: FUZZ_RUNS, else a 200-input sample. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 200)

/** fast-check settings for one property. */
export function settings<T>(): Parameters<T> {
  const seed = process.env.FUZZ_SEED
  return {numRuns: RUNS, ...(seed !== undefined ? {seed: Number(seed)} : {})}
}
