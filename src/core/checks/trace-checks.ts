// Every check over the traced nodes, run in one place: what buildReport calls once per report,
// after the Service checks (service-checks.ts). Path checks read the paths each node's tracer
// produced; node checks compare nodes with each other and with kube-proxy's configuration. A
// registration names the catalogue ids its check reports: one, named after it, except where one
// pass over a path decides several (stale and missing endpoint rules of the same path), and says
// how its findings follow the nodes (for check mode, which runs the checks one Service at a time).
import type {ClusterIndex} from '../cluster-index.js'
import type {Finding, KubeProxyObjects, NodeReport} from '../model.js'
import {modeConfigFindings} from '../proxy-config.js'
import type {FindingId} from './catalog.js'
import {endpointDrift, nodesDisagree, probabilityMismatch} from './drift.js'
import {
  backendIpUnknown,
  familyNotTraced,
  serviceMissingOnNode,
  servicePortNotDefined,
  serviceRejectedNoEndpoints,
  traceUncertain,
  trafficDropped,
} from './path-findings.js'
import {trafficSkewed} from './traffic-skew.js'

/** What every check over traced nodes may read; each declares the pieces it uses with Pick<>. */
export interface TraceCheckContext {
  idx: ClusterIndex
  nodes: NodeReport[]
  /** The client was named with --source: what keeps unnamed clients out by design matters for it. */
  explicitSource: boolean
  /** ConfigMap and DaemonSet kube-system/kube-proxy, when read. */
  kubeProxy?: KubeProxyObjects
}

/** One named check over the traced nodes. */
export type TraceCheck = (ctx: TraceCheckContext) => Finding[]

/** A finding and the node it was first seen on (the first, in report order, of the nodes it names). */
export interface SightedFinding {
  node: string
  finding: Finding
}

/**
 * A check and the catalogue ids it reports, with how its findings follow the nodes: what lets check
 * mode run it one Service at a time (check-report.ts) and still list the findings in the order one
 * run over every Service lists them.
 * - `node`: each finding is read off one node's paths, node after node.
 * - `first-node`: a finding gathers paths across nodes; `sighted` says the node it is first seen on,
 *   the findings come in that order.
 * - `nodes`: the check reads the nodes, not their paths.
 */
export type TraceCheckRegistration = {reports: readonly FindingId[]; check: TraceCheck} & (
  {scope: 'node' | 'nodes'} | {scope: 'first-node'; sighted: (ctx: TraceCheckContext) => SightedFinding[]}
)

/** A `first-node` registration of a check that says where each finding was first seen. */
function firstNode<const Ids extends readonly FindingId[]>(reports: Ids, sighted: (ctx: TraceCheckContext) => SightedFinding[]) {
  return {reports, scope: 'first-node' as const, sighted, check: (ctx: TraceCheckContext) => sighted(ctx).map((s) => s.finding)}
}

/** Checks of the traced paths, by name, in the order their findings are listed. */
export const pathChecks = {
  'service-rejected-no-endpoints': firstNode(['service-rejected-no-endpoints'], serviceRejectedNoEndpoints),
  'traffic-dropped': firstNode(['traffic-dropped'], trafficDropped),
  'service-missing-on-node': {reports: ['service-missing-on-node'], scope: 'node', check: serviceMissingOnNode},
  'service-port-not-defined': firstNode(['service-port-not-defined'], servicePortNotDefined),
  'backend-ip-unknown': {reports: ['backend-ip-unknown'], scope: 'node', check: backendIpUnknown},
  'trace-uncertain': {reports: ['trace-uncertain'], scope: 'node', check: traceUncertain},
  'family-not-traced': firstNode(['proxy-mode-not-traced'], familyNotTraced),
  'endpoint-drift': {reports: ['stale-endpoint-rule', 'missing-endpoint-rule'], scope: 'node', check: endpointDrift},
  'probability-mismatch': {reports: ['probability-mismatch'], scope: 'node', check: probabilityMismatch},
  'traffic-skewed': {reports: ['traffic-skewed'], scope: 'node', check: trafficSkewed},
} as const satisfies Record<string, TraceCheckRegistration>

/** Checks of nodes as a whole, by name, listed after the path checks. */
export const nodeChecks = {
  'nodes-disagree': firstNode(['nodes-disagree'], nodesDisagree),
  'kube-proxy-mode-config': {
    reports: ['proxy-mode-config-invalid', 'proxy-mode-differs-from-config'],
    scope: 'nodes',
    check: (ctx: Pick<TraceCheckContext, 'kubeProxy' | 'nodes'>) => modeConfigFindings(ctx.kubeProxy, ctx.nodes),
  },
} as const satisfies Record<string, TraceCheckRegistration>

/** Every trace check, in the order their findings are listed: the path checks, then the node checks. */
export const traceChecks: readonly TraceCheckRegistration[] = [...Object.values(pathChecks), ...Object.values(nodeChecks)]

/** Runs every path check, then every node check. */
export function checkTraces(ctx: TraceCheckContext): Finding[] {
  return traceChecks.flatMap((r) => r.check(ctx))
}
