// Renders the iptables-restore input kube-proxy v1.26 (iptables mode) writes for one node, for one IP
// family: kube-proxy runs one proxier per family, the IPv4 one feeding iptables-restore and the IPv6
// one ip6tables-restore (`family: 6`). Test-fixture support: it mirrors pkg/proxy/iptables/proxier.go
// syncProxyRules() of v1.26.1, plus the EnsureChain/EnsureRule set-up done outside the restore data,
// so the text can be loaded into a network namespace with the real iptables-restore (ip6tables-restore).
// It depends only on node:crypto and the project's own chain-name and address helpers, so `tsc` can
// compile it for scripts/render-example-dumps.mjs.
import type {V1EndpointSlice, V1Node, V1Pod, V1Service} from '@kubernetes/client-node'

/** The API objects kube-proxy watches (pods and nodes are accepted, as in a ClusterView, but unused). */
export interface KubeProxyClusterInput {
  services: V1Service[]
  endpointSlices: V1EndpointSlice[]
  pods?: V1Pod[]
  nodes?: V1Node[]
}

/** kube-proxy flags that change the rules. */
export interface KubeProxyRulesOptions {
  /** --cluster-cidr for the ClusterCIDR local detector; '' means no detector. */
  clusterCIDR: string
  /** The node's addresses of the family; the first is kube-proxy's node IP (source-range check). */
  nodeIPs: string[]
  /**
   * The proxier's IP family (default 4). Each proxier programs only Services with a cluster IP of
   * its family, with that family's external IPs, load-balancer IPs, source ranges and EndpointSlices
   * (addressType IPv4 / IPv6; an IPv6 endpoint is `[addr]:port`), and IPv6 never answers node ports
   * on ::1 (`! -d ::1/128` on the KUBE-NODEPORTS tail rule). --cluster-cidr is that family's CIDR.
   */
  family?: 4 | 6
  /** --iptables-masquerade-bit, default 14 (mark 0x00004000). */
  masqueradeBit?: number
  /** --nodeport-addresses CIDRs; empty (default) means every local address (`--dst-type LOCAL`). */
  nodePortAddresses?: string[]
  /** --masquerade-all. */
  masqueradeAll?: boolean
  /** --iptables-localhost-nodeports, default true. */
  localhostNodePorts?: boolean
  /** Whether iptables supports MASQUERADE --random-fully (1.6.2+); default true, kube-proxy's fake says false. */
  randomFully?: boolean
  /** Include the EnsureChain/EnsureRule part (built-in chain jumps, KUBE-PROXY-CANARY); default true. */
  hookups?: boolean
}

// The names come from the project's own implementation, which the sample tests pin down.
export {endpointChainName, kubeProxyHash, servicePortChainName} from '../../src/core/kube-proxy/chain-names.js'
import {endpointChainName, servicePortChainName} from '../../src/core/kube-proxy/chain-names.js'

import {cidrContains as cidrHolds, joinHostPort, parseCidr} from '../../src/core/address.js'

function cidrContains(cidr: string, ip: string): boolean {
  const net = parseCidr(cidr.trim())
  const addr = parseCidr(ip.trim())
  return net !== undefined && addr !== undefined && !ip.includes('/') && cidrHolds(net, addr)
}
/** A plain address (no prefix) of the family. */
const isIP = (ip: string, family: 4 | 6) => !ip.includes('/') && parseCidr(ip.trim())?.family === family
/** A CIDR (or address) of the family. */
const isCidr = (cidr: string, family: 4 | 6) => parseCidr(cidr.trim())?.family === family

/** One endpoint of one service port, with conditions defaulted as kube-proxy does. */
interface EndpointInfo {
  ip: string
  /** `IP:port` (`[IPv6]:port`): the sort key, the comment text and part of the SEP hash. */
  endpoint: string
  isLocal: boolean
  ready: boolean
  serving: boolean
  terminating: boolean
  chain: string
}

/** What kube-proxy keeps per service port (pkg/proxy/service.go BaseServicePortInfo). */
interface ServicePortInfo {
  spn: string
  protocol: string
  clusterIP: string
  port: number
  nodePort: number
  externalIPs: string[]
  lbIPs: string[]
  sourceRanges: string[]
  healthCheckNodePort: number
  affinitySeconds: number | undefined
  externalPolicyLocal: boolean
  internalPolicyLocal: boolean
  endpoints: EndpointInfo[]
}

function externallyAccessible(s: ServicePortInfo): boolean {
  return s.nodePort !== 0 || s.lbIPs.length > 0 || s.externalIPs.length > 0
}
const usesClusterEndpoints = (s: ServicePortInfo) => !s.internalPolicyLocal || externallyAccessible(s)
const usesLocalEndpoints = (s: ServicePortInfo) => s.internalPolicyLocal || (s.externalPolicyLocal && externallyAccessible(s))

