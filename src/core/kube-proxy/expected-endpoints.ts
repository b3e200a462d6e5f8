// Which endpoints kube-proxy on a node should forward a service port to, from the EndpointSlices:
// the rules of pkg/proxy CategorizeEndpoints (ready first, else serving-and-terminating; local
// ones for Local traffic policies). Drift checks hold each node's rules against this; API-only runs
// show it as the expected data plane.
import type {V1EndpointConditions, V1Service, V1ServicePort} from '@kubernetes/client-node'
import {canonicalIP, joinHostPort} from '../address.js'
import {keyOf, protocolOf, type ClusterIndex} from '../cluster-index.js'
import {chooseUsable} from './endpoint-conditions.js'

/** One endpoint kube-proxy forwards to: the slice address and the slice port of the service port. */
export interface EndpointAddress {
  ip: string
  port: number
}

interface Candidate extends EndpointAddress {
  /** `IP:port`, the key kube-proxy merges duplicates and sorts by. */
  endpoint: string
  conditions?: V1EndpointConditions
  local: boolean
}

export interface ExpectedEndpoints {
  /** For Cluster traffic policy, sorted by `IP:port` as kube-proxy sorts them. */
  cluster: EndpointAddress[]
  /** This node's endpoints, for Local traffic policy. */
  local: EndpointAddress[]
  /** Some endpoint carries topology hints: kube-proxy may filter the cluster set per zone. */
  hinted: boolean
}

function choose(list: Candidate[]): EndpointAddress[] {
  return chooseUsable(list)
    .sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0))
    .map(({ip, port}) => ({ip, port}))
}

/**
 * The endpoints of one service port as kube-proxy on `node` selects them (IPv4 or IPv6 by `family`):
 * pkg/proxy/endpointslicecache.go `endpointInfoByServicePort` (ports matched by name, first address,
 * duplicates merged), then pkg/proxy/topology.go `CategorizeEndpoints` for the Cluster and Local sets.
 */
export function expectedEndpoints(idx: ClusterIndex, svc: V1Service, port: V1ServicePort, node: string, family: 4 | 6): ExpectedEndpoints {
  const byEndpoint = new Map<string, Candidate>()
  let hinted = false
  for (const slice of idx.slicesByService.get(keyOf(svc)) ?? []) {
    if (slice.addressType !== (family === 4 ? 'IPv4' : 'IPv6')) continue
    // kube-proxy matches slice ports to service ports by name ("" for an unnamed port).
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === protocolOf(port))
    if (!sp?.port) continue
    for (const ep of slice.endpoints ?? []) {
      if ((ep.hints?.forZones?.length ?? 0) > 0) hinted = true
      const address = ep.addresses[0]
      if (!address) continue
      const ip = canonicalIP(address)
      const endpoint = joinHostPort(ip, sp.port)
      const local = node !== '' && ep.nodeName === node
      const seen = byEndpoint.get(endpoint)
      // Duplicates across slices: kube-proxy keeps the local one (endpointslicecache.go addEndpoints).
      if (seen && !local) continue
      // No spread: every endpoint of every Service passes here in check mode.
      const {conditions} = ep
      byEndpoint.set(endpoint, conditions ? {ip, port: sp.port, endpoint, conditions, local} : {ip, port: sp.port, endpoint, local})
    }
  }
  const all = [...byEndpoint.values()]
  return {cluster: choose(all), local: choose(all.filter((c) => c.local)), hinted}
}
