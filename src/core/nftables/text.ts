// nft text in either form kube-proxy's rules are met in:
//   listing (`nft list table ip kube-proxy`)      transaction (`nft -f` input, kube-proxy's tests)
//   table ip kube-proxy {                         add chain ip kube-proxy services
//     map service-ips { type … ; elements = {…} } add rule ip kube-proxy services ip daddr … vmap @service-ips
//     chain services { ip daddr … vmap @… }       add element ip kube-proxy service-ips { … }
//   }
// Structure errors (an unclosed block, an unknown command) name the line; a rule svctrace cannot
// read is kept as data (see expr.ts).
import {DumpError} from '../iptables/dump.js'
import {parseRuleTokens} from './expr.js'
import {Cursor, parseElements} from './values.js'
import {formatValue} from './format.js'
import {chainOf, priorityOf, secondsOf, tableOf, type Chain, type NftRuleset, type NftSet, type Rule, type Table} from './model.js'
import {NL, joinTokens, tokenizeNft, type Token} from './tokenize.js'

const FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'])
const COMMANDS = new Set(['add', 'create', 'insert', 'replace', 'flush', 'delete', 'destroy'])

/** Words up to the end of the item: a newline, `;`, or the block's `}` (left unread). */
function itemWords(c: Cursor): string[] {
  const out: string[] = []
  while (!c.done() && c.peek() !== NL && c.peek() !== ';' && c.peek() !== '}') out.push(c.next())
  if (c.peek() === ';') c.next()
  return out
}

/** Skips a `{ … }` block, nested braces included. */
function skipBlock(c: Cursor): void {
  c.expect('{')
  for (let depth = 1; depth > 0;) {
    const w = c.next()
    if (w === '{') depth++
    else if (w === '}') depth--
  }
}

/** The body of a set or map: `type …`, `flags …`, `timeout …`, `elements = { … }`. */
function parseSetBody(c: Cursor, set: NftSet): void {
  c.expect('{')
  for (c.skipNewlines(); c.peek() !== '}'; c.skipNewlines()) {
    if (c.done()) throw new SyntaxError(`set ${set.name} (line ${set.line}) is not closed: the text is cut short`)
    const w = c.next()
    if (w === ';') continue
    if (w === 'elements') {
      c.expect('=')
      set.elements.push(...parseElements(c))
    } else if (w === 'type' || w === 'typeof') {
      const [key = '', data] = itemWords(c).join(' ').split(' : ')
      set.keyType = key.split(' . ')
      if (data) set.dataType = data
    } else if (w === 'flags') {
      set.flags.push(...itemWords(c).filter((x) => x !== ','))
    } else if (w === 'timeout') {
      const timeout = secondsOf(itemWords(c)[0] ?? '')
      if (timeout !== undefined) set.timeoutSeconds = timeout
    } else {
      itemWords(c)
    }
  }
  c.next()
}

/** `type nat hook prerouting priority dstnat; policy accept;` and chain comments. */
function parseChainHeader(c: Cursor, chain: Chain, words: string[]): void {
  const [head, type = ''] = words
  if (head !== 'type') return
  const hook = words[words.indexOf('hook') + 1] ?? ''
  const at = words.indexOf('priority')
  const priority = at < 0 ? 0 : priorityOf(words.slice(at + 1))
  if (priority === undefined) throw new SyntaxError(`chain ${chain.name}: priority "${words.slice(at + 1).join(' ')}" is not readable`)
  chain.hook = {type, hook, priority, policy: 'accept'}
  if (c.peek() === 'policy') {
    c.next()
    chain.hook.policy = itemWords(c)[0] === 'drop' ? 'drop' : 'accept'
  }
}

function ruleOf(chain: string, tokens: Token[]): Rule {
  const {statements, comment} = parseRuleTokens(tokens)
  const handle = tokens[tokens.length - 1]?.handle
  return {
    chain,
    line: tokens[0]?.line ?? 0,
    ...(handle !== undefined ? {handle} : {}),
    text: joinTokens(tokens),
    statements,
    ...(comment !== undefined ? {comment} : {}),
  }
}

/** Tokens of one rule: to the end of its line, lines joined while braces are open. */
function ruleTokens(c: Cursor): Token[] {
  const out: Token[] = []
  let depth = 0
  for (let t = c.tokens[c.i]; t !== undefined; t = c.tokens[++c.i]) {
    if (depth === 0 && (t.text === NL || t.text === '}')) break
    if (t.text === '{') depth++
    if (t.text === '}') depth--
    out.push(t)
  }
  return out
}

function parseChainBlock(c: Cursor, table: Table): void {
  const line = c.token().line
  const chain = chainOf(table, c.next(), line)
  c.expect('{')
  for (c.skipNewlines(); c.peek() !== '}'; c.skipNewlines()) {
    if (c.done()) throw new SyntaxError(`chain ${chain.name} (line ${line}) is not closed: the listing is cut short`)
    if (c.peek() === 'type') parseChainHeader(c, chain, itemWords(c))
    else if (c.peek() === 'comment' && (c.peek(2) === NL || c.peek(2) === '}' || c.peek(2) === ';')) itemWords(c)
    else chain.rules.push(ruleOf(chain.name, ruleTokens(c)))
  }
  c.next()
}

function newSet(name: string, isMap: boolean, line: number): NftSet {
  return {name, isMap, keyType: [], flags: [], elements: [], line}
}