/** Endpoints of every `ns/svc` + slice port name + protocol, merged over slices, deduplicated by IP:port. */
function indexEndpoints(slices: V1EndpointSlice[], nodeName: string, family: 4 | 6): Map<string, Map<string, Omit<EndpointInfo, 'chain'>>> {
  const byPort = new Map<string, Map<string, Omit<EndpointInfo, 'chain'>>>()
  for (const slice of slices) {
    const service = slice.metadata?.labels?.['kubernetes.io/service-name']
    if (!service || slice.addressType !== `IPv${family}`) continue
    for (const port of slice.ports ?? []) {
      // kube-proxy skips ports without a name pointer or number (an unnamed port is name: "").
      if (port.name === undefined || port.name === null || !port.port) continue
      const key = `${slice.metadata?.namespace}/${service}|${port.name}|${port.protocol ?? 'TCP'}`
      const set = byPort.get(key) ?? new Map<string, Omit<EndpointInfo, 'chain'>>()
      byPort.set(key, set)
      for (const ep of slice.endpoints ?? []) {
        const ip = ep.addresses?.[0]
        if (!ip || !isIP(ip, family)) continue
        const isLocal = ep.nodeName !== undefined && ep.nodeName === nodeName
        const endpoint = joinHostPort(ip, port.port)
        if (set.has(endpoint) && !isLocal) continue
        set.set(endpoint, {
          ip,
          endpoint,
          isLocal,
          ready: ep.conditions?.ready ?? true,
          serving: ep.conditions?.serving ?? true,
          terminating: ep.conditions?.terminating ?? false,
        })
      }
    }
  }
  return byPort
}

/** Every service port the family's proxier programs, sorted by name so the output is deterministic. */
function collectServicePorts(cluster: KubeProxyClusterInput, nodeName: string, family: 4 | 6): ServicePortInfo[] {
  const endpointIndex = indexEndpoints(cluster.endpointSlices, nodeName, family)
  const out: ServicePortInfo[] = []
  const ofFamily = (ip: string) => isIP(ip, family)
  for (const svc of cluster.services) {
    const spec = svc.spec ?? {}
    const clusterIP = [spec.clusterIP, ...(spec.clusterIPs ?? [])].find((ip) => ip && ofFamily(ip))
    if (spec.type === 'ExternalName' || !clusterIP) continue // headless, ExternalName, no cluster IP of this family
    // kube-proxy's informer skips Services that ask for another proxy (service.kubernetes.io/service-proxy-name).
    if (svc.metadata?.labels?.['service.kubernetes.io/service-proxy-name'] !== undefined) continue
    const external = spec.type === 'NodePort' || spec.type === 'LoadBalancer'
    const etpLocal = external && spec.externalTrafficPolicy === 'Local'
    const ns = svc.metadata?.namespace ?? 'default'
    const name = svc.metadata?.name ?? ''
    for (const port of spec.ports ?? []) {
      const spn = port.name ? `${ns}/${name}:${port.name}` : `${ns}/${name}`
      const protocol = (port.protocol ?? 'TCP').toLowerCase()
      const found = endpointIndex.get(`${ns}/${name}|${port.name ?? ''}|${port.protocol ?? 'TCP'}`)
      const endpoints = [...(found?.values() ?? [])]
        .sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0))
        .map((ep) => ({...ep, chain: endpointChainName(spn, protocol, ep.endpoint)}))
      out.push({
        spn,
        protocol,
        clusterIP,
        port: port.port,
        nodePort: port.nodePort ?? 0,
        externalIPs: (spec.externalIPs ?? []).filter(ofFamily),
        lbIPs: (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(ofFamily),
        sourceRanges: (spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter((r) => isCidr(r, family)),
        healthCheckNodePort: spec.type === 'LoadBalancer' && etpLocal ? (spec.healthCheckNodePort ?? 0) : 0,
        affinitySeconds: spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : undefined,
        externalPolicyLocal: etpLocal,
        internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
        endpoints,
      })
    }
  }
  const key = (s: ServicePortInfo) => `${s.spn}\u0000${s.protocol}`
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}

