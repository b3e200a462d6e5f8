// The API on one shared connection (api-connection.ts), through the real client-node and a real
// TLS server: the fake API server (HTTP/2 by ALPN, like kube-apiserver, or HTTP/1.1 only), and for
// what it does not do (GOAWAY, gzip) a small HTTP/2 server of the test's own.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http2 from 'node:http2'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import * as k8s from '@kubernetes/client-node'
import {parseClusterFile} from '../../src/adapters/bundle/cluster-file.js'
import {KubeApiSource} from '../../src/adapters/kube/api.js'
import {apiConnections, apiHttp, withSignal} from '../../src/adapters/kube/client-options.js'
import {loadKubeconfig} from '../../src/adapters/kube/kubeconfig.js'
import type {ApiConnections} from '../../src/adapters/kube/api-connection.js'
import {makeTestPki, startFakeApiServer, type FakeApiServer, type TestPki} from '../support/fake-apiserver.js'

const FIXTURE_FILE = new URL('../fixtures/two-node-iptables-v1.26/cluster.yaml', import.meta.url).pathname
const view = parseClusterFile(readFileSync(FIXTURE_FILE, 'utf8'), FIXTURE_FILE)

let pki: TestPki
let scratch: string
beforeAll(async () => {
  pki = await makeTestPki()
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-h2-'))
}, 30_000)
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

/** A KubeApiSource on `server`'s kubeconfig, as the CLI makes it. */
async function source(server: FakeApiServer): Promise<KubeApiSource> {
  const file = path.join(scratch, 'config')
  writeFileSync(file, server.kubeconfig({context: 'example', namespace: 'default'}))
  return new KubeApiSource(await loadKubeconfig({kubeconfig: file, env: {}}), {timeoutMs: 5_000, userAgent: 'kubectl-svctrace/test'})
}

/** client-node's CoreV1Api sending through `connections` (no -v), each call with `timeoutMs`. */
function core(kubeconfig: string, connections: ApiConnections) {
  const kc = new k8s.KubeConfig()
  kc.loadFromString(kubeconfig)
  const api = kc.makeApiClient(k8s.CoreV1Api)
  const http = apiHttp(k8s, {connections})
  return {api, options: (timeoutMs = 5_000) => withSignal(AbortSignal.timeout(timeoutMs), {http, userAgent: 'kubectl-svctrace/test'})}
}

describe('the API on one shared connection (fake API server)', () => {
  let server: FakeApiServer
  beforeAll(async () => {
    server = await startFakeApiServer({view, pki})
  })
  afterAll(() => server.close())
  afterEach(() => server.reset())

  it('a one-Service trace: every request on one HTTP/2 connection, the User-Agent on each', async () => {
    const cluster = await source(server)
    const {view: read} = await cluster.load({kind: 'service', service: 'frontend', namespace: 'storefront'} as never)
    expect(read.services.map((s) => s.metadata?.name)).toEqual(['frontend'])
    expect(read.nodes.length).toBe(2)
    await cluster.kubeProxyObjects()
    expect(server.requests.length).toBeGreaterThanOrEqual(6)
    expect(new Set(server.requests.map((r) => `${r.httpVersion} ${r.userAgent}`))).toEqual(new Set(['2.0 kubectl-svctrace/test']))
    expect(server.connections).toBe(1)
  })

  it('requests at once share the connection; a later one reuses it', async () => {
    const connections = apiConnections(k8s)
    const {api, options} = core(server.kubeconfig(), connections)
    const lists = await Promise.all([api.listNode({}, options()), api.listNamespacedPod({namespace: 'storefront'}, options()), api.listNode({}, options())])
    expect(lists.map((l) => l.items.length)).toEqual([2, view.pods.filter((p) => p.metadata?.namespace === 'storefront').length, 2])
    expect((await api.readNamespacedService({name: 'frontend', namespace: 'storefront'}, options())).metadata?.name).toBe('frontend')
    expect(server.connections).toBe(1)
    expect(server.requests.every((r) => r.httpVersion === '2.0')).toBe(true)
  })

  it('a Status answer comes back as client-node reports it (404 body and code)', async () => {
    const {api, options} = core(server.kubeconfig(), apiConnections(k8s))
    const err = (await api.readNamespacedService({name: 'nope', namespace: 'storefront'}, options()).catch((e: unknown) => e)) as k8s.ApiException<string>
    expect(err).toBeInstanceOf(k8s.ApiException)
    expect(err.code).toBe(404)
    expect(JSON.parse(err.body)).toMatchObject({kind: 'Status', reason: 'NotFound', code: 404})
  })

  it('--request-timeout: a request with no answer fails as aborted; the connection serves the next', async () => {
    const connections = apiConnections(k8s)
    const {api, options} = core(server.kubeconfig(), connections)
    server.delayMs = 3_000
    const started = Date.now()
    const err = (await api.listNode({}, options(200)).catch((e: unknown) => e)) as Error
    expect(err.name).toBe('AbortError')
    expect(Date.now() - started).toBeLessThan(2_000)
    server.delayMs = 0
    expect((await api.listNode({}, options())).items.length).toBe(2)
    expect(server.connections).toBe(1)
  })

  it('a reset stream fails that request alone; the others on the connection are answered', async () => {
    const {api, options} = core(server.kubeconfig(), apiConnections(k8s))
    server.failNext(1, 'reset')
    const [first, second] = await Promise.allSettled([api.listNode({}, options()), api.listNode({}, options())])
    expect([first.status, second.status].sort()).toEqual(['fulfilled', 'rejected'])
    const failed = (first.status === 'rejected' ? first.reason : (second as PromiseRejectedResult).reason) as {code?: string}
    expect(failed.code).toBe('ERR_HTTP2_STREAM_ERROR')
    expect(server.connections).toBe(1)
  })

  it('a certificate the kubeconfig CA did not sign is refused, as with fetch', async () => {
    const other = await makeTestPki('another CA')
    const {api, options} = core(server.kubeconfig({caPem: other.caPem}), apiConnections(k8s))
    const err = (await api.listNode({}, options()).catch((e: unknown) => e)) as {code?: string}
    expect(err.code).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/)
    expect(server.requests).toEqual([])
  })
})