function parseTableBlock(c: Cursor, rs: NftRuleset): void {
  const line = c.token().line
  c.next()
  const family = FAMILIES.has(c.peek() ?? '') && c.peek(1) !== '{' ? c.next() : 'ip'
  const table = tableOf(rs, family, c.next(), line)
  c.expect('{')
  for (c.skipNewlines(); c.peek() !== '}'; c.skipNewlines()) {
    if (c.done()) throw new SyntaxError(`table ${family} ${table.name} (line ${line}) is not closed: the listing is cut short`)
    const w = c.next()
    if (w === 'set' || w === 'map') {
      const set = newSet(c.next(), w === 'map', c.token(-1).line)
      table.sets.set(set.name, set)
      parseSetBody(c, set)
    } else if (w === 'chain') {
      parseChainBlock(c, table)
    } else if (c.peek(1) === '{') {
      // flowtables, named counters, quotas, ct helpers: nothing kube-proxy uses.
      c.next()
      skipBlock(c)
    } else {
      itemWords(c)
    }
  }
  c.next()
}

/** One `add|insert|flush|delete … ` line of the transaction form. */
function parseCommand(c: Cursor, rs: NftRuleset): void {
  const line = c.token().line
  const verb = c.next()
  const object = c.next()
  const family = FAMILIES.has(c.peek() ?? '') && c.peek(1) !== NL && c.peek(1) !== '{' && c.peek(1) !== undefined ? c.next() : 'ip'
  const removing = verb === 'delete' || verb === 'destroy'
  if (object === 'table') {
    const name = c.next()
    if (removing) rs.tables = rs.tables.filter((t) => !(t.family === family && t.name === name))
    else tableOf(rs, family, name, line)
    if (c.peek() === '{') skipBlock(c)
    return
  }
  const table = tableOf(rs, family, c.next(), line)
  const name = c.next()
  if (object === 'chain') {
    if (removing) table.chains.delete(name)
    else if (verb === 'flush') chainOf(table, name, line).rules = []
    else {
      const chain = chainOf(table, name, line)
      if (c.peek() === '{') {
        c.next()
        for (c.skipNewlines(); c.peek() !== '}'; c.skipNewlines()) {
          const words = itemWords(c)
          if (words[0] === 'type') parseChainHeader(c, chain, words)
          else if (words[0] === 'policy' && chain.hook) chain.hook.policy = words[1] === 'drop' ? 'drop' : 'accept'
          if (c.done()) throw new SyntaxError(`"add chain ${name}" is not closed`)
        }
        c.next()
      }
    }
  } else if (object === 'set' || object === 'map') {
    if (removing) table.sets.delete(name)
    else if (verb === 'flush') (table.sets.get(name) ?? {elements: []}).elements = []
    else {
      const set = table.sets.get(name) ?? newSet(name, object === 'map', line)
      table.sets.set(name, set)
      if (c.peek() === '{') parseSetBody(c, set)
    }
  } else if (object === 'rule') {
    const chain = chainOf(table, name, line)
    let handle: number | undefined
    while (c.peek() === 'position' || c.peek() === 'index' || c.peek() === 'handle') {
      if (c.next() === 'handle') handle = Number(c.next())
      else c.next()
    }
    const tokens = ruleTokens(c)
    const at = handle === undefined ? -1 : chain.rules.findIndex((r) => r.handle === handle)
    if (removing) {
      if (at >= 0) chain.rules.splice(at, 1)
    } else if (verb === 'replace' && at >= 0) {
      chain.rules[at] = ruleOf(name, tokens)
    } else if (verb === 'insert') {
      chain.rules.unshift(ruleOf(name, tokens))
    } else {
      chain.rules.push(ruleOf(name, tokens))
    }
  } else if (object === 'element') {
    const set = table.sets.get(name) ?? newSet(name, false, line)
    table.sets.set(name, set)
    const elements = parseElements(c)
    if (removing) {
      const gone = new Set(elements.map((e) => formatValue(e.key)))
      set.elements = set.elements.filter((e) => !gone.has(formatValue(e.key)))
    } else {
      set.elements.push(...elements)
    }
  } else {
    throw new SyntaxError(`"${verb} ${object}" is not an nft command svctrace reads`)
  }
}

/** Parses nft text in listing or transaction form; structure errors name the line. */
export function parseNftText(text: string, source: string): NftRuleset {
  const c = new Cursor(tokenizeNft(text, source))
  const rs: NftRuleset = {source, format: 'list', tables: []}
  for (c.skipNewlines(); !c.done(); c.skipNewlines()) {
    const start = c.token()
    try {
      if (start.text === 'table') {
        parseTableBlock(c, rs)
      } else if (COMMANDS.has(start.text)) {
        rs.format = 'transaction'
        parseCommand(c, rs)
      } else {
        throw new SyntaxError(`expected "table FAMILY NAME {" or an nft command (add, insert, flush, delete), found "${start.text}"`)
      }
      if (!c.done() && c.peek() !== NL) throw new SyntaxError(`unexpected "${c.peek()}" after the end of the statement`)
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err
      const at = c.tokens[Math.min(c.i, c.tokens.length - 1)]?.line ?? start.line
      throw new DumpError(source, at, `${err.message}${c.done() ? ' (the text ends here; is it cut short?)' : ''}`)
    }
  }
  if (rs.tables.length === 0) throw new DumpError(source, 0, 'no nftables table in the text: is it empty, or not nft output?')
  return rs
}
