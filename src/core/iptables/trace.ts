// Walks a packet through a node's iptables rules the way netfilter does: nat PREROUTING (or OUTPUT
// for the node's own traffic) down through KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT, then the
// filter chains that see the rewritten destination (REJECT/DROP for services without endpoints,
// KUBE-PROXY-FIREWALL for load-balancer source ranges). Probability rules fork the walk, so every
// backend a fresh connection can reach is collected with its effective probability.
import {parseCidr, type Cidr} from '../address.js'
import type {Destination, Hop, SourceKind} from '../model.js'
import {chainRules, chainView, destinationRulesOut, hasChain, type IptablesDump} from './dump.js'
import {evaluateRule, type Condition, type NodeContext, type Packet, type SetMembership} from './match.js'
import {formatRule, type Rule} from './rule.js'

export interface IptablesTraceRequest {
  node: {name: string; addresses: string[]}
  destination: Destination
  from: SourceKind
  /** Client address; may be omitted only for an outside client. */
  source?: string
  /** Pod networks (podCIDRs, pod IPs): an unnamed outside client is not in them. */
  podNetworks: string[]
  /** The node's ipsets (IPVS mode), so `-m set` matches can be evaluated. */
  ipsets?: SetMembership
}

/** One way the packet can end. */
export interface Outcome {
  verdict: 'dnat' | 'reject' | 'drop' | 'no-match'
  dnat?: {ip: string; port?: number; chain: string}
  probability: number
  /** Undecided conditions on this branch, each either assumed to hold or to fail. */
  conditions: Array<{condition: Condition; holds: boolean}>
  hops: Hop[]
  masquerade: boolean | undefined
  affinitySeconds?: number
  notes: string[]
}

export interface IptablesTrace {
  outcomes: Outcome[]
  notes: string[]
}

/** One way the packet can go, with what the walk assumed on the way (the nftables walk uses it too). */
export interface Branch {
  packet: Packet
  probability: number
  conditions: Outcome['conditions']
  hops: Hop[]
  dnat?: Outcome['dnat']
  affinitySeconds?: number
  notes: string[]
}

type Terminal = {kind: 'dnat' | 'accept' | 'drop' | 'reject'; branch: Branch}

interface WalkResult {
  terminals: Terminal[]
  exits: Branch[]
}

interface Walker {
  dump: IptablesDump
  node: NodeContext
  /** Branches created so far; the walk stops forking past MAX_BRANCHES. */
  budget: {branches: number}
  notes: Set<string>
}

const MAX_BRANCHES = 4096
const MAX_DEPTH = 64
const DEFAULT_MASQ_MARK = 0x4000

