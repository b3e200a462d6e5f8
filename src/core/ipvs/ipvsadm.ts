// The node's IPVS table, from `ipvsadm -Sn` (save) or `ipvsadm -Ln` (list); the kernel's own
// /proc/net/ip_vs listing is handed to proc-ip-vs.ts. kube-proxy writes IPVS through netlink, so these
// printouts are only views, and a real server's weight is the one fact that differs between them and
// the API (weight 0 = draining).
//
//   ipvsadm -Sn                                    ipvsadm -Ln
//   -A -t 10.96.0.10:53 -s rr [-p 10800]           TCP  10.96.0.10:53 rr [persistent 10800]
//   -a -t 10.96.0.10:53 -r 10.244.1.5:53 -m -w 1     -> 10.244.1.5:53     Masq    1      0          0
import {canonicalIP, isIP, splitHostPort} from '../address.js'
import {DumpError} from '../iptables/dump.js'
import type {Protocol} from '../model.js'
import type {TrafficCounters} from '../counters.js'
import {looksLikeProcIpVs, parseProcIpVs} from './proc-ip-vs.js'

/** One real server (an endpoint) behind a virtual server. */
export interface RealServer {
  ip: string
  port: number
  weight: number
  /** masq (NAT, what kube-proxy uses), route, tunnel, local, … */
  forward: string
  line: number
  text: string
  /** What IPVS counted for it, when `ipvsadm -Ln --stats` was read too. */
  counters?: TrafficCounters
}

/** One virtual server: a (protocol, address, port) IPVS answers, or a firewall mark. */
export interface VirtualServer {
  protocol: Protocol | 'FWM'
  ip: string
  port: number
  fwmark?: number
  scheduler: string
  /** `-p` / `persistent`: a client keeps its real server this long after its last connection. */
  persistentSeconds?: number
  /** /proc/net/ip_vs prints the persistence timeout in kernel ticks (seconds × HZ), HZ unknown. */
  persistentTicks?: number
  /** Other flags as printed (`ops`, `mask 255.255.255.0`, `sh-port`, …). */
  flags: string[]
  realServers: RealServer[]
  line: number
  text: string
}

export interface IpvsTable {
  source: string
  format: 'save' | 'list' | 'proc'
  services: VirtualServer[]
}

const SAVE_PROTOCOLS: Record<string, Protocol | 'FWM'> = {
  '-t': 'TCP',
  '--tcp-service': 'TCP',
  '-u': 'UDP',
  '--udp-service': 'UDP',
  '--sctp-service': 'SCTP',
  '-f': 'FWM',
  '--fwmark-service': 'FWM',
}
const FORWARD: Record<string, string> = {
  '-m': 'masq',
  '--masquerading': 'masq',
  '-g': 'route',
  '--gatewaying': 'route',
  '-i': 'tunnel',
  '--ipip': 'tunnel',
}

/** `10.96.0.10:53` or `[fd00::a]:53`, numeric only; a host name means ipvsadm ran without -n. */
function address(text: string, source: string, line: number): {ip: string; port: number} {
  const hp = splitHostPort(text)
  if (!hp || hp.port === undefined || !isIP(hp.host)) {
    throw new DumpError(source, line, `"${text}" is not IP:PORT; capture the table with names off: ipvsadm -Sn (or -Ln)`)
  }
  return {ip: canonicalIP(hp.host), port: hp.port}
}

/** The key a destination is looked up by. */
export function virtualServerKey(protocol: string, ip: string, port: number): string {
  return `${protocol}|${canonicalIP(ip)}|${port}`
}

function parseSave(all: string[], source: string): IpvsTable {
  const services: VirtualServer[] = []
  const byKey = new Map<string, VirtualServer>()
  all.forEach((raw, i) => {
    const line = i + 1
    const text = raw.trim()
    if (text === '' || text.startsWith('#')) return
    const [verb, service = '', vipText, ...optionWords] = text.split(/\s+/)
    if (verb !== '-A' && verb !== '-a' && verb !== '--add-service' && verb !== '--add-server') {
      throw new DumpError(source, line, `expected "-A -t|-u VIP:PORT -s SCHED" or "-a … -r RIP:PORT", found "${text.slice(0, 60)}"`)
    }
    const protocol = Object.hasOwn(SAVE_PROTOCOLS, service) ? SAVE_PROTOCOLS[service] : undefined
    if (!protocol || vipText === undefined) throw new DumpError(source, line, `"${text.slice(0, 60)}" names no service (-t, -u, --sctp-service or -f)`)
    const vip = protocol === 'FWM' ? {ip: '', port: 0} : address(vipText, source, line)
    const key = protocol === 'FWM' ? `FWM|${vipText}` : virtualServerKey(protocol, vip.ip, vip.port)
    // `-s rr`, `-w 1`, a bare `-p`: an option takes the next word as its value unless that is an option too.
    const opts = new Map<string, string | undefined>()
    for (let w = optionWords.shift(); w !== undefined; w = optionWords.shift()) {
      const next = optionWords[0]
      opts.set(w, next !== undefined && !next.startsWith('-') ? optionWords.shift() : undefined)
    }
    if (verb === '-A' || verb === '--add-service') {
      const p = opts.get('-p') ?? opts.get('--persistent')
      const vs: VirtualServer = {
        protocol,
        ...vip,
        ...(protocol === 'FWM' ? {fwmark: Number(vipText)} : {}),
        scheduler: opts.get('-s') ?? opts.get('--scheduler') ?? 'wlc',
        ...(opts.has('-p') || opts.has('--persistent') ? {persistentSeconds: p === undefined ? 300 : Number(p)} : {}),
        flags: [...opts.entries()].filter(([k]) => !['-s', '--scheduler', '-p', '--persistent'].includes(k)).map(([k, v]) => (v ? `${k} ${v}` : k)),
        realServers: [],
        line,
        text,
      }
      services.push(vs)
      byKey.set(key, vs)
      return
    }
    const vs = byKey.get(key)
    if (!vs) throw new DumpError(source, line, `real server for ${vipText} before its "-A" line: the save output is out of order or cut`)
    const r = opts.get('-r') ?? opts.get('--real-server')
    if (!r) throw new DumpError(source, line, '"-a" without "-r RIP:PORT"')
    const rs = address(r, source, line)
    const weightText = opts.get('-w') ?? opts.get('--weight') ?? '1'
    const weight = Number(weightText)
    if (!Number.isInteger(weight) || weight < 0) throw new DumpError(source, line, `weight "${weightText}" is not a number`)
    const forward = [...opts.keys()].map((k) => (Object.hasOwn(FORWARD, k) ? FORWARD[k] : undefined)).find(Boolean) ?? 'route'
    vs.realServers.push({...rs, weight, forward, line, text})
  })
  return {source, format: 'save', services}
}

