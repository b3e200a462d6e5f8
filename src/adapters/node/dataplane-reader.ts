// What is read from one open node session: one compound command for the first round (batch.ts: one
// exec channel), and for a single-Service trace at most one more. The kube-proxy mode is found from
// what is there (nat KUBE-SERVICES, `table ip kube-proxy`, IPVS virtual servers), never assumed.
// Every command comes from nodeCommands (the allow-list); nothing here builds a command line.
//
// First round, whole dumps (check mode, --capture):    first round, one Service (targeted):
//   iptables -V, then by the backend it names:           iptables -V, then by the backend it names:
//     nf_tables: iptables-save, iptables-legacy-save        nf_tables: iptables -S KUBE-SERVICES and every chain
//     legacy: iptables-save, iptables-nft-save                 the API predicts, iptables-legacy-save
//   IPv6 Services: ip6tables-save                           legacy: iptables-save -t nat, -t filter, iptables-nft-save
//   nft list chain ip kube-proxy services, and when it   IPv6 Services: ip6tables -V, then the same with ip6tables
//     is there: nft -j list table ip kube-proxy
//   cat /proc/net/ip_vs, and when it lists virtual       nft, /proc/net/ip_vs (and ipvsadm, ipset) as on the left
//     servers: ipvsadm -S -n, ipset save
// The other backend's dump is counted (kube-proxy may write the one the node's `iptables` does not read).
import type {CollectionPlan} from '../../core/collection-plan.js'
import type {NodeDataplane} from '../../core/model.js'
import {countKubeProxyRules} from '../../core/kube-proxy/other-backend.js'
import {captureOf, captureText, withCapture} from '../../core/captures.js'
import {runBatch, type BatchOutcomes, type BatchStep, type StepOutcome} from './batch.js'
import {BACKEND_MARKERS, BACKEND_MARKERS6, iptablesBackendOf, nodeCommands} from './commands.js'
import {isMissingProgram, NodeAccessError, type NodeSession} from './connector.js'
import {conntrackSteps, placeConntrack} from './conntrack-read.js'
import {chainListingSteps, familyPresent, SMALL_KUBE_SERVICES_BYTES, legacySteps, wholeTableSteps} from './targeted-iptables.js'
import {IPV4, IPV6} from './iptables-family.js'
import {readTargetedIptables, type Backend, type IptablesText} from './targeted-read.js'

/** -v: how the node was read (rounds, fallbacks, what was chosen). */
export type ReadNote = (text: string) => void

/** A program that is not on the node (exit 127): that mode is simply not there. */
function isNotInstalled(o: StepOutcome | undefined): boolean {
  return o instanceof NodeAccessError && isMissingProgram(o)
}

/** A probe's output; undefined when it failed as a command ("not there"). Sudo refusals end the node. */
function probed(o: StepOutcome | undefined): string | undefined {
  if (o === undefined) return undefined
  if (o instanceof NodeAccessError) {
    if (o.kind === 'command' || o.kind === 'too-large') return undefined
    throw o
  }
  return o.stdout
}

/** A main read's output; undefined when the program is missing, any other failure ends the node. */
function mainRead(o: StepOutcome | undefined): string | undefined {
  if (o === undefined || isNotInstalled(o)) return undefined
  if (o instanceof NodeAccessError) throw o
  return o.stdout
}

const KUBE_SERVICES = /^(:KUBE-SERVICES |-A KUBE-SERVICES )/m
// Virtual servers in /proc/net/ip_vs: `TCP  0A600001:01BB rr` (the header lines start otherwise).
const IPVS_SERVER = /^(TCP|UDP|SCTP|FWM)\s+\S/m
const IPVS_SERVER_TEXTS = ['TCP  ', 'UDP  ', 'SCTP ', 'FWM  ']

const otherSave = (current: Backend): BatchStep =>
  current === 'nft' ? {id: 'other-legacy', cmd: nodeCommands.iptablesLegacySave()} : {id: 'other-nft', cmd: nodeCommands.iptablesNftSave()}

/**
 * The iptables part of the first round: what to read once `iptables -V` has named the backend. Legacy
 * is tested for: any other answer (nf_tables, or none) reads like nf_tables, and the other backend's
 * dump is only counted when the backend is known.
 */
