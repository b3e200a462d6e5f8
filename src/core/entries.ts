// Turns a query into the entry points to trace on each node: every address and port by which
// traffic can reach a Service, or what owns the address given with --ip.
import type {V1Node, V1Service} from '@kubernetes/client-node'
import {cidrContains, familyOf, isLoopback, joinHostPort, parseCidr} from './address.js'
import {
  clusterIPsOf,
  externalIPsOf,
  keyOf,
  loadBalancerIPsOf,
  nodeAddresses,
  nodeAddressOf,
  protocolOf,
  serviceFamilies,
  type ClusterIndex,
} from './cluster-index.js'
import type {Destination, EntryKind, Protocol, SourceKind} from './model.js'
import {externalNamesOf, servicesWithEndpoint} from './named-by.js'

/** One address to trace, and which sources to trace it from. */
export interface Entry {
  destination: Destination
  kind: EntryKind
  service?: V1Service
  /** The Service port the entry belongs to (name '' for an unnamed port); absent with `service` when the Service has no such port. */
  servicePort?: {name: string; port: number}
  /** Only this node (node ports are traced on the node that owns the address). */
  node?: string
  from: SourceKind[]
}

/** What owns an address, in a sentence, with the entries to trace. */
export interface Resolution {
  summary?: string
  entries: Entry[]
  services: V1Service[]
  /** True when nothing in the cluster owns the address. */
  unowned: boolean
}

const CLUSTER_SOURCES: SourceKind[] = ['pod', 'node']
const NODE_PORT_SOURCES: SourceKind[] = ['external', 'node']
// In-cluster clients often dial the load balancer or external IP too (hairpin, source ranges).
const EXTERNAL_SOURCES: SourceKind[] = ['external', 'pod', 'node']

function portLabel(name: string, port: number, protocol: Protocol): string {
  return `${name ? `${name} ` : ''}${port}/${protocol}`
}

/** Every entry point of every port of one Service. */
export function serviceEntries(svc: V1Service, nodes: V1Node[]): Entry[] {
  const entries: Entry[] = []
  const families = serviceFamilies(svc)
  for (const p of svc.spec?.ports ?? []) {
    const protocol = protocolOf(p)
    const base = {service: svc, servicePort: {name: p.name ?? '', port: p.port}}
    for (const ip of clusterIPsOf(svc)) {
      entries.push({...base, destination: {ip, port: p.port, protocol}, kind: 'cluster-ip', from: CLUSTER_SOURCES})
    }
    if (p.nodePort) {
      for (const node of nodes) {
        // Each family's proxier answers the node port on the node's addresses of that family.
        const ips = families.length > 0 ? families.flatMap((f) => nodeAddressOf(node, f) ?? []) : nodeAddresses(node).slice(0, 1)
        const name = node.metadata?.name
        const only = name !== undefined ? {node: name} : {}
        for (const ip of ips) entries.push({...base, destination: {ip, port: p.nodePort, protocol}, kind: 'node-port', ...only, from: NODE_PORT_SOURCES})
        // kube-proxy's iptables mode also answers IPv4 node ports on 127.0.0.1 (route_localnet), never on ::1; nftables mode does not.
        const ipv4 = families.length > 0 ? families.includes(4) : ips.every((ip) => familyOf(ip) === 4)
        if (ipv4) entries.push({...base, destination: {ip: '127.0.0.1', port: p.nodePort, protocol}, kind: 'node-port', ...only, from: ['node']})
      }
    }
    for (const ip of externalIPsOf(svc)) {
      entries.push({...base, destination: {ip, port: p.port, protocol}, kind: 'external-ip', from: EXTERNAL_SOURCES})
    }
    for (const ip of loadBalancerIPsOf(svc)) {
      entries.push({...base, destination: {ip, port: p.port, protocol}, kind: 'load-balancer', from: EXTERNAL_SOURCES})
    }
  }
  return entries
}

function describeService(svc: V1Service): string {
  return `Service ${keyOf(svc)} (${svc.spec?.type ?? 'ClusterIP'})`
}

/**
 * Resolves `--ip IP[:PORT][/PROTO]`: a service VIP, a node address (with its node ports), a pod,
 * or nothing. Entries for a VIP without a port cover every port of the owning Service. An
 * ExternalName Service pointing at the address is named too (and its findings reported).
 */
export function resolveAddress(idx: ClusterIndex, dest: Destination, portGiven: boolean): Resolution {
  const owned = addressOwner(idx, dest, portGiven)
  const named = externalNamesOf(idx, dest.ip)
  if (named.length === 0) return owned
  const names = named.map((s) => `ExternalName Service ${keyOf(s)}`).join(', ')
  const target = `${dest.ip} is the target of ${names} (written where a DNS name belongs: cluster DNS answers a CNAME to "${dest.ip}", which does not resolve); kube-proxy writes no rules for an ExternalName`
  return {
    summary: owned.unowned ? `${target}, so packets to it are routed like to any address` : `${owned.summary ?? ''}; ${target}`,
    entries: owned.entries,
    services: [...owned.services, ...named],
    unowned: false,
  }
}

/** The Services whose endpoints include the address, as a clause (`it is an endpoint of Service a/b`). */
function endpointClause(idx: ClusterIndex, ip: string): string {
  const services = servicesWithEndpoint(idx, ip)
  if (services.length === 0) return 'it is no endpoint of any Service'
  return `it is an endpoint of Service${services.length === 1 ? '' : 's'} ${services.join(', ')}`
}

