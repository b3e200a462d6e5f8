// Drift between the API and the nodes: each node's rules are rendered the way kube-proxy writes them,
// but from what the node last saw (an older or newer EndpointSlice), and the report is built from
// what the API says now.
import {describe, expect, it} from 'vitest'
import type {V1EndpointSlice, V1Service} from '@kubernetes/client-node'
import {buildReport} from '../../../src/core/report.js'
import type {ClusterView, Finding, NodeDataplane, Report} from '../../../src/core/model.js'
import {node, pod, service, slice, view, type EndpointOptions} from '../../support/builders.js'
import {renderKubeProxyRestore} from '../../support/kube-proxy-rules.js'
import {captureText, dataplane} from '../../support/dataplane.js'
import {first} from '../../support/defined.js'

const NODES = [node({name: 'node-a', ip: '192.168.49.2', podCIDR: '10.244.0.0/24'}), node({name: 'node-b', ip: '192.168.49.3', podCIDR: '10.244.1.0/24'})]
const A = {ip: '10.244.0.5', node: 'node-a', pod: 'web-a'}
const B = {ip: '10.244.1.6', node: 'node-b', pod: 'web-b'}
const GONE = {ip: '10.244.1.9', node: 'node-b', pod: 'web-deleted'}

function clusterWith(endpoints: EndpointOptions[], svc: V1Service = service()): ClusterView {
  const pods = endpoints.filter((e) => e.pod).map((e) => pod({name: e.pod!, ip: e.ip, node: e.node, ready: e.ready ?? true}))
  return view({services: [svc], endpointSlices: [slice({endpoints})], pods, nodes: NODES})
}

/** The rules kube-proxy on `name` writes when it has seen `seen`. */
function rulesOf(name: string, seen: {services: V1Service[]; endpointSlices: V1EndpointSlice[]}): NodeDataplane {
  const ip = name === 'node-a' ? '192.168.49.2' : '192.168.49.3'
  return dataplane(
    name,
    {'iptables-save': renderKubeProxyRestore(seen, name, {clusterCIDR: '10.244.0.0/16', nodeIPs: [ip]})},
    {'iptables-save': `${name}/iptables-save.txt`},
  )
}

function report(now: ClusterView, planes: NodeDataplane[]): Report {
  return buildReport({kind: 'service', namespace: 'default', service: 'web'}, now, planes, [])
}

const ids = (r: Report, prefix = '') =>
  r.findings.filter((f) => ['stale-endpoint-rule', 'missing-endpoint-rule', 'probability-mismatch', 'nodes-disagree'].includes(f.id) && f.id.startsWith(prefix))
const only = (r: Report, id: string): Finding[] => r.findings.filter((f) => f.id === id)

describe('drift between the API and the nodes', () => {
  it('reports nothing when every node saw what the API holds', () => {
    const now = clusterWith([A, B])
    expect(ids(report(now, [rulesOf('node-a', now), rulesOf('node-b', now)]))).toEqual([])
  })

  it('flags a node that still forwards to a deleted pod, naming the KUBE-SEP chain', () => {
    const now = clusterWith([A, B])
    const before = clusterWith([A, B, GONE])
    const r = report(now, [rulesOf('node-a', before), rulesOf('node-b', now)])
    const stale = only(r, 'stale-endpoint-rule')
    expect(stale.length).toBeGreaterThan(0)
    expect(stale.every((f) => f.node === 'node-a' && f.severity === 'error')).toBe(true)
    expect(first(stale).message).toContain('10.244.1.9:8080')
    expect(first(stale).evidence?.[0]).toMatch(/^KUBE-SEP-[A-Z0-9]{16} → 10\.244\.1\.9:8080/)
    // The other node agrees with the API: no finding about it.
    expect(r.findings.filter((f) => f.node === 'node-b' && f.id.endsWith('endpoint-rule'))).toEqual([])
  })

  it('flags a ready endpoint a node does not forward to', () => {
    const now = clusterWith([A, B])
    const before = clusterWith([A])
    const r = report(now, [rulesOf('node-a', now), rulesOf('node-b', before)])
    const missing = only(r, 'missing-endpoint-rule')
    expect(missing.map((f) => f.node)).toContain('node-b')
    expect(first(missing).message).toContain('10.244.1.6:8080')
    expect(first(missing).evidence).toEqual(['rules forward to: 10.244.0.5:8080', 'EndpointSlices say: 10.244.0.5:8080, 10.244.1.6:8080'])
  })

  it('says the nodes disagree when they forward the same ClusterIP to different pods', () => {
    const now = clusterWith([A, B])
    const r = report(now, [rulesOf('node-a', clusterWith([A, B, GONE])), rulesOf('node-b', now)])
    const f = first(only(r, 'nodes-disagree'), 'finding')
    expect(f.message).toBe('nodes send 10.96.0.10:80/TCP to different backends although default/web uses Cluster policy')
    expect(f.evidence).toEqual(['node-a: 10.244.0.5:8080, 10.244.1.6:8080, 10.244.1.9:8080', 'node-b: 10.244.0.5:8080, 10.244.1.6:8080'])
  })

  it('does not call internalTrafficPolicy Local a disagreement or a missing rule', () => {
    const svc = service({spec: {internalTrafficPolicy: 'Local'}})
    const now = clusterWith([A, B], svc)
    const r = report(now, [rulesOf('node-a', now), rulesOf('node-b', now)])
    expect(ids(r)).toEqual([])
  })

  it('flags a stale endpoint in the node-local set of externalTrafficPolicy Local', () => {
    const svc = service({type: 'NodePort', spec: {externalTrafficPolicy: 'Local'}})
    const now = clusterWith([A, B], svc)
    // A deleted local pod, 10.244.0.9, is still in node-a's local set.
    const before = clusterWith([A, B, {ip: '10.244.0.9', node: 'node-a', pod: 'web-old'}], svc)
    const r = report(now, [rulesOf('node-a', before), rulesOf('node-b', now)])
    const stale = only(r, 'stale-endpoint-rule').filter((f) => f.message.includes('a local endpoint'))
    expect(stale.length).toBeGreaterThan(0)
    expect(first(stale).message).toContain('10.244.0.9:8080')
  })

  it('flags probabilities that do not split traffic evenly', () => {
    const now = clusterWith([A, B])
    const good = rulesOf('node-a', now)
    // Hand-edited: the first endpoint gets 90% instead of 50%.
    const edited = dataplane(good.name, {
      'iptables-save': (captureText(good, 'iptables-save') ?? '').replace('--probability 0.5000000000', '--probability 0.9000000000'),
    })
    expect(captureText(edited, 'iptables-save')).not.toBe(captureText(good, 'iptables-save'))
    const f = first(only(report(now, [edited]), 'probability-mismatch'), 'finding')
    expect(f.message).toBe('node-a splits 10.96.0.10:80/TCP unevenly over 2 backends (expected 1/2 each)')
    expect(f.evidence).toEqual(['10.244.0.5:8080: 90%', '10.244.1.6:8080: 10%'])
  })
})

