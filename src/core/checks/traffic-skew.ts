// traffic-skewed: a node's counters against the shares its rules configure. Each backend's count
// is its DNAT rule's (iptables, nftables) or real server's (IPVS) counter, so it covers every entry
// of one Service port on the node: one test per node and Service port, on the path that splits over
// the most backends.
import {joinHostPort} from '../address.js'
import {countedConnections} from '../counters.js'
import type {Backend, Finding, NodeReport, TracePath} from '../model.js'
import {chiSquareGoodnessOfFit} from '../stats/chi-square.js'
import {finding} from './catalog.js'
import type {TraceCheckContext} from './trace-checks.js'

/** Below this many counted connections a node's split is not judged: small samples are uneven by chance. */
export const MIN_COUNTED = 100
/** A split is flagged when chance explains one at least this uneven less often than this. */
export const SKEW_P_VALUE = 0.001

// IPVS schedulers that spread connections by the shares shown; the others follow load or client addresses.
const SHARE_SCHEDULERS = new Set(['rr', 'wrr'])

const count = (n: number) => n.toLocaleString('en-US')
const pct = (share: number) => `${Math.round(share * 1000) / 10}%`

/** How unlikely a p-value is, in words fit for a message. */
function chance(p: number): string {
  return p < 1e-300 ? 'p < 1e-300' : `p = ${p.toPrecision(2)}`
}

/** Whether a path's split is one the counters can be judged against (see the catalogue's why). */
function judgeable(path: TracePath, local: boolean): boolean {
  if (path.verdict !== 'dnat' || path.backends.length < 2 || path.affinity || local) return false
  if (path.scheduler !== undefined && !SHARE_SCHEDULERS.has(path.scheduler)) return false
  return path.backends.every((b) => b.counters !== undefined && b.probability > 0)
}

/** One backend's count against its configured share. */
interface Tally {
  backend: Backend
  counted: number
  share: number
}

function skewOf(node: NodeReport, path: TracePath): Finding | undefined {
  const sum = path.backends.reduce((s, b) => s + b.probability, 0)
  const tallies: Tally[] = path.backends.map((b) => ({backend: b, counted: b.counters ? countedConnections(b.counters) : 0, share: b.probability / sum}))
  const total = tallies.reduce((s, t) => s + t.counted, 0)
  if (total < MIN_COUNTED) return undefined
  const fit = chiSquareGoodnessOfFit(
    tallies.map((t) => t.counted),
    tallies.map((t) => t.share),
  )
  if (fit.pValue >= SKEW_P_VALUE) return undefined
  // The message names the backend furthest from its share; the evidence lists them all.
  const off = (t: Tally) => Math.abs(t.counted / total - t.share)
  const worst = tallies.reduce((a, b) => (off(b) > off(a) ? b : a))
  const what = path.scheduler !== undefined ? 'connections' : 'new connections'
  const sp = path.entry.servicePort
  const port = sp ? `${path.entry.service}:${sp.name || sp.port}` : (path.entry.service ?? path.entry.address)
  const address = (b: Backend) => joinHostPort(b.ip, b.port)
  return finding('traffic-skewed', {
    message:
      `${node.name} counted ${count(total)} ${what} to ${port}, and ${address(worst.backend)} took ${count(worst.counted)} of them ` +
      `(${pct(worst.counted / total)}, configured ${pct(worst.share)}): chance explains a split this uneven with ${chance(fit.pValue)}`,
    ...(path.entry.service ? {service: path.entry.service} : {}),
    node: node.name,
    evidence: [
      ...tallies.map(
        (t) =>
          `${address(t.backend)}${t.backend.pod ? ` (${t.backend.pod})` : ''} via ${t.backend.chain}: ${count(t.counted)} (${pct(t.counted / total)}), expected ${pct(t.share)} ≈ ${count(Math.round(total * t.share))}`,
      ),
      `chi-square ${fit.statistic.toFixed(1)} with ${fit.df} degree${fit.df === 1 ? '' : 's'} of freedom: ${chance(fit.pValue)} (flagged below ${SKEW_P_VALUE}, over at least ${MIN_COUNTED} ${what})`,
    ],
  })
}

/** Splits the counters show far from the configured probabilities, one per node and Service port. */
export function trafficSkewed(ctx: Pick<TraceCheckContext, 'idx' | 'nodes'>): Finding[] {
  const out: Finding[] = []
  for (const node of ctx.nodes) {
    // Service port → the path with the most backends (the cluster-wide split).
    const widest = new Map<string, TracePath>()
    for (const path of node.paths) {
      const svc = path.entry.service ? ctx.idx.serviceByKey.get(path.entry.service) : undefined
      const local = svc?.spec?.externalTrafficPolicy === 'Local' || svc?.spec?.internalTrafficPolicy === 'Local'
      if (!judgeable(path, local)) continue
      const key = `${path.entry.service ?? ''}|${path.entry.servicePort?.name ?? ''}|${path.entry.servicePort?.port ?? path.entry.address}|${path.entry.destination.protocol}`
      const seen = widest.get(key)
      if (!seen || path.backends.length > seen.backends.length) widest.set(key, path)
    }
    for (const path of widest.values()) {
      const f = skewOf(node, path)
      if (f) out.push(f)
    }
  }
  return out
}
