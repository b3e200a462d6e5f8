// Check mode Service by Service against buildReport's one run over every Service: the same report,
// byte for byte as JSON (findings in the same order), on every fixture bundle; without paths, the
// same report with the nodes' paths left out.
import {readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {checkReport, checkServiceByService, type ServicePart} from '../../src/core/check-report.js'
import {indexCluster} from '../../src/core/cluster-index.js'
import {planCollection} from '../../src/core/collection-plan.js'
import type {AllQuery, ClusterView, NodeDataplane, Report} from '../../src/core/model.js'
import {reportFromIndex} from '../../src/core/report.js'
import {node, service, slice} from '../support/builders.js'
import {dataplane} from '../support/dataplane.js'
import {renderKubeProxyRestore} from '../support/kube-proxy-rules.js'
import {exampleView} from './report/example-bundle.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Every bundle directory (one with a cluster.yaml or cluster.json) under `dir`. */
function bundlesUnder(dir: string): string[] {
  const here = readdirSync(dir).some((f) => f === 'cluster.yaml' || f === 'cluster.json') ? [dir] : []
  const below = readdirSync(dir)
    .map((f) => path.join(dir, f))
    .filter((p) => statSync(p).isDirectory() && path.basename(p) !== 'nodes')
    .flatMap(bundlesUnder)
  return [...here, ...below]
}

const bundles = [...bundlesUnder(path.join(ROOT, 'examples')), ...bundlesUnder(path.join(ROOT, 'test/fixtures'))].map((d) => path.relative(ROOT, d))

/** The bundle's objects and nodes, read as `--from DIR --conntrack --counters` reads them for the query. */
async function readBundle(dir: string, query: AllQuery): Promise<{view: ClusterView; dataplanes: NodeDataplane[]}> {
  const bundle = new BundleDir(path.join(ROOT, dir))
  const {view} = await bundle.load()
  const plan = planCollection(indexCluster(view), query, {conntrack: true, counters: true})
  return {view, dataplanes: await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n, plan)))}
}

/** The report with no path kept on any node. */
/** What check mode's report keeps for the summary table: no path, and no Service's backends. */
const summaryOf = (report: Report): Report => ({
  ...report,
  services: report.services.map((s) => ({...s, backends: []})),
  nodes: report.nodes.map((n) => ({...n, paths: []})),
})

/** Both ways of building check mode's report, each on its own index. */
function bothWays(query: AllQuery, view: ClusterView, dataplanes: NodeDataplane[], denied: string[] = []) {
  return {
    atOnce: reportFromIndex(query, indexCluster(view), dataplanes, denied),
    oneByOne: checkReport(query, indexCluster(view), dataplanes, denied, {keepDetail: true}),
    summary: checkReport(query, indexCluster(view), dataplanes, denied, {keepDetail: false}),
  }
}

