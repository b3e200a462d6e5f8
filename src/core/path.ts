// Folds a tracer's outcomes into one reported path: the verdict for the default assumptions, the
// backends with their effective probabilities, and the alternatives under other conditions.
import {canonicalIP, joinHostPort} from './address.js'
import {endpointsByAddress, keyOf, type ClusterIndex} from './cluster-index.js'
import {podNamed} from './pod-index.js'
import type {Alternative, Backend, Hop, PathEntry, TracePath, Verdict} from './model.js'
import type {PathClient} from './sources.js'
import type {Outcome, Trace} from './trace/branch.js'
import {isUncertain, uniqueNotes, type Note} from './trace/notes.js'

/** The Service the API server publishes itself as: its endpoints are the API server's addresses (often outside the cluster). */
const API_SERVER_SERVICE = 'default/kubernetes'

/** Who receives traffic sent to ip: the API server (behind default/kubernetes), the pod (by slice targetRef, then by IP), a node, or nobody known. */
export function backendOwner(idx: ClusterIndex, ip: string, service?: string): Pick<Backend, 'pod' | 'node' | 'role'> {
  const c = canonicalIP(ip)
  if (service === API_SERVER_SERVICE) return {pod: null, node: idx.nodeByIP.get(c)?.metadata?.name ?? null, role: 'api-server'}
  if (service) {
    for (const {slice, endpoint: ep} of endpointsByAddress(idx, service).get(c) ?? []) {
      if (ep.targetRef?.kind === 'Pod' && ep.targetRef.name) {
        const ns = ep.targetRef.namespace ?? slice.metadata?.namespace ?? ''
        const pod = podNamed(idx.view.pods, ns, ep.targetRef.name)
        return {pod: `${ns}/${ep.targetRef.name}`, node: ep.nodeName ?? pod?.spec?.nodeName ?? null}
      }
    }
  }
  const pod = idx.podByIP.get(c)
  if (pod) return {pod: keyOf(pod), node: pod.spec?.nodeName ?? null}
  const node = idx.nodeByIP.get(c)
  return {pod: null, node: node?.metadata?.name ?? null}
}

/**
 * The group an outcome belongs to. Every outcome whose undecided conditions all fail belongs to the
 * default group, whatever those conditions are: a numgen map or probability rules that fork into
 * endpoint chains, each asking "source is this endpoint", lead to outcomes that ask different
 * questions but all hold in the default world.
 */
function signature(o: Outcome): string {
  if (o.conditions.every((c) => !c.holds)) return ''
  return o.conditions.map((c) => `${c.holds ? '+' : '-'}${c.condition.holds}`).join('|')
}

/** The conditions a group assumes, each once (the default group gathers them from every outcome). */
function conditionsOf(group: Outcome[]): Outcome['conditions'] {
  const seen = new Map<string, Outcome['conditions'][number]>()
  for (const o of group) for (const c of o.conditions) seen.set(`${c.holds ? '+' : '-'}${c.condition.holds}`, c)
  return [...seen.values()]
}

function commonPrefix(lists: Hop[][]): Hop[] {
  const [first = []] = lists
  const out: Hop[] = []
  for (const [i, h] of first.entries()) {
    if (!lists.every((l) => l[i]?.line === h.line && l[i]?.chain === h.chain && l[i]?.rule === h.rule)) break
    out.push(h)
  }
  return out
}

function backendsOf(idx: ClusterIndex, outcomes: Outcome[], service?: string): Backend[] {
  const byKey = new Map<string, Backend>()
  for (const o of outcomes) {
    if (o.verdict !== 'dnat' || !o.dnat) continue
    const port = o.dnat.port ?? 0
    const key = `${joinHostPort(o.dnat.ip, port)} ${o.dnat.chain}`
    const existing = byKey.get(key)
    if (existing) {
      existing.probability += o.probability
      continue
    }
    // Fields set in the order the report prints them, without spreads: every backend of every path is made here.
    const ip = canonicalIP(o.dnat.ip)
    const {pod, node, role} = backendOwner(idx, o.dnat.ip, service)
    const {chain} = o.dnat
    const backend: Backend =
      role !== undefined ? {ip, port, probability: o.probability, pod, node, role, chain} : {ip, port, probability: o.probability, pod, node, chain}
    if (o.dnat.weight !== undefined) backend.weight = o.dnat.weight
    // One DNAT rule (or real server) per key: outcomes that reach it by several branches share its counter, never add it up.
    if (o.dnat.counters) backend.counters = o.dnat.counters
    byKey.set(key, backend)
  }
  // Each backend's address printed once, not at every comparison.
  return [...byKey.values()]
    .map((b) => ({b, at: joinHostPort(b.ip, b.port)}))
    .sort((x, y) => x.at.localeCompare(y.at))
    .map(({b}) => b)
}

