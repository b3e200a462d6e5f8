// The live path end to end: the built command, through client-node, against our local HTTPS API
// server serving the reference capture's real objects.
import {execFile} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {loadFakeClusterData, startFakeApiServer, type FakeApiServer} from '../support/fake-apiserver.js'
import {root} from '../support/cli.js'

const bundle = path.join(root, 'test/fixtures/two-node-iptables-v1.26')
let server: FakeApiServer
let scratch: string
let kubeconfig: string

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** The CLI in a child process (asynchronously: the API server answers from this process). */
function svctrace(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'bin/run.js'), ...args],
      {
        cwd: root,
        timeout: 60_000,
        maxBuffer: 64 << 20,
        env: {...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1', ...env},
      },
      (err, stdout, stderr) => resolve({code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr}),
    )
  })
}

beforeAll(async () => {
  server = await startFakeApiServer({bundleDir: bundle})
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-live-'))
  kubeconfig = path.join(scratch, 'config')
  writeFileSync(kubeconfig, server.kubeconfig({context: 'capture', namespace: 'storefront'}))
})
afterAll(async () => {
  await server.close()
  rmSync(scratch, {recursive: true, force: true})
})
beforeEach(() => server.reset())

/** What the server was asked, one line per request, sorted: `GET /path?key=value&…` with the query unencoded and its keys sorted. */
function asked(on: FakeApiServer = server): string[] {
  return on.requests
    .map((q) => {
      const query = Object.entries(q.query)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${k === 'continue' ? '…' : v}`)
        .join('&')
      return `${q.method} ${q.path}${query ? `?${query}` : ''}`
    })
    .sort()
}

const USER_AGENT = `kubectl-svctrace/${JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version} (${{win32: 'windows'}[process.platform as string] ?? process.platform}/${{x64: 'amd64', ia32: '386'}[process.arch as string] ?? process.arch})`

describe('live cluster (fake API server, real client-node)', () => {
  it('traces one Service with five GET requests, each list in pages of 500, each naming svctrace as its User-Agent', async () => {
    const r = await svctrace(['frontend', '-o', 'json'])
    expect(r.stderr).toBe('')
    const report = JSON.parse(r.stdout)
    expect(report.query).toEqual({kind: 'service', service: 'frontend', namespace: 'storefront'})
    expect(report.services.map((s: {name: string}) => s.name)).toEqual(['frontend'])
    expect(asked()).toEqual([
      'GET /api/v1/namespaces/storefront/endpoints/frontend',
      'GET /api/v1/namespaces/storefront/pods?labelSelector=app=frontend&limit=500',
      'GET /api/v1/namespaces/storefront/services/frontend',
      'GET /api/v1/nodes?limit=500',
      'GET /apis/discovery.k8s.io/v1/namespaces/storefront/endpointslices?labelSelector=kubernetes.io/service-name=frontend&limit=500',
    ])
    expect(USER_AGENT).toMatch(/^kubectl-svctrace\/\d+\.\d+\.\d+\S* \([a-z0-9]+\/[a-z0-9]+\)$/)
    expect(server.requests.map((q) => q.userAgent)).toEqual(server.requests.map(() => USER_AGENT))
  })

  it('reading the nodes adds the two kube-proxy config GETs and, with --via exec, one kube-proxy pod lookup per node', async () => {
    // The capture has no kube-proxy pods: each node is unreadable, after exactly one lookup.
    const r = await svctrace(['frontend', '--via', 'exec', '-o', 'json'])
    expect(JSON.parse(r.stdout).services.map((s: {name: string}) => s.name)).toEqual(['frontend'])
    expect(asked()).toEqual([
      'GET /api/v1/namespaces/kube-system/configmaps/kube-proxy',
      'GET /api/v1/namespaces/kube-system/pods?fieldSelector=spec.nodeName=node1&labelSelector=k8s-app=kube-proxy&limit=500',
      'GET /api/v1/namespaces/kube-system/pods?fieldSelector=spec.nodeName=node2&labelSelector=k8s-app=kube-proxy&limit=500',
      'GET /api/v1/namespaces/storefront/endpoints/frontend',
      'GET /api/v1/namespaces/storefront/pods?labelSelector=app=frontend&limit=500',
      'GET /api/v1/namespaces/storefront/services/frontend',
      'GET /api/v1/nodes?limit=500',
      'GET /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy',
      'GET /apis/discovery.k8s.io/v1/namespaces/storefront/endpointslices?labelSelector=kubernetes.io/service-name=frontend&limit=500',
    ])
    expect(server.requests.map((q) => q.userAgent)).toEqual(server.requests.map(() => USER_AGENT))
  })

  it('the exec upgrades into the kube-proxy pods name svctrace as their User-Agent too', async () => {
    const data = await loadFakeClusterData(bundle)
    const kubeProxy = (node: string) => ({
      metadata: {name: `kube-proxy-${node}`, namespace: 'kube-system', labels: {'k8s-app': 'kube-proxy'}},
      spec: {nodeName: node, hostNetwork: true, containers: [{name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.26.3'}]},
      status: {phase: 'Running'},
    })
    server.setView({...data, pods: [...data.pods, kubeProxy('node1'), kubeProxy('node2')]})
    server.exec.respond = (call) => ({stdout: readFileSync(path.join(bundle, 'nodes', call.node, 'iptables-save.txt'), 'utf8')})
    try {
      const r = await svctrace(['frontend', '--via', 'exec', '-o', 'json'])
      expect(JSON.parse(r.stdout).services.map((s: {name: string}) => s.name)).toEqual(['frontend'])
      expect(server.execs.length).toBeGreaterThan(0)
      expect(server.requests.filter((q) => q.path.endsWith('/exec'))).toHaveLength(server.execs.length)
      expect(server.requests.map((q) => q.userAgent)).toEqual(server.requests.map(() => USER_AGENT))
    } finally {
      server.setView(data)
    }
  })

  it('asks for near-miss pods only when the selector matches nothing, one list per selector key', async () => {
    const r = await svctrace(['cache', '-o', 'json'])
    const report = JSON.parse(r.stdout)
    const near = report.findings.find((f: {id: string}) => f.id === 'selector-matches-no-pods')
    expect(near.evidence).toContain('tier=backend (1 edit from backnd: a typo?) on 2 pods: cache-0, cache-1')
    const podLists = server.requests
      .filter((q) => q.path === '/api/v1/namespaces/storefront/pods')
      .map((q) => q.query.labelSelector)
      .sort()
    expect(podLists).toEqual(['app=cache', 'app=cache,tier=backnd', 'tier=backnd'])
    expect(server.requests).toHaveLength(7)
  })

  it('--capture writes a bundle that --from reads back to the identical report', async () => {
    const dir = path.join(scratch, 'captured')
    const live = await svctrace(['gateway', '-o', 'json', '--capture', dir, '--fail-on', 'none'])
    expect(live.code).toBe(0)
    const replay = await svctrace(['gateway', '-n', 'storefront', '-o', 'json', '--from', dir, '--fail-on', 'none'])
    expect(replay.stderr).toBe('')
    const [liveReport, replayed] = [JSON.parse(live.stdout), JSON.parse(replay.stdout)]
    // Only why the paths are expected differs: nodes were not asked for live; the bundle has no nodes/.
    expect([liveReport.expected.reason, replayed.expected.reason]).toEqual(['not-asked', 'bundle-without-nodes'])
    expect({...replayed, expected: {...replayed.expected, reason: 'not-asked'}}).toEqual(liveReport)
  })

  it('without --via: the backends from the API and the paths kube-proxy should program, marked as expected', async () => {
    const r = await svctrace(['frontend'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      [
        'BACKENDS of storefront/frontend  (EndpointSlice)',
        '  POD                       IP           NODE   STATE  PORTS',
        '  frontend-6b7f9d8c5-4kz2q  10.244.1.11  node1  ready  http 8080/TCP',
        '                                                       https 8443/TCP',
        '  frontend-6b7f9d8c5-9wxlm  10.244.1.12  node1  ready  http 8080/TCP',
        '                                                       https 8443/TCP',
        '  frontend-6b7f9d8c5-tr5hn  10.244.2.13  node2  ready  http 8080/TCP',
        '                                                       https 8443/TCP',
        '',
        'EXPECTED — node rules not read; add --via exec or --via ssh to check them',
        '  ENTRY                FROM  VERDICT  BACKENDS',
        '  10.96.10.10:80/TCP   pod   DNAT     10.244.1.11:8080  33.3%',
      ].join('\n'),
    )
    expect(r.stdout).not.toContain('No node data planes were read')
    expect(r.stdout.match(/--via exec/g)).toHaveLength(1)
    expect(server.nonGetRequests()).toEqual([])
  })

  it('a Service that does not exist: the closest names, and the namespaces that have it', async () => {
    const r = await svctrace(['frontend', '-n', 'default'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(
      /^error: Service "frontend" not found in namespace "default" \(context capture \(https:\/\/127\.0\.0\.1:\d+\)\): a Service named "frontend" exists in namespace storefront \(use -n storefront\)/,
    )
  })

  it('RBAC denies pods: the run goes on and says which findings are missing', async () => {
    server.deny = [{verb: 'list', resource: 'pods', namespace: 'storefront'}]
    const r = await svctrace(['frontend', '-o', 'json', '--fail-on', 'none'])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    const denied = report.findings.filter((f: {id: string}) => f.id === 'api-read-denied')
    expect(denied).toHaveLength(1)
    expect(denied[0].message).toMatch(
      /^RBAC does not allow list pods in namespace storefront \(pods is forbidden: User "[^"]+" cannot list resource "pods" in API group "" in the namespace "storefront"\): selector, readiness and port findings are missing$/,
    )
  })

  it("RBAC denies the Service itself: exit 2 with the API server's words", async () => {
    server.deny = [{verb: 'get', resource: 'services'}]
    const r = await svctrace(['frontend'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/RBAC does not allow get services in namespace storefront \(services "frontend" is forbidden/)
  })

  it('an unknown context lists the known ones', async () => {
    const r = await svctrace(['frontend', '--context', 'prod'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/context "prod" not found in .*config; known contexts: capture/)
  })

  it('a server that does not answer in --request-timeout', async () => {
    server.delayMs = 3000
    const r = await svctrace(['frontend', '--request-timeout', '1'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/cannot reach the API server https:\/\/127\.0\.0\.1:\d+ \(context capture\): no answer within 1 s \(--request-timeout\)/)
  })

  it('an unreachable server names the server and context', async () => {
    const dead = path.join(scratch, 'dead-config')
    // A port nothing listens on: the fake server's port after it closed is not reusable safely, so use 1.
    writeFileSync(dead, server.kubeconfig({context: 'gone'}).replace(/127\.0\.0\.1:\d+/, '127.0.0.1:1'))
    const r = await svctrace(['frontend'], {KUBECONFIG: dead})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: cannot reach the API server https:\/\/127\.0\.0\.1:1 \(context gone\): ECONNREFUSED\. Check the context/)
  })

  it('rejected credentials', async () => {
    const bad = path.join(scratch, 'bad-token')
    writeFileSync(bad, server.kubeconfig({context: 'capture', token: 'wrong'}))
    const r = await svctrace(['frontend'], {KUBECONFIG: bad})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/rejected the credentials \(401 Unauthorized\)/)
  })

  it('check mode lists everything of a namespace in one request per resource', async () => {
    const r = await svctrace(['-n', 'storefront', '-o', 'json', '--fail-on', 'none'])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.services.map((s: {name: string}) => s.name)).toEqual([
      'api',
      'billing',
      'cache',
      'frontend',
      'gateway',
      'ledger',
      'metrics',
      'partner',
      'sessions',
    ])
    expect(server.requests.map((q) => q.path).sort()).toEqual([
      '/api/v1/namespaces/storefront/endpoints',
      '/api/v1/namespaces/storefront/pods',
      '/api/v1/namespaces/storefront/services',
      '/api/v1/nodes',
      '/apis/discovery.k8s.io/v1/namespaces/storefront/endpointslices',
    ])
  })

  it("--ip finds the owner cluster-wide and reads only that Service's objects", async () => {
    const r = await svctrace(['--ip', '10.96.20.20:80', '-o', 'json'])
    const report = JSON.parse(r.stdout)
    expect(report.resolution).toBe('10.96.20.20 is the cluster IP of Service storefront/api (NodePort)')
    // The Services once, cluster-wide; then only the owner's objects, its pods by its selector.
    expect(asked()).toEqual([
      'GET /api/v1/namespaces/storefront/endpoints/api',
      'GET /api/v1/namespaces/storefront/pods?labelSelector=app=api&limit=500',
      'GET /api/v1/nodes?limit=500',
      'GET /api/v1/services?limit=500',
      'GET /apis/discovery.k8s.io/v1/namespaces/storefront/endpointslices?labelSelector=kubernetes.io/service-name=api&limit=500',
    ])
  })

  it('--ip of a pod: the Services once, then that one pod by a field selector, never every pod; the slices of its namespace name its Services', async () => {
    const r = await svctrace(['--ip', '10.244.1.11', '-o', 'json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).resolution).toMatch(/^10\.244\.1\.11 is (the IP of )?pod storefront\/frontend-6b7f9d8c5-4kz2q/)
    expect(JSON.parse(r.stdout).resolution).toContain('it is an endpoint of Services storefront/frontend, storefront/sessions')
    expect(asked()).toEqual([
      'GET /api/v1/nodes?limit=500',
      'GET /api/v1/pods?fieldSelector=status.podIP=10.244.1.11&limit=500',
      'GET /api/v1/services?limit=500',
      'GET /apis/discovery.k8s.io/v1/namespaces/storefront/endpointslices?limit=500',
    ])
  })
})

describe('-v: every API request on stderr, as kubectl -v=6 prints it', () => {
  const LINE = /^I\d{4} \d\d:\d\d:\d\d\.\d{3} (GET) (https:\/\/127\.0\.0\.1:\d+)(\/\S*) (\d{3}) ([A-Za-z ]+) in (\d+) milliseconds$/
  /** What the server saw, as `METHOD /path?query` with the query encoded the way the client sent it. */
  const seen = () =>
    server.requests.map((q) => `${q.method} ${q.path}${Object.keys(q.query).length > 0 ? `?${new URLSearchParams(q.query).toString()}` : ''}`).sort()

  it('one line per request with its status and time; stdout is unchanged; no credential appears', async () => {
    const quiet = await svctrace(['frontend', '-o', 'json'])
    server.reset()
    const loud = await svctrace(['storefront/frontend', '-o', 'json', '-v'])
    expect(loud.code).toBe(quiet.code)
    expect(loud.stdout).toBe(quiet.stdout)
    const lines = loud.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(server.requests.length)
    const parsed = lines.map((l) => LINE.exec(l))
    expect(parsed.every((m) => m !== null)).toBe(true)
    expect(parsed.map((m) => `${m![1]} ${m![3]}`).sort()).toEqual(seen())
    expect(parsed.every((m) => m![2] === server.url && m![4] === '200' && m![5] === 'OK')).toBe(true)
    expect(loud.stderr).not.toContain(server.token)
    expect(loud.stderr).not.toMatch(/authorization|bearer/i)
  })

  it('-v=6 shows a denied and a missing object with their status', async () => {
    server.deny = [{verb: 'list', resource: 'pods', namespace: 'storefront'}]
    const r = await svctrace(['svc/frontend', '-o', 'json', '--fail-on', 'none', '-v=6'])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(
      / GET https:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/storefront\/pods\?labelSelector=app%3Dfrontend&limit=500 403 Forbidden in \d+ milliseconds\n/,
    )
    server.reset()
    const missing = await svctrace(['nosuch', '--v=6'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/ GET https:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/storefront\/services\/nosuch 404 Not Found in \d+ milliseconds\n/)
    expect(missing.stderr).toMatch(/\nerror: Service "nosuch" not found/)
  })

  it('a request that gets no answer is shown too', async () => {
    const dead = path.join(scratch, 'dead-config-v')
    writeFileSync(dead, server.kubeconfig({context: 'gone'}).replace(/127\.0\.0\.1:\d+/, '127.0.0.1:1'))
    const r = await svctrace(['frontend', '-v'], {KUBECONFIG: dead})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(
      /^I\d{4} [\d:.]+ GET https:\/\/127\.0\.0\.1:1\/api\/v1\/namespaces\/default\/services\/frontend \(no response: ECONNREFUSED\) in \d+ milliseconds\n/,
    )
  })
})

describe('lists in pages of 500, as kubectl --chunk-size', () => {
  it('-A over 1,200 Services: three pages of Services, every one in the report', async () => {
    const services = Array.from({length: 1200}, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: `svc-${String(i).padStart(4, '0')}`, namespace: `team-${i % 7}`},
      spec: {type: 'ClusterIP', clusterIP: `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`, ports: [{port: 80, protocol: 'TCP', targetPort: 8080}]},
    }))
    const big = await startFakeApiServer({view: {services, endpointSlices: [], endpoints: [], pods: [], nodes: []}})
    try {
      const config = path.join(scratch, 'big-config')
      writeFileSync(config, big.kubeconfig({context: 'big'}))
      const r = await svctrace(['-A', '-o', 'json', '--fail-on', 'none'], {KUBECONFIG: config})
      expect(r.code).toBe(0)
      const names = JSON.parse(r.stdout).services.map((s: {namespace: string; name: string}) => `${s.namespace}/${s.name}`)
      expect([...names].sort()).toEqual(services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort())
      expect(asked(big)).toEqual([
        'GET /api/v1/endpoints?limit=500',
        'GET /api/v1/nodes?limit=500',
        'GET /api/v1/pods?limit=500',
        'GET /api/v1/services?continue=…&limit=500',
        'GET /api/v1/services?continue=…&limit=500',
        'GET /api/v1/services?limit=500',
        'GET /apis/discovery.k8s.io/v1/endpointslices?limit=500',
      ])
    } finally {
      await big.close()
    }
  })
})
