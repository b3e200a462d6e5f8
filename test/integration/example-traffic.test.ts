// The bundled example (examples/hello-world) under real traffic: its cluster is built out of network namespaces
// from cluster.yaml alone (it has no expected.json; see topologyFromCluster in test/support/netns-bundle.ts),
// each node's dump is loaded with the real iptables-restore, and for every entry below
//   - the real TCP connections do what examples/hello-world/README.md says (who answers, refused, dropped), and
//   - the built CLI's prediction for that path (node bin/run.js --from examples/hello-world SERVICE -o json
//     [--source CLIENT]) matches what the kernel did: same answering pods, reject <=> refused,
//     drop <=> timeout, masquerade (see test/support/netns-trace.ts).
//
// Topology: node-a 192.168.49.2 (pods 10.244.0.0/24, holds the LoadBalancer IP 192.168.49.240), node-b
// 192.168.49.3 (pods 10.244.1.0/24), a pod namespace per Pod with its container ports, and a router
// 192.168.49.1 that is also the gateway of two outside clients: 203.0.113.10 (inside web-lb's
// loadBalancerSourceRanges 203.0.113.0/24) and 198.51.100.20 (outside them).
//
// Needs root and a built CLI; outside CI a missing prerequisite skips with a printed reason, with CI it fails.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {example} from '../support/cli.js'
import {cleanupLeftovers, isCI, ownNamespaces, requireRoot, type Topology} from '../support/netns.js'
import {clusterPods, createBundleTopology, expectTrafficMatchesEntry, loadBundle, replayEntry, type ReplayableEntry} from '../support/netns-bundle.js'
import {
  cliMissing,
  expectPredictionMatchesTraffic,
  predictionCases,
  prefetchTraces,
  traceQuery,
  traceReport,
  type PredictionCase,
} from '../support/netns-trace.js'

const IN_RANGE = {name: 'client-in-range', ip: '203.0.113.10', subnet: '203.0.113.0/24'}
const OUTSIDE = {name: 'client-outside', ip: '198.51.100.20', subnet: '198.51.100.0/24'}

const bundle = loadBundle(example, {
  router: {name: 'router', ip: '192.168.49.1', extraAddresses: ['203.0.113.1/24', '198.51.100.1/24']},
  hosts: [IN_RANGE, OUTSIDE],
  lbNode: 'node-a',
})
const spec = bundle.topology

// What examples/hello-world/README.md says each entry point does.
const HELLO_WORLD = ['default/hello-world-6d4cf56db6-7xkqz', 'default/hello-world-6d4cf56db6-m2wbr', 'default/hello-world-6d4cf56db6-t9h5n']
const WEB = ['default/web-5b8f7c9d4-hk2vz', 'default/web-5b8f7c9d4-pq6ms']
const entry = (e: Omit<ReplayableEntry, 'entry'> & {entry?: string}): ReplayableEntry => ({entry: `${e.dst}:${e.port}`, ...e})
const ENTRIES: ReplayableEntry[] = [
  entry({
    id: 'hello-world/cluster-ip@node-a',
    service: 'default/hello-world',
    from: 'node-a',
    dst: '10.96.77.44',
    port: 80,
    result: 'answered',
    pods: HELLO_WORLD,
  }),
  entry({
    id: 'hello-world/cluster-ip@node-b',
    service: 'default/hello-world',
    from: 'node-b',
    dst: '10.96.77.44',
    port: 80,
    result: 'answered',
    pods: HELLO_WORLD,
  }),
  entry({
    id: 'hello-world/cluster-ip@pod-redis-1',
    service: 'default/hello-world',
    from: 'default/redis-1',
    dst: '10.96.77.44',
    port: 80,
    result: 'answered',
    pods: HELLO_WORLD,
  }),
  entry({
    id: 'hello-world/nodeport-node-a@client-in-range',
    service: 'default/hello-world',
    from: IN_RANGE.name,
    dst: '192.168.49.2',
    port: 30080,
    result: 'answered',
    pods: HELLO_WORLD,
  }),
  entry({
    id: 'hello-world/nodeport-node-b@client-in-range',
    service: 'default/hello-world',
    from: IN_RANGE.name,
    dst: '192.168.49.3',
    port: 30080,
    result: 'answered',
    pods: HELLO_WORLD,
  }),
  entry({
    id: 'hello-cache/cluster-ip@node-a',
    service: 'default/hello-cache',
    from: 'node-a',
    dst: '10.96.120.7',
    port: 6379,
    result: 'refused',
    why: 'no endpoints: filter KUBE-SERVICES REJECT',
  }),
  entry({
    id: 'hello-cache/cluster-ip@pod-hello-world-t9h5n',
    service: 'default/hello-cache',
    from: 'default/hello-world-6d4cf56db6-t9h5n',
    dst: '10.96.120.7',
    port: 6379,
    result: 'refused',
  }),
  // The redis pods themselves listen: the refusal above is the REJECT rule, not a missing server.
  entry({
    id: 'hello-cache/pod-ip-redis-1@node-a',
    service: 'default/hello-cache',
    from: 'node-a',
    dst: '10.244.1.4',
    port: 6379,
    result: 'answered',
    pods: ['default/redis-1'],
  }),
  entry({id: 'web-lb/lb-ip@client-in-range', service: 'default/web-lb', from: IN_RANGE.name, dst: '192.168.49.240', port: 443, result: 'answered', pods: WEB}),
  entry({
    id: 'web-lb/lb-ip@client-outside',
    service: 'default/web-lb',
    from: OUTSIDE.name,
    dst: '192.168.49.240',
    port: 443,
    result: 'timeout',
    why: 'not in loadBalancerSourceRanges: KUBE-FW falls through, filter KUBE-PROXY-FIREWALL drops',
  }),
  // The same client through the NodePort, which the ranges do not guard (and proof its packets get through).
  entry({
    id: 'web-lb/nodeport-node-b@client-outside',
    service: 'default/web-lb',
    from: OUTSIDE.name,
    dst: '192.168.49.3',
    port: 31443,
    result: 'answered',
    pods: WEB,
  }),
]

