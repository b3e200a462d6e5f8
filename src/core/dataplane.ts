// One node's data plane, opened once per report: its dumps parsed, the kube-proxy mode(s) detected,
// and a tracer for requests. When a node holds rules of two modes, the request goes to them in the
// order the kernel consults them (nat DNAT chains at priority -100 before IPVS at LOCAL_IN), and
// the first mode that does something with the packet gives the path.
import {DumpError, indexIptablesSave} from './iptables/dump.js'
import {traceIptables, type IptablesTrace, type IptablesTraceRequest} from './iptables/trace.js'
import {parseIpset} from './ipvs/ipset.js'
import {parseIpvsTable} from './ipvs/ipvsadm.js'
import {traceIpvs} from './ipvs/trace.js'
import {finding} from './checks/catalog.js'
import type {Finding, NodeDataplane, ProxyMode} from './model.js'
import {parseNft} from './nftables/parse.js'
import {traceNftables} from './nftables/trace.js'
import {detectProxyModes, type ModeEvidence, type ParsedDataplane} from './proxy-mode.js'
import {traceUserspace} from './userspace.js'

/** A node ready to trace: its mode, the findings about its rules, and the tracer (if any). */
export interface OpenedDataplane {
  /** The current mode: the newest one found when several are (leftovers are usually older). */
  mode: ProxyMode
  modes: ModeEvidence[]
  findings: Finding[]
  readError?: string
  trace?: (req: IptablesTraceRequest) => IptablesTrace
}

interface Tracer {
  mode: ProxyMode
  run: (req: IptablesTraceRequest) => IptablesTrace
}

function unreadable(name: string, readError: string, message = `${name}: ${readError}`): OpenedDataplane {
  return {mode: 'unknown', modes: [], readError, findings: [finding('node-unreadable', {message, node: name})]}
}

