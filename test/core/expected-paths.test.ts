// The paths kube-proxy should program, from the API objects alone (what an API-only run shows):
// one table row per Service shape, each path written as `KIND FROM[@NODES] → VERDICT RULE BACKENDS`.
import type {V1EndpointSlice, V1Service} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {indexCluster} from '../../src/core/cluster-index.js'
import {serviceEntries} from '../../src/core/entries.js'
import {expectedPaths, type ExpectedOutcome, type ExpectedPath} from '../../src/core/expected-paths.js'
import {node, service, slice, view, type EndpointOptions} from '../support/builders.js'

const nodes = [node({name: 'node-a', ip: '192.168.49.2'}), node({name: 'node-b', ip: '192.168.49.3', podCIDR: '10.244.1.0/24'})]
const onA = (ip: string, more: Partial<EndpointOptions> = {}): EndpointOptions => ({ip, node: 'node-a', pod: `web-${ip.split('.').at(-1)}`, ...more})

function outcome(o: ExpectedOutcome): string {
  const backends = o.backends.map((b) => `${b.ip}:${b.port}@${Math.round(b.probability * 100)}%`).join(' ')
  return `${o.verdict} ${o.rule}${backends ? ` ${backends}` : ''}`
}

function row(p: ExpectedPath): string {
  const where = p.nodes ? `@${p.nodes.join(',')}` : ''
  const alts = p.alternatives.map((a) => ` | if ${a.when.join(' and ')}: ${outcome(a)}`).join('')
  return `${p.entry.kind} ${p.entry.destination.ip} ${p.from}${where} → ${outcome(p)}${alts}`
}

function expectedFor(svc: V1Service, slices: V1EndpointSlice[], source?: string): string[] {
  const idx = indexCluster(view({services: [svc], endpointSlices: slices, nodes}))
  return expectedPaths(idx, serviceEntries(svc, nodes), source).map(row)
}

const twoReady = [slice({endpoints: [onA('10.244.0.5'), {ip: '10.244.1.7', node: 'node-b', pod: 'web-7'}]})]

