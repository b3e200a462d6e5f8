// The sentence for each kind of trace note. The core records what happened (kind and parameters);
// this is the one place that says it in words, for every output format.
import type {Note} from '../core/model.js'
import {percent} from './words.js'

const at = (line: number | undefined) => (line ? `line ${line}: ` : '')

/** The note as a sentence. */
export function noteText(n: Note): string {
  switch (n.kind) {
    case 'chain-missing':
      return `${n.table} chain ${n.chain} is referenced but not in the dump (treated as empty)`
    case 'jump-to-missing-chain':
      return `jump to missing chain ${n.chain} (treated as empty)`
    case 'jump-cycle':
      return `${at(n.line)}${n.verb} to ${n.chain} loops back (${n.stack.join(' → ')}); not followed`
    case 'jump-cycle-at':
      return `jump cycle at line ${n.line}`
    case 'branch-limit':
      return `the trace forked more than ${n.limit} times and was cut short; results are incomplete`
    case 'walk-limit':
      return `the trace looked at rules more than ${n.limit} times (jumps reach the same chains by many routes) and was cut short; results are incomplete`
    case 'path-limit':
      return `a path grew past ${n.limit} steps (hops, assumptions, skipped rules) and was not followed further; results are incomplete`
    case 'rule-unreadable':
      return `${at(n.line)}could not read the rule (${n.error}); it was skipped`
    case 'rule-skipped':
      return `line ${n.line} unreadable, skipped`
    case 'dnat-unreadable':
      return n.chain !== undefined ? `${n.chain}: "${n.text}" could not be read` : `${at(n.line)}DNAT to "${n.text}" could not be read`
    case 'target-not-understood':
      return `${at(n.line)}target ${n.target} is not understood by svctrace; assumed to let the packet continue`
    case 'unknown-target':
      return `unknown target ${n.target} at line ${n.line}`
    case 'hooks-assumed':
      return `${n.table} ${n.builtin} has no rules in the dump; assumed kube-proxy's hooks ${n.builtin} → ${n.hooks.join(', ')}`
    case 'no-nat-table':
      return 'the dump has no nat table: no service is DNATed on this node'
    case 'no-filter-table':
      return 'the dump has no filter table: REJECT/DROP rules for services without endpoints were not checked'
    case 'family-not-read':
      return `not traced: kube-proxy's iptables mode writes the rules of IPv${n.family} addresses with ${n.family === 6 ? 'ip6tables' : 'iptables'}, and no ${n.missing} was read from this node (only ${n.read}); capture ${n.missing} to trace this path`
    case 'source-port-unknown':
      return `${at(n.line)}source port match (client ports are not known)`
    case 'addrtype-unknown':
      return `${at(n.line)}addrtype ${n.type}`
    case 'mark-unknown':
      return `${at(n.line)}packet mark is not known here`
    case 'interface-untraced':
      return `${at(n.line)}interface ${n.name} (interfaces are not traced)`
    case 'ipset-unavailable':
      return `${at(n.line)}"-m set --match-set ${n.set}" is not understood by svctrace without the node's ipsets (ipset list)`
    case 'match-not-understood':
      return `${at(n.line)}"${n.text}" is not understood by svctrace`
    case 'statement-not-understood':
      return `${n.chain}${n.line ? ` (line ${n.line})` : ''}: "${n.text}" is not understood by svctrace`
    case 'match-undecided':
      return `${n.chain}: "${n.text}" could not be decided for this packet (interfaces, users and the like are not traced)`
    case 'map-key-unreadable':
      return `${n.chain}: the key of "${n.text}" could not be read for this packet; the map was treated as missing it`
    case 'redirect-to-local-process':
      return `${n.chain}: "${n.text}" hands the connection to a local process`
    case 'no-kube-proxy-table':
      return `${n.source} has no table ${n.family} kube-proxy: kube-proxy does not handle this address family here`
    case 'ipvs-scheduler': {
      const weights = n.realServers.map((r) => `${r.address} weight ${r.weight}`).join(', ')
      return `${n.server}: scheduler ${n.scheduler} (${n.how})${weights ? `; real servers ${weights}` : ''}`
    }
    case 'ipvs-draining':
      return `${n.server}: real server ${n.realServer} has weight 0: draining (no new connections; open ones continue)`
    case 'ipvs-persistent':
      return `${n.server} is persistent (-p ${n.seconds}): a client returns to the same real server within ${n.seconds} s of its last connection`
    case 'ipvs-persistent-ticks':
      return `${n.server} is persistent: a client returns to the same real server; /proc/net/ip_vs gives the timeout as ${n.ticks} kernel ticks (divide by the kernel's HZ, often 250 or 1000; ipvsadm -Ln shows seconds)`
    case 'ipvs-flags':
      return `${n.server} flags: ${n.flags.join(', ')}`
    case 'ipvs-no-virtual-server':
      return `${n.ip} is an IPVS address (kube-ipvs0) without a virtual server for port ${n.port}/${n.protocol}: new connections are rejected`
    case 'ipvs-no-real-servers':
      return `${n.server} ${n.onlyDraining ? 'has only draining real servers (weight 0)' : 'has no real servers (the Service has no endpoints)'}: IPVS answers ICMP port unreachable, so clients see "connection refused"`
    case 'ipvs-hairpin':
      return `${n.ip} reaches itself through the Service: KUBE-LOOP-BACK masquerades it`
    case 'ipvs-local-policy':
      return `externalTrafficPolicy Local (${n.address} is in ipset ${n.set}): outside clients are not masqueraded; when no endpoint runs on this node, IPVS mode lists every endpoint instead (kube-proxy PR #97081), and replies from other nodes do not find their way back`
    case 'ipvs-iptables-not-read':
      return `the ${n.missing === 'ip6tables-save' ? 'IPv6 iptables' : 'iptables'} rules of this IPVS node were not read (${n.missing}): masquerade and load-balancer source ranges were not checked`
    case 'ipvs-dnat-by-iptables':
      return 'an iptables DNAT rule took the packet before IPVS could (iptables-mode rules left on an IPVS node?)'
    case 'userspace-proxy':
      return `userspace mode: kube-proxy itself accepts the connection on port ${n.port} and opens its own to a backend it picks in-process (round-robin); no dump shows which backend, and the backend sees the node's address`
    case 'userspace-no-portal':
      return `no ${n.chain} rule of ${n.source} matches this destination`
    case 'modes-mixed':
      return `${n.node} also holds ${n.others.join(' and ')} rules; this path was traced through the ${n.used} rules${n.orderUncertain ? '; iptables and nftables nat chains both run at priority -100, in the order they were registered, so which set acts first is not certain' : ''}`
    case 'assumed':
      return `assumed: ${n.conditions.join('; ')}${n.sourceGiven ? '' : ' (give --source IP to trace a specific client)'}`
    case 'fall-through':
      return `${percent(n.share)} of new connections fall through the probability rules without DNAT`
    case 'no-service-port':
      return `no rule matches: ${n.service} has no ${n.port !== undefined ? `port ${n.port}/${n.protocol}` : `${n.protocol} port`}, so the packet is routed to ${n.ip} unchanged, as if no Service held the address`
  }
}

/** The note as the JSON/YAML report carries it: its kind and parameters, and the sentence. */
export function noteRecord(n: Note): Note & {text: string} {
  return {...n, text: noteText(n)}
}
