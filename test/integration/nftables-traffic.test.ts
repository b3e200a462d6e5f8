// svctrace's nftables-mode predictions vs what the kernel does with the same rules.
//
// Builds two nodes, a router and two outside hosts out of network namespaces (test/support/netns.ts),
// pods as namespaces with responders, and loads a kube-proxy-shaped nftables ruleset
// (test/fixtures/samples/nftables/traffic/node1.nft) into node1 with the real nft. The ruleset is read
// back with `nft -j list table ip kube-proxy` (and `nft list …`), traced with buildReport for each entry,
// and every entry is replayed with real TCP connections. For each one:
//   verdict dnat <=> answered, and the pods that answered are exactly the predicted backends
//                    (ClientIP affinity: one pod answered every connection, and it is predicted);
//   verdict reject <=> refused;  drop <=> timed out;
//   masquerade yes/no <=> the pods saw another address / the client's own (pod and outside clients).
//
// The endpoint chains' DNAT rules carry a `counter` here (kube-proxy writes none; an operator may add
// one): a last case reads the counters before and after real connections and checks each backend's
// counted packets are the connections it answered, from the JSON and the text listing alike.
//
// Needs root and nft. Outside CI a missing prerequisite skips with a printed reason; with CI set it fails.
import {noteLines} from '../support/notes.js'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import type {V1EndpointSlice, V1Node, V1Pod, V1Service} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ClusterView, NodeDataplane, TracePath} from '../../src/core/model.js'
import {buildReport} from '../../src/core/report.js'
import {cleanupLeftovers, ownNamespaces, requireRoot, Topology, type ConnectResult, type TopologySpec} from '../support/netns.js'
import {dataplane} from '../support/dataplane.js'
import {defined, first} from '../support/defined.js'

// `… meta l4proto tcp dnat to IP:PORT` → `… meta l4proto tcp counter dnat to IP:PORT` in every endpoint chain.
const RULESET = readFileSync(fileURLToPath(new URL('../fixtures/samples/nftables/traffic/node1.nft', import.meta.url)), 'utf8').replace(
  /^(add rule ip kube-proxy endpoint-\S+ meta l4proto tcp) dnat to /gm,
  '$1 counter dnat to ',
)
const env = requireRoot(['nft'], 'nftables-traffic')

const NODE1 = '192.168.77.11'
const CLIENT_POD = '10.244.1.99'
const ALLOWED = '192.168.77.50'
const BLOCKED = '192.168.77.51'
const LB_IP = '192.168.77.100'

const PODS = [
  {name: 'default/web-a', ip: '10.244.1.10', node: 'node1', app: 'web'},
  {name: 'default/web-b', ip: '10.244.2.10', node: 'node2', app: 'web'},
  {name: 'default/web-c', ip: '10.244.2.11', node: 'node2', app: 'web'},
  {name: 'default/edge-local', ip: '10.244.1.20', node: 'node1', app: 'edge'},
  {name: 'default/edge-remote', ip: '10.244.2.20', node: 'node2', app: 'edge'},
]

const TOPOLOGY: TopologySpec = {
  lanCIDR: '192.168.77.0/24',
  router: {name: 'router', ip: '192.168.77.1'},
  nodes: [
    {name: 'node1', ip: NODE1, podCIDR: '10.244.1.0/24', extraAddresses: [LB_IP]},
    {name: 'node2', ip: '192.168.77.12', podCIDR: '10.244.2.0/24'},
  ],
  pods: [...PODS.map((p) => ({name: p.name, ip: p.ip, node: p.node, ports: [8080]})), {name: 'default/client', ip: CLIENT_POD, node: 'node1', ports: []}],
  hosts: [
    {name: 'ext-allowed', ip: ALLOWED},
    {name: 'ext-blocked', ip: BLOCKED},
  ],
}

