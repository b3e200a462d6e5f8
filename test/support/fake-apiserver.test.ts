// The fake API server, driven through the real @kubernetes/client-node 1.4.0 (and raw HTTPS where the client
// hides the wire: missing token, list JSON shape, methods client-node cannot send).
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import https from 'node:https'
import {afterAll, beforeAll, beforeEach, describe, expect, test} from 'vitest'
import {ApiException, CoreV1Api, DiscoveryV1Api, KubeConfig, VersionApi, type V1ConfigMap, type V1Service} from '@kubernetes/client-node'
// Not re-exported from the package index in 1.4.0; the generated serializer turns models back into API JSON.
import {ObjectSerializer} from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js'
import {parseClusterFile} from '../../src/adapters/bundle/cluster-file.js'
import {withSignal} from '../../src/adapters/kube/client-options.js'
import type {ClusterView} from '../../src/core/model.js'
import {defined} from './defined.js'
import {makeTestPki, startFakeApiServer, type FakeApiServer, type FakeClusterData} from './fake-apiserver.js'
import {labelsMatch, parseFieldSelector, parseLabelSelector} from './label-selector.js'

const FIXTURE_DIR = new URL('../fixtures/two-node-iptables-v1.26/', import.meta.url)
const FIXTURE_FILE = new URL('cluster.yaml', FIXTURE_DIR).pathname
const fixture: ClusterView = parseClusterFile(readFileSync(FIXTURE_FILE, 'utf8'), FIXTURE_FILE)

const kubeProxyConfigMap: V1ConfigMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {name: 'kube-proxy', namespace: 'kube-system', resourceVersion: '300', labels: {app: 'kube-proxy'}},
  data: {'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n'},
}
const data: FakeClusterData = {...fixture, configMaps: [kubeProxyConfigMap]}

function clients(server: FakeApiServer, k: Parameters<FakeApiServer['kubeconfig']>[0] = {}) {
  const kc = new KubeConfig()
  kc.loadFromString(server.kubeconfig(k))
  return {kc, core: kc.makeApiClient(CoreV1Api), disc: kc.makeApiClient(DiscoveryV1Api)}
}

/** The 1.4.0 per-call timeout recipe (toolchain-notes §2), as the adapters use it. */
function withTimeout(ms: number): never {
  return withSignal(AbortSignal.timeout(ms))
}

async function apiError(p: Promise<unknown>): Promise<ApiException<string>> {
  try {
    await p
  } catch (err) {
    if (err instanceof ApiException) return err as ApiException<string>
    throw err
  }
  throw new Error('expected the call to fail')
}

interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  json: any
}

