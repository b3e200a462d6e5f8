// Bundles (cluster.yaml + nodes/<node>/iptables-save.txt, and for reference bundles expected.json) turned into
// a netns topology (test/support/netns.ts) and a replay plan for expected entries. A reference bundle's
// topology comes from expected.json's "topology" (checked against cluster.yaml); a bundle without
// expected.json (examples/hello-world) gets its topology from cluster.yaml alone (loadBundle) plus the
// clients a test adds. Shared by the tests in test/integration/.
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {load} from 'js-yaml'
import {expect} from 'vitest'
import {ipInCidr, Topology} from './netns.js'
import type {ConnectResult, HostSpec, NodeSpec, PodSpec, RouterSpec, TopologyOptions, TopologySpec} from './netns.js'

export {ipInCidr}

// ---------------------------------------------------------------------------------------------------------
// expected.json

export type ExpectedResult = 'answered' | 'one-of' | 'refused' | 'timeout' | 'ENETUNREACH' | 'silent' | 'not probed'

export interface ExpectedEntry {
  id: string
  service: string
  entry: string
  from?: string
  dst?: string
  port?: number
  attempts?: number
  result: ExpectedResult
  pods?: string[]
  observed?: string[]
  affinity?: string[]
  why?: string
  note?: string
  kind?: string
}

export interface ExpectedTopology {
  nodes: {name: string; ip: string; podCIDR: string}[]
  clients?: {name: string; ip: string}[]
  lb_node?: string
  apiserver_advertise?: string
  router?: {name: string; ip: string}
  node_network: string
  cluster_cidr?: string
  service_cidr?: string
  loadbalancer_ips?: Record<string, string>
}

export interface ExpectedFile {
  about?: string
  topology: ExpectedTopology
  entries: ExpectedEntry[]
}

/** A probe-able entry: it has a source, a destination and a result other than "not probed". */
export type ReplayableEntry = ExpectedEntry & {from: string; dst: string; port: number}

// ---------------------------------------------------------------------------------------------------------
// Bundle

export interface K8sObject {
  kind?: string
  metadata?: {name?: string; namespace?: string}
  spec?: Record<string, unknown>
  status?: Record<string, unknown>
}

/** A bundle directory read for the netns tests. */
export interface Bundle {
  dir: string
  name: string
  objects: K8sObject[]
  /** Node name -> iptables-save text. */
  rules: Record<string, string>
  topology: TopologySpec
}

export interface ReferenceBundle extends Bundle {
  expected: ExpectedFile
}

/** cluster.yaml's objects and every nodes/<node>/iptables-save.txt of a bundle directory. */
function readBundleFiles(dir: string): {objects: K8sObject[]; rules: Record<string, string>} {
  const doc = load(readFileSync(join(dir, 'cluster.yaml'), 'utf8')) as {items?: K8sObject[]} | K8sObject[]
  const objects = Array.isArray(doc) ? doc : (doc.items ?? [])
  const rules: Record<string, string> = {}
  const nodesDir = join(dir, 'nodes')
  if (existsSync(nodesDir)) {
    for (const node of readdirSync(nodesDir)) {
      const f = join(nodesDir, node, 'iptables-save.txt')
      if (existsSync(f)) rules[node] = readFileSync(f, 'utf8')
    }
  }
  return {objects, rules}
}

/**
 * A temporary bundle directory: `fromDir`'s cluster.yaml (or cluster.json) with other node dumps
 * (nodes/<node>/iptables-save.txt = rules[node]); no meta.yaml, which would describe another capture.
 * remove() deletes it.
 */
export function writeTempBundle(fromDir: string, rules: Record<string, string>): {dir: string; remove: () => void} {
  const dir = mkdtempSync(join(tmpdir(), 'svctrace-bundle-'))
  try {
    for (const f of ['cluster.yaml', 'cluster.json']) {
      if (existsSync(join(fromDir, f))) copyFileSync(join(fromDir, f), join(dir, f))
    }
    for (const [node, text] of Object.entries(rules)) {
      mkdirSync(join(dir, 'nodes', node), {recursive: true})
      writeFileSync(join(dir, 'nodes', node, 'iptables-save.txt'), text)
    }
  } catch (err) {
    rmSync(dir, {recursive: true, force: true})
    throw err
  }
  return {dir, remove: () => rmSync(dir, {recursive: true, force: true})}
}

