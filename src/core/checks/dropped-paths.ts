// Dropped paths: why a node drops a packet, read off the rule that dropped it, and how serious that
// is. The one rule for a drop's severity lives here; the table paints a DROP row with it and the
// findings about the drop carry it, so the two never disagree.
import type {Severity, TracePath} from '../model.js'

/**
 * Why a path is dropped: a loadBalancerSourceRanges check the client fails; a Local traffic policy
 * with no endpoint on the node (external: node port, external IP, load balancer; internal: cluster
 * IP); a base chain's DROP policy; or a rule svctrace cannot name a reason for.
 */
export type DropCause = 'source-range' | 'external-local-no-endpoint' | 'internal-local-no-endpoint' | 'chain-policy' | 'other'

/** Chains whose drops are loadBalancerSourceRanges: iptables mode, and IPVS mode (reference 4.4; nftables uses firewall-*). */
const SOURCE_RANGE_CHAINS = new Set(['KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL'])

/** The cause of a dropped path, from its last hop (iptables KUBE-PROXY-FIREWALL, IPVS KUBE-SOURCE-RANGES-FIREWALL, nftables firewall-* chains, kube-proxy's comments). */
export function dropCause(path: TracePath): DropCause {
  const hop = path.hops.at(-1)
  if (!hop) return 'other'
  if (SOURCE_RANGE_CHAINS.has(hop.chain) || hop.chain.startsWith('firewall-')) return 'source-range'
  // -A KUBE-EXTERNAL-SERVICES … --comment "storefront/api:http has no local endpoints" … -j DROP
  if (hop.comment?.includes('has no local endpoints')) return path.entry.kind === 'cluster-ip' ? 'internal-local-no-endpoint' : 'external-local-no-endpoint'
  if (hop.target.kind === 'policy') return 'chain-policy'
  return 'other'
}

/** What decides how serious a drop is besides its cause. */
export interface DropFacts {
  /** The Service's type (a LoadBalancer health-checks its nodes). */
  serviceType?: string
  /** The client was named with --source (rather than assumed by svctrace). */
  explicitSource: boolean
}

/**
 * How serious a drop is. Source ranges keep clients out by design: info for a client svctrace
 * assumed (any outside client, a pod or the node itself), a warning for the client named with
 * --source. A node without a local endpoint behind a LoadBalancer is info (its health check keeps
 * the load balancer's traffic off the node); everything else is a warning.
 */
export function dropSeverity(cause: DropCause, facts: DropFacts): Extract<Severity, 'warning' | 'info'> {
  if (cause === 'source-range') return facts.explicitSource ? 'warning' : 'info'
  if (cause === 'external-local-no-endpoint') return facts.serviceType === 'LoadBalancer' ? 'info' : 'warning'
  return 'warning'
}

/** The rule a path ends on, as evidence: `filter KUBE-PROXY-FIREWALL: -A KUBE-PROXY-FIREWALL …`. */
export function lastRule(path: TracePath): string[] {
  const hop = path.hops.at(-1)
  return hop ? [`${hop.table} ${hop.chain}: ${hop.rule}`] : []
}

/** The rules that drop the given paths for this cause, once each: the evidence of a finding that explains the drop. */
export function dropRules(paths: TracePath[], cause: DropCause): string[] {
  return [...new Set(paths.filter((p) => p.verdict === 'drop' && dropCause(p) === cause).flatMap(lastRule))]
}
