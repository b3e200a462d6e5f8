// What a single-Service trace reads from a node: the first-round chains (entry chains plus the
// KUBE-SVC/SVL/EXT/FW/SEP names kube-proxy gives this Service) and the destinations later rounds follow.
import {describe, expect, it} from 'vitest'
import {MAX_TARGETED_CHAINS, planCollection} from '../../src/core/collection-plan.js'
import {servicePortChainName} from '../../src/core/kube-proxy/chain-names.js'
import type {ClusterView, Query} from '../../src/core/model.js'
import {node, service, slice, view, type EndpointOptions, type ServiceOptions} from '../support/builders.js'
import {first} from '../support/defined.js'
import {indexCluster} from '../../src/core/cluster-index.js'

const web: Query = {kind: 'service', namespace: 'default', service: 'web'}
const chainOf = (prefix: 'SVC' | 'SVL' | 'EXT' | 'FW', spn = 'default/web:http') => servicePortChainName(prefix, spn, 'tcp')

function planFor(svc: ServiceOptions, endpoints: EndpointOptions[] = [{ip: '10.244.0.5', node: 'node-a'}], extra: Partial<ClusterView> = {}) {
  const name = svc.name ?? 'web'
  return planCollection(
    indexCluster(
      view({
        services: [service(svc)],
        endpointSlices: [slice({service: name, namespace: svc.namespace, endpoints, ports: svc.ports?.map((p) => ({name: p.name, port: 8080}))})],
        nodes: [node()],
        ...extra,
      }),
    ),
    {kind: 'service', namespace: svc.namespace ?? 'default', service: name},
  )
}

describe('planCollection: the chains kube-proxy names after the Service (its own hash, as the reference vectors give it)', () => {
  it.each([
    [
      'a named port',
      {name: 'svc1', namespace: 'ns1', ports: [{name: 'p80', port: 80}]},
      '10.180.0.1',
      ['KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SEP-SXIVWICOYRO3J4NJ'],
    ],
    [
      'an unnamed port (no trailing colon)',
      {name: 'svc1', namespace: 'ns1', ports: [{name: '', port: 80}]},
      '10.0.1.5',
      ['KUBE-SVC-AQI2S6QIMU7PVVRP', 'KUBE-SEP-EQCHZ7S2PJ72OHAY'],
    ],
  ])('%s', (_what, svc, ip, want) => {
    const s = service(svc)
    const sl = slice({service: 'svc1', namespace: 'ns1', endpoints: [{ip}], ports: [{name: first(svc.ports).name, port: 80}]})
    const plan = planCollection(indexCluster(view({services: [s], endpointSlices: [sl], nodes: [node()]})), {
      kind: 'service',
      namespace: 'ns1',
      service: 'svc1',
    })
    expect(plan.chains.nat).toEqual(expect.arrayContaining(want))
  })
})

