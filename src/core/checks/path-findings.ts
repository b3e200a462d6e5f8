// Path checks: findings read off the traced paths (rejected and dropped traffic, rules that point
// nowhere, services the node does not forward although the API has endpoints). Registered in trace-checks.ts.
import {canonicalIP} from '../address.js'
import type {ClusterIndex} from '../cluster-index.js'
import {hasUsableEndpoint} from '../kube-proxy/endpoint-conditions.js'
import type {Finding, NodeReport, TracePath} from '../model.js'
import {finding} from './catalog.js'
import type {TraceCheckContext} from './trace-checks.js'
import {isUncertain, uniqueNotes} from '../trace/notes.js'

function lastRule(path: TracePath): string[] {
  const hop = path.hops.at(-1)
  return hop ? [`${hop.table} ${hop.chain}: ${hop.rule}`] : []
}

function describe(path: TracePath): string {
  const src = path.from === 'external' ? `an outside client${path.source ? ` ${path.source}` : ''}` : path.from === 'pod' ? 'a pod on the node' : 'the node itself'
  return `${path.entry.address} (${path.entry.kind}) from ${src}`
}

/** Why a path is dropped, read off the rule that dropped it. */
function dropReason(path: TracePath): string {
  const hop = path.hops.at(-1)
  if (!hop) return ''
  if (hop.chain === 'KUBE-PROXY-FIREWALL') return ': the client is not in loadBalancerSourceRanges'
  if (hop.comment?.includes('has no local endpoints')) return ': no endpoint runs on this node and the traffic policy is Local'
  if (hop.target.kind === 'policy') return `: the ${hop.chain} chain's policy is DROP and no rule accepted it`
  return ''
}

function knownEndpointIP(idx: ClusterIndex, service: string | undefined, ip: string): boolean {
  if (!service) return false
  const c = canonicalIP(ip)
  if ((idx.slicesByService.get(service) ?? []).some((s) => (s.endpoints ?? []).some((e) => e.addresses.some((a) => canonicalIP(a) === c)))) return true
  const [ns, name] = service.split('/')
  return idx.view.endpoints.some((e) => e.metadata?.namespace === ns && e.metadata?.name === name && (e.subsets ?? []).some((s) => (s.addresses ?? []).some((a) => canonicalIP(a.ip) === c)))
}

type PerNodeFinding = Finding & {node: string; key: string}

/** Merges findings that differ only by node: one finding naming every node it holds on. */
function mergeNodes(findings: PerNodeFinding[]): Finding[] {
  const byKey = new Map<string, [PerNodeFinding, ...PerNodeFinding[]]>()
  for (const f of findings) {
    const group = byKey.get(f.key)
    if (group) group.push(f)
    else byKey.set(f.key, [f])
  }
  return [...byKey.values()].map((group) => {
    const nodes = [...new Set(group.map((f) => f.node))]
    const evidence = [...new Set(group.flatMap((f) => f.evidence ?? []))]
    const notes = uniqueNotes(group.flatMap((f) => f.notes ?? []))
    // A group on one node is on the first finding's node.
    const {key: _key, node, ...first} = group[0]
    return {...first, ...(notes.length > 0 ? {notes} : {}), message: first.message.replace('{nodes}', nodes.length === 1 ? node : `nodes ${nodes.join(', ')}`).replace('{s}', nodes.length === 1 ? 's' : ''), ...(nodes.length === 1 ? {node} : {}), evidence}
  })
}

/** Every traced path with the node it was traced on, and the fields the findings about it share. */
function* pathsOf(nodes: NodeReport[]): Generator<{node: NodeReport; path: TracePath; service: string | undefined; base: {node: string; service?: string}}> {
  for (const node of nodes) {
    for (const path of node.paths) {
      const service = path.entry.service
      yield {node, path, service, base: {node: node.name, ...(service ? {service} : {})}}
    }
  }
}

/** Rejected paths: the Service has no endpoints; one finding per service and address, naming the nodes. */
export function serviceRejectedNoEndpoints(ctx: Pick<TraceCheckContext, 'nodes'>): Finding[] {
  const perNode: PerNodeFinding[] = []
  for (const {path, service, base} of pathsOf(ctx.nodes)) {
    if (path.verdict !== 'reject') continue
    perNode.push({...finding('service-rejected-no-endpoints', {message: `${service ?? path.entry.address} has no endpoints: {nodes} reject{s} ${path.entry.address}`, ...base}), node: base.node, key: `${service}|${path.entry.address}`, evidence: lastRule(path)})
  }
  return mergeNodes(perNode)
}

/** Dropped paths, with the reason read off the dropping rule; one finding per entry and source, naming the nodes. */
export function trafficDropped(ctx: Pick<TraceCheckContext, 'nodes' | 'explicitSource'>): Finding[] {
  const perNode: PerNodeFinding[] = []
  for (const {path, service, base} of pathsOf(ctx.nodes)) {
    if (path.verdict !== 'drop') continue
    const key = `${path.verdict}|${service}|${path.entry.address}|${path.from}`
    // Source ranges keep out clients by design: a warning only for the client named with --source.
    const byDesign = path.hops.at(-1)?.chain === 'KUBE-PROXY-FIREWALL' && !ctx.explicitSource
    const assumed = path.notes.filter((n) => n.kind === 'assumed')
    perNode.push({...finding('traffic-dropped', {message: `{nodes} drop{s} ${describe(path)}${dropReason(path)}`, ...base}, byDesign ? 'info' : 'warning'), node: base.node, key, evidence: lastRule(path), ...(assumed.length > 0 ? {notes: assumed} : {})})
  }
  return mergeNodes(perNode)
}

/** A cluster IP the node has no rule for although the API lists usable endpoints. */
export function serviceMissingOnNode(ctx: Pick<TraceCheckContext, 'idx' | 'nodes'>): Finding[] {
  const out: Finding[] = []
  for (const {node, path, service, base} of pathsOf(ctx.nodes)) {
    if (path.verdict === 'no-match' && service && path.entry.kind === 'cluster-ip' && hasUsableEndpoint(ctx.idx.slicesByService.get(service) ?? [])) {
      out.push(finding('service-missing-on-node', {message: `${node.name} has no rule for ${path.entry.address} although ${service} has endpoints`, ...base}))
    }
  }
  return out
}

/** Backends that no pod, node or endpoint of the API has. */
export function backendIpUnknown(ctx: Pick<TraceCheckContext, 'idx' | 'nodes'>): Finding[] {
  const out: Finding[] = []
  for (const {node, path, service, base} of pathsOf(ctx.nodes)) {
    for (const b of path.backends) {
      if (b.pod === null && b.node === null && !knownEndpointIP(ctx.idx, service, b.ip)) {
        out.push(finding('backend-ip-unknown', {message: `${node.name} forwards ${path.entry.address} to ${b.ip}:${b.port}, which no pod, node or endpoint has`, ...base, evidence: [`nat ${b.chain}`]}))
      }
    }
  }
  return out
}

/** Paths the tracer marked uncertain, with its notes. */
export function traceUncertain(ctx: Pick<TraceCheckContext, 'nodes'>): Finding[] {
  const out: Finding[] = []
  for (const {node, path, base} of pathsOf(ctx.nodes)) {
    if (path.uncertain) {
      out.push(finding('trace-uncertain', {message: `${node.name}: the trace of ${path.entry.address} is uncertain`, ...base, notes: path.notes.filter(isUncertain)}))
    }
  }
  return out
}
