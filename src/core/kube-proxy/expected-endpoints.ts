// Which endpoints kube-proxy on a node should forward a service port to, from the EndpointSlices:
// the rules of pkg/proxy CategorizeEndpoints (ready first, else serving-and-terminating; local
// ones for Local traffic policies). Drift checks hold each node's rules against this.
import type {V1EndpointConditions, V1Service, V1ServicePort} from '@kubernetes/client-node'
import {canonicalIP, joinHostPort} from '../address.js'
import {keyOf, protocolOf, type ClusterIndex} from '../cluster-index.js'
import {chooseUsable} from './endpoint-conditions.js'

interface Candidate {
  endpoint: string
  conditions?: V1EndpointConditions
  local: boolean
}

export interface ExpectedEndpoints {
  /** `IP:port` for Cluster traffic policy. */
  cluster: string[]
  /** `IP:port` of this node's endpoints, for Local traffic policy. */
  local: string[]
  /** Some endpoint carries topology hints: kube-proxy may filter the cluster set per zone. */
  hinted: boolean
}

function choose(list: Candidate[]): string[] {
  return chooseUsable(list)
    .map((c) => c.endpoint)
    .sort()
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
      if ((ep.hints?.forZones ?? []).length > 0) hinted = true
      const ip = ep.addresses[0]
      if (!ip) continue
      const endpoint = joinHostPort(canonicalIP(ip), sp.port)
      const local = ep.nodeName === node
      const seen = byEndpoint.get(endpoint)
      // Duplicates across slices: kube-proxy keeps the local one (endpointslicecache.go addEndpoints).
      if (!seen || local) byEndpoint.set(endpoint, {endpoint, ...(ep.conditions ? {conditions: ep.conditions} : {}), local})
    }
  }
  const all = [...byEndpoint.values()]
  return {cluster: choose(all), local: choose(all.filter((c) => c.local)), hinted}
}
