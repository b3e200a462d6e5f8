// --conntrack: connection-tracking entries that still send a Service's traffic to an address that is
// no longer one of its endpoints. The kernel translates only a connection's first packet; later
// packets follow the entry. kube-proxy deletes UDP entries of endpoints it removes, but when that
// fails (a missing conntrack binary, a race with the rule sync) every client that keeps its source
// port (a resolver's long-lived socket) keeps sending to the old pod: the classic after a CoreDNS pod
// moved. Each (Service address, port, old reply source) on a node is one finding, with the count and
// the `conntrack -D` that clears exactly those entries, printed and never run.
import type {V1Service} from '@kubernetes/client-node'
import {familyOf} from '../address.js'
import {apiBackends} from '../api-backends.js'
import {clusterIPsOf, externalIPsOf, keyOf, loadBalancerIPsOf, protocolOf, type ClusterIndex} from '../cluster-index.js'
import {captureOf, captureText} from '../captures.js'
import {parseConntrack, type ConntrackEntry, type ConntrackTable} from '../conntrack/parse.js'
import type {ConntrackSummary, Finding, NodeDataplane} from '../model.js'
import {finding} from './catalog.js'

/** One Service port at one of its addresses, and the endpoints (`ip port`) it may send to now. */
interface Target {
  service: string
  endpoints: Set<string>
  /** The endpoint addresses alone: a reply source among them is stale only on its old port. */
  addresses: Set<string>
}

const TRACKED = new Set(['tcp', 'udp', 'sctp'])
// TCP entries that only wait to expire (a connection closed before the pod went): harmless.
const CLOSING = new Set(['FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE'])

const targetKey = (protocol: string, ip: string, port: number | undefined) => `${protocol} ${ip} ${port ?? ''}`

/** Every (protocol, address, port) of the Services, with the endpoint addresses and ports each may reach. */
function targetsOf(idx: ClusterIndex, services: readonly V1Service[]): Map<string, Target> {
  const targets = new Map<string, Target>()
  for (const svc of services) {
    const addresses = [...clusterIPsOf(svc), ...externalIPsOf(svc), ...loadBalancerIPsOf(svc)]
    if (addresses.length === 0) continue
    // Ready or still serving while terminating: kube-proxy keeps (and does not flush) entries to these.
    const backends = apiBackends(idx, svc).filter((b) => b.conditions.ready || b.conditions.serving)
    for (const port of svc.spec?.ports ?? []) {
      const protocol = protocolOf(port)
      const target: Target = {service: keyOf(svc), endpoints: new Set(), addresses: new Set()}
      for (const b of backends) {
        const p = b.ports.find((bp) => bp.name === (port.name ?? '') && bp.protocol === protocol)
        if (p?.port == null) continue
        target.endpoints.add(`${b.ip} ${p.port}`)
        target.addresses.add(b.ip)
      }
      for (const ip of addresses) targets.set(targetKey(protocol.toLowerCase(), ip, port.port), target)
    }
  }
  return targets
}

interface Group {
  service: string
  protocol: string
  vip: string
  port: number
  replySource: string
  /** Set when the reply source is still an endpoint, on another port: only this old port is stale. */
  replyPort?: number
  entries: ConntrackEntry[]
}

/** The command that deletes the entries of one group (every value is a parsed address, port or protocol). */
function deleteCommand(g: Group): string {
  const family = familyOf(g.vip) === 6 ? ['-f', 'ipv6'] : []
  const replyPort = g.replyPort !== undefined ? ['--reply-port-src', String(g.replyPort)] : []
  return [
    'conntrack',
    '-D',
    ...family,
    '-p',
    g.protocol,
    '--orig-dst',
    g.vip,
    '--orig-port-dst',
    String(g.port),
    '--reply-src',
    g.replySource,
    ...replyPort,
  ].join(' ')
}