describe('planCollection: per-Service chains by the Service shape', () => {
  const has = (list: string[], chain: string) => list.includes(chain)
  it.each([
    ['ClusterIP', {}, {SVC: true, SVL: false, EXT: false, FW: false, NODEPORTS: false}],
    ['internalTrafficPolicy Local', {spec: {internalTrafficPolicy: 'Local'}}, {SVC: true, SVL: true, EXT: false, FW: false, NODEPORTS: false}],
    ['NodePort', {type: 'NodePort'}, {SVC: true, SVL: false, EXT: true, FW: false, NODEPORTS: true}],
    [
      'NodePort, externalTrafficPolicy Local',
      {type: 'NodePort', spec: {externalTrafficPolicy: 'Local'}},
      {SVC: true, SVL: true, EXT: true, FW: false, NODEPORTS: true},
    ],
    ['externalIPs', {spec: {externalIPs: ['203.0.113.9']}}, {SVC: true, SVL: false, EXT: true, FW: false, NODEPORTS: false}],
    ['LoadBalancer', {type: 'LoadBalancer'}, {SVC: true, SVL: false, EXT: true, FW: false, NODEPORTS: true}],
    [
      'LoadBalancer with source ranges',
      {type: 'LoadBalancer', spec: {loadBalancerSourceRanges: ['203.0.113.0/24']}},
      {SVC: true, SVL: false, EXT: true, FW: true, NODEPORTS: true},
    ],
    [
      'LoadBalancer with source ranges, no ingress IP yet',
      {type: 'LoadBalancer', ingress: [], spec: {loadBalancerSourceRanges: ['203.0.113.0/24']}},
      {SVC: true, SVL: false, EXT: true, FW: false, NODEPORTS: true},
    ],
  ] as Array<[string, ServiceOptions, Record<string, boolean>]>)('%s', (_what, svc, want) => {
    const nat = planFor(svc).chains.nat
    expect({
      SVC: has(nat, chainOf('SVC')),
      SVL: has(nat, chainOf('SVL')),
      EXT: has(nat, chainOf('EXT')),
      FW: has(nat, chainOf('FW')),
      NODEPORTS: has(nat, 'KUBE-NODEPORTS'),
    }).toEqual(want)
  })

  it('always reads the chains the tracer enters first, in both tables', () => {
    const plan = planFor({})
    expect(plan.chains.nat.slice(0, 4)).toEqual(['PREROUTING', 'OUTPUT', 'KUBE-SERVICES', 'KUBE-MARK-MASQ'])
    expect(plan.chains.filter).toEqual([
      'INPUT',
      'FORWARD',
      'OUTPUT',
      'KUBE-SERVICES',
      'KUBE-EXTERNAL-SERVICES',
      'KUBE-NODEPORTS',
      'KUBE-PROXY-FIREWALL',
      'KUBE-FORWARD',
      'KUBE-FIREWALL',
    ])
  })

  it('one KUBE-SVC per port, each with its own endpoints', () => {
    const plan = planFor({
      ports: [
        {name: 'http', port: 80},
        {name: 'metrics', port: 9100},
      ],
    })
    expect(plan.chains.nat).toEqual(expect.arrayContaining([chainOf('SVC'), chainOf('SVC', 'default/web:metrics')]))
    expect(plan.chains.nat.filter((c) => c.startsWith('KUBE-SEP-'))).toHaveLength(2)
  })
})

describe('planCollection: KUBE-SEP chains for the endpoints of the EndpointSlices', () => {
  const seps = (endpoints: EndpointOptions[]) => planFor({}, endpoints).chains.nat.filter((c) => c.startsWith('KUBE-SEP-'))
  it.each([
    [
      'one per endpoint kube-proxy may use: ready, or serving and terminating',
      [{ip: '10.244.0.5'}, {ip: '10.244.0.6', ready: false}, {ip: '10.244.0.7', terminating: true, serving: true}],
      2,
    ],
    ['none for an endpoint neither ready nor serving', [{ip: '10.244.0.5', ready: false, serving: false}], 0],
  ] as Array<[string, EndpointOptions[], number]>)('%s', (_what, endpoints, n) => {
    expect(seps(endpoints)).toHaveLength(n)
  })

  it('each endpoint once, though two slices list it', () => {
    const slices = [slice({name: 'web-1'}), slice({name: 'web-2'})]
    const plan = planCollection(indexCluster(view({services: [service()], endpointSlices: slices, nodes: [node()]})), web)
    expect(plan.chains.nat.filter((c) => c.startsWith('KUBE-SEP-'))).toHaveLength(1)
  })

  it('none for a slice whose port name does not match the service port', () => {
    const plan = planCollection(
      indexCluster(view({services: [service()], endpointSlices: [slice({ports: [{name: 'web', port: 8080}]})], nodes: [node()]})),
      web,
    )
    expect(plan.chains.nat.filter((c) => c.startsWith('KUBE-SEP-'))).toEqual([])
  })

  it('reads whole dumps when the endpoints alone would take more than MAX_TARGETED_CHAINS commands', () => {
    const many = Array.from({length: MAX_TARGETED_CHAINS}, (_, i) => ({ip: `10.244.${i >> 8}.${i & 255}`}))
    expect(planFor({}, many)).toMatchObject({full: true, reason: expect.stringContaining(`more than ${MAX_TARGETED_CHAINS}`)})
  })
})

