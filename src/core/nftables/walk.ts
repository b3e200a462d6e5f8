// The nftables walker: runs rules statement by statement, follows jump/goto and verdict maps (forking
// `numgen random mod N` N ways), and runs the base chains of one hook in priority order, as netfilter
// does. trace.ts decides which hooks a packet meets.
import {parseCidr} from '../address.js'
import type {TrafficCounters} from '../counters.js'
import {dnatPacket, markPacket} from '../trace/packet.js'
import {fork, pathLength, type Branch, type Hop, type HopTarget} from '../trace/branch.js'
import {MAX_BRANCHES, MAX_DEPTH, MAX_PATH} from '../trace/limits.js'
import type {NodeContext} from '../trace/node.js'
import type {Note, NoteSet} from '../trace/notes.js'
import {evaluateMatch, isUnknownMatch, lookupVmap, type EvalContext, type Tri} from './eval.js'
import {formatElement, formatStatement} from './format.js'
import type {Element, Rule, Table, Verdict} from './model.js'

/** Where a branch stopped: a verdict, or NAT (ends the base chain like accept). */
export type Terminal = {kind: 'accept' | 'drop' | 'reject' | 'dnat'; branch: Branch}

/** How a chain or rule leaves the packet: ended, continuing with the next rule, or returned to the caller. */
interface Flow {
  terminals: Terminal[]
  cont: Branch[]
  ret: Branch[]
}

/** The walk's state: the table, the node, and notes for the report. */
export interface Walker {
  table: Table
  label: string
  node: NodeContext
  notes: NoteSet
  /** Branches created so far (the walk stops forking past MAX_BRANCHES), and rules and map elements looked at per branch (it stops past maxVisits). */
  budget: {branches: number; visits: number; maxVisits: number}
}

function note(w: Walker, n: Note): void {
  w.notes.add(n)
}
const ctxOf = (w: Walker, b: Branch): EvalContext => ({packet: b.packet, node: w.node, table: w.table})
const empty = (): Flow => ({terminals: [], cont: [], ret: []})

function merge(into: Flow, from: Flow): void {
  into.terminals.push(...from.terminals)
  into.cont.push(...from.cont)
  into.ret.push(...from.ret)
}

/** What a rule does, read off its last verdict or NAT statement. */
function ruleTarget(rule: Rule): HopTarget {
  for (const s of [...rule.statements].reverse()) {
    if (s.kind === 'verdict') {
      const v = s.verdict
      return v.kind === 'jump' || v.kind === 'goto' ? {kind: v.kind, chain: v.target} : {kind: v.kind}
    }
    if (s.kind === 'dnat') return {kind: 'dnat', ...(s.addr ? {ip: s.addr} : {}), ...(s.port !== undefined ? {port: s.port} : {})}
    if (s.kind === 'mark') return {kind: 'mark'}
    if (s.kind === 'other' && s.what === 'masquerade') return {kind: 'masquerade'}
    if (s.kind === 'vmap') return {kind: 'other', name: 'vmap'}
  }
  return {kind: 'continue'}
}

/** The rule's `counter packets N bytes M`, when it has one. */
function ruleCounters(rule: Rule): TrafficCounters | undefined {
  for (const s of rule.statements) if (s.kind === 'other' && s.counters) return s.counters
  return undefined
}

function ruleHop(w: Walker, rule: Rule): Hop {
  return {
    table: w.label,
    chain: rule.chain,
    rule: rule.handle !== undefined && rule.line === 0 ? `${rule.text} # handle ${rule.handle}` : rule.text,
    line: rule.line,
    target: ruleTarget(rule),
  }
}

function elementHop(w: Walker, map: string, e: Element): Hop {
  const v = e.verdict
  const target: HopTarget = v && (v.kind === 'jump' || v.kind === 'goto') ? {kind: v.kind, chain: v.target} : {kind: 'map-element'}
  return {table: w.label, chain: `@${map}`, rule: formatElement(e), line: e.line, target}
}

