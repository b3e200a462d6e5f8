// buildReport end to end: what the typed report says about Services and findings, on builders and
// on the real two-node v1.26 capture.
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {catalog} from '../../src/core/checks/catalog.js'
import {buildReport} from '../../src/core/report.js'
import type {Report} from '../../src/core/model.js'
import {pod, service, slice, view} from '../support/builders.js'

const capture = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26', import.meta.url))

/** `-A` (or the query given) over the two-node capture, as `--from` reads it. */
async function onCapture(query: Report['query'] = {kind: 'all'}): Promise<Report> {
  const bundle = new BundleDir(capture)
  const {view: cluster} = await bundle.load()
  const nodes = await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n)))
  return buildReport(query, cluster, nodes)
}

describe('ServiceSummary.endpoints', () => {
  it.each([
    ['ready endpoints in a slice with ports', [slice()], {ready: 1, total: 1, portless: 0}],
    ['a ready endpoint in a slice without ports is ready, and portless', [slice({ports: null})], {ready: 1, total: 1, portless: 1}],
    [
      'an unready endpoint without ports is not portless',
      [slice({ports: null, endpoints: [{ip: '10.244.0.5', ready: false}]})],
      {ready: 0, total: 1, portless: 0},
    ],
    ['an address listed with ports in another slice is not portless', [slice({ports: null}), slice({name: 'web-fghij'})], {ready: 1, total: 1, portless: 0}],
  ])('%s', (_name, endpointSlices, expected) => {
    const report = buildReport({kind: 'all'}, view({services: [service()], pods: [pod()], endpointSlices}), [])
    expect(report.services[0]?.endpoints).toEqual(expected)
  })

  it('counts the ready endpoint of storefront/metrics (its slice has no port "prom") as ready and portless', async () => {
    const report = await onCapture()
    const eps = Object.fromEntries(report.services.map((s) => [`${s.namespace}/${s.name}`, s.endpoints]))
    expect(eps['storefront/metrics']).toEqual({ready: 1, total: 1, portless: 1})
    expect(eps['storefront/frontend']).toEqual({ready: 3, total: 3, portless: 0})
  })
})

describe('one fact, one finding (the two-node capture)', () => {
  it('a node externalTrafficPolicy Local leaves without an endpoint is one finding, carrying the DROP rule', async () => {
    const report = await onCapture()
    const api = report.findings.filter((f) => f.service === 'storefront/api')
    expect(api.map((f) => `${f.id} (${f.severity})`)).toEqual(['external-traffic-local-node-without-endpoint (warning)'])
    expect(api[0]?.evidence).toContain(
      'filter KUBE-EXTERNAL-SERVICES: -A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "storefront/api:http has no local endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 31500 -j DROP',
    )
  })

  it('one load-balancer source-range drop is one finding listing every kind of client it keeps out', async () => {
    const report = await onCapture()
    const gateway = report.findings.filter((f) => f.service === 'storefront/gateway')
    expect(gateway.map((f) => [f.id, f.severity, f.message])).toEqual([
      [
        'traffic-dropped',
        'info',
        'nodes node1, node2 drop 172.30.0.201:8080/TCP (load-balancer) from an outside client, a pod on the node or the node itself: the client is not in loadBalancerSourceRanges',
      ],
    ])
  })

  it('the client named with --source outside the source ranges is one finding, carrying the DROP rule', async () => {
    const report = await onCapture({kind: 'service', namespace: 'storefront', service: 'gateway', source: '8.8.8.8'})
    expect(report.findings.map((f) => `${f.id} (${f.severity})`)).toEqual(['source-outside-load-balancer-ranges (warning)'])
    expect(report.findings[0]?.evidence?.at(-1)).toMatch(/^filter KUBE-PROXY-FIREWALL: .* -j DROP$/)
  })

  it.each([
    ['an assumed client: info', {kind: 'service', namespace: 'storefront', service: 'gateway'} as const, 'info'],
    ['the --source client: a warning', {kind: 'service', namespace: 'storefront', service: 'gateway', source: '8.8.8.8'} as const, 'warning'],
    ['a node without a local endpoint (NodePort): a warning', {kind: 'service', namespace: 'storefront', service: 'api'} as const, 'warning'],
  ])('a dropped path carries the severity of the finding that reports it: %s', async (_name, query, severity) => {
    const report = await onCapture(query)
    const dropped = report.nodes.flatMap((n) => n.paths).filter((p) => p.verdict === 'drop')
    expect(dropped.length).toBeGreaterThan(0)
    expect(new Set(dropped.map((p) => p.severity))).toEqual(new Set([severity]))
    expect(report.findings.map((f) => f.severity)).toEqual([severity])
  })

  it('session affinity: one finding, the paths keep the typed field and no note repeats it', async () => {
    const report = await onCapture({kind: 'service', namespace: 'storefront', service: 'sessions'})
    const paths = report.nodes.flatMap((n) => n.paths)
    expect(paths.map((p) => p.affinity)).toEqual(paths.map(() => ({timeoutSeconds: 600})))
    expect(paths.flatMap((p) => p.notes)).toEqual([])
    expect(report.findings.map((f) => f.id)).toEqual(['session-affinity'])
    expect(report.findings[0]?.evidence).toContain(
      'a client that connected in the last 600 s goes back to the same endpoint; the split the paths show is for a first connection',
    )
  })
})

describe('fixes inline', () => {
  it('every finding carries the fix text of its catalogue entry', async () => {
    const report = await onCapture()
    expect(report.findings.length).toBeGreaterThan(0)
    for (const f of report.findings) expect(f.fix?.text, f.id).toBe(catalog[f.id].fix)
  })

  it('commands where they are certain: the selector typo of cache and the port name of metrics', async () => {
    const report = await onCapture()
    const commands = report.findings.filter((f) => f.fix?.command).map((f) => [f.id, f.fix?.command])
    expect(commands).toEqual([
      ['selector-matches-no-pods', `kubectl -n storefront patch service cache --type merge -p '{"spec":{"selector":{"tier":"backend"}}}'`],
      [
        'target-port-name-undefined',
        `kubectl -n storefront patch service metrics --type json -p '[{"op":"test","path":"/spec/ports/0/targetPort","value":"prom"},{"op":"replace","path":"/spec/ports/0/targetPort","value":"metrics"}]'`,
      ],
    ])
  })
})