/** Stale entries of one node's table, grouped by Service address, port and reply source; and how many were for the Services at all. */
function staleGroups(table: ConntrackTable, targets: Map<string, Target>): {groups: Group[]; forServices: number} {
  const groups = new Map<string, Group>()
  let forServices = 0
  for (const e of table.entries) {
    if (!TRACKED.has(e.protocol) || e.original.dport === undefined) continue
    const target = targets.get(targetKey(e.protocol, e.original.dst, e.original.dport))
    if (!target) continue
    forServices++
    if (target.endpoints.has(`${e.reply.src} ${e.reply.sport ?? ''}`)) continue
    if (e.protocol === 'tcp' && e.state !== undefined && CLOSING.has(e.state)) continue
    const replyPort = target.addresses.has(e.reply.src) ? e.reply.sport : undefined
    const key = `${target.service} ${e.protocol} ${e.original.dst} ${e.original.dport} ${e.reply.src} ${replyPort ?? ''}`
    const group = groups.get(key)
    if (group) group.entries.push(e)
    else {
      const {service} = target
      groups.set(key, {
        service,
        protocol: e.protocol,
        vip: e.original.dst,
        port: e.original.dport,
        replySource: e.reply.src,
        ...(replyPort !== undefined ? {replyPort} : {}),
        entries: [e],
      })
    }
  }
  return {groups: [...groups.values()], forServices}
}

function staleFinding(node: string, source: string, g: Group, target: Target | undefined): Finding {
  const n = g.entries.length
  const where = `${g.vip}:${g.port}/${g.protocol.toUpperCase()}`
  const untranslated = g.replySource === g.vip
  const to = untranslated
    ? 'to no endpoint (the entries were made before any DNAT rule matched)'
    : g.replyPort !== undefined
      ? `to ${g.replySource} port ${g.replyPort}, which is no longer the endpoint's port`
      : `to ${g.replySource}, which is no endpoint of ${g.service}`
  const ports = [...new Set(g.entries.map((e) => e.reply.sport).filter((p) => p !== undefined))].join(', ')
  const endpoints = [...(target?.endpoints ?? [])].map((e) => e.replace(' ', ':'))
  return finding('conntrack-stale-endpoint', {
    message: `${n} conntrack ${n === 1 ? 'entry' : 'entries'} on ${node} still send ${where} ${to}; run the command on ${node} to delete ${n === 1 ? 'it' : 'them'}`,
    service: g.service,
    node,
    evidence: [
      `${source}:${g.entries[0]?.line ?? 0}: reply source ${g.replySource}${ports ? ` port ${ports}` : ''}${g.entries.some((e) => e.flags.includes('UNREPLIED')) ? ', unreplied' : ''}`,
      `the endpoints of ${g.service} for this port now: ${endpoints.length > 0 ? endpoints.join(', ') : 'none'}`,
    ],
    command: deleteCommand(g),
  })
}

/** What --conntrack found: findings, and per node what its table held. */
export interface ConntrackCheck {
  findings: Finding[]
  summaries: Map<string, ConntrackSummary>
}

/** Checks the conntrack entries each node holds against the Services' endpoints; a node without a table is skipped (or reported when its read failed). */
export function conntrackStaleEndpoints(idx: ClusterIndex, services: readonly V1Service[], dataplanes: readonly NodeDataplane[]): ConntrackCheck {
  const out: ConntrackCheck = {findings: [], summaries: new Map()}
  // Every Service's addresses, made only when some node's conntrack table was read (most runs read none).
  let targets: ReturnType<typeof targetsOf> | undefined
  for (const dp of dataplanes) {
    if (dp.readError !== undefined) continue
    if (dp.conntrackError !== undefined) {
      out.findings.push(finding('conntrack-not-read', {message: `${dp.name}: connection tracking was not read: ${dp.conntrackError}`, node: dp.name}))
    }
    const capture = captureOf(dp, 'conntrack')
    if (!capture) continue
    const table = parseConntrack(captureText(capture), capture.source)
    targets ??= targetsOf(idx, services)
    const {groups, forServices} = staleGroups(table, targets)
    for (const g of groups) out.findings.push(staleFinding(dp.name, table.source, g, targets.get(targetKey(g.protocol, g.vip, g.port))))
    if (table.unread.length > 0) {
      const n = table.unread.length
      out.findings.push(
        finding('conntrack-not-read', {
          message: `${dp.name}: ${n} ${n === 1 ? 'line' : 'lines'} of ${table.source} ${n === 1 ? 'is' : 'are'} no conntrack entry svctrace can read, so stale entries there are not counted`,
          node: dp.name,
          evidence: table.unread.slice(0, 3).map((u) => `${table.source}:${u.line}: ${u.reason}: ${u.text.slice(0, 120)}`),
        }),
      )
    }
    const stale = groups.reduce((sum, g) => sum + g.entries.length, 0)
    out.summaries.set(dp.name, {source: table.source, entries: table.entries.length, forServices, stale, unread: table.unread.length})
  }
  return out
}
