// The built CLI's predictions, for the real-kernel tests: runs
//   node bin/run.js --from <bundle> <service> -n <namespace> -o json [--source <client IP>]
// (cached per bundle, Service and source), picks the path a replayed entry takes, and compares the prediction
// with what the kernel did with the same rules (test/support/netns.ts, test/support/netns-bundle.ts):
//   verdict dnat   <=> the connections were answered (or accepted silently), and the predicted backends
//                      (pods and ip:port) are exactly the ones that answered (session affinity: the one pod
//                      that answered is among them);
//   verdict reject <=> refused;  verdict drop <=> timed out;
//   masquerade yes/no <=> the pods saw a node address / the client's own address (pod and external clients).
// Shared by test/integration/trace-matches-traffic.test.ts, example-traffic.test.ts and
// reference-bundle-traffic.test.ts (tracing the dump read back from the kernel).
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'vitest'
import {only} from './defined.js'
import type {ConnectResult, TopologySpec} from './netns.js'
import {describeResult, entryClient, ipInCidr, type EntryClient, type ReplayableEntry} from './netns-bundle.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const CLI = join(REPO, 'bin', 'run.js')
const CLI_TARGET = join(REPO, 'dist', 'commands', 'svctrace.js')

/** Why the CLI cannot run (not built); undefined when it can. */
export function cliMissing(): string | undefined {
  return existsSync(CLI_TARGET) ? undefined : `the CLI is not built (${relative(REPO, CLI_TARGET)} is missing): run npm run build`
}

// ---------------------------------------------------------------------------------------------------------
// The report as printed by `-o json` (svctrace/v2): only what these tests read.

export interface BackendJson {
  ip: string
  port: number
  probability: number
  pod: string | null
  node: string | null
  chain: string
}

export interface HopJson {
  table: string
  chain: string
  rule: string
  line: number
}

export interface PathJson {
  entry: {
    address: string
    destination: {ip: string; port?: number; protocol: string}
    kind: string
    service?: string
    servicePort?: {name: string; port: number}
  }
  from: 'pod' | 'external' | 'node'
  source?: string
  verdict: 'dnat' | 'reject' | 'drop' | 'no-match' | 'not-a-service'
  hops: HopJson[]
  backends: BackendJson[]
  masquerade: 'yes' | 'no' | 'maybe' | boolean
  /** ClientIP session affinity seen on the path. */
  affinity?: {timeoutSeconds: number}
  alternatives: {when: string[]; verdict: string; backends: BackendJson[]}[]
  notes: Array<{kind: string; text: string}>
  uncertain: boolean
}

export interface FindingJson {
  id: string
  severity: string
  message: string
  service?: string
  node?: string
  evidence?: unknown[]
}

export interface ReportJson {
  apiVersion: string
  nodes: {name: string; mode: string; readError?: string; paths: PathJson[]}[]
  findings: FindingJson[]
}

export interface TraceQuery {
  /** The bundle directory given to --from. */
  bundleDir: string
  /** "namespace/name". */
  service: string
  /** --source, when given. */
  source?: string
}

export interface TraceRun {
  report: ReportJson
  exitCode: number
  /** The command line, relative to the repository, for messages. */
  command: string
}

const runs = new Map<string, Promise<TraceRun>>()

/** Runs the CLI once per query; a non-zero exit is fine as long as stdout is a svctrace/v2 report. */
export function traceRun(q: TraceQuery): Promise<TraceRun> {
  const key = `${q.bundleDir}|${q.service}|${q.source ?? ''}`
  let p = runs.get(key)
  if (!p) {
    const [namespace = '', name] = q.service.split('/')
    if (name === undefined) throw new Error(`service "${q.service}": expected namespace/name`)
    const args = [CLI, '--from', q.bundleDir, name, '-n', namespace, '-o', 'json', ...(q.source ? ['--source', q.source] : [])]
    const command = `node ${relative(REPO, CLI)} ${args
      .slice(1)
      .map((a) => (a.startsWith(REPO) ? relative(REPO, a) || '.' : a))
      .join(' ')}`
    p = new Promise<TraceRun>((resolve, reject) => {
      execFile(
        process.execPath,
        args,
        {cwd: REPO, env: {...process.env, NO_COLOR: '1'}, timeout: 30_000, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024},
        (err, stdout, stderr) => {
          try {
            const report = JSON.parse(String(stdout)) as ReportJson
            if (report.apiVersion !== 'svctrace/v2') throw new Error(`apiVersion ${report.apiVersion}`)
            const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
            resolve({report, exitCode: code, command})
          } catch (parseErr) {
            reject(
              new Error(
                `${command} did not print a svctrace/v2 report (${err ? `exit ${err.code ?? err.signal}; ` : ''}${(parseErr as Error).message}):\n${String(stderr).slice(0, 2000)}\n${String(stdout).slice(0, 2000)}`,
              ),
            )
          }
        },
      )
    })
    runs.set(key, p)
  }
  return p
}

export async function traceReport(q: TraceQuery): Promise<ReportJson> {
  return (await traceRun(q)).report
}

/**
 * Runs the CLI for every query, `concurrency` at a time (more would starve a namespace build running at the
 * same time on a small machine). Failures are left for whoever awaits that query.
 */
export async function prefetchTraces(queries: TraceQuery[], concurrency = 2): Promise<void> {
  const queue = [...queries]
  const worker = async () => {
    for (let q = queue.shift(); q !== undefined; q = queue.shift()) await traceRun(q).catch(() => undefined)
  }
  await Promise.all(Array.from({length: concurrency}, () => worker()))
}

