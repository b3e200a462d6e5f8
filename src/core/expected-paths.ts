// What kube-proxy should program for each entry, computed from the API objects alone: the answer an
// API-only run gives when no node's rules were traced. Follows the rules every mode shares
// (reference §1.3–1.4, §2.4): usable endpoints split evenly, REJECT without one, DROP for a Local
// policy without a local one and for load-balancer clients outside loadBalancerSourceRanges.
// IPVS differs for ETP Local without a local endpoint (it uses every endpoint); that is left to the
// node rules. Node ports on 127.0.0.1 are left out: only iptables mode answers them.
import type {V1Service, V1ServicePort} from '@kubernetes/client-node'
import {familyOf, formatDestination, isLoopback} from './address.js'
import {keyOf, podNetworks, protocolOf, type ClusterIndex} from './cluster-index.js'
import {inAnyNetwork, type Entry} from './entries.js'
import {loadBalancerAdmission} from './checks/source-outside-load-balancer-ranges.js'
import {expectedEndpoints, type EndpointAddress} from './kube-proxy/expected-endpoints.js'
import {usesLocalEndpoints} from './kube-proxy/traffic-policy.js'
import type {Backend, PathEntry, SourceKind, Verdict} from './model.js'
import {backendOwner} from './path.js'

/** Why no node's rules were traced, so that the report shows what they should be instead. */
export type NodesUntraced =
  /** A live run without --via. */
  | 'not-asked'
  /** --via none. */
  | 'via-none'
  /** A bundle without nodes/NODE directories. */
  | 'bundle-without-nodes'
  /** Nodes were to be read, but none could be (or the cluster has none). */
  | 'none-readable'

/** The kube-proxy rule an expected outcome follows. */
export type ExpectedRule =
  /** DNAT, evenly over the usable endpoints of the whole cluster. */
  | 'cluster-endpoints'
  /** DNAT, evenly over the node's own usable endpoints (a Local traffic policy). */
  | 'local-endpoints'
  /** REJECT: no usable endpoint anywhere. */
  | 'no-endpoints'
  /** DROP: a Local traffic policy and no usable endpoint on the node. */
  | 'no-local-endpoints'
  /** DROP: the client is outside loadBalancerSourceRanges. */
  | 'source-not-allowed'

/** A backend kube-proxy should forward to (no chain: which chain depends on the mode). */
export type ExpectedBackend = Pick<Backend, 'ip' | 'port' | 'probability' | 'pod' | 'node'>

export interface ExpectedOutcome {
  verdict: Extract<Verdict, 'dnat' | 'reject' | 'drop'>
  rule: ExpectedRule
  backends: ExpectedBackend[]
}

/** The outcome for a client the query did not name, when it meets a condition (a source range). */
export interface ExpectedAlternative extends ExpectedOutcome {
  when: string[]
}

/** One entry from one kind of source, as kube-proxy should handle it, on every node or on `nodes`. */
export interface ExpectedPath extends ExpectedOutcome {
  entry: PathEntry
  from: SourceKind
  source?: string
  /** The nodes this outcome holds on, when a Local traffic policy makes nodes differ; absent: every node. */
  nodes?: string[]
  alternatives: ExpectedAlternative[]
  /** Some endpoint carries zone hints: kube-proxy on a node may keep only the endpoints hinted for its zone. */
  topologyHints: boolean
}

/** The expected data plane: what the report holds in place of traced node rules. */
export interface ExpectedDataplane {
  reason: NodesUntraced
  paths: ExpectedPath[]
}

const SERVICE_KINDS = new Set(['cluster-ip', 'node-port', 'external-ip', 'load-balancer'])

interface Client {
  from: SourceKind
  source?: string
  /** The node the client is on, when known: a Local policy then uses that node's endpoints. */
  node?: string
}

/** The kind of client `source` is: a node, a pod (on its node when known), or something outside. */
function clientOf(idx: ClusterIndex, source: string): Client {
  const node = idx.nodeByIP.get(source)?.metadata?.name
  if (node !== undefined) return {from: 'node', source, node}
  const pod = idx.podByIP.get(source)
  if (pod) return {from: 'pod', source, ...(pod.spec?.nodeName ? {node: pod.spec.nodeName} : {})}
  return {from: inAnyNetwork(source, podNetworks(idx)) ? 'pod' : 'external', source}
}

/** The nodes a Local policy is evaluated on: every Node, or (without Node objects) the endpoints' nodes. */
function candidateNodes(idx: ClusterIndex, svc: V1Service): string[] {
  const names = idx.view.nodes.map((n) => n.metadata?.name ?? '').filter(Boolean)
  if (names.length > 0) return names
  const fromSlices = (idx.slicesByService.get(keyOf(svc)) ?? []).flatMap((s) => (s.endpoints ?? []).map((e) => e.nodeName ?? ''))
  return [...new Set(fromSlices.filter(Boolean))].sort()
}

function spread(idx: ClusterIndex, list: EndpointAddress[], service: string): ExpectedBackend[] {
  return list.map((e) => ({ip: e.ip, port: e.port, probability: 1 / list.length, ...backendOwner(idx, e.ip, service)}))
}

