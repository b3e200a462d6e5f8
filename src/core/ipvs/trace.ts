// Traces a destination through kube-proxy's IPVS mode. The iptables rules that remain (KUBE-SERVICES
// over ipsets, KUBE-PROXY-FIREWALL) decide masquerade and drops; then IPVS, at LOCAL_IN, picks a real
// server of the virtual server for (protocol, address, port). Every address IPVS answers is bound to
// kube-ipvs0, so it is a local address of the node for the iptables walk. kube-proxy runs one IPVS
// proxier per IP family: both write the one IPVS table, but an IPv6 destination's rules are in
// ip6tables and its ipsets are the IPv6 proxier's (KUBE-6-…).
import {canonicalIP, familyOf, isIP, joinHostPort} from '../address.js'
import {chainRules, type IptablesDump} from '../iptables/dump.js'
import {formatRule} from '../iptables/rule.js'
import {traceIptables} from '../iptables/trace.js'
import {untouched, type Hop, type Outcome, type Trace, type TraceRequest} from '../trace/branch.js'
import type {Note} from '../trace/notes.js'
import {ipsetMembership} from './ipset-match.js'
import {familySetName, setAddresses, type Ipsets} from './ipset.js'
import {virtualServerKey, type IpvsTable, type RealServer, type VirtualServer} from './ipvsadm.js'
import {schedulerShares} from './scheduler.js'

/** What was read from an IPVS-mode node. */
export interface IpvsState {
  table: IpvsTable
  ipsets?: Ipsets
  /** The iptables rules kube-proxy keeps in IPVS mode (masquerade, firewall, kube-ipvs0 filter). */
  iptables?: IptablesDump
  /** The same rules of the IPv6 proxier (ip6tables-save), for IPv6 destinations. */
  iptables6?: IptablesDump
}

/** `ipvs 10.96.0.10:53/UDP`: the name a virtual server goes by in paths and backends. */
function virtualServerLabel(vs: VirtualServer): string {
  return vs.protocol === 'FWM' ? `ipvs fwmark ${vs.fwmark}` : `ipvs ${joinHostPort(vs.ip, vs.port)}/${vs.protocol}`
}

function indexTable(table: IpvsTable): Map<string, VirtualServer> {
  const m = new Map<string, VirtualServer>()
  for (const vs of table.services) if (vs.protocol !== 'FWM') m.set(virtualServerKey(vs.protocol, vs.ip, vs.port), vs)
  return m
}

function hopOf(vs: VirtualServer, item: VirtualServer | RealServer): Hop {
  return {
    table: 'ipvs',
    chain: virtualServerLabel(vs),
    rule: item.text,
    line: item.line,
    target: {kind: item === vs ? 'ipvs-virtual-server' : 'ipvs-real-server'},
  }
}

/** The KUBE-IPVS-FILTER rule that rejects new connections to kube-ipvs0 addresses IPVS does not serve. */
function ipvsFilterHop(dump: IptablesDump | undefined, dst: string, table: IpvsTable): Hop {
  const rule = (dump ? (chainRules(dump, 'filter', 'KUBE-IPVS-FILTER') ?? []) : []).find((r) => !('error' in r) && r.target.kind === 'REJECT')
  if (rule && !('error' in rule)) return {table: 'filter', chain: 'KUBE-IPVS-FILTER', rule: formatRule(rule), line: rule.line, target: {kind: 'reject'}}
  return {
    table: 'ipvs',
    chain: 'kube-ipvs0',
    rule: `[${dst} is bound to kube-ipvs0 but ${table.source} has no virtual server for this port: the node itself refuses it]`,
    line: 0,
    target: {kind: 'reject'},
  }
}

/** Whether kube-proxy's set `base` of the address's family (KUBE-6-… for IPv6) holds the member. */
function hasMember(sets: Ipsets | undefined, base: string, family: 4 | 6, parts: string[]): boolean {
  if (!sets) return false
  // ipset prints addresses its own way (IPv6 compressed): compare addresses canonically.
  const same = (have: string | undefined, want: string) => (isIP(want) ? canonicalIP(have ?? '') === canonicalIP(want) : have === want)
  return (sets.sets.get(familySetName(sets, base, family))?.entries ?? []).some((e) => parts.every((p, i) => same(e.parts[i], p)))
}

