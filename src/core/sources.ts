// Which clients an entry is traced from on one node: the node itself, a pod of the node, an outside
// client, or the one client --source names.
import type {V1Node, V1Pod} from '@kubernetes/client-node'
import {canonicalIP, familyOf, formatCidr, isLoopback, lastHostOf, parseCidr, sampleAddressOf, splitByNetworks, type Cidr} from './address.js'
import {isPodFinished} from './checks/pod-state.js'
import {loadBalancerRanges} from './checks/source-outside-load-balancer-ranges.js'
import {endpointsByAddress, keyOf, nodeAddresses, nodeAddressOf, podNetworks, type ClusterIndex} from './cluster-index.js'
import {inAnyNetwork, type Entry} from './entries.js'
import {nodePodCIDRs} from './kube-proxy/pod-cidrs.js'
import {podsOnNode} from './pod-index.js'
import type {TracePath} from './model.js'

/** Who a path is traced from: the kind of source, and the client address with the pod it belongs to, when known. */
export type PathClient = Pick<TracePath, 'from' | 'source' | 'sourcePod' | 'sourceIsExample' | 'sourceRange'>

/** The pod's IP of the given family. */
function podIPOf(pod: V1Pod, family: 4 | 6): string | undefined {
  const ips = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : [])
  return ips.map(canonicalIP).find((ip) => familyOf(ip) === family)
}

/** A pod a node's paths may be traced from, with its address of one family. */
interface Candidate {
  pod: V1Pod
  ip: string
}

// Per pod list, per node and family: the node's pods that may be clients (not host-network, not
// finished: a finished pod's IP may already belong to another pod), sorted by name. Made once, as
// every Service traced on the node asks.
const candidatesOf = new WeakMap<readonly V1Pod[], Map<string, Candidate[]>>()

function candidatesOn(pods: readonly V1Pod[], nodeName: string, family: 4 | 6): Candidate[] {
  let byNode = candidatesOf.get(pods)
  if (!byNode) {
    byNode = new Map()
    candidatesOf.set(pods, byNode)
  }
  const key = `${nodeName}\0${family}`
  let list = byNode.get(key)
  if (!list) {
    list = podsOnNode(pods, nodeName)
      .filter((p) => !p.spec?.hostNetwork && !isPodFinished(p))
      .flatMap((pod) => {
        const ip = podIPOf(pod, family)
        return ip ? [{pod, ip, key: keyOf(pod)}] : []
      })
      .sort((a, b) => a.key.localeCompare(b.key))
      .map(({pod, ip}) => ({pod, ip}))
    byNode.set(key, list)
  }
  return list
}

// The example pod address of each node and family, worked out once: every Service's entries ask.
const examples = new WeakMap<V1Node, Map<4 | 6, string | undefined>>()

/** The last host of the node's pod CIDR of that family (an address no pod is likely to hold), or undefined without one. */
function examplePodAddress(node: V1Node, family: 4 | 6): string | undefined {
  let byFamily = examples.get(node)
  if (!byFamily) {
    byFamily = new Map()
    examples.set(node, byFamily)
  }
  if (!byFamily.has(family)) {
    const net = nodePodCIDRs(node)
      .map((c) => parseCidr(c))
      .find((c) => c?.family === family)
    byFamily.set(family, net ? lastHostOf(net) : undefined)
  }
  return byFamily.get(family)
}

/**
 * A pod of the node to trace from: a running pod that is no endpoint of the Service (so hairpin
 * rules do not blur the picture); else an address of the node's pod CIDR, marked as standing for any
 * pod (a live one-Service read lists only the Service's own pods, and tracing from one of them would
 * show its hairpin path instead); else, without a pod CIDR, any pod of the node.
 */