/** pkg/proxy/topology.go CategorizeEndpoints (v1.26, no topology hints, ProxyTerminatingEndpoints on). */
function categorizeEndpoints(s: ServicePortInfo) {
  let cluster: EndpointInfo[] = []
  let local: EndpointInfo[] = []
  let hasAny = false
  if (usesClusterEndpoints(s)) {
    cluster = s.endpoints.filter((ep) => ep.ready)
    if (cluster.length === 0) cluster = s.endpoints.filter((ep) => ep.serving && ep.terminating)
    hasAny = cluster.length > 0
  }
  if (!usesLocalEndpoints(s)) return {cluster, local, reachable: cluster, hasAny}
  let localReady = false
  let localServingTerminating = false
  for (const ep of s.endpoints) {
    if (ep.ready) {
      hasAny = true
      localReady ||= ep.isLocal
    } else if (ep.serving && ep.terminating) {
      hasAny = true
      localServingTerminating ||= ep.isLocal
    }
  }
  if (localReady) local = s.endpoints.filter((ep) => ep.isLocal && ep.ready)
  else if (localServingTerminating) local = s.endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating)
  if (!usesClusterEndpoints(s)) return {cluster, local, reachable: local, hasAny}
  if (!localServingTerminating || localReady) return {cluster, local, reachable: cluster, hasAny}
  const merged = new Map([...cluster, ...local].map((ep) => [ep.endpoint, ep]))
  return {cluster, local, reachable: [...merged.values()].sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1)), hasAny}
}

const q = (text: string) => `"${text}"`