/** The API objects behind node1.nft (the Services, their slices, the pods and nodes). */
function clusterView(): ClusterView {
  const svc = (name: string, spec: Record<string, unknown>, status?: Record<string, unknown>): V1Service =>
    ({kind: 'Service', metadata: {namespace: 'default', name}, spec: {selector: {app: name}, ...spec}, ...(status ? {status} : {})}) as V1Service
  const port = (nodePort?: number) => [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, ...(nodePort ? {nodePort} : {})}]
  const services = [
    svc('web', {type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: port(30080)}),
    svc('edge', {type: 'NodePort', clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.11'], ports: port(30081), externalTrafficPolicy: 'Local'}),
    svc('empty', {type: 'ClusterIP', clusterIP: '10.96.0.12', clusterIPs: ['10.96.0.12'], ports: port(), selector: {app: 'nothing'}}),
    svc(
      'guarded',
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.13',
        clusterIPs: ['10.96.0.13'],
        ports: port(30083),
        loadBalancerSourceRanges: [`${ALLOWED}/32`],
        selector: {app: 'web'},
      },
      {loadBalancer: {ingress: [{ip: LB_IP}]}},
    ),
    svc('sticky', {
      type: 'ClusterIP',
      clusterIP: '10.96.0.14',
      clusterIPs: ['10.96.0.14'],
      ports: port(),
      selector: {app: 'web'},
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}},
    }),
  ]
  const slice = (service: string, pods: typeof PODS): V1EndpointSlice => ({
    kind: 'EndpointSlice',
    metadata: {namespace: 'default', name: `${service}-1`, labels: {'kubernetes.io/service-name': service}},
    addressType: 'IPv4',
    ports: [{name: 'http', port: 8080, protocol: 'TCP'}],
    endpoints: pods.map((p) => ({
      addresses: [p.ip],
      conditions: {ready: true},
      nodeName: p.node,
      targetRef: {kind: 'Pod', namespace: 'default', name: defined(p.name.split('/')[1], `the name part of ${p.name}`)},
    })),
  })
  const web = PODS.filter((p) => p.app === 'web')
  const endpointSlices = [
    slice('web', web),
    slice(
      'edge',
      PODS.filter((p) => p.app === 'edge'),
    ),
    slice(
      'guarded',
      web.filter((p) => p.ip === '10.244.2.11'),
    ),
    slice('sticky', web),
  ]
  const pods = PODS.map(
    (p) =>
      ({
        kind: 'Pod',
        metadata: {namespace: 'default', name: p.name.split('/')[1], labels: {app: p.app}},
        spec: {nodeName: p.node, containers: [{name: 'c', ports: [{containerPort: 8080}]}]},
        status: {phase: 'Running', podIP: p.ip},
      }) as V1Pod,
  )
  const nodes = TOPOLOGY.nodes.map(
    (n) => ({kind: 'Node', metadata: {name: n.name}, spec: {podCIDR: n.podCIDR}, status: {addresses: [{type: 'InternalIP', address: n.ip}]}}) as V1Node,
  )
  return {services, endpointSlices, endpoints: [], pods, nodes}
}

interface Case {
  id: string
  service: string
  from: string
  kind: 'node' | 'pod' | 'external'
  source?: string
  dst: string
  port: number
  /** What the reference (section 3) says should happen; the trace must agree, and then the kernel. */
  verdict: 'dnat' | 'reject' | 'drop'
}

