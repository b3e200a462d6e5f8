// Dual-stack in iptables mode: kube-proxy runs one proxier per IP family, so a node's IPv6 Service
// rules are in ip6tables-save and its IPv4 ones in iptables-save. The fixture
// (test/fixtures/dual-stack-iptables-v1.26, dumps printed by the real iptables-save and ip6tables-save)
// has node-a with both dumps and node-b with the IPv4 one only. Expected backends come from the
// fixture's EndpointSlices, never from the tracer.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {familyOf, joinHostPort} from '../../src/core/address.js'
import {indexCluster, keyOf} from '../../src/core/cluster-index.js'
import {planCollection} from '../../src/core/collection-plan.js'
import {openDataplane} from '../../src/core/dataplane.js'
import type {ClusterView, EntryKind, NodeDataplane, Report, SourceKind, TracePath} from '../../src/core/model.js'
import {buildReport} from '../../src/core/report.js'
import {dataplane} from '../support/dataplane.js'
import {defined, only} from '../support/defined.js'

const DIR = fileURLToPath(new URL('../fixtures/dual-stack-iptables-v1.26', import.meta.url))
const bundle = new BundleDir(DIR)
const {view} = await bundle.load()
const planes: NodeDataplane[] = await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n)))
const NODE_A_IP6 = readFileSync(`${DIR}/nodes/node-a/ip6tables-save.txt`, 'utf8')
const NODE_A_IP4 = readFileSync(`${DIR}/nodes/node-a/iptables-save.txt`, 'utf8')

const report = (service: string, dps = planes, source?: string): Report =>
  buildReport({kind: 'service', namespace: 'default', service, ...(source ? {source} : {})}, view, dps)

/** The ready endpoints of the Service's slices of one family, `ip:port` as kube-proxy writes them (`[ip]:port` for IPv6). */
function sliceBackends(v: ClusterView, service: string, family: 4 | 6): string[] {
  return v.endpointSlices
    .filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === service && s.addressType === `IPv${family}`)
    .flatMap((s) => (s.endpoints ?? []).flatMap((e) => (e.conditions?.ready === false ? [] : e.addresses.map((a) => joinHostPort(a, s.ports?.[0]?.port ?? 0)))))
    .sort()
}

function pathOf(r: Report, node: string, kind: EntryKind, family: 4 | 6, from: SourceKind): TracePath {
  const paths = defined(
    r.nodes.find((n) => n.name === node),
    node,
  ).paths
  return only(
    paths.filter((p) => p.entry.kind === kind && familyOf(p.entry.destination.ip) === family && p.from === from),
    `${node} ${kind} IPv${family} path from ${from}`,
  )
}

const backendsOf = (p: TracePath) => p.backends.map((b) => joinHostPort(b.ip, b.port)).sort()