/** A reference bundle: its topology is expected.json's, checked against cluster.yaml. */
export function loadReferenceBundle(dir: string): ReferenceBundle {
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as ExpectedFile
  const {objects, rules} = readBundleFiles(dir)
  return {dir, name: basename(dir), expected, objects, rules, topology: topologyFromBundle(expected, objects)}
}

/** A bundle without expected.json: its topology comes from cluster.yaml alone (topologyFromCluster). */
export function loadBundle(dir: string, opts: ClusterTopologyOptions = {}): Bundle {
  const {objects, rules} = readBundleFiles(dir)
  return {dir, name: basename(dir), objects, rules, topology: topologyFromCluster(objects, opts)}
}

// ---------------------------------------------------------------------------------------------------------
// What cluster.yaml says about the network

/** A Node object's InternalIP and podCIDR (undefined when cluster.yaml has no such Node or field). */
function clusterNode(objects: K8sObject[], name: string): {ip: string | undefined; podCIDR: string | undefined} {
  const obj = objects.find((o) => o.kind === 'Node' && o.metadata?.name === name)
  const addrs = (obj?.status?.addresses ?? []) as {type: string; address: string}[]
  return {ip: addrs.find((a) => a.type === 'InternalIP')?.address, podCIDR: obj?.spec?.podCIDR as string | undefined}
}

/** Every Node of cluster.yaml, by name, with its InternalIP and podCIDR (both required). */
function clusterNodes(objects: K8sObject[]): {name: string; ip: string; podCIDR: string}[] {
  return objects
    .filter((o) => o.kind === 'Node' && o.metadata?.name)
    .map((o) => o.metadata!.name!)
    .sort()
    .map((name) => {
      const {ip, podCIDR} = clusterNode(objects, name)
      if (!ip || !podCIDR) throw new Error(`Node ${name} in cluster.yaml has no ${ip ? 'spec.podCIDR' : 'InternalIP address'}`)
      return {name, ip, podCIDR}
    })
}

/** Every pod with a pod IP on a node (not hostNetwork), with its TCP container ports. */
export function clusterPods(objects: K8sObject[]): PodSpec[] {
  const pods: PodSpec[] = []
  for (const o of objects) {
    if (o.kind !== 'Pod') continue
    const spec = o.spec as {nodeName?: string; hostNetwork?: boolean; containers?: {ports?: {containerPort: number; protocol?: string}[]}[]}
    const podIP = o.status?.podIP as string | undefined
    if (!podIP || spec.hostNetwork || !spec.nodeName) continue
    const ports = new Set<number>()
    for (const c of spec.containers ?? []) {
      for (const p of c.ports ?? []) if ((p.protocol ?? 'TCP') === 'TCP') ports.add(p.containerPort)
    }
    pods.push({name: `${o.metadata?.namespace}/${o.metadata?.name}`, ip: podIP, node: spec.nodeName, ports: [...ports].sort((a, b) => a - b)})
  }
  return pods
}

/** Every IPv4 load-balancer ingress address of a Service (status.loadBalancer.ingress[].ip). */
function clusterLoadBalancerIPs(objects: K8sObject[]): string[] {
  const ips = new Set<string>()
  for (const o of objects) {
    if (o.kind !== 'Service') continue
    const ingress = (o.status?.loadBalancer as {ingress?: {ip?: string}[]} | undefined)?.ingress ?? []
    for (const i of ingress) if (i.ip && /^\d+\.\d+\.\d+\.\d+$/.test(i.ip)) ips.add(i.ip)
  }
  return [...ips].sort()
}