function iptablesSteps(plan: CollectionPlan, smallBytes: number): BatchStep {
  const save: BatchStep = {id: 'save', cmd: nodeCommands.iptablesSave(plan.counters)}
  // iptables-legacy loads the whole table for every `iptables -S CHAIN`: two whole tables are quicker.
  const legacy = plan.full ? [save] : legacySteps(plan)
  const other = plan.full ? [save] : chainListingSteps(plan, smallBytes)
  return {
    id: 'version',
    cmd: nodeCommands.iptablesVersion(),
    branches: [
      {when: {printed: BACKEND_MARKERS.legacy}, steps: [...legacy, otherSave('legacy')]},
      {when: {always: true}, steps: [...other, otherSave('nft')]},
    ],
  }
}

/**
 * IPv6 Services: kube-proxy's ip6tables rules, whole for a full read; for one Service read as IPv4 is,
 * by the backend `ip6tables -V` names (it may differ from iptables': each tool has its alternative).
 */
function ip6tablesSteps(plan: CollectionPlan, smallBytes: number): BatchStep[] {
  if (!plan.ipv6) return []
  if (plan.full) return [{id: 'save6', cmd: nodeCommands.ip6tablesSave(plan.counters)}]
  return [
    {
      id: 'version6',
      cmd: nodeCommands.ip6tablesVersion(),
      branches: [
        {when: {printed: BACKEND_MARKERS6.legacy}, steps: legacySteps(plan, IPV6)},
        {when: {always: true}, steps: chainListingSteps(plan, smallBytes, IPV6)},
      ],
    },
  ]
}

/** kube-proxy's nftables table of one family, listed only when a cheap look shows it is there. */
function nftSteps(family: 'ip' | 'ip6'): BatchStep {
  const id = family === 'ip6' ? 'nft6' : 'nft'
  return {
    id: `${id}-probe`,
    cmd: nodeCommands.nftProbeKubeProxy(family),
    // kube-proxy's services chain is a few rules (the Services are in its maps).
    small: true,
    branches: [
      {when: {failed: true}, steps: []},
      {when: {always: true}, steps: [{id, cmd: nodeCommands.nftListKubeProxy(family)}]},
    ],
  }
}

/** Every step of the first round. */
export function firstRound(plan: CollectionPlan, smallBytes = SMALL_KUBE_SERVICES_BYTES): BatchStep[] {
  return [
    ...conntrackSteps(plan),
    iptablesSteps(plan, smallBytes),
    ...ip6tablesSteps(plan, smallBytes),
    nftSteps('ip'),
    ...(plan.ipv6 ? [nftSteps('ip6')] : []),
    // ipvsadm only when the kernel already has virtual servers: it would load the ip_vs module otherwise.
    {
      id: 'ipvs',
      cmd: nodeCommands.procIpVs(),
      branches: [
        {
          when: {printed: IPVS_SERVER_TEXTS},
          steps: [
            {id: 'ipvsadm', cmd: nodeCommands.ipvsadmSave()},
            {id: 'ipset', cmd: nodeCommands.ipsetSave()},
            // The weights are only in the save; the counters only in the listing.
            ...(plan.counters ? [{id: 'ipvsadm-stats', cmd: nodeCommands.ipvsadmStats()}] : []),
          ],
        },
      ],
    },
  ]
}

/** The node's default backend and what the other one holds, from the first round. */
function otherBackend(outcomes: BatchOutcomes, node: string, backend: Backend | undefined) {
  const other: Backend = backend === 'nft' ? 'legacy' : 'nft'
  const text = backend ? probed(outcomes.get(`other-${other}`)) : undefined
  if (!backend || text === undefined) return undefined
  return {backend: other, text, source: `${node}: ${other === 'legacy' ? 'iptables-legacy-save' : 'iptables-nft-save'}`, kubeRules: countKubeProxyRules(text)}
}

