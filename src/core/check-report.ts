// Check mode (-A, -n NS) one Service at a time: its entries traced on every node, its checks, its
// verdict, then the next. What a Service's paths leave behind is its summary, its findings and each
// node's rule-walk tally; when the output is the summary table, the summary kept is without its
// backends, so the live set grows by little more than a row per Service. The report equals
// buildReport's for the same query, findings in the same order.
import {keyOf, type ClusterIndex} from './cluster-index.js'
import {serviceEntries} from './entries.js'
import type {AllQuery, Finding, NodeDataplane, NodeReport, Report, ServiceSummary, TracePath} from './model.js'
import {nodeReportOf, openNode, tracePaths} from './node-trace.js'
import {assembleReport, checkedServices, dedupe, summarize, withConntrack} from './report.js'
import {tallyRuleWalk, type RuleWalkTally} from './rule-walk.js'
import {finding} from './checks/catalog.js'
import {checkService} from './checks/service-checks.js'
import {traceChecks, type TraceCheckContext} from './checks/trace-checks.js'
import {conntrackStaleEndpoints} from './checks/conntrack-stale-endpoint.js'
import {findingsByService} from './verdict.js'

/** One Service of a check-mode report: its summary, its paths on each node, its findings. */
export interface ServicePart {
  service: ServiceSummary
  /**
   * Every node of the report with only this Service's paths (a node's read error stays on it); the
   * rule walk and conntrack summary are about the whole node, and are in the report's nodes.
   */
  nodes: NodeReport[]
  /** Findings about this Service; findings about a node or the cluster are in no part. */
  findings: Finding[]
}

export interface CheckModeOptions {
  /**
   * Keep every Service's paths and backends in the report (json, yaml, tree, graphs); without, the
   * nodes' paths and the services' backends stay empty (the summary table shows neither). Each part
   * yielded has them either way.
   */
  keepDetail: boolean
}

/**
 * The trace checks' findings, by check and then by the node each was first seen on: one run over
 * every Service lists them in that order (see TraceCheckRegistration), each node's share in
 * Service order.
 */
class TraceFindings {
  private readonly byCheck: Array<Map<string, Finding[]>>

  constructor(nodes: readonly string[]) {
    this.byCheck = traceChecks.map(() => new Map(nodes.map((n) => [n, []])))
  }

  /** Runs every trace check over one Service's share of the nodes; returns its findings in report order. */
  add(ctx: TraceCheckContext): Finding[] {
    const mine: Finding[] = []
    traceChecks.forEach((r, c) => {
      const file = (node: string, found: Finding[]) => {
        const byNode = this.byCheck[c]
        if (!byNode || found.length === 0) return
        const list = byNode.get(node)
        if (list) list.push(...found)
        else byNode.set(node, [...found])
        mine.push(...found)
      }
      if (r.scope === 'node') for (const n of ctx.nodes) file(n.name, r.check({...ctx, nodes: [n]}))
      if (r.scope === 'first-node') for (const s of r.sighted(ctx)) file(s.node, [s.finding])
    })
    return mine
  }

  /** Every finding in report order; the checks that read whole nodes run now, on the finished ones. */
  all(ctx: TraceCheckContext): Finding[] {
    return traceChecks.flatMap((r, c) => (r.scope === 'nodes' ? r.check(ctx) : [...(this.byCheck[c]?.values() ?? [])].flat()))
  }
}

/**
 * Check mode's report, built Service by Service: yields each Service's part as soon as it is
 * judged, and returns the report (buildReport's, with empty paths and backends unless `keepDetail`).
 */
export function* checkServiceByService(
  query: AllQuery,
  idx: ClusterIndex,
  dataplanes: NodeDataplane[],
  denied: string[],
  options: CheckModeOptions,
): Generator<ServicePart, Report, void> {
  const {view} = idx
  const source = query.source
  const head: Finding[] = denied.map((message) => finding('api-read-denied', {message}))
  const opened = dataplanes.map((dp) => openNode(idx, dp, head))
  const tallies: RuleWalkTally[] = opened.map(() => ({}))
  const kept: TracePath[][] = opened.map(() => [])
  const services = checkedServices(idx, query)
  // Node ports are traced on the nodes read only: a Service's entries for the cluster's other nodes
  // (thousands, for every NodePort Service) would be made and passed over by every node's trace.
  const read = new Set(opened.map((o) => o.dp.name))
  const readNodes = view.nodes.filter((n) => read.has(n.metadata?.name ?? ''))
  // Conntrack reads the dumps, not the paths: checked first, its findings listed last.
  const conntrack = conntrackStaleEndpoints(idx, services, dataplanes)
  const conntrackOf = findingsByService(conntrack.findings)
  const ctx = {idx, explicitSource: source !== undefined, ...(view.kubeProxy ? {kubeProxy: view.kubeProxy} : {})}
  const traceFindings = new TraceFindings(opened.map((o) => o.dp.name))
  const serviceFindings: Finding[] = []
  const summaries: ServiceSummary[] = []
  for (const svc of services) {
    const key = keyOf(svc)
    const entries = serviceEntries(svc, readNodes)
    const nodes = opened.map((o, i) => {
      const paths = tracePaths(idx, o, entries, source)
      // The next Service's traces walk other chains: this one's may go.
      o.plane.release()
      tallies[i] = tallyRuleWalk(tallies[i] ?? {}, paths)
      if (options.keepDetail) kept[i]?.push(...paths)
      return nodeReportOf(o, paths, {})
    })
    const traced = nodes.flatMap((n) => n.paths.map((path) => ({node: n.name, path})))
    const checked = checkService(svc, idx, {...(source !== undefined ? {source} : {}), traced})
    serviceFindings.push(...checked)
    const own = [...checked, ...traceFindings.add({...ctx, nodes}), ...(conntrackOf.get(key) ?? [])]
    const findings = findingsByService(dedupe(own)).get(key) ?? []
    const service = summarize(idx, svc, traced, findings)
    summaries.push(options.keepDetail ? service : {...service, backends: []})
    yield {service, nodes, findings}
  }
  const nodes = withConntrack(
    opened.map((o, i) => nodeReportOf(o, kept[i] ?? [], tallies[i] ?? {})),
    conntrack.summaries,
  )
  const findings = [...head, ...serviceFindings, ...traceFindings.all({...ctx, nodes}), ...conntrack.findings]
  return assembleReport({query, idx, dataplanes, services: summaries, nodes, findings: dedupe(findings)})
}

/** checkServiceByService run to its end: the report alone. */
export function checkReport(query: AllQuery, idx: ClusterIndex, dataplanes: NodeDataplane[], denied: string[], options: CheckModeOptions): Report {
  const run = checkServiceByService(query, idx, dataplanes, denied, options)
  for (;;) {
    const next = run.next()
    if (next.done) return next.value
  }
}