function applyVerdict(w: Walker, v: Verdict, b: Branch, stack: string[]): Flow {
  const flow = empty()
  switch (v.kind) {
    case 'accept':
    case 'drop':
    case 'reject':
      flow.terminals.push({kind: v.kind, branch: b})
      return flow
    case 'return':
      flow.ret.push(b)
      return flow
    case 'continue':
      flow.cont.push(b)
      return flow
    case 'jump':
    case 'goto': {
      if (stack.includes(v.target) || stack.length >= MAX_DEPTH) {
        note(w, {kind: 'jump-cycle', verb: v.kind, chain: v.target, stack: [...stack, v.target]})
        flow.cont.push(b)
        return flow
      }
      const sub = walkChain(w, v.target, b, [...stack, v.target])
      flow.terminals.push(...sub.terminals)
      // A jump resumes after the rule when the chain returns; a goto returns to our caller instead.
      ;(v.kind === 'jump' ? flow.cont : flow.ret).push(...sub.cont, ...sub.ret)
      return flow
    }
  }
}

/** Runs one rule's statements in order; matches and numgen maps fork the branch. */
function runRule(w: Walker, rule: Rule, start: Branch, stack: string[]): Flow {
  const flow = empty()
  let live: Array<{b: Branch; hopped: boolean}> = [{b: start, hopped: false}]
  const take = (l: {b: Branch; hopped: boolean}) => (l.hopped ? l.b : fork(l.b, {hops: [...l.b.hops, ruleHop(w, rule)]}))
  for (const s of rule.statements) {
    const next: typeof live = []
    for (const l of live) {
      const b = l.b
      if (s.kind === 'match' || s.kind === 'unknown') {
        const ev: Tri =
          s.kind === 'match'
            ? evaluateMatch(s, ctxOf(w, b))
            : {result: 'maybe', condition: {holds: `"${s.text}" matches`, fails: `"${s.text}" does not match`}, matchesWhenHolds: true}
        if (s.kind === 'unknown') note(w, {kind: 'statement-not-understood', chain: rule.chain, line: rule.line, text: s.text})
        else if (ev.result === 'maybe' && isUnknownMatch(s, ctxOf(w, b))) note(w, {kind: 'match-undecided', chain: rule.chain, text: formatStatement(s)})
        const nb = ev.affinitySeconds !== undefined ? fork(b, {affinitySeconds: ev.affinitySeconds}) : b
        if (ev.result === 'yes') next.push({b: nb, hopped: l.hopped})
        else if (ev.result === 'no') flow.cont.push(nb)
        else if (ev.result === 'maybe') {
          next.push({b: fork(nb, {conditions: [...nb.conditions, {condition: ev.condition, holds: ev.matchesWhenHolds}]}), hopped: l.hopped})
          flow.cont.push(fork(nb, {conditions: [...nb.conditions, {condition: ev.condition, holds: !ev.matchesWhenHolds}]}))
        }
      } else if (s.kind === 'vmap') {
        // A lookup reads the map's elements one by one.
        w.budget.visits += 'setref' in s.map ? (w.table.sets.get(s.map.setref)?.elements.length ?? 0) : s.map.elements.length
        const hits = lookupVmap(s, ctxOf(w, b))
        if (hits === 'unknown') {
          note(w, {kind: 'map-key-unreadable', chain: rule.chain, text: rule.text})
          flow.cont.push(b)
          continue
        }
        const taken = take(l)
        const missed = 1 - hits.reduce((sum, h) => sum + h.share, 0)
        if (missed > 1e-9) flow.cont.push(fork(b, {probability: b.probability * missed}))
        for (const h of hits) {
          const hops = h.map && h.element ? [...taken.hops, elementHop(w, h.map, h.element)] : taken.hops
          merge(flow, applyVerdict(w, h.verdict, fork(taken, {probability: taken.probability * h.share, hops}), stack))
        }
      } else if (s.kind === 'verdict') {
        merge(flow, applyVerdict(w, s.verdict, take(l), stack))
      } else if (s.kind === 'dnat') {
        const t = take(l)
        const ip = s.addr ? parseCidr(s.addr) : undefined
        if (!ip || !s.addr) {
          note(w, {kind: 'dnat-unreadable', chain: rule.chain, text: s.text})
          next.push({b: t, hopped: true})
          continue
        }
        const port = s.port ?? b.packet.dport
        // As in iptables mode, the endpoint chain's DNAT rule counts every new connection to this
        // endpoint (the nat hook sees first packets only), however the packet got to the chain.
        const counters = ruleCounters(rule)
        flow.terminals.push({
          kind: 'dnat',
          branch: fork(t, {
            packet: dnatPacket(t.packet, ip, port),
            dnat: {ip: s.addr, ...(port !== undefined ? {port} : {}), chain: rule.chain, ...(counters ? {counters} : {})},
          }),
        })
      } else if (s.kind === 'mark') {
        const t = take(l)
        const m = t.packet.mark
        const mark = m === undefined ? undefined : (s.op === 'set' ? s.value : s.op === '|' ? m | s.value : s.op === '^' ? m ^ s.value : m & s.value) >>> 0
        next.push({b: fork(t, {packet: markPacket(t.packet, mark)}), hopped: true})
      } else if (s.kind === 'other' && (s.what === 'masquerade' || s.what === 'snat' || s.what === 'redirect')) {
        // NAT statements end the base chain like accept; redirect sends the packet to the node itself.
        if (s.what === 'redirect') note(w, {kind: 'redirect-to-local-process', chain: rule.chain, text: s.text})
        flow.terminals.push({kind: 'accept', branch: take(l)})
      } else {
        next.push({b: s.kind === 'set-update' ? take(l) : b, hopped: l.hopped || s.kind === 'set-update'})
      }
    }
    live = next
  }
  flow.cont.push(...live.map(take))
  return flow
}

