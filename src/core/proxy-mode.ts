// Which kube-proxy data plane(s) a node's dumps show. A node normally shows one; two mean rules left
// over from a mode switch (kube-proxy --cleanup was not run), and the leftovers still act on packets.
import {chainView, type IptablesDump} from './iptables/dump.js'
import type {Ipsets} from './ipvs/ipset.js'
import type {IpvsTable} from './ipvs/ipvsadm.js'
import type {ProxyMode} from './model.js'
import type {NftRuleset} from './nftables/model.js'

/** One mode found on a node, with what showed it (for the report). */
export interface ModeEvidence {
  mode: Exclude<ProxyMode, 'none' | 'unknown'>
  evidence: string
}

/** What was parsed from one node. */
export interface ParsedDataplane {
  iptables?: IptablesDump
  nft?: NftRuleset
  ipvs?: IpvsTable
  ipsets?: Ipsets
}

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|SEP|EXT|FW|XLB)-/
const USERSPACE_CHAINS = ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST']

/** KUBE-SERVICES matching KUBE-* ipsets (IPVS mode); only rules whose text names a set are parsed. */
function usesIpsets(dump: IptablesDump): boolean {
  const view = chainView(dump, 'nat', 'KUBE-SERVICES')
  if (!view) return false
  for (let k = 0; k < view.length; k++) {
    if (!view.text(k).includes('--match-set')) continue
    const r = view.rule(k)
    if (!('error' in r) && r.matches.some((m) => m.kind === 'set' && m.name.startsWith('KUBE-'))) return true
  }
  return false
}

/**
 * Every mode the node has rules of, newest first: nftables (`table ip kube-proxy`), IPVS (virtual
 * servers, KUBE-* ipsets, or KUBE-SERVICES matching ipsets), iptables (KUBE-SVC/SEP/… chains or
 * KUBE-NODEPORTS in nat), userspace (KUBE-PORTALS-*, removed in v1.26).
 */
export function detectProxyModes(p: ParsedDataplane): ModeEvidence[] {
  const found: ModeEvidence[] = []
  const kubeProxyTables = (p.nft?.tables ?? []).filter((t) => t.name === 'kube-proxy' && (t.family === 'ip' || t.family === 'ip6'))
  if (kubeProxyTables.length > 0) {
    const chains = kubeProxyTables.reduce((n, t) => n + t.chains.size, 0)
    found.push({mode: 'nftables', evidence: `${kubeProxyTables.map((t) => `table ${t.family} kube-proxy`).join(' and ')} (${chains} chains) in ${p.nft!.source}`})
  }
  const ipvsEvidence: string[] = []
  const servers = (p.ipvs?.services ?? []).filter((vs) => vs.protocol !== 'FWM').length
  if (servers > 0) ipvsEvidence.push(`${servers} IPVS virtual servers in ${p.ipvs!.source}`)
  const kubeSets = [...(p.ipsets?.sets.values() ?? [])].filter((s) => s.name.startsWith('KUBE-') && s.entries.length > 0)
  if (kubeSets.length > 0) ipvsEvidence.push(`${kubeSets.length} non-empty KUBE-* ipsets in ${p.ipsets!.source}`)
  if (p.iptables && usesIpsets(p.iptables)) ipvsEvidence.push(`nat KUBE-SERVICES matches ipsets in ${p.iptables.source}`)
  if (ipvsEvidence.length > 0) found.push({mode: 'ipvs', evidence: ipvsEvidence.join('; ')})
  const nat = p.iptables?.tables.get('nat')
  if (nat) {
    // Counted by name only: materialising every chain of a 10,000-Service node costs a third of a trace.
    let serviceChains = 0
    for (let k = 0; k < nat.size; k++) if (SERVICE_CHAIN.test(nat.nameAt(k))) serviceChains++
    if (serviceChains > 0) found.push({mode: 'iptables', evidence: `${serviceChains} KUBE-SVC/SEP/… chains in the nat table of ${p.iptables!.source}`})
    else if (nat.has('KUBE-NODEPORTS')) found.push({mode: 'iptables', evidence: `nat KUBE-NODEPORTS in ${p.iptables!.source}`})
    // A KUBE-SERVICES chain with no service yet is still iptables mode when nothing else claims the node.
    else if (nat.has('KUBE-SERVICES') && found.length === 0) found.push({mode: 'iptables', evidence: `nat KUBE-SERVICES in ${p.iptables!.source}`})
    const portals = USERSPACE_CHAINS.filter((c) => nat.has(c))
    if (portals.length > 0) found.push({mode: 'userspace', evidence: `nat ${portals.join(', ')} in ${p.iptables!.source}`})
  }
  return found
}
