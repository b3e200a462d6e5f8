// Resolves a Service's DNS name the way cluster DNS answers it, but from the API objects read (never a
// DNS query): a normal Service's cluster IPs, a headless Service's ready pod IPs (each traced as a pod
// IP), an ExternalName's target (an IP traced as that address; a cluster name followed; an outside
// name ends the trace).
import type {V1Service} from '@kubernetes/client-node'
import {canonicalIP, isIP} from './address.js'
import {clusterIPsOf, keyOf, protocolOf, type ClusterIndex} from './cluster-index.js'
import {parseServiceDnsName} from './dns-name.js'
import {addressOwner, resolveAddress, type Entry, type Resolution} from './entries.js'
import {isReady} from './kube-proxy/endpoint-conditions.js'
import type {Protocol, Query} from './model.js'

type NameQuery = Extract<Query, {kind: 'name'}>

// An ExternalName may point at another Service's name; a chain longer than this is a loop.
const MAX_CNAMES = 8

/** The protocols to trace: the one given, else every protocol the Service has a port of (UDP and TCP 53 for cluster DNS). */
function protocolsOf(svc: V1Service, q: {protocol?: Protocol}): Protocol[] {
  if (q.protocol) return [q.protocol]
  const all = [...new Set((svc.spec?.ports ?? []).map(protocolOf))]
  return all.length > 0 ? all : ['TCP']
}

/** Several resolutions as one: sentences once each, entries in order, each Service once. */
function merged(parts: Resolution[]): Resolution {
  const sentences = [...new Set(parts.flatMap((p) => (p.summary ? [p.summary] : [])))]
  const services = new Map(parts.flatMap((p) => p.services.map((s) => [keyOf(s), s] as const)))
  return {summary: sentences.join('; '), entries: parts.flatMap((p) => p.entries), services: [...services.values()], unowned: parts.every((p) => p.unowned)}
}

/**
 * The addresses cluster DNS answers for a headless Service: its endpoints' (ready ones, or all with
 * publishNotReadyAddresses), each an entry traced as a pod IP on the Service's ports (or on `port`).
 */
export function headlessEntries(
  idx: ClusterIndex,
  svc: V1Service,
  q: {port?: number},
  protocols: Protocol[] = protocolsOf(svc, {}),
): {ips: string[]; entries: Entry[]} {
  const all = svc.spec?.publishNotReadyAddresses === true
  const ips = new Set<string>()
  const entries: Entry[] = []
  const seen = new Set<string>()
  for (const slice of idx.slicesByService.get(keyOf(svc)) ?? []) {
    const ports = (slice.ports ?? []).filter((p) => protocols.includes(protocolOf(p)))
    // A port given is dialled on the pod itself; otherwise each of the slice's ports (or none).
    const targets: Array<{port?: number; protocol: Protocol}> =
      q.port !== undefined
        ? protocols.map((protocol) => ({port: q.port, protocol}))
        : ports.length > 0
          ? ports.map((p) => ({...(p.port != null ? {port: p.port} : {}), protocol: protocolOf(p)}))
          : protocols.map((protocol) => ({protocol}))
    for (const ep of slice.endpoints ?? []) {
      if (!all && !isReady(ep)) continue
      for (const a of ep.addresses) {
        const ip = canonicalIP(a)
        ips.add(ip)
        for (const t of targets) {
          const key = `${ip} ${t.port ?? ''} ${t.protocol}`
          if (seen.has(key)) continue
          seen.add(key)
          entries.push({destination: {ip, ...t}, kind: 'pod-ip', from: ['node']})
        }
      }
    }
  }
  return {ips: [...ips], entries}
}

function resolveService(idx: ClusterIndex, svc: V1Service, q: NameQuery, depth: number): Resolution {
  const key = keyOf(svc)
  const protocols = protocolsOf(svc, q)
  const portGiven = q.port !== undefined
  const at = (ip: string, protocol: Protocol) => ({ip, ...(q.port !== undefined ? {port: q.port} : {}), protocol})
  if (svc.spec?.type === 'ExternalName') {
    const target = svc.spec.externalName?.trim() ?? ''
    const head = `${q.name} is ExternalName Service ${key}: cluster DNS answers with`
    if (isIP(target)) {
      const r = merged(protocols.map((p) => addressOwner(idx, at(canonicalIP(target), p), portGiven)))
      // CoreDNS answers with a CNAME to the literal text, which no resolver follows: traced as the address the owner meant.
      return {
        ...r,
        summary: `${head} a CNAME to "${target}", an IP where a DNS name belongs (clients get no address); traced as ${target}; ${r.summary}`,
        services: [svc, ...r.services],
      }
    }
    const next = parseServiceDnsName(target)
    const other = 'error' in next || !target.includes('.svc') ? undefined : idx.serviceByKey.get(`${next.namespace}/${next.name}`)
    if (other && depth < MAX_CNAMES) {
      const r = resolveService(idx, other, {...q, name: target}, depth + 1)
      return {...r, summary: `${head} a CNAME to ${target}; ${r.summary}`, services: [svc, ...r.services]}
    }
    const why =
      depth >= MAX_CNAMES
        ? 'ExternalName Services point at each other in a loop'
        : 'a name outside the cluster: its own DNS answers it, and kube-proxy has no rules for it'
    return {summary: `${head} a CNAME to "${target}", ${why}; nothing to trace`, entries: [], services: [svc], unowned: false}
  }
  const vips = clusterIPsOf(svc)
  if (vips.length === 0) {
    const {ips, entries} = headlessEntries(idx, svc, q, protocols)
    const answer =
      ips.length > 0
        ? `its pod IPs ${ips.join(', ')}, each traced as a pod IP (routed to the pod directly, not through kube-proxy)`
        : 'no address: the Service has no ready endpoint, so the name does not resolve'
    return {summary: `${q.name} is headless Service ${key}: cluster DNS answers with ${answer}`, entries, services: [svc], unowned: false}
  }
  const r = merged(vips.flatMap((ip) => protocols.map((p) => resolveAddress(idx, at(ip, p), portGiven))))
  return {...r, summary: `${q.name} resolves to ${vips.join(' and ')}; ${r.summary}`}
}

/** The entries a Service DNS name resolves to; undefined when no such Service was read. */
export function resolveName(idx: ClusterIndex, q: NameQuery): Resolution | undefined {
  const svc = idx.serviceByKey.get(`${q.namespace}/${q.service}`)
  return svc ? resolveService(idx, svc, q, 0) : undefined
}