describe('expectedPaths', () => {
  it.each([
    [
      'ClusterIP, two ready endpoints: an even split from pods and from the node',
      service(),
      twoReady,
      undefined,
      [
        'cluster-ip 10.96.0.10 pod → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
        'cluster-ip 10.96.0.10 node → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
      ],
    ],
    [
      'no endpoints: REJECT',
      service(),
      [slice({endpoints: []})],
      undefined,
      ['cluster-ip 10.96.0.10 pod → reject no-endpoints', 'cluster-ip 10.96.0.10 node → reject no-endpoints'],
    ],
    [
      'only terminating endpoints: the serving ones are used, the others never',
      service(),
      [slice({endpoints: [onA('10.244.0.5', {terminating: true, serving: true}), onA('10.244.0.6', {terminating: true, serving: false})]})],
      undefined,
      ['cluster-ip 10.96.0.10 pod → dnat cluster-endpoints 10.244.0.5:8080@100%', 'cluster-ip 10.96.0.10 node → dnat cluster-endpoints 10.244.0.5:8080@100%'],
    ],
    [
      'a ready endpoint wins over a serving terminating one',
      service(),
      [slice({endpoints: [onA('10.244.0.5', {terminating: true, serving: true}), onA('10.244.0.6')]})],
      undefined,
      ['cluster-ip 10.96.0.10 pod → dnat cluster-endpoints 10.244.0.6:8080@100%', 'cluster-ip 10.96.0.10 node → dnat cluster-endpoints 10.244.0.6:8080@100%'],
    ],
    [
      'terminating and no longer serving only: REJECT',
      service(),
      [slice({endpoints: [onA('10.244.0.5', {terminating: true, serving: false})]})],
      undefined,
      ['cluster-ip 10.96.0.10 pod → reject no-endpoints', 'cluster-ip 10.96.0.10 node → reject no-endpoints'],
    ],
    [
      'externalTrafficPolicy Local: outside clients reach local endpoints only, and are dropped on a node without one; pods and nodes use every endpoint',
      service({type: 'NodePort', spec: {externalTrafficPolicy: 'Local'}}),
      [slice({endpoints: [onA('10.244.0.5')]})],
      undefined,
      [
        'cluster-ip 10.96.0.10 pod → dnat cluster-endpoints 10.244.0.5:8080@100%',
        'cluster-ip 10.96.0.10 node → dnat cluster-endpoints 10.244.0.5:8080@100%',
        'node-port 192.168.49.2 external@node-a → dnat local-endpoints 10.244.0.5:8080@100%',
        'node-port 192.168.49.2 node → dnat cluster-endpoints 10.244.0.5:8080@100%',
        'node-port 192.168.49.3 external@node-b → drop no-local-endpoints',
        'node-port 192.168.49.3 node → dnat cluster-endpoints 10.244.0.5:8080@100%',
      ],
    ],
    [
      'externalTrafficPolicy Local without any endpoint: REJECT, not DROP',
      service({type: 'NodePort', spec: {externalTrafficPolicy: 'Local'}}),
      [slice({endpoints: []})],
      undefined,
      [
        'cluster-ip 10.96.0.10 pod → reject no-endpoints',
        'cluster-ip 10.96.0.10 node → reject no-endpoints',
        'node-port 192.168.49.2 external@node-a → reject no-endpoints',
        'node-port 192.168.49.2 node → reject no-endpoints',
        'node-port 192.168.49.3 external@node-b → reject no-endpoints',
        'node-port 192.168.49.3 node → reject no-endpoints',
      ],
    ],
    [
      'a load balancer with externalTrafficPolicy Local: one path per group of nodes that agree',
      service({type: 'LoadBalancer', spec: {externalTrafficPolicy: 'Local'}, ports: [{name: 'http', port: 80, nodePort: 0}]}),
      [slice({endpoints: [onA('10.244.0.5'), onA('10.244.0.6')]})],
      undefined,
      [
        'cluster-ip 10.96.0.10 pod → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.0.6:8080@50%',
        'cluster-ip 10.96.0.10 node → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.0.6:8080@50%',
        'load-balancer 192.0.2.10 external@node-a → dnat local-endpoints 10.244.0.5:8080@50% 10.244.0.6:8080@50%',
        'load-balancer 192.0.2.10 external@node-b → drop no-local-endpoints',
        'load-balancer 192.0.2.10 pod → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.0.6:8080@50%',
        'load-balancer 192.0.2.10 node → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.0.6:8080@50%',
      ],
    ],
    [
      'internalTrafficPolicy Local: cluster IP traffic stays on the node, dropped where no endpoint runs',
      service({spec: {internalTrafficPolicy: 'Local'}}),
      twoReady.map((s) => ({...s, endpoints: (s.endpoints ?? []).slice(0, 1)})),
      undefined,
      [
        'cluster-ip 10.96.0.10 pod@node-a → dnat local-endpoints 10.244.0.5:8080@100%',
        'cluster-ip 10.96.0.10 pod@node-b → drop no-local-endpoints',
        'cluster-ip 10.96.0.10 node@node-a → dnat local-endpoints 10.244.0.5:8080@100%',
        'cluster-ip 10.96.0.10 node@node-b → drop no-local-endpoints',
      ],
    ],
    [
      'internalTrafficPolicy Local for a client on node-b (--source): only node-b is asked',
      service({spec: {internalTrafficPolicy: 'Local'}}),
      twoReady,
      '192.168.49.3',
      ['cluster-ip 10.96.0.10 node@node-b → dnat local-endpoints 10.244.1.7:8080@100%'],
    ],
    [
      'loadBalancerSourceRanges, no client named: DROP, and DNAT for a client in the ranges',
      service({type: 'LoadBalancer', spec: {loadBalancerSourceRanges: ['203.0.113.0/24']}, ports: [{name: 'http', port: 80, nodePort: 0}]}),
      twoReady,
      undefined,
      [
        'cluster-ip 10.96.0.10 pod → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
        'cluster-ip 10.96.0.10 node → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
        ...['external', 'pod', 'node'].map(
          (from) =>
            `load-balancer 192.0.2.10 ${from} → drop source-not-allowed | if source in 203.0.113.0/24: dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%`,
        ),
      ],
    ],
    [
      'loadBalancerSourceRanges, a client inside',
      service({type: 'LoadBalancer', spec: {loadBalancerSourceRanges: ['203.0.113.0/24']}, ports: [{name: 'http', port: 80, nodePort: 0}]}),
      twoReady,
      '203.0.113.9',
      [
        'cluster-ip 10.96.0.10 external → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
        'load-balancer 192.0.2.10 external → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
      ],
    ],
    [
      'loadBalancerSourceRanges, a client outside; node ports are not filtered by them',
      service({type: 'LoadBalancer', spec: {loadBalancerSourceRanges: ['203.0.113.0/24']}, ports: [{name: 'http', port: 80, nodePort: 30080}]}),
      [slice({endpoints: [onA('10.244.0.5')]})],
      '198.51.100.20',
      [
        'cluster-ip 10.96.0.10 external → dnat cluster-endpoints 10.244.0.5:8080@100%',
        'node-port 192.168.49.2 external → dnat cluster-endpoints 10.244.0.5:8080@100%',
        'node-port 192.168.49.3 external → dnat cluster-endpoints 10.244.0.5:8080@100%',
        'load-balancer 192.0.2.10 external → drop source-not-allowed',
      ],
    ],
    [
      'loadBalancerSourceRanges, a client range split by them: DROP for the rest, DNAT for the part inside',
      service({type: 'LoadBalancer', spec: {loadBalancerSourceRanges: ['203.0.113.0/24']}, ports: [{name: 'http', port: 80, nodePort: 0}]}),
      twoReady,
      '203.0.112.0/23',
      [
        'cluster-ip 10.96.0.10 external → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
        'load-balancer 192.0.2.10 external → drop source-not-allowed | if source in 203.0.113.0/24: dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
      ],
    ],
    [
      'loadBalancerSourceRanges, a client range inside them',
      service({type: 'LoadBalancer', spec: {loadBalancerSourceRanges: ['203.0.113.0/24']}, ports: [{name: 'http', port: 80, nodePort: 0}]}),
      twoReady,
      '203.0.113.128/25',
      [
        'cluster-ip 10.96.0.10 external → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
        'load-balancer 192.0.2.10 external → dnat cluster-endpoints 10.244.0.5:8080@50% 10.244.1.7:8080@50%',
      ],
    ],
  ] as Array<[string, V1Service, V1EndpointSlice[], string | undefined, string[]]>)('%s', (_what, svc, slices, source, want) => {
    expect(expectedFor(svc, slices, source)).toEqual(want)
  })

  it('names the pod and node of each backend, and leaves node ports on 127.0.0.1 out (only iptables mode answers them)', () => {
    const svc = service({type: 'NodePort'})
    const idx = indexCluster(view({services: [svc], endpointSlices: [slice()], nodes}))
    const paths = expectedPaths(idx, serviceEntries(svc, nodes), undefined)
    expect(paths.map((p) => p.entry.destination.ip)).not.toContain('127.0.0.1')
    expect(paths[0]?.backends).toEqual([{ip: '10.244.0.5', port: 8080, probability: 1, pod: 'default/web-6d4cf56db6-7xkqz', node: 'node-a'}])
  })

  it('says when zone hints may narrow the set per node', () => {
    const hinted = slice()
    const [ep] = hinted.endpoints ?? []
    if (ep) ep.hints = {forZones: [{name: 'zone-a'}]}
    const idx = indexCluster(view({services: [service()], endpointSlices: [hinted], nodes}))
    expect(expectedPaths(idx, serviceEntries(service(), nodes), undefined).map((p) => p.topologyHints)).toEqual([true, true])
  })
})
