// Check mode (-A, -n NS) reports on many Services; a part is one Service's share of the report, the
// unit a renderer can print as soon as it is ready.
import type {Finding, NodeReport, Report, ServiceSummary} from '../core/model.js'

/** One Service of a check-mode report: its summary, its paths on each node, its findings. */
export interface ServicePart {
  service: ServiceSummary
  /** Every node of the report, with only this Service's paths (a node's read error stays on it). */
  nodes: NodeReport[]
  /** Findings about this Service; findings about a node or the cluster are in no part. */
  findings: Finding[]
}

/** The report cut into one part per Service, in the report's order. */
export function servicePartsOf(report: Report): ServicePart[] {
  return report.services.map((service) => {
    const key = `${service.namespace}/${service.name}`
    return {
      service,
      nodes: report.nodes.map((n) => ({...n, paths: n.paths.filter((p) => p.entry.service === key)})),
      findings: report.findings.filter((f) => f.service === key),
    }
  })
}
