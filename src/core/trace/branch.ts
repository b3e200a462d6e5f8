// One trace, mode-neutral: the request, the branches a walk forks into, and the outcomes it ends in.
import {parseCidr} from '../address.js'
import type {TrafficCounters} from '../counters.js'
import type {Destination, SourceKind} from '../model.js'
import {isLocalAddress, type NodeContext, type SetMembership} from './node.js'
import type {Note} from './notes.js'
import type {Condition, Packet} from './packet.js'

/** One destination to trace on one node, from one kind of source. */
export interface TraceRequest {
  node: {name: string; addresses: readonly string[]}
  destination: Destination
  from: SourceKind
  /** Client address; may be omitted only for an outside client. */
  source?: string
  /** Pod networks (podCIDRs, pod IPs): an unnamed outside client is not in them. */
  podNetworks: string[]
  /** The node's ipsets (IPVS mode), so `-m set` matches can be evaluated. */
  ipsets?: SetMembership
}

/** One step of a path: the rule (or implicit step) the packet went through, and where it sent it. */
export interface Hop {
  table: string
  chain: string
  /** The rule as the dump prints it; for an implicit step, a sentence in brackets. */
  rule: string
  /** 1-based line in the node's dump; 0 for a step the dump does not hold. */
  line: number
  /** What the rule does with the packet. */
  target: HopTarget
  /** The rule's own comment (`-m comment --comment`), as kube-proxy wrote it. */
  comment?: string
}

/** What a hop's rule does: jump/goto a chain, a verdict, a NAT, or an implicit step of the walk. */
export type HopTarget =
  | {kind: 'jump' | 'goto'; chain: string}
  | {kind: 'dnat'; ip?: string; port?: number}
  | {kind: 'accept' | 'drop' | 'reject' | 'return' | 'mark' | 'masquerade' | 'continue'}
  /** A chain's policy applied (the packet fell off the end of a base chain with policy drop). */
  | {kind: 'policy'; policy: 'drop'}
  /** kube-proxy's hook rule, assumed because the dump (restore input) does not hold it. */
  | {kind: 'hook'; chain: string}
  /** An IPVS virtual server or real server picked. */
  | {kind: 'ipvs-virtual-server' | 'ipvs-real-server'}
  | {kind: 'map-element'}
  | {kind: 'other'; name: string}

/** Where a DNAT sent the packet: the backend address, and the chain (or IPVS server) that did it. */
export interface Dnat {
  ip: string
  port?: number
  chain: string
  /** IPVS: the real server's weight. */
  weight?: number
  /** What the dump counted for this backend, when it carries counters (the DNAT rule's; IPVS: the real server's). */
  counters?: TrafficCounters
}

/** One way the packet can end. */
export interface Outcome {
  verdict: 'dnat' | 'reject' | 'drop' | 'no-match'
  dnat?: Dnat
  probability: number
  /** Undecided conditions on this branch, each either assumed to hold or to fail. */
  conditions: Array<{condition: Condition; holds: boolean}>
  hops: Hop[]
  masquerade: boolean | undefined
  affinitySeconds?: number
  /** IPVS: the scheduler of the virtual server that picked the backend. */
  scheduler?: string
  /** iptables: how many rules the packet was compared against on this branch, every chain walked (nat and filter). */
  rulesPassed?: number
  notes: Note[]
}

/**
 * How a mode finds the Service a packet belongs to: iptables compares it with one rule after another
 * (the cost grows with the number of Services), nftables looks it up in a verdict map, IPVS in a hash.
 */
export type Lookup = 'rules' | 'map' | 'hash'

/** Everything one trace found: the outcomes, and notes about the walk as a whole. */
export interface Trace {
  outcomes: Outcome[]
  notes: Note[]
  /** How the mode's lookup works; absent when the mode has none (userspace, nothing read). */
  lookup?: Lookup
  /** Rules (and map elements) the walk looked at, once per branch: the work the trace did, which tests hold to the dump's size. */
  rulesVisited: number
}

