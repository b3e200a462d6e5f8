// Which kube-proxy data plane a node's iptables dump shows.
import {chainRules, hasChain, type IptablesDump} from './iptables/dump.js'
import type {ProxyMode} from './model.js'

/**
 * iptables mode has KUBE-SVC-/KUBE-SEP- chains or the KUBE-SERVICES dispatch; IPVS mode's
 * KUBE-SERVICES matches ipsets instead; userspace mode (removed in 1.26) left KUBE-PORTALS-*.
 */
export function detectProxyMode(dump: IptablesDump): ProxyMode {
  const nat = dump.tables.get('nat')
  if (!nat) return 'none'
  if (hasChain(dump, 'nat', 'KUBE-PORTALS-CONTAINER') || hasChain(dump, 'nat', 'KUBE-PORTALS-HOST')) return 'userspace'
  if (!nat.chains.has('KUBE-SERVICES')) return 'none'
  const rules = chainRules(dump, 'nat', 'KUBE-SERVICES') ?? []
  const usesSets = rules.some((r) => !('error' in r) && r.parts.some((p) => p.type === 'match' && p.module === 'set'))
  if (usesSets && !rules.some((r) => !('error' in r) && r.target.kind === 'jump' && r.target.chain.startsWith('KUBE-SVC-'))) return 'ipvs'
  return 'iptables'
}
