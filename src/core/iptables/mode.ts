// kube-proxy's iptables mode as a tracer plug-in. kube-proxy runs one proxier per IP family: IPv4
// Services' rules are in iptables-save, IPv6 ones in ip6tables-save (same chains, same hashes), so
// a destination is traced through the dump of its own family.
import {familyOf} from '../address.js'
import type {IndexedCaptures} from '../captures.js'
import {untouched, type Trace, type TraceRequest} from '../trace/branch.js'
import type {ModePlugin} from '../trace/mode.js'
import type {IptablesDump} from './dump.js'
import {traceIptables} from './trace.js'

/** The chains kube-proxy makes per Service port or endpoint. */
const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-XLB-']

/** What one dump shows of iptables mode: `strong` (service chains, KUBE-NODEPORTS) or only a bare KUBE-SERVICES. */
function dumpEvidence(dump: IptablesDump | undefined): {strong?: string; weak?: string} {
  const nat = dump?.tables.get('nat')
  if (!dump || !nat) return {}
  // Counted by name only: materialising every chain of a 10,000-Service node costs a third of a trace.
  let serviceChains = 0
  for (const prefix of SERVICE_CHAIN_PREFIXES) serviceChains += nat.countWithPrefix(prefix)
  if (serviceChains > 0) return {strong: `${serviceChains} KUBE-SVC/SEP/… chains in the nat table of ${dump.source}`}
  if (nat.has('KUBE-NODEPORTS')) return {strong: `nat KUBE-NODEPORTS in ${dump.source}`}
  return nat.has('KUBE-SERVICES') ? {weak: `nat KUBE-SERVICES in ${dump.source}`} : {}
}

/**
 * Traces a request through the dump of its destination's family: iptables-save for IPv4,
 * ip6tables-save for IPv6. When that dump was not read, the path is not traced and a note says
 * which dump is missing (the node's rules for that family are unknown, not absent).
 */
export function traceIptablesByFamily(p: Pick<IndexedCaptures, 'iptables' | 'iptables6'>, req: TraceRequest): Trace {
  const family = familyOf(req.destination.ip) === 6 ? 6 : 4
  const dump = family === 6 ? p.iptables6 : p.iptables
  if (dump) return traceIptables(dump, req)
  const read = (family === 6 ? p.iptables : p.iptables6)?.source ?? 'no iptables dump'
  return untouched([{kind: 'family-not-read', family, missing: family === 6 ? 'ip6tables-save' : 'iptables-save', read}], undefined)
}

/** KUBE-SVC/SEP/… chains (or KUBE-NODEPORTS) in nat of either family's dump; a bare KUBE-SERVICES only when no other mode claims the node. */
export const iptablesMode: ModePlugin<IndexedCaptures> = {
  mode: 'iptables',
  kernelOrder: 1,
  detect(p, found) {
    const evidence = [dumpEvidence(p.iptables), dumpEvidence(p.iptables6)]
    const strong = evidence.flatMap((e) => (e.strong ? [e.strong] : []))
    if (strong.length > 0) return strong.join('; ')
    // A KUBE-SERVICES chain with no service yet is still iptables mode when nothing else claims the node.
    const weak = evidence.flatMap((e) => (e.weak ? [e.weak] : []))
    return weak.length > 0 && found.length === 0 ? weak.join('; ') : undefined
  },
  tracer(p, detected) {
    // IPVS's tracer walks the whole iptables dump first, so it also covers iptables-mode leftovers.
    if ((!p.iptables && !p.iptables6) || !detected.has('iptables') || (detected.has('ipvs') && p.ipvs)) return undefined
    return (req) => traceIptablesByFamily(p, req)
  },
}