function podClientOn(idx: ClusterIndex, node: V1Node, entry: Entry): PathClient | undefined {
  const nodeName = node.metadata?.name ?? ''
  const family = familyOf(entry.destination.ip) === 6 ? 6 : 4
  const candidates = candidatesOn(idx.view.pods, nodeName, family)
  // Looks past the Service's own endpoints only, so a node full of pods costs no more than they.
  const endpoints = entry.service ? endpointsByAddress(idx, keyOf(entry.service)) : undefined
  const pick = candidates.find((c) => c.pod.status?.phase === 'Running' && !endpoints?.has(c.ip))
  if (pick) return {from: 'pod', source: pick.ip, sourcePod: keyOf(pick.pod)}
  const example = examplePodAddress(node, family)
  if (example !== undefined) return {from: 'pod', source: example, sourceIsExample: true}
  const [any] = candidates
  return any ? {from: 'pod', source: any.ip, sourcePod: keyOf(any.pod)} : undefined
}

/** The one client --source names, if it can reach the entry on this node (an address of the other family never can). */
function givenClientOn(idx: ClusterIndex, entry: Entry, node: V1Node, source: string): PathClient[] {
  if (familyOf(source) !== familyOf(entry.destination.ip)) return []
  if (nodeAddresses(node).includes(source) || isLoopback(source)) return [{from: 'node', source}]
  // 127.0.0.1 node ports are reached only from the node itself.
  if (isLoopback(entry.destination.ip)) return []
  const pod = idx.podByIP.get(source)
  if (pod) return pod.spec?.nodeName === node.metadata?.name ? [{from: 'pod', source, sourcePod: keyOf(pod)}] : []
  if (inAnyNetwork(source, nodePodCIDRs(node))) return [{from: 'pod', source}]
  if (idx.nodeByIP.has(source) || inAnyNetwork(source, podNetworks(idx))) return []
  return [{from: 'external', source}]
}

/**
 * The addresses a --source range is traced from: one for the whole range, or, at a load-balancer
 * entry whose source ranges split it, one for each part they let in and one for the rest.
 */
function rangeSamples(entry: Entry, range: Cidr): Array<{address: string; stands: NonNullable<PathClient['sourceRange']>}> {
  const given = formatCidr(range)
  const ranges = entry.kind === 'load-balancer' && entry.service ? loadBalancerRanges(entry.service) : []
  const {inside, outside} = ranges.length > 0 ? splitByNetworks(range, ranges) : {inside: [], outside: undefined}
  if (inside.length === 0 || outside === undefined) return [{address: sampleAddressOf(range), stands: {given, stands: 'whole'}}]
  return [
    ...inside.map((part) => ({address: sampleAddressOf(part), stands: {given, stands: 'allowed' as const, part: formatCidr(part)}})),
    {address: outside, stands: {given, stands: 'rest'}},
  ]
}

/** Which clients to trace an entry from on a node, with a concrete client address where one is known. */
export function sourcesOn(idx: ClusterIndex, entry: Entry, node: V1Node, source: string | undefined): PathClient[] {
  const range = source?.includes('/') ? parseCidr(source) : undefined
  // A /32 (/128) is one address.
  if (range && formatCidr(range).includes('/')) {
    return rangeSamples(entry, range).flatMap((s) => givenClientOn(idx, entry, node, s.address).map((c) => ({...c, sourceRange: s.stands})))
  }
  if (range) return givenClientOn(idx, entry, node, formatCidr(range))
  if (source) return givenClientOn(idx, entry, node, source)
  const out: PathClient[] = []
  for (const from of entry.from) {
    if (from === 'node') {
      // The node sends from its address of the destination's family (an IPv6 path starts from an IPv6 address).
      const family = familyOf(entry.destination.ip) === 6 ? 6 : 4
      const addr = isLoopback(entry.destination.ip) ? (family === 6 ? '::1' : '127.0.0.1') : (nodeAddressOf(node, family) ?? nodeAddresses(node)[0])
      if (addr) out.push({from, source: addr})
    } else if (from === 'pod') {
      const client = podClientOn(idx, node, entry)
      if (client) out.push(client)
    } else {
      out.push({from})
    }
  }
  return out
}
