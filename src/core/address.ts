// IP addresses, CIDRs and destinations (IPv4 and IPv6), parsed without any I/O.
import type {Destination, Protocol} from './model.js'

/** A parsed address or network: family, value as a bigint, prefix length. */
export interface Cidr {
  family: 4 | 6
  value: bigint
  prefix: number
  text: string
  /** IPv4: the value as an unsigned 32-bit number, so containment tests make no BigInt (every rule a trace compares asks). */
  v4?: number
}

/** A dotted quad (`10.0.0.1`, no leading sign or spaces; octets ≤ 255), read digit by digit: every rule and address passes here. */
function parseIPv4(text: string): bigint | undefined {
  let value = 0
  let octet = -1
  let digits = 0
  let dots = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined
      octet = (octet < 0 ? 0 : octet * 10) + (c - 48)
    } else if (c === 46 && octet >= 0 && dots < 3) {
      if (octet > 255) return undefined
      value = value * 256 + octet
      octet = -1
      digits = 0
      dots++
    } else {
      return undefined
    }
  }
  if (dots !== 3 || octet < 0 || octet > 255) return undefined
  return BigInt(value * 256 + octet)
}

function parseIPv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.includes(':::')) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const groups = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    const pieces = part.split(':')
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIPv4(piece)
        if (v4 === undefined) return undefined
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn))
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16))
      } else {
        return undefined
      }
    }
    return out
  }
  const [before = '', after] = halves
  const head = groups(before)
  const tail = after === undefined ? [] : groups(after)
  if (!head || !tail) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail]
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n)
}

/** Parses `10.0.0.1`, `10.0.0.0/8`, `fd00::1`, `fd00::/64`; undefined when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/')
  const addr = slash < 0 ? text : text.slice(0, slash)
  const v4 = parseIPv4(addr)
  const family = v4 !== undefined ? 4 : 6
  const value = v4 ?? parseIPv6(addr)
  if (value === undefined) return undefined
  const max = family === 4 ? 32 : 128
  let prefix = max
  if (slash >= 0) {
    const p = text.slice(slash + 1)
    // iptables-save may print a netmask (`/255.255.255.0`) for non-contiguous masks; CIDR form only here.
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined
    prefix = Number(p)
  }
  const masked = value & mask(family, prefix)
  const cidr: Cidr = {family, value: masked, prefix, text}
  if (family === 4) cidr.v4 = Number(masked)
  return cidr
}

function makeMask(bits: number, prefix: number): bigint {
  return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n)
}

// Every prefix's mask, made once (cidrContains runs for each rule a trace compares).
const MASKS4 = Array.from({length: 33}, (_, p) => makeMask(32, p))
const MASKS6 = Array.from({length: 129}, (_, p) => makeMask(128, p))

function mask(family: 4 | 6, prefix: number): bigint {
  return (family === 4 ? MASKS4[prefix] : MASKS6[prefix]) ?? 0n
}

// IPv4 masks as unsigned 32-bit numbers, by prefix length.
const MASKS4_NUMBER = MASKS4.map(Number)

/** True when `ip` (an address) lies inside `net`. */
export function cidrContains(net: Cidr, ip: Cidr): boolean {
  if (net.family !== ip.family || ip.prefix < net.prefix) return false
  if (net.v4 !== undefined && ip.v4 !== undefined) return (ip.v4 & (MASKS4_NUMBER[net.prefix] ?? 0)) >>> 0 === net.v4
  return (ip.value & mask(net.family, net.prefix)) === net.value
}

/** True when one of the two ranges holds the other (two CIDRs either nest or are disjoint). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a)
}

/** Networks an address or range is tested against: any number of them (a pod IP each, on clusters without podCIDRs) in O(log n). */
export interface NetworkSet {
  /** Whether some network overlaps `c` (holds it, or lies inside it). */
  overlaps(c: Cidr): boolean
}