/** "namespace/name" of every Service that has a cluster IP (not headless, not ExternalName). */
export function servicesWithClusterIP(objects: K8sObject[]): string[] {
  return objects
    .filter((o) => {
      if (o.kind !== 'Service') return false
      const spec = (o.spec ?? {}) as {clusterIP?: string; clusterIPs?: string[]}
      const ips = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])
      return ips.some((ip) => ip !== '' && ip !== 'None')
    })
    .map((o) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`)
    .sort()
}

export interface ClusterTopologyOptions {
  /** The node network; default: the /24 that holds every node's InternalIP. */
  lanCIDR?: string
  /** Gateway of the node network (and of the clients' subnets, see RouterSpec.extraAddresses). */
  router?: RouterSpec
  /** Clients and servers outside the cluster. */
  hosts?: HostSpec[]
  /**
   * The node that holds the Services' load-balancer IPs as local addresses (as MetalLB's L2 mode or a cloud
   * LB's health-checked node would receive them); default: the first node by name.
   */
  lbNode?: string
}

/**
 * The topology of a bundle from its cluster.yaml alone: a node per Node object (InternalIP, podCIDR), a pod per
 * Pod with a pod IP and its TCP container ports, the load-balancer IPs of every Service on `lbNode`, plus
 * what the test adds (router, hosts).
 */
function topologyFromCluster(objects: K8sObject[], opts: ClusterTopologyOptions = {}): TopologySpec {
  const nodes: NodeSpec[] = clusterNodes(objects).map((n) => ({...n, extraAddresses: [], routeLocalnet: true}))
  const [firstNode] = nodes
  if (!firstNode) throw new Error('cluster.yaml has no Node objects')
  const lanCIDR = opts.lanCIDR ?? `${firstNode.ip.split('.').slice(0, 3).join('.')}.0/24`
  for (const n of nodes) {
    if (!ipInCidr(n.ip, lanCIDR)) throw new Error(`node ${n.name} (${n.ip}) is not in ${lanCIDR}: give lanCIDR`)
  }
  const lbIPs = clusterLoadBalancerIPs(objects)
  if (lbIPs.length > 0) {
    const holder = nodes.find((n) => n.name === (opts.lbNode ?? firstNode.name))
    if (!holder) throw new Error(`lbNode ${opts.lbNode} is not a node`)
    holder.extraAddresses!.push(...lbIPs)
  }
  const pods = clusterPods(objects)
  for (const p of pods) {
    if (!nodes.some((n) => n.name === p.node)) throw new Error(`pod ${p.name} is on ${p.node}, which has no Node object`)
  }
  return {lanCIDR, ...(opts.router !== undefined ? {router: opts.router} : {}), nodes, pods, hosts: opts.hosts ?? []}
}

function topologyFromBundle(expected: ExpectedFile, objects: K8sObject[]): TopologySpec {
  const t = expected.topology
  const nodes: NodeSpec[] = t.nodes.map((n) => {
    const {ip: internal, podCIDR} = clusterNode(objects, n.name)
    if (internal && internal !== n.ip) throw new Error(`node ${n.name}: expected.json says ${n.ip}, cluster.yaml ${internal}`)
    return {name: n.name, ip: n.ip, podCIDR: podCIDR ?? n.podCIDR, extraAddresses: [], routeLocalnet: true}
  })
  // LoadBalancer IPs are local addresses of the node expected.json names (lb_node).
  for (const ip of Object.values(t.loadbalancer_ips ?? {})) {
    const holder = nodes.find((n) => n.name === t.lb_node)
    if (!holder) throw new Error(`loadbalancer IP ${ip} but lb_node ${t.lb_node} is not a node`)
    holder.extraAddresses!.push(ip)
  }

  const pods = clusterPods(objects)

  const hosts: HostSpec[] = (t.clients ?? []).map((c) => ({name: c.name, ip: c.ip}))
  if (t.apiserver_advertise) {
    const [ip = '', port] = t.apiserver_advertise.split(':')
    if (!nodes.some((n) => n.ip === ip) && !hosts.some((h) => h.ip === ip)) {
      // The apiserver is a TLS server: it accepts and waits for a ClientHello, so it says nothing.
      hosts.push({name: 'apiserver', ip, ports: [Number(port)], mode: 'silent'})
    }
  }
  return {lanCIDR: t.node_network, ...(t.router !== undefined ? {router: t.router} : {}), nodes, pods, hosts}
}

/**
 * two-node-iptables-v1.26: the entries both integration tests must replay, one per kind of path, whatever
 * else expected.json holds.
 */
export const TWO_NODE_REQUIRED_ENTRIES = [
  'frontend/http@node1', // ClusterIP from a node
  'frontend/https@pod-api', // ClusterIP from a pod
  'api/nodeport-node2@ext', // NodePort, eTP Local, local endpoints
  'api/nodeport-node1@ext', // NodePort, eTP Local, no local endpoint: dropped
  'cache/cluster-ip@node1', // no endpoints: REJECT
  'gateway/lb-ip@ext', // LB IP, source in loadBalancerSourceRanges
  'gateway/lb-ip@router', // LB IP, source not in ranges: dropped
  'gateway/nodeport-node1@router', // NodePort is not guarded by the ranges
  'partner/cluster-ip@node1', // selector-less Service with manual Endpoints
  'sessions/cluster-ip@node1', // ClientIP affinity: exactly one pod
] as const

export function replayableEntries(bundle: ReferenceBundle): ReplayableEntry[] {
  return bundle.expected.entries.filter(
    (e): e is ReplayableEntry => e.result !== 'not probed' && Boolean(e.from) && Boolean(e.dst) && typeof e.port === 'number',
  )
}

// ---------------------------------------------------------------------------------------------------------
// Who sends, where the packet enters

export type ClientKind = 'node' | 'pod' | 'external'

export interface EntryClient {
  /** Topology member the connection is made from. */
  member: string
  /** svctrace's `from`: node (the node itself), pod (a pod), external (anything else). */
  kind: ClientKind
  /** The client address for PREROUTING-entered paths (pods and external clients); node clients: none. */
  sourceIP?: string
  /** The node whose rules the first packet meets; undefined when it never reaches a node. */
  enteringNode?: string | undefined
}

/** The node that holds `ip` as a local address or routes it to one of its pods. */
function nodeOwning(spec: TopologySpec, ip: string): string | undefined {
  for (const n of spec.nodes) {
    if (n.ip === ip || (n.extraAddresses ?? []).some((a) => a.replace(/\/32$/, '') === ip)) return n.name
  }
  return spec.nodes.find((n) => ipInCidr(ip, n.podCIDR))?.name
}

export function entryClient(spec: TopologySpec, entry: ReplayableEntry): EntryClient {
  const node = spec.nodes.find((n) => n.name === entry.from)
  if (node) return {member: node.name, kind: 'node', enteringNode: node.name}
  const pod = spec.pods.find((p) => p.name === entry.from)
  if (pod) return {member: pod.name, kind: 'pod', sourceIP: pod.ip, enteringNode: pod.node}
  const host = (spec.hosts ?? []).find((h) => h.name === entry.from) ?? (spec.router?.name === entry.from ? spec.router : undefined)
  if (host) return {member: host.name, kind: 'external', sourceIP: host.ip, enteringNode: nodeOwning(spec, entry.dst)}
  throw new Error(`entry ${entry.id}: unknown source ${entry.from}`)
}

// ---------------------------------------------------------------------------------------------------------
// Replay

export interface ReplayLimits {
  /** Cap on connections per entry (expected.json used 30). */
  maxAttempts?: number
  /** Connections expected to be dropped: how many (deterministic, so few are enough). */
  dropAttempts?: number
  /** Per-connection handshake timeout; a drop costs this much. */
  timeoutMs?: number
  /** Connections in flight at once (session affinity: always 1; expected drops: all at once). */
  concurrency?: number
}

const DEFAULT_REPLAY_LIMITS: Required<ReplayLimits> = {maxAttempts: 30, dropAttempts: 12, timeoutMs: 400, concurrency: 6}

/** Replays one expected.json entry in the topology: same source, destination and (capped) attempt count. */
export function replayEntry(topo: Topology, entry: ReplayableEntry, limits: ReplayLimits = {}): Promise<ConnectResult> {
  const l = {...DEFAULT_REPLAY_LIMITS, ...limits}
  const wanted = entry.attempts ?? l.maxAttempts
  const attempts = Math.min(wanted, entry.result === 'timeout' ? l.dropAttempts : l.maxAttempts)
  return topo.connect({
    from: entry.from,
    dst: entry.dst,
    port: entry.port,
    attempts,
    timeoutMs: l.timeoutMs,
    silentMs: l.timeoutMs,
    // Session affinity: the first connection must set the "recent" entry before the next one starts.
    // Expected drops: all at once, so they cost one timeout in total.
    concurrency: entry.result === 'one-of' || entry.affinity ? 1 : entry.result === 'timeout' ? attempts : l.concurrency,
  })
}

/**
 * What the traffic did, in expected.json's vocabulary ("mixed" when attempts disagreed). Every attempt answered
 * gives "answered"; whether that means "answered" or "one-of" depends on who answered (see answeredBy).
 */
function trafficResult(r: ConnectResult): ExpectedResult | 'mixed' | 'other' {
  switch (r.outcome) {
    case 'answered':
    case 'refused':
    case 'timeout':
    case 'silent':
      return r.outcome
    case 'unreachable':
      return r.attempts.every((a) => a.code === 'ENETUNREACH') ? 'ENETUNREACH' : 'other'
    case 'mixed':
      return 'mixed'
    default:
      return 'other'
  }
}

/**
 * Asserts that replayed traffic did what the entry says: answered by exactly `pods`; one-of (session
 * affinity): one of `pods` took every connection; otherwise the entry's result (refused, timeout, …).
 */
export function expectTrafficMatchesEntry(entry: ReplayableEntry, r: ConnectResult): void {
  const msg = `${entry.id} (${entry.entry}): ${describeResult(r)}`
  switch (entry.result) {
    case 'answered':
      expect(r.outcome, msg).toBe('answered')
      expect(r.answeredBy, msg).toEqual([...(entry.pods ?? [])].sort())
      break
    case 'one-of':
      // Session affinity: every connection from this client lands on the pod its first one drew.
      expect(r.outcome, msg).toBe('answered')
      expect(r.answeredBy, msg).toHaveLength(1)
      expect(entry.pods, msg).toContain(r.answeredBy[0])
      break
    default:
      expect(trafficResult(r), msg).toBe(entry.result)
  }
}

/** One line per attempt kind, for failure messages: "answered 28 (a, b), timeout 2". */
export function describeResult(r: ConnectResult): string {
  const parts = Object.entries(r.counts).map(([k, n]) => (k === 'answered' ? `answered ${n} by [${r.answeredBy.join(', ')}]` : `${k} ${n}`))
  return `${r.from} -> ${r.dst}:${r.port}: ${parts.join(', ')}; client IPs seen ${JSON.stringify(r.peerIPs)}; ${r.elapsedMs} ms`
}

// ---------------------------------------------------------------------------------------------------------
// Build

/**
 * Builds the bundle's topology and loads every node's iptables-save dump into that node's namespace with
 * the real iptables-restore. On failure nothing is left behind.
 */
export async function createBundleTopology(bundle: Bundle, opts: TopologyOptions = {}): Promise<Topology> {
  const topo = await Topology.create(bundle.topology, opts)
  try {
    for (const n of bundle.topology.nodes) {
      const text = bundle.rules[n.name]
      if (text === undefined) throw new Error(`${bundle.name}: no nodes/${n.name}/iptables-save.txt`)
      await topo.loadRules(n.name, text)
    }
    return topo
  } catch (err) {
    await topo.destroy().catch(() => undefined)
    throw err
  }
}
