// Query + API objects + node dumps → the report. Pure: the app layer gathers, this computes.
import type {V1Service} from '@kubernetes/client-node'
import {clusterIPsOf, externalIPsOf, indexCluster, keyOf, loadBalancerIPsOf, protocolOf, type ClusterIndex} from './cluster-index.js'
import {resolveAddress, serviceEntries, type Entry, type Resolution} from './entries.js'
import {headlessEntries, resolveName} from './name-resolution.js'
import type {AllQuery, ClusterView, ConntrackSummary, ExpectedDataplane, Finding, NodeDataplane, NodeReport, Query, Report, ServiceSummary} from './model.js'
import {tallyRuleWalk} from './rule-walk.js'
import {nodeReportOf, openNode, tracePaths} from './node-trace.js'
import {serviceNotFoundMessage} from './did-you-mean.js'
import {isReady} from './kube-proxy/endpoint-conditions.js'
import {checkService} from './checks/service-checks.js'
import {finding} from './checks/catalog.js'
import {checkTraces} from './checks/trace-checks.js'
import {conntrackStaleEndpoints} from './checks/conntrack-stale-endpoint.js'
import {configuredMode} from './proxy-config.js'
import {findingsByService, pathsByService, serviceVerdict} from './verdict.js'
import type {TracedPath} from './checks/check.js'
import {apiBackends} from './api-backends.js'
import {expectedPaths, type NodesUntraced} from './expected-paths.js'

/** A query that cannot be answered from the objects read (exit code 2). */
export class QueryError extends Error {}

/**
 * Distinct endpoint addresses of the Service's slices: ready ones, all, and the ready ones listed
 * only in slices without ports (kube-proxy has no port to send them to: a named targetPort no
 * container defines).
 */
function endpointCounts(idx: ClusterIndex, svc: V1Service): ServiceSummary['endpoints'] {
  const ready = new Set<string>()
  const all = new Set<string>()
  const withPort = new Set<string>()
  for (const slice of idx.slicesByService.get(keyOf(svc)) ?? []) {
    const ported = (slice.ports ?? []).length > 0
    for (const ep of slice.endpoints ?? []) {
      for (const a of ep.addresses) {
        all.add(a)
        if (!isReady(ep)) continue
        ready.add(a)
        if (ported) withPort.add(a)
      }
    }
  }
  return {ready: ready.size, total: all.size, portless: [...ready].filter((a) => !withPort.has(a)).length}
}

/** One Service's line of the report: what the API says of it, and its verdict from its paths and findings. */
export function summarize(idx: ClusterIndex, svc: V1Service, traced: TracedPath[], findings: Finding[]): ServiceSummary {
  const endpoints = endpointCounts(idx, svc)
  const affinity = svc.spec?.sessionAffinity === 'ClientIP'
  return {
    name: svc.metadata?.name ?? '',
    namespace: svc.metadata?.namespace ?? '',
    type: svc.spec?.type ?? 'ClusterIP',
    clusterIPs: clusterIPsOf(svc),
    ports: (svc.spec?.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: protocolOf(p),
      targetPort: String(p.targetPort ?? p.port),
      ...(p.nodePort ? {nodePort: p.nodePort} : {}),
    })),
    externalIPs: externalIPsOf(svc),
    loadBalancerIPs: loadBalancerIPsOf(svc),
    ...(svc.spec?.externalTrafficPolicy ? {externalTrafficPolicy: svc.spec.externalTrafficPolicy} : {}),
    ...(svc.spec?.internalTrafficPolicy ? {internalTrafficPolicy: svc.spec.internalTrafficPolicy} : {}),
    ...(affinity ? {sessionAffinity: {timeoutSeconds: svc.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800}} : {}),
    endpoints,
    verdict: serviceVerdict(endpoints.ready, traced, findings),
    backends: apiBackends(idx, svc),
  }
}

