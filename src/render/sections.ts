// The pictures (-o tree, dot, mermaid) draw one Service at a time: check mode (-A) gives one
// section per Service, a Service query one, an address query one per Service it reached (or one
// for the address when no Service owns it). Each section holds its nodes with only its paths.
import type {Finding, NodeReport, Report, ServiceSummary} from '../core/model.js'

/** One Service's part of a report. */
export interface Section {
  /** `namespace/name`, or undefined for paths that belong to no Service (a pod IP, an unowned address). */
  key?: string
  service?: ServiceSummary
  /** Every node, with only this section's paths; unreadable nodes stay so each section shows them. */
  nodes: NodeReport[]
  findings: Finding[]
}

const keyOf = (s: ServiceSummary) => `${s.namespace}/${s.name}`

/** The report split by Service, in the order of report.services; findings about no Service go with the first section. */
export function sections(report: Report): Section[] {
  const byKey = new Map<string | undefined, Section>()
  for (const service of report.services) {
    byKey.set(keyOf(service), {key: keyOf(service), service, nodes: [], findings: []})
  }
  const sectionOf = (key: string | undefined): Section => {
    let section = byKey.get(key)
    if (!section) byKey.set(key, (section = {...(key !== undefined ? {key} : {}), nodes: [], findings: []}))
    return section
  }
  for (const node of report.nodes) for (const p of node.paths) sectionOf(p.entry.service)
  for (const node of report.nodes) {
    // One pass over the node's paths, whatever the number of Services.
    const paths = new Map<string | undefined, NodeReport['paths']>()
    for (const p of node.paths) {
      const list = paths.get(p.entry.service)
      if (list) list.push(p)
      else paths.set(p.entry.service, [p])
    }
    for (const [key, section] of byKey) {
      const own = paths.get(key) ?? []
      if (own.length > 0 || node.readError !== undefined) section.nodes.push({...node, paths: own})
    }
  }
  const all = [...byKey.values()]
  if (all.length === 0) all.push(sectionOf(undefined))
  for (const f of report.findings) {
    const section = (f.service !== undefined ? byKey.get(f.service) : undefined) ?? all[0]
    section?.findings.push(f)
  }
  return all
}
