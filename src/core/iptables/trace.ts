// Walks a packet through a node's iptables rules the way netfilter does: nat PREROUTING (or OUTPUT
// for the node's own traffic) down through KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT, then the
// filter chains that see the rewritten destination (REJECT/DROP for services without endpoints,
// KUBE-PROXY-FIREWALL for load-balancer source ranges). Probability rules fork the walk, so every
// backend a fresh connection can reach is collected with its effective probability.
import {
  finish,
  fork,
  forkTaken,
  pathLength,
  startBranch,
  type Branch,
  type Hop,
  type HopTarget,
  type Outcome,
  type Trace,
  type TraceRequest,
} from '../trace/branch.js'
import {DEFAULT_MASQ_MARK, MAX_BRANCHES, MAX_DEPTH, MAX_PATH, visitLimit} from '../trace/limits.js'
import {isLocalAddress, nodeContext, type NodeContext} from '../trace/node.js'
import {NoteSet, type Note} from '../trace/notes.js'
import {dnatPacket, markPacket} from '../trace/packet.js'
import {chainRules, chainView, destinationKey, hasChain, type IptablesDump} from './dump.js'
import {evaluateRule, type MatchResult} from './match.js'
import {formatRule, ruleComment, type Rule} from './rule.js'
import {parseBracketCounters} from '../counters.js'

type Terminal = {kind: 'dnat' | 'accept' | 'drop' | 'reject'; branch: Branch}

/**
 * Where a walk puts what it finds: branches that ended (a verdict or DNAT), and branches that left
 * the chain walked (fell off its end, RETURN, or a goto's chain did). A walk appends to the arrays
 * its caller hands it, in the order found, so nested walks make no lists of their own.
 */
interface Flow {
  terminals: Terminal[]
  exits: Branch[]
}

interface Walker {
  dump: IptablesDump
  node: NodeContext
  /** Branches created so far (the walk stops forking past MAX_BRANCHES), and rules looked at per branch (it stops past maxVisits). */
  budget: {branches: number; visits: number; maxVisits: number}
  notes: NoteSet
  /** The chains being walked, outermost first (a jump's chain is pushed while it is walked, for the cycle guard). */
  stack: string[]
}

function note(w: Walker, n: Note): void {
  w.notes.add(n)
}

