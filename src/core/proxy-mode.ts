// Which kube-proxy data plane a node's iptables dump shows.
import {chainView, hasChain, type IptablesDump} from './iptables/dump.js'
import type {ProxyMode} from './model.js'

/**
 * iptables mode has KUBE-SVC-/KUBE-SEP- chains or the KUBE-SERVICES dispatch; IPVS mode's
 * KUBE-SERVICES matches ipsets instead; userspace mode (removed in 1.26) left KUBE-PORTALS-*.
 */
export function detectProxyMode(dump: IptablesDump): ProxyMode {
  const nat = dump.tables.get('nat')
  if (!nat) return 'none'
  if (hasChain(dump, 'nat', 'KUBE-PORTALS-CONTAINER') || hasChain(dump, 'nat', 'KUBE-PORTALS-HOST')) return 'userspace'
  if (!nat.has('KUBE-SERVICES')) return 'none'
  // Read the raw lines, stopping at the first telling one: a 10,000-Service dispatch chain is
  // not parsed just to name the mode.
  const view = chainView(dump, 'nat', 'KUBE-SERVICES')!
  let usesSets = false
  for (let k = 0; k < view.length; k++) {
    const line = view.text(k)
    if (/ -[jg] KUBE-(SVC|SVL|EXT|FW)-/.test(line)) return 'iptables'
    if (line.includes(' --match-set ')) usesSets = true
  }
  return usesSets ? 'ipvs' : 'iptables'
}
