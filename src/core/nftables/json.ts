// `nft -j list table ip kube-proxy` (or `list ruleset`): {"nftables": [{"metainfo"}, {"table"},
// {"set"}, {"map"}, {"chain"}, {"rule": {"chain", "handle", "expr": […]}}, …]} → the shared model.
// JSON names no lines, so errors name the object (`nftables[12]`) and rules carry their handle.
import {parseCidr} from '../address.js'
import {DumpError} from '../iptables/dump.js'
import {valueOfWord} from './values.js'
import {formatRule} from './format.js'
import {chainOf, tableOf, type Element, type NftRuleset, type Selector, type Statement, type Value, type Verdict} from './model.js'

// nft's JSON is checked piece by piece where it is read; a wrong shape becomes a SyntaxError or TypeError.
type J = any

const OPS = new Set(['==', '!=', '<', '>', '<=', '>='])
const BINOP: Record<string, '&' | '|' | '^'> = {'&': '&', '|': '|', '^': '^'}

function selectorOf(x: J): Selector {
  if (x?.payload) return {kind: 'payload', proto: x.payload.protocol, field: x.payload.field}
  if (x?.meta) return {kind: 'meta', key: x.meta.key}
  if (x?.fib) return {kind: 'fib', flags: [].concat(x.fib.flags ?? []), result: x.fib.result}
  if (x?.ct) return {kind: 'ct', key: x.ct.key}
  if (x?.numgen) return {kind: 'numgen', mode: x.numgen.mode, mod: x.numgen.mod, offset: x.numgen.offset ?? 0}
  if (x?.concat) return {kind: 'concat', parts: x.concat.map(selectorOf)}
  for (const [key, op] of Object.entries(BINOP)) {
    if (Array.isArray(x?.[key]) && typeof x[key][1] === 'number') return {kind: 'binop', op, left: selectorOf(x[key][0]), value: x[key][1]}
  }
  return {kind: 'unknown', text: JSON.stringify(x)}
}

function valueOf(x: J): Value {
  if (typeof x === 'number') return {kind: 'number', value: x, text: String(x)}
  if (typeof x === 'string') return valueOfWord(x)
  if (Array.isArray(x)) return {kind: 'set', items: x.map(valueOf)}
  if (x?.prefix) {
    const text = `${x.prefix.addr}/${x.prefix.len}`
    const cidr = parseCidr(text)
    if (cidr) return {kind: 'addr', cidr, text}
  }
  if (x?.range) return {kind: 'range', lo: valueOf(x.range[0]), hi: valueOf(x.range[1])}
  if (x?.concat) return {kind: 'concat', parts: x.concat.map(valueOf)}
  if (x?.set) return {kind: 'set', items: [].concat(x.set).map(valueOf)}
  if (x?.elem) return valueOf(x.elem.val)
  throw new SyntaxError(`value ${JSON.stringify(x).slice(0, 80)} is not one svctrace reads`)
}

function verdictOf(x: J): Verdict | undefined {
  for (const k of ['accept', 'drop', 'return', 'continue'] as const) if (x && k in x) return {kind: k}
  if (x?.jump) return {kind: 'jump', target: x.jump.target}
  if (x?.goto) return {kind: 'goto', target: x.goto.target}
  if (x && 'reject' in x) return {kind: 'reject', ...(x.reject?.expr ? {how: `with ${x.reject.type ?? 'icmp'} ${x.reject.expr}`} : {})}
  return undefined
}

/** A set or map element: a bare key, `{"elem": {"val", "comment"}}`, or `[key, verdict]` in maps. */
function elementOf(x: J): Element {
  const [key, data] = Array.isArray(x) && x.length === 2 && !(typeof x[0] === 'number' && typeof x[1] === 'number') ? x : [x, undefined]
  const comment = key?.elem?.comment
  const verdict = data === undefined ? undefined : verdictOf(data)
  return {key: valueOf(key), ...(verdict ? {verdict} : {}), ...(comment !== undefined ? {comment} : {}), line: 0}
}