/**
 * kube-proxy's set of Local node ports for the protocol, and the member a node port has in it: TCP and
 * UDP are `bitmap:port` sets of ports; SCTP is `hash:ip,port` (`KUBE-NODE-PORT-LOCAL-SCTP-HASH`,
 * one `nodeIP,sctp:port` per node address).
 */
function localNodePortSet(vs: VirtualServer): {base: string; member: string[]} {
  if (vs.protocol === 'SCTP') return {base: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', member: [vs.ip, `sctp:${vs.port}`]}
  return {base: `KUBE-NODE-PORT-LOCAL-${vs.protocol}`, member: [String(vs.port)]}
}

/** externalTrafficPolicy Local shows only in the `*-LOCAL` ipsets, which skip masquerade. */
function localPolicyNote(sets: Ipsets | undefined, req: TraceRequest, vs: VirtualServer, family: 4 | 6): Note | undefined {
  const proto = vs.protocol.toLowerCase()
  const ipPort = [vs.ip, `${proto}:${vs.port}`]
  const nodePort = localNodePortSet(vs)
  const base =
    hasMember(sets, nodePort.base, family, nodePort.member) && req.node.addresses.includes(vs.ip)
      ? nodePort.base
      : ['KUBE-LOAD-BALANCER-LOCAL', 'KUBE-EXTERNAL-IP-LOCAL'].find((s) => hasMember(sets, s, family, ipPort))
  if (!base || !sets) return undefined
  return {kind: 'ipvs-local-policy', address: joinHostPort(vs.ip, vs.port), set: familySetName(sets, base, family)}
}

function ipvsNotes(vs: VirtualServer, how: string, draining: RealServer[]): Note[] {
  const server = virtualServerLabel(vs)
  const realServers = vs.realServers.map((r) => ({address: joinHostPort(r.ip, r.port), weight: r.weight}))
  const notes: Note[] = [{kind: 'ipvs-scheduler', server, scheduler: vs.scheduler, how, realServers}]
  for (const r of draining) notes.push({kind: 'ipvs-draining', server, realServer: joinHostPort(r.ip, r.port)})
  if (vs.persistentSeconds !== undefined) notes.push({kind: 'ipvs-persistent', server, seconds: vs.persistentSeconds})
  if (vs.persistentTicks !== undefined) notes.push({kind: 'ipvs-persistent-ticks', server, ticks: vs.persistentTicks})
  if (vs.flags.length > 0) notes.push({kind: 'ipvs-flags', server, flags: vs.flags})
  return notes
}

/** Hands an outcome the iptables walk let through to IPVS. */
function throughIpvs(o: Outcome, state: IpvsState, req: TraceRequest, servers: Map<string, VirtualServer>, bound: Set<string>): Outcome[] {
  const {destination: d} = req
  const family = familyOf(d.ip) === 6 ? 6 : 4
  const vs = d.port === undefined ? undefined : servers.get(virtualServerKey(d.protocol, d.ip, d.port))
  if (!vs) {
    if (!bound.has(canonicalIP(d.ip))) return [o]
    return [
      {
        ...o,
        verdict: 'reject',
        hops: [...o.hops, ipvsFilterHop(family === 6 ? state.iptables6 : state.iptables, d.ip, state.table)],
        notes: [...o.notes, {kind: 'ipvs-no-virtual-server', ip: d.ip, port: d.port, protocol: d.protocol}],
      },
    ]
  }
  const live = vs.realServers.filter((r) => r.weight > 0)
  const draining = vs.realServers.filter((r) => r.weight === 0)
  const {shares, note} = schedulerShares(
    vs.scheduler,
    live.map((r) => r.weight),
  )
  const notes: Note[] = [...o.notes, ...ipvsNotes(vs, note, draining)]
  const local = localPolicyNote(state.ipsets, req, vs, family)
  if (local) notes.push(local)
  const vsHop = hopOf(vs, vs)
  if (live.length === 0) {
    return [
      {
        ...o,
        verdict: 'reject',
        hops: [...o.hops, vsHop],
        scheduler: vs.scheduler,
        notes: [...notes, {kind: 'ipvs-no-real-servers', server: virtualServerLabel(vs), onlyDraining: vs.realServers.length > 0}],
      },
    ]
  }
  const src = req.source === undefined ? undefined : canonicalIP(req.source)
  // A share of 0 (weighted failover's standby servers) receives no new connection.
  return live.flatMap((r, i) => {
    const share = shares[i] ?? 0
    if (share === 0) return []
    // KUBE-LOOP-BACK: a pod reaching itself through the Service is masqueraded (hairpin).
    const hairpin = src === r.ip && hasMember(state.ipsets, 'KUBE-LOOP-BACK', family, [r.ip, `${d.protocol.toLowerCase()}:${r.port}`, r.ip])
    return [
      {
        ...o,
        verdict: 'dnat' as const,
        dnat: {ip: r.ip, port: r.port, chain: virtualServerLabel(vs), weight: r.weight, ...(r.counters ? {counters: r.counters} : {})},
        probability: o.probability * share,
        scheduler: vs.scheduler,
        hops: [...o.hops, vsHop, hopOf(vs, r)],
        masquerade: hairpin ? true : o.masquerade,
        ...(vs.persistentSeconds !== undefined ? {affinitySeconds: vs.persistentSeconds} : {}),
        notes: hairpin ? [...notes, {kind: 'ipvs-hairpin', ip: r.ip}] : notes,
      },
    ]
  })
}

// IPVS mode's KUBE-SERVICES starts with `-s 127.0.0.0/8 -j RETURN` (IPv6: `-s ::1/128`): no outside
// client has such a source, so loopback joins the networks an unnamed client is assumed to be outside
// of. One list per pod-network list and family, so the trace's network set is made once a run.
const withLoopbackOf = new WeakMap<readonly string[], Record<4 | 6, string[]>>()

function withLoopback(podNetworks: readonly string[], family: 4 | 6): string[] {
  let lists = withLoopbackOf.get(podNetworks)
  if (!lists) {
    lists = {4: [...podNetworks, '127.0.0.0/8'], 6: [...podNetworks, '::1/128']}
    withLoopbackOf.set(podNetworks, lists)
  }
  return lists[family]
}
/** Traces one destination on an IPVS-mode node. Pure: everything comes in the arguments. */
export function traceIpvs(state: IpvsState, req: TraceRequest): Trace {
  const servers = indexTable(state.table)
  const {ipsets} = state
  // Each family's proxier binds its addresses to kube-ipvs0 and lists them in its own KUBE-IPVS-IPS.
  const boundSets = ipsets
    ? [...setAddresses(ipsets, familySetName(ipsets, 'KUBE-IPVS-IPS', 4)), ...setAddresses(ipsets, familySetName(ipsets, 'KUBE-IPVS-IPS', 6))]
    : []
  const bound = new Set([...state.table.services.map((vs) => vs.ip), ...boundSets].filter(Boolean).map(canonicalIP))
  const family = familyOf(req.destination.ip) === 6 ? 6 : 4
  const dump = family === 6 ? state.iptables6 : state.iptables
  const notes: Note[] = []
  let walked: Trace
  if (dump) {
    const addresses = [...new Set([...req.node.addresses, ...bound])]
    const podNetworks = withLoopback(req.podNetworks, family)
    walked = traceIptables(dump, {
      ...req,
      node: {...req.node, addresses},
      podNetworks,
      ...(state.ipsets ? {ipsets: ipsetMembership(state.ipsets)} : {}),
    })
  } else {
    notes.push({kind: 'ipvs-iptables-not-read', missing: family === 6 ? 'ip6tables-save' : 'iptables-save'})
    walked = untouched([], undefined)
  }
  const outcomes: Outcome[] = []
  // The IPVS step looks at the virtual server and its real servers once per outcome it is handed.
  let visits = walked.rulesVisited
  for (const o of walked.outcomes) {
    if (o.verdict === 'drop' || o.verdict === 'reject') outcomes.push(o)
    else if (o.verdict === 'dnat') outcomes.push({...o, notes: [...o.notes, {kind: 'ipvs-dnat-by-iptables'}]})
    else {
      const d = req.destination
      visits += 1 + (d.port === undefined ? 0 : (servers.get(virtualServerKey(d.protocol, d.ip, d.port))?.realServers.length ?? 0))
      outcomes.push(...throughIpvs(o, state, req, servers, bound))
    }
  }
  // The virtual server is found in IPVS's hash table, and KUBE-SERVICES matches ipsets: no per-Service rules.
  return {outcomes, notes: [...walked.notes, ...notes], lookup: 'hash', rulesVisited: visits}
}
