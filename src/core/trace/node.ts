// What a trace knows about the node it runs on: its addresses, the pod networks, its ipsets. The one
// answer to "is this address local to the node" lives here.
import {cidrContains, isLoopback, networkSet, parseCidr, type Cidr, type NetworkSet} from '../address.js'
import type {Condition, Packet} from './packet.js'

/** Looks a packet up in one of the node's ipsets; `dims` are the `src,dst,…` flags of the match. */
export interface SetMembership {
  test(name: string, dims: Array<'src' | 'dst'>, packet: Packet, node: NodeContext): {result: 'yes' | 'no'} | {result: 'maybe'; condition: Condition}
}

/** What the tracer knows about the node. */
export interface NodeContext {
  /** The node's local addresses (for `-m addrtype --dst-type LOCAL`, `fib daddr type local`). */
  local: Cidr[]
  /** Pod networks: an unnamed outside client is assumed to be outside them. */
  podNetworks: NetworkSet
  /** The node's ipsets, for `-m set` (IPVS mode); without them a set match is undecided. */
  sets?: SetMembership
}

/** The addresses that parse, as CIDRs (a bare address is a /32 or /128). */
export function cidrsOf(addresses: readonly string[]): Cidr[] {
  return addresses.map((a) => parseCidr(a)).filter((c): c is Cidr => c !== undefined)
}

// The pod networks of a run are one list (cluster-index podNetworks), passed to every trace: parsed
// and sorted once. Without podCIDRs it holds every pod IP.
const podNetworkSets = new WeakMap<readonly string[], NetworkSet>()

/** The networks as a set to test against, made once per list. */
function podNetworkSet(networks: readonly string[]): NetworkSet {
  let set = podNetworkSets.get(networks)
  if (!set) {
    set = networkSet(cidrsOf(networks))
    podNetworkSets.set(networks, set)
  }
  return set
}

// A node's addresses parsed, per list: the cluster index gives every trace on a node the same one.
const localOf = new WeakMap<readonly string[], Cidr[]>()

/** The node context of a request: addresses parsed and pod networks made into a set, each once per list. */
export function nodeContext(addresses: readonly string[], podNetworks: readonly string[], sets?: SetMembership): NodeContext {
  let local = localOf.get(addresses)
  if (!local) {
    local = cidrsOf(addresses)
    localOf.set(addresses, local)
  }
  return {local, podNetworks: podNetworkSet(podNetworks), ...(sets ? {sets} : {})}
}

/**
 * Whether `ip` is an address of the node, as the kernel's `addrtype LOCAL` decides: loopback
 * (127.0.0.0/8, ::1) always is; otherwise one of the node's addresses (or networks) holds it.
 * Undefined when the node's addresses are not known and the address is not loopback.
 */
export function isLocalAddress(local: readonly Cidr[], ip: Cidr): boolean | undefined {
  if (isLoopback(ip) || local.some((l) => cidrContains(l, ip))) return true
  return local.length === 0 ? undefined : false
}
