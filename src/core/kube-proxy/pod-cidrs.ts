// The pod networks of a node, as kube-proxy's NodeCIDR local-traffic detector takes them.
import type {V1Node} from '@kubernetes/client-node'

/**
 * The node's pod CIDRs: spec.podCIDRs, or the older single spec.podCIDR. kube-proxy's
 * `--detect-local-mode=NodeCIDR` reads the same field (cmd/kube-proxy/app/server_linux.go
 * `getLocalDetectors`, node.Spec.PodCIDRs) for its "is the source a pod" match.
 */
export function nodePodCIDRs(node: V1Node): string[] {
  return node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])
}
