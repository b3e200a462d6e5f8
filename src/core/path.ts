// Folds a tracer's outcomes into one reported path: the verdict for the default assumptions, the
// backends with their effective probabilities, and the alternatives under other conditions.
import {canonicalIP, joinHostPort} from './address.js'
import {keyOf, type ClusterIndex} from './cluster-index.js'
import type {IptablesTrace, Outcome} from './iptables/trace.js'
import type {Alternative, Backend, Hop, TracePath, Verdict} from './model.js'

type Entry = TracePath['entry']

/** Who receives traffic sent to ip: the pod (by slice targetRef, then by IP), a node, or nobody known. */
function ownerOf(idx: ClusterIndex, ip: string, service?: string): {pod: string | null; node: string | null} {
  const c = canonicalIP(ip)
  if (service) {
    for (const slice of idx.slicesByService.get(service) ?? []) {
      for (const ep of slice.endpoints ?? []) {
        if (!ep.addresses.some((a) => canonicalIP(a) === c)) continue
        if (ep.targetRef?.kind === 'Pod' && ep.targetRef.name) {
          const ns = ep.targetRef.namespace ?? slice.metadata?.namespace ?? ''
          const pod = idx.podByKey.get(`${ns}/${ep.targetRef.name}`)
          return {pod: `${ns}/${ep.targetRef.name}`, node: ep.nodeName ?? pod?.spec?.nodeName ?? null}
        }
      }
    }
  }
  const pod = idx.podByIP.get(c)
  if (pod) return {pod: keyOf(pod), node: pod.spec?.nodeName ?? null}
  const node = idx.nodeByIP.get(c)
  return {pod: null, node: node?.metadata?.name ?? null}
}

function signature(o: Outcome): string {
  return o.conditions.map((c) => `${c.holds ? '+' : '-'}${c.condition.holds}`).join('|')
}

function commonPrefix(lists: Hop[][]): Hop[] {
  if (lists.length === 0) return []
  const out: Hop[] = []
  for (let i = 0; i < lists[0].length; i++) {
    const h = lists[0][i]
    if (!lists.every((l) => l[i] && l[i].line === h.line && l[i].chain === h.chain && l[i].rule === h.rule)) break
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
    if (existing) existing.probability += o.probability
    else byKey.set(key, {ip: canonicalIP(o.dnat.ip), port, probability: o.probability, ...ownerOf(idx, o.dnat.ip, service), chain: o.dnat.chain})
  }
  return [...byKey.values()].sort((a, b) => joinHostPort(a.ip, a.port).localeCompare(joinHostPort(b.ip, b.port)))
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

const UNCERTAIN = /not understood|could not read|unreadable|cut short|loops back|not in the dump|no filter table/

/**
 * Builds the reported path. The default group is the one where every undecided condition fails
 * (an unnamed client outside every source range, unknown matches not matching); the others
 * become alternatives.
 */
export function buildPath(idx: ClusterIndex, entry: Entry, from: TracePath['from'], source: string | undefined, trace: IptablesTrace, service?: string): TracePath {
  const groups = new Map<string, Outcome[]>()
  for (const o of trace.outcomes) {
    const sig = signature(o)
    const g = groups.get(sig)
    if (g) g.push(o)
    else groups.set(sig, [o])
  }
  const all = [...groups.values()]
  const trueCount = (g: Outcome[]) => g[0].conditions.filter((c) => c.holds).length
  all.sort((a, b) => trueCount(a) - trueCount(b))
  const main = all[0] ?? []
  const notes = new Set(trace.notes)
  const assumed = main[0]?.conditions ?? []
  if (assumed.length > 0) {
    notes.add(`assumed: ${assumed.map((c) => (c.holds ? c.condition.holds : c.condition.fails)).join('; ')}${source ? '' : ' (give --source IP to trace a specific client)'}`)
  }
  const verdict = verdictOf(main)
  const dnatShare = main.filter((o) => o.verdict === 'dnat').reduce((s, o) => s + o.probability, 0)
  if (verdict === 'dnat' && dnatShare < 0.999999) {
    notes.add(`${Math.round((1 - dnatShare) * 1000) / 10}% of new connections fall through the probability rules without DNAT`)
  }
  const affinity = trace.outcomes.find((o) => o.affinitySeconds !== undefined)?.affinitySeconds
  if (affinity !== undefined) {
    notes.add(`ClientIP session affinity (${affinity} s): a client that connected in the last ${affinity} s goes back to the same backend; the split shown is for a first connection`)
  }
  for (const o of main) for (const n of o.notes) notes.add(n)
  const alternatives: Alternative[] = all.slice(1).map((g) => {
    const held = g[0].conditions.filter((c) => c.holds).map((c) => c.condition.holds)
    return {when: held.length > 0 ? held : g[0].conditions.map((c) => c.condition.fails), verdict: verdictOf(g), backends: backendsOf(idx, g, service)}
  })
  return {
    entry,
    from,
    ...(source ? {source} : {}),
    verdict,
    hops: main.length === 1 ? main[0].hops : commonPrefix(main.map((o) => o.hops)),
    backends: backendsOf(idx, main, service),
    masquerade: masqueradeOf(main),
    ...(affinity !== undefined ? {affinity: {timeoutSeconds: affinity}} : {}),
    alternatives,
    notes: [...notes],
    uncertain: [...notes].some((n) => UNCERTAIN.test(n)),
  }
}