/** Puts the iptables text in `out` (or the other backend's, when only it has kube-proxy's rules). */
function placeIptables(out: NodeDataplane, primary: IptablesText | null, other: ReturnType<typeof otherBackend>, backend: Backend | undefined): void {
  const hasKube = primary !== null && KUBE_SERVICES.test(primary.text)
  if (!hasKube && other && other.kubeRules > 0 && backend) {
    // The node's default `iptables` is not the backend kube-proxy writes (its image picks one itself):
    // trace the backend that holds the rules.
    out.captures = withCapture(out.captures, {kind: 'iptables-save', text: other.text, source: other.source})
    out.otherIptablesBackend = {backend, kubeRules: 0, source: primary?.source ?? `${out.name}: iptables`}
    return
  }
  if (primary) out.captures = withCapture(out.captures, {kind: 'iptables-save', text: primary.text, source: primary.source})
  if (other) out.otherIptablesBackend = {backend: other.backend, kubeRules: other.kubeRules, source: other.source}
}

/** The IPv6 rules: the whole ip6tables-save of a full read, or the targeted read's chains. */
function placeIp6tables(out: NodeDataplane, outcomes: BatchOutcomes, node: string, targeted: IptablesText | null, counters = false): void {
  const save6 = probed(outcomes.get('save6'))
  const read = save6 !== undefined && save6.trim() !== '' ? {text: save6, source: `${node}: ip6tables-save${counters ? ' -c' : ''}`} : targeted
  if (read) out.captures = withCapture(out.captures, {kind: 'ip6tables-save', ...read})
}

function placeOtherModes(out: NodeDataplane, outcomes: BatchOutcomes, node: string): void {
  // A probe refused by sudo ends the node as the listing would have.
  probed(outcomes.get('nft-probe'))
  probed(outcomes.get('nft6-probe'))
  const nft = nftTables(probed(outcomes.get('nft')), probed(outcomes.get('nft6')))
  if (nft) out.captures = withCapture(out.captures, {kind: 'nft', text: nft.text, source: `${node}: ${nft.source}`})
  const proc = probed(outcomes.get('ipvs'))
  if (proc === undefined || !IPVS_SERVER.test(proc)) return
  const ipvsadm = probed(outcomes.get('ipvsadm'))
  // The kube-proxy image has no ipvsadm: the kernel's own listing holds the same table.
  out.captures = withCapture(
    out.captures,
    ipvsadm !== undefined
      ? {kind: 'ipvsadm', text: ipvsadm, source: `${node}: ipvsadm -S -n`}
      : {kind: 'proc-ip-vs', text: proc, source: `${node}: /proc/net/ip_vs`},
  )
  const ipset = probed(outcomes.get('ipset'))
  if (ipset !== undefined) out.captures = withCapture(out.captures, {kind: 'ipset', text: ipset, source: `${node}: ipset save`})
  const stats = probed(outcomes.get('ipvsadm-stats'))
  if (stats !== undefined) out.captures = withCapture(out.captures, {kind: 'ipvsadm-stats', text: stats, source: `${node}: ipvsadm -L -n --stats --exact`})
}

/** `nft -j` of kube-proxy's ip table and, for IPv6 Services, its ip6 table: one JSON ruleset. */
function nftTables(ip: string | undefined, ip6: string | undefined): {text: string; source: string} | undefined {
  const present = [ip, ip6].map((t) => (t?.trim() ? t : undefined))
  const [v4, v6] = present
  if (v4 && !v6) return {text: v4, source: 'nft -j list table ip kube-proxy'}
  if (!v4 && v6) return {text: v6, source: 'nft -j list table ip6 kube-proxy'}
  if (!v4 || !v6) return undefined
  const items = (text: string): unknown[] => {
    const parsed = JSON.parse(text) as {nftables?: unknown[]}
    return Array.isArray(parsed.nftables) ? parsed.nftables : []
  }
  try {
    // The second listing's metainfo would repeat the first's.
    const rest = items(v6).filter((i) => !(typeof i === 'object' && i !== null && 'metainfo' in i))
    return {text: JSON.stringify({nftables: [...items(v4), ...rest]}), source: 'nft -j list table ip kube-proxy, table ip6 kube-proxy'}
  } catch {
    // Not JSON (an nft that ignores -j): the parser reads the IPv4 listing and says what is wrong with it.
    return {text: v4, source: 'nft -j list table ip kube-proxy'}
  }
}