function statementOf(x: J): Statement {
  if (x?.match && OPS.has(x.match.op)) return {kind: 'match', left: selectorOf(x.match.left), op: x.match.op, right: valueOf(x.match.right)}
  // `in` is a flag test (`ct state new`): membership, like `==` on a set.
  if (x?.match?.op === 'in') return {kind: 'match', left: selectorOf(x.match.left), op: '==', right: valueOf(x.match.right)}
  const verdict = verdictOf(x)
  if (verdict) return {kind: 'verdict', verdict}
  if (x?.vmap) {
    const data = x.vmap.data
    const map = typeof data === 'string' ? {setref: data.replace(/^@/, '')} : {elements: [].concat(data?.set ?? []).map(elementOf)}
    return {kind: 'vmap', key: selectorOf(x.vmap.key), map}
  }
  if (x?.dnat) {
    const {addr, port} = x.dnat
    return {
      kind: 'dnat',
      ...(typeof addr === 'string' ? {addr} : {}),
      ...(typeof port === 'number' ? {port} : {}),
      text: `dnat to ${addr?.includes?.(':') ? `[${addr}]` : addr}${port !== undefined ? `:${port}` : ''}`,
    }
  }
  if (x?.mangle?.key?.meta?.key === 'mark') {
    const v = x.mangle.value
    if (typeof v === 'number') return {kind: 'mark', op: 'set', value: v}
    for (const [key, op] of Object.entries(BINOP)) if (Array.isArray(v?.[key]) && typeof v[key][1] === 'number') return {kind: 'mark', op, value: v[key][1]}
  }
  if (x?.set && typeof x.set.set === 'string')
    return {kind: 'set-update', set: x.set.set.replace(/^@/, ''), text: `${x.set.op} ${x.set.set} { ${JSON.stringify(x.set.elem)} }`}
  // {"counter": {"packets": 9120, "bytes": 547200}}; a named counter is {"counter": "name"}.
  const {packets, bytes} = x?.counter ?? {}
  if (Number.isSafeInteger(packets) && Number.isSafeInteger(bytes))
    return {kind: 'other', what: 'counter', text: `counter packets ${packets} bytes ${bytes}`, counters: {packets, bytes}}
  for (const what of ['masquerade', 'snat', 'redirect', 'counter', 'log', 'notrack'] as const) {
    if (x && what in x)
      return {kind: 'other', what, text: what === 'masquerade' && x.masquerade?.flags ? `masquerade ${[].concat(x.masquerade.flags).join(',')}` : what}
  }
  return {kind: 'unknown', text: JSON.stringify(x)}
}

/** Parses nft's JSON output; errors name the object or, for broken JSON, the line. */
export function parseNftJson(text: string, source: string): NftRuleset {
  let doc: J
  try {
    doc = JSON.parse(text)
  } catch (err) {
    const pos = /position (\d+)/.exec((err as Error).message)
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : text.split('\n').length
    throw new DumpError(
      source,
      line,
      `not valid JSON (${(err as Error).message})${pos ? '' : '; the capture looks cut short'}: capture again with nft -j list table ip kube-proxy`,
    )
  }
  if (!Array.isArray(doc?.nftables)) throw new DumpError(source, 1, 'JSON without an "nftables" array: expected the output of nft -j list …')
  const rs: NftRuleset = {source, format: 'json', tables: []}
  doc.nftables.forEach((o: J, i: number) => {
    const where = `nftables[${i}]`
    try {
      const body = o?.table ?? o?.set ?? o?.map ?? o?.chain ?? o?.rule
      if (body && (typeof body.family !== 'string' || typeof (body.table ?? body.name) !== 'string'))
        throw new SyntaxError('an object without "family" and "table"')
      if (o?.table) tableOf(rs, o.table.family, o.table.name, 0)
      else if (o?.set || o?.map) {
        const s = o.set ?? o.map
        const table = tableOf(rs, s.family, s.table, 0)
        const keyType = [].concat(s.type ?? [])
        table.sets.set(s.name, {
          name: s.name,
          isMap: Boolean(o.map),
          keyType,
          ...(s.map ? {dataType: String(s.map)} : {}),
          flags: [].concat(s.flags ?? []),
          ...(typeof s.timeout === 'number' ? {timeoutSeconds: s.timeout} : {}),
          elements: [].concat(s.elem ?? []).map(elementOf),
          line: 0,
        })
      } else if (o?.chain) {
        const c = o.chain
        const chain = chainOf(tableOf(rs, c.family, c.table, 0), c.name, 0)
        if (c.hook) chain.hook = {type: c.type, hook: c.hook, priority: Number(c.prio ?? 0), policy: c.policy === 'drop' ? 'drop' : 'accept'}
      } else if (o?.rule) {
        const r = o.rule
        if (!Array.isArray(r.expr)) throw new SyntaxError('a rule without "expr"')
        const statements = r.expr.map(statementOf)
        const chain = chainOf(tableOf(rs, r.family, r.table, 0), r.chain, 0)
        chain.rules.push({
          chain: r.chain,
          line: 0,
          ...(typeof r.handle === 'number' ? {handle: r.handle} : {}),
          text: formatRule(statements, r.comment),
          statements,
          ...(r.comment !== undefined ? {comment: r.comment} : {}),
        })
      } else if (!o?.metainfo && !o?.element) {
        throw new SyntaxError(`unexpected object with keys ${Object.keys(o ?? {}).join(', ') || '(none)'}`)
      }
    } catch (err) {
      if (!(err instanceof SyntaxError || err instanceof TypeError)) throw err
      throw new DumpError(source, 0, `${where}: ${err.message}`)
    }
  })
  if (rs.tables.length === 0) throw new DumpError(source, 0, 'the JSON lists no table: is kube-proxy running in nftables mode on this node?')
  return rs
}
