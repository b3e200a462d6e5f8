// Path checks: findings read off the traced paths (rejected and dropped traffic, rules that point
// nowhere, services the node does not forward although the API has endpoints). Registered in trace-checks.ts.
import {canonicalIP} from '../address.js'
import {endpointsByAddress, type ClusterIndex} from '../cluster-index.js'
import {hasUsableEndpoint} from '../kube-proxy/endpoint-conditions.js'
import type {Finding, NodeReport, TracePath} from '../model.js'
import {finding} from './catalog.js'
import {dropCause, dropSeverity, lastRule, type DropCause} from './dropped-paths.js'
import {nodesWithoutLocalEndpoint} from './external-traffic-local-node-without-endpoint.js'
import {isOutsideLoadBalancerRanges} from './source-outside-load-balancer-ranges.js'
import type {SightedFinding, TraceCheckContext} from './trace-checks.js'
import {isNotRead, isUncertain, uniqueNotes, type Note} from '../trace/notes.js'
import {addTo} from '../group.js'

/** Who sends the packet: `an outside client 8.8.8.8`, `a pod on the node`, `the node itself`. */
function clientOf(path: TracePath): string {
  if (path.from === 'external') return `an outside client${path.source ? ` ${path.source}` : ''}`
  return path.from === 'pod' ? 'a pod on the node' : 'the node itself'
}

/** `a, b or c`. */
function either(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`
}

/** Why a path is dropped, in words. */
const DROP_REASONS: Record<DropCause, (path: TracePath) => string> = {
  'source-range': () => ': the client is not in loadBalancerSourceRanges',
  'external-local-no-endpoint': () => ': no endpoint runs on this node and the traffic policy is Local',
  'internal-local-no-endpoint': () => ': no endpoint runs on this node and the traffic policy is Local',
  'chain-policy': (path) => `: the ${path.hops.at(-1)?.chain ?? ''} chain's policy is DROP and no rule accepted it`,
  other: () => '',
}

/**
 * A drop another finding already reports with its rule: a node externalTrafficPolicy Local leaves
 * without an endpoint (external-traffic-local-node-without-endpoint), or the --source client outside
 * loadBalancerSourceRanges (source-outside-load-balancer-ranges). One fact, one finding.
 */
function reportedElsewhere(idx: ClusterIndex, path: TracePath, node: string, cause: DropCause, explicitSource: boolean): boolean {
  const svc = path.entry.service ? idx.serviceByKey.get(path.entry.service) : undefined
  if (!svc) return false
  if (cause === 'external-local-no-endpoint') {
    const slices = idx.slicesByService.get(path.entry.service ?? '') ?? []
    return nodesWithoutLocalEndpoint(svc, {slices, pods: idx.view.pods, nodes: idx.view.nodes}).includes(node)
  }
  return cause === 'source-range' && explicitSource && path.source !== undefined && isOutsideLoadBalancerRanges(svc, path.source)
}

/** True when the path enters at a Service's address on a port (or protocol) the Service does not have. */
function onUndefinedPort(path: TracePath): boolean {
  return path.entry.service !== undefined && path.entry.servicePort === undefined
}

/** What a node does with a path, for evidence: `node-a: reject by nat KUBE-SERVICES: …`. */
function outcomeOn(node: string, path: TracePath): string {
  if (path.verdict === 'no-match') return `${node}: no rule matches, the packet is routed unchanged`
  const [rule] = lastRule(path)
  return `${node}: ${path.verdict}${rule ? ` by ${rule}` : ''}`
}

function knownEndpointIP(idx: ClusterIndex, service: string | undefined, ip: string): boolean {
  if (!service) return false
  const c = canonicalIP(ip)
  if (endpointsByAddress(idx, service).has(c)) return true
  return (idx.endpointsByKey.get(service)?.subsets ?? []).some((s) => (s.addresses ?? []).some((a) => canonicalIP(a.ip) === c))
}

/** One node's share of a finding that names every node it holds on. */
interface PerNodeFinding {
  /** Shares with the same key become one finding. */
  key: string
  node: string
  evidence: string[]
  notes?: Note[]
  /** Who sent the packet, for findings that name every kind of client they hold for. */
  client?: string
  /** The finding, given every node it holds on (its message names them) and the shares merged into it. */
  make: (nodes: string[], group: PerNodeFinding[]) => Finding
}

