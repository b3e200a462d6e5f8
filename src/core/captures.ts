// A node's captures indexed for tracing: the iptables dumps (IPv4 and IPv6) by chain (rules decoded
// only when a walk reaches them), the nftables ruleset, the IPVS table and the ipsets. Throws DumpError on text that
// is no dump of its kind.
import {indexIptablesSave, type IptablesDump} from './iptables/dump.js'
import {parseIpset, type Ipsets} from './ipvs/ipset.js'
import {parseIpvsTable, type IpvsTable} from './ipvs/ipvsadm.js'
import {parseIpvsStats, withIpvsStats} from './ipvs/ipvsadm-stats.js'
import type {ByteSource, Capture, CaptureKind, NodeDataplane} from './model.js'
import type {NftRuleset} from './nftables/model.js'
import {parseNft} from './nftables/parse.js'

/** What was indexed from one node. */
export interface IndexedCaptures {
  /** `iptables-save`: the IPv4 rules. */
  iptables?: IptablesDump
  /** `ip6tables-save`: the IPv6 rules (iptables mode traces IPv6 destinations through these). */
  iptables6?: IptablesDump
  nft?: NftRuleset
  ipvs?: IpvsTable
  ipsets?: Ipsets
}

/** A node that could not be read, and why (a sentence that says what to do). */
export function unreadableNode(name: string, readError: string): NodeDataplane {
  return {name, captures: [], readError}
}

/** A node the run stopped waiting for: interrupted (Ctrl-C, SIGTERM) before it answered. */
export function interruptedNode(name: string): NodeDataplane {
  return {name, captures: [], readError: `${name} was not read: the run was interrupted before it answered`, interrupted: true}
}

/** The node's capture of one kind, if it was read. */
export function captureOf(dp: Pick<NodeDataplane, 'captures'>, kind: CaptureKind): Capture | undefined {
  return dp.captures.find((c) => c.kind === kind)
}

/** The captures with one of this kind set to `text` (replacing one read before). */
export function withCapture(captures: readonly Capture[], capture: Capture): Capture[] {
  return [...captures.filter((c) => c.kind !== capture.kind), capture]
}

const decoder = new TextDecoder()

/** The capture's output as text (decoded from UTF-8 when it was kept as bytes, read whole when it was left where it lies). */
export function captureText(c: Capture): string {
  if (typeof c.text === 'string') return c.text
  return decoder.decode(c.text instanceof Uint8Array ? c.text : allBytes(c.text))
}

/** Every byte of the source, read into one array. */
export function allBytes(source: ByteSource): Uint8Array {
  const bytes = new Uint8Array(source.size)
  const n = source.read(bytes, 0)
  return n === bytes.length ? bytes : bytes.subarray(0, n)
}

/** Indexes every capture the node has. ipvsadm output and /proc/net/ip_vs hold the same table: ipvsadm wins. */
export function indexCaptures(dp: NodeDataplane): IndexedCaptures {
  const iptables = captureOf(dp, 'iptables-save')
  const iptables6 = captureOf(dp, 'ip6tables-save')
  const nft = captureOf(dp, 'nft')
  const ipvs = captureOf(dp, 'ipvsadm') ?? captureOf(dp, 'proc-ip-vs')
  const ipset = captureOf(dp, 'ipset')
  const stats = captureOf(dp, 'ipvsadm-stats')
  const table = ipvs ? parseIpvsTable(captureText(ipvs), ipvs.source) : undefined
  return {
    ...(iptables ? {iptables: indexIptablesSave(iptables.text, iptables.source)} : {}),
    ...(iptables6 ? {iptables6: indexIptablesSave(iptables6.text, iptables6.source)} : {}),
    ...(nft ? {nft: parseNft(captureText(nft), nft.source)} : {}),
    ...(table ? {ipvs: stats ? withIpvsStats(table, parseIpvsStats(captureText(stats), stats.source)) : table} : {}),
    ...(ipset ? {ipsets: parseIpset(captureText(ipset), ipset.source)} : {}),
  }
}