const CASES: Case[] = [
  {id: 'web clusterIP from node1', service: 'web', from: 'node1', kind: 'node', dst: '10.96.0.10', port: 80, verdict: 'dnat'},
  {id: 'web clusterIP from a pod', service: 'web', from: 'default/client', kind: 'pod', source: CLIENT_POD, dst: '10.96.0.10', port: 80, verdict: 'dnat'},
  {id: 'web NodePort from outside', service: 'web', from: 'ext-allowed', kind: 'external', source: ALLOWED, dst: NODE1, port: 30080, verdict: 'dnat'},
  {
    id: 'edge (Local) NodePort from outside: the local pod only, client address kept',
    service: 'edge',
    from: 'ext-allowed',
    kind: 'external',
    source: ALLOWED,
    dst: NODE1,
    port: 30081,
    verdict: 'dnat',
  },
  {
    id: 'edge clusterIP from a pod: both pods',
    service: 'edge',
    from: 'default/client',
    kind: 'pod',
    source: CLIENT_POD,
    dst: '10.96.0.11',
    port: 80,
    verdict: 'dnat',
  },
  {id: 'edge NodePort from node1 itself: short-circuited to both pods', service: 'edge', from: 'node1', kind: 'node', dst: NODE1, port: 30081, verdict: 'dnat'},
  {id: 'empty clusterIP: rejected', service: 'empty', from: 'default/client', kind: 'pod', source: CLIENT_POD, dst: '10.96.0.12', port: 80, verdict: 'reject'},
  {
    id: 'web clusterIP on a port it does not have: rejected',
    service: 'web',
    from: 'default/client',
    kind: 'pod',
    source: CLIENT_POD,
    dst: '10.96.0.10',
    port: 81,
    verdict: 'reject',
  },
  {
    id: 'guarded LB IP from an allowed client',
    service: 'guarded',
    from: 'ext-allowed',
    kind: 'external',
    source: ALLOWED,
    dst: LB_IP,
    port: 80,
    verdict: 'dnat',
  },
  {
    id: 'guarded LB IP from a blocked client: dropped',
    service: 'guarded',
    from: 'ext-blocked',
    kind: 'external',
    source: BLOCKED,
    dst: LB_IP,
    port: 80,
    verdict: 'drop',
  },
  {
    id: 'guarded NodePort from a blocked client: not guarded',
    service: 'guarded',
    from: 'ext-blocked',
    kind: 'external',
    source: BLOCKED,
    dst: NODE1,
    port: 30083,
    verdict: 'dnat',
  },
  {
    id: 'sticky clusterIP from a pod: one pod takes every connection',
    service: 'sticky',
    from: 'default/client',
    kind: 'pod',
    source: CLIENT_POD,
    dst: '10.96.0.14',
    port: 80,
    verdict: 'dnat',
  },
]

/** The path buildReport gives for a case, from a node data plane read back from the kernel. */
function predict(dp: NodeDataplane, c: Case): TracePath {
  const report = buildReport({kind: 'service', namespace: 'default', service: c.service, ...(c.source ? {source: c.source} : {})}, clusterView(), [dp])
  const node = report.nodes.find((n) => n.name === 'node1')!
  const paths = node.paths.filter((p) => p.entry.address === `${c.dst}:${c.port}/TCP` && p.from === c.kind)
  if (paths.length === 1) return first(paths)
  // A port the Service does not have is no entry of the Service: trace it by address instead.
  const byIp = buildReport({kind: 'ip', ip: c.dst, port: c.port, protocol: 'TCP', ...(c.source ? {source: c.source} : {})}, clusterView(), [dp])
  const found = byIp.nodes.find((n) => n.name === 'node1')!.paths.filter((p) => p.from === c.kind)
  expect(found, `${c.id}: no single path (have ${node.paths.map((p) => `${p.entry.address} ${p.from}`).join(', ')})`).toHaveLength(1)
  return first(found)
}

/** What the connections do for each verdict every case predicts. */
const TRAFFIC_OF: Record<Case['verdict'], ConnectResult['outcome']> = {dnat: 'answered', reject: 'refused', drop: 'timeout'}

const pods = (p: TracePath) => [...new Set(p.backends.map((b) => b.pod ?? `?${b.ip}`))].sort()

function describeTraffic(r: ConnectResult): string {
  return `${Object.entries(r.counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')}; answered by [${r.answeredBy.join(', ')}]; peers ${JSON.stringify(r.peerIPs)}`
}

