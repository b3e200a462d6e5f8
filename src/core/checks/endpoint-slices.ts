// Endpoints as the checks show them: named after their pod, grouped by the node they run on.
// Which endpoints kube-proxy may use is kube-proxy/endpoint-conditions.ts's question.
import type {V1Endpoint, V1EndpointSlice, V1Pod} from '@kubernetes/client-node'
import {chooseUsable, ipSlices, isUsable} from '../kube-proxy/endpoint-conditions.js'
import {podNamed} from '../pod-index.js'
import {addTo} from '../group.js'

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
  return ref.name !== undefined ? podNamed(pods, ref.namespace ?? '', ref.name)?.spec?.nodeName : undefined
}

/**
 * Per node name, the local endpoints kube-proxy there uses for a Local traffic policy: its ready
 * ones, else its serving-and-terminating ones (chooseUsable). Nodes with none, and endpoints whose
 * node is unknown, are left out.
 */
export function usableEndpointsByNode(slices: V1EndpointSlice[], pods: V1Pod[]): Map<string, V1Endpoint[]> {
  const out = new Map<string, V1Endpoint[]>()
  for (const e of ipSlices(slices).flatMap((s) => s.endpoints ?? [])) {
    const node = nodeOf(e, pods)
    if (!isUsable(e) || node === undefined) continue
    addTo(out, node, e)
  }
  for (const [node, endpoints] of out) out.set(node, chooseUsable(endpoints))
  return out
}
