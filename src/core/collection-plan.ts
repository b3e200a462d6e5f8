// What to read from a node for one query. A single-Service trace reads only the chains on its paths
// (targeted collection); check mode, --capture and addresses nobody owns read whole dumps.
//
// The first round asks for every chain the tracer walks first (nat PREROUTING/OUTPUT → KUBE-SERVICES,
// filter INPUT/FORWARD/OUTPUT and kube-proxy's filter chains) plus the chains kube-proxy names after
// this Service: KUBE-SVC/SVL/EXT/FW per service port and KUBE-SEP per endpoint, recomputed with
// kube-proxy's hash so the names are known even when its rules carry no comments (>1000 endpoints).
// Later rounds (chain-listing.ts nextChains) follow jumps the API could not predict (stale SEPs).
//
// kube-proxy runs one proxier per IP family: a Service's IPv4 rules are in iptables, its IPv6 rules
// in ip6tables, under the same chain names (the hash has no family in it) but with each family's
// own external IPs, load-balancer IPs, source ranges and endpoints. `chains` is the IPv4 list,
// `chains6` the IPv6 one, read only when `ipv6` says the Service has an IPv6 family.
import type {V1EndpointSlice, V1Service, V1ServicePort} from '@kubernetes/client-node'
import {canonicalIP, familyOf, isIP, joinHostPort, parseCidr} from './address.js'
import {clusterIPsOf, externalIPsOf, keyOf, loadBalancerIPsOf, nodeAddresses, protocolOf, serviceFamilies, type ClusterIndex} from './cluster-index.js'
import {serviceEntries} from './entries.js'
import {endpointChainName, servicePortChainName, servicePortName} from './kube-proxy/chain-names.js'
import {ipSlices, isUsable} from './kube-proxy/endpoint-conditions.js'
import type {ClusterView, Query} from './model.js'

export type PlanTable = 'nat' | 'filter'

/** One address the trace follows (a cluster IP, node port, external or load-balancer IP). */
export interface PlannedDestination {
  ip: string
  port: number
  protocol: string
}

export interface CollectionPlan {
  /** Whole dumps: every table, every mode's state (--capture, -A / -n checks, unowned --ip). */
  full: boolean
  /**
   * Whether the node's IPv6 rules are needed too (ip6tables-save, or chains6 with ip6tables -S): the
   * traced Service has an IPv6 family (spec.ipFamilies / clusterIPs); for a full plan, some Service
   * of the view has one, or the queried address is IPv6.
   */
  ipv6: boolean
  /**
   * Targeted: the IPv4 chains (iptables) to fetch in the first round, by table: entry chains plus the
   * KUBE-SVC/SVL/EXT/FW/SEP names the API predicts for the Service's IPv4 family (entry chains only
   * when it has none).
   */
  chains: Record<PlanTable, string[]>
  /**
   * Targeted: the same for ip6tables: entry chains plus the IPv6 family's KUBE-SVC/SVL/EXT/FW names and
   * a KUBE-SEP per endpoint of the IPv6 EndpointSlices (`[addr]:port` in the hash). Empty when `ipv6` is false.
   */
  chains6: Record<PlanTable, string[]>
  /** Targeted: the destinations the trace follows; later rounds fetch only chains that rules matching one of them jump to. */
  destinations: PlannedDestination[]
  /**
   * Targeted: every node address the API knows. `-m addrtype --dst-type LOCAL` can only match these
   * (and loopback), so a cluster IP never pulls in KUBE-NODEPORTS. Absent: any address may be local.
   */
  localAddresses?: string[]
  /** Why the plan is full, for messages (`--capture reads whole dumps`). */
  reason?: string
  /** --conntrack: the destinations whose connection-tracking entries to read (`conntrack -L -d IP` each), or the whole table. */
  conntrack?: {addresses: string[] | 'all'}
  /** Read the rules with their traffic counters (--counters): `iptables-save -c`, `iptables -S CHAIN -v`, `ipvsadm --stats`. */
  counters?: boolean
}

export interface PlanOptions {
  /** Force whole dumps (--capture). */
  full?: boolean
  /** Read connection-tracking entries too (--conntrack). */
  conntrack?: boolean
  /** Read traffic counters too (--counters). */
  counters?: boolean
}

