// One iptables rule: the words as written (so it prints back), and a typed view of what
// kube-proxy's rules use. Matches the core does not understand stay as `unknown` parts and
// surface in the trace as uncertainty.
import {parseCidr, splitHostPort, type Cidr} from '../address.js'
import {formatWord, tokenIs, tokenizeRule, tokenText, tokenWord, type Tokens, type Word} from './tokenize.js'
import type {Hop} from '../trace/branch.js'

/** An option of a match or target: `--dport 80`, `! --ctstate NEW`, `--rcheck`. */
export interface RuleOption {
  name: string
  args: Word[]
  negated: boolean
}

/** A piece of the rule in the order written. */
export type RulePart =
  | {type: 'flag'; flag: string; value?: Word; negated: boolean}
  | {type: 'match'; module: string; options: RuleOption[]}
  | {type: 'target'; jump: '-j' | '-g'; name: string; options: RuleOption[]}

/** A typed match condition. */
export type Match =
  | {kind: 'src' | 'dst'; cidr: Cidr; negated: boolean}
  | {kind: 'protocol'; protocol: string; negated: boolean}
  | {kind: 'iface'; dir: 'in' | 'out'; name: string; negated: boolean}
  // `-m physdev --physdev-is-in`: the packet came in through a bridge port (IPVS externalIP rules).
  | {kind: 'bridge-port-in'; negated: boolean}
  | {kind: 'port'; which: 'dport' | 'sport'; ranges: Array<[number, number]>; negated: boolean}
  | {kind: 'comment'; text: string}
  | {kind: 'statistic'; probability: number}
  | {kind: 'recent'; action: 'rcheck' | 'update' | 'set' | 'remove'; name: string; seconds?: number; reap: boolean}
  | {kind: 'addrtype'; which: 'src' | 'dst'; type: string; negated: boolean}
  | {kind: 'mark'; value: number; mask: number; negated: boolean}
  | {kind: 'conntrack'; states: string[]; negated: boolean}
  | {kind: 'accounting'; text: string}
  /** `-m set --match-set NAME dst,dst`: the packet's (dst IP, dst port) tuple is in the ipset. */
  | {kind: 'set'; name: string; dims: Array<'src' | 'dst'>; negated: boolean}
  | {kind: 'unknown'; text: string}

/** What the rule does when it matches. */
export type Target =
  | {kind: 'jump' | 'goto'; chain: string}
  /** `cidr`: `ip` parsed, when it is an address (every trace through the rule uses it). */
  | {kind: 'DNAT'; ip?: string; cidr?: Cidr; port?: number; text: string}
  | {kind: 'REJECT'; with?: string}
  | {kind: 'DROP' | 'ACCEPT' | 'RETURN'}
  | {kind: 'MARK'; value: number; mask: number; op: 'xset' | 'or' | 'xor' | 'and'}
  | {kind: 'MASQUERADE'; randomFully: boolean}
  | {kind: 'unknown'; name: string; text: string}
  | {kind: 'none'}

export interface Rule {
  table: string
  chain: string
  /** 1-based line in the dump. */
  line: number
  counters?: string
  parts: RulePart[]
  /** The rule as written after its counters, when that is exactly what formatRule prints (iptables-save's own lines are): printed without going through the parts. */
  text?: string
  matches: Match[]
  target: Target
  /** The hop a trace records for this rule, made when first passed (every client and backend of a Service passes the same rules). */
  hop?: Hop
}

// A Map, not an object: a word such as "--toString" must not find Object.prototype's.
const FLAG_ALIASES: ReadonlyMap<string, string> = new Map([
  ['--source', '-s'],
  ['--src', '-s'],
  ['--destination', '-d'],
  ['--dst', '-d'],
  ['--protocol', '-p'],
  ['--in-interface', '-i'],
  ['--out-interface', '-o'],
  ['--match', '-m'],
  ['--jump', '-j'],
  ['--goto', '-g'],
  ['--fragment', '-f'],
])

/** Extension targets; any other target name is a user chain. */
const EXTENSION_TARGETS = new Set([
  'DNAT',
  'SNAT',
  'REJECT',
  'MARK',
  'MASQUERADE',
  'REDIRECT',
  'LOG',
  'NFLOG',
  'CONNMARK',
  'CT',
  'NOTRACK',
  'TPROXY',
  'TCPMSS',
  'CHECKSUM',
  'NETMAP',
  'CLASSIFY',
  'TRACE',
  'AUDIT',
  'NFQUEUE',
  'QUEUE',
  'SET',
])
const BUILTIN_VERDICTS = new Set(['ACCEPT', 'DROP', 'RETURN'])