// EnsureRule(Prepend) jumps in the order kube-proxy v1.26 runs them (iptablesJumpChains); each is
// inserted at position 1, so the final order in a built-in chain is the reverse of this list.
const JUMPS: Array<[table: 'filter' | 'nat', from: string, to: string, comment: string, ctNew: boolean]> = [
  ['filter', 'INPUT', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', true],
  ['filter', 'FORWARD', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', true],
  ['filter', 'INPUT', 'KUBE-NODEPORTS', 'kubernetes health check service ports', false],
  ['filter', 'FORWARD', 'KUBE-SERVICES', 'kubernetes service portals', true],
  ['filter', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', true],
  ['filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules', false],
  ['filter', 'INPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', true],
  ['filter', 'OUTPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', true],
  ['filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', true],
  ['nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', false],
  ['nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals', false],
  ['nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules', false],
]

function hookupLines(table: 'filter' | 'nat'): string[] {
  const lines = [':KUBE-PROXY-CANARY - [0:0]']
  const jumps = JUMPS.filter((j) => j[0] === table).reverse()
  const builtins = [...new Set(jumps.map((j) => j[1]))]
  const order = table === 'filter' ? ['INPUT', 'FORWARD', 'OUTPUT'] : ['PREROUTING', 'OUTPUT', 'POSTROUTING']
  for (const chain of order.filter((c) => builtins.includes(c))) {
    for (const [, , to, comment, ctNew] of jumps.filter((j) => j[1] === chain)) {
      const ct = ctNew ? '-m conntrack --ctstate NEW ' : ''
      lines.push(`-A ${chain} ${ct}-m comment --comment ${q(comment)} -j ${to}`)
    }
  }
  return lines
}

/**
 * The restore text kube-proxy v1.26 writes for `nodeName` in one family (iptables-restore input for
 * IPv4, ip6tables-restore input for `family: 6`; `*filter` then `*nat`, input format:
 * no /32, `--or-mark`, `%0.10f` probabilities), preceded in each table by the chains and built-in
 * jumps it installs with EnsureChain/EnsureRule, and followed by the mangle canary (unless
 * `hookups: false`). Service ports are emitted sorted by name instead of in Go map order.
 */
export function renderKubeProxyRestore(cluster: KubeProxyClusterInput, nodeName: string, options: KubeProxyRulesOptions): string {
  const mark = `0x${(2 ** (options.masqueradeBit ?? 14)).toString(16).padStart(8, '0')}` // Go "%#08x"
  const cidr = options.clusterCIDR.trim()
  const nodeIP = options.nodeIPs[0] ?? ''
  const family = options.family ?? 4
  const ports = collectServicePorts(cluster, nodeName, family)
  const total = ports.reduce((n, s) => n + s.endpoints.length, 0)
  const comment = (text: string) => (total > 1000 ? '' : ` -m comment --comment ${text}`) // large-cluster mode

  const filterChains = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']
  const natChains = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']
  const filter: string[] = []
  const nat: string[] = [
    `-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`,
    `-A KUBE-POSTROUTING -m comment --comment ${q('kubernetes service traffic requiring SNAT')} -j MASQUERADE` +
      (options.randomFully === false ? '' : ' --random-fully'),
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`,
  ]

  for (const s of ports) {
    const {spn, protocol: p} = s
    const svcChain = servicePortChainName('SVC', spn, p)
    const svlChain = servicePortChainName('SVL', spn, p)
    const extChain = servicePortChainName('EXT', spn, p)
    const fwChain = servicePortChainName('FW', spn, p)
    const {cluster: clusterEps, local: localEps, reachable, hasAny} = categorizeEndpoints(s)
    const usesSVC = clusterEps.length > 0 && usesClusterEndpoints(s)
    const usesSVL = localEps.length > 0 && usesLocalEndpoints(s)
    const internalChain = s.internalPolicyLocal ? svlChain : svcChain
    const hasInternal = hasAny && !(s.internalPolicyLocal && localEps.length === 0)
    const hasExternal = hasAny && !(s.externalPolicyLocal && localEps.length === 0)
    const usesEXT = hasAny && externallyAccessible(s)
    const usesFW = hasAny && s.lbIPs.length > 0 && s.sourceRanges.length > 0
    const lbTarget = usesFW ? fwChain : extChain
    const intFilter: [string, string] = !hasAny ? ['REJECT', `${spn} has no endpoints`] : ['DROP', `${spn} has no local endpoints`]
    const extFilter: [string, string] = !hasAny ? intFilter : ['DROP', `${spn} has no local endpoints`]
    const match = (ip: string, port: number) => `-m ${p} -p ${p} -d ${ip} --dport ${port}`

    if (hasInternal) {
      nat.push(`-A KUBE-SERVICES -m comment --comment ${q(`${spn} cluster IP`)} ${match(s.clusterIP, s.port)} -j ${internalChain}`)
    } else {
      filter.push(`-A KUBE-SERVICES -m comment --comment ${q(intFilter[1])} ${match(s.clusterIP, s.port)} -j ${intFilter[0]}`)
    }
    for (const ip of s.externalIPs) {
      if (hasAny) nat.push(`-A KUBE-SERVICES -m comment --comment ${q(`${spn} external IP`)} ${match(ip, s.port)} -j ${extChain}`)
      if (!hasExternal) {
        filter.push(`-A KUBE-EXTERNAL-SERVICES -m comment --comment ${q(extFilter[1])} ${match(ip, s.port)} -j ${extFilter[0]}`)
      }
    }
    for (const ip of s.lbIPs) {
      if (hasAny) nat.push(`-A KUBE-SERVICES -m comment --comment ${q(`${spn} loadbalancer IP`)} ${match(ip, s.port)} -j ${lbTarget}`)
      if (usesFW) {
        const text = q(`${spn} traffic not accepted by ${fwChain}`)
        filter.push(`-A KUBE-PROXY-FIREWALL -m comment --comment ${text} ${match(ip, s.port)} -j DROP`)
      }
    }
    if (!hasExternal) {
      for (const ip of s.lbIPs) {
        filter.push(`-A KUBE-EXTERNAL-SERVICES -m comment --comment ${q(extFilter[1])} ${match(ip, s.port)} -j ${extFilter[0]}`)
      }
    }
    if (s.nodePort !== 0) {
      if (hasAny) nat.push(`-A KUBE-NODEPORTS -m comment --comment ${spn} -m ${p} -p ${p} --dport ${s.nodePort} -j ${extChain}`)
      if (!hasExternal) {
        filter.push(
          `-A KUBE-EXTERNAL-SERVICES -m comment --comment ${q(extFilter[1])} -m addrtype --dst-type LOCAL` +
            ` -m ${p} -p ${p} --dport ${s.nodePort} -j ${extFilter[0]}`,
        )
      }
    }
    if (s.healthCheckNodePort !== 0) {
      const text = q(`${spn} health check node port`)
      filter.push(`-A KUBE-NODEPORTS -m comment --comment ${text} -m tcp -p tcp --dport ${s.healthCheckNodePort} -j ACCEPT`)
    }

    // Internal traffic: masquerade what does not come from a pod (or everything, with --masquerade-all).
    if (hasInternal && (options.masqueradeAll || cidr)) {
      const notPod = options.masqueradeAll ? '' : ` ! -s ${cidr}`
      nat.push(`-A ${internalChain} -m comment --comment ${q(`${spn} cluster IP`)} ${match(s.clusterIP, s.port)}${notPod} -j KUBE-MARK-MASQ`)
    }
    if (usesEXT) {
      natChains.push(extChain)
      if (!s.externalPolicyLocal) {
        nat.push(`-A ${extChain} -m comment --comment ${q(`masquerade traffic for ${spn} external destinations`)} -j KUBE-MARK-MASQ`)
      } else {
        if (cidr) {
          nat.push(`-A ${extChain} -m comment --comment ${q(`pod traffic for ${spn} external destinations`)} -s ${cidr} -j ${svcChain}`)
        }
        const local = '-m addrtype --src-type LOCAL'
        nat.push(`-A ${extChain} -m comment --comment ${q(`masquerade LOCAL traffic for ${spn} external destinations`)} ${local} -j KUBE-MARK-MASQ`)
        nat.push(`-A ${extChain} -m comment --comment ${q(`route LOCAL traffic for ${spn} external destinations`)} ${local} -j ${svcChain}`)
      }
      if (hasExternal) nat.push(`-A ${extChain} -j ${s.externalPolicyLocal ? svlChain : svcChain}`)
    }
    if (usesFW) {
      natChains.push(fwChain)
      const head = `-A ${fwChain} -m comment --comment ${q(`${spn} loadbalancer IP`)}`
      for (const range of s.sourceRanges) nat.push(`${head} -s ${range} -j ${extChain}`)
      // A VIP-like LB IP that is also a local address loops back with the LB IP as source.
      if (s.sourceRanges.some((range) => cidrContains(range, nodeIP))) {
        for (const ip of s.lbIPs) nat.push(`${head} -s ${ip} -j ${extChain}`)
      }
    }
    for (const [used, chain, eps] of [
      [usesSVC, svcChain, clusterEps],
      [usesSVL, svlChain, localEps],
    ] as const) {
      if (!used) continue
      natChains.push(chain)
      if (s.affinitySeconds !== undefined) {
        for (const ep of eps) {
          nat.push(
            `-A ${chain}${comment(q(`${spn} -> ${ep.endpoint}`))} -m recent --name ${ep.chain}` +
              ` --rcheck --seconds ${s.affinitySeconds} --reap -j ${ep.chain}`,
          )
        }
      }
      eps.forEach((ep, i) => {
        const random = i < eps.length - 1 ? ` -m statistic --mode random --probability ${(1 / (eps.length - i)).toFixed(10)}` : ''
        nat.push(`-A ${chain}${comment(q(`${spn} -> ${ep.endpoint}`))}${random} -j ${ep.chain}`)
      })
    }
    for (const ep of reachable) {
      natChains.push(ep.chain)
      nat.push(`-A ${ep.chain}${comment(spn)} -s ${ep.ip} -j KUBE-MARK-MASQ`)
      const recent = s.affinitySeconds !== undefined ? ` -m recent --name ${ep.chain} --set` : ''
      nat.push(`-A ${ep.chain}${comment(spn)}${recent} -m ${p} -p ${p} -j DNAT --to-destination ${ep.endpoint}`)
    }
  }

  // The tail call to KUBE-NODEPORTS must stay the last rule of nat KUBE-SERVICES.
  const tail = `-A KUBE-SERVICES -m comment --comment ${q('kubernetes service nodeports; NOTE: this must be the last rule in this chain')}`
  const npCidrs = options.nodePortAddresses ?? []
  if (npCidrs.length === 0 || npCidrs.some((c) => c.trim() === (family === 6 ? '::/0' : '0.0.0.0/0'))) {
    // Localhost node ports never work on IPv6: it always excludes ::1; IPv4 only with --iptables-localhost-nodeports=false.
    const notLocalhost = family === 6 ? ' ! -d ::1/128' : options.localhostNodePorts === false ? ' ! -d 127.0.0.0/8' : ''
    nat.push(`${tail} -m addrtype --dst-type LOCAL${notLocalhost} -j KUBE-NODEPORTS`)
  } else {
    for (const ip of options.nodeIPs.filter((ip) => npCidrs.some((c) => cidrContains(c, ip)))) {
      nat.push(`${tail} -d ${ip} -j KUBE-NODEPORTS`)
    }
  }
  filter.push(
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    `-A KUBE-FORWARD -m comment --comment ${q('kubernetes forwarding rules')} -m mark --mark ${mark}/${mark} -j ACCEPT`,
    `-A KUBE-FORWARD -m comment --comment ${q('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  )

  const hookups = options.hookups !== false
  const declare = (chains: string[]) => [...new Set(chains)].map((c) => `:${c} - [0:0]`)
  const setup = (table: 'filter' | 'nat') =>
    hookups ? ['# EnsureChain/EnsureRule, outside the restore data:', ...hookupLines(table), '# syncProxyRules:'] : []
  return [
    '*filter',
    ...declare(filterChains),
    ...setup('filter'),
    ...filter,
    'COMMIT',
    '*nat',
    ...declare(natChains),
    ...setup('nat'),
    ...nat,
    'COMMIT',
    ...(hookups ? ['*mangle', ':KUBE-PROXY-CANARY - [0:0]', 'COMMIT'] : []),
    '',
  ].join('\n')
}
