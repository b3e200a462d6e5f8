// The use case behind the command: read through the ports, trace, leave out --ignore'd findings,
// keep a --capture, and decide the exit code. The command only translates flags and prints.
import {rejudged, withoutFindings} from '../core/verdict.js'
import type {Query, Report} from '../core/model.js'
import {decideExit, nothingRead, type ExitDecision, type FailOn} from './exit-decision.js'
import type {CaptureSink, ClusterSource, NodeReader} from './ports.js'
import type {ServicePart} from '../core/check-report.js'
import {traceQuery} from './trace.js'

/** What to trace and how to judge it: the command's flags, typed. */
export interface TraceSettings {
  query: Query
  /** Only these nodes (empty: every node the reader can reach). */
  nodes: string[]
  /** Exit 1 when a finding at or above this severity remains. */
  failOn: FailOn
  /** Finding ids to leave out of the report (and so out of the exit decision). */
  ignore: string[]
  /** Also read the nodes' conntrack entries for the traced addresses (--conntrack). */
  conntrack?: boolean
  /** Read the node's rules with their traffic counters (--counters). */
  counters?: boolean
  /**
   * Check mode: the output shows only the summary table (its verdicts, findings and rule walks, no
   * path or backend), so each Service's paths and backends are let go once it is judged and the
   * report holds none.
   */
  summaryOnly?: boolean
}

/** Where the run reads from, and where it keeps a copy of what it read (--capture). */
export interface TracePorts {
  cluster: ClusterSource
  reader: NodeReader
  capture?: CaptureSink
}

export interface TraceHooks {
  /**
   * Check mode (-A, -n NS): called once per Service, in report order, as soon as the Service is
   * traced and judged (--ignore applied), and awaited before the next is traced: a streaming
   * renderer can print each part as it comes.
   */
  onService?: (part: ServicePart) => void | Promise<void>
  /** Settles when the user interrupts the run: the report then holds what was read by then (`partial`). */
  interrupted?: Promise<void>
}

/** The report as printed, and the exit code it earns. */
export interface TraceOutcome {
  report: Report
  exit: ExitDecision
}

/** Reads, traces and judges one query; throws SourceError or QueryError when nothing can be answered. */
export async function runTrace(settings: TraceSettings, ports: TracePorts, hooks: TraceHooks = {}): Promise<TraceOutcome> {
  const {query, nodes} = settings
  const ignored = new Set(settings.ignore)
  const {onService} = hooks
  const read = await traceQuery(
    {
      query,
      nodes,
      fullDumps: ports.capture !== undefined,
      ...(settings.conntrack ? {conntrack: true} : {}),
      ...(settings.counters ? {counters: true} : {}),
      ...(hooks.interrupted ? {interrupted: hooks.interrupted} : {}),
      ...(settings.summaryOnly ? {summaryOnly: true} : {}),
      ...(onService ? {onService: (part: ServicePart) => onService(partWithout(part, ignored))} : {}),
    },
    ports.cluster,
    ports.reader,
  )
  // A bundle missing the nodes that did not answer would later read as nodes without rules.
  if (ports.capture && !read.report.partial) await ports.capture.write(read.view, read.dataplanes, {capturedFrom: ports.cluster.description, query})
  const report = withoutFindings(read.report, ignored)
  return {report, exit: decideExit(report.findings, settings.failOn, nothingRead(read.view, read.dataplanes))}
}

/** A Service's part without the findings of the given ids (--ignore), its verdict judged again without them. */
function partWithout(part: ServicePart, ids: ReadonlySet<string>): ServicePart {
  if (ids.size === 0) return part
  const findings = part.findings.filter((f) => !ids.has(f.id))
  return {...part, service: {...part.service, verdict: rejudged(part.service.verdict, findings)}, findings}
}