/** True when a `-j`/`-g` target names a user chain: neither a built-in verdict nor an extension target. */
export function isChainTarget(name: string): boolean {
  return !BUILTIN_VERDICTS.has(name) && !EXTENSION_TARGETS.has(name)
}

// The short flags by the character after the dash, as the constant strings parts hold (a flag word is recognised in place, never sliced).
const SHORT_FLAGS: ReadonlyArray<string | undefined> = (() => {
  const byCode = new Array<string | undefined>(128)
  for (const c of 'sdpiofmjg') byCode[c.charCodeAt(0)] = `-${c}`
  return byCode
})()

/** The flag unquoted word i spells: `-X` for a short flag above, or a long alias of one (longer than 2); else undefined. */
function flagOf(t: Tokens, i: number): string | undefined {
  if (t.quoted[i] === 1) return undefined
  const start = t.start[i] ?? 0
  const len = (t.end[i] ?? 0) - start
  if (t.line.charCodeAt(start) !== 45) return undefined
  if (len === 2) return SHORT_FLAGS[t.line.charCodeAt(start + 1)]
  if (len < 4 || t.line.charCodeAt(start + 1) !== 45) return undefined
  return FLAG_ALIASES.get(tokenText(t, i))
}

/**
 * Parses the words from `first` on (those after `-A CHAIN`) into parts; returns an error sentence when
 * malformed. `asWritten`: printing the parts (partText) gives the words back in their order, spelled
 * as written (no alias, no quoted module or target name, no `!` that prints elsewhere or not at all).
 */
function parseParts(t: Tokens, first: number): {parts: RulePart[]; asWritten: boolean} | {error: string} {
  const parts: RulePart[] = []
  let asWritten = true
  let negate = false
  let owner: {options: RuleOption[]} | undefined
  const n = t.count
  // `i` is the next unread word: a flag's value, a module or target name, an option's arguments are taken from it.
  let i = first
  while (i < n) {
    const w = i++
    const word = flagOf(t, w)
    if (word !== undefined && (t.end[w] ?? 0) - (t.start[w] ?? 0) > 2) asWritten = false
    if (word === undefined && tokenIs(t, w, '!')) {
      if (negate) asWritten = false
      negate = true
      continue
    }
    if (word === '-s' || word === '-d' || word === '-p' || word === '-i' || word === '-o') {
      if (i >= n) return {error: `"${word}" needs a value`}
      parts.push({type: 'flag', flag: word, value: tokenWord(t, i++), negated: negate})
    } else if (word === '-f') {
      parts.push({type: 'flag', flag: word, negated: negate})
    } else if (word === '-m') {
      if (i >= n) return {error: '"-m" needs a module name'}
      if (t.quoted[i] === 1 || negate) asWritten = false
      const part: RulePart = {type: 'match', module: tokenText(t, i++), options: []}
      parts.push(part)
      owner = part
    } else if (word === '-j' || word === '-g') {
      if (i >= n) return {error: `"${word}" needs a target`}
      if (t.quoted[i] === 1 || negate) asWritten = false
      const part: RulePart = {type: 'target', jump: word, name: tokenText(t, i++), options: []}
      parts.push(part)
      owner = part
    } else if (word === undefined && t.quoted[w] === 0 && t.line.startsWith('--', t.start[w])) {
      const args: Word[] = []
      for (; i < n && (t.quoted[i] === 1 || !isOptionStart(t, i)); i++) args.push(tokenWord(t, i))
      if (!owner) {
        // `-p tcp --dport 80` without `-m tcp`: iptables loads the protocol's match implicitly.
        const part: RulePart = {type: 'match', module: '', options: []}
        parts.push(part)
        owner = part
      }
      // An option of a match that a flag came after prints before that flag.
      if (owner !== parts[parts.length - 1]) asWritten = false
      owner.options.push({name: tokenText(t, w), args, negated: negate})
    } else {
      return {error: `unexpected word "${tokenText(t, w)}"`}
    }
    negate = false
  }
  if (negate) return {error: 'a "!" with nothing after it'}
  return {parts, asWritten}
}

/** Unquoted word i is `!`, or starts with `-` but is not a negative number. */
function isOptionStart(t: Tokens, i: number): boolean {
  const start = t.start[i] ?? 0
  const len = (t.end[i] ?? 0) - start
  const c = t.line.charCodeAt(start)
  if (len === 1 && c === 33) return true
  if (len === 0 || c !== 45) return false
  const next = len > 1 ? t.line.charCodeAt(start + 1) : NaN
  return !(next >= 48 && next <= 57)
}

