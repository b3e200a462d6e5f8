// Kubernetes label and field selectors as the API server parses them, for the fake API server.
//
// Label selectors follow k8s.io/apimachinery/pkg/labels (selector.go): the same lexer (identifiers run up to
// whitespace or one of `=!(),<>`), the same recursive-descent parser and the same error texts, so a malformed
// selector fails here where the real server would answer 400. Field selectors follow
// k8s.io/apimachinery/pkg/fields (`k=v`, `k==v`, `k!=v`, comma = AND, `\` escapes `\`, `,` and `=`).

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt'

export interface LabelRequirement {
  key: string
  operator: LabelOperator
  values: string[]
}

export class SelectorParseError extends Error {}

type Tok = 'error' | 'eos' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '('

const TOKENS: Record<string, Tok> = {')': ')', ',': ',', '!': '!', '==': '==', '=': '=', '>': '>', in: 'in', '<': '<', '!=': '!=', notin: 'notin', '(': '('}
const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<'])
const WHITESPACE = new Set([' ', '\t', '\r', '\n'])
const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt'

interface Item {
  tok: Tok
  lit: string
}

function lex(s: string): Item[] {
  const items: Item[] = []
  let pos = 0
  for (;;) {
    while (pos < s.length && WHITESPACE.has(s[pos]!)) pos++
    if (pos >= s.length) {
      items.push({tok: 'eos', lit: ''})
      return items
    }
    if (SPECIAL.has(s[pos]!)) {
      // Longest run of special characters that still spells a token ("!=", "=="), like scanSpecialSymbol.
      let buffer = ''
      let last: Item | undefined
      while (pos < s.length && SPECIAL.has(s[pos]!)) {
        buffer += s[pos]
        pos++
        const tok = TOKENS[buffer]
        if (tok) {
          last = {tok, lit: buffer}
        } else if (last) {
          pos--
          break
        }
      }
      items.push(last ?? {tok: 'error', lit: `error expected: keyword found '${buffer}'`})
      continue
    }
    let buffer = ''
    while (pos < s.length && !SPECIAL.has(s[pos]!) && !WHITESPACE.has(s[pos]!)) buffer += s[pos++]
    items.push({tok: TOKENS[buffer] ?? 'id', lit: buffer})
  }
}

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

function labelKeyErrors(key: string): string[] {
  const parts = key.split('/')
  let name: string
  const errs: string[] = []
  if (parts.length === 1) {
    name = parts[0]!
  } else if (parts.length === 2) {
    const prefix = parts[0]!
    name = parts[1]!
    if (prefix.length === 0) errs.push('prefix part must be non-empty')
    else if (prefix.length > 253) errs.push('prefix part must be no more than 253 bytes')
    else if (!DNS1123_SUBDOMAIN_RE.test(prefix)) {
      errs.push(
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      )
    }
  } else {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]
  }
  if (name.length === 0) errs.push('name part must be non-empty')
  else if (name.length > 63) errs.push('name part must be no more than 63 bytes')
  else if (!NAME_RE.test(name)) errs.push(QUALIFIED_NAME_MSG)
  return errs
}

function labelValueErrors(value: string): string[] {
  if (value === '') return []
  const errs: string[] = []
  if (value.length > 63) errs.push('must be no more than 63 bytes')
  if (!NAME_RE.test(value)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    )
  }
  return errs
}

function invalid(field: string, value: string, detail: string): string {
  return `${field ? `${field}: ` : ''}Invalid value: ${JSON.stringify(value)}: ${detail}`
}

class Parser {
  private pos = 0
  constructor(private readonly items: Item[]) {}

  /** `in`/`notin` read as identifiers where a value is expected, as in the Values context of the Go parser. */
  private lookahead(values: boolean): Item {
    const it = this.items[this.pos]!
    return values && (it.tok === 'in' || it.tok === 'notin') ? {tok: 'id', lit: it.lit} : it
  }

