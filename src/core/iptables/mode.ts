// kube-proxy's iptables mode as a tracer plug-in.
import type {IndexedCaptures} from '../captures.js'
import type {ModePlugin} from '../trace/mode.js'
import {traceIptables} from './trace.js'

const SERVICE_CHAIN = /^KUBE-(SVC|SVL|SEP|EXT|FW|XLB)-/

/** KUBE-SVC/SEP/… chains (or KUBE-NODEPORTS) in nat; a bare KUBE-SERVICES only when no other mode claims the node. */
export const iptablesMode: ModePlugin<IndexedCaptures> = {
  mode: 'iptables',
  kernelOrder: 1,
  detect(p, found) {
    const nat = p.iptables?.tables.get('nat')
    if (!p.iptables || !nat) return undefined
    // Counted by name only: materialising every chain of a 10,000-Service node costs a third of a trace.
    let serviceChains = 0
    for (let k = 0; k < nat.size; k++) if (SERVICE_CHAIN.test(nat.nameAt(k))) serviceChains++
    if (serviceChains > 0) return `${serviceChains} KUBE-SVC/SEP/… chains in the nat table of ${p.iptables.source}`
    if (nat.has('KUBE-NODEPORTS')) return `nat KUBE-NODEPORTS in ${p.iptables.source}`
    // A KUBE-SERVICES chain with no service yet is still iptables mode when nothing else claims the node.
    if (nat.has('KUBE-SERVICES') && found.length === 0) return `nat KUBE-SERVICES in ${p.iptables.source}`
    return undefined
  },
  tracer(p, detected) {
    const dump = p.iptables
    // IPVS's tracer walks the whole iptables dump first, so it also covers iptables-mode leftovers.
    if (!dump || !detected.has('iptables') || (detected.has('ipvs') && p.ipvs)) return undefined
    return (req) => traceIptables(dump, req)
  },
}
