// The words of one nft rule (or set element) → typed statements. Covers what kube-proxy writes and
// nft prints back: matches on ip/th/meta/fib/ct, vmaps (named or inline, numgen), jump/goto, dnat,
// mark arithmetic, set updates. Anything else becomes an `unknown` statement; a verdict at its end
// is still read, so the tracer knows where the rule would go.
import type {Selector, Statement} from './model.js'
import {NL, joinTokens, type Token} from './tokenize.js'
import {Cursor, numberOf, parseElements, parseValue, parseVerdict} from './values.js'

const SELECTOR_START = new Set([
  'ip',
  'ip6',
  'th',
  'tcp',
  'udp',
  'sctp',
  'meta',
  'mark',
  'l4proto',
  'iifname',
  'oifname',
  'iif',
  'oif',
  'nfproto',
  'fib',
  'ct',
  'numgen',
])
const BARE_META = new Set(['mark', 'l4proto', 'iifname', 'oifname', 'iif', 'oif', 'nfproto'])
const OPS: Record<string, '==' | '!=' | '<' | '>' | '<=' | '>='> = {
  '==': '==',
  eq: '==',
  '!=': '!=',
  ne: '!=',
  '<': '<',
  lt: '<',
  '>': '>',
  gt: '>',
  '<=': '<=',
  le: '<=',
  '>=': '>=',
  ge: '>=',
}
const BINOPS: Record<string, '&' | '|' | '^'> = {'&': '&', and: '&', '|': '|', or: '|', '^': '^', xor: '^'}
const VERDICT_WORDS = new Set(['accept', 'drop', 'return', 'continue', 'reject', 'jump', 'goto'])

function parseSelectorTerm(c: Cursor): Selector {
  const w = c.next()
  if (w === 'ip' || w === 'ip6' || w === 'th' || w === 'tcp' || w === 'udp' || w === 'sctp') return {kind: 'payload', proto: w, field: c.next()}
  if (w === 'meta') return {kind: 'meta', key: c.next()}
  if (BARE_META.has(w)) return {kind: 'meta', key: w}
  if (w === 'ct') return {kind: 'ct', key: c.next()}
  if (w === 'fib') {
    const flags = [c.next()]
    while (c.peek() === '.') {
      c.next()
      flags.push(c.next())
    }
    return {kind: 'fib', flags, result: c.next()}
  }
  if (w === 'numgen') {
    const mode = c.next()
    c.expect('mod')
    const mod = Number(c.next())
    let offset = 0
    if (c.peek() === 'offset') {
      c.next()
      offset = Number(c.next())
    }
    return {kind: 'numgen', mode, mod, offset}
  }
  throw new SyntaxError(`"${w}" is not a selector svctrace reads`)
}

/** `ip daddr . meta l4proto . th dport`, `meta mark & 0x4000`. */
function parseSelector(c: Cursor): Selector {
  const first = parseSelectorTerm(c)
  const parts = [first]
  while (c.peek() === '.' && SELECTOR_START.has(c.peek(1) ?? '')) {
    c.next()
    parts.push(parseSelectorTerm(c))
  }
  let sel: Selector = parts.length === 1 ? first : {kind: 'concat', parts}
  const op = BINOPS[c.peek() ?? '']
  const value = numberOf(c.peek(1) ?? '')
  if (op && value !== undefined) {
    c.next()
    c.next()
    sel = {kind: 'binop', op, left: sel, value}
  }
  return sel
}

/** `mark set mark or 0x4000`, `meta mark set meta mark | 0x00004000`, `mark set 0x1`. */
function parseMarkSet(c: Cursor): Statement {
  c.expect('set')
  if (c.peek() === 'meta') c.next()
  const op = c.peek() === 'mark' ? BINOPS[c.peek(1) ?? ''] : undefined
  if (op) {
    c.next()
    c.next()
    const value = numberOf(c.next())
    if (value === undefined) throw new SyntaxError('mark arithmetic needs a number')
    return {kind: 'mark', op, value}
  }
  const value = numberOf(c.next())
  if (value === undefined) throw new SyntaxError('"mark set" needs a number or "mark OP number"')
  return {kind: 'mark', op: 'set', value}
}

function consumeFlags(c: Cursor, flags: string[]): string[] {
  const out: string[] = []
  while (flags.includes(c.peek() ?? '')) out.push(c.next())
  return out
}

