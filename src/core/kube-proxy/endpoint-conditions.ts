// Which endpoints kube-proxy may send a connection to, read from EndpointSlice conditions exactly as
// kube-proxy reads them. Every "is this endpoint usable" question in svctrace is answered here.
import type {V1Endpoint, V1EndpointSlice} from '@kubernetes/client-node'

type Conditions = Pick<V1Endpoint, 'conditions'>

/**
 * Ready for new connections. A nil `ready` counts as true: pkg/proxy/endpointslicecache.go
 * `newEndpointSliceInfo` (`Ready: Conditions.Ready == nil || *Conditions.Ready`), read back by
 * pkg/proxy/endpoint.go `IsReady`.
 */
export function isReady(e: Conditions): boolean {
  return e.conditions?.ready !== false
}

/**
 * Able to serve, whether terminating or not. kube-proxy counts a nil `serving` as true
 * (endpointslicecache.go `newEndpointSliceInfo`, endpoint.go `IsServing`); the EndpointConditions
 * API doc says "defer to ready", which differs only for `ready: false` with no `serving`, and then
 * kube-proxy's reading is what its rules show.
 */
export function isServing(e: Conditions): boolean {
  return e.conditions?.serving !== false
}

/** Being deleted. A nil `terminating` counts as false (endpointslicecache.go, endpoint.go `IsTerminating`). */
export function isTerminating(e: Conditions): boolean {
  return e.conditions?.terminating === true
}

/**
 * An endpoint kube-proxy can ever use: ready, or serving while terminating. This is the per-endpoint
 * test of pkg/proxy/topology.go `CategorizeEndpoints` behind `hasAnyEndpoints` (the "has endpoints"
 * that decides between REJECT and DROP); a not-ready, not-serving endpoint is never used.
 */
export function isUsable(e: Conditions): boolean {
  return isReady(e) || (isServing(e) && isTerminating(e))
}

/**
 * The endpoints kube-proxy picks from one candidate set (the cluster-wide set, or one node's local
 * set): the ready ones, or, when none is ready, the serving-and-terminating ones
 * (pkg/proxy/topology.go `CategorizeEndpoints`; the fallback is GA since v1.28, beta-on in v1.26).
 */
export function chooseUsable<T extends Conditions>(candidates: T[]): T[] {
  const ready = candidates.filter(isReady)
  return ready.length > 0 ? ready : candidates.filter((e) => isServing(e) && isTerminating(e))
}

/**
 * The slices kube-proxy reads: IPv4 and IPv6 ones; FQDN slices are skipped
 * (pkg/proxy/endpointschangetracker.go `EndpointSliceUpdate`, supportedEndpointSliceAddressTypes).
 */
export function ipSlices(slices: V1EndpointSlice[]): V1EndpointSlice[] {
  return slices.filter((s) => s.addressType !== 'FQDN')
}

/**
 * True when the slices give kube-proxy at least one usable endpoint: a slice port with a number
 * (endpointslicecache.go `endpointInfoByServicePort` ignores ports without one) and an endpoint with
 * an address (`addEndpoints` ignores empty ones) that is ready, or serving while terminating.
 */
export function hasUsableEndpoint(slices: V1EndpointSlice[]): boolean {
  return ipSlices(slices).some((s) => (s.ports ?? []).some((p) => p.port) && (s.endpoints ?? []).some((e) => e.addresses.length > 0 && isUsable(e)))
}