// kube-proxy installs these hook rules with EnsureRule; restore-input samples do not hold them.
const KUBE_HOOKS: Record<string, Record<string, string[]>> = {
  nat: {PREROUTING: ['KUBE-SERVICES'], OUTPUT: ['KUBE-SERVICES']},
  filter: {
    INPUT: ['KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL'],
    FORWARD: ['KUBE-PROXY-FIREWALL', 'KUBE-FORWARD', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES'],
    OUTPUT: ['KUBE-PROXY-FIREWALL', 'KUBE-SERVICES', 'KUBE-FIREWALL'],
  },
}

function hop(rule: Rule): Hop {
  return {table: rule.table, chain: rule.chain, rule: formatRule({chain: rule.chain, parts: rule.parts}), line: rule.line}
}

function fork(b: Branch, change: Partial<Branch>): Branch {
  return {...b, ...change, notes: change.notes ?? b.notes}
}

function applyMark(mark: number | undefined, rule: Rule): number | undefined {
  const t = rule.target
  if (t.kind !== 'MARK' || mark === undefined) return undefined
  switch (t.op) {
    case 'xset':
      return ((mark & ~t.mask) ^ t.value) >>> 0
    case 'or':
      return (mark | t.value) >>> 0
    case 'xor':
      return (mark ^ t.value) >>> 0
    case 'and':
      return (mark & t.value) >>> 0
  }
}

/** Walks one chain; returns the branches that ended inside it and those that left it. */
function walkChain(w: Walker, table: string, chain: string, start: Branch, stack: string[]): WalkResult {
  const view = chainView(w.dump, table, chain)
  const terminals: Terminal[] = []
  const exits: Branch[] = []
  if (!view) {
    w.notes.add(`${table} chain ${chain} is referenced but not in the dump`)
    return {terminals, exits: [fork(start, {notes: [...start.notes, `jump to missing chain ${chain} (treated as empty)`]})]}
  }
  let live = [start]
  // Every branch of one walk has the same destination (DNAT ends the nat walk).
  const order = view.candidates(start.packet.dst.text)
  for (let i = 0; i < order.length; i++) {
    const k = order[i]
    if (live.length === 0) break
    const raw = view.text(k)
    if (live.every((b) => destinationRulesOut(raw, b.packet.dst.text))) continue
    const rule = view.rule(k)
    const next: Branch[] = []
    for (const b of live) {
      if ('error' in rule) {
        w.notes.add(`line ${rule.line}: could not read the rule (${rule.error}); it was skipped`)
        next.push(fork(b, {notes: [...b.notes, `line ${rule.line} unreadable, skipped`]}))
        continue
      }
      const ev = evaluateRule(rule, b.packet, w.node)
      for (const u of ev.unknown) w.notes.add(u)
      const base = ev.affinitySeconds === undefined ? b : fork(b, {affinitySeconds: ev.affinitySeconds})
      if (ev.result === 'no') {
        next.push(base)
        continue
      }
      const p = ev.probability ?? 1
      const assumed = (holds: boolean) => [...base.conditions, ...ev.conditions.map((condition) => ({condition, holds}))]
      const taken = fork(base, {probability: base.probability * p, conditions: assumed(true), hops: [...base.hops, hop(rule)]})
      if (ev.result === 'maybe') next.push(fork(base, {conditions: assumed(false)}))
      if (p < 1) next.push(fork(base, {probability: base.probability * (1 - p), conditions: assumed(true)}))
      w.budget.branches += next.length
      const r = applyTarget(w, rule, taken, stack)
      terminals.push(...r.terminals)
      next.push(...r.cont)
      exits.push(...r.ret)
    }
    if (w.budget.branches > MAX_BRANCHES) {
      w.notes.add(`the trace forked more than ${MAX_BRANCHES} times and was cut short; results are incomplete`)
      live = next.slice(0, 1)
    } else {
      live = next
    }
  }
  exits.push(...live)
  return {terminals, exits}
}

function applyTarget(w: Walker, rule: Rule, b: Branch, stack: string[]): {terminals: Terminal[]; cont: Branch[]; ret: Branch[]} {
  const t = rule.target
  switch (t.kind) {
    case 'jump':
    case 'goto': {
      if (stack.includes(t.chain) || stack.length >= MAX_DEPTH) {
        w.notes.add(`line ${rule.line}: jump to ${t.chain} loops back (${[...stack, t.chain].join(' → ')}); not followed`)
        return {terminals: [], cont: [fork(b, {notes: [...b.notes, `jump cycle at line ${rule.line}`]})], ret: []}
      }
      const sub = walkChain(w, rule.table, t.chain, b, [...stack, t.chain])
      return t.kind === 'jump' ? {terminals: sub.terminals, cont: sub.exits, ret: []} : {terminals: sub.terminals, cont: [], ret: sub.exits}
    }
    case 'RETURN':
      return {terminals: [], cont: [], ret: [b]}
    case 'ACCEPT':
      return {terminals: [{kind: 'accept', branch: b}], cont: [], ret: []}
    case 'DROP':
      return {terminals: [{kind: 'drop', branch: b}], cont: [], ret: []}
    case 'REJECT':
      return {terminals: [{kind: 'reject', branch: b}], cont: [], ret: []}
    case 'DNAT': {
      const ip = t.ip ? parseCidr(t.ip) : undefined
      if (!ip) {
        w.notes.add(`line ${rule.line}: DNAT to "${t.text}" could not be read`)
        return {terminals: [], cont: [b], ret: []}
      }
      const packet = {...b.packet, dst: ip, dport: t.port ?? b.packet.dport, dnatted: true}
      return {terminals: [{kind: 'dnat', branch: fork(b, {packet, dnat: {ip: t.ip!, port: t.port ?? b.packet.dport, chain: rule.chain}})}], cont: [], ret: []}
    }
    case 'MARK':
      return {terminals: [], cont: [fork(b, {packet: {...b.packet, mark: applyMark(b.packet.mark, rule)}})], ret: []}
    case 'MASQUERADE':
    case 'none':
      return {terminals: [], cont: [b], ret: []}
    case 'unknown':
      w.notes.add(`line ${rule.line}: target ${t.name} is not understood by svctrace; assumed to let the packet continue`)
      return {terminals: [], cont: [fork(b, {notes: [...b.notes, `unknown target ${t.name} at line ${rule.line}`]})], ret: []}
  }
}

/**
 * Walks a built-in chain. When the dump holds no rules in it (restore input, as kube-proxy's own
 * tests show it), walks kube-proxy's standard hook chains in order instead, and says so.
 */
function walkBuiltin(w: Walker, table: string, builtin: string, start: Branch): WalkResult & {policy?: string} {
  const index = w.dump.tables.get(table)?.get(builtin)
  if (index && index.ruleCount > 0) return {...walkChain(w, table, builtin, start, [builtin]), policy: index.policy}
  const hooks = (KUBE_HOOKS[table]?.[builtin] ?? []).filter((c) => hasChain(w.dump, table, c))
  if (hooks.length > 0) w.notes.add(`${table} ${builtin} has no rules in the dump; assumed kube-proxy's hooks ${builtin} → ${hooks.join(', ')}`)
  const terminals: Terminal[] = []
  let live = [start]
  for (const chain of hooks) {
    const next: Branch[] = []
    for (const b of live) {
      const synthetic: Hop = {table, chain: builtin, rule: `[kube-proxy hook: -A ${builtin} -j ${chain}; not in the dump]`, line: 0}
      const r = walkChain(w, table, chain, fork(b, {hops: [...b.hops, synthetic]}), [builtin, chain])
      terminals.push(...r.terminals)
      // A hook that returns without a verdict leaves the packet where it was: drop the synthetic hop.
      next.push(...r.exits.map((e) => (e.hops.at(-1) === synthetic ? fork(e, {hops: e.hops.slice(0, -1)}) : e)))
    }
    live = next
  }
  return {terminals, exits: live, policy: index?.policy}
}

function masqueradeMark(dump: IptablesDump): number {
  const rules = chainRules(dump, 'nat', 'KUBE-MARK-MASQ') ?? []
  for (const r of rules) if (!('error' in r) && r.target.kind === 'MARK') return r.target.value
  return DEFAULT_MASQ_MARK
}

function isLocalAddress(node: NodeContext, ip: Cidr): boolean {
  return ip.text.startsWith('127.') || ip.text === '::1' || node.local.some((l) => l.value === ip.value && l.family === ip.family)
}

function finish(b: Branch, verdict: Outcome['verdict'], masqMark: number): Outcome {
  return {
    verdict,
    dnat: verdict === 'dnat' || b.dnat ? b.dnat : undefined,
    probability: b.probability,
    conditions: b.conditions,
    hops: b.hops,
    masquerade: b.packet.mark === undefined ? undefined : (b.packet.mark & masqMark) === masqMark,
    affinitySeconds: b.affinitySeconds,
    notes: b.notes,
  }
}

/** Traces one destination on one node. Pure: everything it knows comes in the arguments. */
export function traceIptables(dump: IptablesDump, req: IptablesTraceRequest): IptablesTrace {
  const dst = parseCidr(req.destination.ip)
  if (!dst) throw new Error(`not an IP address: ${req.destination.ip}`)
  const node: NodeContext = {
    local: req.node.addresses.map((a) => parseCidr(a)).filter((c): c is Cidr => c !== undefined),
    podNetworks: req.podNetworks.map((a) => parseCidr(a)).filter((c): c is Cidr => c !== undefined),
    ...(req.ipsets ? {sets: req.ipsets} : {}),
  }
  const src = req.source === undefined ? undefined : parseCidr(req.source)
  const w: Walker = {dump, node, budget: {branches: 0}, notes: new Set()}
  const start: Branch = {
    packet: {
      src,
      srcLocal: req.from === 'node' || (src !== undefined && isLocalAddress(node, src)),
      dst,
      dport: req.destination.port,
      protocol: req.destination.protocol,
      mark: 0,
      dnatted: false,
    },
    probability: 1,
    conditions: [],
    hops: [],
    notes: [],
  }
  const masqMark = masqueradeMark(dump)
  const outcomes: Outcome[] = []
  const natChain = req.from === 'node' ? 'OUTPUT' : 'PREROUTING'
  const nat = dump.tables.has('nat') ? walkBuiltin(w, 'nat', natChain, start) : undefined
  if (!nat) w.notes.add('the dump has no nat table: no service is DNATed on this node')
  const afterNat: Branch[] = []
  for (const t of nat?.terminals ?? []) {
    if (t.kind === 'drop' || t.kind === 'reject') outcomes.push(finish(t.branch, t.kind, masqMark))
    else afterNat.push(t.branch)
  }
  afterNat.push(...(nat?.exits ?? [start]))

  const hasFilter = dump.tables.has('filter')
  if (!hasFilter) w.notes.add('the dump has no filter table: REJECT/DROP rules for services without endpoints were not checked')
  for (const b of afterNat) {
    const settled = b.dnat ? 'dnat' : 'no-match'
    if (!hasFilter) {
      outcomes.push(finish(b, settled, masqMark))
      continue
    }
    const filterChain = req.from === 'node' ? 'OUTPUT' : isLocalAddress(node, b.packet.dst) ? 'INPUT' : 'FORWARD'
    const filter = walkBuiltin(w, 'filter', filterChain, b)
    for (const t of filter.terminals) {
      outcomes.push(finish(t.branch, t.kind === 'drop' || t.kind === 'reject' ? t.kind : settled, masqMark))
    }
    for (const e of filter.exits) {
      if (filter.policy === 'DROP') {
        const policyHop: Hop = {table: 'filter', chain: filterChain, rule: `[policy DROP of ${filterChain}]`, line: 0}
        outcomes.push(finish(fork(e, {hops: [...e.hops, policyHop]}), 'drop', masqMark))
      } else {
        outcomes.push(finish(e, settled, masqMark))
      }
    }
  }
  return {outcomes, notes: [...w.notes]}
}
