// svctrace's IPv6 predictions in iptables mode vs what the kernel does with the same rules.
//
// The dual-stack fixture's node-a (test/fixtures/dual-stack-iptables-v1.26): the rules kube-proxy v1.26
// writes for it are rendered for both families (test/support/kube-proxy-rules.ts) and loaded into node-a's
// namespace with the real iptables-restore and ip6tables-restore; node-b, the pods and two outside hosts
// are namespaces on an IPv6 LAN (test/support/netns6.ts). The rules are read back with the real
// iptables-save and ip6tables-save, traced with buildReport, and every entry is replayed with real IPv6
// TCP connections:
//   verdict dnat   <=> answered, and the pods (and [addr]:port) that answered are exactly the predicted backends;
//   verdict reject <=> refused;  drop <=> timed out;
//   masquerade yes/no <=> the pods saw another address / the client's own (pod and outside clients).
// A one-Service read of node-a's namespace (ip6tables listed chain by chain, as over SSH: one compound
// command per round) traces every Service as those whole dumps do, from fewer bytes.
//
// Needs root and ip6tables. Outside CI a missing prerequisite skips with a printed reason; with CI set it fails.
import {fileURLToPath} from 'node:url'
import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {readNodeDataplane} from '../../src/adapters/node/dataplane-reader.js'
import {captureOf, captureText} from '../../src/core/captures.js'
import {indexCluster} from '../../src/core/cluster-index.js'
import {planCollection} from '../../src/core/collection-plan.js'
import {familyOf} from '../../src/core/address.js'
import type {ClusterView, NodeDataplane, Query, Report, TracePath} from '../../src/core/model.js'
import {buildReport} from '../../src/core/report.js'
import {defined} from '../support/defined.js'
import {renderKubeProxyRestore} from '../support/kube-proxy-rules.js'
import {cleanupLeftovers, normalizeIptablesSave, requireRoot, type ConnectResult} from '../support/netns.js'
import {Topology6, type Topology6Spec} from '../support/netns6.js'
import {NetnsSession} from '../support/netns-session.js'

const DIR = fileURLToPath(new URL('../fixtures/dual-stack-iptables-v1.26', import.meta.url))
const env = requireRoot(['ip6tables-restore', 'ip6tables-save'], 'dual-stack-traffic')

const NODE_A = 'fd00:192:168:49::2'
const NODE_B = 'fd00:192:168:49::3'
const EXT_ALLOWED = {lan: 'fd00:192:168:49::100', own: '2001:db8:1::9'}
const EXT_BLOCKED = {lan: 'fd00:192:168:49::101', own: '2001:db8:2::9'}
const LB_IP = '2001:db8::50'
const CLIENT_POD = 'fd00:10:244::99'

/** The pods of the fixture with their IPv6 address and the ports their containers declare. */
function podsOf(view: ClusterView): Topology6Spec['pods'] {
  return view.pods.map((p) => ({
    name: `${p.metadata?.namespace}/${p.metadata?.name}`,
    ip: defined(
      p.status?.podIPs?.map((x) => x.ip).find((ip) => familyOf(ip) === 6),
      `IPv6 of ${p.metadata?.name}`,
    ),
    node: defined(p.spec?.nodeName),
    ports: (p.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((x) => x.containerPort)),
  }))
}

function topology(view: ClusterView): Topology6Spec {
  return {
    lanPrefix: 64,
    nodes: [
      {
        name: 'node-a',
        ip: NODE_A,
        routes: [
          {to: 'fd00:10:244:1::/64', via: NODE_B},
          {to: `${EXT_ALLOWED.own}/128`, via: EXT_ALLOWED.lan},
          {to: `${EXT_BLOCKED.own}/128`, via: EXT_BLOCKED.lan},
          // Where a packet kube-proxy does not DNAT goes (an outside router in a real network).
          {to: 'default', via: EXT_ALLOWED.lan},
        ],
      },
      {
        name: 'node-b',
        ip: NODE_B,
        routes: [
          {to: 'fd00:10:244::/64', via: NODE_A},
          {to: 'default', via: NODE_A},
        ],
      },
    ],
    // The load balancer sends its IP to node-a.
    hosts: [
      {name: 'ext-allowed', ip: EXT_ALLOWED.lan, extra: [EXT_ALLOWED.own], routes: [{to: `${LB_IP}/128`, via: NODE_A}]},
      {name: 'ext-blocked', ip: EXT_BLOCKED.lan, extra: [EXT_BLOCKED.own], routes: [{to: `${LB_IP}/128`, via: NODE_A}]},
    ],
    pods: podsOf(view),
  }
}

