// Gather the API objects and node data planes, trace, return the report and what was read (run-trace.ts judges it).
import type {ClusterView, NodeDataplane, Query, Report} from '../core/model.js'
import {indexCluster} from '../core/cluster-index.js'
import {reportFromIndex} from '../core/report.js'
import {checkServiceByService, type ServicePart} from '../core/check-report.js'
import {planCollection} from '../core/collection-plan.js'
import {interruptedNode} from '../core/captures.js'
import {DumpError} from '../core/iptables/dump.js'
import {SourceError, type ClusterSource, type NodeReader} from './ports.js'

export interface TraceConfig {
  query: Query
  /** Only these nodes (empty: every node the reader can reach). */
  nodes: string[]
  /** Read whole dumps even for a single Service (--capture). */
  fullDumps?: boolean
  /** Read the nodes' connection-tracking entries for the traced addresses too (--conntrack). */
  conntrack?: boolean
  /** Read the rules with their traffic counters (--counters). */
  counters?: boolean
  /**
   * Settles when the user interrupts the run (Ctrl-C, SIGTERM): nodes that have not answered by then
   * are reported as interrupted, and the report is built from what the others showed.
   */
  interrupted?: Promise<void>
  /** Check mode: the output shows only the summary, so each Service's paths and backends go once it is judged (none in the report). */
  summaryOnly?: boolean
  /** Check mode: called with each Service's part as soon as it is judged, in report order; awaited before the next. */
  onService?: (part: ServicePart) => void | Promise<void>
}

/** The run was interrupted before the API objects were read: there is nothing to report. */
export class InterruptedError extends Error {}

/** `work`, or `late(…)` if the interruption comes first. */
function unlessInterrupted<T>(work: Promise<T>, interrupted: Promise<void> | undefined, late: () => T): Promise<T> {
  return interrupted ? Promise.race([work, interrupted.then(late)]) : work
}

/** The report, and what was read to make it (for --capture). */
export interface TraceResult {
  report: Report
  view: ClusterView
  dataplanes: NodeDataplane[]
}

/** Reads what the query needs and traces it; throws SourceError or QueryError when nothing can be answered. */
export async function traceQuery(config: TraceConfig, cluster: ClusterSource, reader: NodeReader): Promise<TraceResult> {
  const query: Query =
    config.query.kind === 'service' && !config.query.namespace ? {...config.query, namespace: await cluster.defaultNamespace()} : config.query
  const stop = config.interrupted
  // Once interrupted, the API requests still out would only hold the process until they time out.
  void stop?.then(() => cluster.abort?.())
  const nothingRead = (): never => {
    throw new InterruptedError('interrupted before the API server answered: nothing was read')
  }
  reader.prefetch?.(config.nodes)
  const listed = reader.nodesListed?.bind(reader)
  const hooks = listed ? {onNodes: (nodes: ClusterView['nodes']) => listed(nodes, config.nodes)} : {}
  const {view, denied} = await unlessInterrupted(cluster.load(query, hooks), stop, nothingRead)
  const available = await reader.nodeNames(view)
  const unknown = config.nodes.filter((n) => !available.includes(n))
  if (unknown.length > 0) {
    throw new SourceError(`--nodes: no node named ${unknown.join(', ')} in ${cluster.description}; nodes: ${available.join(', ') || '(none)'}`)
  }
  const names = config.nodes.length > 0 ? config.nodes : available
  // One index per run: the collection plan and the report both read it.
  const idx = indexCluster(view)
  const plan = planCollection(idx, query, {full: config.fullDumps === true, conntrack: config.conntrack === true, counters: config.counters === true})
  const [dataplanes, kubeProxy] = await Promise.all([
    Promise.all(names.map((n) => unlessInterrupted(reader.read(n, plan), stop, () => interruptedNode(n)))),
    names.length > 0 && cluster.kubeProxyObjects ? unlessInterrupted(cluster.kubeProxyObjects(), stop, () => undefined) : undefined,
  ])
  if (kubeProxy && (kubeProxy.configMap || kubeProxy.daemonSet)) view.kubeProxy = kubeProxy
  try {
    const report =
      query.kind === 'all'
        ? await checkEachService(checkServiceByService(query, idx, dataplanes, denied, {keepDetail: config.summaryOnly !== true}), config.onService)
        : reportFromIndex(query, idx, dataplanes, denied, reader.noNodes)
    return {report, view, dataplanes}
  } catch (err) {
    // A dump read in place whose chain cannot be read when a trace reaches it (the file changed or went).
    if (err instanceof DumpError) throw new SourceError(err.message)
    throw err
  }
}

/** Runs check mode Service by Service, handing each part to `onService` before the next is traced. */
async function checkEachService(
  run: Generator<ServicePart, Report, void>,
  onService: ((part: ServicePart) => void | Promise<void>) | undefined,
): Promise<Report> {
  for (;;) {
    const next = run.next()
    if (next.done) return next.value
    await onService?.(next.value)
  }
}
