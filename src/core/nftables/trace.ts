// Walks a packet through kube-proxy's nftables table the way netfilter does: the base chains of each
// hook on the path in priority order (prerouting: filter-prerouting-pre-dnat's firewall check, then
// nat-prerouting → services → service-/external- chains → endpoint dnat), then input or forward
// (no-endpoint and cluster-IP checks). Verdict maps send the packet on; `numgen random mod N` forks
// the walk N ways at 1/N each, so every endpoint a new connection can reach is listed.
import {finish, startBranch, untouched, type Branch, type Outcome, type Trace, type TraceRequest} from '../trace/branch.js'
import {DEFAULT_MASQ_MARK, visitLimit} from '../trace/limits.js'
import {isLocalAddress, nodeContext} from '../trace/node.js'
import {NoteSet} from '../trace/notes.js'
import {findTable, type NftRuleset, type Table} from './model.js'
import {walkHook, type Walker} from './walk.js'

function masqueradeMark(t: Table): number {
  for (const r of t.chains.get('mark-for-masquerade')?.rules ?? []) {
    for (const s of r.statements) if (s.kind === 'mark' && s.op === '|') return s.value
  }
  return DEFAULT_MASQ_MARK
}

/** Rules and map elements of the table: what a walk's work is measured against. */
function tableSize(t: Table): number {
  let n = 0
  for (const c of t.chains.values()) n += c.rules.length
  for (const s of t.sets.values()) n += s.elements.length
  return n
}

/** Traces one destination through `table ip kube-proxy` (ip6 for IPv6). Pure. */
export function traceNftables(rs: NftRuleset, req: TraceRequest): Trace {
  const node = nodeContext(req.node.addresses, req.podNetworks)
  const start = startBranch(req, node)
  const family = start.packet.dst.family === 4 ? 'ip' : 'ip6'
  const table = findTable(rs, family, 'kube-proxy')
  if (!table) return untouched([{kind: 'no-kube-proxy-table', source: rs.source, family}], false)
  const w: Walker = {
    table,
    label: `${family} ${table.name}`,
    node,
    notes: new NoteSet(),
    budget: {branches: 0, visits: 0, maxVisits: visitLimit(tableSize(table))},
  }
  const first = walkHook(w, req.from === 'node' ? 'output' : 'prerouting', [start])
  const ended = [...first.ended]
  const done: Branch[] = []
  for (const b of first.passed) {
    // The node's own packets to a local address loop back through input; others are routed.
    const hook = isLocalAddress(node.local, b.packet.dst) === true ? 'input' : req.from === 'node' ? undefined : 'forward'
    if (!hook) {
      done.push(b)
      continue
    }
    const r = walkHook(w, hook, [b])
    ended.push(...r.ended)
    done.push(...r.passed)
  }
  const masq = masqueradeMark(table)
  const settled = (b: Branch): Outcome['verdict'] => (b.dnat ? 'dnat' : 'no-match')
  const outcomes = [
    ...ended.map((t) => finish(t.branch, t.kind === 'drop' || t.kind === 'reject' ? t.kind : settled(t.branch), masq)),
    ...done.map((b) => finish(b, settled(b), masq)),
  ]
  // The services chain finds the Service in a verdict map (service-ips, service-nodeports).
  return {outcomes, notes: w.notes.values(), lookup: 'map', rulesVisited: w.budget.visits}
}