interface Case {
  id: string
  service: string
  /** The member the connections start from, and the client address the trace is given (--source). */
  from: string
  source: string
  kind: TracePath['from']
  dst: string
  port: number
}

const CASES: Case[] = [
  {id: 'web cluster IP from a pod', service: 'web', from: 'default/client', source: CLIENT_POD, kind: 'pod', dst: 'fd00:10:96::a', port: 80},
  {id: 'web cluster IP from node-a itself', service: 'web', from: 'node-a', source: NODE_A, kind: 'node', dst: 'fd00:10:96::a', port: 80},
  {id: 'web node port from outside', service: 'web', from: 'ext-allowed', source: EXT_ALLOWED.lan, kind: 'external', dst: NODE_A, port: 30080},
  {id: 'api6 (IPv6 only) from a pod', service: 'api6', from: 'default/client', source: CLIENT_POD, kind: 'pod', dst: 'fd00:10:96::b6', port: 443},
  {id: 'empty6 (no endpoints) from a pod', service: 'empty6', from: 'default/client', source: CLIENT_POD, kind: 'pod', dst: 'fd00:10:96::e', port: 80},
  {id: 'edge load balancer from a source range', service: 'edge', from: 'ext-allowed', source: EXT_ALLOWED.own, kind: 'external', dst: LB_IP, port: 80},
  {id: 'edge load balancer from outside the ranges', service: 'edge', from: 'ext-blocked', source: EXT_BLOCKED.own, kind: 'external', dst: LB_IP, port: 80},
]

/** What the kernel did must be what the trace predicted. */
function expectMatches(c: Case, path: TracePath, traffic: ConnectResult): void {
  const seen = `${c.id}: predicted ${path.verdict} ${path.backends.map((b) => b.pod).join(', ')}; traffic ${JSON.stringify(traffic.counts)} from ${traffic.answeredBy.join(', ')}`
  if (path.verdict === 'dnat') {
    expect(traffic.outcome, seen).toBe('answered')
    expect(traffic.answeredBy, seen).toEqual(path.backends.map((b) => b.pod).sort())
    expect(traffic.backends, seen).toEqual(path.backends.map((b) => `${b.ip}:${b.port}`).sort())
    if (c.kind !== 'node' && path.masquerade !== 'maybe') {
      if (path.masquerade === 'yes') expect(traffic.peerIPs, seen).not.toContain(c.source)
      else expect(traffic.peerIPs, seen).toEqual([c.source])
    }
  } else {
    expect(traffic.outcome, seen).toBe({reject: 'refused', drop: 'timeout'}[path.verdict as 'reject' | 'drop'])
  }
}