describe('dual-stack in iptables mode: each family through its own dump', () => {
  it.each([
    ['cluster IP from a pod', 'cluster-ip', 'pod'],
    ['cluster IP from the node', 'cluster-ip', 'node'],
    ['node port from outside', 'node-port', 'external'],
  ] as Array<[string, EntryKind, SourceKind]>)('web %s: IPv6 reaches the IPv6 endpoints, IPv4 the IPv4 ones', (_what, kind, from) => {
    const r = report('web')
    for (const family of [4, 6] as const) {
      const p = pathOf(r, 'node-a', kind, family, from)
      expect([p.verdict, backendsOf(p), p.uncertain], `IPv${family}`).toEqual(['dnat', sliceBackends(view, 'web', family), false])
      for (const b of p.backends) expect(b.probability).toBeCloseTo(1 / p.backends.length, 6)
    }
  })

  it("an IPv6 path walks kube-proxy's real ip6tables rules: the IPv6 cluster IP /128 match, the [addr]:port DNAT", () => {
    const p = pathOf(report('web'), 'node-a', 'cluster-ip', 6, 'pod')
    const rules = p.hops.map((h) => h.rule)
    expect(rules).toContainEqual(expect.stringMatching(/^-A KUBE-SERVICES -d fd00:10:96::a\/128 -p tcp .*--dport 80 -j KUBE-SVC-/))
    // Each backend's KUBE-SEP chain DNATs to it in the IPv6 dump, written [addr]:port.
    for (const b of p.backends)
      expect(NODE_A_IP6).toContain(`-A ${b.chain} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination [${b.ip}]:${b.port}\n`)
    // A hop's line is the line of the rule in the IPv6 dump.
    const lines = NODE_A_IP6.split('\n')
    for (const h of p.hops.filter((x) => x.line > 0)) expect(lines[h.line - 1]).toContain(`-A ${h.chain} `)
    // The client is the pod's IPv6 address, the node's own traffic leaves from its IPv6 address.
    const client = defined(
      view.pods.find((x) => keyOf(x) === p.sourcePod),
      `pod ${p.sourcePod}`,
    )
    expect(client.status?.podIPs?.map((x) => x.ip).filter((ip) => familyOf(ip) === 6)).toEqual([p.source])
    expect(pathOf(report('web'), 'node-a', 'cluster-ip', 6, 'node').source).toBe('fd00:192:168:49::2')
  })

  it('an IPv6-only Service is traced through ip6tables only', () => {
    const r = report('api6')
    const p = pathOf(r, 'node-a', 'cluster-ip', 6, 'pod')
    expect([p.verdict, backendsOf(p)]).toEqual(['dnat', sliceBackends(view, 'api6', 6)])
    expect(r.nodes.flatMap((n) => n.paths).filter((x) => familyOf(x.entry.destination.ip) === 4)).toEqual([])
  })

  it('an IPv6 Service without endpoints is rejected by the ip6tables filter rule', () => {
    const p = pathOf(report('empty6'), 'node-a', 'cluster-ip', 6, 'pod')
    expect([p.verdict, p.hops.at(-1)?.rule]).toEqual(['reject', expect.stringContaining('-j REJECT --reject-with icmp6-port-unreachable')])
  })

  it.each([
    ['2001:db8:1::9', 'dnat'],
    ['2001:db8:2::9', 'drop'],
  ])('the IPv6 load-balancer IP checks the IPv6 source ranges: %s → %s', (source, verdict) => {
    const p = pathOf(report('edge', planes, source), 'node-a', 'load-balancer', 6, 'external')
    expect(p.verdict).toBe(verdict)
    if (verdict === 'dnat') expect(backendsOf(p)).toEqual(sliceBackends(view, 'edge', 6))
  })

  it('a --source of one family traces only the entries of that family', () => {
    const r = report('edge', planes, '2001:db8:1::9')
    expect(new Set(r.nodes.flatMap((n) => n.paths).map((p) => familyOf(p.entry.destination.ip)))).toEqual(new Set([6]))
  })
})

describe('a node whose IPv6 rules were not read', () => {
  const r = report('web')

  it('says so on each IPv6 path (not traced, not "no rule"), and still traces IPv4', () => {
    const p = pathOf(r, 'node-b', 'cluster-ip', 6, 'pod')
    expect([p.verdict, p.backends, p.uncertain]).toEqual(['no-match', [], true])
    expect(p.notes).toContainEqual({kind: 'family-not-read', family: 6, missing: 'ip6tables-save', read: `${DIR}/nodes/node-b/iptables-save.txt`})
    expect(pathOf(r, 'node-b', 'cluster-ip', 4, 'pod')).toMatchObject({verdict: 'dnat', uncertain: false})
  })

  it('one warning names the node and the addresses; no finding claims a rule is missing or that the nodes disagree', () => {
    const f = only(r.findings.filter((x) => x.id === 'proxy-mode-not-traced'))
    expect(f).toMatchObject({severity: 'warning', service: 'default/web', node: 'node-b'})
    expect(f.message).toContain('no ip6tables-save was read from node-b')
    const ipv6Entries = defined(r.nodes.find((n) => n.name === 'node-b'))
      .paths.filter((p) => familyOf(p.entry.destination.ip) === 6)
      .map((p) => `node-b: ${p.entry.address}`)
    expect([...(f.evidence ?? [])].sort()).toEqual([...new Set(ipv6Entries)].sort())
    expect(r.findings.map((x) => x.id)).not.toEqual(expect.arrayContaining(['service-missing-on-node']))
    expect(r.findings.map((x) => x.id)).not.toContain('nodes-disagree')
    expect(r.findings.map((x) => x.id)).not.toContain('trace-uncertain')
  })

  it('the same node with an empty ip6tables dump does say the IPv6 cluster IP has no rule', () => {
    const empty = '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'
    const withEmpty = planes.map((dp) =>
      dp.name === 'node-b' ? {...dp, captures: [...dp.captures, {kind: 'ip6tables-save' as const, text: empty, source: 'x'}]} : dp,
    )
    const ids = report('web', withEmpty).findings.map((x) => x.id)
    expect(ids).toContain('service-missing-on-node')
    expect(ids).not.toContain('proxy-mode-not-traced')
  })
})

