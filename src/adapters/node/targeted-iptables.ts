// Targeted collection: instead of a whole `iptables-save` (63 MB on a generated 10,000-Service node:
// 2 s with iptables-legacy, minutes with iptables-nft 1.8.9, whose save grows quadratically), read
// only the chains a single-Service trace walks, one `iptables -w 5 -t TABLE -S CHAIN` each, all in
// the node read's first compound command (dataplane-reader.ts): KUBE-SERVICES, the entry chains and
// the KUBE-SVC/SVL/EXT/FW/SEP names the API predicts. A second round reads what those rules jump to
// that the API did not predict (chain-listing.ts nextChains): stale KUBE-SEP chains are listed (they
// jump only to chains already read); anything else — a chain that jumps further, a CNI's chain the
// allow-list cannot name, or a small KUBE-SERVICES where a whole table is as cheap — reads its table
// whole, so there is never a third round. The result is iptables-save text the tracer reads like a
// whole dump. iptables-legacy loads the whole table for every listing, under the xtables lock (1.5 s
// each on that node), so on a legacy node nat and filter are read whole from the start (npm run
// bench measures both backends).
//
// kube-proxy writes an IPv6 Service's rules with ip6tables, under the same chain names: IPv6 is read
// the same way with ip6tables (IptablesFamily), in the same compound commands, with its own state.
import type {CollectionPlan} from '../../core/collection-plan.js'
import {
  emptyCollection,
  formatChainCollection,
  nextChains,
  parseChainListing,
  recordChain,
  type ChainCollection,
  type ChainRef,
  type ListedChain,
} from '../../core/iptables/chain-listing.js'
import {DumpError} from '../../core/iptables/dump.js'
import {allSteps, type BatchOutcomes, type BatchStep, type StepOutcome} from './batch.js'
import {UnsafeArgumentError, type NodeCommand} from './commands.js'
import {isMissingProgram, NodeAccessError} from './connector.js'
import {IPV4, IPV6, type IptablesFamily} from './iptables-family.js'

/** The tables the tracer walks. */
const TABLES = ['nat', 'filter'] as const

/**
 * Up to this size of nat KUBE-SERVICES (about 200 Services), reading nat and filter whole costs no more
 * than listing chain by chain (npm run bench: iptables-nft's save grows quadratically, so not beyond).
 */
export const SMALL_KUBE_SERVICES_BYTES = 32 * 1024

