// Checks of one node's data plane as it was read: which kube-proxy modes its rules show, what else
// proxies Services there when kube-proxy does not, and kube-proxy rules in the other iptables
// backend. openDataplane runs them once per node after indexing its captures; like the trace checks
// (trace-checks.ts), each registration names the catalogue ids it reports.
import type {IndexedCaptures} from '../captures.js'
import type {Finding, NodeDataplane} from '../model.js'
import type {ModeEvidence} from '../trace/mode.js'
import {finding, type FindingId} from './catalog.js'

/** What a data-plane check sees: the node as read, its captures indexed, and the modes found (newest first). */
export interface DataplaneCheckContext {
  dp: NodeDataplane
  captures: IndexedCaptures
  modes: readonly ModeEvidence[]
}

/** A check of one node's data plane and the catalogue ids it reports. */
interface DataplaneCheckRegistration {
  reports: readonly FindingId[]
  check: (ctx: DataplaneCheckContext) => Finding[]
}

/** Chain or table name prefixes of data planes that replace kube-proxy, and what to use instead. */
const REPLACEMENTS: Array<{prefix: RegExp; name: string; tool: string}> = [
  {prefix: /^CILIUM_|^cilium/, name: 'Cilium', tool: 'cilium service list / cilium-dbg service list in the Cilium agent pod'},
  {prefix: /^cali-|^calico/, name: 'Calico', tool: 'Calico eBPF mode: calico-node -bpf nat dump in the calico-node pod'},
  {prefix: /^KUBE-ROUTER-|^kube-router/, name: 'kube-router', tool: 'ipvsadm -Ln on the node (kube-router proxies through IPVS)'},
  {prefix: /^ANTREA-|^antrea/, name: 'Antrea', tool: 'antctl get ovsflows in the antrea-agent pod (AntreaProxy)'},
  {prefix: /^OVN-KUBE-|^ovn/, name: 'OVN-Kubernetes', tool: 'ovn-nbctl lb-list (OVN load balancers)'},
]

/** Data planes other than kube-proxy whose chains or tables the node shows, with one example name each. */
function replacementDataplanes(p: IndexedCaptures): Array<{name: string; tool: string; example: string}> {
  const names: string[] = []
  for (const dump of [p.iptables, p.iptables6])
    for (const table of dump?.tables.values() ?? []) for (let k = 0; k < table.size; k++) names.push(table.nameAt(k))
  for (const t of p.nft?.tables ?? []) names.push(t.name, ...t.chains.keys())
  const found: Array<{name: string; tool: string; example: string}> = []
  for (const r of REPLACEMENTS) {
    const example = names.find((n) => r.prefix.test(n))
    if (example) found.push({name: r.name, tool: r.tool, example})
  }
  return found
}

/** Why no mode was found, naming what was read and what seems to proxy Services instead. */
function noRulesMessage(name: string, p: IndexedCaptures): string {
  const read = [p.iptables?.source, p.iptables6?.source, p.nft?.source, p.ipvs?.source, p.ipsets?.source].filter(Boolean)
  const others = replacementDataplanes(p)
  const dumps = [p.iptables, p.iptables6].filter((d) => d !== undefined)
  const instead =
    others.length === 0
      ? ''
      : `; the node shows ${others.map((o) => `${o.name}'s chains (${o.example})`).join(' and ')}, so ${others.map((o) => o.name).join(' or ')} probably handles Services here instead of kube-proxy: inspect it with ${others.map((o) => o.tool).join('; ')}`
  if (dumps.length > 0 && read.length === dumps.length)
    return `${name}: no KUBE-SERVICES chain in the nat table of ${dumps.map((d) => d.source).join(' or ')}${instead}`
  const iptablesNft = p.nft?.tables.some((t) => t.chains.has('KUBE-SERVICES'))
  return `${name}: no kube-proxy rules in ${read.join(', ')}: no KUBE-SERVICES chain in nat, no table ip kube-proxy, no IPVS virtual server${iptablesNft ? '; the nft ruleset holds iptables-nft tables with KUBE-SERVICES, so kube-proxy runs in iptables mode: capture iptables-save' : ''}${instead}`
}