/** A part as iptables-save prints it; built as one string (every hop of every trace prints its rule once). */
function partText(part: RulePart): string {
  if (part.type === 'flag') {
    const flag = part.negated ? `! ${part.flag}` : part.flag
    return part.value ? `${flag} ${formatWord(part.value)}` : flag
  }
  // A module or target name read from quotes (`-m "a b"`) is quoted again, or it would print as two words.
  const name = (text: string) => formatWord({text, quoted: false})
  let out = part.type === 'match' ? (part.module ? `-m ${name(part.module)}` : '') : `${part.jump} ${name(part.name)}`
  for (const o of part.options) {
    let option = o.negated ? `! ${o.name}` : o.name
    for (const a of o.args) {
      const word = formatWord(a)
      if (word) option += ` ${word}`
    }
    out = out ? `${out} ${option}` : option
  }
  return out
}

/** Prints a rule back as iptables-save would (`-A CHAIN …`). */
export function formatRule(rule: Pick<Rule, 'chain' | 'parts' | 'counters' | 'text'>): string {
  if (rule.text !== undefined) return rule.counters ? `${rule.counters} ${rule.text}` : rule.text
  let out = rule.counters ? `${rule.counters} -A ${rule.chain}` : `-A ${rule.chain}`
  for (const part of rule.parts) {
    const text = partText(part)
    if (text) out += ` ${text}`
  }
  return out
}

function numberOf(text: string | undefined): number {
  if (text === undefined) return NaN
  return text.startsWith('0x') ? parseInt(text, 16) : Number(text)
}

/** `0x4000/0x4000` → value and mask (mask defaults to all ones). */
function markOf(text: string | undefined): {value: number; mask: number} {
  const [v, m] = (text ?? '').split('/')
  return {value: numberOf(v) >>> 0, mask: m === undefined ? 0xffffffff : numberOf(m) >>> 0}
}

function portRanges(text: string): Array<[number, number]> | undefined {
  if (!text.includes(',') && !text.includes(':')) {
    // One port, as kube-proxy writes them: no lists to split.
    const port = Number(text)
    return Number.isInteger(port) ? [[port, port]] : undefined
  }
  const out: Array<[number, number]> = []
  for (const item of text.split(',')) {
    const [a, b] = item.split(':')
    const lo = Number(a)
    const hi = b === undefined ? lo : Number(b)
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) return undefined
    out.push([lo, hi])
  }
  return out
}

const arg = (o: RuleOption, i = 0): string | undefined => o.args[i]?.text

/** The one element of a list that should hold exactly one; undefined when it holds none or several. */
function only<T>(list: T[]): T | undefined {
  return list.length === 1 ? list[0] : undefined
}

const RECENT_OPTIONS = new Set(['--rcheck', '--update', '--set', '--remove', '--name', '--seconds', '--reap', '--mask', '--rsource', '--hitcount', '--rttl'])

/** Replaces what typeMatch appended from `start` on with one `unknown` match: the part as written. */
function notUnderstood(part: Extract<RulePart, {type: 'match'}>, out: Match[], start: number): void {
  out.length = start
  out.push({kind: 'unknown', text: partText(part)})
}

