// Reading EndpointSlices as kube-proxy does: which endpoints it may use, and where they run.
import type {V1Endpoint, V1EndpointSlice, V1Pod} from '@kubernetes/client-node'

/** kube-proxy skips FQDN slices. */
export function ipSlices(slices: V1EndpointSlice[]): V1EndpointSlice[] {
  return slices.filter((s) => s.addressType !== 'FQDN')
}

/** A nil `ready` means "unknown", which consumers read as ready. */
export function isReadyEndpoint(e: V1Endpoint): boolean {
  return e.conditions?.ready !== false
}

/** Ready, or still serving while terminating (kube-proxy falls back to those). */
function isUsableEndpoint(e: V1Endpoint): boolean {
  return isReadyEndpoint(e) || (e.conditions?.serving === true && e.conditions?.terminating === true)
}

/** `frontend-6b7f9d8c5-4kz2q (10.244.1.11)`, or the bare address for an endpoint with no pod. */
export function describeEndpoint(e: V1Endpoint): string {
  const ips = e.addresses.join(', ')
  return e.targetRef?.kind === 'Pod' && e.targetRef.name ? `${e.targetRef.name} (${ips})` : ips
}

/** The node an endpoint runs on: its nodeName, else the node of the pod it names. */
function nodeOf(e: V1Endpoint, pods: V1Pod[]): string | undefined {
  if (e.nodeName) return e.nodeName
  const ref = e.targetRef
  if (ref?.kind !== 'Pod') return undefined
  return pods.find((p) => p.metadata?.name === ref.name && p.metadata?.namespace === ref.namespace)?.spec?.nodeName
}

/** Usable endpoints per node name; endpoints whose node is unknown are left out. */
export function usableEndpointsByNode(slices: V1EndpointSlice[], pods: V1Pod[]): Map<string, V1Endpoint[]> {
  const out = new Map<string, V1Endpoint[]>()
  for (const e of ipSlices(slices).flatMap((s) => s.endpoints ?? [])) {
    const node = nodeOf(e, pods)
    if (!isUsableEndpoint(e) || node === undefined) continue
    out.set(node, [...(out.get(node) ?? []), e])
  }
  return out
}
