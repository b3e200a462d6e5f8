// The use case behind the command: read through the ports, trace, leave out --ignore'd findings,
// keep a --capture, and decide the exit code. The command only translates flags and prints.
import {withoutFindings} from '../core/verdict.js'
import type {Query, Report} from '../core/model.js'
import {decideExit, nothingRead, type ExitDecision, type FailOn} from './exit-decision.js'
import type {CaptureSink, ClusterSource, NodeReader} from './ports.js'
import {servicePartsOf, type ServicePart} from './service-parts.js'
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
}

/** Where the run reads from, and where it keeps a copy of what it read (--capture). */
export interface TracePorts {
  cluster: ClusterSource
  reader: NodeReader
  capture?: CaptureSink
}

export interface TraceHooks {
  /**
   * Check mode (-A, -n NS): called once per Service, in report order, before runTrace returns.
   * Today the parts are cut from the finished report; a streaming renderer can print each part as
   * it comes, and keeps working when the parts arrive as each Service is traced.
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
  const read = await traceQuery(
    {
      query,
      nodes,
      fullDumps: ports.capture !== undefined,
      ...(settings.conntrack ? {conntrack: true} : {}),
      ...(settings.counters ? {counters: true} : {}),
      ...(hooks.interrupted ? {interrupted: hooks.interrupted} : {}),
    },
    ports.cluster,
    ports.reader,
  )
  // A bundle missing the nodes that did not answer would later read as nodes without rules.
  if (ports.capture && !read.report.partial) await ports.capture.write(read.view, read.dataplanes, {capturedFrom: ports.cluster.description, query})
  const report = withoutFindings(read.report, new Set(settings.ignore))
  if (query.kind === 'all' && hooks.onService) {
    for (const part of servicePartsOf(report)) await hooks.onService(part)
  }
  return {report, exit: decideExit(report.findings, settings.failOn, nothingRead(read.view, read.dataplanes))}
}