/** The verdict carrying the most probability in a group of outcomes. */
function verdictOf(outcomes: Outcome[]): Verdict {
  const weight = new Map<Verdict, number>()
  for (const o of outcomes) weight.set(o.verdict, (weight.get(o.verdict) ?? 0) + o.probability)
  return [...weight.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'no-match'
}

function masqueradeOf(outcomes: Outcome[]): TracePath['masquerade'] {
  const values = new Set(outcomes.map((o) => o.masquerade))
  if (values.size === 1 && values.has(true)) return 'yes'
  if (values.size === 1 && values.has(false)) return 'no'
  return 'maybe'
}

/**
 * Builds the reported path. The default group is the one where every undecided condition fails
 * (an unnamed client outside every source range, unknown matches not matching); the others
 * become alternatives.
 */
export function buildPath(idx: ClusterIndex, entry: PathEntry, client: PathClient, trace: Trace): TracePath {
  const {from, source} = client
  const service = entry.service
  const groups = new Map<string, Outcome[]>()
  for (const o of trace.outcomes) {
    const sig = signature(o)
    const g = groups.get(sig)
    if (g) g.push(o)
    else groups.set(sig, [o])
  }
  const all = [...groups.values()]
  const trueCount = (g: Outcome[]) => conditionsOf(g).filter((c) => c.holds).length
  all.sort((a, b) => trueCount(a) - trueCount(b))
  const main = all[0] ?? []
  const notes: Note[] = [...trace.notes]
  const assumed = conditionsOf(main)
  if (assumed.length > 0) {
    notes.push({kind: 'assumed', conditions: assumed.map((c) => (c.holds ? c.condition.holds : c.condition.fails)), sourceGiven: source !== undefined})
  }
  const verdict = verdictOf(main)
  const dnatShare = main.filter((o) => o.verdict === 'dnat').reduce((s, o) => s + o.probability, 0)
  if (verdict === 'dnat' && dnatShare < 0.999999) notes.push({kind: 'fall-through', share: 1 - dnatShare})
  // Affinity is a typed field of the path, not a note: the session-affinity finding explains it once.
  const affinity = trace.outcomes.find((o) => o.affinitySeconds !== undefined)?.affinitySeconds
  for (const o of main) notes.push(...o.notes)
  const alternatives: Alternative[] = all.slice(1).map((g) => {
    const conditions = conditionsOf(g)
    const held = conditions.filter((c) => c.holds).map((c) => c.condition.holds)
    return {when: held.length > 0 ? held : conditions.map((c) => c.condition.fails), verdict: verdictOf(g), backends: backendsOf(idx, g, service)}
  })
  const scheduler = main.find((o) => o.scheduler !== undefined)?.scheduler
  // Backends differ by their place in KUBE-SVC's probability chain: report the longest way.
  const passed = main.map((o) => o.rulesPassed).filter((n): n is number => n !== undefined)
  const rulesPassed = trace.lookup === 'rules' && passed.length > 0 ? passed.reduce((a, b) => Math.max(a, b)) : undefined
  const unique = uniqueNotes(notes)
  return {
    entry,
    from,
    ...(source ? {source} : {}),
    ...(client.sourcePod !== undefined ? {sourcePod: client.sourcePod} : {}),
    ...(client.sourceIsExample ? {sourceIsExample: true} : {}),
    ...(client.sourceRange ? {sourceRange: client.sourceRange} : {}),
    verdict,
    hops: main.length === 1 && main[0] ? main[0].hops : commonPrefix(main.map((o) => o.hops)),
    backends: backendsOf(idx, main, service),
    masquerade: masqueradeOf(main),
    ...(affinity !== undefined ? {affinity: {timeoutSeconds: affinity}} : {}),
    ...(scheduler !== undefined ? {scheduler} : {}),
    ...(trace.lookup !== undefined ? {lookup: trace.lookup} : {}),
    ...(rulesPassed !== undefined ? {rulesPassed} : {}),
    alternatives,
    notes: unique,
    uncertain: unique.some(isUncertain),
  }
}
