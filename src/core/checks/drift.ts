// Drift between the API and each node's data plane: rules that forward to endpoints that are gone,
// ready endpoints a node does not forward to, uneven probabilities, nodes that disagree. The checks
// are registered in trace-checks.ts.
import type {V1Service, V1ServicePort} from '@kubernetes/client-node'
import {joinHostPort, parseCidr} from '../address.js'
import {protocolOf, type ClusterIndex} from '../cluster-index.js'
import {expectedEndpoints, type EndpointAddress} from '../kube-proxy/expected-endpoints.js'
import {usesLocalEndpoints} from '../kube-proxy/traffic-policy.js'
import type {Finding, NodeReport, TracePath} from '../model.js'
import {finding} from './catalog.js'
import type {SightedFinding, TraceCheckContext} from './trace-checks.js'
import {isNotRead} from '../trace/notes.js'

/** The Service port a path's entry belongs to. */
function servicePortOf(svc: V1Service, path: TracePath): V1ServicePort | undefined {
  const want = path.entry.servicePort
  if (!want) return undefined
  return (svc.spec?.ports ?? []).find((p) => protocolOf(p) === path.entry.destination.protocol && (p.name ?? '') === want.name && p.port === want.port)
}

const hostPort = (e: EndpointAddress) => joinHostPort(e.ip, e.port)

const show = (list: string[]) => (list.length > 4 ? `${list.slice(0, 4).join(', ')} and ${list.length - 4} more` : list.join(', ')) || 'none'

/** The endpoints a Service port's paths should forward to, as host:port, in order and as a set, for each choice of endpoints. */
interface Wanted {
  expected: ReturnType<typeof expectedEndpoints>
  cluster: {list: string[]; set: ReadonlySet<string>}
  local: {list: string[]; set: ReadonlySet<string>}
}

function wantedOf(expected: ReturnType<typeof expectedEndpoints>): Wanted {
  const cluster = expected.cluster.map(hostPort)
  const local = expected.local.map(hostPort)
  return {expected, cluster: {list: cluster, set: new Set(cluster)}, local: {list: local, set: new Set(local)}}
}

/** Stale and missing endpoint rules of one node's dnat paths. */
function nodeEndpointDrift(idx: ClusterIndex, node: NodeReport, out: Finding[]): void {
  // A Service port's entries (from pods, from the node, …) share one expected set per address family.
  const wantedBy = new Map<string, Wanted>()
  for (const path of node.paths) {
    const key = path.entry.service
    const svc = key ? idx.serviceByKey.get(key) : undefined
    if (!key || !svc || path.verdict !== 'dnat') continue
    const port = servicePortOf(svc, path)
    const family = parseCidr(path.entry.destination.ip)?.family ?? 4
    if (!port) continue
    const memo = `${key} ${port.name ?? ''} ${port.port} ${protocolOf(port)} ${family}`
    let wanted = wantedBy.get(memo)
    if (!wanted) {
      wanted = wantedOf(expectedEndpoints(idx, svc, port, node.name, family))
      wantedBy.set(memo, wanted)
    }
    const {expected} = wanted
    const local = usesLocalEndpoints(svc, path.entry.kind, path.from, node.mode)
    // IPVS falls back to every endpoint when none is local (kubernetes#97081): not drift.
    const want = local && !(node.mode === 'ipvs' && expected.local.length === 0) ? wanted.local : wanted.cluster
    // Sets: a Service may have thousands of endpoints.
    const had = new Set(path.backends.map((b) => joinHostPort(b.ip, b.port)))
    const stale = [...had].filter((e) => !want.set.has(e)).sort()
    const missing = expected.hinted ? [] : want.list.filter((e) => !had.has(e))
    const base = {service: key, node: node.name}
    if (stale.length > 0) {
      const staleSet = new Set(stale)
      const chains = path.backends
        .filter((b) => staleSet.has(joinHostPort(b.ip, b.port)))
        .map((b) => `${b.chain} → ${joinHostPort(b.ip, b.port)}${b.pod ? ` (${b.pod})` : ''}`)
      out.push(
        finding('stale-endpoint-rule', {
          message: `${node.name} forwards ${path.entry.address} to ${show(stale)}, which ${stale.length > 1 ? 'are' : 'is'} not ${local ? 'a local' : 'an'} endpoint kube-proxy should use (a deleted or unready pod?)`,
          ...base,
          evidence: chains,
        }),
      )
    }
    if (missing.length > 0) {
      out.push(
        finding('missing-endpoint-rule', {
          message: `${node.name} does not forward ${path.entry.address} to ready endpoint${missing.length > 1 ? 's' : ''} ${show(missing)} of ${key}`,
          ...base,
          evidence: [`rules forward to: ${show([...had].sort())}`, `EndpointSlices say: ${show(want.list)}`],
        }),
      )
    }
  }
}

