// conntrack-stale-endpoint: the bundles with real conntrack output (CoreDNS moved with stale UDP
// entries left; the same node after they were cleared), then one behaviour per row on entries built
// in the format conntrack prints: what counts as stale, what does not, and the command for each case.
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../../src/adapters/bundle/reader.js'
import {indexCluster} from '../../../src/core/cluster-index.js'
import {planCollection} from '../../../src/core/collection-plan.js'
import {conntrackStaleEndpoints} from '../../../src/core/checks/conntrack-stale-endpoint.js'
import type {Finding, Query} from '../../../src/core/model.js'
import {buildReport} from '../../../src/core/report.js'
import {service, slice, view, type EndpointOptions} from '../../support/builders.js'
import {dataplane} from '../../support/dataplane.js'
import {only} from '../../support/defined.js'

const KUBE_DNS: Query = {kind: 'service', service: 'kube-dns', namespace: 'kube-system'}

async function traceBundle(name: string, query: Query = KUBE_DNS) {
  const bundle = new BundleDir(fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url)))
  const {view: cluster} = await bundle.load()
  const plan = planCollection(indexCluster(cluster), query, {conntrack: true})
  const dataplanes = await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n, plan)))
  return buildReport(query, cluster, dataplanes)
}

const conntrackFindings = (findings: Finding[]) => findings.filter((f) => f.id.startsWith('conntrack-'))

describe('conntrack bundles', () => {
  it('CoreDNS moved and stale UDP entries remain: one warning with the count and the command', async () => {
    const report = await traceBundle('conntrack-stale-dns')
    const f = only(conntrackFindings(report.findings))
    expect(f).toMatchObject({id: 'conntrack-stale-endpoint', severity: 'warning', service: 'kube-system/kube-dns', node: 'node1'})
    expect(f.message).toBe(
      '6 conntrack entries on node1 still send 10.96.0.10:53/UDP to 10.244.1.5, which is no endpoint of kube-system/kube-dns; run the command on node1 to delete them',
    )
    expect(f.evidence).toEqual([
      expect.stringMatching(/conntrack-stale-dns\/nodes\/node1\/conntrack\.txt:1: reply source 10\.244\.1\.5 port 53, unreplied$/),
      'the endpoints of kube-system/kube-dns for this port now: 10.244.2.7:53',
    ])
    expect(f.fix?.command).toBe('conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.244.1.5')
    expect(report.nodes.find((n) => n.name === 'node1')?.conntrack).toMatchObject({entries: 10, forServices: 10, stale: 6, unread: 0})
    expect(report.services[0]?.verdict.status).toBe('warning')
  })

  it('the same node after the entries were cleared: nothing flagged, the entries counted', async () => {
    const report = await traceBundle('conntrack-dns-healthy')
    expect(conntrackFindings(report.findings)).toEqual([])
    expect(report.nodes.find((n) => n.name === 'node1')?.conntrack).toMatchObject({entries: 7, forServices: 7, stale: 0, unread: 0})
  })

  it('another Service of the same bundle is not concerned by the stale DNS entries', async () => {
    const report = await traceBundle('conntrack-stale-dns', {kind: 'service', service: 'frontend', namespace: 'storefront'})
    expect(conntrackFindings(report.findings)).toEqual([])
    expect(report.nodes.find((n) => n.name === 'node1')?.conntrack).toMatchObject({entries: 10, forServices: 0, stale: 0})
  })
})

// kube-system/kube-dns at 10.96.0.10 with dns 53/UDP and dns-tcp 53/TCP; one endpoint 10.244.2.7 (port 53).
const dns = service({
  name: 'kube-dns',
  namespace: 'kube-system',
  clusterIP: '10.96.0.10',
  ports: [
    {name: 'dns', port: 53, protocol: 'UDP', targetPort: 53},
    {name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53},
  ],
})
const dnsSlice = (endpoints: EndpointOptions[]) =>
  slice({
    service: 'kube-dns',
    namespace: 'kube-system',
    endpoints,
    ports: [
      {name: 'dns', port: 53, protocol: 'UDP'},
      {name: 'dns-tcp', port: 53, protocol: 'TCP'},
    ],
  })
const CURRENT = [{ip: '10.244.2.7', node: 'node2', pod: 'coredns-new'}]

/** A conntrack line as conntrack prints it: client 10.244.1.11 to VIP:dport, answered (or not) from reply. */
function entry(protocol: 'udp' | 'tcp', dport: number, reply: string, o: {sport?: number; replyPort?: number; state?: string; vip?: string} = {}): string {
  const sport = o.sport ?? 40000
  const number = protocol === 'udp' ? 17 : 6
  return `${protocol}      ${number} 29 ${o.state ? `${o.state} ` : ''}src=10.244.1.11 dst=${o.vip ?? '10.96.0.10'} sport=${sport} dport=${dport} [UNREPLIED] src=${reply} dst=10.244.1.11 sport=${o.replyPort ?? dport} dport=${sport} mark=0 use=1`
}

function check(lines: string[], endpoints = CURRENT) {
  const cluster = view({services: [dns], endpointSlices: [dnsSlice(endpoints)]})
  const dp = dataplane('node1', {conntrack: lines.join('\n')}, {conntrack: 'node1: conntrack -L -d 10.96.0.10'})
  return conntrackStaleEndpoints(indexCluster(cluster), [dns], [dp])
}

