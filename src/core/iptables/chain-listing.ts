// Targeted collection reads a node's rules one chain at a time (`iptables -w 5 -t nat -S CHAIN`).
// This file turns those listings into the iptables-save text the dump parser and tracer read
// unchanged, and says which chains a trace still needs: the targets of rules already read that a
// packet to one of the planned destinations can match.
//
//   -P PREROUTING ACCEPT                       a built-in chain: its policy
//   -N KUBE-SVC-XPGD46QRK7WJZT7O               a user chain
//   -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ
//
// With -v (--counters) iptables 1.8 prints each rule's counters as `-c PACKETS BYTES` before the
// target, and the policy's after it; they become iptables-save -c's `[PACKETS:BYTES]` prefix:
//   -P PREROUTING ACCEPT -c 0 0
//   -A KUBE-SEP-SXIVWICOYRO3J4NJ -p tcp -m comment --comment "ns1/svc1:p80" -m tcp -c 9120 547200 -j DNAT --to-destination 10.180.0.1:80
import {cidrsOf, isLocalAddress} from '../trace/node.js'
import {cidrContains, parseCidr, splitHostPort, type Cidr} from '../address.js'
import {DumpError} from './dump.js'
import {isChainTarget, parseRuleLine, type Rule} from './rule.js'

/** One chain as `iptables -S CHAIN` printed it. */
export interface ListedChain {
  table: string
  name: string
  /** Built-in chains only: `ACCEPT` or `DROP`. */
  policy?: string
  /** The `-A NAME …` lines, in order. */
  rules: string[]
}

/** A chain to read. */
export interface ChainRef {
  table: string
  chain: string
}

/** What targeted collection has read from one node so far. */
export interface ChainCollection {
  /** table → chain → its listing, or null when the node has no such chain. */
  listed: Map<string, Map<string, ListedChain | null>>
  /** Tables read whole (`iptables-save -t TABLE` output); their listings are not used. */
  whole: Map<string, string>
}

/** A destination the trace follows (the plan's, or a DNAT target the filter table sees). */
export interface ReachTarget {
  ip: string
  port?: number
  protocol?: string
}

const BUILTIN_CHAINS = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']

/**
 * Reads what `iptables -t TABLE -S CHAIN` printed. Throws DumpError for a line that is not
 * `-P`/`-N`/`-A` of that chain (the command's output was not what it should be).
 */
export function parseChainListing(table: string, chain: string, output: string): ListedChain {
  const listed: ListedChain = {table, name: chain, rules: []}
  const lines = output.split('\n')
  for (const [i, text] of lines.entries()) {
    const line = text.trimEnd()
    if (line === '') continue
    const [flag, name, policy] = line.split(' ', 3)
    if (name !== chain || (flag !== '-A' && flag !== '-N' && flag !== '-P')) {
      throw new DumpError(
        `iptables -t ${table} -S ${chain}`,
        i + 1,
        `expected "-P ${chain} POLICY", "-N ${chain}" or "-A ${chain} …", found "${line.slice(0, 60)}"`,
      )
    }
    if (flag === '-A') listed.rules.push(withCounterPrefix(line))
    else if (flag === '-P' && policy !== undefined) listed.policy = policy
  }
  return listed
}

// `-c P B` right before the target (or ending a rule without one); a comment is quoted, so its text
// never ends in ` -c digits digits` followed by ` -j`.
const LISTED_COUNTERS = / -c (\d+) (\d+)(?= -[jg] |$)/

/** `-A C … -c 9120 547200 -j T` → `[9120:547200] -A C … -j T`; a line without counters unchanged. */
export function withCounterPrefix(line: string): string {
  const m = LISTED_COUNTERS.exec(line)
  if (!m) return line
  return `[${m[1]}:${m[2]}] ${line.slice(0, m.index)}${line.slice(m.index + m[0].length)}`
}

/** Nothing read yet. */
export function emptyCollection(): ChainCollection {
  return {listed: new Map(), whole: new Map()}
}

/** Records one chain read (or found missing: `listing` null). */
export function recordChain(c: ChainCollection, table: string, chain: string, listing: ListedChain | null): void {
  let chains = c.listed.get(table)
  if (!chains) c.listed.set(table, (chains = new Map<string, ListedChain | null>()))
  chains.set(chain, listing)
}

/** True when the chain was read, found missing, or its table was read whole. */
function isCollected(c: ChainCollection, table: string, chain: string): boolean {
  return c.whole.has(table) || (c.listed.get(table)?.has(chain) ?? false)
}

