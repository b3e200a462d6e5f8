// The false positives the healthy fixtures (test/fixtures/healthy) found, each pinned on the real
// kube-proxy sample it came from, next to the unhealthy twin that must still be flagged.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {dropCause, dropSeverity} from '../../../src/core/checks/dropped-paths.js'
import {parseRuleLine} from '../../../src/core/iptables/rule.js'
import {usesLocalEndpoints} from '../../../src/core/kube-proxy/traffic-policy.js'
import type {V1Service} from '@kubernetes/client-node'
import {buildReport} from '../../../src/core/report.js'
import type {ClusterView, NodeDataplane, Report, TracePath} from '../../../src/core/model.js'
import {node, service, slice, view, type EndpointOptions} from '../../support/builders.js'
import {root} from '../../support/cli.js'
import {dataplane} from '../../support/dataplane.js'
import {defined} from '../../support/defined.js'

const samples = path.join(root, 'test/fixtures/samples')
const sample = (file: string) => readFileSync(path.join(samples, file), 'utf8')

/** IPVS sample SCENARIO (k126-ipvs-gen) as node test-hostname's captures. */
const ipvsNode = (scenario: string): NodeDataplane =>
  dataplane('test-hostname', {
    ipvsadm: sample(`ipvs/${scenario}.ipvsadm-save.txt`),
    ipset: sample(`ipvs/${scenario}.ipset-save.txt`),
    'iptables-save': sample(`ipvs/${scenario}.iptables-restore.txt`),
  })

/** The Service as the sample's test built it: its ports have no nodePort (the builder allocates one). */
function withoutNodePorts(svc: V1Service): V1Service {
  for (const p of svc.spec?.ports ?? []) delete p.nodePort
  return svc
}

const findings = (r: Report, severities = ['warning', 'error']) => r.findings.filter((f) => severities.includes(f.severity)).map((f) => `${f.id}: ${f.message}`)
const report = (cluster: ClusterView, planes: NodeDataplane[], name: string) =>
  buildReport({kind: 'service', namespace: 'ns1', service: name}, cluster, planes, [])

describe('IPVS, externalTrafficPolicy Local: the node-port virtual server holds only local real servers, for every client', () => {
  // ipvs-1.26-nodeport-local: ns1/svc1 NodePort ETP Local, 10.180.0.1 on test-hostname, 10.180.1.1 on other-hostname.
  const cluster = (local: string, remote: string) => {
    const endpoints: EndpointOptions[] = [
      {ip: local, node: 'test-hostname', pod: null},
      {ip: remote, node: 'other-hostname', pod: null},
    ]
    return view({
      services: [
        service({
          name: 'svc1',
          namespace: 'ns1',
          type: 'NodePort',
          selector: null,
          clusterIP: '10.20.30.41',
          ports: [{name: 'p80', port: 80, targetPort: 80, nodePort: 3001}],
          spec: {externalTrafficPolicy: 'Local'},
        }),
      ],
      endpointSlices: [slice({service: 'svc1', namespace: 'ns1', endpoints, ports: [{name: 'p80', port: 80}]})],
      pods: [],
      nodes: [node({name: 'test-hostname', ip: '100.101.102.103'})],
    })
  }

  it('is not a missing endpoint rule when the node itself connects to its node port', () => {
    expect(findings(report(cluster('10.180.0.1', '10.180.1.1'), [ipvsNode('ipvs-1.26-nodeport-local')], 'svc1'))).toEqual([])
  })

  it('still flags a node-port virtual server that lacks the local endpoint', () => {
    // The API says the local endpoint is 10.180.1.1: the node forwards only to 10.180.0.1.
    const flagged = findings(report(cluster('10.180.1.1', '10.180.0.1'), [ipvsNode('ipvs-1.26-nodeport-local')], 'svc1'))
    expect(
      flagged.some((f) => f.startsWith('missing-endpoint-rule: test-hostname does not forward 100.101.102.103:3001/TCP to ready endpoint 10.180.1.1:80')),
    ).toBe(true)
  })

  it('usesLocalEndpoints: IPVS has no short-circuit for the node and pods; iptables and nftables do', () => {
    const svc = service({type: 'NodePort', spec: {externalTrafficPolicy: 'Local'}})
    expect(usesLocalEndpoints(svc, 'node-port', 'node', 'ipvs')).toBe(true)
    expect(usesLocalEndpoints(svc, 'load-balancer', 'pod', 'ipvs')).toBe(true)
    expect(usesLocalEndpoints(svc, 'node-port', 'node', 'iptables')).toBe(false)
    expect(usesLocalEndpoints(svc, 'node-port', 'pod', 'nftables')).toBe(false)
    expect(usesLocalEndpoints(service({type: 'NodePort'}), 'node-port', 'node', 'ipvs')).toBe(false)
  })
})

