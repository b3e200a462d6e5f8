// The chains a path passes, as -o wide, tree and the pictures name them.
import type {TracePath} from '../core/model.js'

// Marking for masquerade is a side trip, shown in the masquerade column rather than as a chain.
const SIDE_CHAINS = new Set(['KUBE-MARK-MASQ'])

/** The chains the packet passes, each as table/chain, including chains it jumped to where no rule matched (KUBE-FW- when the source check lets it through). */
export function chainPath(p: TracePath): string[] {
  const out: string[] = []
  const add = (table: string, chain: string) => {
    const name = table ? `${table}/${chain}` : chain
    if (!SIDE_CHAINS.has(chain) && out.at(-1) !== name) out.push(name)
  }
  p.hops.forEach((h, i) => {
    add(h.table, h.chain)
    const t = h.target
    const next = p.hops[i + 1]
    if ((t.kind === 'jump' || t.kind === 'goto' || t.kind === 'hook') && !(next && next.table === h.table && next.chain === t.chain)) add(h.table, t.chain)
  })
  return out
}