/** The networks as each family's merged ranges, sorted: a test is one binary search. */
export function networkSet(networks: readonly Cidr[]): NetworkSet {
  const ranges = {4: [] as Array<[bigint, bigint]>, 6: [] as Array<[bigint, bigint]>}
  for (const c of networks) ranges[c.family].push([c.value, c.value + hostCount(c) - 1n])
  for (const f of [4, 6] as const) {
    const merged: Array<[bigint, bigint]> = []
    for (const r of ranges[f].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      const top = merged.at(-1)
      if (top && r[0] <= top[1] + 1n) top[1] = r[1] > top[1] ? r[1] : top[1]
      else merged.push([r[0], r[1]])
    }
    ranges[f] = merged
  }
  return {
    overlaps(c: Cidr): boolean {
      const list = ranges[c.family]
      const lo = c.value
      const hi = c.value + hostCount(c) - 1n
      // The first range that ends at or after lo.
      let a = 0
      let b = list.length
      while (a < b) {
        const m = (a + b) >>> 1
        if ((list[m]?.[1] ?? 0n) < lo) a = m + 1
        else b = m
      }
      const r = list[a]
      return r !== undefined && r[0] <= hi
    },
  }
}

/** How many addresses the range holds. */
function hostCount(c: Cidr): bigint {
  return 1n << BigInt((c.family === 4 ? 32 : 128) - c.prefix)
}

/** True for a loopback address: 127.0.0.0/8 or ::1 (a node answers these itself; a pod's are its own). */
export function isLoopback(ip: Cidr | string): boolean {
  const c = typeof ip === 'string' ? parseCidr(ip) : ip
  return c !== undefined && (c.family === 4 ? c.value >> 24n === 127n : c.value === 1n)
}

/** The family of an address, or undefined when the text is none. */
export function familyOf(ip: string): 4 | 6 | undefined {
  return parseCidr(ip)?.family
}

// A dotted quad already in canonical form (no leading zeros, each octet ≤ 255): most addresses a
// trace meets are, and they are answered without the bigint parse.
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/

/** True when the text is a plain IPv4 or IPv6 address. */
export function isIP(text: string): boolean {
  if (CANONICAL_IPV4.test(text)) return true
  const c = parseCidr(text)
  return c !== undefined && !text.includes('/')
}

/** Canonical text of an address (`010.0.0.1` → `10.0.0.1`, `FD00:0::1` → `fd00::1`). */
export function canonicalIP(text: string): string {
  if (CANONICAL_IPV4.test(text)) return text
  const c = parseCidr(text)
  if (!c || text.includes('/')) return text
  return formatIP(c)
}