/** Uneven probability splits of one node's dnat paths (iptables and nftables split 1/n each). */
function nodeProbabilityMismatch(idx: ClusterIndex, node: NodeReport, out: Finding[]): void {
  if (node.mode !== 'iptables' && node.mode !== 'nftables') return
  for (const path of node.paths) {
    const key = path.entry.service
    const svc = key ? idx.serviceByKey.get(key) : undefined
    if (!key || !svc || path.verdict !== 'dnat' || !servicePortOf(svc, path)) continue
    const base = {service: key, node: node.name}
    const uneven = path.backends.filter((b) => Math.abs(b.probability - 1 / path.backends.length) > 1e-6)
    if (uneven.length > 0 && !path.notes.some((n) => n.kind === 'fall-through')) {
      out.push(
        finding('probability-mismatch', {
          message: `${node.name} splits ${path.entry.address} unevenly over ${path.backends.length} backends (expected 1/${path.backends.length} each)`,
          ...base,
          evidence: path.backends.map((b) => `${joinHostPort(b.ip, b.port)}: ${Math.round(b.probability * 1000) / 10}%`),
        }),
      )
    }
  }
}

/** A path's backends as nodesDisagree compares and shows them: host:port, sorted, or the verdict. */
function backendsText(path: TracePath): string {
  return path.verdict === 'dnat' ? [...new Set(path.backends.map((b) => joinHostPort(b.ip, b.port)))].sort().join(', ') : path.verdict.toUpperCase()
}

/** Nodes whose backends for the same entry differ where the policy says they should agree; each with the first node that traced the entry. */
export function nodesDisagree(ctx: Pick<TraceCheckContext, 'idx' | 'nodes'>): SightedFinding[] {
  const {idx, nodes} = ctx
  const out: SightedFinding[] = []
  const groups = new Map<string, {svc: V1Service; service: string; address: string; list: Array<{node: string; path: TracePath}>}>()
  for (const node of nodes) {
    for (const path of node.paths) {
      const service = path.entry.service
      const svc = service ? idx.serviceByKey.get(service) : undefined
      if (!service || !svc || path.entry.kind !== 'cluster-ip' || path.from !== 'pod' || svc.spec?.internalTrafficPolicy === 'Local') continue
      // A node whose rules for this address family were not read has no backends to compare.
      if (path.notes.some(isNotRead)) continue
      const key = `${service} ${path.entry.address}`
      const group = groups.get(key) ?? {svc, service, address: path.entry.address, list: []}
      group.list.push({node: node.name, path})
      groups.set(key, group)
    }
  }
  for (const {svc, service, address, list: paths} of groups.values()) {
    // One node cannot disagree (check mode asks once per Service, and most reports read one node).
    if (paths.length < 2) continue
    const port = (svc.spec?.ports ?? [])[0]
    if (port && expectedEndpoints(idx, svc, port, '', 4).hinted) continue
    const list = paths.map(({node, path}) => ({node, backends: backendsText(path)}))
    const [first] = list
    if (first && new Set(list.map((l) => l.backends)).size > 1) {
      out.push({
        node: first.node,
        finding: finding('nodes-disagree', {
          message: `nodes send ${address} to different backends although ${service} uses Cluster policy`,
          service,
          evidence: list.map((l) => `${l.node}: ${l.backends}`),
        }),
      })
    }
  }
  return out
}

/** Rules forwarding to endpoints kube-proxy should not use, and endpoints it should use that no rule reaches, per node. */
export function endpointDrift(ctx: Pick<TraceCheckContext, 'idx' | 'nodes'>): Finding[] {
  const out: Finding[] = []
  for (const node of ctx.nodes) nodeEndpointDrift(ctx.idx, node, out)
  return out
}

/** Paths whose backends do not get the 1/n shares kube-proxy writes. */
export function probabilityMismatch(ctx: Pick<TraceCheckContext, 'idx' | 'nodes'>): Finding[] {
  const out: Finding[] = []
  for (const node of ctx.nodes) nodeProbabilityMismatch(ctx.idx, node, out)
  return out
}
