// `conntrack -L` output: one connection-tracking entry per line, in the default format or with
// `-o extended` (which adds the layer-3 family and its number in front). The first src/dst/sport/dport
// are the original direction (what the client sent); the second set is the reply direction, whose
// source is where a DNAT sent the connection:
//
//   udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=53211 dport=53 [UNREPLIED] src=10.244.2.7 dst=10.244.1.5 sport=53 dport=53211 mark=0 use=1
//   ipv4     2 tcp      6 431999 ESTABLISHED src=… dst=… sport=… dport=… src=… … [ASSURED] mark=0 use=1
//
// A line that is no entry (a header, a message, a truncated line) never fails the parse: it is kept,
// with its line number and why, as something the check could not read.
import {canonicalIP, isIP} from '../address.js'

/** One direction of a tracked connection. */
export interface ConntrackTuple {
  src: string
  dst: string
  /** Absent for protocols without ports (icmp, gre). */
  sport?: number
  dport?: number
}

/** One tracked connection. */
export interface ConntrackEntry {
  /** Lower case, as conntrack prints it: `tcp`, `udp`, `sctp`, `icmp`, … */
  protocol: string
  /** Seconds left before the entry expires. */
  timeout: number
  /** The protocol state (`ESTABLISHED`, `TIME_WAIT`; SCTP `ESTABLISHED`, …); UDP has none. */
  state?: string
  original: ConntrackTuple
  reply: ConntrackTuple
  /** Bracketed flags: `UNREPLIED`, `ASSURED`, `OFFLOAD`, … */
  flags: string[]
  /** The 1-based line of the output it came from. */
  line: number
}

/** A line that is no entry, kept as uncertainty: `source:line` and why. */
export interface ConntrackUnread {
  line: number
  text: string
  reason: string
}

/** A parsed `conntrack -L` output. */
export interface ConntrackTable {
  source: string
  entries: ConntrackEntry[]
  unread: ConntrackUnread[]
}

// conntrack's own summary, which it prints on stderr (kept out if a capture merged the streams).
const SUMMARY = /^conntrack v[\d.]+ \(conntrack-tools\): \d+ flow entries have been shown\.$/
const FAMILIES = new Set(['ipv4', 'ipv6'])
const WHOLE = /^\d+$/

interface Tokens {
  words: string[]
  at: number
}

function next(t: Tokens): string | undefined {
  return t.words[t.at++]
}

/** Reads `src= dst= sport= dport=` (ports optional) at the cursor, or says why they are not there. */
function tuple(t: Tokens): ConntrackTuple | string {
  const values: Record<string, string> = {}
  for (const key of ['src', 'dst', 'sport', 'dport']) {
    const word = t.words[t.at]
    if (!word?.startsWith(`${key}=`)) {
      if (key === 'sport' || key === 'dport') break
      return `expected ${key}=`
    }
    values[key] = word.slice(key.length + 1)
    t.at++
  }
  const {src = '', dst = '', sport, dport} = values
  if (!isIP(src) || !isIP(dst)) return `an address is not an IP (src=${src} dst=${dst})`
  if ((sport !== undefined && !WHOLE.test(sport)) || (dport !== undefined && !WHOLE.test(dport))) return 'a port is not a number'
  if (Number(sport ?? 0) > 65535 || Number(dport ?? 0) > 65535) return 'a port is over 65535'
  return {
    src: canonicalIP(src),
    dst: canonicalIP(dst),
    ...(sport !== undefined ? {sport: Number(sport)} : {}),
    ...(dport !== undefined ? {dport: Number(dport)} : {}),
  }
}

const FLAG = /^\[[A-Z_]+\]$/

/**
 * Moves the cursor to the reply direction's `src=`, past what sits between the two: `[UNREPLIED]` (kept in
 * `flags`), counters with accounting on (`packets=N bytes=N`), ICMP's `type= code= id=`.
 */
function skipBetween(t: Tokens, flags: string[]): void {
  for (let w = t.words[t.at]; w !== undefined && !w.startsWith('src='); w = t.words[++t.at]) {
    if (FLAG.test(w)) flags.push(w.slice(1, -1))
  }
}

/** One line as an entry, or why it is none. */
function entryOf(text: string, line: number): ConntrackEntry | string {
  const t: Tokens = {words: text.trim().split(/\s+/), at: 0}
  if (FAMILIES.has(t.words[0] ?? '')) t.at += 2 // -o extended: `ipv4     2`
  const protocol = next(t)
  const number = next(t)
  const timeout = next(t)
  if (!protocol || !/^[a-z0-9-]+$/.test(protocol) || !number || !WHOLE.test(number) || !timeout || !WHOLE.test(timeout)) {
    return 'not a conntrack entry (expected: PROTOCOL NUMBER TIMEOUT [STATE] src=… dst=…)'
  }
  const word = t.words[t.at]
  const state = word !== undefined && /^[A-Z_]+$/.test(word) ? (t.at++, word) : undefined
  const flags: string[] = []
  const original = tuple(t)
  if (typeof original === 'string') return `original direction: ${original}`
  skipBetween(t, flags)
  const reply = tuple(t)
  if (typeof reply === 'string') return `reply direction: ${reply}`
  // After the reply: `[ASSURED]`, counters, `mark=`, `zone=`, `use=`, `id=`; only the flags matter here.
  for (const w of t.words.slice(t.at)) if (FLAG.test(w)) flags.push(w.slice(1, -1))
  return {protocol, timeout: Number(timeout), ...(state !== undefined ? {state} : {}), original, reply, flags, line}
}

/** Parses `conntrack -L` (default or `-o extended`) text; never throws, lines it cannot read are in `unread`. */
export function parseConntrack(text: string, source: string): ConntrackTable {
  const entries: ConntrackEntry[] = []
  const unread: ConntrackUnread[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '')
    if (line.trim() === '' || SUMMARY.test(line.trim())) return
    const entry = entryOf(line, i + 1)
    if (typeof entry === 'string') unread.push({line: i + 1, text: line, reason: entry})
    else entries.push(entry)
  })
  return {source, entries, unread}
}