/** Prints an address (the network address, for a CIDR) without prefix length. */
export function formatIP(c: Pick<Cidr, 'family' | 'value'>): string {
  if (c.family === 4) {
    // 32 bits fit a Number: no BigInt shifts or arrays (every backend of every trace is printed).
    const v = Number(c.value)
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`
  }
  const groups = Array.from({length: 8}, (_, i) => Number((c.value >> BigInt(112 - i * 16)) & 0xffffn))
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) [best, bestLen] = [i, j - i]
    i = j === i ? i + 1 : j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

/** The last usable address of a network (e.g. 10.244.1.254 for 10.244.1.0/24). */
export function lastHostOf(net: Cidr): string {
  const size = 1n << BigInt((net.family === 4 ? 32 : 128) - net.prefix)
  return formatIP({family: net.family, value: size > 2n ? net.value + size - 2n : net.value})
}

/** `10.0.0.0/16`: a network as CIDR text, canonical; a single address without its /32 or /128. */
export function formatCidr(c: Cidr): string {
  return c.prefix === (c.family === 4 ? 32 : 128) ? formatIP(c) : `${formatIP(c)}/${c.prefix}`
}

/** An address standing for a network: its first host (the network itself for a single address, /31 or /127). */
export function sampleAddressOf(net: Cidr): string {
  const hostBits = (net.family === 4 ? 32 : 128) - net.prefix
  return formatIP({family: net.family, value: hostBits > 1 ? net.value + 1n : net.value})
}

/**
 * Which part of `range` lies inside `networks`: the networks (or `range` itself) that cover it, and
 * an address of the range outside all of them when some of it is. Halves the range only where a
 * network cuts it: at most 128 steps per network.
 */
export function splitByNetworks(range: Cidr, networks: readonly Cidr[]): {inside: Cidr[]; outside?: string} {
  const mine = networks.filter((n) => n.family === range.family)
  if (mine.some((n) => cidrContains(n, range))) return {inside: [range]}
  // Networks inside the range, without those inside another.
  const parts = mine.filter((n) => cidrContains(range, n))
  const inside = parts.filter((n) => !parts.some((o) => o !== n && cidrContains(o, n) && (o.prefix < n.prefix || parts.indexOf(o) < parts.indexOf(n))))
  const outside = uncovered(range, inside)
  return {inside: inside.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)), ...(outside ? {outside} : {})}
}

/** An address of `net` in none of `parts` (all inside `net`), or undefined when they cover it. */
function uncovered(net: Cidr, parts: readonly Cidr[]): string | undefined {
  if (parts.some((p) => cidrContains(p, net))) return undefined
  const within = parts.filter((p) => cidrContains(net, p))
  if (within.length === 0) return sampleAddressOf(net)
  const bits = net.family === 4 ? 32 : 128
  if (net.prefix >= bits) return undefined
  const half = 1n << BigInt(bits - net.prefix - 1)
  for (const value of [net.value, net.value + half]) {
    const sub = {family: net.family, value, prefix: net.prefix + 1, text: ''}
    const found = uncovered(sub, within)
    if (found) return found
  }
  return undefined
}

/** `IP:PORT` with IPv6 bracketed, as kube-proxy writes endpoints. */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

/** Splits `10.0.0.1:80` or `[fd00::1]:80`; port undefined when absent. */
export function splitHostPort(text: string): {host: string; port?: number} | undefined {
  // Every DNAT rule of a trace passes here: the bracket form's pattern only for text that starts with one.
  const bracket = text.startsWith('[') ? /^\[([^\]]+)\](?::(\d+))?$/.exec(text) : null
  if (bracket) {
    const [, host = '', port] = bracket
    return {host, ...(port !== undefined ? {port: Number(port)} : {})}
  }
  const colon = text.indexOf(':')
  // No colon, or more than one (a bare IPv6 address): all host.
  if (colon < 0 || text.includes(':', colon + 1)) return {host: text}
  const port = text.slice(colon + 1)
  return /^\d+$/.test(port) ? {host: text.slice(0, colon), port: Number(port)} : undefined
}

const PROTOCOLS: Record<string, Protocol> = {tcp: 'TCP', udp: 'UDP', sctp: 'SCTP'}

/** Lowercase protocol name → Kubernetes spelling. */
function toProtocol(text: string): Protocol | undefined {
  return PROTOCOLS[text.toLowerCase()]
}

const USAGE = 'expected IP, IP:PORT or IP:PORT/PROTO (e.g. 10.96.0.10:53/udp, [fd00::10]:443/tcp)'

/**
 * Splits `HOST[:PORT][/PROTO]` (`[IPv6]:PORT` bracketed) without judging the host; `protocol` only
 * when one was written. Returns an error sentence for a bad protocol or port.
 */
export function splitDestination(text: string, usage = USAGE): {host: string; port?: number; protocol?: Protocol} | {error: string} {
  let rest = text.trim()
  let protocol: Protocol | undefined
  const slash = rest.lastIndexOf('/')
  if (slash >= 0) {
    const p = toProtocol(rest.slice(slash + 1))
    if (!p) return {error: `"${text}": unknown protocol "${rest.slice(slash + 1)}"; ${usage}`}
    protocol = p
    rest = rest.slice(0, slash)
  }
  const hp = splitHostPort(rest)
  if (!hp) return {error: `"${text}" is not an IP address; ${usage}`}
  if (hp.port !== undefined && (hp.port < 1 || hp.port > 65535)) {
    return {error: `"${text}": port ${hp.port} is out of range 1-65535`}
  }
  return {host: hp.host, ...(hp.port !== undefined ? {port: hp.port} : {}), ...(protocol ? {protocol} : {})}
}

/**
 * Parses the `--ip` argument: `IP`, `IP:PORT`, `[IPv6]:PORT`, each optionally `/tcp|udp|sctp`.
 * Returns an error sentence instead of throwing.
 */
export function parseDestination(text: string): {destination: Destination; portGiven: boolean} | {error: string} {
  const split = splitDestination(text)
  if ('error' in split) return split
  const {host, port, protocol = 'TCP'} = split
  if (!isIP(host)) return {error: `"${text}" is not an IP address; ${USAGE}`}
  return {destination: {ip: canonicalIP(host), ...(port !== undefined ? {port} : {}), protocol}, portGiven: port !== undefined}
}

/** `10.96.0.10:53/UDP`, the way paths name their entry. */
export function formatDestination(d: Destination): string {
  return `${d.port === undefined ? d.ip : joinHostPort(d.ip, d.port)}/${d.protocol}`
}
