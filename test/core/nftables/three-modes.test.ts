// The same six Services (the "overall" scenario of kube-proxy's own tests, samples/INDEX.md) on one node
// in each of the three modes, traced through buildReport like a bundle would be:
//   iptables  test/fixtures/samples/iptables-overall-mixed.txt          (kube-proxy's test output)
//   nftables  test/fixtures/samples/nftables/nftables-overall-mixed.txt (kube-proxy's test output)
//   IPVS      test/fixtures/samples/ipvs/overall-mixed/*                 (written for this test, in v1.26 form)
// Every entry point must give the same verdict and the same backends (with their pods), except where
// the modes really differ, and that difference is asserted too.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import type {V1EndpointSlice, V1Node, V1Pod, V1Service} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import type {ClusterView, NodeDataplane, Report} from '../../../src/core/model.js'
import {buildReport} from '../../../src/core/report.js'
import {noteLines} from '../../support/notes.js'
import {dataplane} from '../../support/dataplane.js'
import {at, first} from '../../support/defined.js'

const fixtures = fileURLToPath(new URL('../../fixtures/samples/', import.meta.url))
const read = (f: string) => readFileSync(fixtures + f, 'utf8')

interface SvcSpec {
  ns: string
  name: string
  type: string
  ip: string
  nodePort?: number
  externalIPs?: string[]
  lb?: string
  local?: boolean
  ranges?: string[]
  affinity?: boolean
  endpoints: Array<{ip: string; node?: string}>
}

// samples/INDEX.md, "Current upstream" table.
const SERVICES: SvcSpec[] = [
  {ns: 'ns1', name: 'svc1', type: 'ClusterIP', ip: '172.30.0.41', endpoints: [{ip: '10.180.0.1'}]},
  {
    ns: 'ns2',
    name: 'svc2',
    type: 'LoadBalancer',
    ip: '172.30.0.42',
    nodePort: 3001,
    externalIPs: ['192.168.99.22'],
    lb: '1.2.3.4',
    local: true,
    endpoints: [{ip: '10.180.0.2'}],
  },
  {ns: 'ns3', name: 'svc3', type: 'NodePort', ip: '172.30.0.43', nodePort: 3003, endpoints: [{ip: '10.180.0.3'}]},
  {
    ns: 'ns4',
    name: 'svc4',
    type: 'NodePort',
    ip: '172.30.0.44',
    externalIPs: ['192.168.99.33'],
    endpoints: [{ip: '10.180.0.4'}, {ip: '10.180.0.5', node: 'test-node'}],
  },
  {
    ns: 'ns5',
    name: 'svc5',
    type: 'LoadBalancer',
    ip: '172.30.0.45',
    nodePort: 3002,
    lb: '5.6.7.8',
    ranges: ['203.0.113.0/25'],
    affinity: true,
    endpoints: [{ip: '10.180.0.3'}],
  },
  {ns: 'ns6', name: 'svc6', type: 'ClusterIP', ip: '172.30.0.46', endpoints: []},
]

