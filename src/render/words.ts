// Words and numbers every view prints the same way: shares, verdicts, client kinds, entry kinds.
import type {ChalkInstance} from 'chalk'
import type {Backend, EntryKind, ServiceVerdict, SourceKind, TracePath, TrafficCounters, Verdict} from '../core/model.js'
import {clean} from './style.js'

/** A share as a percentage with at most one decimal (33.3%, 50%). */
export function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`
}

const VERDICT: Record<Verdict, string> = {dnat: 'DNAT', reject: 'REJECT', drop: 'DROP', 'no-match': 'NO MATCH', 'not-a-service': 'NOT A SERVICE'}

/**
 * The colour of a verdict: green when traffic gets through, red when it is refused or dropped,
 * yellow otherwise; a drop is coloured like the finding about it (`severity`: info is a source range
 * keeping an assumed client out).
 */
export function verdictPaint(v: Verdict, c: ChalkInstance, severity?: 'warning' | 'info'): (text: string) => string {
  if (v === 'dnat') return c.green
  if (severity) return severity === 'info' ? c.cyan : c.yellow
  if (v === 'reject' || v === 'drop') return c.red
  return c.yellow
}

/** The verdict in capitals. */
export function verdictWord(v: Verdict): string {
  return VERDICT[v]
}

const FROM: Record<SourceKind, string> = {pod: 'pod', external: 'outside', node: 'node'}

/** How a kind of client is called in a FROM column. */
export function fromWord(from: SourceKind): string {
  return FROM[from]
}

const ENTRY: Record<EntryKind, string> = {
  'cluster-ip': 'cluster IP',
  'node-port': 'node port',
  'external-ip': 'external IP',
  'load-balancer': 'load balancer',
  'pod-ip': 'pod IP',
  address: 'address',
}

/** How an entry kind is called. */
export function entryWord(kind: EntryKind): string {
  return ENTRY[kind]
}

/** A pod as `namespace/name`, or by name alone when it is in `namespace`. */
export function podName(pod: string, namespace?: string): string {
  return clean(namespace && pod.startsWith(`${namespace}/`) ? pod.slice(namespace.length + 1) : pod)
}

/** Who a backend is: the pod (without the namespace when it is `namespace`), the API server, a node, or an address nothing owns. */
export function backendName(b: Backend, namespace?: string): string {
  if (b.role === 'api-server') return 'API server'
  if (b.pod) return podName(b.pod, namespace)
  if (b.node) return `node ${clean(b.node)}`
  return 'unknown IP'
}

// A byte count in decimal units (512 B, 547.2 kB, 1.3 GB).
function byteSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB']
  let v = bytes
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`
}

/** What the dump counted for a backend: `9,120 pkts / 547.2 kB` (IPVS: connections first). */
export function countersText(c: TrafficCounters): string {
  const n = (x: number) => x.toLocaleString('en-US')
  return `${c.connections !== undefined ? `${n(c.connections)} conns, ` : ''}${n(c.packets)} pkts / ${byteSize(c.bytes)}`
}

/** A backend's share of new connections, with its IPVS weight. */
export function configuredShare(b: Backend): string {
  return `${percent(b.probability)}${b.weight !== undefined ? ` (weight ${b.weight})` : ''}`
}

/** The configured share and, when the dump has them, the backend's counters next to it. */
export function shareText(b: Backend): string {
  return `${configuredShare(b)}${b.counters ? `, ${countersText(b.counters)}` : ''}`
}

const STATUS: Record<ServiceVerdict['status'], string> = {ok: 'OK', warning: 'WARNING', broken: 'BROKEN'}

/** A Service's status in capitals. */
export function statusWord(s: ServiceVerdict['status']): string {
  return STATUS[s]
}

/** The status word, coloured. */
export function statusLabel(s: ServiceVerdict['status'], c: ChalkInstance): string {
  return s === 'ok' ? c.green(STATUS[s]) : s === 'warning' ? c.yellow(STATUS[s]) : c.red(STATUS[s])
}

/** `n thing` or `n things`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`
}

/** How a path found its Service, for a fact list: `16 rules passed` (iptables), `map lookup` (nftables), `hash lookup` (IPVS). */
export function lookupText(p: Pick<TracePath, 'lookup' | 'rulesPassed'>): string | undefined {
  if (p.lookup === 'rules') return p.rulesPassed === undefined ? undefined : plural(p.rulesPassed, 'rule') + ' passed'
  return p.lookup === undefined ? undefined : `${p.lookup} lookup`
}