/** Service names in the namespace, and namespaces that hold the name: what "did you mean" picks from. */
function candidatesNear(idx: ClusterIndex, namespace: string, name: string) {
  const services = [...idx.serviceByKey.values()].map((s) => ({namespace: s.metadata?.namespace ?? '', name: s.metadata?.name ?? ''}))
  return {
    namespacesWithName: services.filter((s) => s.name === name).map((s) => s.namespace),
    namesInNamespace: services.filter((s) => s.namespace === namespace).map((s) => s.name),
  }
}

/** The Services check mode checks (of the namespace, or all), in report order. */
export function checkedServices(idx: ClusterIndex, query: AllQuery): V1Service[] {
  return idx.view.services.filter((s) => !query.namespace || s.metadata?.namespace === query.namespace).sort((a, b) => keyOf(a).localeCompare(keyOf(b)))
}

function resolveQuery(idx: ClusterIndex, query: Query): Resolution {
  if (query.kind === 'all') {
    const services = checkedServices(idx, query)
    return {entries: services.flatMap((s) => serviceEntries(s, idx.view.nodes)), services, unowned: false}
  }
  if (query.kind === 'ip') {
    return resolveAddress(idx, {ip: query.ip, ...(query.port !== undefined ? {port: query.port} : {}), protocol: query.protocol}, query.port !== undefined)
  }
  if (query.kind === 'name') {
    const resolved = resolveName(idx, query)
    if (resolved) return resolved
  }
  const key = `${query.namespace}/${query.service}`
  const svc = idx.serviceByKey.get(key)
  if (!svc || query.kind === 'name') {
    throw new QueryError(serviceNotFoundMessage(query.namespace ?? '', query.service ?? '', candidatesNear(idx, query.namespace ?? '', query.service ?? '')))
  }
  const type = svc.spec?.type ?? 'ClusterIP'
  // For an ordinary Service the header says it all; only special kinds get a sentence.
  let summary: string | undefined
  if (type === 'ExternalName') {
    summary = `Service ${key} is an ExternalName: cluster DNS answers a CNAME to "${svc.spec?.externalName}"; kube-proxy writes no rules for it, so there is nothing to trace`
  } else if (clusterIPsOf(svc).length === 0) {
    // What cluster DNS answers, each address traced as a pod IP (as for the Service's DNS name).
    const {ips, entries} = headlessEntries(idx, svc, {})
    summary = `Service ${key} is headless (clusterIP None): no virtual IP and no kube-proxy rules; DNS returns the pod IPs${ips.length ? ` ${ips.join(', ')}, each traced as a pod IP` : ' (none: no ready endpoint)'}`
    return {summary, entries, services: [svc], unowned: false}
  }
  return {...(summary !== undefined ? {summary} : {}), entries: serviceEntries(svc, idx.view.nodes), services: [svc], unowned: false}
}

function traceNode(idx: ClusterIndex, dp: NodeDataplane, entries: Entry[], source: string | undefined, findings: Finding[]): NodeReport {
  const opened = openNode(idx, dp, findings)
  const paths = tracePaths(idx, opened, entries, source)
  return nodeReportOf(opened, paths, tallyRuleWalk({}, paths))
}

/** Each finding once, errors first, then warnings, then info (in their order otherwise). */
export function dedupe(findings: Finding[]): Finding[] {
  const seen = new Map<string, Finding>()
  for (const f of findings) {
    const key = `${f.id}|${f.service ?? ''}|${f.node ?? ''}|${f.message}`
    if (!seen.has(key)) seen.set(key, f)
  }
  const order = {error: 0, warning: 1, info: 2}
  return [...seen.values()].sort((a, b) => order[a.severity] - order[b.severity])
}

/** Traces the query on every node and collects the findings. */
export function buildReport(query: Query, view: ClusterView, dataplanes: NodeDataplane[], denied: string[] = []): Report {
  return reportFromIndex(query, indexCluster(view), dataplanes, denied)
}

