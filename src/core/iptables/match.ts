// Decides whether one rule matches a packet: yes, no, or maybe (with the condition that decides).
import {cidrContains, type Cidr} from '../address.js'
import {isLocalAddress, type NodeContext} from '../trace/node.js'
import type {Note} from '../trace/notes.js'
import type {Condition, Packet} from '../trace/packet.js'
import type {Match, Rule} from './rule.js'

export interface MatchResult {
  result: 'yes' | 'no' | 'maybe'
  conditions: Condition[]
  /** From `-m statistic --mode random`: the chance the rule matches. */
  probability?: number
  /** From `-m recent --rcheck --seconds N`: ClientIP affinity is in play. */
  affinitySeconds?: number
  /** Matches that could not be evaluated (for the report's notes). */
  unknown: Note[]
}

function describeCidr(c: Cidr): string {
  return c.text.replace(/\/(32|128)$/, '')
}

type One = {result: 'yes' | 'no'} | {result: 'maybe'; condition: Condition}

const yes: One = {result: 'yes'}
const no: One = {result: 'no'}
const flip = (v: boolean, negated: boolean): One => (v !== negated ? yes : no)

function evaluateOne(m: Match, p: Packet, node: NodeContext, rule: Rule, out: MatchResult): One {
  switch (m.kind) {
    case 'src': {
      if (p.src) return flip(cidrContains(m.cidr, p.src), m.negated)
      // An outside client is not in the pod network; whether it is in any other range is unknown.
      if (node.podNetworks.overlaps(m.cidr)) return flip(false, m.negated)
      const inRange = `source in ${describeCidr(m.cidr)}`
      const outRange = `source not in ${describeCidr(m.cidr)}`
      return {result: 'maybe', condition: m.negated ? {holds: outRange, fails: inRange} : {holds: inRange, fails: outRange}}
    }
    case 'dst':
      return flip(cidrContains(m.cidr, p.dst), m.negated)
    case 'protocol':
      return flip(m.protocol === 'all' || m.protocol === '0' || m.protocol === p.protocol.toLowerCase(), m.negated)
    case 'port': {
      if (m.which === 'sport') {
        noteUnknown(out, {kind: 'source-port-unknown', line: rule.line})
        return {result: 'maybe', condition: {holds: 'client source port matches', fails: 'client source port does not match'}}
      }
      const {dport} = p
      if (dport === undefined) {
        const ports = m.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')
        return {result: 'maybe', condition: {holds: `port ${ports}`, fails: `port not ${ports}`}}
      }
      return flip(
        m.ranges.some(([a, b]) => dport >= a && dport <= b),
        m.negated,
      )
    }
    case 'comment':
    case 'accounting':
      return yes
    case 'statistic':
      out.probability = (out.probability ?? 1) * m.probability
      return yes
    case 'recent':
      if (m.action === 'set' || m.action === 'remove') return yes
      // A fresh connection has no record yet; report the affinity and trace the fresh path.
      out.affinitySeconds = m.seconds ?? 0
      return no
    case 'addrtype': {
      if (m.type !== 'LOCAL') {
        noteUnknown(out, {kind: 'addrtype-unknown', line: rule.line, type: m.type})
        return {result: 'maybe', condition: {holds: `address type is ${m.type}`, fails: `address type is not ${m.type}`}}
      }
      const local = m.which === 'dst' ? isLocalAddress(node.local, p.dst) : p.srcLocal
      if (local === undefined) {
        return {result: 'maybe', condition: {holds: 'destination is a node address', fails: 'destination is not a node address'}}
      }
      return flip(local, m.negated)
    }
    case 'mark':
      if (p.mark === undefined) {
        noteUnknown(out, {kind: 'mark-unknown', line: rule.line})
        return {result: 'maybe', condition: {holds: 'packet is marked', fails: 'packet is not marked'}}
      }
      return flip((p.mark & m.mask) === (m.value & m.mask), m.negated)
    case 'conntrack': {
      // A new connection: state NEW; DNAT once nat rewrote the destination.
      const has = m.states.some((s) => s === 'NEW' || (s === 'DNAT' && p.dnatted))
      return flip(has, m.negated)
    }
    case 'iface': {
      noteUnknown(out, {kind: 'interface-untraced', line: rule.line, name: m.name})
      const what = `${m.dir === 'in' ? 'arrives on' : 'leaves by'} interface ${m.name}`
      const neg = `${m.dir === 'in' ? 'does not arrive on' : 'does not leave by'} interface ${m.name}`
      return {result: 'maybe', condition: m.negated ? {holds: `packet ${neg}`, fails: `packet ${what}`} : {holds: `packet ${what}`, fails: `packet ${neg}`}}
    }
    case 'bridge-port-in': {
      // Like -i: the interface a packet arrives on is not traced, so both outcomes are followed.
      noteUnknown(out, {kind: 'interface-untraced', line: rule.line, name: 'bridge port (-m physdev)'})
      const bridged = 'packet arrives through a bridge port'
      const notBridged = 'packet does not arrive through a bridge port'
      return {result: 'maybe', condition: m.negated ? {holds: notBridged, fails: bridged} : {holds: bridged, fails: notBridged}}
    }
    case 'set': {
      if (!node.sets) {
        noteUnknown(out, {kind: 'ipset-unavailable', line: rule.line, set: m.name})
        const inSet = `packet is in ipset ${m.name}`
        const notInSet = `packet is not in ipset ${m.name}`
        return {result: 'maybe', condition: m.negated ? {holds: notInSet, fails: inSet} : {holds: inSet, fails: notInSet}}
      }
      const r = node.sets.test(m.name, m.dims, p, node)
      if (r.result !== 'maybe') return flip(r.result === 'yes', m.negated)
      return {result: 'maybe', condition: m.negated ? {holds: r.condition.fails, fails: r.condition.holds} : r.condition}
    }
    case 'unknown':
      noteUnknown(out, {kind: 'match-not-understood', line: rule.line, text: m.text})
      return {result: 'maybe', condition: {holds: `"${m.text}" matches`, fails: `"${m.text}" does not match`}}
  }
}

// A result's lists start as this one empty list, shared and never written: every rule of every trace
// is evaluated, and most add nothing to them. noteUnknown and a 'maybe' give a result its own.
const NONE: never[] = []

/** Records a match that could not be evaluated. */
function noteUnknown(out: MatchResult, n: Note): void {
  if (out.unknown === NONE) out.unknown = []
  out.unknown.push(n)
}

/** Evaluates every match of a rule (they are ANDed) against the packet. */
export function evaluateRule(rule: Rule, packet: Packet, node: NodeContext): MatchResult {
  const out: MatchResult = {result: 'yes', conditions: NONE, unknown: NONE}
  for (const m of rule.matches) {
    const one = evaluateOne(m, packet, node, rule, out)
    if (one.result === 'no') {
      out.result = 'no'
      out.conditions = NONE
      return out
    }
    if (one.result === 'maybe') {
      out.result = 'maybe'
      if (out.conditions === NONE) out.conditions = []
      out.conditions.push(one.condition)
    }
  }
  return out
}
