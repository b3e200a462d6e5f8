// What finding a Service costs on one node, from its traced paths: iptables' linear rule walk (with
// KUBE-SERVICES' length and the longest walk traced), or nftables' map and IPVS's hash lookups.
import type {RuleWalk, TracePath} from './model.js'

/** How the node's traced paths found their Service: the lookup, and for iptables the longest walk and KUBE-SERVICES' length. */
export function ruleWalkOf(paths: TracePath[], kubeServicesRules: number | undefined): RuleWalk | undefined {
  const lookup = paths.find((p) => p.lookup !== undefined)?.lookup
  if (lookup === undefined) return undefined
  if (lookup !== 'rules') return {lookup}
  let deepest: TracePath | undefined
  for (const p of paths) if (p.rulesPassed !== undefined && p.rulesPassed > (deepest?.rulesPassed ?? -1)) deepest = p
  return {
    lookup,
    ...(kubeServicesRules !== undefined ? {kubeServicesRules} : {}),
    ...(deepest?.rulesPassed !== undefined
      ? {
          deepest: {
            ...(deepest.entry.service !== undefined ? {service: deepest.entry.service} : {}),
            address: deepest.entry.address,
            from: deepest.from,
            rulesPassed: deepest.rulesPassed,
          },
        }
      : {}),
  }
}
