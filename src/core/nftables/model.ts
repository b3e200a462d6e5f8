// One nftables ruleset as svctrace reads it: tables → sets/maps and chains → rules → statements.
// The JSON (`nft -j list …`) and text (`nft list …`, `nft -f` input) parsers both produce it, and
// keep what they do not understand as `unknown` statements for the tracer to report.
import type {Cidr} from '../address.js'
import type {TrafficCounters} from '../counters.js'

/** What a match or map key reads from the packet. */
export type Selector =
  | {kind: 'payload'; proto: string; field: string}
  | {kind: 'meta'; key: string}
  | {kind: 'fib'; flags: string[]; result: string}
  | {kind: 'ct'; key: string}
  | {kind: 'numgen'; mode: string; mod: number; offset: number}
  | {kind: 'binop'; op: '&' | '|' | '^'; left: Selector; value: number}
  | {kind: 'concat'; parts: Selector[]}
  | {kind: 'unknown'; text: string}

/** A constant: an address or prefix, a number, a keyword (`tcp`, `local`, `new`), a set. */
export type Value =
  | {kind: 'addr'; cidr: Cidr; text: string}
  | {kind: 'number'; value: number; text: string}
  | {kind: 'word'; text: string}
  | {kind: 'range'; lo: Value; hi: Value}
  | {kind: 'concat'; parts: Value[]}
  | {kind: 'set'; items: Value[]}
  | {kind: 'setref'; name: string}

export type Verdict = {kind: 'jump' | 'goto'; target: string} | {kind: 'accept' | 'drop' | 'return' | 'continue'} | {kind: 'reject'; how?: string}

/** A set member, or a map element with its verdict. */
export interface Element {
  key: Value
  verdict?: Verdict
  comment?: string
  /** 1-based line in a text listing; 0 for JSON. */
  line: number
}

export type Statement =
  | {kind: 'match'; left: Selector; op: '==' | '!=' | '<' | '>' | '<=' | '>='; right: Value}
  | {kind: 'verdict'; verdict: Verdict}
  | {kind: 'vmap'; key: Selector; map: {setref: string} | {elements: Element[]}}
  | {kind: 'dnat'; addr?: string; port?: number; text: string}
  | {kind: 'mark'; op: 'set' | '|' | '^' | '&'; value: number}
  | {kind: 'set-update'; set: string; text: string}
  | {kind: 'other'; what: 'masquerade' | 'snat' | 'redirect' | 'counter' | 'log' | 'notrack'; text: string; counters?: TrafficCounters}
  | {kind: 'unknown'; text: string}

export interface Rule {
  chain: string
  /** 1-based line of the rule in a text dump; 0 for JSON (see handle). */
  line: number
  handle?: number
  /** The rule in nft's syntax, for the report. */
  text: string
  statements: Statement[]
  comment?: string
}

export interface NftSet {
  name: string
  isMap: boolean
  keyType: string[]
  dataType?: string
  flags: string[]
  timeoutSeconds?: number
  elements: Element[]
  line: number
}

/** A base chain's hook; regular chains have none. */
export interface Hook {
  type: string
  hook: string
  priority: number
  policy: 'accept' | 'drop'
}

export interface Chain {
  name: string
  line: number
  hook?: Hook
  rules: Rule[]
}

export interface Table {
  family: string
  name: string
  line: number
  sets: Map<string, NftSet>
  chains: Map<string, Chain>
}

export interface NftRuleset {
  source: string
  format: 'json' | 'list' | 'transaction'
  tables: Table[]
}

/** The table a family's traffic goes through, if the ruleset has it (`ip kube-proxy`). */
export function findTable(rs: NftRuleset, family: string, name: string): Table | undefined {
  return rs.tables.find((t) => t.family === family && t.name === name)
}

/** A table, created on first mention (transaction form may add rules before the chain). */
export function tableOf(rs: NftRuleset, family: string, name: string, line: number): Table {
  let t = findTable(rs, family, name)
  if (!t) {
    t = {family, name, line, sets: new Map(), chains: new Map()}
    rs.tables.push(t)
  }
  return t
}

/** A chain of a table, created on first mention. */
export function chainOf(t: Table, name: string, line: number): Chain {
  let c = t.chains.get(name)
  if (!c) {
    c = {name, line, rules: []}
    t.chains.set(name, c)
  }
  return c
}

const PRIORITY_NAMES: Record<string, number> = {raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100}

/** `dstnat - 10` → -110; `-110` → -110; undefined when unreadable. */
export function priorityOf(words: string[]): number | undefined {
  const [first = '', sign, offset = ''] = words
  const base = /^-?\d+$/.test(first) ? Number(first) : Object.hasOwn(PRIORITY_NAMES, first) ? PRIORITY_NAMES[first] : undefined
  if (base === undefined) return undefined
  if (words.length === 1) return base
  if (words.length === 3 && (sign === '+' || sign === '-') && /^\d+$/.test(offset)) return base + (sign === '+' ? 1 : -1) * Number(offset)
  return undefined
}

/** `10800s`, `3h`, `1h30m`, `500ms` → seconds. */
export function secondsOf(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text)
  const units: Record<string, number> = {d: 86400, h: 3600, m: 60, s: 1, ms: 0.001}
  let total = 0
  const re = /(\d+)(ms|d|h|m|s)/g
  let consumed = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [match, count, unit = ''] = m
    // The pattern only matches the units listed.
    const scale = units[unit]
    if (scale === undefined) return undefined
    total += Number(count) * scale
    consumed += match.length
  }
  return consumed === text.length && consumed > 0 ? total : undefined
}
