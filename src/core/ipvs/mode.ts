// kube-proxy's IPVS mode as a tracer plug-in.
import type {IndexedCaptures} from '../captures.js'
import {chainView, type IptablesDump} from '../iptables/dump.js'
import type {ModePlugin} from '../trace/mode.js'
import {traceIpvs} from './trace.js'

/** KUBE-SERVICES matching KUBE-* ipsets (IPVS mode); only rules whose text names a set are parsed. */
function usesIpsets(dump: IptablesDump | undefined): boolean {
  if (!dump) return false
  const view = chainView(dump, 'nat', 'KUBE-SERVICES')
  if (!view) return false
  for (let k = 0; k < view.length; k++) {
    if (!view.mentions(k, '--match-set')) continue
    const r = view.rule(k)
    if (!('error' in r) && r.matches.some((m) => m.kind === 'set' && m.name.startsWith('KUBE-'))) return true
  }
  return false
}

/** IPVS virtual servers, non-empty KUBE-* ipsets, or KUBE-SERVICES matching ipsets. */
export const ipvsMode: ModePlugin<IndexedCaptures> = {
  mode: 'ipvs',
  kernelOrder: 3,
  detect(p) {
    const evidence: string[] = []
    const servers = (p.ipvs?.services ?? []).filter((vs) => vs.protocol !== 'FWM').length
    if (p.ipvs && servers > 0) evidence.push(`${servers} IPVS virtual servers in ${p.ipvs.source}`)
    const kubeSets = [...(p.ipsets?.sets.values() ?? [])].filter((s) => s.name.startsWith('KUBE-') && s.entries.length > 0)
    if (p.ipsets && kubeSets.length > 0) evidence.push(`${kubeSets.length} non-empty KUBE-* ipsets in ${p.ipsets.source}`)
    // Each family's proxier writes its own KUBE-SERVICES: an IPv6-only node has it only in ip6tables.
    for (const dump of [p.iptables, p.iptables6]) if (dump && usesIpsets(dump)) evidence.push(`nat KUBE-SERVICES matches ipsets in ${dump.source}`)
    return evidence.length > 0 ? evidence.join('; ') : undefined
  },
  tracer(p, detected) {
    const table = p.ipvs
    if (!table || !detected.has('ipvs')) return undefined
    const state = {
      table,
      ...(p.ipsets ? {ipsets: p.ipsets} : {}),
      ...(p.iptables ? {iptables: p.iptables} : {}),
      ...(p.iptables6 ? {iptables6: p.iptables6} : {}),
    }
    return (req) => traceIpvs(state, req)
  },
}
