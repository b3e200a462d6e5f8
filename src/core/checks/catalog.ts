// Every finding svctrace can report: one entry per slug. docs/findings.md is generated from this.
import type {Severity} from '../model.js'

export interface CatalogEntry {
  severity: Severity
  title: string
  why: string
  fix: string
}

export const catalog = {
  'service-rejected-no-endpoints': {
    severity: 'error',
    title: 'Connections are rejected: the Service has no endpoints',
    why: 'kube-proxy installs a REJECT rule for a service port with no ready (or serving-terminating) endpoint, so clients get "connection refused".',
    fix: 'Make the selector match running, ready pods (kubectl get pods -l <selector>), and check that the targetPort names a port the pods declare.',
  },
  'traffic-dropped': {
    severity: 'warning',
    title: 'Connections are dropped on this path',
    why: 'A filter rule drops the packet: externalTrafficPolicy/internalTrafficPolicy Local with no endpoint on this node, or a load balancer source range that does not include the client.',
    fix: 'Run a backend on the node (or use Cluster policy), or add the client to loadBalancerSourceRanges; the evidence names the rule.',
  },
  'service-missing-on-node': {
    severity: 'error',
    title: 'The node has no rule for a Service that has endpoints',
    why: 'The API lists ready endpoints, but the node\'s rules do not capture the address: kube-proxy on that node is stale, down, or another data plane replaced it.',
    fix: 'Check the kube-proxy pod on the node (kubectl -n kube-system logs) and restart it; compare with another node.',
  },
  'backend-ip-unknown': {
    severity: 'warning',
    title: 'A rule forwards to an address no pod or endpoint has',
    why: 'The node DNATs to an IP that no pod, node or endpoint in the API holds: a stale rule for a deleted pod, or a manually written endpoint.',
    fix: 'Compare the EndpointSlices with the node\'s rules; restart kube-proxy on the node if its rules are stale.',
  },
  'selector-matches-no-pods': {
    severity: 'error',
    title: 'The selector matches no pods',
    why: 'No pod in the namespace carries every label of the Service\'s selector, so the Service has no endpoints.',
    fix: 'Fix the label that differs (the evidence shows the nearest pods and the label that does not match) in the Service or in the pod template.',
  },
  'node-has-no-kube-proxy-rules': {
    severity: 'error',
    title: 'The node has no kube-proxy iptables rules',
    why: 'The dump has no KUBE-SERVICES chain in the nat table: kube-proxy is not running, runs in another mode (nftables, IPVS), or another data plane (e.g. Cilium) replaced it.',
    fix: 'Check the kube-proxy pod on that node and its --proxy-mode; for nftables mode read `nft list ruleset`.',
  },
  'proxy-mode-not-traced': {
    severity: 'warning',
    title: 'This node\'s kube-proxy mode is not traced yet',
    why: 'svctrace traces iptables mode; this node runs another mode, so its paths are not shown.',
    fix: 'Read the node\'s IPVS or nftables state by hand (ipvsadm -Ln, nft list table ip kube-proxy) until svctrace supports it.',
  },
  'node-unreadable': {
    severity: 'error',
    title: 'The node\'s rules could not be read',
    why: 'Nothing usable came back from the node, so its paths are not traced.',
    fix: 'Follow the message: capture iptables-save again, or fix access to the node.',
  },
  'trace-uncertain': {
    severity: 'info',
    title: 'Part of the trace is uncertain',
    why: 'A rule on the path uses a match or target svctrace does not evaluate; the trace shows both outcomes and marks the path uncertain.',
    fix: 'Read the rule named in the notes and decide whether it matches your traffic.',
  },
  'address-not-owned': {
    severity: 'info',
    title: 'Nothing in the cluster owns the address',
    why: 'The address is no Service VIP, node address or pod IP in the API objects that were read.',
    fix: 'Check the address (kubectl get svc -A -o wide), or the namespace and context you read.',
  },
} as const satisfies Record<string, CatalogEntry>

export type FindingId = keyof typeof catalog