describe.skipIf(env.skip)('IPv6 traffic through kube-proxy ip6tables rules matches the trace (dual-stack-iptables-v1.26, node-a)', () => {
  let topo: Topology6 | undefined
  let view: ClusterView
  let node: NodeDataplane
  const saved: Record<'iptables-save' | 'ip6tables-save', string> = {'iptables-save': '', 'ip6tables-save': ''}

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    view = (await new BundleDir(DIR).load()).view
    topo = await Topology6.create(topology(view))
    const nodeA = defined(view.nodes.find((n) => n.metadata?.name === 'node-a'))
    const ips = (nodeA.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address)
    for (const [family, tool, cidr] of [
      [4, 'iptables', '10.244.0.0/16'],
      [6, 'ip6tables', 'fd00:10:244::/56'],
    ] as const) {
      const rules = renderKubeProxyRestore(view, 'node-a', {clusterCIDR: cidr, nodeIPs: ips.filter((ip) => familyOf(ip) === family), family})
      await topo.exec('node-a', [`${tool}-restore`], rules)
      saved[`${tool}-save`] = (await topo.exec('node-a', [`${tool}-save`])).stdout
    }
    node = {
      name: 'node-a',
      captures: [
        {kind: 'iptables-save', text: saved['iptables-save'], source: 'node-a: iptables-save'},
        {kind: 'ip6tables-save', text: saved['ip6tables-save'], source: 'node-a: ip6tables-save'},
      ],
    }
  })

  afterAll(async () => {
    await topo?.destroy()
  })

  it("the kernel holds the fixture's rules: what ip6tables-save and iptables-save print is the fixture's dumps", () => {
    for (const [kind, file] of [
      ['ip6tables-save', 'ip6tables-save.txt'],
      ['iptables-save', 'iptables-save.txt'],
    ] as const) {
      expect(normalizeIptablesSave(saved[kind])).toEqual(normalizeIptablesSave(readFileSync(`${DIR}/nodes/node-a/${file}`, 'utf8')))
    }
  })

  it.each(['web', 'api6', 'edge', 'empty6'])(
    '%s: a targeted read (ip6tables chain by chain) traces as the whole dumps do, from fewer bytes, in at most two compound commands',
    async (service) => {
      const query: Query = {kind: 'service', namespace: 'default', service}
      const plan = planCollection(indexCluster(view), query)
      expect([plan.full, plan.ipv6]).toEqual([false, true])
      /** The report with hop line numbers zeroed (a listing's lines are not the dump's). */
      const comparable = (r: Report): unknown => JSON.parse(JSON.stringify(r, (k, v) => (k === 'line' ? 0 : v)))
      const whole = comparable(buildReport(query, view, [node]))
      // 0: chain by chain whatever KUBE-SERVICES' size; the default reads this small one's tables whole.
      for (const smallBytes of [0, undefined]) {
        const session = new NetnsSession(defined(topo).netns('node-a'))
        const notes: string[] = []
        const read = await readNodeDataplane(session, 'node-a', plan, (n) => notes.push(n), smallBytes)
        const v6 = defined(captureOf(read, 'ip6tables-save'), 'an ip6tables-save capture')
        expect(comparable(buildReport(query, view, [read])), `${service} ${smallBytes}`).toEqual(whole)
        expect(session.batches).toBeLessThanOrEqual(2)
        expect(notes.some((n) => n.startsWith('targeted IPv6 read (nft backend): '))).toBe(true)
        if (smallBytes === 0) {
          expect(v6.source).toMatch(/^node-a: ip6tables -S \(targeted: \d+ chains in [12] rounds?(; .*)?\)$/)
          expect(Buffer.byteLength(captureText(v6))).toBeLessThan(Buffer.byteLength(saved['ip6tables-save']))
          // ip6tables is asked for its version and single chains only, each once.
          const ran = session.ran.filter((l) => l.startsWith('ip6tables'))
          expect(ran.filter((l) => !/^ip6tables -w 5 -t (nat|filter) -S [A-Z0-9-]+$/.test(l))).toEqual(['ip6tables -V'])
          expect(new Set(ran).size).toBe(ran.length)
        } else {
          expect(v6.source).toMatch(/^node-a: ip6tables -S \(targeted: nat, filter whole in 1 round; KUBE-SERVICES is small/)
        }
      }
    },
  )

  it('covers each verdict', () => {
    const verdicts = CASES.map((c) => pathFor(c).verdict)
    expect(new Set(verdicts)).toEqual(new Set(['dnat', 'reject', 'drop']))
  })

  function pathFor(c: Case): TracePath {
    const report = buildReport({kind: 'service', namespace: 'default', service: c.service, source: c.source}, view, [node])
    const paths = report.nodes.flatMap((n) => n.paths)
    return defined(
      paths.find((p) => p.entry.destination.ip === c.dst && p.entry.destination.port === c.port && p.from === c.kind),
      `${c.id}: a traced path (have ${paths.map((p) => `${p.entry.address} from ${p.from}`).join('; ')})`,
    )
  }

  it.each(CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const path = pathFor(c)
    expect(path.uncertain, `${c.id}: ${JSON.stringify(path.notes)}`).toBe(false)
    // A DNAT answers at once: many short tries see every backend. REJECT and DROP need the SYN retransmission (netns6.ts connect).
    const traffic = await defined(topo).connect(
      c.from,
      c.dst,
      c.port,
      path.verdict === 'dnat' ? {attempts: 30, timeoutMs: 700} : {attempts: 2, timeoutMs: 2_500},
    )
    expectMatches(c, path, traffic)
  })
})
