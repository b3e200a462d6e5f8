// A one-Service read's iptables part, for each family the plan needs (IPv4 with iptables, IPv6 with
// ip6tables when the Service has an IPv6 family): what the first round read (chain by chain, kept
// chains of a legacy node's saves, or small tables whole) is recorded per family; one second round
// reads, for both families at once, what the first revealed that the API did not predict; each
// family's chains are joined into the iptables-save-shaped text the tracer reads.
//
// IPv6 is read even where its nat KUBE-SERVICES is missing (its IPv6 proxier is not running, or
// kube-proxy is in another mode): the tables then read whole are what a whole ip6tables-save showed.
import type {CollectionPlan} from '../../core/collection-plan.js'
import {runBatch, type BatchOutcomes, type BatchStep} from './batch.js'
import {NodeAccessError} from './connector.js'
import {emptyTargeted, familyPresent, hasKubeServices, recordRound, secondRound, targetedCapture, type TargetedState} from './targeted-iptables.js'
import {IPV4, IPV6, type IptablesFamily} from './iptables-family.js'
import type {NodeSession} from './connector.js'

export type Backend = 'legacy' | 'nft'

/** A family's rules as iptables-save text, and where they came from. */
export interface IptablesText {
  text: string
  source: string
}

interface FamilyRead {
  fam: IptablesFamily
  state: TargetedState
  second: {steps: BatchStep[]; why: string[]} | undefined
  why: string[]
}

/** Why the first round read what it did, for -v and the capture's source. */
function firstRoundWhy(fam: IptablesFamily, first: BatchOutcomes, backend: Backend | undefined): string[] {
  const tool = fam.tool
  if (backend === 'legacy')
    return [`${tool}-legacy loads a whole table for each ${tool} -S CHAIN: one ${tool}-save per table, only these chains sent (grep on the node)`]
  if (!first.has(`whole${fam.idSuffix}:nat`)) return []
  return first.get(`nat${fam.idSuffix}:KUBE-SERVICES`) instanceof NodeAccessError
    ? ['no nat KUBE-SERVICES: nat and filter read whole']
    : ['KUBE-SERVICES is small: nat and filter whole cost no more than listing chains']
}

/** What the first round read of one family, and what its second round needs; undefined when there is nothing to trace yet. */
function afterFirstRound(
  fam: IptablesFamily,
  first: BatchOutcomes,
  round: readonly BatchStep[],
  node: string,
  plan: CollectionPlan,
  backend: Backend | undefined,
  smallBytes: number,
): FamilyRead | undefined {
  const state = emptyTargeted()
  recordRound(state, first, node, round, fam)
  // IPv4 without KUBE-SERVICES is left to the reader (it looks at the whole dump then); IPv6 goes on
  // with what it read, following jumps the entry chains make.
  if (fam === IPV4 && !hasKubeServices(state.collection) && state.whole.size === 0) return undefined
  const second = secondRound(state, plan, smallBytes, backend === 'legacy', fam)
  return {fam, state, second, why: firstRoundWhy(fam, first, backend)}
}

/**
 * The targeted iptables reads of both families after the first round: a second round (one batch for
 * both) only for what the first revealed. `note` says per family which way it was read. Null for a
 * family whose tool is missing, or (IPv4) whose nat KUBE-SERVICES was not found.
 */
export async function readTargetedIptables(
  session: NodeSession,
  node: string,
  plan: CollectionPlan,
  first: BatchOutcomes,
  round: readonly BatchStep[],
  backends: {ipv4: Backend | undefined; ipv6: Backend | undefined},
  smallBytes: number,
  note: (text: string) => void,
  fellBack: (why: string) => void,
): Promise<{ipv4: IptablesText | null; ipv6: IptablesText | null}> {
  const families = [IPV4, ...(plan.ipv6 ? [IPV6] : [])].filter((fam) => familyPresent(first, fam))
  const backendOf = (fam: IptablesFamily) => (fam === IPV6 ? backends.ipv6 : backends.ipv4)
  const reads = families.flatMap((fam) => afterFirstRound(fam, first, round, node, plan, backendOf(fam), smallBytes) ?? [])
  for (const r of reads) {
    const what = [...r.why, ...(r.second?.why ?? []), r.second ? 'a second round' : 'one round']
    note(`targeted ${r.fam === IPV6 ? 'IPv6 ' : ''}read (${backendOf(r.fam) ?? 'unknown'} backend): ${what.join('; ')}`)
  }
  const steps = reads.flatMap((r) => r.second?.steps ?? [])
  if (steps.length > 0) {
    const outcomes = await runBatch(session, steps, fellBack)
    for (const r of reads) if (r.second) recordRound(r.state, outcomes, node, r.second.steps, r.fam)
  }
  const captureOf = (fam: IptablesFamily): IptablesText | null => {
    const r = reads.find((x) => x.fam === fam)
    if (!r) return null
    const capture = targetedCapture(r.state, node, r.second ? 2 : 1, [...r.why, ...(r.second?.why ?? [])], fam)
    // IPv6 without kube-proxy's rules: what was read of its tables, unless that is nothing at all.
    if (fam === IPV6 ? capture.text.trim() === '' : !hasKubeServices(r.state.collection)) return null
    return capture
  }
  return {ipv4: captureOf(IPV4), ipv6: captureOf(IPV6)}
}