// iptables-legacy: "iptables: No chain/target/match by that name."; iptables-nft 1.8.9 says a missing
// chain "in table `nat' is incompatible"; a kernel without the nat table: "Table does not exist".
const MISSING_CHAIN = /No chain\/target\/match by that name|chain `[^']*' in table `[^']*' is incompatible|does not exist/
// iptables-legacy lists a chain by loading the whole table under /run/xtables.lock (exit 4 when -w runs out).
const LOCK_BUSY = /xtables lock|Can't lock/

/** What targeted collection has read, and what the second round must read whole. */
export interface TargetedState {
  collection: ChainCollection
  /** Tables to read whole in the second round, with why. */
  whole: Map<string, string>
}

const listId = (ref: ChainRef, fam: IptablesFamily) => `${ref.table}${fam.idSuffix}:${ref.chain}`
const wholeId = (table: string, fam: IptablesFamily) => `whole${fam.idSuffix}:${table}`

/** The allow-listed command for one chain, or undefined when its name is not one the list accepts (a CNI's). */
function listCommand(ref: ChainRef, fam: IptablesFamily, counters = false): NodeCommand | undefined {
  try {
    return fam.listChain(ref.table, ref.chain, counters)
  } catch (err) {
    if (err instanceof UnsafeArgumentError) return undefined
    throw err
  }
}

/**
 * The nf_tables backend's first round: nat KUBE-SERVICES, then by what it printed: nat and filter whole
 * when it is small, else one `iptables -S` per chain the plan predicts. When it is missing (no
 * kube-proxy in iptables mode), nothing more for IPv4 (the reader then looks at the whole dump); for
 * IPv6, nat and filter whole at once (small without kube-proxy's rules), which a whole ip6tables-save
 * read would have shown.
 */
export function chainListingSteps(plan: CollectionPlan, smallBytes = SMALL_KUBE_SERVICES_BYTES, fam: IptablesFamily = IPV4): BatchStep[] {
  const services: ChainRef = {table: 'nat', chain: 'KUBE-SERVICES'}
  const chains = fam.chainsOf(plan)
  const refs: ChainRef[] = TABLES.flatMap((table) => chains[table].map((chain) => ({table, chain})))
  const seen = new Set<string>([listId(services, fam)])
  const listings: BatchStep[] = []
  for (const ref of refs) {
    const cmd = listCommand(ref, fam, plan.counters)
    if (!cmd || seen.has(listId(ref, fam))) continue
    seen.add(listId(ref, fam))
    listings.push({id: listId(ref, fam), cmd, small: true})
  }
  // Read whole only when nat KUBE-SERVICES is small, or (IPv6) when kube-proxy wrote none of its rules there.
  const whole = wholeTableSteps(TABLES, plan.counters, fam, true)
  return [
    {
      id: listId(services, fam),
      cmd: fam.listChain('nat', 'KUBE-SERVICES', plan.counters),
      branches: [
        {when: {failed: true}, steps: fam === IPV6 ? whole : []},
        {when: {printedAtMost: smallBytes}, steps: whole},
        {when: {always: true}, steps: listings},
      ],
    },
  ]
}

/**
 * A legacy node's reads: `iptables-save -t TABLE` with only these chains sent back (grep on the node),
 * since iptables-legacy loads the whole table for every `iptables -S CHAIN` anyway.
 */
function keptChainSteps(refs: readonly ChainRef[], fam: IptablesFamily, counters = false): BatchStep[] {
  return TABLES.flatMap((table) => {
    const keep = [...new Set(refs.filter((r) => r.table === table && listCommand(r, fam) !== undefined).map((r) => r.chain))]
    return keep.length === 0 ? [] : [{id: `keep${fam.idSuffix}:${table}`, cmd: fam.saveTable(table, counters), keep}]
  })
}

/** The first round's chains on a legacy node: KUBE-SERVICES and what the plan predicts. */
export function legacySteps(plan: CollectionPlan, fam: IptablesFamily = IPV4): BatchStep[] {
  const chains = fam.chainsOf(plan)
  return keptChainSteps(
    [{table: 'nat', chain: 'KUBE-SERVICES'}, ...TABLES.flatMap((table) => chains[table].map((chain) => ({table, chain})))],
    fam,
    plan.counters,
  )
}

/** The chains of an `iptables-save -t TABLE` text (whole, or filtered to them): each listed, or null when not declared. */
function recordSaved(c: ChainCollection, table: string, chains: readonly string[], text: string): void {
  const found = new Map<string, ListedChain>()
  const wanted = new Set(chains)
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) {
      const [name = '', policy = '-'] = line.slice(1).split(' ', 2)
      if (wanted.has(name)) found.set(name, {table, name, ...(policy !== '-' ? {policy} : {}), rules: []})
    } else {
      // `-A NAME …`, or `[pkts:bytes] -A NAME …` from iptables-save -c.
      const at = line.startsWith('[') ? line.indexOf('] ') + 2 : 0
      if (!line.startsWith('-A ', at)) continue
      const end = line.indexOf(' ', at + 3)
      found.get(line.slice(at + 3, end < 0 ? undefined : end))?.rules.push(line.trimEnd())
    }
  }
  for (const chain of chains) recordChain(c, table, chain, found.get(chain) ?? null)
}

/**
 * `iptables-save -t TABLE` steps: a small table's first round, or a second round's whole tables.
 * `small`: the tables are known to be small (the first round's), so the script holds each in the shell
 * rather than streaming it (batch.ts `small`: fewer processes on the node).
 */