/** `node-a rejects` / `nodes node-a, node-b reject`: the nodes as the subject of a verb. */
function nodesDo(nodes: string[], verb: string): string {
  return nodes.length === 1 ? `${nodes.join('')} ${verb}s` : `nodes ${nodes.join(', ')} ${verb}`
}

/**
 * Merges the per-node shares of each finding: one finding naming every node it holds on, with all
 * their evidence, listed in the order of the node each is first seen on.
 */
function mergeNodes(shares: PerNodeFinding[]): SightedFinding[] {
  const byKey = new Map<string, PerNodeFinding[]>()
  for (const f of shares) addTo(byKey, f.key, f)
  const out: SightedFinding[] = []
  for (const [first, ...rest] of byKey.values()) {
    if (!first) continue
    const group = [first, ...rest]
    const nodes = [...new Set(group.map((f) => f.node))]
    const evidence = [...new Set(group.flatMap((f) => f.evidence))]
    const notes = uniqueNotes(group.flatMap((f) => f.notes ?? []))
    const finding = {...first.make(nodes, group), evidence, ...(notes.length > 0 ? {notes} : {}), ...(nodes.length === 1 ? {node: first.node} : {})}
    out.push({node: first.node, finding})
  }
  return out
}

/** Every traced path with the node it was traced on, and the fields the findings about it share. */
function* pathsOf(nodes: NodeReport[]): Generator<{node: NodeReport; path: TracePath; service: string | undefined; base: {node: string; service?: string}}> {
  for (const node of nodes) {
    for (const path of node.paths) {
      const service = path.entry.service
      yield {node, path, service, base: {node: node.name, ...(service ? {service} : {})}}
    }
  }
}

/** Rejected paths: the Service has no endpoints; one finding per service and address, naming the nodes. */
export function serviceRejectedNoEndpoints(ctx: Pick<TraceCheckContext, 'nodes'>): SightedFinding[] {
  const perNode: PerNodeFinding[] = []
  for (const {path, service, base} of pathsOf(ctx.nodes)) {
    if (path.verdict !== 'reject' || onUndefinedPort(path)) continue
    const make = (nodes: string[]) =>
      finding('service-rejected-no-endpoints', {
        message: `${service ?? path.entry.address} has no endpoints: ${nodesDo(nodes, 'reject')} ${path.entry.address}`,
        ...(service ? {service} : {}),
      })
    perNode.push({key: `${service} ${path.entry.address}`, node: base.node, evidence: lastRule(path), make})
  }
  return mergeNodes(perNode)
}

/**
 * Dropped paths, with the reason read off the dropping rule; one finding per entry and reason,
 * naming the nodes and, for a source range, every kind of client it keeps out. Drops another
 * finding reports are left to it.
 */
export function trafficDropped(ctx: Pick<TraceCheckContext, 'idx' | 'nodes' | 'explicitSource'>): SightedFinding[] {
  const perNode: PerNodeFinding[] = []
  for (const {path, service, base} of pathsOf(ctx.nodes)) {
    if (path.verdict !== 'drop') continue
    const cause = dropCause(path)
    if (reportedElsewhere(ctx.idx, path, base.node, cause, ctx.explicitSource)) continue
    // A source range drops every client outside it alike: one finding lists the kinds of client.
    const key = `${service} ${path.entry.address} ${cause} ${cause === 'source-range' ? '' : path.from}`
    const severity = path.severity ?? dropSeverity(cause, {explicitSource: ctx.explicitSource})
    const assumed = path.notes.filter((n) => n.kind === 'assumed')
    const make = (nodes: string[], group: PerNodeFinding[]) => {
      const clients = [...new Set(group.map((f) => f.client ?? ''))]
      return finding(
        'traffic-dropped',
        {
          message: `${nodesDo(nodes, 'drop')} ${path.entry.address} (${path.entry.kind}) from ${either(clients)}${DROP_REASONS[cause](path)}`,
          ...(service ? {service} : {}),
        },
        severity,
      )
    }
    perNode.push({key, node: base.node, client: clientOf(path), evidence: lastRule(path), ...(assumed.length > 0 ? {notes: assumed} : {}), make})
  }
  return mergeNodes(perNode)
}