function raw(server: FakeApiServer, method: string, path: string, token: string | null = server.token): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${server.url}${path}`,
      {
        method,
        ca: server.caPem,
        headers: token === null ? {} : {Authorization: `Bearer ${token}`},
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c) => (text += c))
        res.on('end', () => resolve({status: res.statusCode!, headers: res.headers, json: text ? JSON.parse(text) : undefined}))
      },
    )
    req.on('error', reject)
    req.end(method === 'GET' || method === 'HEAD' ? undefined : '{}')
  })
}

/** What client-node 1.4's fetch sends as User-Agent unless a call sets one: the server records it as received. */
const NODE_FETCH = 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)'
const names = (xs: Array<{metadata?: {name?: string}}>) => xs.map((x) => x.metadata?.name)
const nsNames = (xs: Array<{metadata?: {name?: string; namespace?: string}}>) => xs.map((x) => `${x.metadata?.namespace}/${x.metadata?.name}`)
/** client-node turns timestamps into Dates and back with milliseconds. */
const normalise = (o: unknown) => JSON.parse(JSON.stringify(o).replace(/(T\d\d:\d\d:\d\d)\.000Z/g, '$1Z'))

describe('label and field selector parsing (apimachinery grammar)', () => {
  const labels = {app: 'web', tier: 'backend', 'kubernetes.io/service-name': 'web', empty: ''}
  test.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (db,web)', true],
    ['app in (db)', false],
    ['app notin (db,cache)', true],
    ['missing notin (x)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['app=web,tier=backend', true],
    ['app=web, tier = frontend', false],
    ['kubernetes.io/service-name=web', true],
    ['empty=', true],
    ['empty in ()', true],
    ['', true],
    ['in in (in)', false],
  ])('%j matches: %s', (sel, expected) => {
    expect(labelsMatch(parseLabelSelector(sel), labels)).toBe(expected)
  })

  test('gt/lt compare integers', () => {
    expect(labelsMatch(parseLabelSelector('n>3'), {n: '5'})).toBe(true)
    expect(labelsMatch(parseLabelSelector('n<3'), {n: '5'})).toBe(false)
    expect(labelsMatch(parseLabelSelector('n>3'), {n: 'x'})).toBe(false)
  })

  test.each([
    ['app in web', "unable to parse requirement: found 'web' expected: '('"],
    ['app in (web', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['app=web,', "found '', expected: identifier after ','"],
    ['app web', "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"],
    ['app=web x', "found 'x', expected: ',' or 'end of string'"],
    ['=web', "found '=', expected: !, identifier, or 'end of string'"],
    ['!app=web', "found '=', expected: ',' or 'end of string'"],
    ['app=(web)', "unable to parse requirement: found '(', expected: identifier"],
  ])('%j is rejected: %s', (sel, message) => {
    expect(() => parseLabelSelector(sel)).toThrow(message)
  })

  test('keys and values are validated like the API server', () => {
    expect(() => parseLabelSelector('-bad=x')).toThrow(/unable to parse requirement: Invalid value: "-bad"/)
    expect(() => parseLabelSelector('Bad.Prefix/x=y')).toThrow(/prefix part/)
    expect(() => parseLabelSelector('app=a b')).toThrow(/found 'b', expected: ',' or 'end of string'/)
    expect(() => parseLabelSelector(`app=${'v'.repeat(64)}`)).toThrow(/must be no more than 63 bytes/)
    expect(() => parseLabelSelector('n>x')).toThrow(/must be an integer/)
  })

  test('field selectors: =, ==, != and escapes', () => {
    expect(parseFieldSelector('spec.nodeName=node1,status.podIP!=10.0.0.1')).toEqual([
      {field: 'spec.nodeName', operator: '=', value: 'node1'},
      {field: 'status.podIP', operator: '!=', value: '10.0.0.1'},
    ])
    expect(parseFieldSelector('metadata.name==a\\,b')).toEqual([{field: 'metadata.name', operator: '=', value: 'a,b'}])
    expect(parseFieldSelector('')).toEqual([])
    expect(() => parseFieldSelector('metadata.name')).toThrow("invalid selector: 'metadata.name'; can't understand 'metadata.name'")
  })
})

describe('fake API server through the real client-node', () => {
  let server: FakeApiServer
  let core: CoreV1Api
  let disc: DiscoveryV1Api

  beforeAll(async () => {
    server = await startFakeApiServer({view: data})
    ;({core, disc} = clients(server, {namespace: 'storefront'}))
  })
  afterAll(async () => {
    await server?.close()
  })
  beforeEach(() => server.reset())

  test('certificates: a test CA and a server certificate for 127.0.0.1 and localhost, made with openssl', () => {
    const ca = new X509Certificate(server.caPem)
    expect(ca.ca).toBe(true)
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const kc = new KubeConfig()
    kc.loadFromString(server.kubeconfig({namespace: 'storefront', context: 'fake-ctx', user: 'alice'}))
    expect(kc.getCurrentContext()).toBe('fake-ctx')
    expect(kc.getContextObject('fake-ctx')).toMatchObject({cluster: 'fake-ctx', user: 'alice', namespace: 'storefront'})
    expect(kc.getCurrentCluster()?.server).toBe(server.url)
    expect(Buffer.from(kc.getCurrentCluster()!.caData!, 'base64').toString()).toBe(server.caPem)
    expect(kc.getCurrentUser()?.token).toBe(server.token)
  })

  test('listServiceForAllNamespaces: every Service, List shape, sorted by namespace/name', async () => {
    const list = await core.listServiceForAllNamespaces()
    expect(list.kind).toBe('ServiceList')
    expect(list.apiVersion).toBe('v1')
    expect(list.metadata?.resourceVersion).toMatch(/^\d+$/)
    expect(nsNames(list.items).sort()).toEqual(nsNames(fixture.services).sort())
    expect(nsNames(list.items)).toEqual([...nsNames(list.items)].sort())
    expect(server.requests).toEqual([{method: 'GET', path: '/api/v1/services', query: {}, userAgent: NODE_FETCH, httpVersion: '1.1'}])
  })

  test('list items carry no kind/apiVersion, as from a real API server', async () => {
    const r = await raw(server, 'GET', '/api/v1/namespaces/storefront/pods')
    expect(r.status).toBe(200)
    expect(r.headers['content-type']).toBe('application/json')
    expect(Object.keys(r.json)).toEqual(['kind', 'apiVersion', 'metadata', 'items'])
    expect(r.json.items.length).toBe(fixture.pods.filter((p) => p.metadata?.namespace === 'storefront').length)
    for (const item of r.json.items) {
      expect(item.kind).toBeUndefined()
      expect(item.apiVersion).toBeUndefined()
    }
  })

  test('readNamespacedService: the object round-trips', async () => {
    const svc = await core.readNamespacedService({name: 'api', namespace: 'storefront'})
    const original = fixture.services.find((s) => s.metadata?.name === 'api' && s.metadata.namespace === 'storefront')!
    expect(svc.kind).toBe('Service')
    expect(svc.spec?.ports?.[0]?.nodePort).toBe(31500)
    expect(normalise(ObjectSerializer.serialize(svc, 'V1Service', ''))).toEqual(normalise(original))
  })

  test('every fixture object round-trips by GET (services, pods, endpoints, endpointslices, nodes)', async () => {
    for (const s of fixture.services) {
      const got = await core.readNamespacedService({name: s.metadata!.name!, namespace: s.metadata!.namespace!})
      expect(normalise(ObjectSerializer.serialize(got, 'V1Service', ''))).toEqual(normalise(s))
    }
    for (const p of fixture.pods) {
      const got = await core.readNamespacedPod({name: p.metadata!.name!, namespace: p.metadata!.namespace!})
      expect(normalise(ObjectSerializer.serialize(got, 'V1Pod', ''))).toEqual(normalise(p))
    }
    for (const e of fixture.endpoints) {
      const got = await core.readNamespacedEndpoints({name: e.metadata!.name!, namespace: e.metadata!.namespace!})
      expect(normalise(ObjectSerializer.serialize(got, 'V1Endpoints', ''))).toEqual(normalise(e))
    }
    for (const e of fixture.endpointSlices) {
      const got = await disc.readNamespacedEndpointSlice({name: e.metadata!.name!, namespace: e.metadata!.namespace!})
      expect(normalise(ObjectSerializer.serialize(got, 'V1EndpointSlice', ''))).toEqual(normalise(e))
    }
    for (const n of fixture.nodes) {
      const got = await core.readNode({name: n.metadata!.name!})
      expect(normalise(ObjectSerializer.serialize(got, 'V1Node', ''))).toEqual(normalise(n))
    }
  })

  test('listNamespacedPod with label selectors filters like the API', async () => {
    const inApi = await core.listNamespacedPod({namespace: 'storefront', labelSelector: 'app in (api,cache)'})
    expect(names(inApi.items)).toEqual(['api-5d8c6f7b9-hq7vd', 'api-5d8c6f7b9-n2jxw', 'cache-0', 'cache-1'])
    const backendNotApi = await core.listNamespacedPod({namespace: 'storefront', labelSelector: 'tier=backend,app!=api'})
    expect(names(backendNotApi.items)).toEqual(['cache-0', 'cache-1'])
    const noTier = await core.listNamespacedPod({namespace: 'storefront', labelSelector: '!tier'})
    expect(names(noTier.items)).toEqual(['ledger-0', 'metrics-exporter-84c9f6d7b-zq5lp'])
    const notin = await core.listNamespacedPod({namespace: 'storefront', labelSelector: 'tier notin (backend,web),pod-template-hash'})
    expect(names(notin.items)).toEqual(['gateway-7f5b8c4d6-kp3zr', 'gateway-7f5b8c4d6-v8m2t', 'metrics-exporter-84c9f6d7b-zq5lp'])
    const other = await core.listNamespacedPod({namespace: 'default', labelSelector: 'app'})
    expect(other.items).toEqual([])
    expect(server.requests[0]).toEqual({
      method: 'GET',
      path: '/api/v1/namespaces/storefront/pods',
      query: {labelSelector: 'app in (api,cache)'},
      userAgent: NODE_FETCH,
      httpVersion: '1.1',
    })
  })

  test('listNamespacedEndpointSlice by kubernetes.io/service-name', async () => {
    const list = await disc.listNamespacedEndpointSlice({namespace: 'storefront', labelSelector: 'kubernetes.io/service-name=frontend'})
    expect(list.kind).toBe('EndpointSliceList')
    expect(list.apiVersion).toBe('discovery.k8s.io/v1')
    expect(names(list.items)).toEqual(['frontend-gb78c'])
    expect(list.items[0]!.endpoints.length).toBeGreaterThan(0)
    expect(server.requests[0]).toEqual({
      method: 'GET',
      path: '/apis/discovery.k8s.io/v1/namespaces/storefront/endpointslices',
      query: {labelSelector: 'kubernetes.io/service-name=frontend'},
      userAgent: NODE_FETCH,
      httpVersion: '1.1',
    })
    const all = await disc.listEndpointSliceForAllNamespaces({labelSelector: 'endpointslice.kubernetes.io/managed-by!=endpointslice-controller.k8s.io'})
    expect(nsNames(all.items)).toEqual(['default/kubernetes', 'storefront/partner-zfk4h'])
  })

  test('a web Service in a small hand-made view', async () => {
    const web: V1Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: 'web', namespace: 'default', resourceVersion: '5'},
      spec: {selector: {app: 'web'}, ports: [{port: 80}]},
    }
    const small = await startFakeApiServer({
      view: {
        services: [web],
        endpointSlices: [
          {
            apiVersion: 'discovery.k8s.io/v1',
            kind: 'EndpointSlice',
            addressType: 'IPv4',
            endpoints: [{addresses: ['10.0.0.5']}],
            metadata: {name: 'web-abc', namespace: 'default', labels: {'kubernetes.io/service-name': 'web'}},
          },
        ],
        endpoints: [],
        pods: [],
        nodes: [],
      },
    })
    try {
      const c = clients(small)
      expect((await c.core.readNamespacedService({name: 'web', namespace: 'default'})).spec?.selector).toEqual({app: 'web'})
      const slices = await c.disc.listNamespacedEndpointSlice({namespace: 'default', labelSelector: 'kubernetes.io/service-name=web'})
      expect(slices.items[0]!.endpoints[0]!.addresses).toEqual(['10.0.0.5'])
    } finally {
      await small.close()
    }
  })

  test('field selectors: metadata.name, metadata.namespace, status.podIP, spec.nodeName', async () => {
    expect(nsNames((await core.listServiceForAllNamespaces({fieldSelector: 'metadata.name=api'})).items)).toEqual(['storefront/api'])
    expect(nsNames((await core.listServiceForAllNamespaces({fieldSelector: 'metadata.namespace!=storefront'})).items)).toEqual(['default/kubernetes'])
    expect(names((await core.listPodForAllNamespaces({fieldSelector: 'status.podIP=10.244.2.32'})).items)).toEqual(['cache-1'])
    const onNode1 = await core.listPodForAllNamespaces({fieldSelector: 'spec.nodeName=node1'})
    expect(names(onNode1.items)).toEqual(
      fixture.pods
        .filter((p) => p.spec?.nodeName === 'node1')
        .map((p) => p.metadata?.name)
        .sort(),
    )
    const both = await core.listNamespacedPod({namespace: 'storefront', fieldSelector: 'spec.nodeName=node1', labelSelector: 'app=frontend'})
    expect(names(both.items)).toEqual(['frontend-6b7f9d8c5-4kz2q', 'frontend-6b7f9d8c5-9wxlm'])
    expect(names((await core.listNode({fieldSelector: 'metadata.name=node2'})).items)).toEqual(['node2'])
  })

  test('malformed or unsupported selectors are 400 BadRequest', async () => {
    const bad = await apiError(core.listNamespacedPod({namespace: 'storefront', labelSelector: 'app in web'}))
    expect(bad.code).toBe(400)
    expect(JSON.parse(bad.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: "unable to parse requirement: found 'web' expected: '('",
      reason: 'BadRequest',
      code: 400,
    })
    const field = await apiError(core.listPodForAllNamespaces({fieldSelector: 'spec.foo=x'}))
    expect(field.code).toBe(400)
    expect(JSON.parse(field.body).message).toBe('field label not supported: spec.foo')
    const nodeNs = await apiError(core.listNode({fieldSelector: 'metadata.namespace=x'}))
    expect(JSON.parse(nodeNs.body).message).toBe('field label not supported: metadata.namespace')
  })

  test('404 NotFound: the exact Status body, as client-node ApiException', async () => {
    const err = await apiError(core.readNamespacedService({name: 'nope', namespace: 'storefront'}))
    expect(err.code).toBe(404)
    expect(err.body).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services \\"nope\\" not found","reason":"NotFound","details":{"name":"nope","kind":"services"},"code":404}',
    )
    const slice = await apiError(disc.readNamespacedEndpointSlice({name: 'nope', namespace: 'storefront'}))
    expect(JSON.parse(slice.body)).toMatchObject({
      message: 'endpointslices.discovery.k8s.io "nope" not found',
      details: {name: 'nope', group: 'discovery.k8s.io', kind: 'endpointslices'},
    })
    const node = await apiError(core.readNode({name: 'node9'}))
    expect(JSON.parse(node.body).message).toBe('nodes "node9" not found')
    const ns = await apiError(core.readNamespace({name: 'nope'}))
    expect(JSON.parse(ns.body).message).toBe('namespaces "nope" not found')
    // A list in a namespace that does not exist is an empty list, not 404.
    expect((await core.listNamespacedService({namespace: 'nowhere'})).items).toEqual([])
    const unknown = await raw(server, 'GET', '/api/v1/namespaces/default/widgets')
    expect(unknown.status).toBe(404)
    expect(unknown.json).toMatchObject({reason: 'NotFound', message: 'the server could not find the requested resource', details: {}})
  })

  test('403 Forbidden from deny rules, with the real message forms', async () => {
    server.deny.push({verb: 'list', resource: 'pods', namespace: 'default'}, {verb: 'list', resource: 'pods', namespace: ''})
    const ns = await apiError(core.listNamespacedPod({namespace: 'default'}))
    expect(ns.code).toBe(403)
    expect(JSON.parse(ns.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods is forbidden: User "system:serviceaccount:default:svctrace" cannot list resource "pods" in API group "" in the namespace "default"',
      reason: 'Forbidden',
      details: {kind: 'pods'},
      code: 403,
    })
    const cluster = await apiError(core.listPodForAllNamespaces())
    expect(JSON.parse(cluster.body).message).toBe(
      'pods is forbidden: User "system:serviceaccount:default:svctrace" cannot list resource "pods" in API group "" at the cluster scope',
    )
    // Other namespaces and verbs are still allowed.
    expect((await core.listNamespacedPod({namespace: 'storefront'})).items.length).toBeGreaterThan(0)
    expect((await core.readNamespacedPod({name: 'cache-0', namespace: 'storefront'})).metadata?.name).toBe('cache-0')

    server.deny = [
      {verb: 'get', resource: 'services'},
      {verb: '*', resource: 'endpointslices', namespace: 'storefront'},
      {verb: 'list', resource: 'nodes'},
    ]
    const get = await apiError(core.readNamespacedService({name: 'nope', namespace: 'storefront'}))
    expect(get.code).toBe(403) // authorization runs before the object is looked up
    expect(JSON.parse(get.body)).toMatchObject({
      message:
        'services "nope" is forbidden: User "system:serviceaccount:default:svctrace" cannot get resource "services" in API group "" in the namespace "storefront"',
      details: {name: 'nope', kind: 'services'},
    })
    const es = await apiError(disc.listNamespacedEndpointSlice({namespace: 'storefront', labelSelector: 'kubernetes.io/service-name=api'}))
    expect(JSON.parse(es.body)).toMatchObject({
      message:
        'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:default:svctrace" cannot list resource "endpointslices" in API group "discovery.k8s.io" in the namespace "storefront"',
      details: {group: 'discovery.k8s.io', kind: 'endpointslices'},
    })
    const nodes = await apiError(core.listNode())
    expect(JSON.parse(nodes.body).message).toBe(
      'nodes is forbidden: User "system:serviceaccount:default:svctrace" cannot list resource "nodes" in API group "" at the cluster scope',
    )
  })

  test('an authorize hook and a second identity', async () => {
    const s = await startFakeApiServer({
      view: data,
      tokens: {'viewer-token': 'jane'},
      authorize: (a) => a.user !== 'jane' || a.namespace === 'storefront',
    })
    try {
      const jane = clients(s, {token: 'viewer-token'})
      expect((await jane.core.listNamespacedService({namespace: 'storefront'})).items.length).toBe(9)
      const err = await apiError(jane.core.listServiceForAllNamespaces())
      expect(JSON.parse(err.body).message).toBe('services is forbidden: User "jane" cannot list resource "services" in API group "" at the cluster scope')
      expect((await clients(s).core.listServiceForAllNamespaces()).items.length).toBe(10)
    } finally {
      await s.close()
    }
  })

  test('401 Unauthorized for a wrong or missing token', async () => {
    const wrong = clients(server, {token: 'not-the-token'})
    const err = await apiError(wrong.core.listNode())
    expect(err.code).toBe(401)
    const missing = await raw(server, 'GET', '/api/v1/nodes', null)
    expect(missing.status).toBe(401)
    expect(missing.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    })
    expect((await raw(server, 'GET', '/api/v1/nodes', 'bad')).status).toBe(401)
  })

  test('TLS is verified: a client trusting another CA fails; localhost matches the certificate', async () => {
    const other = await makeTestPki('some other CA')
    const untrusting = clients(server, {caPem: other.caPem})
    const err = await untrusting.core.listNode().then(
      () => undefined,
      (e: unknown) => e as Error & {code?: string},
    )
    expect(err).toBeDefined()
    expect(err).not.toBeInstanceOf(ApiException)
    expect(`${err!.code} ${err!.message}`).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify|self.signed|certificate/i)
    expect(server.requests).toEqual([]) // rejected during the handshake
    const viaLocalhost = clients(server, {host: 'localhost'})
    expect((await viaLocalhost.core.listNode()).items.length).toBe(2)
  })

  test('non-GET requests are logged and answered 405', async () => {
    const del = await apiError(core.deleteNamespacedPod({name: 'cache-0', namespace: 'storefront'}))
    expect(del.code).toBe(405)
    expect(JSON.parse(del.body)).toMatchObject({kind: 'Status', status: 'Failure', reason: 'MethodNotAllowed', code: 405})
    const create = await apiError(core.createNamespacedService({namespace: 'storefront', body: {metadata: {name: 'x'}}}))
    expect(create.code).toBe(405)
    for (const method of ['PUT', 'PATCH', 'HEAD']) expect((await raw(server, method, '/api/v1/nodes/node1')).status).toBe(405)
    expect(server.nonGetRequests()).toEqual([
      {method: 'DELETE', path: '/api/v1/namespaces/storefront/pods/cache-0', query: {}, userAgent: NODE_FETCH, httpVersion: '1.1'},
      {method: 'POST', path: '/api/v1/namespaces/storefront/services', query: {}, userAgent: NODE_FETCH, httpVersion: '1.1'},
      {method: 'PUT', path: '/api/v1/nodes/node1', query: {}, userAgent: '', httpVersion: '1.1'},
      {method: 'PATCH', path: '/api/v1/nodes/node1', query: {}, userAgent: '', httpVersion: '1.1'},
      {method: 'HEAD', path: '/api/v1/nodes/node1', query: {}, userAgent: '', httpVersion: '1.1'},
    ])
    // The object is still there.
    expect((await core.readNamespacedPod({name: 'cache-0', namespace: 'storefront'})).metadata?.name).toBe('cache-0')
  })

  test('delayMs + a client AbortSignal timeout; timeoutSeconds accepted', async () => {
    server.delayMs = 3000
    const t0 = Date.now()
    const err = await core.listNode({}, withTimeout(200)).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    const took = Date.now() - t0
    expect(err?.name).toBe('AbortError')
    expect(took).toBeGreaterThanOrEqual(150)
    expect(took).toBeLessThan(2000)
    server.delayMs = 100
    const t1 = Date.now()
    const ok = await core.listNode({timeoutSeconds: 30}, withTimeout(2000))
    expect(Date.now() - t1).toBeGreaterThanOrEqual(90)
    expect(ok.items.length).toBe(2)
    expect(server.requests.at(-1)).toEqual({method: 'GET', path: '/api/v1/nodes', query: {timeoutSeconds: '30'}, userAgent: NODE_FETCH, httpVersion: '1.1'})
  })

  test('failNext: injected Status failures, then normal answers; reset drops the connection', async () => {
    server.failNext(2, 503)
    const e1 = await apiError(core.listNode())
    expect(e1.code).toBe(503)
    expect(JSON.parse(e1.body)).toMatchObject({kind: 'Status', reason: 'ServiceUnavailable', code: 503})
    expect((await apiError(core.listNode())).code).toBe(503)
    expect((await core.listNode()).items.length).toBe(2)

    server.failNext(1, 429)
    const throttled = await apiError(core.listNode())
    expect(throttled.code).toBe(429)
    expect(throttled.headers['retry-after']).toBe('1')

    server.failNext(1, 'reset')
    const reset = await core.listNode().then(
      () => undefined,
      (e: unknown) => e as Error & {code?: string},
    )
    expect(reset).toBeDefined()
    expect(reset).not.toBeInstanceOf(ApiException)
    expect((await core.listNode()).items.length).toBe(2)
    expect(server.requests.length).toBe(6)
  })

  test('pagination with limit/continue returns every item once', async () => {
    const full = await core.listPodForAllNamespaces()
    const pages: string[][] = []
    let cont: string | undefined
    do {
      const page = await core.listPodForAllNamespaces({limit: 4, ...(cont !== undefined ? {_continue: cont} : {})})
      pages.push(nsNames(page.items))
      if (page.metadata?._continue) {
        expect(page.metadata.remainingItemCount).toBe(full.items.length - pages.flat().length)
      }
      cont = page.metadata?._continue
    } while (cont)
    expect(pages.map((p) => p.length)).toEqual([4, 4, 3])
    expect(pages.flat()).toEqual(nsNames(full.items))
    expect(server.requests[2]!.query).toEqual({limit: '4', continue: expect.any(String)})

    // With a selector, pages hold matching items only and no remainingItemCount.
    const first = await core.listNamespacedPod({namespace: 'storefront', labelSelector: 'tier=backend', limit: 3})
    expect(names(first.items)).toEqual(['api-5d8c6f7b9-hq7vd', 'api-5d8c6f7b9-n2jxw', 'cache-0'])
    expect(first.metadata?.remainingItemCount).toBeUndefined()
    const second = await core.listNamespacedPod({
      namespace: 'storefront',
      labelSelector: 'tier=backend',
      limit: 3,
      _continue: defined(first.metadata?._continue, "the first page's continue token"),
    })
    expect(names(second.items)).toEqual(['cache-1'])
    expect(second.metadata?._continue).toBeUndefined()

    const bad = await apiError(core.listPodForAllNamespaces({limit: 4, _continue: 'not-a-token'}))
    expect(bad.code).toBe(400)
  })

  test('continue tokens read a consistent snapshot until expired (410)', async () => {
    const first = await core.listNode({limit: 1})
    const token = first.metadata!._continue!
    const rv = first.metadata!.resourceVersion
    try {
      server.setView({...data, nodes: data.nodes.slice(0, 1)})
      const now = await core.listNode()
      expect(names(now.items)).toEqual(['node1'])
      expect(Number(now.metadata?.resourceVersion)).toBeGreaterThan(Number(rv))
      const rest = await core.listNode({limit: 1, _continue: token})
      expect(names(rest.items)).toEqual(['node2'])
      expect(rest.metadata?.resourceVersion).toBe(rv)
      server.expireContinueTokens()
      const gone = await apiError(core.listNode({limit: 1, _continue: token}))
      expect(gone.code).toBe(410)
      expect(JSON.parse(gone.body)).toMatchObject({reason: 'Expired', code: 410})
    } finally {
      server.setView(data)
    }
  })

  test('namespaces are derived from the objects', async () => {
    const list = await core.listNamespace()
    expect(list.kind).toBe('NamespaceList')
    expect(names(list.items)).toEqual(['default', 'kube-system', 'storefront'])
    const ns = await core.readNamespace({name: 'storefront'})
    expect(ns.status?.phase).toBe('Active')
    expect(ns.metadata?.labels).toEqual({'kubernetes.io/metadata.name': 'storefront'})
    expect(server.requests.at(-1)?.path).toBe('/api/v1/namespaces/storefront')
  })

  test('nodes, endpoints, the kube-proxy ConfigMap and /version', async () => {
    const nodes = await core.listNode()
    expect(nodes.kind).toBe('NodeList')
    expect(names(nodes.items)).toEqual(['node1', 'node2'])
    expect((await core.readNode({name: 'node2'})).status?.addresses?.length).toBeGreaterThan(0)
    const eps = await core.listNamespacedEndpoints({namespace: 'storefront'})
    expect(eps.kind).toBe('EndpointsList')
    expect(eps.items.length).toBe(8)
    expect((await core.readNamespacedEndpoints({name: 'kubernetes', namespace: 'default'})).subsets?.[0]?.ports?.[0]?.port).toBeDefined()
    const cm = await core.readNamespacedConfigMap({name: 'kube-proxy', namespace: 'kube-system'})
    expect(cm.data?.['config.conf']).toContain('mode: iptables')
    const version = await clients(server).kc.makeApiClient(VersionApi).getCode()
    const expected = fixture.nodes[0]!.status!.nodeInfo!.kubeletVersion
    expect(version.gitVersion).toBe(expected)
    expect(version.major).toBe('1')
  })

  test('reset() clears the log, pending failures and runtime knobs', async () => {
    await core.listNode()
    server.failNext(5, 500)
    server.delayMs = 5000
    server.deny.push({verb: '*', resource: '*'})
    server.reset()
    expect(server.requests).toEqual([])
    expect((await core.listNode()).items.length).toBe(2)
    expect(server.requests.length).toBe(1)
  })
})

describe('lifecycle', () => {
  test('serves a bundle dir', async () => {
    const s = await startFakeApiServer({bundleDir: FIXTURE_DIR.pathname})
    try {
      const {core} = clients(s)
      expect((await core.listServiceForAllNamespaces()).items.length).toBe(fixture.services.length)
    } finally {
      await s.close()
    }
  })

  test('listItemTypeMeta puts kind/apiVersion on list items; watch is refused', async () => {
    const s = await startFakeApiServer({view: data, listItemTypeMeta: true})
    try {
      const r = await raw(s, 'GET', '/apis/discovery.k8s.io/v1/endpointslices?limit=1')
      expect(r.json.items[0]).toMatchObject({kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1'})
      expect(r.json.metadata).toEqual({
        resourceVersion: expect.any(String),
        continue: expect.any(String),
        remainingItemCount: fixture.endpointSlices.length - 1,
      })
      const w = await raw(s, 'GET', '/api/v1/pods?watch=true')
      expect(w.status).toBe(400)
      expect(s.requests.map((q) => q.query)).toEqual([{limit: '1'}, {watch: 'true'}])
    } finally {
      await s.close()
    }
  })

  test('close() ends pending delayed requests at once and is idempotent', async () => {
    const s = await startFakeApiServer({view: data, delayMs: 60_000})
    const {core} = clients(s)
    const pending = core.listNode().then(
      () => 'answered',
      (e: unknown) => e,
    )
    await new Promise((r) => setTimeout(r, 100))
    expect(s.requests.length).toBe(1)
    const t0 = Date.now()
    await s.close()
    await s.close()
    const outcome = await pending
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(outcome).not.toBe('answered')
    await expect(raw(s, 'GET', '/version')).rejects.toThrow(/ECONNREFUSED/)
  })
})
