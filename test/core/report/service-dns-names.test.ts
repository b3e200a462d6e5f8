// Service DNS names as input, resolved from the API objects (never a DNS query), on a cluster with
// kube-dns, a headless Service and three ExternalName Services (test/fixtures/cluster-dns-iptables-v1.26).
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../../src/adapters/bundle/reader.js'
import type {Query, Report} from '../../../src/core/model.js'
import {buildReport, QueryError} from '../../../src/core/report.js'

const dir = fileURLToPath(new URL('../../fixtures/cluster-dns-iptables-v1.26/', import.meta.url))
const bundle = new BundleDir(dir)
const {view} = await bundle.load()
const planes = await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n)))
const report = (q: Query): Report => buildReport(q, view, planes)
const named = (name: string, service: string, namespace: string, more: Partial<Extract<Query, {kind: 'name'}>> = {}): Query => ({
  kind: 'name',
  name,
  service,
  namespace,
  ...more,
})

/** Per entry traced on node-a from a pod or the node: its address, kind, verdict and backends' pods. */
function traced(r: Report): string[] {
  const node = r.nodes.find((n) => n.name === 'node-a')
  return [...new Set(node?.paths.map((p) => `${p.entry.address} ${p.entry.kind} ${p.verdict} [${p.backends.map((b) => b.pod ?? b.ip).join(', ')}]`))]
}

const COREDNS = 'kube-system/coredns-5d78c9869d-8xk2p, kube-system/coredns-5d78c9869d-q7w4z'

describe('a Service DNS name resolves as cluster DNS would answer it', () => {
  it.each<[string, Query, string[], string[]]>([
    [
      'the cluster DNS Service, every protocol: UDP and TCP 53 both reach both CoreDNS pods',
      named('kube-dns.kube-system.svc.cluster.local', 'kube-dns', 'kube-system'),
      ['kube-system/kube-dns'],
      [`10.96.0.10:53/UDP cluster-ip dnat [${COREDNS}]`, `10.96.0.10:53/TCP cluster-ip dnat [${COREDNS}]`, `10.96.0.10:9153/TCP cluster-ip dnat [${COREDNS}]`],
    ],
    [
      'a port and protocol narrow it',
      named('kube-dns.kube-system', 'kube-dns', 'kube-system', {port: 53, protocol: 'UDP'}),
      ['kube-system/kube-dns'],
      [`10.96.0.10:53/UDP cluster-ip dnat [${COREDNS}]`],
    ],
    [
      'a headless Service: its ready pod IPs, each traced as a pod IP',
      named('db.default.svc', 'db', 'default'),
      ['default/db'],
      ['10.244.0.10:5432/TCP pod-ip not-a-service []', '10.244.1.10:5432/TCP pod-ip not-a-service []'],
    ],
    [
      'an ExternalName pointing at an IP: traced as that address, the Service named',
      named('legacy.default', 'legacy', 'default'),
      ['default/legacy'],
      ['198.51.100.20/TCP address not-a-service []'],
    ],
    [
      "an ExternalName pointing at another Service's name: followed to that Service",
      named('dns-alias.default.svc.cluster.local', 'dns-alias', 'default', {protocol: 'UDP'}),
      ['default/dns-alias', 'kube-system/kube-dns'],
      [`10.96.0.10:53/UDP cluster-ip dnat [${COREDNS}]`],
    ],
    ['an ExternalName pointing outside the cluster: nothing to trace', named('partner.default', 'partner', 'default'), ['default/partner'], []],
    [
      'a headless Service by its Service name traces the same pod IPs',
      {kind: 'service', service: 'db', namespace: 'default'},
      ['default/db'],
      ['10.244.0.10:5432/TCP pod-ip not-a-service []', '10.244.1.10:5432/TCP pod-ip not-a-service []'],
    ],
  ])('%s', (_name, query, services, entries) => {
    const r = report(query)
    expect(r.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(services)
    expect(traced(r)).toEqual(entries)
    expect(r.resolution ?? '').toContain(query.kind === 'name' ? query.name : '')
  })

  it('says what cluster DNS answers, in the resolution', () => {
    expect(report(named('db.default', 'db', 'default')).resolution).toBe(
      'db.default is headless Service default/db: cluster DNS answers with its pod IPs 10.244.0.10, 10.244.1.10, each traced as a pod IP (routed to the pod directly, not through kube-proxy)',
    )
    expect(report(named('partner.default', 'partner', 'default')).resolution).toContain('a CNAME to "api.partner.example", a name outside the cluster')
    expect(report(named('legacy.default', 'legacy', 'default')).resolution).toContain('a CNAME to "198.51.100.20", an IP where a DNS name belongs')
  })

  it('a name of no Service read is a query error with the names that exist', () => {
    expect(() => report(named('kube-dns.default', 'kube-dns', 'default'))).toThrow(QueryError)
    expect(() => report(named('kube-dns.default', 'kube-dns', 'default'))).toThrow(
      /Service "kube-dns" not found in namespace "default": a Service named "kube-dns" exists in namespace kube-system/,
    )
  })
})

describe('the cluster DNS Service traces like any other', () => {
  const r = report({kind: 'service', service: 'kube-dns', namespace: 'kube-system'})
  it('by its Service name: UDP and TCP 53 from pods and nodes on both nodes reach both CoreDNS pods', () => {
    for (const node of r.nodes) {
      const dns = node.paths.filter((p) => p.entry.destination.port === 53)
      expect(dns.map((p) => `${p.entry.destination.protocol} from ${p.from}`).sort()).toEqual([
        'TCP from node',
        'TCP from pod',
        'UDP from node',
        'UDP from pod',
      ])
      for (const p of dns)
        expect([p.verdict, p.backends.map((b) => `${b.pod} ${b.probability}`)]).toEqual(['dnat', COREDNS.split(', ').map((pod) => `${pod} 0.5`)])
    }
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([])
  })
})

describe('--ip of an address names the Services that point at it without owning it', () => {
  it.each<[string, Extract<Query, {kind: 'ip'}>, string[], string]>([
    [
      'the target of an ExternalName Service',
      {kind: 'ip', ip: '198.51.100.20', protocol: 'TCP'},
      ['default/legacy'],
      '198.51.100.20 is the target of ExternalName Service default/legacy',
    ],
    ['a CoreDNS pod: an endpoint of kube-dns', {kind: 'ip', ip: '10.244.1.2', protocol: 'UDP'}, [], 'it is an endpoint of Service kube-system/kube-dns'],
    ['a pod of the headless Service', {kind: 'ip', ip: '10.244.0.10', protocol: 'TCP'}, [], 'it is an endpoint of Service default/db'],
    ['a pod no Service sends to', {kind: 'ip', ip: '10.244.0.99', protocol: 'TCP'}, [], 'it is no endpoint of any Service'],
    ['the API server behind default/kubernetes', {kind: 'ip', ip: '192.168.49.2', port: 8443, protocol: 'TCP'}, [], 'is an address of node node-a'],
  ])('%s', (_name, query, services, sentence) => {
    const r = report(query)
    expect(r.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(services)
    expect(r.resolution).toContain(sentence)
    expect(r.findings.map((f) => f.id)).not.toContain('address-not-owned')
  })
})