/** A cluster IP the node has no rule for although the API lists usable endpoints (not when its rules were not read). */
export function serviceMissingOnNode(ctx: Pick<TraceCheckContext, 'idx' | 'nodes'>): Finding[] {
  const out: Finding[] = []
  for (const {node, path, service, base} of pathsOf(ctx.nodes)) {
    if (
      path.verdict === 'no-match' &&
      !path.notes.some(isNotRead) &&
      service &&
      path.entry.kind === 'cluster-ip' &&
      !onUndefinedPort(path) &&
      hasUsableEndpoint(ctx.idx.slicesByService.get(service) ?? [])
    ) {
      out.push(finding('service-missing-on-node', {message: `${node.name} has no rule for ${path.entry.address} although ${service} has endpoints`, ...base}))
    }
  }
  return out
}

/** A Service's address dialled on a port the Service does not define: one finding per address, with what each node does. */
export function servicePortNotDefined(ctx: Pick<TraceCheckContext, 'nodes'>): SightedFinding[] {
  const perNode: PerNodeFinding[] = []
  for (const {path, service, base} of pathsOf(ctx.nodes)) {
    if (!service || !onUndefinedPort(path)) continue
    const {port, protocol} = path.entry.destination
    const wanted = port !== undefined ? `port ${port}/${protocol}` : `${protocol} port`
    const make = () =>
      finding('service-port-not-defined', {
        message: `${service} has no ${wanted}, so kube-proxy forwards ${path.entry.address} to none of its endpoints`,
        service,
      })
    perNode.push({key: `${service} ${path.entry.address}`, node: base.node, evidence: [outcomeOn(base.node, path)], make})
  }
  return mergeNodes(perNode)
}

/** Backends that no pod, node or endpoint of the API has (the API server, outside the cluster, is known by its role). */
export function backendIpUnknown(ctx: Pick<TraceCheckContext, 'idx' | 'nodes'>): Finding[] {
  const out: Finding[] = []
  for (const {node, path, service, base} of pathsOf(ctx.nodes)) {
    for (const b of path.backends) {
      if (b.pod === null && b.node === null && b.role === undefined && !knownEndpointIP(ctx.idx, service, b.ip)) {
        out.push(
          finding('backend-ip-unknown', {
            message: `${node.name} forwards ${path.entry.address} to ${b.ip}:${b.port}, which no pod, node or endpoint has`,
            ...base,
            evidence: [`nat ${b.chain}`],
          }),
        )
      }
    }
  }
  return out
}

/** Paths the tracer marked uncertain, with its notes; rules not read at all are familyNotTraced's. */
export function traceUncertain(ctx: Pick<TraceCheckContext, 'nodes'>): Finding[] {
  const out: Finding[] = []
  for (const {node, path, base} of pathsOf(ctx.nodes)) {
    const notes = path.notes.filter((n) => isUncertain(n) && !isNotRead(n))
    if (path.uncertain && notes.length > 0) {
      out.push(finding('trace-uncertain', {message: `${node.name}: the trace of ${path.entry.address} is uncertain`, ...base, notes}))
    }
  }
  return out
}

/**
 * Paths not traced because the dump of their address family was not read (iptables mode: IPv6
 * rules are in ip6tables-save): one finding per missing dump, naming the nodes and the addresses.
 */
export function familyNotTraced(ctx: Pick<TraceCheckContext, 'nodes'>): SightedFinding[] {
  const perNode: PerNodeFinding[] = []
  for (const {path, service, base} of pathsOf(ctx.nodes)) {
    for (const n of path.notes) {
      if (n.kind !== 'family-not-read') continue
      const tool = n.family === 6 ? 'ip6tables' : 'iptables'
      const make = (nodes: string[]) =>
        finding('proxy-mode-not-traced', {
          message: `no ${n.missing} was read from ${nodes.length === 1 ? nodes.join('') : `nodes ${nodes.join(', ')}`}: the IPv${n.family} paths${service ? ` of ${service}` : ''} there were not traced (kube-proxy's iptables mode writes IPv${n.family} rules with ${tool}); capture ${n.missing} to trace them`,
          ...(service ? {service} : {}),
        })
      perNode.push({key: `${n.missing} ${service ?? ''}`, node: base.node, evidence: [`${base.node}: ${path.entry.address}`], make})
    }
  }
  return mergeNodes(perNode)
}