/** Appends the typed view of one `-m module` part to `out`; a module or option not understood makes the part one `unknown`. */
function typeMatch(part: Extract<RulePart, {type: 'match'}>, protocol: string | undefined, out: Match[]): void {
  const start = out.length
  const module = part.module || protocol || ''
  switch (module) {
    case 'tcp':
    case 'udp':
    case 'sctp':
    case 'multiport':
      for (const o of part.options) {
        const which =
          o.name === '--dport' || o.name === '--dports' || o.name === '--destination-port' || o.name === '--destination-ports'
            ? 'dport'
            : o.name === '--sport' || o.name === '--sports' || o.name === '--source-port' || o.name === '--source-ports'
              ? 'sport'
              : undefined
        const text = arg(o)
        const ranges = which && text !== undefined ? portRanges(text) : undefined
        if (!which || !ranges) return notUnderstood(part, out, start)
        out.push({kind: 'port', which, ranges, negated: o.negated})
      }
      return
    case 'comment': {
      // One --comment, as kube-proxy writes it, without a list to join.
      const only = part.options.length === 1 ? part.options[0] : undefined
      out.push({kind: 'comment', text: only ? (arg(only) ?? '') : part.options.map((o) => arg(o) ?? '').join(' ')})
      return
    }
    case 'statistic': {
      let mode: RuleOption | undefined
      let p: RuleOption | undefined
      for (const o of part.options) {
        if (o.name === '--mode') mode ??= o
        else if (o.name === '--probability') p ??= o
      }
      if ((mode ? arg(mode) : undefined) !== 'random' || !p || part.options.length !== 2 || p.negated) return notUnderstood(part, out, start)
      // xt_statistic takes 0…1; anything else is a garbled rule, not a share of connections.
      const probability = Number(arg(p))
      if (!(probability >= 0 && probability <= 1)) return notUnderstood(part, out, start)
      out.push({kind: 'statistic', probability})
      return
    }
    case 'recent': {
      const names = new Set(part.options.map((o) => o.name))
      const action = (['--rcheck', '--update', '--set', '--remove'] as const).find((a) => names.has(a))
      if (!action || [...names].some((n) => !RECENT_OPTIONS.has(n)) || names.has('--rdest') || names.has('--hitcount')) return notUnderstood(part, out, start)
      const seconds = part.options.find((o) => o.name === '--seconds')
      out.push({
        kind: 'recent',
        action: action.slice(2) as 'rcheck' | 'update' | 'set' | 'remove',
        name: arg(part.options.find((o) => o.name === '--name') ?? {name: '', args: [], negated: false}) ?? 'DEFAULT',
        ...(seconds ? {seconds: Number(arg(seconds))} : {}),
        reap: names.has('--reap'),
      })
      return
    }
    case 'addrtype':
      for (const o of part.options) {
        if (o.name === '--limit-iface-in' || o.name === '--limit-iface-out') continue
        const type = arg(o)
        if ((o.name !== '--dst-type' && o.name !== '--src-type') || !type) return notUnderstood(part, out, start)
        out.push({kind: 'addrtype', which: o.name === '--dst-type' ? 'dst' : 'src', type, negated: o.negated})
      }
      return
    case 'mark': {
      const o = only(part.options)
      if (o?.name !== '--mark') return notUnderstood(part, out, start)
      out.push({kind: 'mark', ...markOf(arg(o)), negated: o.negated})
      return
    }
    case 'conntrack':
    case 'state':
      for (const o of part.options) {
        const states = arg(o)
        if ((o.name !== '--ctstate' && o.name !== '--state') || !states) return notUnderstood(part, out, start)
        out.push({kind: 'conntrack', states: states.split(','), negated: o.negated})
      }
      return
    case 'set': {
      // IPVS mode: `-m set --match-set KUBE-CLUSTER-IP dst,dst`. Counter options change the meaning.
      const o = only(part.options)
      const [set, dimsWord, ...extra] = o?.args ?? []
      if (!o || (o.name !== '--match-set' && o.name !== '--set') || !set || !dimsWord || extra.length > 0) return notUnderstood(part, out, start)
      const dims = dimsWord.text.split(',')
      if (dims.some((d) => d !== 'src' && d !== 'dst')) return notUnderstood(part, out, start)
      out.push({kind: 'set', name: set.text, dims: dims as Array<'src' | 'dst'>, negated: o.negated})
      return
    }
    case 'physdev': {
      // Only the bare test kube-proxy writes; --physdev-in NAME and the others stay unknown.
      const o = only(part.options)
      if (o?.name !== '--physdev-is-in' || o.args.length > 0) return notUnderstood(part, out, start)
      out.push({kind: 'bridge-port-in', negated: o.negated})
      return
    }
    case 'nfacct':
      // Accounting only: counts the packet and always matches.
      out.push({kind: 'accounting', text: partText(part)})
      return
    default:
      return notUnderstood(part, out, start)
  }
}

/** A target the core does not understand; only such a target keeps its text (DNAT and MARK, on most rules, do not). */
function targetNotUnderstood(part: Extract<RulePart, {type: 'target'}>): Target {
  return {kind: 'unknown', name: part.name, text: part.options.length === 0 ? part.name : partText(part)}
}

/** The first argument of the target's first option named `name`. */
function optionArg(part: Extract<RulePart, {type: 'target'}>, name: string): string | undefined {
  for (const o of part.options) if (o.name === name) return arg(o)
  return undefined
}

const MARK_OPS: ReadonlyMap<string, 'xset' | 'or' | 'xor' | 'and'> = new Map([
  ['--set-xmark', 'xset'],
  ['--set-mark', 'xset'],
  ['--or-mark', 'or'],
  ['--xor-mark', 'xor'],
  ['--and-mark', 'and'],
])

