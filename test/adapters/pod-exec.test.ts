// PodExecConnector through the real @kubernetes/client-node (Exec over WebSocket, CoreV1Api) against the
// local fake API server, which speaks the pods/exec channel protocol and, given a node → network namespace
// map, really runs each argv there (`ip netns exec NS argv…`). Without root, commands are answered by the
// server's `respond` hook instead (same wire, canned output); the netns part skips with a printed reason.
import {spawnSync} from 'node:child_process'
import {readFileSync, rmSync, writeFileSync, mkdtempSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {V1Pod} from '@kubernetes/client-node'
import {DEBUG_POD_NAMESPACE, DEFAULT_DEBUG_IMAGE, RUN_ID_LABEL} from '../../src/adapters/kube/debug-pod.js'
import {loadKubeconfig, type LoadedKubeconfig} from '../../src/adapters/kube/kubeconfig.js'
import {nodeCommands, type NodeCommand} from '../../src/adapters/node/commands.js'
import {NodeAccessError, type NodeSession} from '../../src/adapters/node/connector.js'
import {PodExecConnector, type PodExecOptions} from '../../src/adapters/kube/pod-exec-connector.js'
import {readNodeDataplane} from '../../src/adapters/node/dataplane-reader.js'
import {captureOf} from '../../src/core/captures.js'
import type {CollectionPlan} from '../../src/core/collection-plan.js'
import {buildReport} from '../../src/core/report.js'
import {loadFakeClusterData, startFakeApiServer, type ExecCall, type ExecReply, type FakeApiServer, type FakeClusterData} from '../support/fake-apiserver.js'
import {fakeNodeDir, fakeProgram} from '../support/local-shell.js'
import {NS_PREFIX, normalizeIptablesSave, requireRoot, run} from '../support/netns.js'
import {comparableReport, type ReportJson} from '../support/netns-trace.js'
import {dataplane} from '../support/dataplane.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26/', import.meta.url))
const KUBE_PROXY_IMAGE = 'registry.k8s.io/kube-proxy:v1.26.3'

function kubeProxyPod(node: string, name: string, status: V1Pod['status'] = {phase: 'Running'}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'kube-system',
      labels: {'k8s-app': 'kube-proxy', 'controller-revision-hash': '6c9f6c4b4d', 'pod-template-generation': '1'},
      resourceVersion: '512',
    },
    spec: {
      nodeName: node,
      hostNetwork: true,
      containers: [
        {
          name: 'kube-proxy',
          image: KUBE_PROXY_IMAGE,
          command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf'],
          securityContext: {privileged: true},
        },
      ],
    },
    status,
  }
}

