// kube-proxy's userspace mode (removed in v1.26): iptables only redirects Service traffic to a port
// kube-proxy itself listens on, and kube-proxy picks the backend in-process (round-robin). No dump
// shows that choice, so the trace ends at kube-proxy's port and says so.
//
//   -A KUBE-PORTALS-CONTAINER -d 10.0.0.10/32 -p udp -m udp --dport 53 -j REDIRECT --to-ports 38107
//   -A KUBE-PORTALS-HOST -d 10.0.0.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.240.0.4:38107
import type {IndexedCaptures} from './captures.js'
import {chainRules, type IptablesDump} from './iptables/dump.js'
import {evaluateRule} from './iptables/match.js'
import {formatRule, type Rule} from './iptables/rule.js'
import {startBranch, untouched, type Trace, type TraceRequest} from './trace/branch.js'
import type {ModePlugin} from './trace/mode.js'
import {nodeContext} from './trace/node.js'

/** Where the portal rule sends the connection: REDIRECT --to-ports P, or DNAT to node:P. */
function proxyPortOf(rule: Rule, nodeIP: string): {ip: string; port: number} | undefined {
  if (rule.target.kind === 'DNAT' && rule.target.ip && rule.target.port) return {ip: rule.target.ip, port: rule.target.port}
  const target = rule.parts.find((p) => p.type === 'target' && p.name === 'REDIRECT')
  const to = target?.type === 'target' ? target.options.find((o) => o.name === '--to-ports')?.args[0]?.text : undefined
  return to && /^\d+$/.test(to) ? {ip: nodeIP, port: Number(to)} : undefined
}

/** Traces a destination on a userspace-mode node to kube-proxy's own listening port. */
function traceUserspace(dump: IptablesDump, req: TraceRequest): Trace {
  const node = nodeContext(req.node.addresses, req.podNetworks)
  // Userspace mode matched on the source only by the chain it used: the node's own (HOST) or not.
  const packet = {...startBranch(req, node).packet, srcLocal: req.from === 'node'}
  const side = req.from === 'node' ? 'HOST' : 'CONTAINER'
  // ClusterIPs first; the NodePort chain is the last rule of PREROUTING/OUTPUT in userspace mode.
  let visited = 0
  for (const chain of [`KUBE-PORTALS-${side}`, `KUBE-NODEPORT-${side}`]) {
    for (const rule of chainRules(dump, 'nat', chain) ?? []) {
      visited++
      if ('error' in rule || evaluateRule(rule, packet, node).result !== 'yes') continue
      const to = proxyPortOf(rule, req.node.addresses[0] ?? '127.0.0.1')
      if (!to) continue
      return {
        outcomes: [
          {
            verdict: 'dnat',
            dnat: {...to, chain},
            probability: 1,
            conditions: [],
            hops: [
              {
                table: 'nat',
                chain,
                rule: formatRule(rule),
                line: rule.line,
                target: rule.target.kind === 'DNAT' ? {kind: 'dnat', ip: to.ip, port: to.port} : {kind: 'other', name: 'REDIRECT'},
              },
            ],
            masquerade: false,
            notes: [{kind: 'userspace-proxy', port: to.port}],
          },
        ],
        notes: [],
        rulesVisited: visited,
      }
    }
  }
  return {...untouched([{kind: 'userspace-no-portal', chain: `KUBE-PORTALS-${side}`, source: dump.source}], false), rulesVisited: visited}
}

const PORTAL_CHAINS = ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST']

/** Userspace mode (removed in v1.26): its KUBE-PORTALS-* / KUBE-NODEPORT-* chains in nat. */
export const userspaceMode: ModePlugin<IndexedCaptures> = {
  mode: 'userspace',
  kernelOrder: 4,
  detect(p) {
    const nat = p.iptables?.tables.get('nat')
    const portals = PORTAL_CHAINS.filter((c) => nat?.has(c))
    return p.iptables && portals.length > 0 ? `nat ${portals.join(', ')} in ${p.iptables.source}` : undefined
  },
  tracer(p, detected) {
    const dump = p.iptables
    if (!dump || !detected.has('userspace')) return undefined
    return (req) => traceUserspace(dump, req)
  },
}