describe('mode detection with one dump of the two', () => {
  it.each([
    ['only ip6tables-save', {'ip6tables-save': NODE_A_IP6}, 'ip6tables-save'],
    ['only iptables-save', {'iptables-save': NODE_A_IP4}, 'iptables-save'],
    ['both', {'iptables-save': NODE_A_IP4, 'ip6tables-save': NODE_A_IP6}, 'ip6tables-save'],
  ] as const)('%s: iptables mode, with the dump that shows it named', (_what, texts, named) => {
    const o = openDataplane(dataplane('node-a', texts))
    expect([o.mode, o.findings.map((f) => f.id)]).toEqual(['iptables', []])
    expect(only(o.modes).evidence).toContain(`node-a: ${named}`)
  })

  it('an IPv4 destination on a node with only the IPv6 dump: not traced, the missing dump named', () => {
    const o = openDataplane(dataplane('node-a', {'ip6tables-save': NODE_A_IP6}))
    const trace = defined(o.trace)({
      node: {name: 'node-a', addresses: ['192.168.49.2']},
      destination: {ip: '10.96.0.10', port: 80, protocol: 'TCP'},
      from: 'pod',
      source: '10.244.0.99',
      podNetworks: [],
    })
    expect(trace.notes).toEqual([{kind: 'family-not-read', family: 4, missing: 'iptables-save', read: 'node-a: ip6tables-save'}])
  })
})

describe('collection plan for the fixture: the IPv6 chains predicted are those ip6tables holds', () => {
  const idx = indexCluster(view)
  /** Per-Service chains (KUBE-SVC/SVL/EXT/FW/SEP) of a dump whose rules name the Service port in a comment. */
  function serviceChains(dump: string, service: string): string[] {
    const out = new Set<string>()
    for (const m of dump.matchAll(/^-A (KUBE-(?:SVC|SVL|EXT|FW|SEP)-[A-Z0-9]+) .*default\/([a-z0-9-]+):/gm)) if (m[2] === service) out.add(defined(m[1]))
    return [...out].sort()
  }

  it.each(view.services.map((s) => [keyOf(s), s] as const))('%s', (_key, svc) => {
    const name = defined(svc.metadata?.name)
    const plan = planCollection(idx, {kind: 'service', namespace: 'default', service: name})
    const families = svc.spec?.ipFamilies ?? []
    expect([plan.full, plan.ipv6]).toEqual([false, families.includes('IPv6')])
    expect(plan.chains6.nat).toEqual(expect.arrayContaining(serviceChains(NODE_A_IP6, name)))
    expect(plan.chains.nat).toEqual(expect.arrayContaining(serviceChains(NODE_A_IP4, name)))
    // The IPv4 list names no IPv6 endpoint chain, the IPv6 list no IPv4 one.
    const seps = (dump: string) => serviceChains(dump, name).filter((c) => c.startsWith('KUBE-SEP-'))
    expect(plan.chains.nat.filter((c) => seps(NODE_A_IP6).includes(c))).toEqual([])
    expect(plan.chains6.nat.filter((c) => seps(NODE_A_IP4).includes(c))).toEqual([])
    if (!families.includes('IPv4')) expect(plan.chains.nat.filter((c) => /^KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(c))).toEqual([])
  })

  it('whole dumps ask for ip6tables too when a Service of the view is IPv6, or the address asked is', () => {
    expect(planCollection(idx, {kind: 'all'}).ipv6).toBe(true)
    const v4only = indexCluster({...view, services: view.services.filter((s) => !(s.spec?.ipFamilies ?? []).includes('IPv6'))})
    expect(planCollection(v4only, {kind: 'all'}).ipv6).toBe(false)
    expect(planCollection(v4only, {kind: 'ip', ip: 'fd00:10:96::1', protocol: 'TCP'}).ipv6).toBe(true)
  })
})
