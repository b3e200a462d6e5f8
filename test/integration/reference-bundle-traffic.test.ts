// Real-kernel replay of the reference bundle two-node-iptables-v1.26: build its cluster out of network
// namespaces (test/support/netns.ts), load each node's iptables-save dump into the real netfilter, make
// real TCP connections and check they do what expected.json recorded on the real cluster.
//
// Also (issue #2): each node's rules are read back from the kernel with the real iptables-save, written as a
// temporary bundle (same cluster.yaml, nodes/<node>/iptables-save.txt = the read-back text), and the built
// CLI must trace every Service with a cluster IP there exactly as it does on the original fixture (hop line
// numbers and rule text aside).
//
// Needs root, ip, iptables-restore/iptables-save (and the built CLI for the read-back trace). Elsewhere it is
// skipped with a printed reason, except with CI set, where that is a failure.
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cleanupLeftovers, isCI, normalizeIptablesSave, ownNamespaces, requireRoot, type ConnectResult, type Topology} from '../support/netns.js'
import {
  createBundleTopology,
  describeResult,
  expectTrafficMatchesEntry,
  loadReferenceBundle,
  replayEntry,
  replayableEntries,
  servicesWithClusterIP,
  TWO_NODE_REQUIRED_ENTRIES,
  writeTempBundle,
  type ReplayableEntry,
} from '../support/netns-bundle.js'
import {cliMissing, comparableReport, prefetchTraces, traceRun, type TraceQuery} from '../support/netns-trace.js'
import {defined} from '../support/defined.js'

const BUNDLE_DIR = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26', import.meta.url))
const bundle = loadReferenceBundle(BUNDLE_DIR)
const entries = replayableEntries(bundle)
const services = servicesWithClusterIP(bundle.objects)
const env = requireRoot([], 'reference-bundle-traffic')
const noCli = cliMissing()
if (noCli && !env.skip && !isCI()) {
  console.warn(`[reference-bundle-traffic] read-back trace SKIPPED: ${noCli} (set CI=1 to turn this into a failure)`)
}

describe.skipIf(env.skip)('two-node-iptables-v1.26 on a real kernel', () => {
  let topo: Topology | undefined
  const results = new Map<string, ConnectResult>()
  /** Node -> what iptables-save printed right after iptables-restore loaded the fixture's dump. */
  const readBack = new Map<string, string>()
  let readBackBundle: Promise<{dir: string; remove: () => void}> | undefined
  let prefetchingOriginal: Promise<void> = Promise.resolve()
  const query = (bundleDir: string, service: string): TraceQuery => ({bundleDir, service})

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    // Trace the original fixture while the namespaces are built (the read-back trace compares with it).
    if (!noCli) prefetchingOriginal = prefetchTraces(services.map((s) => query(BUNDLE_DIR, s)))
    topo = await createBundleTopology(bundle, {label: 'traffic'})
    await prefetchingOriginal
  })

  afterAll(async () => {
    const prefix = topo?.prefix
    try {
      await topo?.destroy()
    } finally {
      ;(await readBackBundle?.catch(() => undefined))?.remove()
    }
    if (prefix) expect((await ownNamespaces()).filter((n) => n.startsWith(prefix))).toEqual([])
  })

  it('expected.json holds every required entry', () => {
    const ids = entries.map((e) => e.id)
    for (const id of TWO_NODE_REQUIRED_ENTRIES) expect(ids, id).toContain(id)
  })

  it.each(bundle.topology.nodes.map((n) => n.name))('%s: iptables-restore then iptables-save gives back the dump', async (node) => {
    const text = await topo!.saveRules(node)
    readBack.set(node, text)
    const saved = normalizeIptablesSave(text)
    const original = normalizeIptablesSave(defined(bundle.rules[node], `the bundle's rules of ${node}`))
    const kube = (lines: string[]) => lines.filter((l) => /KUBE-/.test(l))
    expect(kube(original).length).toBeGreaterThan(50)
    expect(kube(saved)).toEqual(kube(original))
    expect(saved).toEqual(original)
  })

  /** The read-back bundle, written once (reading back any node the test above did not reach). */
  function readBackDir(): Promise<{dir: string; remove: () => void}> {
    readBackBundle ??= (async () => {
      const rules: Record<string, string> = {}
      for (const n of bundle.topology.nodes) rules[n.name] = readBack.get(n.name) ?? (await topo!.saveRules(n.name))
      const tmp = writeTempBundle(BUNDLE_DIR, rules)
      void prefetchTraces(services.map((s) => query(tmp.dir, s)))
      return tmp
    })()
    return readBackBundle
  }

  it('the read-back trace covers every Service with a cluster IP, and only those', () => {
    for (const s of ['default/kubernetes', 'storefront/api', 'storefront/frontend', 'storefront/gateway', 'storefront/sessions']) {
      expect(services).toContain(s)
    }
    expect(services).not.toContain('storefront/ledger') // headless
    expect(services).not.toContain('storefront/billing') // ExternalName
  })

  it.skipIf(noCli !== undefined && !isCI()).each(services)('%s: the read-back dump traces like the original', async (service) => {
    if (noCli) throw new Error(`[reference-bundle-traffic] ${noCli}`)
    const tmp = await readBackDir()
    const [original, readback] = await Promise.all([traceRun(query(BUNDLE_DIR, service)), traceRun(query(tmp.dir, service))])
    const msg = `${readback.command}\n  vs ${original.command}`
    const paths = original.report.nodes.flatMap((n) => n.paths)
    expect(paths.length, `${original.command} traced no path`).toBeGreaterThan(0)
    for (const r of [original, readback]) {
      expect(
        r.report.nodes.map((n) => n.name),
        r.command,
      ).toEqual(bundle.topology.nodes.map((n) => n.name))
      for (const n of r.report.nodes) expect(n.readError, `${r.command}: ${n.name}`).toBeUndefined()
    }
    expect(comparableReport(readback.report), msg).toEqual(comparableReport(original.report))
    expect(readback.exitCode, msg).toBe(original.exitCode)
  })

  it.each(entries.map((e) => [e.id, e] as [string, ReplayableEntry]))('%s', async (_id, entry) => {
    const r = await replayEntry(topo!, entry)
    results.set(entry.id, r)
    if (process.env.SVCTRACE_NETNS_VERBOSE) console.log(`${entry.id} (${entry.entry}): ${describeResult(r)}`)
    expectTrafficMatchesEntry(entry, r)
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
