import {defineConfig} from 'vitest/config'

// `npm run fuzz`: the property tests of every parser and loader at full size (FUZZ_RUNS inputs per
// property, 10,000 unless set). `npm test` runs the same files with a 200-input sample (unit project).
export default defineConfig({
  test: {
    include: ['test/fuzz/*.test.ts'],
    env: {FUZZ_RUNS: process.env.FUZZ_RUNS ?? '10000'},
    disableConsoleIntercept: true,
    testTimeout: 3_600_000,
    isolate: false,
  },
})