const env = requireRoot([], 'example-traffic')
const noCli = cliMissing()
if (noCli && !env.skip && !isCI()) console.warn(`[example-traffic] SKIPPED: ${noCli} (set CI=1 to turn this into a failure)`)

const cases = predictionCases(spec, ENTRIES)

describe('examples/hello-world topology from cluster.yaml', () => {
  it('has both nodes, their pod CIDRs, the LB IP on node-a, and every pod with its container ports', () => {
    expect(spec.lanCIDR).toBe('192.168.49.0/24')
    expect(spec.nodes.map((n) => [n.name, n.ip, n.podCIDR, n.extraAddresses])).toEqual([
      ['node-a', '192.168.49.2', '10.244.0.0/24', ['192.168.49.240']],
      ['node-b', '192.168.49.3', '10.244.1.0/24', []],
    ])
    expect(spec.pods.map((p) => p.name).sort()).toEqual([...HELLO_WORLD, 'default/redis-0', 'default/redis-1', ...WEB].sort())
    // A pod without container ports would have no responder: cluster.yaml must list them.
    for (const p of clusterPods(bundle.objects)) expect(p.ports, `${p.name} has no TCP container port in cluster.yaml`).not.toEqual([])
    expect(Object.keys(bundle.rules).sort()).toEqual(['node-a', 'node-b'])
  })

  it('every entry enters a node', () => {
    expect(cases.map((c) => c.entry.id)).toEqual(ENTRIES.map((e) => e.id))
  })
})

describe.skipIf(env.skip || (noCli !== undefined && !isCI()))('examples/hello-world on a real kernel: traffic vs README vs svctrace', () => {
  let topo: Topology | undefined

  beforeAll(async () => {
    env.assert()
    if (noCli) throw new Error(`[example-traffic] ${noCli}`)
    await cleanupLeftovers()
    const prefetching = prefetchTraces(cases.map((c) => traceQuery(example, c)))
    topo = await createBundleTopology(bundle, {label: 'example'})
    await prefetching
  })

  afterAll(async () => {
    const prefix = topo?.prefix
    await topo?.destroy()
    if (prefix) expect((await ownNamespaces()).filter((n) => n.startsWith(prefix))).toEqual([])
  })

  it.each(cases.map((c) => [c.entry.id, c] as [string, PredictionCase]))('%s', async (_id, c) => {
    const report = await traceReport(traceQuery(example, c))
    const traffic = await replayEntry(topo!, c.entry)
    if (process.env.SVCTRACE_NETNS_VERBOSE) console.log(`${c.entry.id}: ${traffic.outcome} ${traffic.answeredBy.join(',')} peers ${traffic.peerIPs.join(',')}`)
    expectTrafficMatchesEntry(c.entry, traffic)
    expectPredictionMatchesTraffic(spec, c, report, traffic)
  })
})
