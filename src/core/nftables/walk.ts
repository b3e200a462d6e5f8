// The nftables walker: runs rules statement by statement, follows jump/goto and verdict maps (forking
// `numgen random mod N` N ways), and runs the base chains of one hook in priority order, as netfilter
// does. trace.ts decides which hooks a packet meets.
import {parseCidr} from '../address.js'
import type {NodeContext} from '../iptables/match.js'
import type {Branch} from '../iptables/trace.js'
import type {Hop} from '../model.js'
import {evaluateMatch, isUnknownMatch, lookupVmap, type EvalContext, type Tri} from './eval.js'
import {formatElement, formatStatement} from './format.js'
import type {Chain, Element, Rule, Table, Verdict} from './model.js'

export type {Branch} from '../iptables/trace.js'

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
  notes: Set<string>
  budget: {branches: number}
}

const MAX_BRANCHES = 4096
const MAX_DEPTH = 64

const fork = (b: Branch, change: Partial<Branch>): Branch => ({...b, ...change})
const ctxOf = (w: Walker, b: Branch): EvalContext => ({packet: b.packet, node: w.node, table: w.table})
const empty = (): Flow => ({terminals: [], cont: [], ret: []})

function merge(into: Flow, from: Flow): void {
  into.terminals.push(...from.terminals)
  into.cont.push(...from.cont)
  into.ret.push(...from.ret)
}

function ruleHop(w: Walker, rule: Rule): Hop {
  return {table: w.label, chain: rule.chain, rule: rule.handle !== undefined && rule.line === 0 ? `${rule.text} # handle ${rule.handle}` : rule.text, line: rule.line}
}

function elementHop(w: Walker, map: string, e: Element): Hop {
  return {table: w.label, chain: `@${map}`, rule: formatElement(e), line: e.line}
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
        w.notes.add(`${v.kind} to ${v.target} loops back (${[...stack, v.target].join(' → ')}); not followed`)
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
        const ev: Tri = s.kind === 'match'
          ? evaluateMatch(s, ctxOf(w, b))
          : {result: 'maybe', condition: {holds: `"${s.text}" matches`, fails: `"${s.text}" does not match`}, matchesWhenHolds: true}
        if (s.kind === 'unknown') w.notes.add(`${rule.chain}${rule.line ? ` (line ${rule.line})` : ''}: "${s.text}" is not understood by svctrace`)
        else if (ev.result === 'maybe' && isUnknownMatch(s, ctxOf(w, b))) w.notes.add(`${rule.chain}: "${formatStatement(s)}" could not be decided for this packet (interfaces, users and the like are not traced)`)
        const nb = ev.affinitySeconds !== undefined ? fork(b, {affinitySeconds: ev.affinitySeconds}) : b
        if (ev.result === 'yes') next.push({b: nb, hopped: l.hopped})
        else if (ev.result === 'no') flow.cont.push(nb)
        else if (ev.result === 'maybe') {
          next.push({b: fork(nb, {conditions: [...nb.conditions, {condition: ev.condition, holds: ev.matchesWhenHolds}]}), hopped: l.hopped})
          flow.cont.push(fork(nb, {conditions: [...nb.conditions, {condition: ev.condition, holds: !ev.matchesWhenHolds}]}))
        }
      } else if (s.kind === 'vmap') {
        const hits = lookupVmap(s, ctxOf(w, b))
        if (hits === 'unknown') {
          w.notes.add(`${rule.chain}: the key of "${rule.text}" could not be read for this packet; the map was treated as missing it`)
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
          w.notes.add(`${rule.chain}: "${s.text}" could not be read`)
          next.push({b: t, hopped: true})
          continue
        }
        const port = s.port ?? b.packet.dport
        flow.terminals.push({kind: 'dnat', branch: fork(t, {packet: {...t.packet, dst: ip, dport: port, dnatted: true}, dnat: {ip: s.addr, port, chain: rule.chain}})})
      } else if (s.kind === 'mark') {
        const t = take(l)
        const m = t.packet.mark
        const mark = m === undefined ? undefined : (s.op === 'set' ? s.value : s.op === '|' ? m | s.value : s.op === '^' ? m ^ s.value : m & s.value) >>> 0
        next.push({b: fork(t, {packet: {...t.packet, mark}}), hopped: true})
      } else if (s.kind === 'other' && (s.what === 'masquerade' || s.what === 'snat' || s.what === 'redirect')) {
        // NAT statements end the base chain like accept; redirect sends the packet to the node itself.
        if (s.what === 'redirect') w.notes.add(`${rule.chain}: "${s.text}" hands the connection to a local process`)
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
    w.notes.add(`chain ${name} is referenced but not in the dump (treated as empty)`)
    return {terminals: [], cont: [], ret: [start]}
  }
  const flow = empty()
  let live = [start]
  for (const rule of chain.rules) {
    if (live.length === 0) break
    const next: Branch[] = []
    for (const b of live) {
      const r = runRule(w, rule, b, stack)
      flow.terminals.push(...r.terminals)
      next.push(...r.cont)
      flow.ret.push(...r.ret)
    }
    w.budget.branches += next.length
    if (w.budget.branches > MAX_BRANCHES) {
      w.notes.add(`the trace forked more than ${MAX_BRANCHES} times and was cut short; results are incomplete`)
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
  const chains: Chain[] = [...w.table.chains.values()].filter((c) => c.hook?.hook === hook).sort((a, b) => a.hook!.priority - b.hook!.priority)
  const ended: Terminal[] = []
  let live = branches
  for (const chain of chains) {
    const next: Branch[] = []
    for (const b of live) {
      // Once a connection is NATed, later nat chains of the hook are not consulted.
      if (chain.hook!.type === 'nat' && b.dnat) {
        next.push(b)
        continue
      }
      const r = walkChain(w, chain.name, b, [chain.name])
      for (const t of r.terminals) {
        if (t.kind === 'accept' || t.kind === 'dnat') next.push(t.branch)
        else ended.push(t)
      }
      for (const e of [...r.cont, ...r.ret]) {
        if (chain.hook!.policy === 'drop') ended.push({kind: 'drop', branch: fork(e, {hops: [...e.hops, {table: w.label, chain: chain.name, rule: '[policy drop]', line: chain.line}]})})
        else next.push(e)
      }
    }
    live = next
  }
  return {passed: live, ended}
}

