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
//
// Needs root (see requireRoot) and a built CLI (npm run build). Outside CI a missing prerequisite skips
// with a printed reason; with CI set it fails.
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cleanupLeftovers, isCI, requireRoot, type ConnectResult, type Topology} from '../support/netns.js'
import {
  createBundleTopology,
  describeResult,
  entryClient,
  ipInCidr,
  loadReferenceBundle,
  replayEntry,
  replayableEntries,
  TWO_NODE_REQUIRED_ENTRIES,
  type EntryClient,
  type ReplayableEntry,
} from '../support/netns-bundle.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const CLI = join(REPO, 'bin', 'run.js')
const CLI_TARGET = join(REPO, 'dist', 'commands', 'svctrace.js')
const BUNDLE_DIR = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26', import.meta.url))

const bundle = loadReferenceBundle(BUNDLE_DIR)
const spec = bundle.topology
const env = requireRoot([], 'trace-matches-traffic')
const cliMissing = existsSync(CLI_TARGET) ? undefined : `the CLI is not built (${relative(REPO, CLI_TARGET)} is missing): run npm run build`
if (cliMissing && !env.skip && !isCI()) console.warn(`[trace-matches-traffic] SKIPPED: ${cliMissing} (set CI=1 to turn this into a failure)`)

// ---------------------------------------------------------------------------------------------------------
// The report as printed by `-o json` (svctrace/v1): only what this test reads.

interface BackendJson {
  ip: string
  port: number
  probability: number
  pod: string | null
  node: string | null
  chain: string
}

interface PathJson {
  entry: {address: string; kind: string; service?: string; port?: string}
  from: 'pod' | 'external' | 'node'
  source?: string
  verdict: 'dnat' | 'reject' | 'drop' | 'no-match' | 'not-a-service'
  hops: unknown[]
  backends: BackendJson[]
  masquerade: 'yes' | 'no' | 'maybe' | boolean
  /** ClientIP session affinity seen on the path. */
  affinity?: {timeoutSeconds: number}
  alternatives: {when: string[]; verdict: string; backends: BackendJson[]}[]
  notes: string[]
  uncertain: boolean
}

interface ReportJson {
  apiVersion: string
  nodes: {name: string; mode: string; readError?: string; paths: PathJson[]}[]
  findings: unknown[]
}

const reports = new Map<string, Promise<ReportJson>>()

/** Runs the CLI once per (service, source); a non-zero exit is fine as long as stdout is a report. */
function traceReport(service: string, source: string | undefined): Promise<ReportJson> {
  const key = `${service}|${source ?? ''}`
  let p = reports.get(key)
  if (!p) {
    const [namespace, name] = service.split('/')
    const args = [CLI, '--from', BUNDLE_DIR, name, '-n', namespace, '-o', 'json', ...(source ? ['--source', source] : [])]
    p = new Promise<ReportJson>((resolve, reject) => {
      execFile(
        process.execPath,
        args,
        {cwd: REPO, env: {...process.env, NO_COLOR: '1'}, timeout: 30_000, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024},
        (err, stdout, stderr) => {
          const cmd = `node ${relative(REPO, CLI)} ${args.slice(1).join(' ')}`
          try {
            const report = JSON.parse(String(stdout)) as ReportJson
            if (report.apiVersion !== 'svctrace/v1') throw new Error(`apiVersion ${report.apiVersion}`)
            resolve(report)
          } catch (parseErr) {
            reject(new Error(`${cmd} did not print a svctrace/v1 report (${err ? `exit ${err.code ?? err.signal}; ` : ''}${(parseErr as Error).message}):\n${String(stderr).slice(0, 2000)}\n${String(stdout).slice(0, 2000)}`))
          }
        },
      )
    })
    reports.set(key, p)
  }
  return p
}

// ---------------------------------------------------------------------------------------------------------
// Which entries, and which path of the report each one is compared with

const podCIDRs = spec.nodes.map((n) => n.podCIDR)
const isPodAddress = (ip: string) => podCIDRs.some((c) => ipInCidr(ip, c))

interface Case {
  entry: ReplayableEntry
  client: EntryClient & {enteringNode: string}
  /** The destination is a pod IP: no kube-proxy in the way, and svctrace need not list it. */
  podIP: boolean
}

const cases: Case[] = replayableEntries(bundle)
  .map((entry) => ({entry, client: entryClient(spec, entry), podIP: isPodAddress(entry.dst)}))
  // Entries that reach no node (ext -> ClusterIP: the router has no route) have no path to compare.
  .filter((c): c is Case => c.client.enteringNode !== undefined)

/**
 * --source for the CLI: the client address for PREROUTING-entered paths (pods, external clients). A node's
 * own connections carry a kernel-chosen source (node IP, 127.0.0.1, or the LB IP itself when dialling a
 * local LB IP), so those use the report's default node path.
 */
const sourceArg = (c: Case) => (c.client.kind === 'node' ? undefined : c.client.sourceIP)

function pickPaths(report: ReportJson, c: Case): {paths: PathJson[]; available: string[]} {
  const node = report.nodes.find((n) => n.name === c.client.enteringNode)
  const available = (node?.paths ?? []).map((p) => `${p.entry.address} from ${p.from}${p.source ? ` (${p.source})` : ''}: ${p.verdict}`)
  const address = `${c.entry.dst}:${c.entry.port}/TCP`
  const paths = (node?.paths ?? []).filter(
    (p) =>
      p.entry.address.toUpperCase() === address &&
      p.from === c.client.kind &&
      (c.client.kind === 'node' || !p.source || p.source === c.client.sourceIP),
  )
  return {paths, available}
}

