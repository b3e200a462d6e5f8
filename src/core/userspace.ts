// kube-proxy's userspace mode (removed in v1.26): iptables only redirects Service traffic to a port
// kube-proxy itself listens on, and kube-proxy picks the backend in-process (round-robin). No dump
// shows that choice, so the trace ends at kube-proxy's port and says so.
//
//   -A KUBE-PORTALS-CONTAINER -d 10.0.0.10/32 -p udp -m udp --dport 53 -j REDIRECT --to-ports 38107
//   -A KUBE-PORTALS-HOST -d 10.0.0.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.240.0.4:38107
import {parseCidr, type Cidr} from './address.js'
import {chainRules, type IptablesDump} from './iptables/dump.js'
import {evaluateRule, type NodeContext} from './iptables/match.js'
import {formatRule, type Rule} from './iptables/rule.js'
import type {IptablesTrace, IptablesTraceRequest} from './iptables/trace.js'

/** Where the portal rule sends the connection: REDIRECT --to-ports P, or DNAT to node:P. */
function proxyPortOf(rule: Rule, nodeIP: string): {ip: string; port: number} | undefined {
  if (rule.target.kind === 'DNAT' && rule.target.ip && rule.target.port) return {ip: rule.target.ip, port: rule.target.port}
  const target = rule.parts.find((p) => p.type === 'target' && p.name === 'REDIRECT')
  const to = target?.type === 'target' ? target.options.find((o) => o.name === '--to-ports')?.args[0]?.text : undefined
  return to && /^\d+$/.test(to) ? {ip: nodeIP, port: Number(to)} : undefined
}

/** Traces a destination on a userspace-mode node to kube-proxy's own listening port. */
export function traceUserspace(dump: IptablesDump, req: IptablesTraceRequest): IptablesTrace {
  const dst = parseCidr(req.destination.ip)
  if (!dst) throw new Error(`not an IP address: ${req.destination.ip}`)
  const cidrs = (xs: string[]) => xs.map((a) => parseCidr(a)).filter((c): c is Cidr => c !== undefined)
  const node: NodeContext = {local: cidrs(req.node.addresses), podNetworks: cidrs(req.podNetworks)}
  const src = req.source === undefined ? undefined : parseCidr(req.source)
  const packet = {src, srcLocal: req.from === 'node', dst, dport: req.destination.port, protocol: req.destination.protocol, mark: 0, dnatted: false}
  const side = req.from === 'node' ? 'HOST' : 'CONTAINER'
  // ClusterIPs first; the NodePort chain is the last rule of PREROUTING/OUTPUT in userspace mode.
  for (const chain of [`KUBE-PORTALS-${side}`, `KUBE-NODEPORT-${side}`]) {
    for (const rule of chainRules(dump, 'nat', chain) ?? []) {
      if ('error' in rule || evaluateRule(rule, packet, node).result !== 'yes') continue
      const to = proxyPortOf(rule, req.node.addresses[0] ?? '127.0.0.1')
      if (!to) continue
      return {
        outcomes: [{
          verdict: 'dnat',
          dnat: {...to, chain},
          probability: 1,
          conditions: [],
          hops: [{table: 'nat', chain, rule: formatRule(rule), line: rule.line}],
          masquerade: false,
          notes: [`userspace mode: kube-proxy itself accepts the connection on port ${to.port} and opens its own to a backend it picks in-process (round-robin); no dump shows which backend, and the backend sees the node's address`],
        }],
        notes: [],
      }
    }
  }
  return {outcomes: [{verdict: 'no-match', probability: 1, conditions: [], hops: [], masquerade: false, notes: []}], notes: [`no KUBE-PORTALS-${side} rule of ${dump.source} matches this destination`]}
}
