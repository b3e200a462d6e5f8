// Evaluates nft matches and verdict-map lookups against what the tracer knows about the packet:
// yes, no, or maybe with the condition that decides (an outside client's unknown address, an
// interface name). A lookup in a dynamic set with a timeout (kube-proxy's affinity sets) never hits
// for a fresh connection; it reports the timeout instead.
import {cidrContains, type Cidr} from '../address.js'
import {isLocalAddress, type NodeContext} from '../trace/node.js'
import type {Condition, Packet} from '../trace/packet.js'
import type {Element, NftSet, Selector, Statement, Table, Value, Verdict} from './model.js'
import {formatSelector, formatValue} from './format.js'

/** A packet field: an address, a number, a keyword, or a tuple of them; undefined when unknown. */
type Field = {kind: 'addr'; cidr: Cidr} | {kind: 'num'; value: number} | {kind: 'word'; text: string} | {kind: 'tuple'; parts: Array<Field | undefined>}

/**
 * A match result. `maybe` carries the deciding condition phrased positively ("source in X"), and
 * whether the statement matches when it holds: the report's default assumes every condition fails,
 * i.e. an outside client in none of the ranges, whichever way the rule is written.
 */
export type Tri =
  {result: 'yes' | 'no'; affinitySeconds?: number} | {result: 'maybe'; condition: Condition; matchesWhenHolds: boolean; affinitySeconds?: number}

export interface EvalContext {
  packet: Packet
  node: NodeContext
  table: Table
}

const PROTO_NUMBERS: Record<string, number> = {tcp: 6, udp: 17, sctp: 132, icmp: 1}
function isLocal(ctx: EvalContext, ip: Cidr): boolean | undefined {
  return isLocalAddress(ctx.node.local, ip)
}

/** Whether the selector names a field that belongs to another protocol (`tcp dport` on UDP). */
function wrongProtocol(sel: Selector, p: Packet): boolean {
  if (sel.kind === 'concat') return sel.parts.some((s) => wrongProtocol(s, p))
  if (sel.kind !== 'payload') return false
  if (['tcp', 'udp', 'sctp'].includes(sel.proto)) return sel.proto !== p.protocol.toLowerCase()
  return (sel.proto === 'ip' && p.dst.family !== 4) || (sel.proto === 'ip6' && p.dst.family !== 6)
}

function fieldOf(sel: Selector, ctx: EvalContext): Field | undefined {
  const p = ctx.packet
  switch (sel.kind) {
    case 'payload':
      if (sel.field === 'saddr') return p.src ? {kind: 'addr', cidr: p.src} : undefined
      if (sel.field === 'daddr') return {kind: 'addr', cidr: p.dst}
      if (sel.field === 'dport') return p.dport === undefined ? undefined : {kind: 'num', value: p.dport}
      return undefined
    case 'meta':
      if (sel.key === 'l4proto' || sel.key === 'protocol') return {kind: 'word', text: p.protocol.toLowerCase()}
      if (sel.key === 'mark') return p.mark === undefined ? undefined : {kind: 'num', value: p.mark}
      if (sel.key === 'nfproto') return {kind: 'word', text: p.dst.family === 4 ? 'ipv4' : 'ipv6'}
      return undefined
    case 'fib': {
      if (sel.result !== 'type' || sel.flags.length !== 1) return undefined
      if (sel.flags[0] === 'saddr') return {kind: 'word', text: p.srcLocal ? 'local' : 'unicast'}
      const local = sel.flags[0] === 'daddr' ? isLocal(ctx, p.dst) : undefined
      return local === undefined ? undefined : {kind: 'word', text: local ? 'local' : 'unicast'}
    }
    case 'ct':
      // The first packet of a new connection.
      return sel.key === 'state' ? {kind: 'word', text: 'new'} : undefined
    case 'binop': {
      const v = fieldOf(sel.left, ctx)
      if (v?.kind !== 'num') return undefined
      return {kind: 'num', value: (sel.op === '&' ? v.value & sel.value : sel.op === '|' ? v.value | sel.value : v.value ^ sel.value) >>> 0}
    }
    case 'concat':
      return {kind: 'tuple', parts: sel.parts.map((s) => fieldOf(s, ctx))}
    default:
      return undefined
  }
}

function numberOfValue(v: Value): number | undefined {
  if (v.kind === 'number') return v.value
  if (v.kind === 'word') return PROTO_NUMBERS[v.text]
  return undefined
}

/** Does the constant cover the field? 'unknown' when the field is. */
function covers(v: Value, f: Field | undefined, ctx: EvalContext, seen: Set<string>): boolean | 'unknown' {
  if (v.kind === 'set') return anyOf(v.items, f, ctx, seen)
  if (v.kind === 'setref') {
    const set = ctx.table.sets.get(v.name)
    if (!set || seen.has(v.name)) return false
    return anyOf(
      set.elements.map((e) => e.key),
      f,
      ctx,
      new Set([...seen, v.name]),
    )
  }
  if (f === undefined) return 'unknown'
  if (v.kind === 'concat') {
    if (f.kind !== 'tuple' || f.parts.length !== v.parts.length) return false
    let result: boolean | 'unknown' = true
    for (const [i, part] of v.parts.entries()) {
      const r = covers(part, f.parts[i], ctx, seen)
      if (r === false) return false
      if (r === 'unknown') result = 'unknown'
    }
    return result
  }
  if (f.kind === 'addr') {
    if (v.kind === 'addr') return cidrContains(v.cidr, f.cidr)
    if (v.kind === 'range' && v.lo.kind === 'addr' && v.hi.kind === 'addr')
      return f.cidr.family === v.lo.cidr.family && f.cidr.value >= v.lo.cidr.value && f.cidr.value <= v.hi.cidr.value
    return false
  }
  if (f.kind === 'num') {
    if (v.kind === 'range') return f.value >= (numberOfValue(v.lo) ?? Infinity) && f.value <= (numberOfValue(v.hi) ?? -Infinity)
    return numberOfValue(v) === f.value
  }
  if (f.kind === 'word') return (v.kind === 'word' && v.text.toLowerCase() === f.text) || (v.kind === 'number' && PROTO_NUMBERS[f.text] === v.value)
  return false
}

