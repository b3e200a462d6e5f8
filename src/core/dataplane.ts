// One node's data plane, opened once per report: its dumps parsed, the kube-proxy mode(s) detected,
// and a tracer for requests. When a node holds rules of two modes, the request goes to them in the
// order the kernel consults them (nat DNAT chains at priority -100 before IPVS at LOCAL_IN), and
// the first mode that does something with the packet gives the path.
import {indexCaptures, type IndexedCaptures} from './captures.js'
import {DumpError} from './iptables/dump.js'
import {iptablesMode} from './iptables/mode.js'
import {traceIptables} from './iptables/trace.js'
import {ipvsMode} from './ipvs/mode.js'
import {finding} from './checks/catalog.js'
import type {Finding, NodeDataplane, ProxyMode} from './model.js'
import {nftablesMode} from './nftables/mode.js'
import {traceNftables} from './nftables/trace.js'
import type {Trace, TraceRequest} from './trace/branch.js'
import type {ModeEvidence, ModePlugin, TracedMode} from './trace/mode.js'
import {userspaceMode} from './userspace.js'

type ParsedDataplane = IndexedCaptures

/** Every traced mode, newest first: the order detection reports them in (leftovers are usually older). */
const MODES: ReadonlyArray<ModePlugin<IndexedCaptures>> = [nftablesMode, ipvsMode, iptablesMode, userspaceMode]

/** Every mode the node has rules of, newest first, each with what showed it. */
function detectProxyModes(p: IndexedCaptures): ModeEvidence[] {
  const found: ModeEvidence[] = []
  for (const m of MODES) {
    const evidence = m.detect(p, found)
    if (evidence !== undefined) found.push({mode: m.mode, evidence})
  }
  return found
}

/** A node ready to trace: its mode, the findings about its rules, and the tracer (if any). */
export interface OpenedDataplane {
  /** The current mode: the newest one found when several are (leftovers are usually older). */
  mode: ProxyMode
  modes: ModeEvidence[]
  findings: Finding[]
  readError?: string
  trace?: (req: TraceRequest) => Trace
}

interface Tracer {
  mode: TracedMode | 'none'
  run: (req: TraceRequest) => Trace
}

function unreadable(name: string, readError: string, message = `${name}: ${readError}`): OpenedDataplane {
  return {mode: 'unknown', modes: [], readError, findings: [finding('node-unreadable', {message, node: name})]}
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
function replacementDataplanes(p: ParsedDataplane): Array<{name: string; tool: string; example: string}> {
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
  const detected = new Set(modes.map((m) => m.mode))
  const out: Tracer[] = []
  for (const m of [...MODES].sort((a, b) => a.kernelOrder - b.kernelOrder)) {
    const run = m.tracer(p, detected)
    if (run) out.push({mode: m.mode, run})
  }
  if (out.length === 0 && modes.length === 0) {
    // No kube-proxy rules: trace what was read anyway, so each path says "no rule".
    const {iptables, nft} = p
    if (iptables) out.push({mode: 'none', run: (r) => traceIptables(iptables, r)})
    else if (nft) out.push({mode: 'none', run: (r) => traceNftables(nft, r)})
  }
  return out
}

/** Tries the modes in kernel order; the first that does something with the packet gives the path. */
function combined(name: string, first: Tracer, tracers: Tracer[]): (req: TraceRequest) => Trace {
  return (req) => {
    let used = first
    let trace = used.run(req)
    for (const t of tracers.slice(1)) {
      if (trace.outcomes.some((o) => o.verdict !== 'no-match')) break
      used = t
      trace = t.run(req)
    }
    if (tracers.length === 1) return trace
    const others = tracers.filter((t) => t !== used).map((t) => t.mode)
    // iptables and nftables nat chains both run at priority -100, in the order they were registered.
    const orderUncertain = tracers.some((t) => t.mode === 'iptables') && tracers.some((t) => t.mode === 'nftables')
    return {...trace, notes: [...trace.notes, {kind: 'modes-mixed', node: name, others, used: used.mode, orderUncertain}]}
  }
}

/** Parses a node's dumps, detects its kube-proxy mode(s) and returns a tracer (pure). */
export function openDataplane(dp: NodeDataplane): OpenedDataplane {
  const name = dp.name
  if (dp.readError) return unreadable(name, dp.readError)
  if (dp.captures.length === 0) {
    return unreadable(name, 'no iptables-save output was read from this node')
  }
  let parsed: ParsedDataplane
  try {
    parsed = indexCaptures(dp)
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
  const first = tracers[0]
  return {mode: modes[0]?.mode ?? 'none', modes, findings, ...(first ? {trace: combined(name, first, tracers)} : {})}
}