/** One statement at the cursor; throws SyntaxError for anything it does not read. */
function parseStatement(c: Cursor, comment: {text?: string}): Statement | undefined {
  const w = c.token().text
  if (VERDICT_WORDS.has(w)) return {kind: 'verdict', verdict: parseVerdict(c)}
  if (w === 'comment') {
    c.next()
    comment.text = c.next()
    return undefined
  }
  if (w === 'counter') {
    const start = c.i
    c.next()
    // `counter packets 9120 bytes 547200` (a listing); `counter` alone in `nft -f` input.
    const counted: Record<string, number> = {}
    while (c.peek() === 'packets' || c.peek() === 'bytes') {
      const key = c.next()
      counted[key] = Number(c.next())
    }
    const {packets, bytes} = counted
    const counters = packets !== undefined && bytes !== undefined && Number.isSafeInteger(packets) && Number.isSafeInteger(bytes) ? {packets, bytes} : undefined
    return {kind: 'other', what: 'counter', text: joinTokens(c.tokens.slice(start, c.i)), ...(counters ? {counters} : {})}
  }
  if (w === 'notrack') return {kind: 'other', what: 'notrack', text: c.next()}
  if (w === 'dnat' || w === 'snat') {
    const start = c.i
    c.next()
    if (c.peek() === 'ip' || c.peek() === 'ip6') c.next()
    c.expect('to')
    const to = c.next()
    consumeFlags(c, ['persistent', 'random', 'fully-random'])
    const text = joinTokens(c.tokens.slice(start, c.i))
    if (w === 'snat') return {kind: 'other', what: 'snat', text}
    // 10.0.0.1:80, [fd00::1]:80, or an address alone (the port is kept).
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(to)
    if (bracketed) {
      const [, addr = '', port] = bracketed
      return {kind: 'dnat', addr, ...(port ? {port: Number(port)} : {}), text}
    }
    const [addr = '', port, ...more] = to.split(':')
    if (port !== undefined && more.length === 0 && /^\d+$/.test(port)) return {kind: 'dnat', addr, port: Number(port), text}
    return {kind: 'dnat', addr: to, text}
  }
  if (w === 'masquerade' || w === 'redirect') {
    const start = c.i
    c.next()
    if (c.peek() === 'to') c.i += 2
    consumeFlags(c, ['persistent', 'random', 'fully-random'])
    return {kind: 'other', what: w, text: joinTokens(c.tokens.slice(start, c.i))}
  }
  if ((w === 'update' || w === 'add') && c.peek(1)?.startsWith('@')) {
    const start = c.i
    c.next()
    const set = c.next().slice(1)
    // `{ ip saddr [timeout 3h] }`: what is stored, not a constant; skip to the closing brace.
    c.expect('{')
    while (c.next() !== '}');
    return {kind: 'set-update', set, text: joinTokens(c.tokens.slice(start, c.i))}
  }
  if ((w === 'mark' && c.peek(1) === 'set') || (w === 'meta' && c.peek(1) === 'mark' && c.peek(2) === 'set')) {
    if (w === 'meta') c.next()
    c.next()
    return parseMarkSet(c)
  }
  if (!SELECTOR_START.has(w)) throw new SyntaxError(`"${w}" is not a statement svctrace reads`)
  const left = parseSelector(c)
  if (c.peek() === 'vmap') {
    c.next()
    const map = c.peek()?.startsWith('@') ? {setref: c.next().slice(1)} : {elements: parseElements(c)}
    return {kind: 'vmap', key: left, map}
  }
  const op = OPS[c.peek() ?? '']
  if (op) c.next()
  if (c.done()) throw new SyntaxError('a match without a value')
  return {kind: 'match', left, op: op ?? '==', right: parseValue(c)}
}

/** The statements of one rule; what cannot be read is kept as text, with its final verdict. */
export function parseRuleTokens(tokens: Token[]): {statements: Statement[]; comment?: string} {
  const c = new Cursor(tokens.filter((t) => t.text !== NL))
  const statements: Statement[] = []
  const comment: {text?: string} = {}
  while (!c.done()) {
    const start = c.i
    try {
      const s = parseStatement(c, comment)
      if (s) statements.push(s)
    } catch {
      c.i = start
      statements.push(...unknownTail(c))
    }
  }
  return {statements, ...(comment.text !== undefined ? {comment: comment.text} : {})}
}

/** The rest of a rule as one unknown statement, followed by its verdict when it ends with one. */
function unknownTail(c: Cursor): Statement[] {
  const rest = c.tokens.slice(c.i)
  c.i = c.tokens.length
  const n = rest.length
  const last = rest.at(-1)?.text
  const beforeLast = rest.at(-2)?.text
  const verdictLen = beforeLast === 'jump' || beforeLast === 'goto' ? 2 : last && ['accept', 'drop', 'return', 'continue', 'reject'].includes(last) ? 1 : 0
  const head = rest.slice(0, n - verdictLen)
  const out: Statement[] = head.length > 0 ? [{kind: 'unknown', text: joinTokens(head)}] : []
  if (verdictLen > 0) out.push({kind: 'verdict', verdict: parseVerdict(new Cursor(rest.slice(n - verdictLen)))})
  return out
}