function typeTarget(part: Extract<RulePart, {type: 'target'}> | undefined): Target {
  if (!part) return {kind: 'none'}
  if (BUILTIN_VERDICTS.has(part.name) && part.options.length === 0) return {kind: part.name as 'ACCEPT'}
  if (!EXTENSION_TARGETS.has(part.name) && part.options.length === 0) {
    return {kind: part.jump === '-g' ? 'goto' : 'jump', chain: part.name}
  }
  switch (part.name) {
    case 'DNAT': {
      const to = optionArg(part, '--to-destination')
      const hp = to ? splitHostPort(to) : undefined
      if (!to || !hp || part.options.length !== 1) return targetNotUnderstood(part)
      const cidr = parseCidr(hp.host)
      const dnat: Target = {kind: 'DNAT', ip: hp.host, text: to}
      if (cidr) dnat.cidr = cidr
      if (hp.port !== undefined) dnat.port = hp.port
      return dnat
    }
    case 'REJECT': {
      const reason = optionArg(part, '--reject-with')
      return {kind: 'REJECT', ...(reason !== undefined ? {with: reason} : {})}
    }
    case 'MASQUERADE':
      return {kind: 'MASQUERADE', randomFully: part.options.some((o) => o.name === '--random-fully')}
    case 'MARK': {
      const o = only(part.options)
      if (!o) return targetNotUnderstood(part)
      const op = MARK_OPS.get(o.name)
      if (!op) return targetNotUnderstood(part)
      const m = markOf(arg(o))
      // --set-mark v is --set-xmark v/0xffffffff; --or/--xor/--and take a bare value.
      return {kind: 'MARK', op, value: m.value, mask: op === 'xset' ? m.mask : 0xffffffff}
    }
    default:
      return targetNotUnderstood(part)
  }
}

/** Parses the text of one rule line (`[p:b] -A CHAIN …`); throws nothing, returns an error sentence. */
export function parseRuleLine(line: string, table: string, lineNumber: number): Rule | {error: string} {
  let rest = line
  let counters: string | undefined
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']')
    if (end < 0) return {error: 'counters "[" without "]"'}
    counters = rest.slice(0, end + 1)
    rest = rest.slice(end + 1).trimStart()
  }
  const tokens = tokenizeRule(rest)
  if ('error' in tokens) return tokens
  if (tokens.count < 2 || tokenText(tokens, 0) !== '-A') return {error: 'expected "-A CHAIN …"'}
  const chain = tokenText(tokens, 1)
  // Read before parseParts: the tokens are scratch, and nothing below tokenizes again, but keep it plain.
  const verbChainQuoted = tokens.quoted[0] === 1 || tokens.quoted[1] === 1
  const linePrintsAsWritten = tokens.asWritten
  const parsed = parseParts(tokens, 2)
  if ('error' in parsed) return parsed
  const {parts} = parsed
  // formatRule prints `-A CHAIN` unquoted, then the parts: the line is its own printed form when all of it prints as written.
  const asWritten = parsed.asWritten && !verbChainQuoted && linePrintsAsWritten
  let protocol: string | undefined
  for (const p of parts) {
    if (p.type === 'flag' && p.flag === '-p' && !p.negated) {
      protocol = p.value?.text
      break
    }
  }
  const matches: Match[] = []
  let target: Extract<RulePart, {type: 'target'}> | undefined
  for (const part of parts) {
    if (part.type === 'target') {
      if (target) return {error: 'two targets in one rule'}
      target = part
    } else if (part.type === 'match') {
      typeMatch(part, protocol, matches)
    } else if (part.value === undefined) {
      // `-f`, the one flag without a value (parseParts gives each of -s -d -p -i -o one).
      matches.push({kind: 'unknown', text: partText(part)})
    } else if (part.flag === '-s' || part.flag === '-d') {
      const cidr = parseCidr(part.value.text)
      if (!cidr) return {error: `"${part.value.text}" is not an address or CIDR`}
      matches.push({kind: part.flag === '-s' ? 'src' : 'dst', cidr, negated: part.negated})
    } else if (part.flag === '-p') {
      matches.push({kind: 'protocol', protocol: part.value.text.toLowerCase(), negated: part.negated})
    } else if (part.flag === '-i' || part.flag === '-o') {
      matches.push({kind: 'iface', dir: part.flag === '-i' ? 'in' : 'out', name: part.value.text, negated: part.negated})
    } else {
      matches.push({kind: 'unknown', text: partText(part)})
    }
  }
  // Fields set one by one rather than spread in: every rule of every traced chain is made here.
  const rule: Rule = {table, chain, line: lineNumber, parts, matches, target: typeTarget(target)}
  if (counters !== undefined) rule.counters = counters
  if (asWritten) rule.text = rest
  return rule
}

/** The rule's `-m comment` text, if any (kube-proxy names the Service port and what the rule is for). */
export function ruleComment(rule: Rule): string | undefined {
  for (const m of rule.matches) if (m.kind === 'comment') return m.text
  return undefined
}
