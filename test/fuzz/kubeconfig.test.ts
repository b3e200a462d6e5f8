// Property tests of the kubeconfig loader: generated and mutated kubeconfig files load, or fail
// with a SourceError that names the file (and the line, for YAML that does not parse).
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import yaml from 'js-yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {loadKubeconfig} from '../../src/adapters/kube/kubeconfig.js'
import {SourceError} from '../../src/app/ports.js'
import {expectReadable} from './support/check.js'
import {mutated} from './support/mutate.js'
import {settings} from './support/runs.js'

const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-fuzz-kubeconfig-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
const file = path.join(dir, 'config')

const TEMPLATE = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: shared
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: certs/ca.crt}
users:
- name: alice
  user: {token: first-token}
contexts:
- name: dev
  context: {cluster: shared, user: alice, namespace: shop}
`

const name = fc.oneof(fc.constantFrom('dev', 'prod', 'shared', 'alice', ''), fc.string({maxLength: 8}))
const anything = fc.jsonValue({maxDepth: 2})
/** A kubeconfig document: the right shape with random values, and sometimes a wrong shape anywhere. */
const doc = fc.record(
  {
    apiVersion: fc.oneof(fc.constant('v1'), anything),
    kind: fc.constant('Config'),
    'current-context': fc.oneof(name, anything),
    clusters: fc.oneof(
      fc.array(
        fc.record(
          {
            name: fc.oneof(name, anything),
            cluster: fc.oneof(fc.record({server: fc.oneof(fc.webUrl(), fc.string()), 'certificate-authority': fc.string()}, {requiredKeys: []}), anything),
          },
          {requiredKeys: []},
        ),
        {maxLength: 3},
      ),
      anything,
    ),
    users: fc.oneof(
      fc.array(
        fc.record(
          {name: fc.oneof(name, anything), user: fc.oneof(fc.record({token: fc.string(), 'client-key': fc.string()}, {requiredKeys: []}), anything)},
          {requiredKeys: []},
        ),
        {maxLength: 3},
      ),
      anything,
    ),
    contexts: fc.oneof(
      fc.array(
        fc.record(
          {
            name: fc.oneof(name, anything),
            context: fc.oneof(fc.record({cluster: name, user: name, namespace: fc.oneof(name, anything)}, {requiredKeys: []}), anything),
          },
          {requiredKeys: []},
        ),
        {maxLength: 3},
      ),
      anything,
    ),
  },
  {requiredKeys: []},
)
const kubeconfigText = fc.oneof(
  doc.map((d) => yaml.dump(d)),
  mutated([TEMPLATE]).map((m) => m.text),
  anything.map((v) => JSON.stringify(v)),
)

describe('kubeconfig loader, fuzzed', () => {
  it('a generated or damaged kubeconfig loads, or fails with a SourceError naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(kubeconfigText, fc.option(name, {nil: undefined}), async (text, context) => {
        writeFileSync(file, text)
        try {
          const loaded = await loadKubeconfig({kubeconfig: file, context, env: {}})
          expect(typeof loaded.context).toBe('string')
          expect(typeof loaded.server).toBe('string')
        } catch (err) {
          if (!(err instanceof SourceError)) throw err
          expect(err.message).toContain(file)
          expectReadable(err.message)
        }
      }),
      settings(),
    )
  })
})
