// svctrace's predictions vs what the real kernel does with the same rules.
//
// For every expected.json entry of the reference bundle that enters a node, this runs the built CLI
//   node bin/run.js --from <bundle> <service> -n <namespace> -o json [--source <client IP>]
// picks the path for (node the packet enters, dst:port/TCP, from node|pod|external), replays the entry with
// real TCP connections in the netns topology (test/support/netns.ts), and asserts:
//   verdict dnat   <=> the connections were answered (or accepted silently), and the predicted backends
//                      (pods and ip:port) are exactly the ones that answered (session affinity: the one pod
//                      that answered is among them);
//   verdict reject <=> refused;  verdict drop <=> timed out;
//   masquerade yes/no <=> the pods saw a node address / the client's own address (pod and external clients).
// (The comparison lives in test/support/netns-trace.ts; example-traffic.test.ts does the same for the
// bundled example.)
//
// Needs root (see requireRoot) and a built CLI (npm run build). Outside CI a missing prerequisite skips
// with a printed reason; with CI set it fails.
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cleanupLeftovers, isCI, requireRoot, type Topology} from '../support/netns.js'
import {createBundleTopology, loadReferenceBundle, replayEntry, replayableEntries, TWO_NODE_REQUIRED_ENTRIES} from '../support/netns-bundle.js'
import {
  cliMissing,
  expectPredictionMatchesTraffic,
  predictionCases,
  prefetchTraces,
  traceQuery,
  traceReport,
  type PredictionCase,
} from '../support/netns-trace.js'

const BUNDLE_DIR = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26', import.meta.url))

const bundle = loadReferenceBundle(BUNDLE_DIR)
const spec = bundle.topology
const env = requireRoot([], 'trace-matches-traffic')
const noCli = cliMissing()
if (noCli && !env.skip && !isCI()) console.warn(`[trace-matches-traffic] SKIPPED: ${noCli} (set CI=1 to turn this into a failure)`)

const cases = predictionCases(spec, replayableEntries(bundle))

describe.skipIf(env.skip || (noCli !== undefined && !isCI()))('svctrace predictions match real traffic (two-node-iptables-v1.26)', () => {
  let topo: Topology | undefined

  beforeAll(async () => {
    env.assert()
    if (noCli) throw new Error(`[trace-matches-traffic] ${noCli}`)
    await cleanupLeftovers()
    // Run the CLI for every (service, source) while the namespaces are built. A failure surfaces in the
    // entries that need that report.
    const prefetching = prefetchTraces(cases.map((c) => traceQuery(BUNDLE_DIR, c)))
    topo = await createBundleTopology(bundle, {label: 'trace'})
    await prefetching
  })

  afterAll(async () => {
    await topo?.destroy()
  })

  it('covers the entry kinds that matter', () => {
    const ids = cases.map((c) => c.entry.id)
    for (const id of TWO_NODE_REQUIRED_ENTRIES) {
      expect(ids).toContain(id)
    }
  })

  it.each(cases.map((c) => [c.entry.id, c] as [string, PredictionCase]))('%s', async (_id, c) => {
    const report = await traceReport(traceQuery(BUNDLE_DIR, c))
    const traffic = await replayEntry(topo!, c.entry)
    expectPredictionMatchesTraffic(spec, c, report, traffic)
  })
})
