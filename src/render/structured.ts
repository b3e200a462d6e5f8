// -o json and -o yaml: the versioned report, with each note's sentence next to its kind and parameters.
import yaml from 'js-yaml'
import type {Report} from '../core/model.js'
import {noteRecord} from './notes.js'

/** The report as printed: notes carry their text (made here, never stored in the core's report). */
function printable(report: Report): unknown {
  return {
    ...report,
    nodes: report.nodes.map((n) => ({...n, paths: n.paths.map((p) => ({...p, notes: p.notes.map(noteRecord)}))})),
    findings: report.findings.map((f) => (f.notes ? {...f, notes: f.notes.map(noteRecord)} : f)),
  }
}

export function renderJson(report: Report): string {
  return JSON.stringify(printable(report), null, 2) + '\n'
}

export function renderYaml(report: Report): string {
  return yaml.dump(printable(report), {noRefs: true, lineWidth: -1})
}
