// Dual-stack in IPVS mode through the real command (test/fixtures/dual-stack-ipvs-v1.26/README.md):
// an IPv6 Service is traced through the IPv6 proxier's ip6tables rules and KUBE-6-… ipsets to IPVS's
// IPv6 real servers, each with its probability, and a missing IPv6 real server is flagged as an
// IPv4 one would be.
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report, TracePath} from '../../src/core/model.js'
import {kubectlSvctrace, pluginPath, root} from '../support/cli.js'

let plugin: ReturnType<typeof pluginPath>
beforeAll(() => {
  plugin = pluginPath()
})
afterAll(() => plugin.remove())

const bundle = path.join(root, 'test/fixtures/dual-stack-ipvs-v1.26')
const run = (args: string[]) => kubectlSvctrace(plugin.dir, [...args, '--from', bundle])

function jsonReport(args: string[]): Report {
  const r = run([...args, '-o', 'json'])
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout) as Report
}

const pathOf = (report: Report, address: string, from: TracePath['from']) => report.nodes[0]?.paths.find((p) => p.entry.address === address && p.from === from)
const backends = (p: TracePath | undefined) => (p?.backends ?? []).map((b) => `${b.pod ?? '-'} ${b.ip}:${b.port} ${b.probability} w${b.weight}`)

describe('kubectl svctrace in IPVS mode, dual-stack', () => {
  it("an IPv6 cluster IP: the ip6tables rules, then IPVS's IPv6 real servers, 50% each", () => {
    const report = jsonReport(['web'])
    expect(report.nodes.map((n) => n.mode)).toEqual(['ipvs'])
    const p = pathOf(report, '[fd00:10:96::a]:80/TCP', 'pod')
    expect(p?.verdict).toBe('dnat')
    expect(backends(p)).toEqual(['default/web-0 fd00:10:244::10:8080 0.5 w1', 'default/web-1 fd00:10:244::11:8080 0.5 w1'])
    expect(p?.hops.map((h) => `${h.table} ${h.chain}: ${h.rule}`)).toEqual([
      'nat PREROUTING: -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'nat KUBE-SERVICES: -A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
      'nat KUBE-SERVICES: -A KUBE-SERVICES -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j ACCEPT',
      'filter INPUT: -A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER',
      'filter KUBE-IPVS-FILTER: -A KUBE-IPVS-FILTER -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j RETURN',
      'filter INPUT: -A INPUT -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL',
      'filter INPUT: -A INPUT -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT',
      'ipvs ipvs [fd00:10:96::a]:80/TCP: TCP  [fd00:10:96::a]:80 rr',
    ])
    // From the node the IPv6 masquerade rule (! -s fd00:10:244::/56) marks the packet.
    expect(pathOf(report, '[fd00:10:96::a]:80/TCP', 'node')?.masquerade).toBe('yes')
  })

  it('the IPv6 node port: KUBE-6-NODE-PORT-TCP marks it for masquerade, IPVS splits it over the IPv6 endpoints', () => {
    const p = pathOf(jsonReport(['web']), '[fd00:192:168:49::2]:30080/TCP', 'external')
    expect(p?.verdict).toBe('dnat')
    expect(p?.masquerade).toBe('yes')
    expect(p?.hops.map((h) => h.rule)).toContain(
      '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-6-NODE-PORT-TCP dst -j KUBE-MARK-MASQ',
    )
    expect(backends(p)).toEqual(['default/web-0 fd00:10:244::10:8080 0.5 w1', 'default/web-1 fd00:10:244::11:8080 0.5 w1'])
  })

  it('the IPv4 family of the same Service still goes through iptables and the IPv4 real servers', () => {
    const p = pathOf(jsonReport(['web']), '10.96.0.10:80/TCP', 'pod')
    expect(p?.hops.map((h) => h.rule)).toContain('-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT')
    expect(backends(p)).toEqual(['default/web-0 10.244.0.10:8080 0.5 w1', 'default/web-1 10.244.0.11:8080 0.5 w1'])
  })

  it('a missing IPv6 real server is flagged, and --fail-on error exits 1', () => {
    const report = jsonReport(['api6'])
    expect(backends(pathOf(report, '[fd00:10:96::b6]:443/TCP', 'pod'))).toEqual(['default/api-0 fd00:10:244::20:8443 1 w1'])
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([
      expect.objectContaining({
        id: 'missing-endpoint-rule',
        service: 'default/api6',
        node: 'node-a',
        message: 'node-a does not forward [fd00:10:96::b6]:443/TCP to ready endpoint [fd00:10:244::21]:8443 of default/api6',
      }),
    ])
    expect(run(['api6', '--fail-on', 'error']).code).toBe(1)
    expect(run(['web', '--fail-on', 'warning']).code).toBe(0)
  })

  it('the table names the broken Service and the healthy one', () => {
    const r = run(['-A'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/default\s+api6\s+ClusterIP\s+2\/2\s+BROKEN\s+1 error/)
    expect(r.stdout).toMatch(/default\s+web\s+NodePort\s+4\/4\s+OK/)
  })
})
