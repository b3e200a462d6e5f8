// Look-ups over the API objects: services by address and node port, slices by service, pods and
// nodes by IP. Built once per run in linear time.
import type {V1Endpoint, V1Endpoints, V1EndpointSlice, V1Node, V1Pod, V1Service} from '@kubernetes/client-node'
import {canonicalIP, familyOf, isIP} from './address.js'
import {nodePodCIDRs} from './kube-proxy/pod-cidrs.js'
import type {ClusterView, Protocol} from './model.js'

/** A Service port that has a node port (what `idx.nodePorts` holds). */
export interface ServicePortRef {
  service: V1Service
  portName: string
  port: number
  protocol: Protocol
  nodePort: number
}

export interface AddressOwner {
  kind: 'cluster-ip' | 'external-ip' | 'load-balancer'
  service: V1Service
}

export interface ClusterIndex {
  view: ClusterView
  serviceByKey: Map<string, V1Service>
  /** VIP (clusterIP, externalIP, LB ingress) → services holding it. */
  owners: Map<string, AddressOwner[]>
  /** `port/PROTO` → service ports with that nodePort. */
  nodePorts: Map<string, ServicePortRef[]>
  podByIP: Map<string, V1Pod>
  nodeByIP: Map<string, V1Node>
  nodeByName: Map<string, V1Node>
  slicesByService: Map<string, V1EndpointSlice[]>
  slicesByNamespace: Map<string, V1EndpointSlice[]>
  endpointsByKey: Map<string, V1Endpoints>
}

/** `namespace/name` of an object. */
export function keyOf(o: {metadata?: {namespace?: string; name?: string}}): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/** The node's addresses, InternalIP first. */
export function nodeAddresses(node: V1Node): readonly string[] {
  let addresses = addressesOf.get(node)
  if (!addresses) {
    const order = ['InternalIP', 'ExternalIP']
    addresses = (node.status?.addresses ?? [])
      .filter((a) => order.includes(a.type))
      .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type))
      .map((a) => canonicalIP(a.address))
    addressesOf.set(node, addresses)
  }
  return addresses
}

// nodeAddresses' answers, per node object: every trace on the node asks, and its trace parses the list once (trace/node.ts).
const addressesOf = new WeakMap<V1Node, readonly string[]>()

// The Service's addresses kube-proxy programs: like kube-proxy, only those that parse as an IP (the
// API server accepts no other; a hand-edited bundle may hold one, and it must not reach a tracer).
export function clusterIPsOf(svc: V1Service): string[] {
  const ips = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])
  return ips.filter((ip) => ip && ip !== 'None' && isIP(ip)).map(canonicalIP)
}

/**
 * The IP families kube-proxy programs the Service in, 4 before 6: it runs one proxier per family,
 * and each handles the Services with a cluster IP of its family (spec.ipFamilies and
 * spec.clusterIPs agree on a real cluster; either counts). Empty when neither says.
 */
export function serviceFamilies(svc: V1Service): Array<4 | 6> {
  const families = new Set<4 | 6>()
  for (const f of svc.spec?.ipFamilies ?? []) if (f === 'IPv4' || f === 'IPv6') families.add(f === 'IPv4' ? 4 : 6)
  // clusterIPsOf gives canonical addresses: the IPv6 ones are those with a colon.
  for (const ip of clusterIPsOf(svc)) families.add(ip.includes(':') ? 6 : 4)
  return ([4, 6] as const).filter((f) => families.has(f))
}

/** The node's first address of the family (InternalIP first). */
export function nodeAddressOf(node: V1Node, family: 4 | 6): string | undefined {
  return nodeAddresses(node).find((a) => familyOf(a) === family)
}

export function loadBalancerIPsOf(svc: V1Service): string[] {
  if (svc.spec?.type !== 'LoadBalancer') return []
  // kube-proxy does not capture an ingress IP whose ipMode is Proxy.
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip && i.ipMode !== 'Proxy' && isIP(i.ip) ? [canonicalIP(i.ip)] : []))
}

export function externalIPsOf(svc: V1Service): string[] {
  return (svc.spec?.externalIPs ?? []).filter(isIP).map(canonicalIP)
}

export function protocolOf(p: {protocol?: string}): Protocol {
  return (p.protocol?.toUpperCase() as Protocol | undefined) ?? 'TCP'
}

