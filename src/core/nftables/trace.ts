// Walks a packet through kube-proxy's nftables table the way netfilter does: the base chains of each
// hook on the path in priority order (prerouting: filter-prerouting-pre-dnat's firewall check, then
// nat-prerouting → services → service-/external- chains → endpoint dnat), then input or forward
// (no-endpoint and cluster-IP checks). Verdict maps send the packet on; `numgen random mod N` forks
// the walk N ways at 1/N each, so every endpoint a new connection can reach is listed.
import {cidrContains, parseCidr, type Cidr} from '../address.js'
import type {NodeContext} from '../iptables/match.js'
import type {IptablesTrace, IptablesTraceRequest, Outcome} from '../iptables/trace.js'
import {findTable, type NftRuleset, type Table} from './model.js'
import {walkHook, type Branch, type Walker} from './walk.js'

const DEFAULT_MASQ_MARK = 0x4000

function masqueradeMark(t: Table): number {
  for (const r of t.chains.get('mark-for-masquerade')?.rules ?? []) {
    for (const s of r.statements) if (s.kind === 'mark' && s.op === '|') return s.value
  }
  return DEFAULT_MASQ_MARK
}

function isLocal(node: NodeContext, ip: Cidr): boolean {
  return ip.text.startsWith('127.') || ip.text === '::1' || node.local.some((l) => cidrContains(l, ip))
}

/** Traces one destination through `table ip kube-proxy` (ip6 for IPv6). Pure. */
export function traceNftables(rs: NftRuleset, req: IptablesTraceRequest): IptablesTrace {
  const dst = parseCidr(req.destination.ip)
  if (!dst) throw new Error(`not an IP address: ${req.destination.ip}`)
  const family = dst.family === 4 ? 'ip' : 'ip6'
  const table = findTable(rs, family, 'kube-proxy')
  const none: Outcome = {verdict: 'no-match', probability: 1, conditions: [], hops: [], masquerade: false, notes: []}
  if (!table) return {outcomes: [none], notes: [`${rs.source} has no table ${family} kube-proxy: kube-proxy does not handle this address family here`]}
  const cidrs = (xs: string[]) => xs.map((a) => parseCidr(a)).filter((c): c is Cidr => c !== undefined)
  const node: NodeContext = {local: cidrs(req.node.addresses), podNetworks: cidrs(req.podNetworks)}
  const w: Walker = {table, label: `${family} ${table.name}`, node, notes: new Set(), budget: {branches: 0}}
  const src = req.source === undefined ? undefined : parseCidr(req.source)
  const start: Branch = {
    packet: {src, srcLocal: req.from === 'node' || (src !== undefined && isLocal(node, src)), dst, dport: req.destination.port, protocol: req.destination.protocol, mark: 0, dnatted: false},
    probability: 1,
    conditions: [],
    hops: [],
    notes: [],
  }
  const first = walkHook(w, req.from === 'node' ? 'output' : 'prerouting', [start])
  const ended = [...first.ended]
  const done: Branch[] = []
  for (const b of first.passed) {
    // The node's own packets to a local address loop back through input; others are routed.
    const hook = isLocal(node, b.packet.dst) ? 'input' : req.from === 'node' ? undefined : 'forward'
    if (!hook) {
      done.push(b)
      continue
    }
    const r = walkHook(w, hook, [b])
    ended.push(...r.ended)
    done.push(...r.passed)
  }
  const masq = masqueradeMark(table)
  const finish = (b: Branch, verdict: Outcome['verdict']): Outcome => ({
    verdict,
    ...(b.dnat ? {dnat: b.dnat} : {}),
    probability: b.probability,
    conditions: b.conditions,
    hops: b.hops,
    masquerade: b.packet.mark === undefined ? undefined : (b.packet.mark & masq) === masq,
    ...(b.affinitySeconds !== undefined ? {affinitySeconds: b.affinitySeconds} : {}),
    notes: b.notes,
  })
  const outcomes = [...ended.map((t) => finish(t.branch, t.kind === 'drop' || t.kind === 'reject' ? t.kind : t.branch.dnat ? 'dnat' : 'no-match')), ...done.map((b) => finish(b, b.dnat ? 'dnat' : 'no-match'))]
  return {outcomes, notes: [...w.notes]}
}