describe('conntrackStaleEndpoints', () => {
  it.each<[string, string[], string | undefined]>([
    ['an entry to the current endpoint', [entry('udp', 53, '10.244.2.7')], undefined],
    ['a UDP entry to a gone pod', [entry('udp', 53, '10.244.1.5')], 'conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.244.1.5'],
    [
      'a TCP connection still established to a gone pod',
      [entry('tcp', 53, '10.244.1.5', {state: 'ESTABLISHED'})],
      'conntrack -D -p tcp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.244.1.5',
    ],
    ['a TCP connection closed before the pod went (TIME_WAIT)', [entry('tcp', 53, '10.244.1.5', {state: 'TIME_WAIT'})], undefined],
    [
      'an entry never translated (reply from the VIP itself)',
      [entry('udp', 53, '10.96.0.10')],
      'conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.96.0.10',
    ],
    [
      'the endpoint is still there, on its old port',
      [entry('udp', 53, '10.244.2.7', {replyPort: 5353})],
      'conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.244.2.7 --reply-port-src 5353',
    ],
    ['a port the Service does not have', [entry('udp', 5353, '10.244.1.5')], undefined],
    ['another address', [entry('udp', 53, '10.244.1.5', {vip: '10.96.0.11'})], undefined],
  ])('%s', (_what, lines, command) => {
    const {findings} = check(lines)
    expect(findings.map((f) => f.fix?.command)).toEqual(command === undefined ? [] : [command])
  })

  it('groups by old address and counts each group', () => {
    const lines = [40001, 40002, 40003].map((sport) => entry('udp', 53, '10.244.1.5', {sport}))
    const {findings, summaries} = check([...lines, entry('udp', 53, '10.244.1.6'), entry('udp', 53, '10.244.2.7')])
    expect(findings.map((f) => f.message.split(' on ')[0])).toEqual(['3 conntrack entries', '1 conntrack entry'])
    expect(summaries.get('node1')).toEqual({source: 'node1: conntrack -L -d 10.96.0.10', entries: 5, forServices: 5, stale: 4, unread: 0})
  })

  it('a terminating endpoint that still serves is no stale destination; one that does not serve is', () => {
    const serving = [{ip: '10.244.1.5', node: 'node1', pod: 'coredns-old', terminating: true, serving: true}, ...CURRENT]
    expect(check([entry('udp', 53, '10.244.1.5')], serving).findings).toEqual([])
    const gone = [{ip: '10.244.1.5', node: 'node1', pod: 'coredns-old', terminating: true, serving: false}, ...CURRENT]
    expect(check([entry('udp', 53, '10.244.1.5')], gone).findings.map((f) => f.id)).toEqual(['conntrack-stale-endpoint'])
  })

  it('an IPv6 Service address gets -f ipv6 in its command', () => {
    const v6 = service({
      name: 'kube-dns',
      namespace: 'kube-system',
      clusterIP: 'fd00:10:96::a',
      ports: [{name: 'dns', port: 53, protocol: 'UDP', targetPort: 53}],
    })
    const line =
      'ipv6     10 udp      17 29 src=fd00:10:244:1::b dst=fd00:10:96::a sport=40000 dport=53 [UNREPLIED] src=fd00:10:244:1::5 dst=fd00:10:244:1::b sport=53 dport=40000 mark=0 use=1'
    const cluster = view({
      services: [v6],
      endpointSlices: [
        slice({
          service: 'kube-dns',
          namespace: 'kube-system',
          addressType: 'IPv6',
          endpoints: [{ip: 'fd00:10:244:2::7'}],
          ports: [{name: 'dns', port: 53, protocol: 'UDP'}],
        }),
      ],
    })
    const {findings} = conntrackStaleEndpoints(indexCluster(cluster), [v6], [dataplane('node1', {conntrack: line})])
    expect(findings.map((f) => f.fix?.command)).toEqual([
      'conntrack -D -f ipv6 -p udp --orig-dst fd00:10:96::a --orig-port-dst 53 --reply-src fd00:10:244:1::5',
    ])
  })

  it('lines that are no entry, and a node where conntrack could not run, are said, not guessed', () => {
    const unread = check([entry('udp', 53, '10.244.2.7'), 'udp 17 29 src=10.244.1.11 dst=10.96.0.10 garbage'])
    expect(unread.findings.map((f) => [f.id, f.severity])).toEqual([['conntrack-not-read', 'info']])
    expect(unread.findings[0]?.evidence).toEqual([
      'node1: conntrack -L -d 10.96.0.10:2: reply direction: expected src=: udp 17 29 src=10.244.1.11 dst=10.96.0.10 garbage',
    ])
    const failed = conntrackStaleEndpoints(
      indexCluster(view({services: [dns]})),
      [dns],
      [{name: 'node1', captures: [], conntrackError: 'conntrack is not installed on node1'}],
    )
    expect(failed.findings.map((f) => f.message)).toEqual(['node1: connection tracking was not read: conntrack is not installed on node1'])
    expect(failed.summaries.size).toBe(0)
  })
})