/** Past this many chains one `iptables -S` per chain costs more than one whole dump. */
export const MAX_TARGETED_CHAINS = 400

// Every chain the tracer enters before any per-Service chain (trace.ts walks nat PREROUTING or
// OUTPUT, then filter INPUT, FORWARD or OUTPUT, and kube-proxy's hook chains when a built-in chain is
// empty). KUBE-MARK-MASQ gives the masquerade mark; KUBE-POSTROUTING is never walked.
const ENTRY_CHAINS: Record<PlanTable, string[]> = {
  nat: ['PREROUTING', 'OUTPUT', 'KUBE-SERVICES', 'KUBE-MARK-MASQ'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', 'KUBE-FORWARD', 'KUBE-FIREWALL'],
}

const NO_CHAINS: Record<PlanTable, string[]> = {nat: [], filter: []}

function fullPlan(reason: string, ipv6: boolean): CollectionPlan {
  return {full: true, ipv6, chains: {nat: [], filter: []}, chains6: {nat: [], filter: []}, destinations: [], reason}
}

/** The families kube-proxy programs the Service in; a Service that names none is taken as IPv4 (as before dual-stack). */
function familiesOf(svc: V1Service): Array<4 | 6> {
  const families = serviceFamilies(svc)
  return families.length > 0 ? families : [4]
}

/**
 * KUBE-SVC/SVL/EXT/FW of one service port in one family: the ones that family's proxier can have
 * made for this Service's shape. Each proxier keeps only the external IPs, load-balancer IPs and
 * source ranges of its family (pkg/proxy/serviceport.go newBaseServiceInfo).
 */
function servicePortChains(svc: V1Service, port: V1ServicePort, spn: string, protocol: string, family: 4 | 6): string[] {
  const spec = svc.spec ?? {}
  const ofFamily = (ips: string[]) => ips.filter((ip) => familyOf(ip) === family)
  const lbIPs = ofFamily(loadBalancerIPsOf(svc))
  const external = Boolean(port.nodePort) || ofFamily(externalIPsOf(svc)).length > 0 || lbIPs.length > 0
  const sourceRanges = (spec.loadBalancerSourceRanges ?? []).filter((r) => parseCidr(r.trim())?.family === family)
  const chains = [servicePortChainName('SVC', spn, protocol)]
  if (spec.internalTrafficPolicy === 'Local' || (external && spec.externalTrafficPolicy === 'Local')) chains.push(servicePortChainName('SVL', spn, protocol))
  if (external) chains.push(servicePortChainName('EXT', spn, protocol))
  if (lbIPs.length > 0 && sourceRanges.length > 0) chains.push(servicePortChainName('FW', spn, protocol))
  return chains
}

/**
 * KUBE-SEP of every endpoint of the family kube-proxy can use for the port (only an endpoint's first
 * address counts; an IPv6 one is hashed as `[addr]:port`).
 */
function endpointChains(slices: V1EndpointSlice[], port: V1ServicePort, spn: string, protocol: string, family: 4 | 6): string[] {
  const chains: string[] = []
  for (const slice of ipSlices(slices)) {
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && protocolOf(p) === protocolOf(port))
    if (!sp?.port) continue
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses[0]
      // Neither ready nor serving-and-terminating: kube-proxy never writes a chain for it.
      if (!ip || !isUsable(ep) || familyOf(ip) !== family) continue
      chains.push(endpointChainName(spn, protocol, joinHostPort(canonicalIP(ip), sp.port)))
    }
  }
  return chains
}

/** The first-round chains of one family: the entry chains, plus the Service's own when it has that family. */
function familyChains(idx: ClusterIndex, svc: V1Service, family: 4 | 6): Record<PlanTable, string[]> {
  const nat = [...ENTRY_CHAINS.nat]
  const filter = [...ENTRY_CHAINS.filter]
  if (!familiesOf(svc).includes(family)) return {nat, filter}
  const ports = svc.spec?.ports ?? []
  if (ports.some((p) => p.nodePort)) nat.push('KUBE-NODEPORTS')
  const slices = idx.slicesByService.get(keyOf(svc)) ?? []
  const ns = svc.metadata?.namespace ?? ''
  const name = svc.metadata?.name ?? ''
  for (const port of ports) {
    const spn = servicePortName(ns, name, port.name ?? '')
    const protocol = protocolOf(port).toLowerCase()
    nat.push(...servicePortChains(svc, port, spn, protocol, family), ...endpointChains(slices, port, spn, protocol, family))
  }
  return {nat: [...new Set(nat)], filter}
}