export function wholeTableSteps(tables: Iterable<string>, counters = false, fam: IptablesFamily = IPV4, small = false): BatchStep[] {
  return [...tables].map((table) => ({id: wholeId(table, fam), cmd: fam.saveTable(table, counters), ...(small ? {small} : {})}))
}

/** A listing's outcome: its rules, null for a missing chain, 'busy' when the xtables lock stayed taken. */
function listingOf(ref: ChainRef, outcome: StepOutcome, node: string) {
  if (outcome instanceof NodeAccessError) {
    if (MISSING_CHAIN.test(outcome.message)) return null
    if (LOCK_BUSY.test(outcome.message)) return 'busy' as const
    throw outcome
  }
  try {
    return parseChainListing(ref.table, ref.chain, outcome.stdout)
  } catch (err) {
    if (err instanceof DumpError) throw new NodeAccessError(`${node}: ${err.message}`, 'command')
    throw err
  }
}

/** The kind of a step id of this family (`nat` of `nat6:KUBE-SERVICES` for IPv6), or undefined when it is another family's. */
function kindOf(id: string, fam: IptablesFamily): {kind: string; rest: string} | undefined {
  const colon = id.indexOf(':')
  if (colon < 0) return undefined
  const kind = id.slice(0, colon)
  const bare = fam.idSuffix === '' ? kind : kind.endsWith(fam.idSuffix) ? kind.slice(0, -fam.idSuffix.length) : undefined
  return bare === undefined ? undefined : {kind: bare, rest: id.slice(colon + 1)}
}

/** True when a step of this family ran with the tool there (exit 127 is a tool not installed). */
export function familyPresent(outcomes: BatchOutcomes, fam: IptablesFamily): boolean {
  return [...outcomes].some(([id, o]) => {
    const k = id === `version${fam.idSuffix}` ? {kind: 'version'} : kindOf(id, fam)
    return k !== undefined && ['version', 'nat', 'filter', 'whole', 'keep'].includes(k.kind) && !(o instanceof NodeAccessError && isMissingProgram(o))
  })
}

/**
 * Records what a round read of this family (chain listings and whole tables, by step id) into `state`.
 * A table whose lock stayed busy is marked for a whole read. Throws NodeAccessError when a command
 * failed otherwise.
 */
export function recordRound(state: TargetedState, outcomes: BatchOutcomes, node: string, steps: readonly BatchStep[], fam: IptablesFamily = IPV4): void {
  const kept = new Map(allSteps(steps).map((s) => [s.id, s.keep ?? []]))
  for (const [id, outcome] of outcomes) {
    const k = kindOf(id, fam)
    if (!k) continue
    const {kind, rest} = k
    if (kind === 'keep') {
      if (outcome instanceof NodeAccessError) throw outcome
      recordSaved(state.collection, rest, kept.get(id) ?? [], outcome.stdout)
      continue
    }
    if (kind === 'whole') {
      if (outcome instanceof NodeAccessError) {
        if (!MISSING_CHAIN.test(outcome.message)) throw outcome
        state.collection.whole.set(rest, '')
      } else state.collection.whole.set(rest, outcome.stdout)
      continue
    }
    if (kind !== 'nat' && kind !== 'filter') continue
    const ref = {table: kind, chain: rest}
    const listing = listingOf(ref, outcome, node)
    const busy = 'the xtables lock stayed busy (iptables-legacy loads the whole table per listing)'
    // KUBE-SERVICES comes first and the rest only after it: when it could not be listed, neither was anything else.
    if (listing === 'busy') for (const t of ref.chain === 'KUBE-SERVICES' && kind === 'nat' ? TABLES : [kind]) state.whole.set(t, busy)
    else recordChain(state.collection, ref.table, ref.chain, listing)
  }
}

export function emptyTargeted(): TargetedState {
  return {collection: emptyCollection(), whole: new Map()}
}

