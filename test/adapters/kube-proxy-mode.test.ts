// The configured kube-proxy mode, read from the live API (real client-node, our local API server)
// only when nodes are read, and held against the mode each node's rules show.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {V1ConfigMap} from '@kubernetes/client-node'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {KubeApiSource} from '../../src/adapters/kube/api.js'
import {loadKubeconfig} from '../../src/adapters/kube/kubeconfig.js'
import type {NodeReader} from '../../src/app/ports.js'
import {traceQuery} from '../../src/app/trace.js'
import {loadFakeClusterData, startFakeApiServer, type FakeApiServer} from '../support/fake-apiserver.js'
import {example} from '../support/cli.js'

const IPVS: V1ConfigMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {name: 'kube-proxy', namespace: 'kube-system'},
  data: {'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "ipvs"\n'},
}

let server: FakeApiServer
let scratch: string
let source: KubeApiSource

beforeAll(async () => {
  const data = await loadFakeClusterData(example)
  server = await startFakeApiServer({view: {...data, configMaps: [...(data.configMaps ?? []), IPVS]}})
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-mode-'))
  const file = path.join(scratch, 'config')
  writeFileSync(file, server.kubeconfig({context: 'example', namespace: 'default'}))
  source = new KubeApiSource(await loadKubeconfig({kubeconfig: file, env: {}}), {timeoutMs: 10_000})
})
afterAll(async () => {
  await server.close()
  rmSync(scratch, {recursive: true, force: true})
})
beforeEach(() => server.reset())

/** The example's nodes, read from its bundle (they run iptables mode). */
const bundleNodes = (): NodeReader => new BundleDir(example)
const noNodes: NodeReader = {nodeNames: async () => [], read: async (name) => ({name, captures: [], readError: 'not read'})}
const asked = () =>
  server.requests
    .filter((r) => /configmaps|daemonsets/.test(r.path))
    .map((r) => `${r.method} ${r.path}`)
    .sort()

describe('configured kube-proxy mode from the live API', () => {
  it('is read with two GETs when nodes are read, and nodes in another mode are flagged', async () => {
    const {report} = await traceQuery({query: {kind: 'service', service: 'hello-world', namespace: 'default'}, nodes: []}, source, bundleNodes())
    expect(asked()).toEqual(['GET /api/v1/namespaces/kube-system/configmaps/kube-proxy', 'GET /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy'])
    expect(report.kubeProxyMode).toEqual({mode: 'ipvs', evidence: ['ConfigMap kube-system/kube-proxy config.conf: mode: "ipvs"']})
    expect(report.findings.filter((f) => f.id === 'proxy-mode-differs-from-config').map((f) => f.node)).toEqual(['node-a', 'node-b'])
    expect(server.nonGetRequests()).toEqual([])
  })

  it('is not asked for when no node is read', async () => {
    const {report} = await traceQuery({query: {kind: 'service', service: 'hello-world', namespace: 'default'}, nodes: []}, source, noNodes)
    expect(asked()).toEqual([])
    expect(report.kubeProxyMode).toBeUndefined()
  })

  it('goes without, and without a warning, when RBAC denies kube-system', async () => {
    server.deny = [{verb: 'get', resource: ['configmaps', 'daemonsets'], namespace: 'kube-system'}]
    const {report} = await traceQuery({query: {kind: 'service', service: 'hello-world', namespace: 'default'}, nodes: []}, source, bundleNodes())
    expect(asked()).toHaveLength(2)
    expect(report.kubeProxyMode).toBeUndefined()
    expect(report.findings.filter((f) => f.id === 'api-read-denied' || f.id.startsWith('proxy-mode-'))).toEqual([])
  })
})
