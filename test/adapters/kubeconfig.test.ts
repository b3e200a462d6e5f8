// Kubeconfig loading as kubectl does it: KUBECONFIG merged first-wins, missing files skipped,
// relative file references made absolute, contexts validated.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {kubeconfigFiles, loadKubeconfig} from '../../src/adapters/kube/kubeconfig.js'
import {SourceError} from '../../src/app/ports.js'

const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-kubeconfig-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function file(name: string, text: string): string {
  const f = path.join(dir, name)
  writeFileSync(f, text)
  return f
}

const first = file(
  'first.yaml',
  `apiVersion: v1
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
`,
)
const second = file(
  'second.yaml',
  `apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: shared
  cluster: {server: "https://127.0.0.2:6443"}
- name: prod
  cluster: {server: "https://127.0.0.3:6443"}
users:
- name: alice
  user: {token: second-token}
- name: bob
  user: {token: bob-token}
contexts:
- name: prod
  context: {cluster: prod, user: bob}
`,
)
const missing = path.join(dir, 'missing.yaml')
const env = (KUBECONFIG: string) => ({KUBECONFIG, HOME: dir})

describe('kubeconfig', () => {
  it('skips missing files in KUBECONFIG, keeping the order', () => {
    expect(kubeconfigFiles({env: env([missing, first, second].join(path.delimiter))})).toEqual([first, second])
  })

  it('merges first-wins: names and current-context from the first file that has them', async () => {
    const loaded = await loadKubeconfig({env: env([first, second].join(path.delimiter))})
    expect(loaded.context).toBe('dev')
    expect(loaded.server).toBe('https://127.0.0.1:6443')
    expect(loaded.namespace).toBe('shop')
    expect(loaded.kc.getCurrentUser()?.token).toBe('first-token')
    expect(loaded.kc.getContexts().map((c) => c.name)).toEqual(['dev', 'prod'])
  })

  it('resolves certificate-authority relative to its file', async () => {
    const loaded = await loadKubeconfig({env: env(first)})
    expect(loaded.kc.getCurrentCluster()?.caFile).toBe(path.join(dir, 'certs/ca.crt'))
  })

  it('uses --context and -n over the file', async () => {
    const loaded = await loadKubeconfig({env: env([first, second].join(path.delimiter)), context: 'prod', namespace: 'ops'})
    expect(loaded.server).toBe('https://127.0.0.3:6443')
    expect(loaded.namespace).toBe('ops')
  })

  it('defaults the namespace to default when the context has none', async () => {
    const loaded = await loadKubeconfig({env: env(second)})
    expect(loaded.namespace).toBe('default')
  })

  it.each([
    [{context: 'staging'}, /context "staging" not found in .*first\.yaml.*; known contexts: dev, prod/],
    [{kubeconfig: missing}, /--kubeconfig .*missing\.yaml: no such file/],
  ])('rejects %o', async (opts, message) => {
    await expect(loadKubeconfig({env: env([first, second].join(path.delimiter)), ...opts})).rejects.toThrow(message)
  })

  it('says what to do when there is no kubeconfig at all', async () => {
    const err = await loadKubeconfig({env: {HOME: dir}}).catch((e) => e)
    expect(err).toBeInstanceOf(SourceError)
    expect(err.message).toMatch(/no kubeconfig found: .*\.kube\/config does not exist and KUBECONFIG is not set\. Point --kubeconfig at one, or use --from DIR/)
  })

  it('names the line of a broken kubeconfig', async () => {
    const broken = file('broken.yaml', 'apiVersion: v1\nclusters:\n- name: [unclosed\n')
    await expect(loadKubeconfig({env: env(broken)})).rejects.toThrow(/kubeconfig .*broken\.yaml:\d+ cannot be read/)
  })
})