/** True when nat KUBE-SERVICES was read (listed, or inside a whole nat table). */
export function hasKubeServices(c: ChainCollection): boolean {
  const whole = c.whole.get('nat')
  return whole === undefined ? Boolean(c.listed.get('nat')?.get('KUBE-SERVICES')) : /^:KUBE-SERVICES /m.test(whole)
}

/** A KUBE-SEP chain jumps only to KUBE-MARK-MASQ (read in the first round) and DNATs: listing it ends the walk. */
const ENDS_WALK = /^KUBE-(SEP|MARK)-/

/**
 * The second round: the chains the rules read so far jump to for the plan's destinations, listed when
 * each ends the walk and KUBE-SERVICES is large; otherwise their tables whole. Undefined when nothing
 * is missing. `why` says which was chosen (for -v and the capture's source).
 */
export function secondRound(
  state: TargetedState,
  plan: CollectionPlan,
  smallBytes = SMALL_KUBE_SERVICES_BYTES,
  legacy = false,
  fam: IptablesFamily = IPV4,
): {steps: BatchStep[]; why: string[]} | undefined {
  const c = state.collection
  const needed = nextChains(c, plan.destinations, plan.localAddresses !== undefined ? {localAddresses: plan.localAddresses} : {})
  const why: string[] = []
  const whole = new Map(state.whole)
  const services = c.listed.get('nat')?.get('KUBE-SERVICES')?.rules ?? []
  const serviceBytes = services.reduce((n, rule) => n + rule.length + 1, 0)
  for (const ref of needed) {
    if (whole.has(ref.table) || c.whole.has(ref.table)) continue
    if (listCommand(ref, fam) === undefined) whole.set(ref.table, `rules jump to ${ref.chain}, a chain the allow-list does not list`)
    else if (!ENDS_WALK.test(ref.chain)) whole.set(ref.table, `rules jump to ${ref.chain}, which the API did not predict`)
    else if (serviceBytes <= smallBytes && !legacy)
      whole.set(ref.table, `KUBE-SERVICES has ${services.length} rules: the whole table costs no more than listing ${ref.chain}`)
  }
  const listed = needed.filter((ref) => !whole.has(ref.table) && !c.whole.has(ref.table))
  // A legacy node sends the chains out of one filtered save per table (a listing would load the table each time).
  const steps = [
    ...wholeTableSteps(whole.keys(), plan.counters, fam),
    ...(legacy
      ? keptChainSteps(listed, fam, plan.counters)
      : listed.flatMap((ref) => {
          const cmd = listCommand(ref, fam, plan.counters)
          return cmd ? [{id: listId(ref, fam), cmd, small: true}] : []
        })),
  ]
  if (steps.length === 0) return undefined
  for (const [table, reason] of whole) why.push(`${table} read whole: ${reason}`)
  if (listed.length > 0) {
    const names = listed.map((r) => r.chain)
    why.push(
      `listed ${names.length} chain${names.length > 1 ? 's' : ''} the API did not predict (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`,
    )
  }
  return {steps, why}
}

/** The collection as iptables-save text, and where it came from. */
export function targetedCapture(state: TargetedState, node: string, rounds: number, why: string[], fam: IptablesFamily = IPV4): {text: string; source: string} {
  const c = state.collection
  const wholeTables = TABLES.filter((t) => c.whole.has(t))
  const chains = [...c.listed].filter(([table]) => !c.whole.has(table)).reduce((n, [, m]) => n + [...m.values()].filter(Boolean).length, 0)
  const parts = [chains > 0 ? `${chains} chain${chains === 1 ? '' : 's'}` : '', wholeTables.length > 0 ? `${wholeTables.join(', ')} whole` : '']
    .filter(Boolean)
    .join(', ')
  const summary = `targeted: ${parts} in ${rounds} round${rounds > 1 ? 's' : ''}${why.length > 0 ? `; ${why.join('; ')}` : ''}`
  return {text: formatChainCollection(c), source: `${node}: ${fam.tool} -S (${summary})`}
}