/** What owns the address (a Service VIP, a node, a pod, or nothing), before ExternalName Services pointing at it are named. */
export function addressOwner(idx: ClusterIndex, dest: Destination, portGiven: boolean): Resolution {
  const owners = idx.owners.get(dest.ip) ?? []
  if (owners.length > 0) {
    const services = [...new Set(owners.map((o) => o.service))]
    const entries: Entry[] = []
    const notes: string[] = []
    for (const owner of owners) {
      const kindText = {'cluster-ip': 'cluster IP', 'external-ip': 'external IP', 'load-balancer': 'load-balancer ingress IP'}[owner.kind]
      notes.push(`${dest.ip} is the ${kindText} of ${describeService(owner.service)}`)
      const ports = (owner.service.spec?.ports ?? []).filter((p) => protocolOf(p) === dest.protocol && (!portGiven || p.port === dest.port))
      const from = owner.kind === 'cluster-ip' ? CLUSTER_SOURCES : EXTERNAL_SOURCES
      for (const p of ports) {
        entries.push({destination: {...dest, port: p.port}, kind: owner.kind, service: owner.service, servicePort: {name: p.name ?? '', port: p.port}, from})
      }
      // No such port (or none of the protocol): traced anyway, without servicePort, to show what the rules do with it.
      if (ports.length === 0) {
        const have = (owner.service.spec?.ports ?? []).map((p) => portLabel(p.name ?? '', p.port, protocolOf(p))).join(', ')
        const wanted = portGiven ? `port ${dest.port}/${dest.protocol}` : `${dest.protocol} port`
        notes.push(`it has no ${wanted} (ports: ${have || 'none'})`)
        entries.push({destination: dest, kind: owner.kind, service: owner.service, from})
      }
    }
    return {summary: notes.join('; '), entries, services, unowned: false}
  }
  if (isLoopback(dest.ip)) {
    const refs = [...idx.nodePorts.values()].flat().filter((r) => r.protocol === dest.protocol && (!portGiven || r.nodePort === dest.port))
    const entries: Entry[] = refs.map((r) => ({
      destination: {ip: dest.ip, port: r.nodePort, protocol: r.protocol},
      kind: 'node-port',
      service: r.service,
      servicePort: {name: r.portName, port: r.port},
      from: ['node'],
    }))
    if (entries.length === 0) entries.push({destination: dest, kind: 'address', from: ['node']})
    const owners = refs.map((r) => `node port ${r.nodePort}/${r.protocol} belongs to ${describeService(r.service)}`)
    return {
      summary: `${dest.ip} is the loopback address of every node, traced from each node itself${owners.length ? `; ${owners.join('; ')}` : portGiven ? `; no Service has node port ${dest.port}/${dest.protocol}` : ''}`,
      entries,
      services: [...new Set(refs.map((r) => r.service))],
      unowned: false,
    }
  }
  const node = idx.nodeByIP.get(dest.ip)
  if (node) {
    const name = node.metadata?.name ?? ''
    const refs = [...idx.nodePorts.values()].flat().filter((r) => r.protocol === dest.protocol && (!portGiven || r.nodePort === dest.port))
    const entries: Entry[] = refs.map((r) => ({
      destination: {ip: dest.ip, port: r.nodePort, protocol: r.protocol},
      kind: 'node-port',
      service: r.service,
      servicePort: {name: r.portName, port: r.port},
      node: name,
      from: NODE_PORT_SOURCES,
    }))
    let summary = `${dest.ip} is an address of node ${name}`
    if (refs.length > 0) summary += `; ${refs.map((r) => `node port ${r.nodePort}/${r.protocol} belongs to ${describeService(r.service)}`).join('; ')}`
    else if (portGiven) summary += `; no Service has node port ${dest.port}/${dest.protocol}`
    if (entries.length === 0 && portGiven) entries.push({destination: dest, kind: 'address', node: name, from: NODE_PORT_SOURCES})
    return {summary, entries, services: [...new Set(refs.map((r) => r.service))], unowned: false}
  }
  const pod = idx.podByIP.get(dest.ip)
  if (pod) {
    const summary = `${dest.ip} is the IP of pod ${keyOf(pod)} on node ${pod.spec?.nodeName ?? '(unscheduled)'}: traffic to it is routed to the pod directly, not through kube-proxy; ${endpointClause(idx, dest.ip)}`
    return {summary, entries: [{destination: dest, kind: 'pod-ip', from: ['node']}], services: [], unowned: false}
  }
  const endpointOf = servicesWithEndpoint(idx, dest.ip).length > 0 ? `; ${endpointClause(idx, dest.ip)}` : ''
  return {
    summary: `nothing in the cluster owns ${portGiven && dest.port !== undefined ? joinHostPort(dest.ip, dest.port) : dest.ip}: it is no Service's cluster, external or load-balancer IP, no node's address and no pod's IP${endpointOf}`,
    entries: [{destination: dest, kind: 'address', from: ['node']}],
    services: [],
    unowned: true,
  }
}

/** True when `ip` is inside one of the CIDRs. */
export function inAnyNetwork(ip: string, networks: string[]): boolean {
  const addr = parseCidr(ip)
  if (!addr) return false
  return networks.some((n) => {
    const net = parseCidr(n)
    return net !== undefined && cidrContains(net, addr)
  })
}