/** Built-in chains first (netfilter's order), then user chains by name, as iptables-save prints them. */
function chainOrder(chains: ListedChain[]): ListedChain[] {
  const builtin = (n: string) => BUILTIN_CHAINS.indexOf(n)
  return [...chains].sort((a, b) => {
    const ba = builtin(a.name)
    const bb = builtin(b.name)
    if (ba >= 0 || bb >= 0) return (ba < 0 ? 99 : ba) - (bb < 0 ? 99 : bb)
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  })
}

function formatTable(table: string, chains: ListedChain[]): string[] {
  const ordered = chainOrder(chains)
  return [`*${table}`, ...ordered.map((ch) => `:${ch.name} ${ch.policy ?? '-'} [0:0]`), ...ordered.flatMap((ch) => ch.rules), 'COMMIT']
}

/**
 * The collection as iptables-save text: listed tables as `*table`, `:CHAIN POLICY [0:0]`, `-A …`,
 * `COMMIT` (missing chains left out), tables read whole as they were printed.
 */
export function formatChainCollection(c: ChainCollection): string {
  const tables = [...new Set([...c.listed.keys(), ...c.whole.keys()])].sort((a, b) => tableRank(a) - tableRank(b) || (a < b ? -1 : 1))
  const out: string[] = []
  for (const table of tables) {
    const whole = c.whole.get(table)
    if (whole !== undefined) {
      // A table read whole that printed nothing (no such table on the node) adds no line.
      if (whole.trim() !== '') out.push(whole.replace(/\n$/, ''))
      continue
    }
    const chains = [...(c.listed.get(table)?.values() ?? [])].filter((l): l is ListedChain => l !== null)
    if (chains.length > 0) out.push(...formatTable(table, chains))
  }
  return out.length > 0 ? `${out.join('\n')}\n` : ''
}

function tableRank(table: string): number {
  const i = ['raw', 'mangle', 'filter', 'nat'].indexOf(table)
  return i < 0 ? 9 : i
}

/** The address of a plain `-d ADDR[/32]` written before any quote (so not inside a comment), or undefined. */
function plainDestination(line: string): string | undefined {
  const at = line.indexOf(' -d ')
  if (at < 0 || line.startsWith('! ', at - 1)) return undefined
  const quote = line.indexOf('"')
  if (quote >= 0 && quote < at) return undefined
  const start = at + 4
  let end = line.indexOf(' ', start)
  if (end < 0) end = line.length
  const token = line.slice(start, end)
  const addr = token.endsWith('/32') ? token.slice(0, -3) : token
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(addr) && !/(^|\.)0\d/.test(addr) ? addr : undefined
}

/** The word after the last ` -j `/` -g `, or undefined (a cheap look before parsing the rule). */
function quickTarget(line: string): string | undefined {
  const at = Math.max(line.lastIndexOf(' -j '), line.lastIndexOf(' -g '))
  if (at < 0) return undefined
  const end = line.indexOf(' ', at + 4)
  return line.slice(at + 4, end < 0 ? line.length : end)
}

/** The plain number of a `--dport N` after any quoted text (not negated, no range or list), or undefined. */
function plainDport(line: string): number | undefined {
  const at = line.indexOf(' --dport ', line.lastIndexOf('"') + 1)
  if (at < 0 || line.startsWith('! ', at - 1)) return undefined
  const m = /^(\d+)(?: |$)/.exec(line.slice(at + 9))
  return m ? Number(m[1]) : undefined
}

interface Reach {
  targets: Array<{cidr: Cidr; port?: number; protocol?: string}>
  /** Plain IPv4 texts of the targets: a rule with a plain `-d` for another address is ruled out unparsed. */
  plain: Set<string>
  /** The targets' ports (null: some target has any port): a rule with a plain `--dport` for another port is ruled out unparsed. */
  ports: Set<number> | null
  /** nat was read whole, so the backends (the filter table's destinations) are not known: any rule may match. */
  open: boolean
  /** Whether a target is a local address; undefined when the node addresses are not known. */
  local: (cidr: Cidr) => boolean | undefined
}

// [1:2] -A KUBE-SEP-… -p tcp -m comment --comment "…" -m tcp -j DNAT --to-destination 10.244.1.5:8080
function dnatTargets(c: ChainCollection): ReachTarget[] {
  const out: ReachTarget[] = []
  for (const listing of c.listed.get('nat')?.values() ?? []) {
    for (const line of listing?.rules ?? []) {
      const at = line.indexOf(' --to-destination ')
      if (at < 0) continue
      const hp = splitHostPort(line.slice(at + 18).split(' ')[0] ?? '')
      const protocol = / -p (\S+)/.exec(line)?.[1]
      if (hp) out.push({ip: hp.host, ...(hp.port !== undefined ? {port: hp.port} : {}), ...(protocol ? {protocol} : {})})
    }
  }
  return out
}