// kube-proxy installs these hook rules with EnsureRule; restore-input samples do not hold them.
const KUBE_HOOKS: Record<string, Record<string, string[]>> = {
  nat: {PREROUTING: ['KUBE-SERVICES'], OUTPUT: ['KUBE-SERVICES']},
  filter: {
    INPUT: ['KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL'],
    FORWARD: ['KUBE-PROXY-FIREWALL', 'KUBE-FORWARD', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES'],
    OUTPUT: ['KUBE-PROXY-FIREWALL', 'KUBE-SERVICES', 'KUBE-FIREWALL'],
  },
}

/** The typed view of what a rule does, for the report. */
function hopTarget(rule: Rule): HopTarget {
  const t = rule.target
  switch (t.kind) {
    case 'jump':
    case 'goto':
      return {kind: t.kind, chain: t.chain}
    case 'DNAT':
      return {kind: 'dnat', ...(t.ip ? {ip: t.ip} : {}), ...(t.port !== undefined ? {port: t.port} : {})}
    case 'REJECT':
    case 'DROP':
    case 'ACCEPT':
    case 'RETURN':
    case 'MARK':
    case 'MASQUERADE':
      return {kind: t.kind === 'MARK' ? 'mark' : t.kind === 'MASQUERADE' ? 'masquerade' : (t.kind.toLowerCase() as 'reject' | 'drop' | 'accept' | 'return')}
    case 'unknown':
      return {kind: 'other', name: t.name}
    case 'none':
      return {kind: 'continue'}
  }
}

/** The step a rule adds to a path, made once per rule: hops are values, shared by every path through the rule. */
function hop(rule: Rule): Hop {
  if (rule.hop) return rule.hop
  const comment = ruleComment(rule)
  return (rule.hop = {
    table: rule.table,
    chain: rule.chain,
    rule: formatRule({chain: rule.chain, parts: rule.parts, ...(rule.text !== undefined ? {text: rule.text} : {})}),
    line: rule.line,
    target: hopTarget(rule),
    ...(comment !== undefined ? {comment} : {}),
  })
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

/** A branch's conditions with a rule's undecided ones added, each assumed to hold or to fail. */
function assumed(conditions: Branch['conditions'], added: MatchResult['conditions'], holds: boolean): Branch['conditions'] {
  return added.length === 0 ? conditions : [...conditions, ...added.map((condition) => ({condition, holds}))]
}

/**
 * Walks one chain, appending to `out` the branches that ended inside it and those that left it.
 * `dst`: the packet's destinationKey, the same for every branch of the walk (DNAT ends the nat walk).
 *
 * The branches still walking are `live`, each with the chain position its rule count has reached
 * (`from`): the rules from there to the one it is tested against are counted when it is (the
 * destination index skips rules the kernel still compares, so counts are settled by position, not
 * by visits).
 */
function walkChain(w: Walker, table: string, chain: string, start: Branch, dst: string, out: Flow): void {
  const view = chainView(w.dump, table, chain)
  if (!view) {
    note(w, {kind: 'chain-missing', table, chain})
    out.exits.push(fork(start, {notes: [...start.notes, {kind: 'jump-to-missing-chain', chain}]}))
    return
  }
  let live: Branch[] = [start]
  let liveFrom: number[] = [0]
  // The branches after the rule being tested; they become `live` after each rule.
  let next: Branch[] = []
  let nextFrom: number[] = []
  // Where a matched rule's target puts its branches: the walk's terminals, and this rule's `next`.
  const here: Flow = {terminals: out.terminals, exits: live}
  for (const k of view.candidates(dst)) {
    if (live.length === 0) break
    if (w.budget.visits > w.budget.maxVisits) {
      // The branches leave the chain as if no later rule matched; the note marks the result incomplete.
      note(w, {kind: 'walk-limit', limit: w.budget.maxVisits})
      break
    }
    w.budget.visits += live.length
    const rule = view.ruleTo(k, dst)
    if (!rule) continue
    for (let i = 0; i < live.length; i++) {
      const b = live[i] as Branch
      const from = liveFrom[i] as number
      if (pathLength(b) >= MAX_PATH) {
        // Passes the rest of the walk untouched; the note marks the result incomplete.
        note(w, {kind: 'path-limit', limit: MAX_PATH})
        next.push(b)
        nextFrom.push(from)
        continue
      }
      if ('error' in rule) {
        note(w, {kind: 'rule-unreadable', line: rule.line, error: rule.error})
        next.push(fork(b, {notes: [...b.notes, {kind: 'rule-skipped', line: rule.line}]}))
        nextFrom.push(from)
        continue
      }
      const ev = evaluateRule(rule, b.packet, w.node)
      for (const u of ev.unknown) note(w, u)
      const base = ev.affinitySeconds === undefined ? b : fork(b, {affinitySeconds: ev.affinitySeconds})
      if (ev.result === 'no') {
        next.push(base)
        nextFrom.push(from)
        continue
      }
      const p = ev.probability ?? 1
      const holding = assumed(base.conditions, ev.conditions, true)
      // Rules from `from` up to and including this one.
      const rules = base.rules + (k - from) + 1
      const taken = forkTaken(base, base.probability * p, holding, [...base.hops, hop(rule)], rules)
      if (ev.result === 'maybe') {
        next.push(fork(base, {conditions: assumed(base.conditions, ev.conditions, false)}))
        nextFrom.push(from)
      }
      if (p < 1) {
        next.push(forkTaken(base, base.probability * (1 - p), holding, base.hops, base.rules))
        nextFrom.push(from)
      }
      w.budget.branches += next.length
      // What continues in this chain after the rule goes on from the next position.
      const continuing = next.length
      here.exits = next
      applyTarget(w, rule, taken, dst, here, out.exits)
      for (let c = continuing; c < next.length; c++) nextFrom.push(k + 1)
    }
    if (w.budget.branches > MAX_BRANCHES) {
      note(w, {kind: 'branch-limit', limit: MAX_BRANCHES})
      next.length = Math.min(next.length, 1)
      nextFrom.length = next.length
    }
    live = next
    liveFrom = nextFrom
    // Fresh lists rather than the old ones emptied: setting an array's length is a call into the runtime.
    next = []
    nextFrom = []
  }
  // Falling off the end: every remaining rule of the chain was compared.
  for (let i = 0; i < live.length; i++) {
    const b = live[i] as Branch
    out.exits.push(forkTaken(b, b.probability, b.conditions, b.hops, b.rules + (view.length - (liveFrom[i] as number))))
  }
}

/**
 * Applies a matched rule's target to the branch that took it: ended branches go to `here.terminals`,
 * branches that go on in the current chain to `here.exits`, and those that leave it (RETURN, a goto's
 * chain ending) to `leaving`.
 */
function applyTarget(w: Walker, rule: Rule, b: Branch, dst: string, here: Flow, leaving: Branch[]): void {
  const t = rule.target
  switch (t.kind) {
    case 'jump':
    case 'goto': {
      const {stack} = w
      if (stack.includes(t.chain) || stack.length >= MAX_DEPTH) {
        note(w, {kind: 'jump-cycle', verb: 'jump', chain: t.chain, stack: [...stack, t.chain], line: rule.line})
        here.exits.push(fork(b, {notes: [...b.notes, {kind: 'jump-cycle-at', line: rule.line}]}))
        return
      }
      stack.push(t.chain)
      walkChain(w, rule.table, t.chain, b, dst, t.kind === 'jump' ? here : {terminals: here.terminals, exits: leaving})
      stack.pop()
      return
    }
    case 'RETURN':
      leaving.push(b)
      return
    case 'ACCEPT':
      here.terminals.push({kind: 'accept', branch: b})
      return
    case 'DROP':
      here.terminals.push({kind: 'drop', branch: b})
      return
    case 'REJECT':
      here.terminals.push({kind: 'reject', branch: b})
      return
    case 'DNAT': {
      const ip = t.cidr
      if (!ip || !t.ip) {
        note(w, {kind: 'dnat-unreadable', line: rule.line, text: t.text})
        here.exits.push(b)
        return
      }
      const port = t.port ?? b.packet.dport
      const packet = dnatPacket(b.packet, ip, port)
      // The DNAT rule's own counter is the backend's: the nat table sees only a connection's first
      // packet, and every new connection to this endpoint passes this one rule, whichever rule
      // jumped to the KUBE-SEP chain (KUBE-SVC's random pick, KUBE-SVL, an affinity --rcheck hit).
      // The jump rules each count only their own share, and the hairpin MARK rule only a pod
      // reaching itself. (The KUBE-SEP chain serves every entry of one Service port on the node, so
      // the count is per Service port, not per entry.)
      const counters = parseBracketCounters(rule.counters)
      const dnat = {ip: t.ip, ...(port !== undefined ? {port} : {}), chain: rule.chain, ...(counters ? {counters} : {})}
      here.terminals.push({kind: 'dnat', branch: fork(b, {packet, dnat})})
      return
    }
    case 'MARK':
      here.exits.push(fork(b, {packet: markPacket(b.packet, applyMark(b.packet.mark, rule))}))
      return
    case 'MASQUERADE':
    case 'none':
      here.exits.push(b)
      return
    case 'unknown':
      note(w, {kind: 'target-not-understood', line: rule.line, target: t.name})
      here.exits.push(fork(b, {notes: [...b.notes, {kind: 'unknown-target', line: rule.line, target: t.name}]}))
      return
  }
}

/** A hook chain kube-proxy jumps to from a built-in chain, with the hop that stands for its jump rule. */
interface AssumedHook {
  chain: string
  hop: Hop
}

// Per dump, per built-in chain without rules: the hook chains the dump has, their hops, and the note
// saying they are assumed. Made once: every branch of every trace that reaches the chain asks.
interface AssumedHooks {
  hooks: AssumedHook[]
  assumed?: Note
  /** Every hook chain is empty (filter KUBE-SERVICES while every Service has endpoints): a packet passes them all. */
  allEmpty: boolean
}

const hooksOf = new WeakMap<IptablesDump, Map<string, Map<string, AssumedHooks>>>()

function assumedHooks(dump: IptablesDump, table: string, builtin: string): AssumedHooks {
  let byTable = hooksOf.get(dump)
  if (!byTable) {
    byTable = new Map()
    hooksOf.set(dump, byTable)
  }
  let byChain = byTable.get(table)
  if (!byChain) {
    byChain = new Map()
    byTable.set(table, byChain)
  }
  let found = byChain.get(builtin)
  if (!found) {
    const chains = (KUBE_HOOKS[table]?.[builtin] ?? []).filter((c) => hasChain(dump, table, c))
    const hooks = chains.map((chain): AssumedHook => ({
      chain,
      hop: {table, chain: builtin, rule: `[kube-proxy hook: -A ${builtin} -j ${chain}; not in the dump]`, line: 0, target: {kind: 'hook', chain}},
    }))
    const allEmpty = chains.every((c) => chainView(dump, table, c)?.length === 0)
    found = {hooks, allEmpty, ...(hooks.length > 0 ? {assumed: {kind: 'hooks-assumed' as const, table, builtin, hooks: chains}} : {})}
    byChain.set(builtin, found)
  }
  return found
}

/**
 * Walks a built-in chain. When the dump holds no rules in it (restore input, as kube-proxy's own
 * tests show it), walks kube-proxy's standard hook chains in order instead, and says so.
 */
function walkBuiltin(w: Walker, table: string, builtin: string, start: Branch): Flow & {policy?: string} {
  const index = w.dump.tables.get(table)?.get(builtin)
  const policy = index?.policy !== undefined ? {policy: index.policy} : {}
  const out: Flow = {terminals: [], exits: []}
  if (index && index.ruleCount > 0) {
    w.stack = [builtin]
    walkChain(w, table, builtin, start, destinationKey(start.packet.dst), out)
    return {...out, ...policy}
  }
  // Every branch here has the packet's destination (nothing below rewrites it before the walk ends).
  let dst: string | undefined
  const {hooks, assumed, allEmpty} = assumedHooks(w.dump, table, builtin)
  if (assumed) note(w, assumed)
  // Each assumed hook rule is one more rule the packet is compared against, and an empty hook chain
  // returns it unchanged past that rule.
  if (allEmpty) return {terminals: out.terminals, exits: [hooks.length === 0 ? start : fork(start, {rules: start.rules + hooks.length})], ...policy}
  let live = [start]
  for (const {chain, hop: synthetic} of hooks) {
    const next: Branch[] = []
    const view = chainView(w.dump, table, chain)
    for (const b of live) {
      // The assumed hook rule is one more rule the packet is compared against. An empty hook chain
      // (filter KUBE-SERVICES while every Service has endpoints) returns it unchanged past that rule.
      if (view?.length === 0) {
        next.push(fork(b, {rules: b.rules + 1}))
        continue
      }
      const left: Branch[] = []
      w.stack = [builtin, chain]
      dst ??= destinationKey(start.packet.dst)
      walkChain(w, table, chain, fork(b, {hops: [...b.hops, synthetic], rules: b.rules + 1}), dst, {terminals: out.terminals, exits: left})
      // A hook that returns without a verdict leaves the packet where it was: drop the synthetic hop.
      for (const e of left) next.push(e.hops.at(-1) === synthetic ? fork(e, {hops: e.hops.slice(0, -1)}) : e)
    }
    live = next
  }
  return {terminals: out.terminals, exits: live, ...policy}
}

// The mark KUBE-MARK-MASQ sets, per dump: every trace ends by reading it.
const masqueradeMarks = new WeakMap<IptablesDump, number>()

function masqueradeMark(dump: IptablesDump): number {
  let mark = masqueradeMarks.get(dump)
  if (mark === undefined) {
    mark = DEFAULT_MASQ_MARK
    for (const r of chainRules(dump, 'nat', 'KUBE-MARK-MASQ') ?? []) {
      if (!('error' in r) && r.target.kind === 'MARK') {
        mark = r.target.value
        break
      }
    }
    masqueradeMarks.set(dump, mark)
  }
  return mark
}

/** Traces one destination on one node. Pure: everything it knows comes in the arguments. */
export function traceIptables(dump: IptablesDump, req: TraceRequest): Trace {
  const node: NodeContext = nodeContext(req.node.addresses, req.podNetworks, req.ipsets)
  const w: Walker = {dump, node, budget: {branches: 0, visits: 0, maxVisits: visitLimit(dump.ruleCount)}, notes: new NoteSet(), stack: []}
  const start = startBranch(req, node)
  const masqMark = masqueradeMark(dump)
  const outcomes: Outcome[] = []
  const natChain = req.from === 'node' ? 'OUTPUT' : 'PREROUTING'
  const nat = dump.tables.has('nat') ? walkBuiltin(w, 'nat', natChain, start) : undefined
  if (!nat) note(w, {kind: 'no-nat-table'})
  const afterNat: Branch[] = []
  for (const t of nat?.terminals ?? []) {
    if (t.kind === 'drop' || t.kind === 'reject') outcomes.push(finish(t.branch, t.kind, masqMark, true))
    else afterNat.push(t.branch)
  }
  afterNat.push(...(nat?.exits ?? [start]))

  const hasFilter = dump.tables.has('filter')
  if (!hasFilter) note(w, {kind: 'no-filter-table'})
  for (const b of afterNat) {
    const settled = b.dnat ? 'dnat' : 'no-match'
    if (!hasFilter) {
      outcomes.push(finish(b, settled, masqMark, true))
      continue
    }
    const filterChain = req.from === 'node' ? 'OUTPUT' : isLocalAddress(node.local, b.packet.dst) === true ? 'INPUT' : 'FORWARD'
    const filter = walkBuiltin(w, 'filter', filterChain, b)
    for (const t of filter.terminals) {
      outcomes.push(finish(t.branch, t.kind === 'drop' || t.kind === 'reject' ? t.kind : settled, masqMark, true))
    }
    for (const e of filter.exits) {
      if (filter.policy === 'DROP') {
        const policyHop: Hop = {table: 'filter', chain: filterChain, rule: `[policy DROP of ${filterChain}]`, line: 0, target: {kind: 'policy', policy: 'drop'}}
        outcomes.push(finish(fork(e, {hops: [...e.hops, policyHop]}), 'drop', masqMark, true))
      } else {
        outcomes.push(finish(e, settled, masqMark, true))
      }
    }
  }
  return {outcomes, notes: w.notes.values(), lookup: 'rules', rulesVisited: w.budget.visits}
}
