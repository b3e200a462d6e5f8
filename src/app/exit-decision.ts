// The exit code of the command-line contract: 2 when nothing at all could be read, 1 when a finding
// at or above --fail-on remains (after --ignore), else 0. Unreadable nodes alone are not "nothing
// read": they are error rows and findings of a report that still says something.
import type {ClusterView, Finding, NodeDataplane, Severity} from '../core/model.js'

/** The --fail-on threshold: a severity, or none (findings never fail the run). */
export type FailOn = Severity | 'none'

/** The exit code, and why. */
export type ExitDecision = {code: 0; reason: 'clean'} | {code: 1; reason: 'findings'} | {code: 2; reason: 'nothing-read'}

const SEVERITY_RANK: Record<Severity, number> = {error: 3, warning: 2, info: 1}

/** True when the source held no API object and no node could be read. */
export function nothingRead(view: ClusterView, dataplanes: NodeDataplane[]): boolean {
  const objects = [view.services, view.endpointSlices, view.endpoints, view.pods, view.nodes]
  return objects.every((list) => list.length === 0) && dataplanes.every((dp) => dp.readError !== undefined)
}

/** Whether a finding of `severity` fails a run with --fail-on `failOn`. */
function failsRun(severity: Severity, failOn: FailOn): boolean {
  return failOn !== 'none' && SEVERITY_RANK[severity] >= SEVERITY_RANK[failOn]
}

/** The exit decision for the findings that remain, given whether anything was read. */
export function decideExit(findings: Finding[], failOn: FailOn, readNothing: boolean): ExitDecision {
  if (readNothing) return {code: 2, reason: 'nothing-read'}
  if (findings.some((f) => failsRun(f.severity, failOn))) return {code: 1, reason: 'findings'}
  return {code: 0, reason: 'clean'}
}
