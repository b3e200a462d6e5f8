import {configDefaults, defineConfig} from 'vitest/config'

// Suites that create network namespaces, run sshd, change kernel state or depend on wall-clock
// timeouts of real connections: one file at a time, after everything else.
const SYSTEM = [
  'test/integration/**/*.test.ts',
  'test/cli/pod-exec.test.ts',
  'test/adapters/targeted-iptables.test.ts',
  'test/adapters/pod-exec.test.ts',
  'test/adapters/node-reader.test.ts',
  'test/adapters/ssh-connect.test.ts',
]
// Suites that spawn the built command (dist/) or bundle/install it: parallel, each in its own temp dirs.
const CLI = ['test/cli/**/*.test.ts', 'test/krew/install.test.ts', 'test/krew/bundle.test.ts', 'test/krew/startup-path.test.ts']
const FRESH_DIST = './test/support/cli-fresh-dist.ts'

export default defineConfig({
  test: {
    disableConsoleIntercept: true,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SYSTEM, ...CLI],
          // In-process tests that stub no module, env or timer: sharing a worker's module cache halves the run.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {name: 'cli', include: CLI, exclude: [...configDefaults.exclude, ...SYSTEM], globalSetup: [FRESH_DIST]},
      },
      {
        extends: true,
        test: {
          name: 'system',
          include: SYSTEM,
          globalSetup: [FRESH_DIST],
          // They share network namespaces and kernel state: one file at a time, after the other projects.
          fileParallelism: false,
          sequence: {groupOrder: 1},
        },
      },
    ],
  },
})