  private consume(values: boolean): Item {
    const it = this.lookahead(values)
    this.pos++
    return it
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = []
    for (;;) {
      const {tok, lit} = this.lookahead(true)
      if (tok === 'id' || tok === '!') {
        let r: LabelRequirement
        try {
          r = this.parseRequirement()
        } catch (err) {
          throw new SelectorParseError(`unable to parse requirement: ${(err as Error).message}`)
        }
        reqs.push(r)
        const t = this.consume(true)
        if (t.tok === 'eos') return reqs
        if (t.tok === ',') {
          const t2 = this.lookahead(true)
          if (t2.tok !== 'id' && t2.tok !== '!') throw new SelectorParseError(`found '${t2.lit}', expected: identifier after ','`)
        } else {
          throw new SelectorParseError(`found '${t.lit}', expected: ',' or 'end of string'`)
        }
      } else if (tok === 'eos') {
        return reqs
      } else {
        throw new SelectorParseError(`found '${lit}', expected: !, identifier, or 'end of string'`)
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    let operator: LabelOperator | undefined
    let t = this.consume(true)
    if (t.tok === '!') {
      operator = '!'
      t = this.consume(true)
    }
    if (t.tok !== 'id') throw new Error(`found '${t.lit}', expected: identifier`)
    const key = t.lit
    const keyErrs = labelKeyErrors(key)
    if (keyErrs.length) throw new Error(invalid('', key, keyErrs.join('; ')))
    const next = this.lookahead(true).tok
    if (operator === '!' || next === 'eos' || next === ',') return {key, operator: operator ?? 'exists', values: []}

    const op = this.consume(false)
    let values: string[]
    switch (op.tok) {
      case 'in':
      case 'notin':
        operator = op.tok
        values = this.parseValues()
        break
      case '=':
      case '==':
      case '!=':
      case '>':
      case '<':
        operator = op.tok === '>' ? 'gt' : op.tok === '<' ? 'lt' : op.tok
        values = this.parseExactValue()
        break
      default:
        throw new Error(`found '${op.lit}', expected: ${BINARY_OPERATORS}`)
    }
    values = [...new Set(values)].sort()
    const errs: string[] = []
    if ((operator === 'gt' || operator === 'lt') && values.some((v) => !/^[+-]?\d+$/.test(v))) {
      values.forEach((v, i) => {
        if (!/^[+-]?\d+$/.test(v)) errs.push(invalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"))
      })
    }
    values.forEach((v, i) => {
      const ve = labelValueErrors(v)
      if (ve.length) errs.push(invalid(`values[${i}][${key}]`, v, ve.join('; ')))
    })
    if (errs.length === 1) throw new Error(errs[0])
    if (errs.length > 1) throw new Error(`[${errs.join(', ')}]`)
    return {key, operator, values}
  }

  private parseValues(): string[] {
    const open = this.consume(true)
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`)
    const {tok, lit} = this.lookahead(true)
    if (tok === 'id' || tok === ',') {
      const s = this.parseIdentifiersList()
      if (this.consume(true).tok !== ')') throw new Error(`found '${lit}', expected: ')'`)
      return s
    }
    if (tok === ')') {
      this.consume(true)
      return ['']
    }
    throw new Error(`found '${lit}', expected: ',', ')' or identifier`)
  }

  private parseIdentifiersList(): string[] {
    const s = new Set<string>()
    for (;;) {
      const {tok, lit} = this.consume(true)
      if (tok === 'id') {
        s.add(lit)
        const t2 = this.lookahead(true)
        if (t2.tok === ',') continue
        if (t2.tok === ')') return [...s]
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`)
      } else if (tok === ',') {
        if (s.size === 0) s.add('')
        const t2 = this.lookahead(true).tok
        if (t2 === ')') {
          s.add('')
          return [...s]
        }
        if (t2 === ',') s.add('')
      } else {
        throw new Error(`found '${lit}', expected: ',', or identifier`)
      }
    }
  }

  private parseExactValue(): string[] {
    const t = this.lookahead(true).tok
    if (t === 'eos' || t === ',') return ['']
    const v = this.consume(true)
    if (v.tok === 'id') return [v.lit]
    throw new Error(`found '${v.lit}', expected: identifier`)
  }
}

/** Parses a label selector (`labelSelector=` query value, already URL-decoded); throws SelectorParseError. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  return new Parser(lex(selector)).parse().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string | undefined> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key) && labels[r.key] !== undefined
  const val = has ? labels![r.key]! : undefined
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(val!)
    case 'notin':
    case '!=':
      return !has || !r.values.includes(val!)
    case 'exists':
      return has
    case '!':
      return !has
    case 'gt':
    case 'lt': {
      if (!has || !/^[+-]?\d+$/.test(val!)) return false
      const lv = BigInt(val!)
      const rv = BigInt(r.values[0]!)
      return r.operator === 'gt' ? lv > rv : lv < rv
    }
  }
}

export function labelsMatch(reqs: LabelRequirement[], labels: Record<string, string | undefined> | undefined): boolean {
  return reqs.every((r) => requirementMatches(r, labels))
}

// ---- field selectors -------------------------------------------------------------------------

export interface FieldRequirement {
  field: string
  operator: '=' | '!='
  value: string
}

function splitTerms(s: string): string[] {
  if (s === '') return []
  const terms: string[] = []
  let start = 0
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++
    else if (s[i] === ',') {
      terms.push(s.slice(start, i))
      start = i + 1
    }
  }
  terms.push(s.slice(start))
  return terms
}

function splitTerm(term: string): [string, '!=' | '==' | '=', string] | undefined {
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') {
      i++
      continue
    }
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)]
    }
  }
  return undefined
}

function unescapeValue(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c === '\\') {
      const n = s[i + 1]
      if (n === '\\' || n === ',' || n === '=') {
        out += n
        i++
        continue
      }
      throw new SelectorParseError(`invalid field selector: invalid escape sequence: ${s}`)
    }
    if (c === ',' || c === '=') throw new SelectorParseError(`invalid field selector: unescaped character in value: ${c}`)
    out += c
  }
  return out
}

/** Parses a field selector (`fieldSelector=` value); throws SelectorParseError. */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  const reqs: FieldRequirement[] = []
  for (const part of splitTerms(selector).sort()) {
    if (part === '') continue
    const t = splitTerm(part)
    if (!t) throw new SelectorParseError(`invalid selector: '${selector}'; can't understand '${part}'`)
    reqs.push({field: t[0], operator: t[1] === '!=' ? '!=' : '=', value: unescapeValue(t[2])})
  }
  return reqs
}