describe.skipIf(env.skip)('nftables mode: svctrace predictions match real traffic', () => {
  let topo: Topology | undefined
  let fromJson: NodeDataplane
  let fromText: NodeDataplane

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    topo = await Topology.create(TOPOLOGY, {label: 'nft'})
    await topo.loadNftRules('node1', RULESET)
    fromJson = dataplane('node1', {nft: await topo.listNftTable('node1', {json: true})}, {nft: 'node1: nft -j list table ip kube-proxy'})
    fromText = dataplane('node1', {nft: await topo.listNftTable('node1')}, {nft: 'node1: nft list table ip kube-proxy'})
  })

  afterAll(async () => {
    const prefix = topo?.prefix
    await topo?.destroy()
    if (prefix) expect((await ownNamespaces()).filter((n) => n.startsWith(prefix))).toEqual([])
  })

  it("the kernel's JSON and text listings give the same predictions, in nftables mode", () => {
    for (const c of CASES) {
      const a = predict(fromJson, c)
      const b = predict(fromText, c)
      expect([a.verdict, a.backends, a.masquerade], c.id).toEqual([b.verdict, b.backends, b.masquerade])
    }
    expect(buildReport({kind: 'service', namespace: 'default', service: 'web'}, clusterView(), [fromJson]).nodes[0]?.mode).toBe('nftables')
  })

  it.each(CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const path = predict(fromJson, c)
    expect(path.verdict, `${c.id}: the trace (notes: ${noteLines(path.notes)})`).toBe(c.verdict)
    const affinity = path.affinity !== undefined
    const attempts = c.verdict === 'dnat' ? (affinity ? 12 : 30) : 4
    const traffic = await topo!.connect({
      from: c.from,
      dst: c.dst,
      port: c.port,
      attempts,
      timeoutMs: 400,
      silentMs: 400,
      concurrency: affinity ? 1 : c.verdict === 'dnat' ? 6 : attempts,
    })
    const msg = `${c.id}\n  traffic: ${describeTraffic(traffic)}\n  svctrace: ${path.verdict} -> [${pods(path).join(', ')}], masquerade ${path.masquerade}`
    expect(traffic.outcome, msg).toBe(TRAFFIC_OF[c.verdict])
    if (path.verdict !== 'dnat') return
    if (affinity) {
      expect(traffic.answeredBy, msg).toHaveLength(1)
      expect(pods(path), msg).toContain(traffic.answeredBy[0])
    } else {
      expect(traffic.answeredBy, msg).toEqual(pods(path))
    }
    if (c.kind !== 'node') {
      if (path.masquerade === 'yes') expect(traffic.peerIPs, msg).not.toContain(c.source)
      else if (path.masquerade === 'no') expect(traffic.peerIPs, msg).toEqual([c.source])
      else throw new Error(`${msg}\n  masquerade should be decided for a named client`)
    }
  })

  it('counters on the endpoint DNAT rules count each connection per backend (JSON and text listings)', async () => {
    expect(RULESET.match(/ counter dnat to /g)?.length).toBeGreaterThanOrEqual(3)
    const web: Case = {
      id: 'web counters',
      service: 'web',
      from: 'default/client',
      kind: 'pod',
      source: CLIENT_POD,
      dst: '10.96.0.10',
      port: 80,
      verdict: 'dnat',
    }
    const read = async () => ({
      json: dataplane('node1', {nft: await topo!.listNftTable('node1', {json: true})}),
      text: dataplane('node1', {nft: await topo!.listNftTable('node1')}),
    })
    const counted = (dp: NodeDataplane) => new Map(predict(dp, web).backends.map((b) => [`${b.ip}:${b.port}`, b.counters?.packets ?? -1]))
    const before = await read()
    const traffic = await topo!.connect({from: web.from, dst: web.dst, port: web.port, attempts: 45, timeoutMs: 400, silentMs: 400, concurrency: 6})
    expect(traffic.counts.answered).toBe(45)
    const answered = new Map<string, number>()
    for (const a of traffic.attempts) if (a.local) answered.set(a.local, (answered.get(a.local) ?? 0) + 1)
    const after = await read()
    for (const form of ['json', 'text'] as const) {
      const was = counted(before[form])
      const now = counted(after[form])
      expect([...now.keys()].sort(), form).toEqual(['10.244.1.10:8080', '10.244.2.10:8080', '10.244.2.11:8080'])
      for (const [backend, n] of now) expect(n - (was.get(backend) ?? 0), `${form} ${backend}`).toBe(answered.get(backend) ?? 0)
    }
  })
})