const predictedPods = (p: PathJson) => [...new Set(p.backends.map((b) => b.pod).filter((x): x is string => x !== null))].sort()
const predictedAddresses = (p: PathJson) => [...new Set(p.backends.map((b) => `${b.ip}:${b.port}`))].sort()

/** The verdict the traffic implies. */
function verdictOf(r: ConnectResult, podIP: boolean): string {
  switch (r.outcome) {
    case 'answered':
    case 'silent':
      return podIP ? 'not-a-service' : 'dnat'
    case 'refused':
      return 'reject'
    case 'timeout':
      return 'drop'
    default:
      return `(traffic was ${r.outcome}: ${JSON.stringify(r.counts)})`
  }
}

describe.skipIf(env.skip || (cliMissing !== undefined && !isCI()))('svctrace predictions match real traffic (two-node-iptables-v1.26)', () => {
  let topo: Topology | undefined

  beforeAll(async () => {
    env.assert()
    if (cliMissing) throw new Error(`[trace-matches-traffic] ${cliMissing}`)
    await cleanupLeftovers()
    // Run the CLI for every (service, source), two at a time, while the namespaces are built (more would
    // starve the build on a small machine). A failure surfaces in the entries that need that report.
    const queue = [...new Set(cases.map((c) => `${c.entry.service}|${sourceArg(c) ?? ''}`))]
    const prefetch = async () => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        const [service, source] = k.split('|')
        await traceReport(service, source || undefined).catch(() => undefined)
      }
    }
    const prefetching = Promise.all([prefetch(), prefetch()])
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

  it.each(cases.map((c) => [c.entry.id, c] as [string, Case]))('%s', async (_id, c) => {
    const {entry, client} = c
    const report = await traceReport(entry.service, sourceArg(c))
    const nodeReport = report.nodes.find((n) => n.name === client.enteringNode)
    expect(nodeReport, `report has no node ${client.enteringNode}`).toBeDefined()
    expect(nodeReport!.readError, `${client.enteringNode} could not be read`).toBeUndefined()
    const {paths, available} = pickPaths(report, c)

    const traffic = await replayEntry(topo!, entry)
    const observed = describeResult(traffic)

    if (c.podIP && paths.length === 0) {
      // A pod address: svctrace need not list it. The traffic test already checks who answers.
      expect(traffic.outcome, observed).toBe('answered')
      return
    }
    const where = `${entry.dst}:${entry.port}/TCP from ${client.kind}${client.sourceIP ? ` ${client.sourceIP}` : ''} on ${client.enteringNode}`
    expect(paths, `${entry.id}: svctrace paths for ${where} (traffic: ${observed}); the report has:\n  ${available.join('\n  ')}`).toHaveLength(1)
    const path = paths[0]
    const msg = `${entry.id}: ${where}\n  traffic: ${observed}\n  svctrace: ${path.verdict} -> ${JSON.stringify(path.backends.map((b) => `${b.pod ?? '?'}@${b.ip}:${b.port}`))}, masquerade ${path.masquerade}${path.notes.length ? `\n  notes: ${path.notes.join(' | ')}` : ''}`

    // Verdict: dnat <=> answered (or silently accepted), reject <=> refused, drop <=> timeout.
    expect(path.verdict, msg).toBe(verdictOf(traffic, c.podIP))
    if (path.verdict !== 'dnat') return

    if (traffic.outcome === 'silent') {
      // Accepted by a non-pod server that says nothing (the apiserver): the backends must be such addresses.
      const silentHosts = (spec.hosts ?? []).filter((h) => h.mode === 'silent').flatMap((h) => (h.ports ?? []).map((p) => `${h.ip}:${p}`))
      expect(predictedPods(path), msg).toEqual([])
      for (const a of predictedAddresses(path)) expect(silentHosts, msg).toContain(a)
      return
    }

    if (entry.result === 'one-of' || path.affinity !== undefined) {
      // ClientIP affinity: one pod took every connection; it must be one the trace predicts.
      expect(traffic.answeredBy, msg).toHaveLength(1)
      expect(predictedPods(path), msg).toContain(traffic.answeredBy[0])
      for (const a of traffic.backends) expect(predictedAddresses(path), msg).toContain(a)
    } else {
      expect(predictedPods(path), msg).toEqual(traffic.answeredBy)
      expect(predictedAddresses(path), msg).toEqual(traffic.backends)
    }

    // Masquerade, where the client is not the node itself (a node's own address is what pods see anyway).
    if (client.kind !== 'node' && client.sourceIP && !traffic.answeredBy.includes(client.member)) {
      if (path.masquerade === 'no' || path.masquerade === false) {
        expect(traffic.peerIPs, `${msg}\n  masquerade "no": pods should see the client address`).toEqual([client.sourceIP])
      } else if (path.masquerade === 'yes' || path.masquerade === true) {
        expect(traffic.peerIPs, `${msg}\n  masquerade "yes": pods should not see the client address`).not.toContain(client.sourceIP)
      }
    }
  })
})
