// The one-line answer for a Service: does traffic get through, and if not, the finding that says why.
// Counted from the traced paths and the findings, so the verdict can never disagree with either.
import type {Finding, NodeReport, Report, ServiceVerdict, Severity, TracePath, Verdict} from './model.js'
import type {TracedPath} from './checks/check.js'

const STATUS_OF: Record<Severity, ServiceVerdict['status'] | undefined> = {error: 'broken', warning: 'warning', info: undefined}
const RANK: Record<Severity, number> = {error: 0, warning: 1, info: 2}

/** The worst finding about the Service, first in report order among equals. */
function causeOf(findings: Finding[]): Finding | undefined {
  let worst: Finding | undefined
  for (const f of findings) if (f.severity !== 'info' && (!worst || RANK[f.severity] < RANK[worst.severity])) worst = f
  return worst
}

/** The share every backend gets when all DNAT paths split among the same backends evenly. */
function evenShareOf(paths: TracePath[]): number | undefined {
  const dnat = paths.filter((p) => p.verdict === 'dnat' && p.backends.length > 0)
  const [first] = dnat
  if (!first) return undefined
  const key = (p: TracePath) =>
    p.backends
      .map((b) => `${b.ip}|${b.port}`)
      .sort()
      .join(',')
  const share = 1 / first.backends.length
  const firstKey = key(first)
  const even = dnat.every((p) => (p === first || key(p) === firstKey) && p.backends.every((b) => Math.abs(b.probability - share) < 1e-6))
  return even ? share : undefined
}

/** Each Service's traced paths with their node, grouped in one pass (every per-Service look reads these). */
export function pathsByService(nodes: NodeReport[]): Map<string, TracedPath[]> {
  const out = new Map<string, TracedPath[]>()
  for (const node of nodes) {
    for (const path of node.paths) {
      const service = path.entry.service
      if (service === undefined) continue
      const list = out.get(service)
      if (list) list.push({node: node.name, path})
      else out.set(service, [{node: node.name, path}])
    }
  }
  return out
}

/** Each Service's findings, in report order, grouped in one pass. */
export function findingsByService(findings: Finding[]): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>()
  for (const f of findings) {
    if (f.service === undefined) continue
    const list = out.get(f.service)
    if (list) list.push(f)
    else out.set(f.service, [f])
  }
  return out
}

/**
 * The verdict on one Service: how many of its entry points were traced on how many nodes, what the
 * paths do, how many distinct backends they reach of the ready endpoints, and the finding (of its
 * own) that decides the status.
 */
export function serviceVerdict(readyEndpoints: number, traced: TracedPath[], findings: Finding[]): ServiceVerdict {
  const paths = traced.map((t) => t.path)
  const tracedNodes = new Set(traced.map((t) => t.node)).size
  const outcomes: Partial<Record<Verdict, number>> = {}
  for (const p of paths) outcomes[p.verdict] = (outcomes[p.verdict] ?? 0) + 1
  // Endpoints, as `ready` counts them: a pod behind two Service ports is one pod reached, not two.
  // Plain loops: check mode judges every Service, and flatMap was most of this function's time.
  const reached = new Set<string>()
  let reachedPods = true
  for (const p of paths) {
    if (p.verdict !== 'dnat') continue
    for (const b of p.backends) {
      reached.add(b.ip)
      if (b.pod === null) reachedPods = false
    }
  }
  const share = evenShareOf(paths)
  const counted = {
    entries: new Set(paths.map((p) => p.entry.address)).size,
    nodes: tracedNodes,
    outcomes,
    reached: reached.size,
    reachedPods,
    ready: readyEndpoints,
    ...(share !== undefined ? {evenShare: share} : {}),
  }
  return judged(counted, findings)
}

/** What the paths add up to, with the status and cause the findings give it. */
function judged(counted: Omit<ServiceVerdict, 'status' | 'cause'>, findings: Finding[]): ServiceVerdict {
  const cause = causeOf(findings)
  return {
    status: (cause && STATUS_OF[cause.severity]) ?? 'ok',
    ...counted,
    ...(cause ? {cause: {id: cause.id, message: cause.message}} : {}),
  }
}

/** The verdict judged again on other findings of its Service (--ignore left some out); the paths' counts stand. */
export function rejudged(verdict: ServiceVerdict, findings: Finding[]): ServiceVerdict {
  const {status: _status, cause: _cause, ...counted} = verdict
  return judged(counted, findings)
}

/** The report without the findings of the given ids (--ignore), its verdicts judged again without them. */
export function withoutFindings(report: Report, ids: ReadonlySet<string>): Report {
  if (ids.size === 0) return report
  const findings = report.findings.filter((f) => !ids.has(f.id))
  const mine = findingsByService(findings)
  const services = report.services.map((s) => ({...s, verdict: rejudged(s.verdict, mine.get(`${s.namespace}/${s.name}`) ?? [])}))
  return {...report, services, findings}
}
