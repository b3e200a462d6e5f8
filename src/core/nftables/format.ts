// Prints the typed model back in `nft list` syntax: rules read from JSON get the same text in a
// report as rules read from a listing, and map elements can be shown as the step they are.
import type {Element, Selector, Statement, Value, Verdict} from './model.js'

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`

export function formatSelector(s: Selector): string {
  switch (s.kind) {
    case 'payload':
      return `${s.proto} ${s.field}`
    case 'meta':
      return `meta ${s.key}`
    case 'fib':
      return `fib ${s.flags.join(' . ')} ${s.result}`
    case 'ct':
      return `ct ${s.key}`
    case 'numgen':
      return `numgen ${s.mode} mod ${s.mod}${s.offset ? ` offset ${s.offset}` : ''}`
    case 'binop':
      return `${formatSelector(s.left)} ${s.op} ${hex(s.value)}`
    case 'concat':
      return s.parts.map(formatSelector).join(' . ')
    case 'unknown':
      return s.text
  }
}

export function formatValue(v: Value): string {
  switch (v.kind) {
    case 'addr':
    case 'number':
      return v.text
    case 'word':
      return v.text
    case 'range':
      return `${formatValue(v.lo)}-${formatValue(v.hi)}`
    case 'concat':
      return v.parts.map(formatValue).join(' . ')
    case 'set':
      return `{ ${v.items.map(formatValue).join(', ')} }`
    case 'setref':
      return `@${v.name}`
  }
}

function formatVerdict(v: Verdict): string {
  if (v.kind === 'jump' || v.kind === 'goto') return `${v.kind} ${v.target}`
  if (v.kind === 'reject') return v.how ? `reject ${v.how}` : 'reject'
  return v.kind
}

/** An element as `nft list` shows it: `1.2.3.4 . tcp . 80 comment "ns/svc:p" : drop`. */
export function formatElement(e: Element): string {
  return `${formatValue(e.key)}${e.comment !== undefined ? ` comment "${e.comment}"` : ''}${e.verdict ? ` : ${formatVerdict(e.verdict)}` : ''}`
}

export function formatStatement(s: Statement): string {
  switch (s.kind) {
    case 'match':
      return `${formatSelector(s.left)}${s.op === '==' ? '' : ` ${s.op}`} ${formatValue(s.right)}`
    case 'verdict':
      return formatVerdict(s.verdict)
    case 'vmap':
      return `${formatSelector(s.key)} vmap ${'setref' in s.map ? `@${s.map.setref}` : `{ ${s.map.elements.map(formatElement).join(', ')} }`}`
    case 'mark':
      return s.op === 'set' ? `meta mark set ${hex(s.value)}` : `meta mark set meta mark ${s.op} ${hex(s.value)}`
    case 'dnat':
    case 'set-update':
    case 'other':
    case 'unknown':
      return s.text
  }
}

/** A whole rule, with its comment, as nft prints it. */
export function formatRule(statements: Statement[], comment?: string): string {
  const body = statements.map(formatStatement).join(' ')
  return comment !== undefined ? `${body} comment "${comment}"` : body
}
