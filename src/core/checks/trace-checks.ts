// Every check over the traced nodes, run in one place: what buildReport calls once per report,
// after the Service checks (service-checks.ts). Path checks read the paths each node's tracer
// produced; node checks compare nodes with each other and with kube-proxy's configuration. A
// registration names the catalogue ids its check reports: one, named after it, except where one
// pass over a path decides several (stale and missing endpoint rules of the same path).
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

/** A check and the catalogue ids it reports. */
export interface TraceCheckRegistration {
  reports: readonly FindingId[]
  check: TraceCheck
}

/** Checks of the traced paths, by name, in the order their findings are listed. */
export const pathChecks = {
  'service-rejected-no-endpoints': {reports: ['service-rejected-no-endpoints'], check: serviceRejectedNoEndpoints},
  'traffic-dropped': {reports: ['traffic-dropped'], check: trafficDropped},
  'service-missing-on-node': {reports: ['service-missing-on-node'], check: serviceMissingOnNode},
  'service-port-not-defined': {reports: ['service-port-not-defined'], check: servicePortNotDefined},
  'backend-ip-unknown': {reports: ['backend-ip-unknown'], check: backendIpUnknown},
  'trace-uncertain': {reports: ['trace-uncertain'], check: traceUncertain},
  'family-not-traced': {reports: ['proxy-mode-not-traced'], check: familyNotTraced},
  'endpoint-drift': {reports: ['stale-endpoint-rule', 'missing-endpoint-rule'], check: endpointDrift},
  'probability-mismatch': {reports: ['probability-mismatch'], check: probabilityMismatch},
  'traffic-skewed': {reports: ['traffic-skewed'], check: trafficSkewed},
} as const satisfies Record<string, TraceCheckRegistration>

/** Checks of nodes as a whole, by name, listed after the path checks. */
export const nodeChecks = {
  'nodes-disagree': {reports: ['nodes-disagree'], check: nodesDisagree},
  'kube-proxy-mode-config': {
    reports: ['proxy-mode-config-invalid', 'proxy-mode-differs-from-config'],
    check: (ctx: Pick<TraceCheckContext, 'kubeProxy' | 'nodes'>) => modeConfigFindings(ctx.kubeProxy, ctx.nodes),
  },
} as const satisfies Record<string, TraceCheckRegistration>

/** Runs every path check, then every node check. */
export function checkTraces(ctx: TraceCheckContext): Finding[] {
  const registrations: TraceCheckRegistration[] = [...Object.values(pathChecks), ...Object.values(nodeChecks)]
  return registrations.flatMap((r) => r.check(ctx))
}