function parseAll(dp: NodeDataplane): ParsedDataplane {
  const n = dp.name
  const ipvsText = dp.ipvsadm ?? dp.procIpVs
  return {
    ...(dp.iptablesSave !== undefined ? {iptables: indexIptablesSave(dp.iptablesSave, dp.iptablesSource ?? `${n}: iptables-save`)} : {}),
    ...(dp.nft !== undefined ? {nft: parseNft(dp.nft, dp.nftSource ?? `${n}: nft`)} : {}),
    ...(ipvsText !== undefined ? {ipvs: parseIpvsTable(ipvsText, (dp.ipvsadm !== undefined ? dp.ipvsadmSource : dp.procIpVsSource) ?? `${n}: ipvsadm`)} : {}),
    ...(dp.ipset !== undefined ? {ipsets: parseIpset(dp.ipset, dp.ipsetSource ?? `${n}: ipset`)} : {}),
  }
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
export function replacementDataplanes(p: ParsedDataplane): Array<{name: string; tool: string; example: string}> {
  const names: string[] = []
  for (const table of p.iptables?.tables.values() ?? []) for (let k = 0; k < table.size; k++) names.push(table.nameAt(k))
  for (const t of p.nft?.tables ?? []) names.push(t.name, ...t.chains.keys())
  const found: Array<{name: string; tool: string; example: string}> = []
  for (const r of REPLACEMENTS) {
    const example = names.find((n) => r.prefix.test(n))
    if (example) found.push({name: r.name, tool: r.tool, example})
  }
  return found
}

/** Why no mode was found, naming what was read and what seems to proxy Services instead. */
function noRulesMessage(name: string, p: ParsedDataplane): string {
  const read = [p.iptables?.source, p.nft?.source, p.ipvs?.source, p.ipsets?.source].filter(Boolean)
  const others = replacementDataplanes(p)
  const instead = others.length === 0 ? '' : `; the node shows ${others.map((o) => `${o.name}'s chains (${o.example})`).join(' and ')}, so ${others.map((o) => o.name).join(' or ')} probably handles Services here instead of kube-proxy: inspect it with ${others.map((o) => o.tool).join('; ')}`
  if (read.length === 1 && p.iptables) return `${name}: no KUBE-SERVICES chain in the nat table of ${p.iptables.source}${instead}`
  const iptablesNft = p.nft?.tables.some((t) => t.chains.has('KUBE-SERVICES'))
  return `${name}: no kube-proxy rules in ${read.join(', ')}: no KUBE-SERVICES chain in nat, no table ip kube-proxy, no IPVS virtual server${iptablesNft ? '; the nft ruleset holds iptables-nft tables with KUBE-SERVICES, so kube-proxy runs in iptables mode: capture iptables-save' : ''}${instead}`
}

/** Kube-proxy rules in both iptables backends: the legacy and nft hooks both see every packet. */
function backendFindings(dp: NodeDataplane, modes: ModeEvidence[]): Finding[] {
  const other = dp.otherIptablesBackend
  if (!other || other.kubeRules === 0) return []
  const current = other.backend === 'legacy' ? 'nft' : 'legacy'
  const both = modes.some((m) => m.mode === 'iptables' || m.mode === 'ipvs')
  return [finding('iptables-legacy-and-nft', {
    message: `${dp.name} has ${other.kubeRules} KUBE-* rule${other.kubeRules === 1 ? '' : 's'} in iptables-${other.backend}${both ? ` besides the iptables-${current} rules traced here` : ` while iptables-${current} holds none`}: both backends hook the same packets, so the ${other.backend} rules (not shown in the trace) may act first`,
    node: dp.name,
    evidence: [other.source],
  })]
}

function tracersFor(p: ParsedDataplane, modes: ModeEvidence[]): Tracer[] {
  const has = (m: ProxyMode) => modes.some((e) => e.mode === m)
  const out: Tracer[] = []
  // IPVS's tracer walks the whole iptables dump first, so it also covers iptables-mode leftovers.
  if (p.iptables && has('iptables') && !(has('ipvs') && p.ipvs)) out.push({mode: 'iptables', run: (r) => traceIptables(p.iptables!, r)})
  if (p.nft && has('nftables')) out.push({mode: 'nftables', run: (r) => traceNftables(p.nft!, r)})
  if (p.ipvs && has('ipvs')) out.push({mode: 'ipvs', run: (r) => traceIpvs({table: p.ipvs!, ...(p.ipsets ? {ipsets: p.ipsets} : {}), ...(p.iptables ? {iptables: p.iptables} : {})}, r)})
  if (p.iptables && has('userspace')) out.push({mode: 'userspace', run: (r) => traceUserspace(p.iptables!, r)})
  if (out.length === 0 && modes.length === 0) {
    // No kube-proxy rules: trace what was read anyway, so each path says "no rule".
    if (p.iptables) out.push({mode: 'none', run: (r) => traceIptables(p.iptables!, r)})
    else if (p.nft) out.push({mode: 'none', run: (r) => traceNftables(p.nft!, r)})
  }
  return out
}

/** Tries the modes in kernel order; the first that does something with the packet gives the path. */
function combined(name: string, tracers: Tracer[]): (req: IptablesTraceRequest) => IptablesTrace {
  return (req) => {
    let used = tracers[0]
    let trace = used.run(req)
    for (const t of tracers.slice(1)) {
      if (trace.outcomes.some((o) => o.verdict !== 'no-match')) break
      used = t
      trace = t.run(req)
    }
    if (tracers.length === 1) return trace
    const others = tracers.filter((t) => t !== used).map((t) => t.mode)
    const order = tracers.some((t) => t.mode === 'iptables') && tracers.some((t) => t.mode === 'nftables') ? '; iptables and nftables nat chains both run at priority -100, in the order they were registered, so which set acts first is not certain' : ''
    return {...trace, notes: [...trace.notes, `${name} also holds ${others.join(' and ')} rules; this path was traced through the ${used.mode} rules${order}`]}
  }
}

/** Parses a node's dumps, detects its kube-proxy mode(s) and returns a tracer (pure). */
export function openDataplane(dp: NodeDataplane): OpenedDataplane {
  const name = dp.name
  if (dp.readError) return unreadable(name, dp.readError)
  if ([dp.iptablesSave, dp.nft, dp.ipvsadm, dp.procIpVs, dp.ipset].every((x) => x === undefined)) {
    return unreadable(name, 'no iptables-save output was read from this node')
  }
  let parsed: ParsedDataplane
  try {
    parsed = parseAll(dp)
  } catch (err) {
    if (!(err instanceof DumpError)) throw err
    return unreadable(name, err.message, err.message)
  }
  const modes = detectProxyModes(parsed)
  const findings: Finding[] = []
  // With another data plane in charge, no kube-proxy rules is by design: say so, but do not fail the run.
  if (modes.length === 0) findings.push(finding('node-has-no-kube-proxy-rules', {message: noRulesMessage(name, parsed), node: name}, replacementDataplanes(parsed).length > 0 ? 'warning' : 'error'))
  findings.push(...backendFindings(dp, modes))
  if (modes.length > 1) {
    findings.push(finding('proxy-modes-mixed', {
      message: `${name} holds rules of ${modes.length} kube-proxy modes (${modes.map((m) => m.mode).join(', ')}): the older set is probably left over from a mode switch and still acts on packets; remove it with kube-proxy --cleanup (run with the old mode's flags) or a node reboot`,
      node: name,
      evidence: modes.map((m) => `${m.mode}: ${m.evidence}`),
    }))
  }
  const userspace = modes.find((m) => m.mode === 'userspace')
  if (userspace) {
    findings.push(finding('proxy-mode-userspace', {message: `${name} runs kube-proxy in userspace mode (${userspace.evidence}), removed in v1.26: Service traffic is redirected to kube-proxy itself, which picks the backend in-process (round-robin); no dump shows which backend a connection gets`, node: name}))
  }
  const ipvs = modes.find((m) => m.mode === 'ipvs')
  if (ipvs && !parsed.ipvs) {
    findings.push(finding('proxy-mode-not-traced', {message: `${name} runs kube-proxy in IPVS mode (${ipvs.evidence}) but no IPVS table was read: capture ipvsadm -Sn (or /proc/net/ip_vs from the kube-proxy pod) and ipset save to trace it`, node: name}))
  }
  const tracers = tracersFor(parsed, modes)
  return {mode: modes[0]?.mode ?? 'none', modes, findings, ...(tracers.length > 0 ? {trace: combined(name, tracers)} : {})}
}
