// What to read from a node for one query. A single-Service trace reads only the chains on its paths
// (targeted collection); check mode, --capture and addresses nobody owns read whole dumps.
//
// The first round asks for every chain the tracer walks first (nat PREROUTING/OUTPUT → KUBE-SERVICES,
// filter INPUT/FORWARD/OUTPUT and kube-proxy's filter chains) plus the chains kube-proxy names after
// this Service: KUBE-SVC/SVL/EXT/FW per service port and KUBE-SEP per endpoint, recomputed with
// kube-proxy's hash so the names are known even when its rules carry no comments (>1000 endpoints).
// Later rounds (chain-listing.ts nextChains) follow jumps the API could not predict (stale SEPs).
import type {V1EndpointSlice, V1Service, V1ServicePort} from '@kubernetes/client-node'
import {canonicalIP, joinHostPort} from './address.js'
import {externalIPsOf, keyOf, loadBalancerIPsOf, nodeAddresses, protocolOf, type ClusterIndex} from './cluster-index.js'
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
  /** Targeted: the chains to fetch in the first round, by table (entry chains plus the KUBE-SVC/SVL/EXT/FW/SEP names the API predicts). */
  chains: Record<PlanTable, string[]>
  /** Targeted: the destinations the trace follows; later rounds fetch only chains that rules matching one of them jump to. */
  destinations: PlannedDestination[]
  /**
   * Targeted: every node address the API knows. `-m addrtype --dst-type LOCAL` can only match these
   * (and loopback), so a cluster IP never pulls in KUBE-NODEPORTS. Absent: any address may be local.
   */
  localAddresses?: string[]
  /** Why the plan is full, for messages (`--capture reads whole dumps`). */
  reason?: string
}

export interface PlanOptions {
  /** Force whole dumps (--capture). */
  full?: boolean
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

function fullPlan(reason: string): CollectionPlan {
  return {full: true, chains: {nat: [], filter: []}, destinations: [], reason}
}

/** KUBE-SVC/SVL/EXT/FW of one service port: the ones kube-proxy can have made for this Service's shape. */
function servicePortChains(svc: V1Service, port: V1ServicePort, spn: string, protocol: string): string[] {
  const spec = svc.spec ?? {}
  const lbIPs = loadBalancerIPsOf(svc)
  const external = Boolean(port.nodePort) || externalIPsOf(svc).length > 0 || lbIPs.length > 0
  const chains = [servicePortChainName('SVC', spn, protocol)]
  if (spec.internalTrafficPolicy === 'Local' || (external && spec.externalTrafficPolicy === 'Local')) chains.push(servicePortChainName('SVL', spn, protocol))
  if (external) chains.push(servicePortChainName('EXT', spn, protocol))
  if (lbIPs.length > 0 && (spec.loadBalancerSourceRanges ?? []).length > 0) chains.push(servicePortChainName('FW', spn, protocol))
  return chains
}

/** KUBE-SEP of every endpoint kube-proxy can use for the port (only an endpoint's first address counts). */
function endpointChains(slices: V1EndpointSlice[], port: V1ServicePort, spn: string, protocol: string): string[] {
  const chains: string[] = []
  for (const slice of ipSlices(slices)) {
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && protocolOf(p) === protocolOf(port))
    if (!sp?.port) continue
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses[0]
      // Neither ready nor serving-and-terminating: kube-proxy never writes a chain for it.
      if (!ip || !isUsable(ep)) continue
      chains.push(endpointChainName(spn, protocol, joinHostPort(canonicalIP(ip), sp.port)))
    }
  }
  return chains
}

/** Every node address, unless a node has none (then the tracer cannot rule out a local destination either). */
function localAddressesOf(view: ClusterView): Pick<CollectionPlan, 'localAddresses'> {
  const perNode = view.nodes.map(nodeAddresses)
  return perNode.length > 0 && perNode.every((a) => a.length > 0) ? {localAddresses: [...new Set(perNode.flat())]} : {}
}

/** The first-round chains and the destinations of one Service. */
function servicePlan(idx: ClusterIndex, svc: V1Service): CollectionPlan {
  const {view} = idx
  const nat = [...ENTRY_CHAINS.nat]
  const ports = svc.spec?.ports ?? []
  if (ports.some((p) => p.nodePort)) nat.push('KUBE-NODEPORTS')
  const slices = idx.slicesByService.get(keyOf(svc)) ?? []
  const ns = svc.metadata?.namespace ?? ''
  const name = svc.metadata?.name ?? ''
  for (const port of ports) {
    const spn = servicePortName(ns, name, port.name ?? '')
    const protocol = protocolOf(port).toLowerCase()
    nat.push(...servicePortChains(svc, port, spn, protocol), ...endpointChains(slices, port, spn, protocol))
  }
  const destinations = new Map<string, PlannedDestination>()
  for (const e of serviceEntries(svc, view.nodes)) {
    const d = e.destination
    if (d.port !== undefined) destinations.set(`${d.ip} ${d.port} ${d.protocol}`, {ip: d.ip, port: d.port, protocol: d.protocol})
  }
  const chains = {nat: [...new Set(nat)], filter: [...ENTRY_CHAINS.filter]}
  if (chains.nat.length + chains.filter.length > MAX_TARGETED_CHAINS) {
    return fullPlan(`${keyOf(svc)} needs ${chains.nat.length + chains.filter.length} chains, more than ${MAX_TARGETED_CHAINS}: one whole dump is cheaper`)
  }
  return {
    full: false,
    chains,
    destinations: [...destinations.values()],
    ...localAddressesOf(view),
  }
}

/** The plan for a query over what the API returned. */
export function planCollection(idx: ClusterIndex, query: Query, opts: PlanOptions = {}): CollectionPlan {
  if (opts.full === true) return fullPlan('--capture reads whole dumps')
  if (query.kind !== 'service') return fullPlan(query.kind === 'all' ? 'checking every Service reads whole dumps' : 'an address query reads whole dumps')
  const svc = idx.serviceByKey.get(`${query.namespace}/${query.service}`)
  if (!svc) return fullPlan(`Service ${query.namespace}/${query.service} was not read from the API`)
  return servicePlan(idx, svc)
}