function anyOf(items: Value[], f: Field | undefined, ctx: EvalContext, seen: Set<string>): boolean | 'unknown' {
  let unknown = false
  for (const item of items) {
    const r = covers(item, f, ctx, seen)
    if (r === true) return true
    if (r === 'unknown') unknown = true
  }
  return unknown ? 'unknown' : false
}

/** The address ranges a source match could hold an unnamed outside client in (not pod networks). */
function outsideRanges(v: Value, ctx: EvalContext): string[] {
  if (v.kind === 'set') return v.items.flatMap((i) => outsideRanges(i, ctx))
  if (v.kind === 'setref') return (ctx.table.sets.get(v.name)?.elements ?? []).flatMap((e) => outsideRanges(e.key, ctx))
  if (v.kind !== 'addr') return [formatValue(v)]
  return ctx.node.podNetworks.overlaps(v.cidr) ? [] : [v.text]
}

function affinityOf(v: Value, ctx: EvalContext): number | undefined {
  const set: NftSet | undefined = v.kind === 'setref' ? ctx.table.sets.get(v.name) : undefined
  return set && set.flags.includes('timeout') && set.elements.length === 0 ? set.timeoutSeconds : undefined
}

/** Evaluates one match statement. */
export function evaluateMatch(m: Extract<Statement, {kind: 'match'}>, ctx: EvalContext): Tri {
  if (wrongProtocol(m.left, ctx.packet)) return {result: 'no'}
  const affinity = affinityOf(m.right, ctx)
  const extra = affinity !== undefined ? {affinitySeconds: affinity} : {}
  const field = fieldOf(m.left, ctx)
  const negate = m.op === '!='
  let hit: boolean | 'unknown'
  if (m.op === '==' || m.op === '!=') {
    hit = covers(m.right, field, ctx, new Set())
  } else {
    const a = field?.kind === 'num' ? field.value : undefined
    const b = numberOfValue(m.right)
    hit = a === undefined || b === undefined ? 'unknown' : m.op === '<' ? a < b : m.op === '>' ? a > b : m.op === '<=' ? a <= b : a >= b
  }
  if (hit !== 'unknown') return {result: hit !== negate ? 'yes' : 'no', ...extra}
  const isSource = m.left.kind === 'payload' && m.left.field === 'saddr'
  if (isSource) {
    // As with iptables `-s`: an unnamed outside client is outside the pod networks, unknown elsewhere.
    const ranges = outsideRanges(m.right, ctx)
    if (ranges.length === 0) return {result: negate ? 'yes' : 'no', ...extra}
    const condition = {holds: `source in ${ranges.join(', ')}`, fails: `source not in ${ranges.join(', ')}`}
    return {result: 'maybe', condition, matchesWhenHolds: !negate, ...extra}
  }
  const text = `${formatSelector(m.left)} ${m.op} ${formatValue(m.right)}`
  return {result: 'maybe', condition: {holds: `"${text}" holds`, fails: `"${text}" does not hold`}, matchesWhenHolds: true, ...extra}
}

/** True when the match reads something svctrace cannot know (interfaces, unknown selectors). */
export function isUnknownMatch(m: Extract<Statement, {kind: 'match'}>, ctx: EvalContext): boolean {
  const f = fieldOf(m.left, ctx)
  return f === undefined && !(m.left.kind === 'payload' && (m.left.field === 'saddr' || m.left.field === 'dport'))
}

/** One way a verdict map can send the packet, with its share of new connections. */
export interface MapHit {
  verdict: Verdict
  share: number
  element?: Element
  map?: string
}

/** Looks the packet up in a vmap: numgen gives one hit per index (1/mod each); otherwise 0 or 1 hits. */
export function lookupVmap(s: Extract<Statement, {kind: 'vmap'}>, ctx: EvalContext): MapHit[] | 'unknown' {
  const elements = 'setref' in s.map ? (ctx.table.sets.get(s.map.setref)?.elements ?? []) : s.map.elements
  const map = 'setref' in s.map ? s.map.setref : undefined
  const key = s.key
  if (key.kind === 'numgen') {
    // numgen random mod N: each index 0…N-1 (plus offset) equally likely; a missing index matches nothing.
    return elements.flatMap((e) =>
      e.verdict && e.key.kind === 'number' && e.key.value - key.offset >= 0 && e.key.value - key.offset < key.mod
        ? [{verdict: e.verdict, share: 1 / key.mod, element: e}]
        : [],
    )
  }
  if (wrongProtocol(s.key, ctx.packet)) return []
  const field = fieldOf(s.key, ctx)
  let unknown = false
  for (const e of elements) {
    const r = covers(e.key, field, ctx, new Set())
    if (r === true && e.verdict) return [{verdict: e.verdict, share: 1, element: e, ...(map ? {map} : {})}]
    if (r === 'unknown') unknown = true
  }
  return unknown ? 'unknown' : []
}