describe('IPVS loadBalancerSourceRanges: KUBE-SOURCE-RANGES-FIREWALL drops are source-range drops', () => {
  // ipvs-1.26-loadbalancer-source-ranges: LB 1.2.3.4, sourceRanges 10.0.0.0/8, one endpoint.
  const cluster = view({
    services: [
      withoutNodePorts(
        service({
          name: 'svc1',
          namespace: 'ns1',
          type: 'LoadBalancer',
          selector: null,
          clusterIP: '10.20.30.41',
          ports: [{name: 'p80', port: 80, targetPort: 80}],
          spec: {loadBalancerSourceRanges: ['10.0.0.0/8']},
          ingress: ['1.2.3.4'],
        }),
      ),
    ],
    endpointSlices: [slice({service: 'svc1', namespace: 'ns1', endpoints: [{ip: '10.180.0.1', pod: null}], ports: [{name: 'p80', port: 80}]})],
    pods: [],
    nodes: [node({name: 'test-hostname', ip: '100.101.102.103'})],
  })

  it('reports the drop of an assumed outside client as info, naming loadBalancerSourceRanges', () => {
    const r = report(cluster, [ipvsNode('ipvs-1.26-loadbalancer-source-ranges')], 'svc1')
    expect(findings(r)).toEqual([])
    const dropped = r.findings.filter((f) => f.id === 'traffic-dropped')
    expect(dropped.map((f) => [f.severity, f.message])).toEqual([
      ['info', 'test-hostname drops 1.2.3.4:80/TCP (load-balancer) from an outside client or the node itself: the client is not in loadBalancerSourceRanges'],
    ])
  })

  it('dropCause reads the IPVS chain as a source range; a drop elsewhere stays a warning', () => {
    const ending = (chain: string) =>
      ({entry: {kind: 'load-balancer'}, hops: [{table: 'filter', chain, rule: `-A ${chain} -j DROP`, line: 1, target: {kind: 'drop'}}]}) as unknown as TracePath
    expect(dropCause(ending('KUBE-SOURCE-RANGES-FIREWALL'))).toBe('source-range')
    expect(dropSeverity(dropCause(ending('KUBE-SOURCE-RANGES-FIREWALL')), {explicitSource: false})).toBe('info')
    expect(dropSeverity(dropCause(ending('KUBE-FORWARD')), {explicitSource: false})).toBe('warning')
  })
})

describe('nftables: a numgen map over endpoint chains that each match "ip saddr <endpoint>"', () => {
  // nftables-overall-mixed (up-nft): ns4/svc4, externalIPs 192.168.99.33, endpoints 10.180.0.4 and 10.180.0.5 (test-node).
  const cluster = view({
    services: [
      withoutNodePorts(
        service({
          name: 'svc4',
          namespace: 'ns4',
          type: 'NodePort',
          selector: null,
          clusterIP: '172.30.0.44',
          ports: [{name: 'p80', port: 80, targetPort: 80}],
          spec: {externalIPs: ['192.168.99.33']},
        }),
      ),
    ],
    endpointSlices: [
      slice({
        service: 'svc4',
        namespace: 'ns4',
        endpoints: [
          {ip: '10.180.0.4', pod: null},
          {ip: '10.180.0.5', node: 'test-node', pod: null},
        ],
        ports: [{name: 'p80', port: 80}],
      }),
    ],
    pods: [],
    nodes: [node({name: 'test-node', ip: '192.168.0.2'})],
  })
  const planes = [dataplane('test-node', {nft: sample('nftables/rendered/nftables-overall-mixed.nft.json')})]
  const r = buildReport({kind: 'service', namespace: 'ns4', service: 'svc4'}, cluster, planes, [])
  const outside = defined(
    r.nodes[0]?.paths.find((p) => p.entry.kind === 'external-ip' && p.from === 'external'),
    'the external IP path of an outside client',
  )

  it('sends an outside client (address unknown, not an endpoint) to both endpoints, half each', () => {
    expect(outside.verdict).toBe('dnat')
    expect(outside.backends.map((b) => [b.ip, b.probability])).toEqual([
      ['10.180.0.4', 0.5],
      ['10.180.0.5', 0.5],
    ])
    expect(outside.notes.filter((n) => n.kind === 'fall-through')).toEqual([])
    expect(outside.notes.filter((n) => n.kind === 'assumed')).toEqual([
      {kind: 'assumed', conditions: ['source not in 10.180.0.4', 'source not in 10.180.0.5'], sourceGiven: false},
    ])
  })

  it('so no endpoint rule is missing', () => {
    expect(findings(r)).toEqual([])
  })
})