function clusterView(): ClusterView {
  const services: V1Service[] = SERVICES.map(
    (s) =>
      ({
        kind: 'Service',
        metadata: {namespace: s.ns, name: s.name},
        spec: {
          type: s.type,
          clusterIP: s.ip,
          clusterIPs: [s.ip],
          selector: {app: s.name},
          ports: [{name: 'p80', port: 80, protocol: 'TCP', targetPort: 80, ...(s.nodePort ? {nodePort: s.nodePort} : {})}],
          ...(s.externalIPs ? {externalIPs: s.externalIPs} : {}),
          ...(s.local ? {externalTrafficPolicy: 'Local'} : {}),
          ...(s.ranges ? {loadBalancerSourceRanges: s.ranges} : {}),
          ...(s.affinity ? {sessionAffinity: 'ClientIP', sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}} : {}),
        },
        ...(s.lb ? {status: {loadBalancer: {ingress: [{ip: s.lb}]}}} : {}),
      }) as V1Service,
  )
  const endpointSlices: V1EndpointSlice[] = SERVICES.filter((s) => s.endpoints.length > 0).map((s) => ({
    kind: 'EndpointSlice',
    metadata: {namespace: s.ns, name: `${s.name}-1`, labels: {'kubernetes.io/service-name': s.name}},
    addressType: 'IPv4',
    ports: [{name: 'p80', port: 80, protocol: 'TCP'}],
    endpoints: s.endpoints.map((e, i) => ({
      addresses: [e.ip],
      conditions: {ready: true},
      ...(e.node ? {nodeName: e.node} : {}),
      targetRef: {kind: 'Pod', namespace: s.ns, name: `${s.name}-${i}`},
    })),
  }))
  const pods: V1Pod[] = SERVICES.flatMap((s) =>
    s.endpoints.map(
      (e, i) =>
        ({
          kind: 'Pod',
          metadata: {namespace: s.ns, name: `${s.name}-${i}`, labels: {app: s.name}},
          spec: {containers: [], nodeName: e.node ?? 'other-node'},
          status: {phase: 'Running', podIP: e.ip},
        }) as V1Pod,
    ),
  )
  const nodes: V1Node[] = [
    {kind: 'Node', metadata: {name: 'test-node'}, spec: {podCIDR: '10.0.0.0/8'}, status: {addresses: [{type: 'InternalIP', address: '192.168.0.2'}]}},
  ]
  return {services, endpointSlices, endpoints: [], pods, nodes}
}

const MODES: Record<'iptables' | 'nftables' | 'ipvs', NodeDataplane> = {
  iptables: dataplane('test-node', {'iptables-save': read('iptables-overall-mixed.txt')}, {'iptables-save': 'iptables-overall-mixed.txt'}),
  nftables: dataplane('test-node', {nft: read('nftables/nftables-overall-mixed.txt')}, {nft: 'nftables-overall-mixed.txt'}),
  ipvs: dataplane('test-node', {
    ipvsadm: read('ipvs/overall-mixed/ipvsadm-save.txt'),
    ipset: read('ipvs/overall-mixed/ipset-save.txt'),
    'iptables-save': read('ipvs/overall-mixed/iptables-save.txt'),
  }),
}

/**
 * Where the modes really differ (reference sections 3.2, 4.1, 4.5), asserted rather than skipped:
 * `$POD` stands for the Service's one endpoint.
 */
const DIFFERENCES: Array<{modes: Array<'nftables' | 'ipvs'>; service?: string; entry: RegExp; iptables: string; other: string; why: string}> = [
  {
    modes: ['nftables', 'ipvs'],
    entry: /^127\.0\.0\.1:\d+\/TCP \(node-port\) from node$/,
    iptables: 'dnat [$POD]',
    other: 'no-match []',
    why: 'localhost NodePorts exist only in iptables mode: nftables matches @nodeport-ips, IPVS binds no virtual server to loopback',
  },
  {
    modes: ['ipvs'],
    service: 'svc2',
    entry: /from external$/,
    iptables: 'drop []',
    other: 'dnat [$POD]',
    why: 'externalTrafficPolicy Local without a local endpoint: iptables/nftables drop outside clients, IPVS lists every endpoint instead (kube-proxy PR #97081)',
  },
]

/** Per entry point and source: the verdict and the backends with their pods. */
function outcomes(report: Report): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of first(report.nodes).paths) {
    out[`${p.entry.address} (${p.entry.kind}) from ${p.from}`] =
      `${p.verdict} [${p.backends.map((b) => `${b.pod}@${b.ip}:${b.port} ${Math.round(b.probability * 100)}%`).join(', ')}]`
  }
  return out
}

const view = clusterView()
const reports = Object.fromEntries(
  Object.entries(MODES).map(([mode, dp]) => [mode, SERVICES.map((s) => buildReport({kind: 'service', namespace: s.ns, service: s.name}, view, [dp]))]),
) as Record<keyof typeof MODES, Report[]>
/** The path of the report's one node that enters at the cluster IP from a pod. */
const podToClusterIP = (r: Report) => first(r.nodes).paths.find((p) => p.entry.kind === 'cluster-ip' && p.from === 'pod')!

