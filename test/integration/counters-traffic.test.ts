// --counters against real traffic: the two-node reference cluster built out of network namespaces
// (its real node1/node2 dumps loaded with iptables-restore), real TCP connections from a pod on node1
// to storefront/frontend's cluster IP, then node1 read through the node reader with counters on
// (`iptables -S CHAIN -v` listings, a whole `iptables-save -c`, and the filtered `iptables-save -c -t`
// a legacy node gets) and traced: each backend's packets must be the connections that backend
// answered. Needs root, ip and iptables; elsewhere skipped with a printed reason, except with CI set.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseClusterFile} from '../../src/adapters/bundle/cluster-file.js'
import {readNodeDataplane} from '../../src/adapters/node/dataplane-reader.js'
import {legacySteps, recordRound, emptyTargeted, targetedCapture} from '../../src/adapters/node/targeted-iptables.js'
import {runBatch} from '../../src/adapters/node/batch.js'
import {indexCluster} from '../../src/core/cluster-index.js'
import {planCollection, type CollectionPlan} from '../../src/core/collection-plan.js'
import type {NodeDataplane, Query, Report} from '../../src/core/model.js'
import {buildReport} from '../../src/core/report.js'
import {createBundleTopology, loadReferenceBundle} from '../support/netns-bundle.js'
import {cleanupLeftovers, ownNamespaces, requireRoot, type Topology} from '../support/netns.js'
import {NetnsSession} from '../support/netns-session.js'

const BUNDLE_DIR = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26/', import.meta.url))
const bundle = loadReferenceBundle(BUNDLE_DIR)
const view = parseClusterFile(readFileSync(`${BUNDLE_DIR}cluster.yaml`, 'utf8'), 'cluster.yaml')
const query: Query = {kind: 'service', namespace: 'storefront', service: 'frontend'}
const idx = indexCluster(view)
const CLIENT = 'storefront/cache-0'
const CONNECTIONS = 90
const env = requireRoot([], 'counters-traffic')

/** frontend:http's backends as `ip:port` → counters, on node1's path from a pod to the cluster IP. */
function countedByBackend(report: Report): Map<string, {packets: number; bytes: number} | undefined> {
  const path = report.nodes.find((n) => n.name === 'node1')?.paths.find((p) => p.entry.address === '10.96.10.10:80/TCP' && p.from === 'pod')
  return new Map((path?.backends ?? []).map((b) => [`${b.ip}:${b.port}`, b.counters]))
}

describe.skipIf(env.skip)('--counters: real traffic counted per backend', () => {
  let topo: Topology | undefined
  const answered = new Map<string, number>()

  const session = () => new NetnsSession(topo!.netns('node1'))
  const trace = (dp: NodeDataplane) => buildReport(query, view, [dp])
  const plan = (opts: {full?: boolean}): CollectionPlan => planCollection(idx, query, {...opts, counters: true})

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    topo = await createBundleTopology(bundle, {label: 'counters'})
  })

  afterAll(async () => {
    const prefix = topo?.prefix
    await topo?.destroy()
    if (prefix) expect((await ownNamespaces()).filter((n) => n.startsWith(prefix))).toEqual([])
  })

  it('before any traffic every frontend:http backend has counted 0', async () => {
    const report = trace(await readNodeDataplane(session(), 'node1', plan({full: true})))
    const counted = countedByBackend(report)
    expect([...counted.keys()].sort()).toEqual(['10.244.1.11:8080', '10.244.1.12:8080', '10.244.2.13:8080'])
    for (const c of counted.values()) expect(c).toEqual({packets: 0, bytes: 0})
  })

  it(`${CONNECTIONS} connections from ${CLIENT} are all answered, by all three pods`, async () => {
    expect(topo!.hasMember(CLIENT)).toBe(true)
    const r = await topo!.connect({from: CLIENT, dst: '10.96.10.10', port: 80, attempts: CONNECTIONS, concurrency: 6, timeoutMs: 1000, silentMs: 1000})
    for (const a of r.attempts) if (a.kind === 'answered' && a.local) answered.set(a.local, (answered.get(a.local) ?? 0) + 1)
    expect(r.counts.answered).toBe(CONNECTIONS)
    expect([...answered.keys()].sort()).toEqual(['10.244.1.11:8080', '10.244.1.12:8080', '10.244.2.13:8080'])
  })

  /** Each backend's counted packets are the connections it answered (the nat table sees one SYN per connection). */
  function expectCountsMatchTraffic(report: Report): void {
    const counted = countedByBackend(report)
    expect(counted.size).toBe(3)
    for (const [backend, c] of counted) {
      expect(c?.packets, backend).toBe(answered.get(backend))
      // A SYN with options: 40 to 80 bytes of IP packet each.
      expect(c!.bytes / c!.packets, backend).toBeGreaterThanOrEqual(40)
      expect(c!.bytes / c!.packets, backend).toBeLessThanOrEqual(80)
    }
  }

  it('targeted read, chain by chain (iptables -S CHAIN -v): every command carries -v, the counts match the traffic', async () => {
    const s = session()
    // 0: list chain by chain even though this KUBE-SERVICES is small (as on a big node).
    const dp = await readNodeDataplane(s, 'node1', plan({}), undefined, 0)
    expect(dp.captures.find((c) => c.kind === 'iptables-save')?.source).toMatch(/^node1: iptables -S \(targeted: \d+ chains/)
    const listings = s.ran.filter((l) => l.startsWith('iptables -w 5'))
    expect(listings.length).toBeGreaterThan(5)
    for (const l of listings) expect(l).toMatch(/ -v$/)
    expectCountsMatchTraffic(trace(dp))
  })

  it('whole dump (iptables-save -c): the counts match the traffic', async () => {
    const s = session()
    const dp = await readNodeDataplane(s, 'node1', plan({full: true}))
    expect(s.ran).toContain('iptables-save -c')
    expect(dp.captures.find((c) => c.kind === 'iptables-save')?.source).toBe('node1: iptables-save -c')
    expectCountsMatchTraffic(trace(dp))
  })

  it("a legacy node's filtered save (iptables-save -c -t TABLE | grep -E keepPattern) keeps the counted rules", async () => {
    const s = session()
    const steps = legacySteps(plan({}))
    const state = emptyTargeted()
    recordRound(state, await runBatch(s, steps, () => undefined), 'node1', steps)
    expect(s.ran).toEqual(['iptables-save -c -t nat', 'iptables-save -c -t filter'])
    const {text, source} = targetedCapture(state, 'node1', 1, [])
    expectCountsMatchTraffic(trace({name: 'node1', captures: [{kind: 'iptables-save', text, source}]}))
  })
})