describe('planCollection: destinations', () => {
  it('every entry point: cluster IP, node ports on each node address and loopback, external and load-balancer IPs', () => {
    const plan = planFor({type: 'LoadBalancer', spec: {externalIPs: ['203.0.113.9']}}, undefined, {nodes: [node(), node({name: 'node-b', ip: '192.168.49.3'})]})
    expect(plan.destinations).toEqual([
      {ip: '10.96.0.10', port: 80, protocol: 'TCP'},
      {ip: '192.168.49.2', port: 30080, protocol: 'TCP'},
      {ip: '127.0.0.1', port: 30080, protocol: 'TCP'},
      {ip: '192.168.49.3', port: 30080, protocol: 'TCP'},
      {ip: '203.0.113.9', port: 80, protocol: 'TCP'},
      {ip: '192.0.2.10', port: 80, protocol: 'TCP'},
    ])
    expect(plan.localAddresses).toEqual(['192.168.49.2', '192.168.49.3'])
  })

  it('no local addresses when a node has none (the tracer cannot rule a local destination out either)', () => {
    const bare = {...node({name: 'node-b'}), status: {}}
    expect(planFor({}, undefined, {nodes: [node(), bare]}).localAddresses).toBeUndefined()
  })
})

describe('planCollection: whole dumps', () => {
  const v = view({services: [service()], endpointSlices: [slice()], nodes: [node()]})
  it.each([
    ['--capture', web, {full: true}],
    ['an address query', {kind: 'ip', ip: '10.96.0.10'} as Query, {}],
    ['check mode', {kind: 'all'} as Query, {}],
    ['a Service the API did not return', {...web, service: 'nope'}, {}],
  ])('%s', (_what, query, opts) => {
    expect(planCollection(indexCluster(v), query, opts)).toMatchObject({full: true, chains: {nat: [], filter: []}, destinations: []})
  })
})

describe('planCollection: dual-stack (kube-proxy writes IPv4 rules with iptables, IPv6 ones with ip6tables)', () => {
  const dual: ServiceOptions = {
    type: 'LoadBalancer',
    ingress: ['192.0.2.10', '2001:db8::10'],
    spec: {
      clusterIPs: ['10.96.0.10', 'fd00:10:96::a'],
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
      loadBalancerSourceRanges: ['2001:db8:1::/48'],
    },
  }
  const v6only: ServiceOptions = {clusterIP: 'fd00:10:96::b', spec: {ipFamilies: ['IPv6']}}
  const slices = [slice(), slice({name: 'web-v6', addressType: 'IPv6', endpoints: [{ip: 'fd00:10:244::5', node: 'node-a'}]})]
  const plan = (svc: ServiceOptions) => planCollection(indexCluster(view({services: [service(svc)], endpointSlices: slices, nodes: [node()]})), web)
  const seps = (list: string[]) => list.filter((c) => c.startsWith('KUBE-SEP-'))

  it('an IPv4 Service: no ip6tables to read', () => {
    expect(plan({})).toMatchObject({ipv6: false, chains6: {nat: [], filter: []}})
  })

  it('a dual-stack Service: each family gets the SEP of its own endpoints ([addr]:port for IPv6)', () => {
    const p = plan(dual)
    expect(p.ipv6).toBe(true)
    expect(seps(p.chains.nat)).toHaveLength(1)
    expect(seps(p.chains6.nat)).toHaveLength(1)
    expect(seps(p.chains6.nat)).not.toEqual(seps(p.chains.nat))
    expect(p.chains6.nat.slice(0, 4)).toEqual(['PREROUTING', 'OUTPUT', 'KUBE-SERVICES', 'KUBE-MARK-MASQ'])
    expect(p.chains6.filter).toEqual(p.chains.filter)
  })

  it("each family's firewall chain only where its load-balancer IP has source ranges of that family", () => {
    const p = plan(dual)
    expect([p.chains.nat.includes(chainOf('FW')), p.chains6.nat.includes(chainOf('FW'))]).toEqual([false, true])
  })

  it('an IPv6-only Service: nothing of its own in the IPv4 list', () => {
    const p = plan(v6only)
    expect(p.ipv6).toBe(true)
    expect(p.chains.nat.filter((c) => /^KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(c))).toEqual([])
    expect(p.chains6.nat).toContain(chainOf('SVC'))
    expect(p.destinations).toEqual([{ip: 'fd00:10:96::b', port: 80, protocol: 'TCP'}])
  })
})
