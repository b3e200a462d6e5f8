// Findings read off the traced paths: rejected and dropped traffic, rules that point nowhere,
// services the node does not forward although the API has endpoints.
import {canonicalIP} from '../address.js'
import type {ClusterIndex} from '../cluster-index.js'
import {hasUsableEndpoint} from '../kube-proxy/endpoint-conditions.js'
import type {Finding, NodeReport, TracePath} from '../model.js'

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
  if (/has no local endpoints/.test(hop.rule)) return ': no endpoint runs on this node and the traffic policy is Local'
  if (hop.rule.startsWith('[policy DROP')) return `: the ${hop.chain} chain's policy is DROP and no rule accepted it`
  return ''
}

function knownEndpointIP(idx: ClusterIndex, service: string | undefined, ip: string): boolean {
  if (!service) return false
  const c = canonicalIP(ip)
  if ((idx.slicesByService.get(service) ?? []).some((s) => (s.endpoints ?? []).some((e) => e.addresses.some((a) => canonicalIP(a) === c)))) return true
  const [ns, name] = service.split('/')
  return idx.view.endpoints.some((e) => e.metadata?.namespace === ns && e.metadata?.name === name && (e.subsets ?? []).some((s) => (s.addresses ?? []).some((a) => canonicalIP(a.ip) === c)))
}

/** Merges findings that differ only by node: one finding naming every node it holds on. */
function mergeNodes(findings: Array<Finding & {node: string; key: string}>): Finding[] {
  const byKey = new Map<string, Array<Finding & {node: string; key: string}>>()
  for (const f of findings) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f])
  return [...byKey.values()].map((group) => {
    const nodes = [...new Set(group.map((f) => f.node))]
    const evidence = [...new Set(group.flatMap((f) => f.evidence ?? []))]
    const {key: _key, node: _node, ...first} = group[0]
    return {...first, message: first.message.replace('{nodes}', nodes.length === 1 ? nodes[0] : `nodes ${nodes.join(', ')}`).replace('{s}', nodes.length === 1 ? 's' : ''), ...(nodes.length === 1 ? {node: nodes[0]} : {}), evidence}
  })
}

/** One finding per kind of trouble per service and entry, naming the nodes it holds on. */
export function pathFindings(idx: ClusterIndex, nodes: NodeReport[], explicitSource: boolean): Finding[] {
  const out: Finding[] = []
  const perNode: Array<Finding & {node: string; key: string}> = []
  for (const node of nodes) {
    for (const path of node.paths) {
      const service = path.entry.service
      const base = {node: node.name, ...(service ? {service} : {})}
      const key = `${path.verdict}|${service}|${path.entry.address}|${path.from}`
      if (path.verdict === 'reject') {
        perNode.push({id: 'service-rejected-no-endpoints', severity: 'error', message: `${service ?? path.entry.address} has no endpoints: {nodes} reject{s} ${path.entry.address}`, ...base, key: `${service}|${path.entry.address}`, evidence: lastRule(path)})
      } else if (path.verdict === 'drop') {
        // Source ranges keep out clients by design: a warning only for the client named with --source.
        const byDesign = path.hops.at(-1)?.chain === 'KUBE-PROXY-FIREWALL' && !explicitSource
        perNode.push({id: 'traffic-dropped', severity: byDesign ? 'info' : 'warning', message: `{nodes} drop{s} ${describe(path)}${dropReason(path)}`, ...base, key, evidence: [...lastRule(path), ...path.notes.filter((n) => n.startsWith('assumed'))]})
      } else if (path.verdict === 'no-match' && service && path.entry.kind === 'cluster-ip' && hasUsableEndpoint(idx.slicesByService.get(service) ?? [])) {
        out.push({id: 'service-missing-on-node', severity: 'error', message: `${node.name} has no rule for ${path.entry.address} although ${service} has endpoints`, ...base})
      }
      for (const b of path.backends) {
        if (b.pod === null && b.node === null && !knownEndpointIP(idx, service, b.ip)) {
          out.push({id: 'backend-ip-unknown', severity: 'warning', message: `${node.name} forwards ${path.entry.address} to ${b.ip}:${b.port}, which no pod, node or endpoint has`, ...base, evidence: [`nat ${b.chain}`]})
        }
      }
      if (path.uncertain) {
        out.push({id: 'trace-uncertain', severity: 'info', message: `${node.name}: the trace of ${path.entry.address} is uncertain: ${path.notes.filter((n) => !n.startsWith('assumed')).join('; ')}`, ...base})
      }
    }
  }
  return [...mergeNodes(perNode), ...out]
}