function walkChain(w: Walker, name: string, start: Branch, stack: string[]): Flow {
  const chain = w.table.chains.get(name)
  if (!chain) {
    note(w, {kind: 'chain-missing', table: w.label, chain: name})
    return {terminals: [], cont: [], ret: [start]}
  }
  const flow = empty()
  let live = [start]
  for (const rule of chain.rules) {
    if (live.length === 0) break
    if (w.budget.visits > w.budget.maxVisits) {
      // The branches return from the chain as if no later rule matched; the note marks the result incomplete.
      note(w, {kind: 'walk-limit', limit: w.budget.maxVisits})
      break
    }
    w.budget.visits += live.length
    const next: Branch[] = []
    for (const b of live) {
      if (pathLength(b) >= MAX_PATH) {
        // Passes the rest of the walk untouched; the note marks the result incomplete.
        note(w, {kind: 'path-limit', limit: MAX_PATH})
        next.push(b)
        continue
      }
      const r = runRule(w, rule, b, stack)
      flow.terminals.push(...r.terminals)
      next.push(...r.cont)
      flow.ret.push(...r.ret)
    }
    w.budget.branches += next.length
    if (w.budget.branches > MAX_BRANCHES) {
      note(w, {kind: 'branch-limit', limit: MAX_BRANCHES})
      live = next.slice(0, 1)
    } else {
      live = next
    }
  }
  // Falling off the end of a chain returns to its caller.
  flow.ret.push(...live)
  return flow
}

/** Runs every base chain of one hook in priority order; returns what passed and what ended. */
export function walkHook(w: Walker, hook: string, branches: Branch[]): {passed: Branch[]; ended: Terminal[]} {
  // The hook's base chains with their settings, lowest priority first.
  const bases = [...w.table.chains.values()]
    .flatMap((chain) => (chain.hook?.hook === hook ? [{chain, settings: chain.hook}] : []))
    .sort((a, b) => a.settings.priority - b.settings.priority)
  const ended: Terminal[] = []
  let live = branches
  for (const {chain, settings} of bases) {
    const next: Branch[] = []
    for (const b of live) {
      // Once a connection is NATed, later nat chains of the hook are not consulted.
      if (settings.type === 'nat' && b.dnat) {
        next.push(b)
        continue
      }
      const r = walkChain(w, chain.name, b, [chain.name])
      for (const t of r.terminals) {
        if (t.kind === 'accept' || t.kind === 'dnat') next.push(t.branch)
        else ended.push(t)
      }
      for (const e of [...r.cont, ...r.ret]) {
        if (settings.policy === 'drop')
          ended.push({
            kind: 'drop',
            branch: fork(e, {
              hops: [...e.hops, {table: w.label, chain: chain.name, rule: '[policy drop]', line: chain.line, target: {kind: 'policy', policy: 'drop'}}],
            }),
          })
        else next.push(e)
      }
    }
    live = next
  }
  return {passed: live, ended}
}