describe('the same Services in iptables, nftables and IPVS mode', () => {
  it('each node is recognised in its mode, with no mode-mixing finding', () => {
    for (const [mode, rs] of Object.entries(reports)) {
      expect(first(rs).nodes[0]?.mode).toBe(mode)
      expect(rs.flatMap((r) => r.findings.map((f) => f.id))).not.toContain('proxy-modes-mixed')
    }
  })

  it.each(SERVICES.map((s, i) => [`${s.ns}/${s.name}`, i] as const))(
    '%s: every entry point gives the same verdict and backends in all three modes',
    (_name, i) => {
      const svc = at(SERVICES, i)
      const ipt = outcomes(at(reports.iptables, i))
      expect(Object.keys(ipt).length).toBeGreaterThan(1)
      for (const mode of ['nftables', 'ipvs'] as const) {
        const got = outcomes(at(reports[mode], i))
        const differs = Object.keys(ipt).filter((k) =>
          DIFFERENCES.some((d) => d.modes.includes(mode) && d.entry.test(k) && (!d.service || d.service === svc.name)),
        )
        for (const k of differs) {
          const d = DIFFERENCES.find((x) => x.modes.includes(mode) && x.entry.test(k))!
          expect([k, ipt[k]]).toEqual([k, d.iptables.replace('$POD', `${svc.ns}/${svc.name}-0@${svc.endpoints[0]?.ip}:80 100%`)])
          expect([k, got[k]]).toEqual([k, d.other.replace('$POD', `${svc.ns}/${svc.name}-0@${svc.endpoints[0]?.ip}:80 100%`)])
        }
        const rest = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).filter(([k]) => !differs.includes(k)))
        expect(rest(got)).toEqual(rest(ipt))
      }
    },
  )

  it('IPVS backends carry their pod, their virtual server and the scheduler', () => {
    const svc4 = podToClusterIP(at(reports.ipvs, 3))
    expect(svc4.backends.map((b) => [b.pod, b.node, b.chain, b.probability])).toEqual([
      ['ns4/svc4-0', 'other-node', 'ipvs 172.30.0.44:80/TCP', 0.5],
      ['ns4/svc4-1', 'test-node', 'ipvs 172.30.0.44:80/TCP', 0.5],
    ])
    expect(noteLines(svc4.notes)).toContain('ipvs 172.30.0.44:80/TCP: scheduler rr')
    // The scheduler and the weights are fields of the report, not only words in a note.
    expect(svc4.scheduler).toBe('rr')
    expect(svc4.backends.map((b) => b.weight)).toEqual([1, 1])
    // Two real servers: the path's hops are what both share, up to the virtual server.
    expect(svc4.hops.at(-1)?.target).toEqual({kind: 'ipvs-virtual-server'})
    // iptables and nftables paths have neither.
    const ipt4 = podToClusterIP(at(reports.iptables, 3))
    expect(ipt4.scheduler).toBeUndefined()
    expect(ipt4.backends.every((b) => b.weight === undefined)).toBe(true)
    const svc5 = podToClusterIP(at(reports.ipvs, 4))
    expect(svc5.affinity).toEqual({timeoutSeconds: 10800})
  })

  it('only iptables paths count rules passed: nftables looks the Service up in a map, IPVS in a hash', () => {
    const lookups = Object.fromEntries(
      Object.entries(reports).map(([mode, rs]) => {
        const paths = rs.flatMap((r) => first(r.nodes).paths)
        return [mode, {lookup: [...new Set(paths.map((p) => p.lookup))], counted: paths.some((p) => p.rulesPassed !== undefined)}]
      }),
    )
    expect(lookups).toEqual({
      iptables: {lookup: ['rules'], counted: true},
      nftables: {lookup: ['map'], counted: false},
      ipvs: {lookup: ['hash'], counted: false},
    })
  })
})