/**
 * buildReport on an index already built (the use case builds one per run and plans collection with it too).
 * Every entry is traced on every node at once; check mode runs Service by Service instead
 * (check-report.ts), to the same report.
 * `noNodes` says why `dataplanes` is empty, when it is: the reason the expected data plane is shown.
 */
export function reportFromIndex(
  query: Query,
  idx: ClusterIndex,
  dataplanes: NodeDataplane[],
  denied: string[] = [],
  noNodes: NodesUntraced = 'none-readable',
): Report {
  const {view} = idx
  const resolution = resolveQuery(idx, query)
  const findings: Finding[] = denied.map((message) => finding('api-read-denied', {message}))
  const nodes = dataplanes.map((dp) => traceNode(idx, dp, resolution.entries, query.source, findings))
  const tracedBy = pathsByService(nodes)
  for (const svc of resolution.services) {
    findings.push(...checkService(svc, idx, {...(query.source ? {source: query.source} : {}), traced: tracedBy.get(keyOf(svc)) ?? []}))
  }
  findings.push(...checkTraces({idx, nodes, explicitSource: query.source !== undefined, ...(view.kubeProxy ? {kubeProxy: view.kubeProxy} : {})}))
  // --conntrack (or a bundle's conntrack.txt): where the nodes' tracked connections to the Services go.
  const conntrack = conntrackStaleEndpoints(idx, resolution.services, dataplanes)
  findings.push(...conntrack.findings)
  // Without one traced node, say what the nodes should hold (-A stays a check summary).
  const untraced = query.kind !== 'all' && nodes.every((n) => n.readError !== undefined)
  const expected = untraced ? {reason: nodes.length === 0 ? noNodes : 'none-readable', paths: expectedPaths(idx, resolution.entries, query.source)} : undefined
  if (resolution.unowned) {
    findings.push(finding('address-not-owned', {message: resolution.summary ?? ''}))
  }
  const unique = dedupe(findings)
  const findingsOf = findingsByService(unique)
  return assembleReport({
    query,
    idx,
    dataplanes,
    ...(resolution.summary ? {resolution: resolution.summary} : {}),
    services: resolution.services.map((svc) => summarize(idx, svc, tracedBy.get(keyOf(svc)) ?? [], findingsOf.get(keyOf(svc)) ?? [])),
    nodes: withConntrack(nodes, conntrack.summaries),
    ...(expected ? {expected} : {}),
    findings: unique,
  })
}

/** The nodes, each with what its connection-tracking table held for the traced Services (when read). */
export function withConntrack(nodes: NodeReport[], summaries: ReadonlyMap<string, ConntrackSummary>): NodeReport[] {
  for (const n of nodes) {
    const summary = summaries.get(n.name)
    if (summary) n.conntrack = summary
  }
  return nodes
}

/** The parts of a report, computed. */
export interface ReportParts {
  query: Query
  idx: ClusterIndex
  dataplanes: readonly NodeDataplane[]
  resolution?: string
  services: ServiceSummary[]
  nodes: NodeReport[]
  expected?: ExpectedDataplane
  findings: Finding[]
}

/** The report of its parts, with the configured mode and the nodes that did not answer. */
export function assembleReport(parts: ReportParts): Report {
  const {query, idx, dataplanes, resolution, services, nodes, expected, findings} = parts
  const mode = configuredMode(idx.view.kubeProxy)
  const interrupted = dataplanes.filter((dp) => dp.interrupted).map((dp) => dp.name)
  return {
    apiVersion: 'svctrace/v2',
    query,
    ...(resolution !== undefined ? {resolution} : {}),
    services,
    ...(mode ? {kubeProxyMode: mode} : {}),
    nodes,
    ...(expected ? {expected} : {}),
    ...(interrupted.length > 0 ? {partial: {reason: 'interrupted' as const, nodes: interrupted}} : {}),
    findings,
  }
}