describe('check mode Service by Service builds the report one run over every Service builds', () => {
  it('finds the fixture bundles', () => {
    expect(bundles).toContain('examples/hello-world')
    expect(bundles).toContain('test/fixtures/two-node-iptables-v1.26')
    expect(bundles.length).toBeGreaterThan(30)
  })

  it.each(bundles)('%s: -A, and -A --source, with and without paths', async (dir) => {
    for (const query of [{kind: 'all'}, {kind: 'all', source: '203.0.113.9'}] satisfies AllQuery[]) {
      const {view, dataplanes} = await readBundle(dir, query)
      const {atOnce, oneByOne, summary} = bothWays(query, view, dataplanes, ['listing pods was denied'])
      expect(JSON.stringify(oneByOne, null, 1)).toBe(JSON.stringify(atOnce, null, 1))
      expect(JSON.stringify(summary, null, 1)).toBe(JSON.stringify(summaryOf(atOnce), null, 1))
    }
  })

  it('-n NAMESPACE: only its Services', async () => {
    const query: AllQuery = {kind: 'all', namespace: 'storefront'}
    const {view, dataplanes} = await readBundle('test/fixtures/two-node-iptables-v1.26', query)
    const {atOnce, oneByOne} = bothWays(query, view, dataplanes)
    expect(atOnce.services.length).toBeGreaterThan(1)
    expect(atOnce.services.every((s) => s.namespace === 'storefront')).toBe(true)
    expect(JSON.stringify(oneByOne)).toBe(JSON.stringify(atOnce))
  })

  it('lists findings of several Services on several nodes node by node, as one run over every Service does', async () => {
    // Two Services with endpoints that neither node of the example has rules for: each node lacks
    // both, so the findings interleave the Services (a, then b, on node-a; then on node-b).
    const missing = ['ghost-a', 'ghost-b'].map((name, i) => ({
      svc: service({name, clusterIP: `10.96.200.${i + 1}`, selector: {app: name}}),
      slice: slice({service: name, name: `${name}-abcde`}),
    }))
    const view: ClusterView = {
      ...exampleView,
      services: [...exampleView.services, ...missing.map((m) => m.svc)],
      endpointSlices: [...exampleView.endpointSlices, ...missing.map((m) => m.slice)],
    }
    const {dataplanes} = await readBundle('examples/hello-world', {kind: 'all'})
    const {atOnce, oneByOne} = bothWays({kind: 'all'}, view, dataplanes)
    const onNodes = (r: Report) => r.findings.filter((f) => f.id === 'service-missing-on-node').map((f) => `${f.node} ${f.service}`)
    expect(onNodes(atOnce)).toEqual(['node-a default/ghost-a', 'node-a default/ghost-b', 'node-b default/ghost-a', 'node-b default/ghost-b'])
    expect(JSON.stringify(oneByOne)).toBe(JSON.stringify(atOnce))
  })

  it('lists findings that gather nodes in the order of the node each is first seen on, as one run over every Service does', () => {
    // Two NodePorts without endpoints on two nodes: each node rejects its own node-port address, so
    // the findings about node-b's addresses (first seen on node-b) come after every Service's on node-a.
    const nodes = [node({name: 'node-a', ip: '192.168.49.2'}), node({name: 'node-b', ip: '192.168.49.3', podCIDR: '10.244.1.0/24'})]
    const services = ['ghost-a', 'ghost-b'].map((name, i) =>
      service({name, type: 'NodePort', clusterIP: `10.96.200.${i + 1}`, ports: [{name: 'http', port: 80, targetPort: 8080, nodePort: 30080 + i}]}),
    )
    const view: ClusterView = {services, endpointSlices: [], endpoints: [], pods: [], nodes}
    const dataplanes = nodes.map((n, i) =>
      dataplane(n.metadata?.name ?? '', {
        'iptables-save': renderKubeProxyRestore(view, n.metadata?.name ?? '', {clusterCIDR: '10.244.0.0/16', nodeIPs: [`192.168.49.${i + 2}`]}),
      }),
    )
    const {atOnce, oneByOne} = bothWays({kind: 'all'}, view, dataplanes)
    const rejected = (r: Report) => r.findings.filter((f) => f.id === 'service-rejected-no-endpoints').map((f) => f.message)
    expect(rejected(atOnce).map((m) => m.split(' ')[0])).toEqual([
      'default/ghost-a',
      'default/ghost-a',
      'default/ghost-b',
      'default/ghost-b',
      'default/ghost-a',
      'default/ghost-b',
    ])
    expect(
      rejected(atOnce)
        .slice(-2)
        .every((m) => m.includes('node-b rejects 192.168.49.3:')),
    ).toBe(true)
    expect(JSON.stringify(oneByOne)).toBe(JSON.stringify(atOnce))
  })

  it('yields each Service as it is judged, with its own paths, backends and findings, before the report', async () => {
    const {view, dataplanes} = await readBundle('examples/hello-world', {kind: 'all'})
    const run = checkServiceByService({kind: 'all'}, indexCluster(view), dataplanes, [], {keepDetail: false})
    const parts: ServicePart[] = []
    let next = run.next()
    while (!next.done) {
      parts.push(next.value)
      next = run.next()
    }
    const report = next.value
    const full = reportFromIndex({kind: 'all'}, indexCluster(view), dataplanes)
    expect(parts.map((p) => p.service)).toEqual(full.services)
    expect(full.services.some((s) => s.backends.length > 0)).toBe(true)
    expect(report.services).toEqual(full.services.map((s) => ({...s, backends: []})))
    for (const part of parts) {
      const key = `${part.service.namespace}/${part.service.name}`
      expect(part.findings).toEqual(report.findings.filter((f) => f.service === key))
      expect(part.nodes.map((n) => n.paths)).toEqual(full.nodes.map((n) => n.paths.filter((p) => p.entry.service === key)))
    }
    expect(report.nodes.every((n) => n.paths.length === 0 && n.ruleWalk !== undefined)).toBe(true)
  })
})