describe('IPVS externalIPs: "-m physdev ! --physdev-is-in" is an arrival-interface test, not a rule svctrace cannot read', () => {
  // ipvs-1.26-session-affinity-no-endpoints (TestSessionAffinity): NodePort, externalIPs 50.60.70.81, ClientIP;
  // with the endpoint 10.180.0.1 the healthy fixture ipvs-nodeport-cluster-affinity-externalips adds.
  const healthy = path.join(root, 'test/fixtures/healthy/ipvs-nodeport-cluster-affinity-externalips/nodes/test-hostname/ipvsadm.txt')
  const cluster = view({
    services: [
      service({
        name: 'svc1',
        namespace: 'ns1',
        type: 'NodePort',
        selector: null,
        clusterIP: '10.20.30.41',
        ports: [{name: 'p80', port: 80, targetPort: 80, nodePort: 3001}],
        spec: {externalIPs: ['50.60.70.81'], sessionAffinity: 'ClientIP', sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}},
      }),
    ],
    endpointSlices: [slice({service: 'svc1', namespace: 'ns1', endpoints: [{ip: '10.180.0.1', pod: null}], ports: [{name: 'p80', port: 80}]})],
    pods: [],
    nodes: [node({name: 'test-hostname', ip: '100.101.102.103'})],
  })
  const scenario = 'ipvs-1.26-session-affinity-no-endpoints'
  const plane = dataplane('test-hostname', {
    ipvsadm: readFileSync(healthy, 'utf8'),
    ipset: sample(`ipvs/${scenario}.ipset-save.txt`),
    'iptables-save': sample(`ipvs/${scenario}.iptables-restore.txt`),
  })
  const r = report(cluster, [plane], 'svc1')

  it('traces the external IP for an outside client to the real server, certain, naming the bridge-port condition', () => {
    expect(r.findings.filter((f) => f.id === 'trace-uncertain')).toEqual([])
    expect(findings(r)).toEqual([])
    const outside = defined(
      r.nodes[0]?.paths.find((p) => p.entry.kind === 'external-ip' && p.from === 'external'),
      'the external IP path of an outside client',
    )
    expect(outside.uncertain).toBe(false)
    expect(outside.backends.map((b) => `${b.ip}:${b.port}`)).toEqual(['10.180.0.1:80'])
    expect(outside.notes).toContainEqual({kind: 'interface-untraced', line: 11, name: 'bridge port (-m physdev)'})
  })

  it('reads only the bare --physdev-is-in; other physdev options stay not understood', () => {
    const typed = (line: string) => {
      const rule = parseRuleLine(line, 'nat', 1)
      return 'error' in rule ? rule.error : rule.matches.map((m) => m.kind)
    }
    expect(typed('-A KUBE-SERVICES -m physdev ! --physdev-is-in -j ACCEPT')).toEqual(['bridge-port-in'])
    expect(typed('-A KUBE-SERVICES -m physdev --physdev-in br0 -j ACCEPT')).toEqual(['unknown'])
    expect(typed('-A KUBE-SERVICES -m physdev --physdev-is-in --physdev-is-bridged -j ACCEPT')).toEqual(['unknown'])
  })
})
