// Which destinations kube-proxy captures for a Service (reference §1.2): its cluster IPs, external
// IPs and load-balancer ingress IPs on the service port, and every node address on the node port.
import type {V1Node, V1Service} from '@kubernetes/client-node'
import {canonicalIP} from '../address.js'
import {clusterIPsOf, externalIPsOf, loadBalancerIPsOf, nodeAddresses} from '../cluster-index.js'

/**
 * The virtual IPs kube-proxy captures for the Service, canonical: cluster IPs, external IPs, and
 * load-balancer ingress IPs except those with ipMode Proxy (pkg/proxy/serviceport.go
 * `newBaseServiceInfo` keeps only VIP-mode ingress IPs).
 */
export function capturedAddresses(svc: V1Service): string[] {
  return [...clusterIPsOf(svc), ...externalIPsOf(svc), ...loadBalancerIPsOf(svc)]
}

/** True when `ip` reaches node ports: loopback (iptables mode's route_localnet) or an address of a node. */
export function isNodeAddress(nodes: V1Node[], ip: string): boolean {
  const c = canonicalIP(ip)
  return c === '127.0.0.1' || c === '::1' || nodes.some((n) => nodeAddresses(n).includes(c))
}

/**
 * True when kube-proxy captures `dest` for the Service: one of its virtual IPs (any port), or, on a
 * node address, one of its node ports (any node port when `dest.port` is not given). IPv6-safe: both
 * sides are compared in canonical form.
 */
export function ownsAddress(svc: V1Service, dest: {ip: string; port?: number}, nodeAddress: boolean): boolean {
  if (capturedAddresses(svc).includes(canonicalIP(dest.ip))) return true
  return nodeAddress && (svc.spec?.ports ?? []).some((p) => p.nodePort !== undefined && (dest.port === undefined || p.nodePort === dest.port))
}