describe('a server that does not offer HTTP/2', () => {
  let server: FakeApiServer
  beforeAll(async () => {
    server = await startFakeApiServer({view, pki, http1Only: true})
  })
  afterAll(() => server.close())

  it('is asked through client-node fetch instead, after one TLS connection that learned it', async () => {
    const {api, options} = core(server.kubeconfig(), apiConnections(k8s))
    expect((await api.listNode({}, options())).items.length).toBe(2)
    expect((await api.readNamespacedService({name: 'frontend', namespace: 'storefront'}, options())).metadata?.name).toBe('frontend')
    expect(server.requests.map((r) => `${r.httpVersion} ${r.userAgent}`)).toEqual(['1.1 kubectl-svctrace/test', '1.1 kubectl-svctrace/test'])
    // One to learn the protocol, then one per request (fetch's way).
    expect(server.connections).toBe(3)
  })
})

/** An HTTP/2 server on loopback (`host`: 127.0.0.1, or ::1) with the test PKI; `onStream` answers (or not). */
async function h2Server(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, session: http2.ServerHttp2Session) => void,
  host = '127.0.0.1',
) {
  const server = http2.createSecureServer({cert: pki.certPem, key: pki.keyPem})
  const open = new Set<http2.ServerHttp2Session>()
  let sessions = 0
  server.on('session', (session) => {
    sessions++
    open.add(session)
    session.on('close', () => open.delete(session))
  })
  server.on('stream', (stream, headers) => {
    // A stream the test resets fails on this side too; that is the point, not an error of the test.
    stream.on('error', () => undefined)
    onStream(stream, headers, stream.session as http2.ServerHttp2Session)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const port = (server.address() as {port: number}).port
  // The test certificate names 127.0.0.1 and localhost: an IPv6 address is reached without verifying it.
  const trust = host.includes(':') ? 'insecure-skip-tls-verify: true' : `certificate-authority-data: ${Buffer.from(pki.caPem).toString('base64')}`
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: t, cluster: {server: "https://${authority}", ${trust}}}]`,
    'users: [{name: t, user: {token: x}}]',
    'contexts: [{name: t, context: {cluster: t, user: t}}]',
    'current-context: t',
  ].join('\n')
  return {
    kubeconfig,
    authority,
    sessions: () => sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const session of open) session.destroy()
      }),
  }
}

const NODE_LIST = JSON.stringify({kind: 'NodeList', apiVersion: 'v1', metadata: {resourceVersion: '1'}, items: [{metadata: {name: 'n1'}}]})

describe('HTTP/2 details', () => {
  const servers: Array<{close(): Promise<void>}> = []
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close()
  })

  it("asks for gzip and reads a gzip answer; :authority is the server's host and port", async () => {
    let asked: string | undefined
    let authority: string | undefined
    const s = await h2Server((stream, headers) => {
      asked = String(headers['accept-encoding'])
      authority = headers[':authority']
      stream.respond({':status': 200, 'content-type': 'application/json', 'content-encoding': 'gzip'})
      stream.end(gzipSync(NODE_LIST))
    })
    servers.push(s)
    const {api, options} = core(s.kubeconfig, apiConnections(k8s))
    expect((await api.listNode({}, options())).items.map((n) => n.metadata?.name)).toEqual(['n1'])
    expect(asked).toBe('gzip')
    expect(authority).toBe(s.authority)
  })

  it('an IPv6 server address: the connection is made and :authority keeps the brackets and port', async () => {
    let authority: string | undefined
    const s = await h2Server((stream, headers) => {
      authority = headers[':authority']
      stream.respond({':status': 200, 'content-type': 'application/json'})
      stream.end(NODE_LIST)
    }, '::1')
    servers.push(s)
    const {api, options} = core(s.kubeconfig, apiConnections(k8s))
    expect((await api.listNode({}, options())).items.length).toBe(1)
    expect(authority).toBe(s.authority)
    expect(s.authority).toMatch(/^\[::1\]:\d+$/)
  })

  it('a stream the server refuses (REFUSED_STREAM: not processed) is sent again', async () => {
    let streams = 0
    const s = await h2Server((stream) => {
      if (++streams === 1) {
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM)
        return
      }
      stream.respond({':status': 200, 'content-type': 'application/json'})
      stream.end(NODE_LIST)
    })
    servers.push(s)
    const {api, options} = core(s.kubeconfig, apiConnections(k8s))
    expect((await api.listNode({}, options())).items.length).toBe(1)
    expect(streams).toBe(2)
    expect(s.sessions()).toBe(1)
  })

  it('after GOAWAY the connection is not used again: the next request opens a new one', async () => {
    const s = await h2Server((stream, _headers, session) => {
      stream.respond({':status': 200, 'content-type': 'application/json'})
      stream.end(NODE_LIST)
      // Answered, then no more on this connection (kube-apiserver's --goaway-chance, or a shutdown).
      session.goaway(http2.constants.NGHTTP2_NO_ERROR)
    })
    servers.push(s)
    const {api, options} = core(s.kubeconfig, apiConnections(k8s))
    expect((await api.listNode({}, options())).items.length).toBe(1)
    await new Promise((r) => setTimeout(r, 50))
    expect((await api.listNode({}, options())).items.length).toBe(1)
    expect(s.sessions()).toBe(2)
  })
})