/** A pod on node1 in kube-system that is not kube-proxy: the label selector must leave it out. */
const coredns: V1Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {name: 'coredns-787d4945fb-l85r5', namespace: 'kube-system', labels: {'k8s-app': 'kube-dns'}},
  spec: {nodeName: 'node1', containers: [{name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.9.3'}]},
  status: {phase: 'Running'},
}

let base: FakeClusterData
let server: FakeApiServer
let loaded: LoadedKubeconfig
let scratch: string
const connectors: PodExecConnector[] = []
/** Every exec call of every test, checked against the allow-list at the end. */
const allExecs: ExecCall[] = []

function withKubeProxy(pods: V1Pod[]): FakeClusterData {
  return {...base, pods: [...base.pods, coredns, ...pods]}
}

function connector(opts: PodExecOptions = {}): PodExecConnector {
  const c = new PodExecConnector(loaded, opts)
  connectors.push(c)
  return c
}

async function failure(p: Promise<unknown>): Promise<NodeAccessError> {
  try {
    await p
  } catch (err) {
    if (err instanceof NodeAccessError) return err
    throw err
  }
  throw new Error('expected a NodeAccessError')
}

const svctracePods = () => server.pods().filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'svctrace')

beforeAll(async () => {
  base = await loadFakeClusterData(FIXTURE)
  server = await startFakeApiServer({
    view: withKubeProxy([kubeProxyPod('node1', 'kube-proxy-7xk2p'), kubeProxyPod('node2', 'kube-proxy-m4d9q')]),
    podWrites: true,
    podStart: {afterMs: 300},
    // The real kube-proxy image has iptables, nft and ipset, but no ipvsadm.
    exec: {missing: {[KUBE_PROXY_IMAGE]: ['ipvsadm']}},
  })
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-podexec-'))
  const file = path.join(scratch, 'config')
  writeFileSync(file, server.kubeconfig({context: 'fake', namespace: 'storefront'}))
  loaded = await loadKubeconfig({kubeconfig: file, env: {}})
})

afterEach(async () => {
  await Promise.all(connectors.splice(0).map((c) => c.close().catch(() => undefined)))
  allExecs.push(...server.execs)
})

afterAll(async () => {
  await server?.close()
  if (scratch) rmSync(scratch, {recursive: true, force: true})
})

beforeEach(() => {
  server.reset()
  server.setView(withKubeProxy([kubeProxyPod('node1', 'kube-proxy-7xk2p'), kubeProxyPod('node2', 'kube-proxy-m4d9q')]))
})

describe('exec into the kube-proxy pod (canned command output)', () => {
  it('finds the pod with both selectors on the server and runs the argv in its kube-proxy container', async () => {
    server.exec.respond = (call) => (call.argv[0] === 'iptables-save' ? {stdout: `# node ${call.node}\n*nat\nCOMMIT\n`} : undefined)
    const audit: string[] = []
    const session = await connector({audit: (node, line) => audit.push(`${node}: ${line}`)}).connect({name: 'node2', address: '192.168.49.3'})
    expect(await session.run(nodeCommands.iptablesSave())).toEqual({stdout: '# node node2\n*nat\nCOMMIT\n', stderr: '', exitCode: 0})
    expect(server.requests[0]).toEqual({
      method: 'GET',
      path: '/api/v1/namespaces/kube-system/pods',
      query: {labelSelector: 'k8s-app=kube-proxy', fieldSelector: 'spec.nodeName=node2', limit: '500'},
      // On the run's shared HTTP/2 connection (api-connection.ts); this connector was given no User-Agent.
      userAgent: '',
      httpVersion: '2.0',
    })
    expect(server.execs).toEqual([
      expect.objectContaining({
        namespace: 'kube-system',
        pod: 'kube-proxy-m4d9q',
        container: 'kube-proxy',
        node: 'node2',
        argv: ['iptables-save'],
        allowedAs: 'iptables-save',
        protocol: 'v5.channel.k8s.io',
        outcome: 0,
      }),
    ])
    expect(audit).toEqual(['node2: iptables-save'])
    expect(server.writes).toEqual([])
  })

  it('keeps stdout and stderr apart and whole across many frames', async () => {
    const big = Array.from({length: 20_000}, (_, i) => `-A KUBE-SVC-${String(i).padStart(16, '0')} -j KUBE-SEP-X\n`).join('')
    server.exec.respond = () => ({stdout: big, stderr: 'iptables-save: warning\n'})
    const session = await connector().connect({name: 'node1', address: ''})
    const r = await session.run(nodeCommands.iptablesSave())
    expect(r.stdout.length).toBe(big.length)
    expect(r.stdout).toBe(big)
    expect(r.stderr).toBe('iptables-save: warning\n')
  })

  it('a non-zero exit comes back from the status channel as a command error with the stderr', async () => {
    server.exec.respond = () => ({stderr: "iptables v1.8.8 (nf_tables): chain `KUBE-SVC-NOPE' in table `nat' is incompatible, use 'nft' tool.\n", exitCode: 1})
    const session = await connector().connect({name: 'node1', address: ''})
    const err = await failure(session.run(nodeCommands.iptablesListChain('nat', 'KUBE-SVC-NOPE')))
    expect(err.kind).toBe('command')
    expect(err.message).toBe(
      '`iptables -w 5 -t nat -S KUBE-SVC-NOPE` in kube-proxy pod kube-system/kube-proxy-7xk2p on node1 exited with 1: ' +
        "iptables v1.8.8 (nf_tables): chain `KUBE-SVC-NOPE' in table `nat' is incompatible, use 'nft' tool.",
    )
    expect(server.execs[0]!.outcome).toBe(1)
  })

  it('a program the image lacks reads as "not installed … exited with 127", so the reader falls back to /proc/net/ip_vs', async () => {
    server.exec.respond = (call) => (call.argv[0] === 'cat' ? {stdout: 'IP Virtual Server version 1.2.1 (size=4096)\n'} : undefined)
    const session = await connector().connect({name: 'node1', address: ''})
    const err = await failure(session.run(nodeCommands.ipvsadmSave()))
    expect(err.kind).toBe('command')
    expect(err.message).toBe(
      'ipvsadm is not installed in kube-proxy pod kube-system/kube-proxy-7xk2p on node1 (`ipvsadm -S -n` exited with 127: not in the kube-proxy image)',
    )
    expect(server.execs[0]!.outcome).toBe('not-found')
    expect((await session.run(nodeCommands.procIpVs())).stdout).toMatch(/^IP Virtual Server/)
  })

  it('no kube-proxy pod on the node: says so and suggests --debug-pod', async () => {
    server.setView(withKubeProxy([kubeProxyPod('node1', 'kube-proxy-7xk2p')]))
    const err = await failure(connector().connect({name: 'node2', address: ''}))
    expect(err.kind).toBe('unreachable')
    expect(err.message).toBe(
      'no kube-proxy pod on node2 (no pod labelled k8s-app=kube-proxy in kube-system runs there): kube-proxy may run outside ' +
        'Kubernetes on this node, or another data plane replaces it; pass --debug-pod to read the node from a short-lived privileged pod, or use --via ssh',
    )
    expect(server.execs).toEqual([])
  })

  it('a kube-proxy pod that is not running: its waiting reason', async () => {
    server.setView(
      withKubeProxy([
        kubeProxyPod('node1', 'kube-proxy-7xk2p', {
          phase: 'Pending',
          containerStatuses: [
            {
              name: 'kube-proxy',
              image: KUBE_PROXY_IMAGE,
              imageID: '',
              ready: false,
              restartCount: 0,
              state: {waiting: {reason: 'ImagePullBackOff', message: `Back-off pulling image "${KUBE_PROXY_IMAGE}"`}},
            },
          ],
        }),
      ]),
    )
    const err = await failure(connector().connect({name: 'node1', address: ''}))
    expect(err.message).toMatch(
      /^the kube-proxy pod on node1 is not running \(kube-proxy-7xk2p: container kube-proxy is waiting: ImagePullBackOff \(Back-off pulling image .*\)\); pass --debug-pod/,
    )
  })

  it("RBAC without create on pods/exec: names the verb, resource and namespace, with the API server's words", async () => {
    server.deny = [{verb: 'create', resource: 'pods/exec'}]
    const session = await connector().connect({name: 'node1', address: ''})
    const err = await failure(session.run(nodeCommands.iptablesSave()))
    expect(err.kind).toBe('auth')
    expect(err.message).toBe(
      'RBAC does not allow create pods/exec in namespace kube-system (pods "kube-proxy-7xk2p" is forbidden: User ' +
        '"system:serviceaccount:default:svctrace" cannot create resource "pods/exec" in API group "" in the namespace "kube-system"), needed to run ' +
        'commands in kube-proxy pod kube-system/kube-proxy-7xk2p on node1; grant the verbs create and get on pods/exec there ' +
        '(check with kubectl auth can-i create pods/exec -n kube-system) or use --via ssh',
    )
    expect(server.execs).toEqual([])
  })

  it('RBAC without list pods in kube-system: says which request and why', async () => {
    server.deny = [{verb: 'list', resource: 'pods', namespace: 'kube-system'}]
    const err = await failure(connector().connect({name: 'node1', address: ''}))
    expect(err.kind).toBe('auth')
    expect(err.message).toMatch(
      /^RBAC does not allow list pods in namespace kube-system \(pods is forbidden: .*\), needed to find the kube-proxy pod on node1; grant it/,
    )
  })

  it('a command that does not finish in time: timeout, and the server sees the stream go away', async () => {
    server.exec.delayMs = 5_000
    server.exec.respond = () => ({stdout: 'late'})
    const session = await connector({commandTimeoutMs: 400}).connect({name: 'node1', address: ''})
    const started = Date.now()
    const err = await failure(session.run(nodeCommands.iptablesSave()))
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(err.kind).toBe('timeout')
    expect(err.message).toBe(
      '`iptables-save` in kube-proxy pod kube-system/kube-proxy-7xk2p on node1 did not finish within 0.4 s; the node or the API server may be overloaded',
    )
    await expect.poll(() => server.execs[0]?.outcome).toBe('cancelled')
  })

  it('output over the cap: too-large, the stream is closed', async () => {
    server.exec.respond = () => ({stdout: 'x'.repeat(200_000)})
    const session = await connector({maxOutputBytes: 50_000}).connect({name: 'node1', address: ''})
    const err = await failure(session.run(nodeCommands.iptablesSave()))
    expect(err.kind).toBe('too-large')
    expect(err.message).toBe(
      '`iptables-save` in kube-proxy pod kube-system/kube-proxy-7xk2p on node1 printed more than 50000 bytes; stopped reading and closed the stream',
    )
  })

  it('an argv that is not on the allow-list never leaves the process', async () => {
    const session = await connector().connect({name: 'node1', address: ''})
    const hostile: NodeCommand[] = [
      {id: 'iptables-save', argv: ['iptables-save', ';', 'reboot']},
      {id: 'iptables-list-chain', argv: ['iptables', '-w', '5', '-t', 'nat', '-S', 'KUBE-SVC-X $(reboot)']},
      {id: 'proc-ip-vs', argv: ['cat', '/etc/shadow']},
    ]
    for (const cmd of hostile) expect((await failure(session.run(cmd))).kind).toBe('command')
    expect(server.execs).toEqual([])
    expect(server.requests.filter((r) => r.path.endsWith('/exec'))).toEqual([])
  })

  it('refuses a node name that is not one before asking the API server anything', async () => {
    const err = await failure(connector().connect({name: 'node1,metadata.name!=x', address: ''}))
    expect(err.message).toBe('refusing to look up node "node1,metadata.name!=x": not a valid node name')
    expect(server.requests).toEqual([])
  })
})

describe('debug pods (--debug-pod)', () => {
  it('creates a privileged hostNetwork pod pinned to the node, execs there, and deletes it when the node is done', async () => {
    server.exec.respond = (call) => ({stdout: `read on ${call.node} in ${call.pod}\n`})
    const c = connector({debugPod: 'always', podStartTimeoutMs: 10_000})
    const session = await c.connect({name: 'node2', address: ''})
    const created = server.writes.find((w) => w.method === 'POST')!
    expect(created.path).toBe('/api/v1/namespaces/kube-system/pods')
    const pod = created.body as V1Pod
    const runId = pod.metadata!.labels![RUN_ID_LABEL]!
    expect(runId).toMatch(/^[0-9a-f]{8}$/)
    expect(pod.metadata).toMatchObject({
      name: `svctrace-${runId}-1`,
      namespace: DEBUG_POD_NAMESPACE,
      labels: {'app.kubernetes.io/managed-by': 'svctrace', [RUN_ID_LABEL]: runId},
    })
    expect(pod.spec).toMatchObject({
      nodeName: 'node2',
      hostNetwork: true,
      restartPolicy: 'Never',
      tolerations: [{operator: 'Exists'}],
      automountServiceAccountToken: false,
      containers: [
        {name: 'svctrace', image: DEFAULT_DEBUG_IMAGE, securityContext: {privileged: true}, command: ['sleep', String(pod.spec!.activeDeadlineSeconds)]},
      ],
    })
    expect(pod.spec!.activeDeadlineSeconds).toBeGreaterThanOrEqual(600)
    expect(pod.spec!.hostPID).toBeUndefined()
    // It waited for Running (the fake starts pods after 300 ms) by reading the pod.
    expect(
      server.requests.filter((r) => r.method === 'GET' && r.path === `/api/v1/namespaces/kube-system/pods/${pod.metadata!.name}`).length,
    ).toBeGreaterThanOrEqual(1)
    expect((await session.run(nodeCommands.iptablesSave())).stdout).toBe(`read on node2 in svctrace-${runId}-1\n`)
    expect(server.execs[0]).toMatchObject({pod: `svctrace-${runId}-1`, container: 'svctrace', image: DEFAULT_DEBUG_IMAGE})
    expect(svctracePods().map((p) => p.metadata?.name)).toEqual([`svctrace-${runId}-1`])

    await session.close()
    expect(svctracePods()).toEqual([])
    await c.close()
    await c.close()
    expect(server.writes.map((w) => `${w.method} ${w.path}${w.query.labelSelector ? `?labelSelector=${w.query.labelSelector}` : ''} ${w.code}`)).toEqual([
      'POST /api/v1/namespaces/kube-system/pods 201',
      `DELETE /api/v1/namespaces/kube-system/pods/svctrace-${runId}-1 200`,
      `DELETE /api/v1/namespaces/kube-system/pods?labelSelector=app.kubernetes.io/managed-by=svctrace,${RUN_ID_LABEL}=${runId} 200`,
    ])
    // Nothing else was written: no other resource, namespace or method.
    expect(server.nonGetRequests().length).toBe(3)
  })

  it('close() deletes every debug pod of the run, for several nodes, once, even when called twice at once', async () => {
    server.exec.respond = () => ({stdout: 'ok\n'})
    const c = connector({debugPod: 'always', debugImage: 'registry.example/tools:1', podStartTimeoutMs: 10_000})
    await Promise.all([c.connect({name: 'node1', address: ''}), c.connect({name: 'node2', address: ''})])
    expect(
      svctracePods()
        .map((p) => p.spec?.nodeName)
        .sort(),
    ).toEqual(['node1', 'node2'])
    expect(svctracePods().every((p) => p.spec?.containers[0]?.image === 'registry.example/tools:1')).toBe(true)
    await Promise.all([c.close(), c.close()])
    expect(svctracePods()).toEqual([])
    expect(server.writes.filter((w) => w.method === 'DELETE' && w.query.labelSelector).length).toBe(1)
    const late = await failure(c.connect({name: 'node1', address: ''}))
    expect(late.message).toBe('not reading node1: svctrace is stopping')
  })

  it('a pod that never runs: the waiting reason, the fix, and the pod is deleted', async () => {
    server.podStart = {waiting: {reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.example/nope:1"'}}
    const c = connector({debugPod: 'always', debugImage: 'registry.example/nope:1', podStartTimeoutMs: 1_500})
    const started = Date.now()
    const err = await failure(c.connect({name: 'node1', address: ''}))
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(err.kind).toBe('timeout')
    expect(err.message).toMatch(
      /^debug pod kube-system\/svctrace-[0-9a-f]{8}-1 on node1 was not running after 1\.5 s: container svctrace is waiting: ImagePullBackOff \(Back-off pulling image "registry.example\/nope:1"\); check that node1 can pull registry.example\/nope:1 \(or pass --debug-image with one it can\), and that the node is Ready$/,
    )
    expect(svctracePods()).toEqual([])
    expect(server.writes.map((w) => `${w.method} ${w.code}`)).toEqual(['POST 201', 'DELETE 200'])
  })

  it('a creation whose answer is lost: the pod exists on the server, and it is deleted all the same', async () => {
    server.dropNextAnswers(1)
    const c = connector({debugPod: 'always', podStartTimeoutMs: 5_000})
    const err = await failure(c.connect({name: 'node1', address: ''}))
    expect(err.message).toMatch(/^cannot reach the API server to create pods in namespace kube-system \(to start a debug pod on node1\)/)
    // The POST was never answered, yet deleting the pod by its name found it (200, not 404).
    expect(server.writes.map((w) => `${w.method} ${w.path} ${w.code}`)).toEqual([
      'POST /api/v1/namespaces/kube-system/pods undefined',
      expect.stringMatching(/^DELETE \/api\/v1\/namespaces\/kube-system\/pods\/svctrace-[0-9a-f]{8}-1 200$/),
    ])
    expect(svctracePods()).toEqual([])
    await c.close()
    expect(server.writes.at(-1)).toMatchObject({
      method: 'DELETE',
      code: 200,
      query: {labelSelector: expect.stringMatching(/^app.kubernetes.io\/managed-by=svctrace,svctrace\/run-id=[0-9a-f]{8}$/)},
    })
  })

  it('Ctrl-C while a pod starts: close() stops the wait at once and deletes the pod', async () => {
    server.podStart = {afterMs: 60_000}
    const c = connector({debugPod: 'always', podStartTimeoutMs: 30_000})
    const connecting = failure(c.connect({name: 'node1', address: ''}))
    await expect.poll(() => svctracePods().length).toBe(1)
    const started = Date.now()
    await c.close()
    expect(Date.now() - started).toBeLessThan(3_000)
    expect((await connecting).message).toMatch(/svctrace is stopping/)
    expect(svctracePods()).toEqual([])
  })

  it('Ctrl-C while a command runs in the debug pod: the command is cancelled and the pod deleted', async () => {
    server.exec.delayMs = 30_000
    server.exec.respond = () => ({stdout: 'never'})
    const c = connector({debugPod: 'always', podStartTimeoutMs: 10_000})
    const session = await c.connect({name: 'node1', address: ''})
    const running = failure(session.run(nodeCommands.iptablesSave()))
    await expect.poll(() => server.execs.length).toBe(1)
    const started = Date.now()
    await c.close()
    expect(Date.now() - started).toBeLessThan(3_000)
    expect((await running).message).toBe(`\`iptables-save\` in debug pod kube-system/${server.execs[0]!.pod} on node1 was cancelled: svctrace is stopping`)
    await expect.poll(() => server.execs[0]!.outcome).toBe('cancelled')
    expect(svctracePods()).toEqual([])
  })

  it('RBAC without create pods in kube-system: names it, and nothing is left behind', async () => {
    server.deny = [{verb: 'create', resource: 'pods', namespace: 'kube-system'}]
    const c = connector({debugPod: 'always'})
    const err = await failure(c.connect({name: 'node1', address: ''}))
    expect(err.kind).toBe('auth')
    expect(err.message).toMatch(
      /^RBAC does not allow create pods in namespace kube-system \(pods is forbidden: User ".*" cannot create resource "pods" .*\), needed to start a debug pod on node1; grant it \(check with kubectl auth can-i create pods -n kube-system\) or use --via ssh$/,
    )
    await c.close()
    expect(svctracePods()).toEqual([])
  })
})

describe('--debug-pod-fallback (canned command output)', () => {
  let bin = ''
  beforeAll(() => {
    bin = fakeNodeDir(path.join(scratch, 'debug-image'), {
      'conntrack -L -d 10.96.0.10': {stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n'},
    })
    symlinkSync(fakeProgram(bin), path.join(bin, 'conntrack'))
  })
  const localShell = (script: string): ExecReply => {
    const r = spawnSync('/bin/sh', ['-c', script], {env: {PATH: bin}, encoding: 'buffer', timeout: 30_000})
    return {stdout: r.stdout, stderr: r.stderr.toString('utf8'), exitCode: r.status ?? 1}
  }

  const RULES = '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU\nCOMMIT\n'
  const plan = (conntrack: boolean): CollectionPlan => ({
    full: true,
    ipv6: false,
    chains: {nat: [], filter: []},
    chains6: {nat: [], filter: []},
    destinations: [],
    ...(conntrack ? {conntrack: {addresses: ['10.96.0.10']}} : {}),
  })

  beforeEach(() => {
    // A distroless kube-proxy: no shell, no cat, no conntrack (and no ipvsadm, as ever).
    server.exec.missing = {[KUBE_PROXY_IMAGE]: ['ipvsadm', 'conntrack', 'cat']}
    server.exec.respond = (call) => {
      if (call.image === KUBE_PROXY_IMAGE && (call.allowedAs === 'compound' || ['ipvsadm', 'conntrack', 'cat'].includes(call.argv[0]!))) return undefined
      // The debug pod's sh -c runs in a real shell; its conntrack prints nothing tracked.
      if (call.allowedAs === 'compound') return localShell(call.argv[2]!)
      if (call.argv[0] === 'iptables') return {stdout: 'iptables v1.8.9 (nf_tables)\n'}
      if (call.argv[0] === 'iptables-save') return {stdout: RULES}
      return {stderr: 'Error: No such file or directory\n', exitCode: 1}
    }
  })

  it('no read that needs a debug pod: none is created, and what the image lacks stays unread', async () => {
    const session = await connector({debugPod: 'fallback'}).connect({name: 'node1', address: ''})
    const dp = await readNodeDataplane(session, 'node1', plan(false))
    await session.close()
    expect(captureOf(dp, 'iptables-save')?.text).toBe(RULES)
    expect(server.writes).toEqual([])
    expect(server.execs.filter((e) => e.argv[0] === 'cat').map((e) => e.outcome)).toEqual(['not-found'])
  })

  it('the debug pod cannot be created (RBAC): the rules stand, and conntrack says both what is missing and why no pod read it', async () => {
    server.deny = [{verb: 'create', resource: 'pods', namespace: 'kube-system'}]
    const c = connector({debugPod: 'fallback'})
    const session = await c.connect({name: 'node1', address: ''})
    const dp = await readNodeDataplane(session, 'node1', plan(true))
    await session.close()
    await c.close()
    expect(captureOf(dp, 'iptables-save')?.text).toBe(RULES)
    expect(dp.conntrackError).toMatch(
      /^conntrack is not installed in kube-proxy pod kube-system\/kube-proxy-7xk2p on node1 \(`conntrack -L -d 10.96.0.10` exited with 127: not in the kube-proxy image\); reading it from a debug pod instead failed: RBAC does not allow create pods in namespace kube-system .*; grant it \(check with kubectl auth can-i create pods -n kube-system\) or use --via ssh$/,
    )
    expect(svctracePods()).toEqual([])
  })

  it('a later round asks the debug pod straight away for what the kube-proxy pod was found to lack', async () => {
    const session = await connector({debugPod: 'fallback'}).connect({name: 'node1', address: ''})
    const steps = [{id: 'conntrack:0', cmd: nodeCommands.conntrackList('10.96.0.10')}]
    await session.runBatch!(steps)
    await session.runBatch!(steps)
    await session.close()
    const asked = server.execs.map((e) => [e.pod.replace(/-[0-9a-f]{8}-/, '-RUN-'), e.argv[0], e.outcome])
    // The kube-proxy pod: the shell probe once per connector, conntrack once per node; then the debug pod, as one sh -c each round.
    expect(asked).toEqual([
      ['kube-proxy-7xk2p', 'sh', 'not-found'],
      ['kube-proxy-7xk2p', 'conntrack', 'not-found'],
      ['svctrace-RUN-1', 'sh', 0],
      ['svctrace-RUN-1', 'sh', 0],
    ])
    expect(server.writes.map((w) => w.method)).toEqual(['POST', 'DELETE'])
    expect(svctracePods()).toEqual([])
  })
})

// ---- real commands in a network namespace -----------------------------------------------------------

const env = requireRoot([], 'pod-exec netns')

describe.skipIf(env.skip)("exec runs the real iptables-save of the node's network namespace", () => {
  const netns = `${NS_PREFIX}${process.pid}-podexec-node1`
  const fixtureRules = readFileSync(path.join(FIXTURE, 'nodes/node1/iptables-save.txt'), 'utf8')

  beforeAll(async () => {
    env.assert()
    await run(['ip', 'netns', 'add', netns])
    await run(['ip', 'netns', 'exec', netns, 'iptables-restore'], {input: fixtureRules})
  })
  afterAll(async () => {
    await run(['ip', 'netns', 'del', netns]).catch(() => undefined)
  })
  beforeEach(() => {
    server.exec.netns = {node1: netns}
  })

  async function readViaExec(session: NodeSession): Promise<string> {
    return (await session.run(nodeCommands.iptablesSave())).stdout
  }

  it("the kube-proxy pod's iptables-save is the namespace's own, and traces exactly like the dump it was loaded from", async () => {
    const session = await connector().connect({name: 'node1', address: ''})
    const text = await readViaExec(session)
    const direct = await run(['ip', 'netns', 'exec', netns, 'iptables-save'])
    expect(normalizeIptablesSave(text)).toEqual(normalizeIptablesSave(direct.stdout))
    expect(text).toMatch(/^-A KUBE-SERVICES /m)

    const view = {services: base.services, endpointSlices: base.endpointSlices, endpoints: base.endpoints, pods: base.pods, nodes: base.nodes}
    const trace = (rules: string) =>
      comparableReport(buildReport({kind: 'all'}, view, [dataplane('node1', {'iptables-save': rules}, {'iptables-save': 'node1'})]) as unknown as ReportJson)
    const viaExec = trace(text)
    expect(viaExec).toEqual(trace(fixtureRules))
    expect(JSON.stringify(viaExec)).toMatch(/"verdict":"dnat"/)
  })

  it('a real non-zero exit: iptables -S of a chain that does not exist', async () => {
    const session = await connector().connect({name: 'node1', address: ''})
    const err = await failure(session.run(nodeCommands.iptablesListChain('nat', 'KUBE-SVC-DOESNOTEXIST0000')))
    expect(err.kind).toBe('command')
    expect(err.message).toMatch(
      /^`iptables -w 5 -t nat -S KUBE-SVC-DOESNOTEXIST0000` in kube-proxy pod kube-system\/kube-proxy-7xk2p on node1 exited with 1: .*(No chain|does not exist|incompatible)/,
    )
    expect((await session.run(nodeCommands.iptablesListChain('nat', 'KUBE-SERVICES'))).stdout).toMatch(/^-N KUBE-SERVICES$/m)
  })

  it('the debug pod reads the same rules', async () => {
    const c = connector({debugPod: 'always', podStartTimeoutMs: 10_000})
    const session = await c.connect({name: 'node1', address: ''})
    const text = await readViaExec(session)
    expect(normalizeIptablesSave(text)).toEqual(normalizeIptablesSave((await run(['ip', 'netns', 'exec', netns, 'iptables-save'])).stdout))
    await c.close()
    expect(svctracePods()).toEqual([])
  })
})

describe("the record of every command exec'd", () => {
  it('holds only allow-listed argv arrays', () => {
    expect(allExecs.length).toBeGreaterThan(5)
    for (const call of allExecs) expect({argv: call.argv, allowedAs: call.allowedAs}).toEqual({argv: call.argv, allowedAs: expect.any(String)})
  })
})