describe('what else the node shows', () => {
  const now = clusterWith([A])

  it('names a data plane that replaces kube-proxy, and warns instead of failing', () => {
    const cilium =
      '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:CILIUM_PRE_nat - [0:0]\n-A PREROUTING -m comment --comment "cilium-feeder: CILIUM_PRE_nat" -j CILIUM_PRE_nat\nCOMMIT\n'
    const f = first(
      only(report(now, [dataplane('node-a', {'iptables-save': cilium}, {'iptables-save': 'node-a/iptables-save.txt'})]), 'node-has-no-kube-proxy-rules'),
      'finding',
    )
    expect(f.severity).toBe('warning')
    expect(f.message).toContain("Cilium's chains (CILIUM_PRE_nat)")
    expect(f.message).toContain('cilium service list')
  })

  it('keeps no-rules an error when nothing else is there', () => {
    const empty = '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'
    const f = first(
      only(report(now, [dataplane('node-a', {'iptables-save': empty}, {'iptables-save': 'node-a/iptables-save.txt'})]), 'node-has-no-kube-proxy-rules'),
      'finding',
    )
    expect(f.severity).toBe('error')
    expect(f.message).toBe('node-a: no KUBE-SERVICES chain in the nat table of node-a/iptables-save.txt')
  })

  it.each([
    ['legacy rules next to nft ones', 12, true, 'node-a has 12 KUBE-* rules in iptables-legacy besides the iptables-nft rules traced here'],
    ['legacy rules only', 3, false, 'node-a has 3 KUBE-* rules in iptables-legacy while iptables-nft holds none'],
  ])('reports kube-proxy rules in both iptables backends: %s', (_name, kubeRules, withNft, start) => {
    const nft = rulesOf('node-a', now)
    const plane: NodeDataplane = withNft
      ? {...nft, otherIptablesBackend: {backend: 'legacy', kubeRules, source: 'node-a: iptables-legacy -t nat -S'}}
      : dataplane(
          'node-a',
          {'iptables-save': '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'},
          {},
          {otherIptablesBackend: {backend: 'legacy', kubeRules, source: 'node-a: iptables-legacy -t nat -S'}},
        )
    const f = first(only(report(now, [plane]), 'iptables-legacy-and-nft'), 'finding')
    expect(f.message.startsWith(start)).toBe(true)
    expect(f.evidence).toEqual(['node-a: iptables-legacy -t nat -S'])
  })

  it('says nothing about backends when the other one holds no KUBE-* rule', () => {
    const plane = {...rulesOf('node-a', now), otherIptablesBackend: {backend: 'legacy' as const, kubeRules: 0, source: 'x'}}
    expect(only(report(now, [plane]), 'iptables-legacy-and-nft')).toEqual([])
  })
})
