// The checks that depend on where endpoints run and who the client is: traffic policies and
// load-balancer source ranges.
import {describe, expect, it} from 'vitest'
import {catalog} from '../../../src/core/checks/catalog.js'
import {externalTrafficLocalNodeWithoutEndpoint} from '../../../src/core/checks/external-traffic-local-node-without-endpoint.js'
import {internalTrafficLocalNodeWithoutEndpoint} from '../../../src/core/checks/internal-traffic-local-node-without-endpoint.js'
import {loadBalancerAdmission, sourceOutsideLoadBalancerRanges} from '../../../src/core/checks/source-outside-load-balancer-ranges.js'
import {service, slice} from '../../support/builders.js'
import {nodes} from './healthy.js'
import {first} from '../../support/defined.js'

// Both endpoints on node-b.
const onNodeB = [
  slice({
    endpoints: [
      {ip: '10.244.1.7', node: 'node-b', pod: 'web-1'},
      {ip: '10.244.1.8', node: 'node-b', pod: 'web-2'},
    ],
  }),
]

describe('external-traffic-local-node-without-endpoint', () => {
  it('names the nodes without a local endpoint and the node ports they drop', () => {
    const svc = service({type: 'NodePort', ports: [{name: 'http', port: 80, targetPort: 8080, nodePort: 31500}], spec: {externalTrafficPolicy: 'Local'}})
    expect(externalTrafficLocalNodeWithoutEndpoint(svc, {slices: onNodeB, pods: [], nodes})).toEqual([
      {
        id: 'external-traffic-local-node-without-endpoint',
        fix: {text: catalog['external-traffic-local-node-without-endpoint'].fix},
        severity: 'warning',
        message:
          'externalTrafficPolicy Local on Service default/web: node node-a has no local endpoint, so external traffic reaching it (node port 31500) is dropped',
        service: 'default/web',
        evidence: ['node-a (192.168.49.2): no local endpoint', 'node-b: 2 local endpoints: web-1 (10.244.1.7), web-2 (10.244.1.8)'],
      },
    ])
  })

  it('is info for a LoadBalancer, whose health check avoids those nodes', () => {
    const svc = service({type: 'LoadBalancer', spec: {externalTrafficPolicy: 'Local', healthCheckNodePort: 32001}})
    const f = first(externalTrafficLocalNodeWithoutEndpoint(svc, {slices: onNodeB, pods: [], nodes}), 'finding')
    expect(f.severity).toBe('info')
    expect(f.evidence).toContain(
      "the load balancer's health check (node port 32001) keeps its traffic off these nodes; clients that reach their node ports directly are dropped",
    )
  })

  it('counts a serving terminating endpoint as local (kube-proxy falls back to it)', () => {
    const svc = service({type: 'NodePort', spec: {externalTrafficPolicy: 'Local'}})
    const slices = [
      slice({
        endpoints: [
          {ip: '10.244.0.5', node: 'node-a', terminating: true, serving: true},
          {ip: '10.244.1.7', node: 'node-b'},
        ],
      }),
    ]
    expect(externalTrafficLocalNodeWithoutEndpoint(svc, {slices, pods: [], nodes})).toEqual([])
  })

  it.each([
    ['policy Cluster', service({type: 'NodePort'}), onNodeB],
    ['a ClusterIP Service', service({spec: {externalTrafficPolicy: 'Local'}}), onNodeB],
    ['no endpoint anywhere', service({type: 'NodePort', spec: {externalTrafficPolicy: 'Local'}}), []],
  ])('is quiet with %s', (_name, svc, slices) => {
    expect(externalTrafficLocalNodeWithoutEndpoint(svc, {slices, pods: [], nodes})).toEqual([])
  })
})

