// One node's data plane, opened once per report: its dumps parsed, the kube-proxy mode(s) detected,
// and a tracer for requests. When a node holds rules of two modes, the request goes to them in the
// order the kernel consults them (nat DNAT chains at priority -100 before IPVS at LOCAL_IN), and
// the first mode that does something with the packet gives the path.
import {indexCaptures, type IndexedCaptures} from './captures.js'
import {DumpError, nextGeneration} from './iptables/dump.js'
import {iptablesMode, traceIptablesByFamily} from './iptables/mode.js'
import {ipvsMode} from './ipvs/mode.js'
import {finding} from './checks/catalog.js'
import {checkDataplane} from './checks/dataplane-checks.js'
import type {Finding, NodeDataplane, ProxyMode} from './model.js'
import {nftablesMode} from './nftables/mode.js'
import {traceNftables} from './nftables/trace.js'
import type {Trace, TraceRequest} from './trace/branch.js'
import type {ModeEvidence, ModePlugin, TracedMode} from './trace/mode.js'
import {userspaceMode} from './userspace.js'

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
  /** Rules in nat KUBE-SERVICES of the iptables dumps (IPv4 and IPv6 added up), when the node has one. */
  kubeServicesRules?: number
  trace?: (req: TraceRequest) => Trace
  /**
   * The traces so far are done, and the next ones are about other Services (check mode, between
   * Services): what only they parsed may go. Traces stay right without it, only held longer.
   */
  release: () => void
}

/** Rules in nat KUBE-SERVICES: every new connection in iptables mode is compared with them in turn. */
function kubeServicesRules(p: IndexedCaptures): number | undefined {
  const counts = [p.iptables, p.iptables6].flatMap((d) => d?.tables.get('nat')?.get('KUBE-SERVICES')?.ruleCount ?? [])
  return counts.length > 0 ? counts.reduce((a, b) => a + b, 0) : undefined
}

interface Tracer {
  mode: TracedMode | 'none'
  run: (req: TraceRequest) => Trace
}

const nothingHeld = () => {}

function unreadable(name: string, readError: string, message = `${name}: ${readError}`): OpenedDataplane {
  return {mode: 'unknown', modes: [], readError, findings: [finding('node-unreadable', {message, node: name})], release: nothingHeld}
}

function tracersFor(p: IndexedCaptures, modes: ModeEvidence[]): Tracer[] {
  const detected = new Set(modes.map((m) => m.mode))
  const out: Tracer[] = []
  for (const m of [...MODES].sort((a, b) => a.kernelOrder - b.kernelOrder)) {
    const run = m.tracer(p, detected)
    if (run) out.push({mode: m.mode, run})
  }
  if (out.length === 0 && modes.length === 0) {
    // No kube-proxy rules: trace what was read anyway, so each path says "no rule".
    const {nft} = p
    if (p.iptables || p.iptables6) out.push({mode: 'none', run: (r) => traceIptablesByFamily(p, r)})
    else if (nft) out.push({mode: 'none', run: (r) => traceNftables(nft, r)})
  }
  return out
}

/** Tries the modes in kernel order; the first that does something with the packet gives the path. */
function combined(name: string, first: Tracer, tracers: Tracer[]): (req: TraceRequest) => Trace {
  return (req) => {
    let used = first
    let trace = used.run(req)
    let visited = trace.rulesVisited
    for (const t of tracers.slice(1)) {
      if (trace.outcomes.some((o) => o.verdict !== 'no-match')) break
      used = t
      trace = t.run(req)
      visited += trace.rulesVisited
    }
    if (tracers.length === 1) return trace
    const others = tracers.filter((t) => t !== used).map((t) => t.mode)
    // iptables and nftables nat chains both run at priority -100, in the order they were registered.
    const orderUncertain = tracers.some((t) => t.mode === 'iptables') && tracers.some((t) => t.mode === 'nftables')
    return {...trace, notes: [...trace.notes, {kind: 'modes-mixed', node: name, others, used: used.mode, orderUncertain}], rulesVisited: visited}
  }
}

/** Parses a node's dumps, detects its kube-proxy mode(s) and returns a tracer (pure). */
export function openDataplane(dp: NodeDataplane): OpenedDataplane {
  const name = dp.name
  // An interrupted read says nothing about the node; the report's `partial` names it instead.
  if (dp.interrupted) return {mode: 'unknown', modes: [], readError: dp.readError ?? 'interrupted', findings: [], release: nothingHeld}
  if (dp.readError) return unreadable(name, dp.readError)
  if (dp.captures.length === 0) {
    return unreadable(name, 'no iptables-save output was read from this node')
  }
  let parsed: IndexedCaptures
  try {
    parsed = indexCaptures(dp)
  } catch (err) {
    if (!(err instanceof DumpError)) throw err
    return unreadable(name, err.message, err.message)
  }
  const modes = detectProxyModes(parsed)
  const findings = checkDataplane({dp, captures: parsed, modes})
  const tracers = tracersFor(parsed, modes)
  const first = tracers[0]
  const rules = kubeServicesRules(parsed)
  return {
    mode: modes[0]?.mode ?? 'none',
    modes,
    findings,
    ...(rules !== undefined ? {kubeServicesRules: rules} : {}),
    ...(first ? {trace: combined(name, first, tracers)} : {}),
    release: () => {
      for (const dump of [parsed.iptables, parsed.iptables6]) if (dump) nextGeneration(dump)
    },
  }
}
