import {expect, it} from 'vitest'
import {userAgent} from '../../src/adapters/kube/user-agent.js'

it.each([
  ['linux', 'x64', 'kubectl-svctrace/0.1.0 (linux/amd64)'],
  ['linux', 'arm64', 'kubectl-svctrace/0.1.0 (linux/arm64)'],
  ['darwin', 'arm64', 'kubectl-svctrace/0.1.0 (darwin/arm64)'],
  ['win32', 'x64', 'kubectl-svctrace/0.1.0 (windows/amd64)'],
  ['linux', 'ia32', 'kubectl-svctrace/0.1.0 (linux/386)'],
])('%s %s: %s (Go names, as kubectl prints them)', (platform, arch, expected) => {
  expect(userAgent('kubectl-svctrace', '0.1.0', platform, arch)).toBe(expected)
})
