// -o json and -o yaml: the versioned report, with each note's sentence next to its kind and parameters.
import type {Report} from '../core/model.js'
import {jsonPieces} from './json-pieces.js'
import {noteRecord} from './notes.js'
import {yamlPieces} from './yaml-pieces.js'

// The report's containers opened by -o json and -o yaml: the report, nodes, each node, its paths.
// Below them each Service, path and finding is one piece, so a check of 10,000 Services is never one string.
const LEVELS = 4

/** The report as printed: notes carry their text (made here, never stored in the core's report). */
export function printableReport(report: Report): unknown {
  return {
    ...report,
    nodes: report.nodes.map((n) => ({...n, paths: n.paths.map((p) => ({...p, notes: p.notes.map(noteRecord)}))})),
    findings: report.findings.map((f) => (f.notes ? {...f, notes: f.notes.map(noteRecord)} : f)),
  }
}

/** -o json in pieces to write as they are made: joined, JSON.stringify(printableReport(report), null, 2) and a line feed. */
export function* renderJsonPieces(report: Report): Generator<string> {
  yield* jsonPieces(printableReport(report), LEVELS)
  yield '\n'
}

/** -o yaml in pieces to write as they are made: joined, yaml.dump(printableReport(report), {noRefs: true, lineWidth: -1}). */
export function renderYamlPieces(report: Report): Generator<string> {
  return yamlPieces(printableReport(report), LEVELS)
}
