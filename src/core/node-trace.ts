// One node's share of a report: its data plane opened once, the paths of the entries traced on it,
// and its NodeReport. buildReport traces every entry at once; check mode (check-report.ts) one
// Service's entries at a time on the same opened node.
import type {V1Node} from '@kubernetes/client-node'
import {formatDestination} from './address.js'
import {keyOf, nodeAddresses, podNetworks, type ClusterIndex} from './cluster-index.js'
import type {Entry} from './entries.js'
import {sourcesOn} from './sources.js'
import {openDataplane, type OpenedDataplane} from './dataplane.js'
import type {Finding, NodeDataplane, NodeReport, PathEntry, TracePath} from './model.js'
import {ruleWalkOfTally, type RuleWalkTally} from './rule-walk.js'
import {buildPath} from './path.js'
import {dropCause, dropSeverity} from './checks/dropped-paths.js'

/** A node opened for tracing: its data plane parsed once, however many Services are traced on it. */
export interface OpenedNode {
  dp: NodeDataplane
  node: V1Node | undefined
  plane: OpenedDataplane
}

/** Opens a node's data plane; the findings about its rules go to `findings`. */
export function openNode(idx: ClusterIndex, dp: NodeDataplane, findings: Finding[]): OpenedNode {
  const plane = openDataplane(dp)
  findings.push(...plane.findings)
  return {dp, node: idx.nodeByName.get(dp.name), plane}
}

/** The paths of `entries` on one node, in entry order (none when its rules could not be read). */
export function tracePaths(idx: ClusterIndex, opened: OpenedNode, entries: readonly Entry[], source: string | undefined): TracePath[] {
  const {node, plane} = opened
  const name = opened.dp.name
  if (!plane.trace) return []
  const paths: TracePath[] = []
  const nodeForSources = node ?? ({metadata: {name}} as V1Node)
  for (const entry of entries) {
    if (entry.node && entry.node !== name) continue
    for (const client of sourcesOn(idx, entry, nodeForSources, source)) {
      const {from, source: src} = client
      const trace = plane.trace({
        node: {name, addresses: node ? nodeAddresses(node) : []},
        destination: entry.destination,
        from,
        ...(src !== undefined ? {source: src} : {}),
        podNetworks: podNetworks(idx),
      })
      const service = entry.service ? keyOf(entry.service) : undefined
      const pathEntry: PathEntry = {
        address: formatDestination(entry.destination),
        destination: entry.destination,
        kind: entry.kind,
        ...(service ? {service} : {}),
        ...(service && entry.servicePort ? {servicePort: entry.servicePort} : {}),
      }
      const path = buildPath(idx, pathEntry, client, trace)
      if (entry.kind === 'pod-ip' && path.verdict === 'no-match') path.verdict = 'not-a-service'
      if (entry.kind === 'address' && path.verdict === 'no-match' && !entry.node) path.verdict = 'not-a-service'
      // A Service's address on a port it lacks: say why nothing matched (other modes may reject it instead).
      if (service && !entry.servicePort && path.verdict === 'no-match') {
        const {ip, port, protocol} = entry.destination
        path.notes.push({kind: 'no-service-port', service, ip, ...(port !== undefined ? {port} : {}), protocol})
      }
      if (path.verdict === 'drop') {
        path.severity = dropSeverity(dropCause(path), {
          explicitSource: source !== undefined,
          ...(entry.service?.spec?.type ? {serviceType: entry.service.spec.type} : {}),
        })
      }
      paths.push(path)
    }
  }
  return paths
}

/** The node's part of the report: the paths kept of it, and how they found their Services (`tally`). */
export function nodeReportOf(opened: OpenedNode, paths: TracePath[], tally: RuleWalkTally): NodeReport {
  const {dp, plane} = opened
  const {name} = dp
  const mode = plane.mode
  if (!plane.trace) return {name, mode, ...(plane.readError ? {readError: plane.readError} : {}), ...(dp.interrupted ? {interrupted: true} : {}), paths: []}
  const ruleWalk = ruleWalkOfTally(tally, plane.kubeServicesRules)
  return {name, mode, ...(ruleWalk ? {ruleWalk} : {}), paths}
}
