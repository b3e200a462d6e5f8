// `ipvsadm -Ln --stats`: what IPVS counted per virtual and real server since they were added. It
// has no weights or forwarding method, so it rides beside the table `ipvsadm -Sn` (or -Ln) gave,
// and only adds counters to the real servers that table has.
//
//   IP Virtual Server version 1.2.1 (size=4096)
//   Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
//     -> RemoteAddress:Port
//   TCP  10.96.0.10:80                    9420    56520    47100  3391200 28260000
//     -> 10.244.1.5:8080                  9120    54720    45600  3283200 27360000
import {canonicalIP, isIP, splitHostPort} from '../address.js'
import type {TrafficCounters} from '../counters.js'
import {DumpError} from '../iptables/dump.js'
import {virtualServerKey, type IpvsTable} from './ipvsadm.js'

/** Counters by virtual server key, then by real server `ip|port`. */
export type IpvsStats = Map<string, Map<string, TrafficCounters>>

// Without --exact ipvsadm shortens large numbers: 12345K, 6789M, 12G (powers of 1000).
const SCALE: Record<string, number> = {'': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12}

function number(text: string | undefined, source: string, line: number): number {
  const m = /^(\d+)([KMGT]?)$/.exec(text ?? '')
  if (!m) throw new DumpError(source, line, `"${text ?? ''}" is not a count; expected ipvsadm -Ln --stats output (Conns InPkts OutPkts InBytes OutBytes)`)
  return Number(m[1]) * (SCALE[m[2] ?? ''] ?? 1)
}

function counters(words: string[], source: string, line: number): TrafficCounters {
  const [conns, inPkts, , inBytes] = words.map((w) => number(w, source, line))
  // Conns, then what came in from clients: the direction the Service is used in.
  return {connections: conns ?? 0, packets: inPkts ?? 0, bytes: inBytes ?? 0}
}

/** Parses `ipvsadm -Ln --stats [--exact]`; errors name the line. FWM services are skipped (kube-proxy makes none). */
export function parseIpvsStats(text: string, source: string): IpvsStats {
  const stats: IpvsStats = new Map()
  let current: Map<string, TrafficCounters> | undefined
  text.split('\n').forEach((raw, i) => {
    const line = i + 1
    const t = raw.trim()
    if (t === '' || t.startsWith('IP Virtual Server') || t.startsWith('Prot ') || t === '-> RemoteAddress:Port') return
    const words = t.split(/\s+/)
    const [first = '', address = ''] = words
    const hp = splitHostPort(address)
    if (first === 'FWM') {
      current = undefined
      return
    }
    if (!hp || hp.port === undefined || !isIP(hp.host) || words.length !== 7) {
      throw new DumpError(source, line, `expected "PROTO VIP:PORT Conns InPkts OutPkts InBytes OutBytes" or "-> RIP:PORT …", found "${t.slice(0, 60)}"`)
    }
    const values = counters(words.slice(2), source, line)
    if (first === '->') {
      if (!current) return
      current.set(`${canonicalIP(hp.host)}|${hp.port}`, values)
      return
    }
    current = new Map()
    stats.set(virtualServerKey(first, hp.host, hp.port), current)
  })
  return stats
}

/** The table with each real server's counters from `stats`, where it has some. */
export function withIpvsStats(table: IpvsTable, stats: IpvsStats): IpvsTable {
  return {
    ...table,
    services: table.services.map((vs) => {
      const byServer = vs.protocol === 'FWM' ? undefined : stats.get(virtualServerKey(vs.protocol, vs.ip, vs.port))
      if (!byServer) return vs
      return {
        ...vs,
        realServers: vs.realServers.map((r) => {
          const c = byServer.get(`${canonicalIP(r.ip)}|${r.port}`)
          return c ? {...r, counters: c} : r
        }),
      }
    }),
  }
}
