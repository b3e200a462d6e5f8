// `-m set --match-set NAME dst,dst,src` against the node's ipsets: each flag picks the packet's
// source or destination for one component of the set's type (hash:ip,port,net → address, port+protocol,
// network). An outside client with no address given is, as for `-s`, outside the pod networks;
// whether it is in any other range is left undecided.
import {cidrContains, formatIP, parseCidr} from '../address.js'
import type {NodeContext, SetMembership} from '../trace/node.js'
import type {Condition, Packet} from '../trace/packet.js'
import type {IpSet, IpsetEntry, Ipsets} from './ipset.js'
import {addTo} from '../group.js'

type Component = 'ip' | 'port' | 'other'
type Tri = 'yes' | 'no' | 'unknown'

interface PortSpec {
  /** undefined for bitmap:port members, which match any protocol. */
  protocol?: string
  lo: number
  hi: number
}

function componentsOf(set: IpSet, entry: IpsetEntry): Component[] {
  if (set.type) {
    const [, dims = ''] = set.type.split(':')
    return dims.split(',').map((d) => (d === 'ip' || d === 'net' ? 'ip' : d === 'port' ? 'port' : 'other'))
  }
  // `add` lines without `create`: tell the kind of each part by its shape.
  return entry.parts.map((p) => (parseCidr(p) ? 'ip' : /^([a-z]+:)?\d+(-\d+)?$/.test(p) ? 'port' : 'other'))
}

/** `tcp:80`, `80` (TCP, as ipset assumes), `3000-3010`; a bitmap:port member carries no protocol. */
function portOf(text: string, bitmap: boolean): PortSpec | undefined {
  const m = /^(?:([a-z]+):)?(\d+)(?:-(\d+))?$/.exec(text)
  if (!m) return undefined
  const lo = Number(m[2])
  const protocol = m[1] ?? (bitmap ? undefined : 'tcp')
  return {...(protocol !== undefined ? {protocol} : {}), lo, hi: m[3] === undefined ? lo : Number(m[3])}
}

interface Lookup {
  packet: Packet
  node: NodeContext
  /** Source ranges that decided nothing (for the condition text). */
  undecided: string[]
}

function matchPart(kind: Component, part: string, dim: 'src' | 'dst', bitmap: boolean, q: Lookup): Tri {
  const p = q.packet
  if (kind === 'ip') {
    const net = parseCidr(part)
    if (!net) return 'no'
    const addr = dim === 'src' ? p.src : p.dst
    if (addr) return cidrContains(net, addr) ? 'yes' : 'no'
    if (q.node.podNetworks.overlaps(net)) return 'no'
    q.undecided.push(part)
    return 'unknown'
  }
  if (kind === 'port') {
    const spec = portOf(part, bitmap)
    if (!spec) return 'no'
    if (spec.protocol && spec.protocol !== p.protocol.toLowerCase()) return 'no'
    if (dim === 'src' || p.dport === undefined) return 'unknown'
    return p.dport >= spec.lo && p.dport <= spec.hi ? 'yes' : 'no'
  }
  return 'unknown'
}

function matchEntry(set: IpSet, entry: IpsetEntry, dims: Array<'src' | 'dst'>, q: Lookup): Tri {
  const kinds = componentsOf(set, entry)
  const bitmap = set.type?.startsWith('bitmap:') ?? kinds.length === 1
  let result: Tri = 'yes'
  for (const [i, dim] of dims.entries()) {
    const part = entry.parts[i]
    if (part === undefined) break
    const r = matchPart(kinds[i] ?? 'other', part, dim, bitmap, q)
    if (r === 'no') return 'no'
    if (r === 'unknown') result = 'unknown'
  }
  return result
}

type Buckets = Map<IpSet, Map<string, IpsetEntry[]> | null>

/**
 * Members bucketed by their first part, so a lookup in a 10,000-member set reads a handful; null
 * when some first part is a network (those sets are scanned).
 */
function bucketsOf(set: IpSet, cache: Buckets): Map<string, IpsetEntry[]> | null {
  let b = cache.get(set)
  if (b === undefined) {
    b = new Map<string, IpsetEntry[]>()
    for (const e of set.entries) {
      const c = componentsOf(set, e)[0] === 'ip' ? parseCidr(e.parts[0]) : undefined
      if (!c || e.parts[0].includes('/')) {
        b = null
        break
      }
      const key = formatIP(c)
      addTo(b, key, e)
    }
    cache.set(set, b)
  }
  return b
}

/** The candidates for a lookup: one bucket when the first component is an exact address. */
function candidates(set: IpSet, dims: Array<'src' | 'dst'>, packet: Packet, cache: Buckets): IpsetEntry[] {
  const first = dims[0] === 'src' ? packet.src : packet.dst
  const buckets = first && set.entries.length >= 32 ? bucketsOf(set, cache) : null
  return first && buckets ? (buckets.get(formatIP(first)) ?? []) : set.entries
}

/** The ipsets as the iptables matcher consumes them. A set the node does not list counts as empty. */
export function ipsetMembership(sets: Ipsets): SetMembership {
  const cache: Buckets = new Map()
  return {
    test(name, dims, packet, node) {
      const set = sets.sets.get(name)
      if (!set) return {result: 'no'}
      const q: Lookup = {packet, node, undecided: []}
      let unknown = false
      for (const entry of candidates(set, dims, packet, cache)) {
        const r = matchEntry(set, entry, dims, q)
        if (r === 'yes') return {result: 'yes'}
        if (r === 'unknown') unknown = true
      }
      if (!unknown) return {result: 'no'}
      const ranges = [...new Set(q.undecided)]
      const what = ranges.length > 0 ? `source in ${ranges.join(', ')}` : `packet in ipset ${name}`
      const condition: Condition = {
        holds: `${what} (ipset ${name})`,
        fails: `${what.replace(/^source in/, 'source not in').replace(/^packet in/, 'packet not in')} (ipset ${name})`,
      }
      return {result: 'maybe', condition}
    },
  }
}
