// The node's ipsets, from either of ipset's two printouts. IPVS-mode kube-proxy keeps its address
// lists in sets (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP, …) that its iptables rules match with `-m set`.
//
//   ipset save                                   ipset list
//   create KUBE-CLUSTER-IP hash:ip,port family … Name: KUBE-CLUSTER-IP
//   add KUBE-CLUSTER-IP 10.96.0.1,tcp:443        Type: hash:ip,port
//                                                Header: family inet hashsize 1024 maxelem 65536
//                                                Number of entries: 1
//                                                Members:
//                                                10.96.0.1,tcp:443
import {DumpError} from '../iptables/dump.js'

/** One member as printed (`10.20.30.41,tcp:80`), split at the commas (so at least one part). */
export interface IpsetEntry {
  parts: [string, ...string[]]
  line: number
}

export interface IpSet {
  name: string
  /** `hash:ip,port`, `bitmap:port`, …; undefined when only `add` lines were given. */
  type?: string
  entries: IpsetEntry[]
  /** Line of the `create`/`Name:` header, or of the first `add`. */
  line: number
}

export interface Ipsets {
  source: string
  sets: Map<string, IpSet>
  /** True when sets were declared (`create` or `Name:`): an absent set then really does not exist. */
  declared: boolean
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\r$/, ''))
}

/** A member is its first word; options such as `timeout 10` or `comment "x"` follow it. */
function entryOf(text: string, line: number): IpsetEntry {
  const [member = ''] = text.trim().split(/\s+/)
  const [first = '', ...rest] = member.split(',')
  return {parts: [first, ...rest], line}
}

function setOf(sets: Map<string, IpSet>, name: string, line: number): IpSet {
  let s = sets.get(name)
  if (!s) {
    s = {name, entries: [], line}
    sets.set(name, s)
  }
  return s
}

/** `ipset save` (also just its `add` lines, as kube-proxy's own dumps show them). */
function parseSave(all: string[], source: string): Ipsets {
  const sets = new Map<string, IpSet>()
  let declared = false
  all.forEach((raw, i) => {
    const text = raw.trim()
    const line = i + 1
    if (text === '' || text.startsWith('#')) return
    const [verb, name, ...rest] = text.split(/\s+/)
    if (verb === 'create') {
      const [type] = rest
      if (name === undefined || type === undefined) throw new DumpError(source, line, `"create" needs a set name and a type; found "${text}"`)
      declared = true
      const s = setOf(sets, name, line)
      s.type = type
    } else if (verb === 'add') {
      if (name === undefined || rest.length === 0) throw new DumpError(source, line, `"add" needs a set name and a member; found "${text}"`)
      setOf(sets, name, line).entries.push(entryOf(rest.join(' '), line))
    } else {
      throw new DumpError(source, line, `expected "create SET TYPE …" or "add SET MEMBER", found "${text.slice(0, 60)}"; give ipset save or ipset list output`)
    }
  })
  return {source, sets, declared}
}

/** `ipset list`: blocks of `Key: value` headers, then the members after `Members:`. */
function parseList(all: string[], source: string): Ipsets {
  const sets = new Map<string, IpSet>()
  let current: (IpSet & {announced?: number; members: boolean}) | undefined
  const close = (line: number) => {
    // A short member list is reported at its last member: where the text stops making sense.
    if (!current) return
    if (!current.members) {
      throw new DumpError(
        source,
        current.line,
        `set ${current.name} has no "Members:" section: the listing is terse (ipset list -t) or cut short; capture ipset list or ipset save`,
      )
    }
    if (current.announced !== undefined && current.announced !== current.entries.length) {
      throw new DumpError(
        source,
        current.entries.at(-1)?.line ?? line,
        `set ${current.name} announces ${current.announced} entries but lists ${current.entries.length}: the listing is cut short`,
      )
    }
  }
  all.forEach((raw, i) => {
    const line = i + 1
    const text = raw.trim()
    // `Key: value`; key is undefined on any other line (both groups always take part in a match).
    const header = /^([A-Za-z][A-Za-z ]*):\s*(.*)$/.exec(text)
    const key = header?.[1]
    const value = header?.[2] ?? ''
    if (key === 'Name') {
      close(line)
      current = {name: value, entries: [], line, members: false}
      sets.set(current.name, current)
    } else if (text === '') {
      return
    } else if (!current) {
      throw new DumpError(source, line, `expected "Name: SET" to start a set, found "${text.slice(0, 60)}"`)
    } else if (current.members) {
      current.entries.push(entryOf(text, line))
    } else if (key === 'Members') {
      current.members = true
    } else if (key === 'Type') {
      current.type = value
    } else if (key === 'Number of entries') {
      current.announced = Number(value)
    } else if (key === undefined) {
      throw new DumpError(source, line, `unexpected line "${text.slice(0, 60)}" in the headers of set ${current.name}`)
    }
  })
  close(all.length)
  return {source, sets, declared: true}
}

/** Parses `ipset list` or `ipset save` output; errors name the line. */
export function parseIpset(text: string, source: string): Ipsets {
  const all = lines(text)
  const first = all.find((l) => l.trim() !== '' && !l.trim().startsWith('#'))
  if (first === undefined) return {source, sets: new Map(), declared: false}
  return first.trim().startsWith('Name:') ? parseList(all, source) : parseSave(all, source)
}

/** Every address of a set such as KUBE-IPVS-IPS (`hash:ip`): the addresses bound to kube-ipvs0. */
export function setAddresses(sets: Ipsets, name: string): string[] {
  return (sets.sets.get(name)?.entries ?? []).map((e) => e.parts[0])
}

// ipset's longest set name (IPSET_MAXNAMELEN 32, with the terminating NUL).
const MAX_SET_NAME = 31

/**
 * The name of kube-proxy's set `base` (KUBE-CLUSTER-IP, …) in the proxier of one IP family. Since
 * dual-stack IPVS (v1.20, pkg/proxy/ipvs/ipset.go NewIPSet) the IPv6 proxier's sets are `KUBE-6-…`,
 * cut to ipset's 31 characters; before that an IPv6 proxier used the plain names, which is what a
 * node without any KUBE-6- set shows.
 */
export function familySetName(sets: Ipsets, base: string, family: 4 | 6): string {
  if (family === 4 || !base.startsWith('KUBE-')) return base
  const v6 = base.replace(/^KUBE-/, 'KUBE-6-').slice(0, MAX_SET_NAME)
  if (sets.sets.has(v6)) return v6
  return [...sets.sets.keys()].some((name) => name.startsWith('KUBE-6-')) ? v6 : base
}