/** The outcome on `node` (undefined: any node, the Cluster set) once the source ranges let the packet in. */
function endpointOutcome(idx: ClusterIndex, svc: V1Service, port: V1ServicePort, family: 4 | 6, local: boolean, node: string | undefined): ExpectedOutcome {
  const eps = expectedEndpoints(idx, svc, port, node ?? '', family)
  if (eps.cluster.length === 0) return {verdict: 'reject', rule: 'no-endpoints', backends: []}
  if (!local) return {verdict: 'dnat', rule: 'cluster-endpoints', backends: spread(idx, eps.cluster, keyOf(svc))}
  if (eps.local.length === 0) return {verdict: 'drop', rule: 'no-local-endpoints', backends: []}
  return {verdict: 'dnat', rule: 'local-endpoints', backends: spread(idx, eps.local, keyOf(svc))}
}

const NOT_ALLOWED: ExpectedOutcome = {verdict: 'drop', rule: 'source-not-allowed', backends: []}

/** The outcome and its alternatives on one node: source ranges are checked before the endpoints (KUBE-FW). */
function outcomeOn(
  idx: ClusterIndex,
  entry: Entry & {service: V1Service},
  port: V1ServicePort,
  client: Client,
  node: string | undefined,
): Pick<ExpectedPath, 'verdict' | 'rule' | 'backends' | 'alternatives'> {
  const svc = entry.service
  const family = familyOf(entry.destination.ip) ?? 4
  const local = usesLocalEndpoints(svc, entry.kind, client.from)
  const inner = () => endpointOutcome(idx, svc, port, family, local, node)
  const ranges = entry.kind === 'load-balancer' ? (svc.spec?.loadBalancerSourceRanges ?? []) : []
  if (ranges.length === 0) return {...inner(), alternatives: []}
  if (client.source !== undefined) {
    const admission = loadBalancerAdmission(svc, client.source)
    if (admission?.allowed === 'part') return {...NOT_ALLOWED, alternatives: [{when: [`source in ${admission.parts.join(' or ')}`], ...inner()}]}
    return {...(admission?.allowed === 'none' ? NOT_ALLOWED : inner()), alternatives: []}
  }
  // No client named: the default is one outside every range, as the node tracer assumes.
  return {...NOT_ALLOWED, alternatives: [{when: [`source in ${ranges.join(' or ')}`], ...inner()}]}
}

function servicePortOf(entry: Entry & {service: V1Service}): V1ServicePort | undefined {
  const want = entry.servicePort
  if (!want) return undefined
  return (entry.service.spec?.ports ?? []).find((p) => (p.name ?? '') === want.name && p.port === want.port && protocolOf(p) === entry.destination.protocol)
}

function pathEntryOf(entry: Entry & {service: V1Service}): PathEntry {
  return {
    address: formatDestination(entry.destination),
    destination: entry.destination,
    kind: entry.kind,
    service: keyOf(entry.service),
    ...(entry.servicePort ? {servicePort: entry.servicePort} : {}),
  }
}

/** Expected paths of one entry: one per kind of client, split by node only where a Local policy makes nodes differ. */
function entryPaths(idx: ClusterIndex, entry: Entry & {service: V1Service}, port: V1ServicePort, source: string | undefined): ExpectedPath[] {
  const svc = entry.service
  const hints = expectedEndpoints(idx, svc, port, '', familyOf(entry.destination.ip) ?? 4).hinted
  const clients: Client[] = source !== undefined ? [clientOf(idx, source)] : entry.from.map((from) => ({from}))
  const out: ExpectedPath[] = []
  for (const client of clients) {
    const base = {entry: pathEntryOf(entry), from: client.from, ...(client.source !== undefined ? {source: client.source} : {})}
    if (!usesLocalEndpoints(svc, entry.kind, client.from)) {
      out.push({...base, ...outcomeOn(idx, entry, port, client, undefined), topologyHints: hints})
      continue
    }
    const nodes = entry.node !== undefined ? [entry.node] : client.node !== undefined ? [client.node] : candidateNodes(idx, svc)
    const groups = new Map<string, {nodes: string[]; outcome: ReturnType<typeof outcomeOn>}>()
    for (const node of nodes) {
      const outcome = outcomeOn(idx, entry, port, client, node)
      const key = JSON.stringify(outcome)
      const group = groups.get(key)
      if (group) group.nodes.push(node)
      else groups.set(key, {nodes: [node], outcome})
    }
    for (const g of groups.values()) out.push({...base, nodes: g.nodes, ...g.outcome, topologyHints: hints})
  }
  return out
}

/**
 * What kube-proxy should program for the entries of a query, from the Services and their
 * EndpointSlices: the paths an API-only run reports, marked as expected rather than traced.
 */
export function expectedPaths(idx: ClusterIndex, entries: Entry[], source: string | undefined): ExpectedPath[] {
  const out: ExpectedPath[] = []
  for (const entry of entries) {
    const svc = entry.service
    if (!svc || !SERVICE_KINDS.has(entry.kind) || isLoopback(entry.destination.ip)) continue
    const withService = {...entry, service: svc}
    const port = servicePortOf(withService)
    if (port) out.push(...entryPaths(idx, withService, port, source))
  }
  return out
}