const LIST_PROTOCOLS: Record<string, Protocol | 'FWM'> = {TCP: 'TCP', UDP: 'UDP', SCTP: 'SCTP', FWM: 'FWM'}

/** Flags after the scheduler: `persistent 10800`, `mask 255.255.255.0`, `ops`, `pe sip`, `(sh-port)`. */
function listFlags(words: string[]): {persistentSeconds?: number; flags: string[]} {
  const flags: string[] = []
  let persistentSeconds: number | undefined
  const rest = [...words]
  for (let w = rest.shift(); w !== undefined; w = rest.shift()) {
    const value = rest[0]
    if (w === 'persistent') {
      persistentSeconds = Number(rest.shift())
    } else if ((w === 'mask' || w === 'pe') && value) {
      flags.push(`${w} ${value}`)
      rest.shift()
    } else {
      flags.push(w)
    }
  }
  return {...(persistentSeconds !== undefined ? {persistentSeconds} : {}), flags}
}

function parseList(all: string[], source: string): IpvsTable {
  const services: VirtualServer[] = []
  let current: VirtualServer | undefined
  all.forEach((raw, i) => {
    const line = i + 1
    const text = raw.trim()
    if (text === '' || text.startsWith('IP Virtual Server version') || text.startsWith('Prot LocalAddress') || text.startsWith('-> RemoteAddress')) {
      if (/Conns|InPkts|CPS/.test(text))
        throw new DumpError(source, line, 'this is ipvsadm --stats or --rate output, which has no weights; capture ipvsadm -Ln or -Sn')
      return
    }
    const words = text.split(/\s+/)
    if (words[0] === '->') {
      if (!current) throw new DumpError(source, line, 'a real server ("->") before any virtual server line')
      const [, rip, forward, weightText] = words
      const weight = Number(weightText)
      if (rip === undefined || forward === undefined || weightText === undefined || !Number.isInteger(weight) || weight < 0)
        throw new DumpError(source, line, `expected "-> RIP:PORT Forward Weight ActiveConn InActConn", found "${text.slice(0, 60)}"`)
      current.realServers.push({...address(rip, source, line), weight, forward: forward.toLowerCase(), line, text})
      return
    }
    const [name = '', vipText, scheduler] = words
    const protocol = Object.hasOwn(LIST_PROTOCOLS, name) ? LIST_PROTOCOLS[name] : undefined
    if (!protocol || vipText === undefined || scheduler === undefined) {
      throw new DumpError(
        source,
        line,
        `expected "TCP|UDP|SCTP|FWM VIP:PORT SCHEDULER …" or "-> RIP:PORT …", found "${text.slice(0, 60)}"${/^(tcp|udp)\s/.test(text) ? ' (ipvsadm -Lnc lists connections; capture ipvsadm -Ln)' : ''}`,
      )
    }
    const vip = protocol === 'FWM' ? {ip: '', port: 0, fwmark: Number(vipText)} : address(vipText, source, line)
    current = {protocol, ...vip, scheduler, ...listFlags(words.slice(3)), realServers: [], line, text}
    services.push(current)
  })
  return {source, format: 'list', services}
}

/** Parses `ipvsadm -Sn`, `ipvsadm -Ln` or /proc/net/ip_vs text; errors name the line. */
export function parseIpvsTable(text: string, source: string): IpvsTable {
  const all = text.split('\n').map((l) => l.replace(/\r$/, ''))
  const first = all.find((l) => l.trim() !== '' && !l.trim().startsWith('#'))?.trim() ?? ''
  if (looksLikeProcIpVs(all)) return parseProcIpVs(all, source)
  return first.startsWith('-A') || first.startsWith('-a') || first.startsWith('--add') ? parseSave(all, source) : parseList(all, source)
}