/** Builds every look-up table in one pass over each list. */
export function indexCluster(view: ClusterView): ClusterIndex {
  const idx: ClusterIndex = {
    view,
    serviceByKey: new Map(),
    owners: new Map(),
    nodePorts: new Map(),
    podByIP: new Map(),
    nodeByIP: new Map(),
    nodeByName: new Map(),
    slicesByService: new Map(),
    slicesByNamespace: new Map(),
    endpointsByKey: new Map(),
  }
  for (const svc of view.services) {
    idx.serviceByKey.set(keyOf(svc), svc)
    for (const ip of clusterIPsOf(svc)) push(idx.owners, ip, {kind: 'cluster-ip', service: svc})
    for (const ip of externalIPsOf(svc)) push(idx.owners, ip, {kind: 'external-ip', service: svc})
    for (const ip of loadBalancerIPsOf(svc)) push(idx.owners, ip, {kind: 'load-balancer', service: svc})
    for (const p of svc.spec?.ports ?? []) {
      if (p.nodePort) {
        push(idx.nodePorts, `${p.nodePort}/${protocolOf(p)}`, {
          service: svc,
          portName: p.name ?? '',
          port: p.port,
          protocol: protocolOf(p),
          nodePort: p.nodePort,
        })
      }
    }
  }
  for (const pod of view.pods) {
    if (pod.spec?.hostNetwork) continue
    const ips = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : [])
    // A finished pod's IP may already belong to a new one: prefer pods that are not done.
    const done = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed'
    for (const ip of ips) {
      const c = canonicalIP(ip)
      if (!done || !idx.podByIP.has(c)) idx.podByIP.set(c, pod)
    }
  }
  for (const node of view.nodes) {
    idx.nodeByName.set(node.metadata?.name ?? '', node)
    for (const ip of nodeAddresses(node)) idx.nodeByIP.set(ip, node)
  }
  for (const slice of view.endpointSlices) {
    const svc = slice.metadata?.labels?.['kubernetes.io/service-name']
    if (svc) push(idx.slicesByService, `${slice.metadata?.namespace ?? ''}/${svc}`, slice)
    push(idx.slicesByNamespace, slice.metadata?.namespace ?? '', slice)
  }
  for (const e of view.endpoints) idx.endpointsByKey.set(keyOf(e), e)
  return idx
}

/** podNetworks per index, made once: every trace of every Service asks (without podCIDRs it lists every pod IP). */
const podNetworksOf = new WeakMap<ClusterIndex, string[]>()

/** Pod networks of the cluster: node podCIDRs, else the pod IPs themselves. */
export function podNetworks(idx: ClusterIndex): string[] {
  let networks = podNetworksOf.get(idx)
  if (!networks) {
    const cidrs = idx.view.nodes.flatMap(nodePodCIDRs)
    networks = cidrs.length > 0 ? cidrs : [...idx.podByIP.keys()]
    podNetworksOf.set(idx, networks)
  }
  return networks
}

/** An endpoint of a Service's EndpointSlices, with the slice that lists it. */
export interface SliceEndpoint {
  slice: V1EndpointSlice
  endpoint: V1Endpoint
}

// Per index, the endpoints by address of the Services looked up last (keyed by their slice list,
// idx.slicesByService's value), most recent last, and the very last one apart: most lookups ask for the
// Service asked for just before. Bounded: check mode looks at one Service after the other, and what
// 10,000 Services' maps would hold (100,000 entries) is never asked for again.
interface RecentEndpointMaps {
  last?: {slices: readonly V1EndpointSlice[]; byAddress: ReadonlyMap<string, SliceEndpoint[]>}
  maps: Map<readonly V1EndpointSlice[], Map<string, SliceEndpoint[]>>
}
const recentEndpointMaps = new WeakMap<ClusterIndex, RecentEndpointMaps>()
const RECENT_ENDPOINT_MAPS = 16
const NO_ENDPOINTS: ReadonlyMap<string, SliceEndpoint[]> = new Map()

/** The Service's endpoints by canonical address, in slice order (an address may be listed more than once). */
function endpointMapOf(slices: readonly V1EndpointSlice[]): Map<string, SliceEndpoint[]> {
  const byAddress = new Map<string, SliceEndpoint[]>()
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      const {addresses} = endpoint
      // An endpoint has one address (the API allows more, all of one family); no Set for the one.
      if (addresses.length === 1 && addresses[0] !== undefined) push(byAddress, canonicalIP(addresses[0]), {slice, endpoint})
      else for (const a of new Set(addresses.map(canonicalIP))) push(byAddress, a, {slice, endpoint})
    }
  }
  return byAddress
}

/**
 * The Service's endpoints by canonical address, made once while the Service is being traced: each
 * backend of each path looks its address up here instead of scanning every endpoint.
 */
export function endpointsByAddress(idx: ClusterIndex, service: string): ReadonlyMap<string, SliceEndpoint[]> {
  const slices = idx.slicesByService.get(service)
  if (!slices) return NO_ENDPOINTS
  let recent = recentEndpointMaps.get(idx)
  if (!recent) {
    recent = {maps: new Map()}
    recentEndpointMaps.set(idx, recent)
  }
  if (recent.last?.slices === slices) return recent.last.byAddress
  const {maps} = recent
  let byAddress = maps.get(slices)
  if (byAddress) {
    // Most recent last: the first is the one to drop.
    maps.delete(slices)
    maps.set(slices, byAddress)
  } else {
    byAddress = endpointMapOf(slices)
    maps.set(slices, byAddress)
    for (const oldest of maps.keys()) {
      if (maps.size <= RECENT_ENDPOINT_MAPS) break
      maps.delete(oldest)
    }
  }
  recent.last = {slices, byAddress}
  return byAddress
}