describe('internal-traffic-local-node-without-endpoint', () => {
  const local = service({spec: {internalTrafficPolicy: 'Local'}})

  it("reports the client's node when it has no endpoint", () => {
    expect(internalTrafficLocalNodeWithoutEndpoint(local, {slices: onNodeB, pods: [], nodes, clientNode: 'node-a'})).toMatchObject([
      {
        id: 'internal-traffic-local-node-without-endpoint',
        severity: 'warning',
        message:
          "internalTrafficPolicy Local on Service default/web: the client's node node-a has no endpoint, so its connections to the cluster IP are dropped",
        evidence: ['node-a: no local endpoint', 'node-b: 2 local endpoints: web-1 (10.244.1.7), web-2 (10.244.1.8)'],
      },
    ])
  })

  it("is quiet when the client's node has one", () => {
    expect(internalTrafficLocalNodeWithoutEndpoint(local, {slices: onNodeB, pods: [], nodes, clientNode: 'node-b'})).toEqual([])
  })

  it('without a client, names every node whose pods would be dropped', () => {
    expect(internalTrafficLocalNodeWithoutEndpoint(local, {slices: onNodeB, pods: [], nodes})[0]?.message).toBe(
      'internalTrafficPolicy Local on Service default/web: node node-a has no endpoint, so pods and processes there cannot reach the cluster IP',
    )
  })
})

describe('source-outside-load-balancer-ranges', () => {
  const gateway = service({
    name: 'gateway',
    type: 'LoadBalancer',
    ingress: ['172.30.0.201'],
    ports: [{name: 'http', port: 8080, targetPort: 8080, nodePort: 32080}],
    spec: {loadBalancerSourceRanges: ['172.30.0.100/32']},
  })

  it('reports a --source outside the ranges, and what the ranges do not guard', () => {
    expect(sourceOutsideLoadBalancerRanges(gateway, {source: '172.30.0.11'})).toEqual([
      {
        id: 'source-outside-load-balancer-ranges',
        fix: {text: catalog['source-outside-load-balancer-ranges'].fix},
        severity: 'warning',
        message: 'client 172.30.0.11 is outside loadBalancerSourceRanges of Service default/gateway: its connections to the load-balancer address are dropped',
        service: 'default/gateway',
        evidence: [
          'loadBalancerSourceRanges: 172.30.0.100/32',
          'guarded: the load-balancer address 172.30.0.201',
          'not guarded: the cluster IP and node port 32080',
        ],
      },
    ])
  })

  it.each([
    ['a source inside the ranges', '172.30.0.100'],
    ['a range inside the ranges', '172.30.0.100/32'],
    ['no --source', undefined],
  ])('is quiet with %s', (_name, source) => {
    expect(sourceOutsideLoadBalancerRanges(gateway, source ? {source} : {})).toEqual([])
  })

  // A --source range: decided for the whole of it, or split into what the ranges let in and the rest.
  const twoRanges = service({
    name: 'edge',
    type: 'LoadBalancer',
    ingress: ['192.0.2.50'],
    ports: [{name: 'http', port: 80, targetPort: 8080, nodePort: 30443}],
    spec: {loadBalancerSourceRanges: ['10.0.1.0/24', '10.0.3.0/24', '2001:db8:1::/48']},
  })
  it.each([
    ['a range wholly inside one', '10.0.1.0/25', {allowed: 'all'}, undefined],
    ['a range covered by two', '10.0.2.0/23', {allowed: 'part', parts: ['10.0.3.0/24']}, '10.0.2.0/23: 10.0.3.0/24 allowed, the rest rejected'],
    [
      'a range holding both',
      '10.0.0.0/16',
      {allowed: 'part', parts: ['10.0.1.0/24', '10.0.3.0/24']},
      '10.0.0.0/16: 10.0.1.0/24, 10.0.3.0/24 allowed, the rest rejected',
    ],
    ['a range outside them', '192.168.0.0/16', {allowed: 'none'}, 'every client in 192.168.0.0/16 is outside loadBalancerSourceRanges of Service default/edge'],
    ['an IPv6 range holding one', '2001:db8::/32', {allowed: 'part', parts: ['2001:db8:1::/48']}, '2001:db8::/32: 2001:db8:1::/48 allowed, the rest rejected'],
    ['an IPv6 range inside one', '2001:db8:1:2::/64', {allowed: 'all'}, undefined],
  ])('%s (%s)', (_name, source, admission, message) => {
    expect(loadBalancerAdmission(twoRanges, source)).toEqual(admission)
    const found = sourceOutsideLoadBalancerRanges(twoRanges, {source})
    expect(found.map((f) => f.message.slice(0, message?.length))).toEqual(message ? [message] : [])
  })
})
