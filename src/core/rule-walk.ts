// What finding a Service costs on one node, from its traced paths: iptables' linear rule walk (with
// KUBE-SERVICES' length and the longest walk traced), or nftables' map and IPVS's hash lookups.
import type {Lookup, RuleWalk, TracePath} from './model.js'

/**
 * What the rule walk needs of a node's paths, folded in as they are traced: the first lookup seen
 * and the first of the longest walks. Check mode folds in one Service's paths at a time and lets
 * the paths go.
 */
export interface RuleWalkTally {
  lookup?: Lookup
  deepest?: NonNullable<RuleWalk['deepest']>
}

/** The tally with `paths` (traced after the ones already in it) folded in. */
export function tallyRuleWalk(tally: RuleWalkTally, paths: readonly TracePath[]): RuleWalkTally {
  let {lookup, deepest} = tally
  for (const p of paths) {
    lookup ??= p.lookup
    if (p.rulesPassed === undefined || p.rulesPassed <= (deepest?.rulesPassed ?? -1)) continue
    deepest =
      p.entry.service !== undefined
        ? {service: p.entry.service, address: p.entry.address, from: p.from, rulesPassed: p.rulesPassed}
        : {address: p.entry.address, from: p.from, rulesPassed: p.rulesPassed}
  }
  // Check mode folds in every Service's paths: most leave the tally as it was.
  if (lookup === tally.lookup && deepest === tally.deepest) return tally
  const out: RuleWalkTally = {}
  if (lookup !== undefined) out.lookup = lookup
  if (deepest) out.deepest = deepest
  return out
}

/** How the node's traced paths (as tallied) found their Service; absent when no path looked one up. */
export function ruleWalkOfTally(tally: RuleWalkTally, kubeServicesRules: number | undefined): RuleWalk | undefined {
  const {lookup, deepest} = tally
  if (lookup === undefined) return undefined
  if (lookup !== 'rules') return {lookup}
  return {lookup, ...(kubeServicesRules !== undefined ? {kubeServicesRules} : {}), ...(deepest ? {deepest} : {})}
}

/** How the node's traced paths found their Service: the lookup, and for iptables the longest walk and KUBE-SERVICES' length. */
export function ruleWalkOf(paths: TracePath[], kubeServicesRules: number | undefined): RuleWalk | undefined {
  return ruleWalkOfTally(tallyRuleWalk({}, paths), kubeServicesRules)
}