/** Whether iptables is there at all: `iptables -V` or any read of it ran (some images answer listings but not -V). */
function iptablesPresent(outcomes: BatchOutcomes): boolean {
  const save = outcomes.get('save')
  return familyPresent(outcomes, IPV4) || (save !== undefined && !isNotInstalled(save))
}

/** The backend a `-V` step named, or undefined when it did not run or named none. */
function backendNamed(o: StepOutcome | undefined, markers: typeof BACKEND_MARKERS | typeof BACKEND_MARKERS6): Backend | undefined {
  return o === undefined || o instanceof NodeAccessError ? undefined : iptablesBackendOf(o.stdout, markers)
}

/**
 * Reads one node's data plane as the plan says: one compound command, and for a targeted read a second
 * one when the first revealed chains the API did not predict. Access errors reject (NodeAccessError).
 */
export async function readNodeDataplane(
  session: NodeSession,
  node: string,
  plan: CollectionPlan,
  note: ReadNote = () => undefined,
  /** Up to this size of nat KUBE-SERVICES, a targeted read takes nat and filter whole (tests set 0 to list chains). */
  smallBytes = SMALL_KUBE_SERVICES_BYTES,
  /** The first batch, when the caller made it already (handed to the connection before it was ready: FirstBatch). */
  round = firstRound(plan, smallBytes),
): Promise<NodeDataplane> {
  const out: NodeDataplane = {name: node, captures: []}
  const fellBack = (why: string) => note(`${why}; ran the commands one by one`)
  const first = await runBatch(session, round, fellBack)
  const backend = backendNamed(first.get('version'), BACKEND_MARKERS)
  let primary: IptablesText | null = null
  let targeted6: IptablesText | null = null
  if (plan.full) {
    const text = mainRead(first.get('save'))
    if (text !== undefined) primary = {text, source: `${node}: iptables-save${plan.counters ? ' -c' : ''}`}
  } else {
    const backends = {ipv4: backend, ipv6: backendNamed(first.get('version6'), BACKEND_MARKERS6)}
    const read = await readTargetedIptables(session, node, plan, first, round, backends, smallBytes, note, fellBack)
    primary = read.ipv4
    targeted6 = read.ipv6
  }
  placeIptables(out, primary, otherBackend(first, node, backend), backend)
  placeIp6tables(out, first, node, targeted6, plan.counters)
  placeOtherModes(out, first, node)
  placeConntrack(out, first, conntrackSteps(plan), node)
  const iptablesCapture = captureOf(out, 'iptables-save')
  const iptablesText = iptablesCapture ? captureText(iptablesCapture) : undefined
  const kube = KUBE_SERVICES.test(iptablesText ?? '')
  const found = kube || out.captures.some((c) => c.kind === 'nft' || c.kind === 'ipvsadm' || c.kind === 'proc-ip-vs')
  const hasIptables = iptablesPresent(first) || primary !== null
  if (!found && hasIptables && !iptablesText?.trim()) {
    // No kube-proxy rules anywhere: the whole (small) dump shows what is there instead (another data
    // plane's chains, the REJECTs of the filter table); when it prints no table at all, the nat table,
    // which iptables-save -t lists even when empty.
    const save: BatchStep[] = plan.full ? [] : [{id: 'save', cmd: nodeCommands.iptablesSave(plan.counters)}]
    const look = await runBatch(session, [...save, ...wholeTableSteps(['nat'], plan.counters)], fellBack)
    const whole = probed(look.get('save'))
    const [text, source] = whole?.trim() ? [whole, 'iptables-save'] : [probed(look.get('whole:nat')), 'iptables-save -t nat']
    out.captures = withCapture(out.captures, {kind: 'iptables-save', text: text ?? '', source: `${node}: ${source}`})
  }
  if (!found && !hasIptables) {
    throw new NodeAccessError(
      `${node} has none of iptables-save, nft (table ip kube-proxy) or IPVS state: is kube-proxy running there, and are the iptables tools installed?`,
      'command',
    )
  }
  return out
}