/** One way the packet can go, with what the walk assumed on the way. */
export interface Branch {
  packet: Packet
  probability: number
  conditions: Outcome['conditions']
  hops: Hop[]
  dnat?: Dnat
  affinitySeconds?: number
  /** Rules compared so far (the iptables walk counts them; other modes leave 0). */
  rules: number
  notes: Note[]
}

/** Steps the branch has recorded: its hops, assumed conditions and notes (held to MAX_PATH). */
export function pathLength(b: Branch): number {
  return b.hops.length + b.conditions.length + b.notes.length
}

/**
 * A copy of the branch with some fields changed (branches are shared between forks, never mutated).
 * Written out field by field, every copy in one layout: forks are the walks' commonest allocation,
 * and spreads made objects of many shapes. A field added to Branch is added here too, and to forkTaken.
 */
export function fork(b: Branch, change: Partial<Branch>): Branch {
  const out: Branch = {
    packet: change.packet ?? b.packet,
    probability: change.probability ?? b.probability,
    conditions: change.conditions ?? b.conditions,
    hops: change.hops ?? b.hops,
    rules: change.rules ?? b.rules,
    notes: change.notes ?? b.notes,
  }
  const dnat = change.dnat ?? b.dnat
  if (dnat !== undefined) out.dnat = dnat
  const affinitySeconds = change.affinitySeconds ?? b.affinitySeconds
  if (affinitySeconds !== undefined) out.affinitySeconds = affinitySeconds
  return out
}

/**
 * fork with the fields a walk changes most (probability, conditions, hops, rules) given in place of a
 * change object: the iptables walk forks at every rule a branch takes.
 */
export function forkTaken(b: Branch, probability: number, conditions: Branch['conditions'], hops: Hop[], rules: number): Branch {
  const out: Branch = {packet: b.packet, probability, conditions, hops, rules, notes: b.notes}
  if (b.dnat !== undefined) out.dnat = b.dnat
  if (b.affinitySeconds !== undefined) out.affinitySeconds = b.affinitySeconds
  return out
}

/** The packet a request starts with, or an error when the destination is not an address. */
export function startBranch(req: TraceRequest, node: NodeContext): Branch {
  const dst = parseCidr(req.destination.ip)
  if (!dst) throw new Error(`not an IP address: ${req.destination.ip}`)
  const src = req.source === undefined ? undefined : parseCidr(req.source)
  // Built field by field rather than with spreads: a trace starts here for every client of every entry.
  const packet: Packet = {
    srcLocal: req.from === 'node' || (src !== undefined && isLocalAddress(node.local, src) === true),
    dst,
    protocol: req.destination.protocol,
    mark: 0,
    dnatted: false,
  }
  if (src !== undefined) packet.src = src
  if (req.destination.port !== undefined) packet.dport = req.destination.port
  return {
    packet,
    probability: 1,
    conditions: [],
    hops: [],
    rules: 0,
    notes: [],
  }
}

/** Ends a branch with a verdict; masquerade is read off the packet mark (unknown when the mark is). `counted`: the walk counted rules. */
export function finish(b: Branch, verdict: Outcome['verdict'], masqMark: number, counted = false): Outcome {
  return {
    verdict,
    ...(b.dnat ? {dnat: b.dnat} : {}),
    probability: b.probability,
    conditions: b.conditions,
    hops: b.hops,
    masquerade: b.packet.mark === undefined ? undefined : (b.packet.mark & masqMark) === masqMark,
    ...(b.affinitySeconds !== undefined ? {affinitySeconds: b.affinitySeconds} : {}),
    ...(counted ? {rulesPassed: b.rules} : {}),
    notes: b.notes,
  }
}

/** The trace of a packet no rule handles: one no-match outcome. */
export function untouched(notes: Note[], masquerade: boolean | undefined): Trace {
  return {outcomes: [{verdict: 'no-match', probability: 1, conditions: [], hops: [], masquerade, notes: []}], notes, rulesVisited: 0}
}