const count = (c: Record<PlanTable, string[]>) => c.nat.length + c.filter.length

/** True when a Service of the view has an IPv6 family (a whole read then takes ip6tables-save too). */
function viewHasIPv6(view: ClusterView): boolean {
  return view.services.some((s) => serviceFamilies(s).includes(6))
}

/** Every node address, unless a node has none (then the tracer cannot rule out a local destination either). */
function localAddressesOf(view: ClusterView): Pick<CollectionPlan, 'localAddresses'> {
  const perNode = view.nodes.map(nodeAddresses)
  return perNode.length > 0 && perNode.every((a) => a.length > 0) ? {localAddresses: [...new Set(perNode.flat())]} : {}
}

/** The first-round chains and the destinations of one Service. */
function servicePlan(idx: ClusterIndex, svc: V1Service): CollectionPlan {
  const {view} = idx
  const ipv6 = serviceFamilies(svc).includes(6)
  const chains = familyChains(idx, svc, 4)
  const chains6 = ipv6 ? familyChains(idx, svc, 6) : NO_CHAINS
  const destinations = new Map<string, PlannedDestination>()
  for (const e of serviceEntries(svc, view.nodes)) {
    const d = e.destination
    if (d.port !== undefined) destinations.set(`${d.ip} ${d.port} ${d.protocol}`, {ip: d.ip, port: d.port, protocol: d.protocol})
  }
  const total = count(chains) + count(chains6)
  if (total > MAX_TARGETED_CHAINS) {
    return fullPlan(`${keyOf(svc)} needs ${total} chains, more than ${MAX_TARGETED_CHAINS}: one whole dump is cheaper`, ipv6)
  }
  return {
    full: false,
    ipv6,
    chains,
    chains6: {nat: [...chains6.nat], filter: [...chains6.filter]},
    destinations: [...destinations.values()],
    ...localAddressesOf(view),
  }
}

/**
 * The addresses whose conntrack entries show where a Service's connections went: its cluster IPs,
 * external IPs and load-balancer IPs (node ports share the node's address with everything else). An
 * address query reads its own address; a check of every Service reads the whole table.
 */
function conntrackAddresses(idx: ClusterIndex, query: Query): string[] | 'all' {
  if (query.kind === 'all') return 'all'
  if (query.kind === 'ip') return isIP(query.ip) ? [canonicalIP(query.ip)] : []
  const svc = idx.serviceByKey.get(`${query.namespace}/${query.service}`)
  if (!svc) return []
  return [...new Set([...clusterIPsOf(svc), ...externalIPsOf(svc), ...loadBalancerIPsOf(svc)].filter(isIP).map(canonicalIP))]
}

/** The plan for a query over what the API returned. */
export function planCollection(idx: ClusterIndex, query: Query, opts: PlanOptions = {}): CollectionPlan {
  const plan = planReads(idx, query, opts)
  return {
    ...plan,
    ...(opts.conntrack === true ? {conntrack: {addresses: conntrackAddresses(idx, query)}} : {}),
    ...(opts.counters === true ? {counters: true} : {}),
  }
}

/** Check mode (-A, -n NS): every Service is traced, and so every chain the nodes have. */
function tracesEveryService(query: Query): boolean {
  return query.kind === 'all'
}

/** What to read, conntrack and counters aside. */
function planReads(idx: ClusterIndex, query: Query, opts: PlanOptions): CollectionPlan {
  const ipv6 = viewHasIPv6(idx.view) || (query.kind === 'ip' && familyOf(query.ip) === 6)
  if (tracesEveryService(query)) return fullPlan(opts.full === true ? '--capture reads whole dumps' : 'checking every Service reads whole dumps', ipv6)
  if (opts.full === true) return fullPlan('--capture reads whole dumps', ipv6)
  if (query.kind !== 'service') return fullPlan('an address query reads whole dumps', ipv6)
  const svc = idx.serviceByKey.get(`${query.namespace}/${query.service}`)
  if (!svc) return fullPlan(`Service ${query.namespace}/${query.service} was not read from the API`, ipv6)
  return servicePlan(idx, svc)
}