/** No mode at all. With another data plane in charge that is by design: say so, but do not fail the run. */
function noKubeProxyRules({dp, captures, modes}: DataplaneCheckContext): Finding[] {
  if (modes.length > 0) return []
  const replaced = replacementDataplanes(captures).length > 0
  return [finding('node-has-no-kube-proxy-rules', {message: noRulesMessage(dp.name, captures), node: dp.name}, replaced ? 'warning' : 'error')]
}

/** Kube-proxy rules in both iptables backends: the legacy and nft hooks both see every packet. */
function bothIptablesBackends({dp, modes}: DataplaneCheckContext): Finding[] {
  const other = dp.otherIptablesBackend
  if (!other || other.kubeRules === 0) return []
  const current = other.backend === 'legacy' ? 'nft' : 'legacy'
  const both = modes.some((m) => m.mode === 'iptables' || m.mode === 'ipvs')
  return [
    finding('iptables-legacy-and-nft', {
      message: `${dp.name} has ${other.kubeRules} KUBE-* rule${other.kubeRules === 1 ? '' : 's'} in iptables-${other.backend}${both ? ` besides the iptables-${current} rules traced here` : ` while iptables-${current} holds none`}: both backends hook the same packets, so the ${other.backend} rules (not shown in the trace) may act first`,
      node: dp.name,
      evidence: [other.source],
    }),
  ]
}

/** Rules of two modes: the older set is a leftover of a mode switch and still acts on packets. */
function modesMixed({dp, modes}: DataplaneCheckContext): Finding[] {
  if (modes.length < 2) return []
  return [
    finding('proxy-modes-mixed', {
      message: `${dp.name} holds rules of ${modes.length} kube-proxy modes (${modes.map((m) => m.mode).join(', ')}): the older set is probably left over from a mode switch and still acts on packets; remove it with kube-proxy --cleanup (run with the old mode's flags) or a node reboot`,
      node: dp.name,
      evidence: modes.map((m) => `${m.mode}: ${m.evidence}`),
    }),
  ]
}

/** Userspace mode: removed upstream, and its backend choice is invisible in any dump. */
function userspaceMode({dp, modes}: DataplaneCheckContext): Finding[] {
  const userspace = modes.find((m) => m.mode === 'userspace')
  if (!userspace) return []
  return [
    finding('proxy-mode-userspace', {
      message: `${dp.name} runs kube-proxy in userspace mode (${userspace.evidence}), removed in v1.26: Service traffic is redirected to kube-proxy itself, which picks the backend in-process (round-robin); no dump shows which backend a connection gets`,
      node: dp.name,
    }),
  ]
}

/** IPVS mode shown by ipsets or rules, but no IPVS table to trace through. */
function ipvsNotTraced({dp, captures, modes}: DataplaneCheckContext): Finding[] {
  const ipvs = modes.find((m) => m.mode === 'ipvs')
  if (!ipvs || captures.ipvs) return []
  return [
    finding('proxy-mode-not-traced', {
      message: `${dp.name} runs kube-proxy in IPVS mode (${ipvs.evidence}) but no IPVS table was read: capture ipvsadm -Sn (or /proc/net/ip_vs from the kube-proxy pod) and ipset save to trace it`,
      node: dp.name,
    }),
  ]
}

/** Checks of one node's data plane, by name, in the order their findings are listed. */
export const dataplaneChecks = {
  'node-has-no-kube-proxy-rules': {reports: ['node-has-no-kube-proxy-rules'], check: noKubeProxyRules},
  'iptables-legacy-and-nft': {reports: ['iptables-legacy-and-nft'], check: bothIptablesBackends},
  'proxy-modes-mixed': {reports: ['proxy-modes-mixed'], check: modesMixed},
  'proxy-mode-userspace': {reports: ['proxy-mode-userspace'], check: userspaceMode},
  'proxy-mode-not-traced': {reports: ['proxy-mode-not-traced'], check: ipvsNotTraced},
} as const satisfies Record<string, DataplaneCheckRegistration>

/** Runs every data-plane check on one node. */
export function checkDataplane(ctx: DataplaneCheckContext): Finding[] {
  const registrations: DataplaneCheckRegistration[] = Object.values(dataplaneChecks)
  return registrations.flatMap((r) => r.check(ctx))
}
