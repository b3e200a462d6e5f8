// Kubeconfig files the fuzzer found that made the loader throw something other than its
// SourceError (a bare client-node Error, a TypeError) or print "[object Object]", kept as fixed examples.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {loadKubeconfig} from '../../../src/adapters/kube/kubeconfig.js'
import {SourceError} from '../../../src/app/ports.js'

const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-kubeconfig-regressions-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('kubeconfig regressions found by the fuzzer', () => {
  it.each([
    ['a context without a name', 'contexts:\n  - {}\n', /config: "contexts" is not a list of named entries/],
    ['a context named by a mapping', "contexts:\n  - name: {}\n    context:\n      cluster: ' '\n", /config: "contexts" is not a list of named entries/],
    ['clusters that are a string', 'clusters: abc\n', /config: "clusters" is not a list of named entries/],
    ['users that are a list of numbers', 'users: [1, 2]\n', /config: "users" is not a list of named entries/],
    ['a current-context that is a list', 'current-context: [a]\n', /config: "current-context" is not a context name/],
    [
      'a cluster entry client-node refuses',
      'current-context: dev\nclusters:\n  - name: c\n    cluster: 5\ncontexts:\n  - name: dev\n    context: {cluster: c, user: u}\n',
      /config is not valid: .*; fix the file/,
    ],
  ])('%s is a SourceError naming the file and what to fix', async (_, text, message) => {
    const file = path.join(dir, 'config')
    writeFileSync(file, text)
    const err = await loadKubeconfig({kubeconfig: file, env: {}}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SourceError)
    expect((err as Error).message).toMatch(message)
  })
})
