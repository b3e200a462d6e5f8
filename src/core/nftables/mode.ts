// kube-proxy's nftables mode as a tracer plug-in.
import type {IndexedCaptures} from '../captures.js'
import type {ModePlugin} from '../trace/mode.js'
import {traceNftables} from './trace.js'

/** `table ip kube-proxy` (and ip6) in the nft ruleset. */
export const nftablesMode: ModePlugin<IndexedCaptures> = {
  mode: 'nftables',
  kernelOrder: 2,
  detect(p) {
    const tables = (p.nft?.tables ?? []).filter((t) => t.name === 'kube-proxy' && (t.family === 'ip' || t.family === 'ip6'))
    if (!p.nft || tables.length === 0) return undefined
    const chains = tables.reduce((n, t) => n + t.chains.size, 0)
    return `${tables.map((t) => `table ${t.family} kube-proxy`).join(' and ')} (${chains} chains) in ${p.nft.source}`
  },
  tracer(p, detected) {
    const rs = p.nft
    if (!rs || !detected.has('nftables')) return undefined
    return (req) => traceNftables(rs, req)
  },
}
