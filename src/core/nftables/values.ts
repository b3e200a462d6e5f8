// The constant side of nft syntax: a cursor over a rule's words, values (addresses, prefixes,
// numbers, keywords, `@set`, `{ … }`, `a . b . c`), verdicts, and element lists `{ key : verdict, … }`
// as both maps and anonymous sets are written.
import {parseCidr} from '../address.js'
import type {Element, Value, Verdict} from './model.js'
import {NL, type Token} from './tokenize.js'

/** A position in a token list. */
export class Cursor {
  constructor(
    readonly tokens: Token[],
    public i = 0,
  ) {}

  peek(k = 0): string | undefined {
    return this.tokens[this.i + k]?.text
  }
  next(): string {
    const t = this.tokens[this.i++]
    if (t === undefined) throw new SyntaxError('the rule ends too early')
    return t.text
  }
  /** The token `k` places from the next one (-1: the one just read), without moving. */
  token(k = 0): Token {
    const t = this.tokens[this.i + k]
    if (t === undefined) throw new SyntaxError('the rule ends too early')
    return t
  }
  done(): boolean {
    return this.i >= this.tokens.length
  }
  expect(word: string): void {
    const got = this.next()
    if (got !== word) throw new SyntaxError(`expected "${word}", found "${got}"`)
  }
  skipNewlines(): void {
    while (this.peek() === NL) this.i++
  }
}

/** `80`, `0x00004000`; undefined for anything else. */
export function numberOf(text: string): number | undefined {
  if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text, 16)
  return /^\d+$/.test(text) ? Number(text) : undefined
}

/** One constant word: address/prefix, number, range, or keyword. */
export function valueOfWord(text: string): Value {
  if (text.startsWith('@')) return {kind: 'setref', name: text.slice(1)}
  const n = numberOf(text)
  if (n !== undefined) return {kind: 'number', value: n, text}
  const cidr = parseCidr(text)
  if (cidr) return {kind: 'addr', cidr, text}
  const dash = text.indexOf('-', 1)
  if (dash > 0) {
    const lo = valueOfWord(text.slice(0, dash))
    const hi = valueOfWord(text.slice(dash + 1))
    if (lo.kind === hi.kind && (lo.kind === 'number' || lo.kind === 'addr')) return {kind: 'range', lo, hi}
  }
  return {kind: 'word', text}
}

/** `a . b . c`, or a single word. */
function parseTuple(c: Cursor): Value {
  const first = valueOfWord(c.next())
  const parts = [first]
  while (c.peek() === '.') {
    c.next()
    parts.push(valueOfWord(c.next()))
  }
  return parts.length === 1 ? first : {kind: 'concat', parts}
}

/** A right-hand side: `@set`, `{ a, b }`, `a . b`, or `new,established`. */
export function parseValue(c: Cursor): Value {
  if (c.peek() === '{') return {kind: 'set', items: parseElements(c).map((e) => e.key)}
  const first = parseTuple(c)
  if (c.peek() !== ',') return first
  const items = [first]
  while (c.peek() === ',') {
    c.next()
    items.push(parseTuple(c))
  }
  return {kind: 'set', items}
}

/** `jump X`, `goto X`, `accept`, `drop`, `return`, `continue`, `reject [with …]`. */
export function parseVerdict(c: Cursor): Verdict {
  const w = c.next()
  if (w === 'jump' || w === 'goto') return {kind: w, target: c.next()}
  if (w === 'accept' || w === 'drop' || w === 'return' || w === 'continue') return {kind: w}
  if (w === 'reject') {
    const how: string[] = []
    if (c.peek() === 'with') while (!c.done() && c.peek() !== NL && c.peek() !== 'comment' && c.peek() !== ',' && c.peek() !== '}') how.push(c.next())
    return {kind: 'reject', ...(how.length ? {how: how.join(' ')} : {})}
  }
  throw new SyntaxError(`"${w}" is not a verdict`)
}

/** `{ key [comment "x"] [timeout 3h] [: verdict], … }` (newlines allowed inside). */
export function parseElements(c: Cursor): Element[] {
  c.expect('{')
  const out: Element[] = []
  for (c.skipNewlines(); c.peek() !== '}'; c.skipNewlines()) {
    const line = c.tokens[c.i]?.line ?? 0
    const key = parseTuple(c)
    const el: Element = {key, line}
    for (let w = c.peek(); w === 'comment' || w === 'timeout' || w === 'expires' || w === 'counter'; w = c.peek()) {
      c.next()
      if (w === 'comment') el.comment = c.next()
      else if (w !== 'counter') c.next()
    }
    if (c.peek() === ':') {
      c.next()
      el.verdict = parseVerdict(c)
    }
    out.push(el)
    c.skipNewlines()
    if (c.peek() === ',') c.next()
    else if (c.peek() !== '}') throw new SyntaxError(`expected "," or "}" after a set element, found "${c.peek() ?? 'the end'}"`)
  }
  c.next()
  return out
}