function reachOf(c: ChainCollection, destinations: ReachTarget[], localAddresses: string[] | undefined): Reach {
  const targets: Reach['targets'] = []
  const plain = new Set<string>()
  let ports: Set<number> | null = new Set()
  // The filter table sees the DNATed destination: the backends count as destinations too.
  for (const d of [...destinations, ...dnatTargets(c)]) {
    const cidr = parseCidr(d.ip)
    if (!cidr) continue
    targets.push({cidr, ...(d.port !== undefined ? {port: d.port} : {}), ...(d.protocol ? {protocol: d.protocol.toLowerCase()} : {})})
    if (cidr.family === 4) plain.add(cidr.text.replace(/\/32$/, ''))
    if (d.port === undefined) ports = null
    else ports?.add(d.port)
  }
  const locals = cidrsOf(localAddresses ?? [])
  const local = (cidr: Cidr) => isLocalAddress(locals, cidr)
  return {targets, plain, ports, open: c.whole.has('nat'), local}
}

/** True when a plain `-d` or `--dport` of the rule names an address or port no target has (checked unparsed). */
function isRuledOut(reach: Reach, line: string): boolean {
  const addr = plainDestination(line)
  if (addr !== undefined && !reach.plain.has(addr)) return true
  const dport = plainDport(line)
  return dport !== undefined && reach.ports !== null && !reach.ports.has(dport)
}

/** False only when the rule cannot match a packet to `t` (as trace.ts evaluates it); unknown matches may match. */
function couldMatch(rule: Rule, t: Reach['targets'][number], local: Reach['local']): boolean {
  const {port} = t
  for (const m of rule.matches) {
    let holds: boolean | undefined
    if (m.kind === 'dst') holds = cidrContains(m.cidr, t.cidr)
    else if (m.kind === 'protocol' && t.protocol) holds = m.protocol === 'all' || m.protocol === '0' || m.protocol === t.protocol
    else if (m.kind === 'port' && m.which === 'dport' && port !== undefined) holds = m.ranges.some(([lo, hi]) => port >= lo && port <= hi)
    else if (m.kind === 'addrtype' && m.which === 'dst' && m.type === 'LOCAL') holds = local(t.cidr)
    if (holds !== undefined && holds === ('negated' in m && m.negated)) return false
  }
  return true
}

/**
 * The chains a trace still needs, given what was read and the destinations it follows: the jump
 * and goto targets of rules that a packet to one of the destinations (or to a backend one of them
 * is DNATed to) can match. Never a chain already read or found missing, never a target that is no
 * chain (DNAT, MARK, ACCEPT…), never a chain of a table read whole, each chain once. Linear in the
 * rules read: a rule with a plain `-d` or `--dport` nobody follows (nearly all of KUBE-SERVICES and
 * KUBE-NODEPORTS on a big node) is set aside by a Set look-up, unparsed. When nat was read whole,
 * the backends are unknown and every jump of the filter table is followed.
 */
export function nextChains(c: ChainCollection, destinations: ReachTarget[], opts: {localAddresses?: string[]} = {}): ChainRef[] {
  const reach = reachOf(c, destinations, opts.localAddresses)
  const out: ChainRef[] = []
  const queued = new Set<string>()
  const skip = (table: string, chain: string) => !isChainTarget(chain) || isCollected(c, table, chain) || queued.has(`${table} ${chain}`)
  for (const [table, chains] of c.listed) {
    if (c.whole.has(table)) continue
    for (const listing of chains.values()) {
      for (const line of listing?.rules ?? []) {
        const quick = quickTarget(line)
        if (quick === undefined || skip(table, quick) || (!reach.open && isRuledOut(reach, line))) continue
        const rule = parseRuleLine(line, table, 0)
        if ('error' in rule || (rule.target.kind !== 'jump' && rule.target.kind !== 'goto') || skip(table, rule.target.chain)) continue
        if (!reach.open && !reach.targets.some((t) => couldMatch(rule, t, reach.local))) continue
        queued.add(`${table} ${rule.target.chain}`)
        out.push({table, chain: rule.target.chain})
      }
    }
  }
  return out
}
