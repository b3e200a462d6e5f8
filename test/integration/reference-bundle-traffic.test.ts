// Real-kernel replay of the reference bundle two-node-iptables-v1.26: build its cluster out of network
// namespaces (test/support/netns.ts), load each node's iptables-save dump into the real netfilter, make
// real TCP connections and check they do what expected.json recorded on the real cluster.
//
// Needs root, ip, iptables-restore/iptables-save. Elsewhere it is skipped with a printed reason, except
// with CI set, where that is a failure.
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cleanupLeftovers, normalizeIptablesSave, ownNamespaces, requireRoot, type ConnectResult, type Topology} from '../support/netns.js'
import {
  createBundleTopology,
  describeResult,
  loadReferenceBundle,
  replayEntry,
  replayableEntries,
  trafficResult,
  TWO_NODE_REQUIRED_ENTRIES,
  type ReplayableEntry,
} from '../support/netns-bundle.js'

const BUNDLE_DIR = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26', import.meta.url))
const bundle = loadReferenceBundle(BUNDLE_DIR)
const entries = replayableEntries(bundle)
const env = requireRoot([], 'reference-bundle-traffic')

describe.skipIf(env.skip)('two-node-iptables-v1.26 on a real kernel', () => {
  let topo: Topology | undefined
  const results = new Map<string, ConnectResult>()

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    topo = await createBundleTopology(bundle, {label: 'traffic'})
  })

  afterAll(async () => {
    const prefix = topo?.prefix
    await topo?.destroy()
    if (prefix) expect((await ownNamespaces()).filter((n) => n.startsWith(prefix))).toEqual([])
  })

  it('expected.json holds every required entry', () => {
    const ids = entries.map((e) => e.id)
    for (const id of TWO_NODE_REQUIRED_ENTRIES) expect(ids, id).toContain(id)
  })

  it.each(bundle.topology.nodes.map((n) => n.name))('%s: iptables-restore then iptables-save gives back the dump', async (node) => {
    const saved = normalizeIptablesSave(await topo!.saveRules(node))
    const original = normalizeIptablesSave(bundle.rules[node])
    const kube = (lines: string[]) => lines.filter((l) => /KUBE-/.test(l))
    expect(kube(original).length).toBeGreaterThan(50)
    expect(kube(saved)).toEqual(kube(original))
    expect(saved).toEqual(original)
  })

  it.each(entries.map((e) => [e.id, e] as [string, ReplayableEntry]))('%s', async (_id, entry) => {
    const r = await replayEntry(topo!, entry)
    results.set(entry.id, r)
    const msg = `${entry.id} (${entry.entry}): ${describeResult(r)}`
    if (process.env.SVCTRACE_NETNS_VERBOSE) console.log(msg)
    switch (entry.result) {
      case 'answered':
        expect(r.outcome, msg).toBe('answered')
        expect(r.answeredBy, msg).toEqual([...(entry.pods ?? [])].sort())
        break
      case 'one-of':
        // Session affinity: every connection from this client lands on the pod its first one drew.
        expect(r.outcome, msg).toBe('answered')
        expect(r.answeredBy, msg).toHaveLength(1)
        expect(entry.pods, msg).toContain(r.answeredBy[0])
        break
      default:
        expect(trafficResult(r), msg).toBe(entry.result)
    }
  })

  // Client-address claims made by expected.json's "why" notes, checked on the address the pods saw.
  const nodeAddresses = bundle.topology.nodes.flatMap((n) => [n.ip, ...(n.extraAddresses ?? [])])
  it.each([
    ['api/nodeport-node2@ext', 'eTP Local: no masquerade, client IP kept', ['172.30.0.100']],
    ['frontend/https@pod-api', 'pod source is not masqueraded', ['10.244.2.21']],
    ['api/nodeport-node1@pod-frontend', 'pod source is not masqueraded', ['10.244.1.11']],
    ['frontend/pod-ip-https@ext', 'routed to the pod, no NAT', ['172.30.0.100']],
    ['gateway/lb-ip@ext', 'KUBE-EXT masquerades (eTP Cluster)', 'node'],
    ['gateway/nodeport-node1@router', 'KUBE-EXT masquerades (eTP Cluster)', 'node'],
  ] as [string, string, string[] | 'node'][])('client address seen by the pods: %s (%s)', (id, _why, want) => {
    const r = results.get(id)
    expect(r, `${id} was not replayed`).toBeDefined()
    if (want === 'node') {
      expect(r!.peerIPs.length, describeResult(r!)).toBeGreaterThan(0)
      for (const ip of r!.peerIPs) expect(nodeAddresses, describeResult(r!)).toContain(ip)
    } else {
      expect(r!.peerIPs, describeResult(r!)).toEqual(want)
    }
  })
})