// ---------------------------------------------------------------------------------------------------------
// Which path of the report a replayed entry is compared with

export interface PredictionCase {
  entry: ReplayableEntry
  client: EntryClient & {enteringNode: string}
  /** The destination is a pod IP: no kube-proxy in the way, and svctrace need not list it. */
  podIP: boolean
}

/** The entries that enter a node (ext -> ClusterIP, which the router cannot route, has no path to compare). */
export function predictionCases(spec: TopologySpec, entries: ReplayableEntry[]): PredictionCase[] {
  const isPodAddress = (ip: string) => spec.nodes.some((n) => ipInCidr(ip, n.podCIDR))
  return entries
    .map((entry) => ({entry, client: entryClient(spec, entry), podIP: isPodAddress(entry.dst)}))
    .filter((c): c is PredictionCase => c.client.enteringNode !== undefined)
}

/**
 * --source for the CLI: the client address for PREROUTING-entered paths (pods, external clients). A node's
 * own connections carry a kernel-chosen source (node IP, 127.0.0.1, or the LB IP itself when dialling a
 * local LB IP), so those use the report's default node path.
 */
function sourceArg(c: PredictionCase): string | undefined {
  return c.client.kind === 'node' ? undefined : c.client.sourceIP
}

export function traceQuery(bundleDir: string, c: PredictionCase): TraceQuery {
  const source = sourceArg(c)
  return {bundleDir, service: c.entry.service, ...(source !== undefined ? {source} : {})}
}

function pickPaths(report: ReportJson, c: PredictionCase): {paths: PathJson[]; available: string[]} {
  const node = report.nodes.find((n) => n.name === c.client.enteringNode)
  const available = (node?.paths ?? []).map((p) => `${p.entry.address} from ${p.from}${p.source ? ` (${p.source})` : ''}: ${p.verdict}`)
  const address = `${c.entry.dst}:${c.entry.port}/TCP`
  const paths = (node?.paths ?? []).filter(
    (p) => p.entry.address.toUpperCase() === address && p.from === c.client.kind && (c.client.kind === 'node' || !p.source || p.source === c.client.sourceIP),
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

/**
 * Asserts that the CLI's path for the case (node it enters, dst:port/TCP, from node|pod|external) predicts
 * what the traffic did: verdict, backends, masquerade (see the header).
 */
export function expectPredictionMatchesTraffic(spec: TopologySpec, c: PredictionCase, report: ReportJson, traffic: ConnectResult): void {
  const {entry, client} = c
  const nodeReport = report.nodes.find((n) => n.name === client.enteringNode)
  expect(nodeReport, `report has no node ${client.enteringNode}`).toBeDefined()
  expect(nodeReport!.readError, `${client.enteringNode} could not be read`).toBeUndefined()
  const {paths, available} = pickPaths(report, c)
  const observed = describeResult(traffic)

  if (c.podIP && paths.length === 0) {
    // A pod address: svctrace need not list it. The traffic tests already check who answers.
    expect(traffic.outcome, observed).toBe('answered')
    return
  }
  const where = `${entry.dst}:${entry.port}/TCP from ${client.kind}${client.sourceIP ? ` ${client.sourceIP}` : ''} on ${client.enteringNode}`
  expect(paths, `${entry.id}: svctrace paths for ${where} (traffic: ${observed}); the report has:\n  ${available.join('\n  ')}`).toHaveLength(1)
  const path = only(paths, 'svctrace path')
  const msg = `${entry.id}: ${where}\n  traffic: ${observed}\n  svctrace: ${path.verdict} -> ${JSON.stringify(path.backends.map((b) => `${b.pod ?? '?'}@${b.ip}:${b.port}`))}, masquerade ${path.masquerade}${path.notes.length ? `\n  notes: ${path.notes.map((n) => n.text).join(' | ')}` : ''}`

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
}

// ---------------------------------------------------------------------------------------------------------
// Comparing two reports of the same cluster traced from different dumps of the same rules

/**
 * A report without what may legitimately differ between two dumps of the same rules (a dump read back with
 * another iptables-save): hop line numbers and rule text, finding evidence (rule text). Kept: per node its
 * mode and read error, and per path the entry, from, source, verdict, the hops' table/chain sequence,
 * backends (ip, port, probability, pod, node, chain), masquerade, affinity, alternatives, notes, uncertain;
 * the findings' id, severity, service, node and message.
 */
export function comparableReport(report: ReportJson): unknown {
  const backends = (bs: BackendJson[]) => bs.map((b) => ({ip: b.ip, port: b.port, probability: b.probability, pod: b.pod, node: b.node, chain: b.chain}))
  return {
    nodes: report.nodes.map((n) => ({
      name: n.name,
      mode: n.mode,
      readError: n.readError,
      paths: n.paths.map((p) => ({
        entry: p.entry,
        from: p.from,
        // A live one-Service read lists only the Service's pods, a bundle every pod: the pod standing in
        // as the client may differ (never one of the backends), what happens to its packet may not.
        source: p.from === 'pod' ? undefined : p.source,
        verdict: p.verdict,
        hops: p.hops.map((h) => `${h.table} ${h.chain}`),
        backends: backends(p.backends),
        masquerade: p.masquerade,
        affinity: p.affinity,
        alternatives: p.alternatives.map((a) => ({when: a.when, verdict: a.verdict, backends: backends(a.backends)})),
        notes: p.notes,
        uncertain: p.uncertain,
      })),
    })),
    findings: report.findings.map((f) => ({id: f.id, severity: f.severity, service: f.service, node: f.node, message: f.message})),
  }
}
