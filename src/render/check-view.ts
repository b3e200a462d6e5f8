// Check mode (-A, -n NAMESPACE): one row per Service with its verdict, the findings grouped by
// Service, and a totals line last, where the eye lands after the scroll.
import type {Finding, Report} from '../core/model.js'
import {findingsByService} from '../core/verdict.js'
import {findingsPieces} from './findings.js'
import {hanging, table, type Cell} from './layout.js'
import {clean, paint, type Style} from './style.js'
import {fromWord, plural, statusLabel, statusWord} from './words.js'

/** `2 errors, 1 warning` for a list of findings (info not counted), or `-`. */
function counts(findings: Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error').length
  const warnings = findings.filter((f) => f.severity === 'warning').length
  const parts = [errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean)
  return parts.length > 0 ? parts.join(', ') : '-'
}

/** Ready/total endpoints, and the port problem apart from readiness: ready endpoints kube-proxy has no port for. */
function readyText({ready, total, portless}: Report['services'][number]['endpoints']): string {
  const noPort = portless === 0 ? '' : portless === ready ? ' (no port)' : ` (${portless} without port)`
  return `${ready}/${total}${noPort}`
}

/** The last line: how many Services are ok, broken or warned about, and how many findings of each severity. */
function totalsLine(report: Report): string {
  const by = (status: Report['services'][number]['verdict']['status']) => report.services.filter((s) => s.verdict.status === status).length
  const verdicts = [`${by('ok')} ok`, `${by('broken')} broken`, `${by('warning')} with warnings`].join(', ')
  const found = counts(report.findings)
  return `${plural(report.services.length, 'Service')}: ${verdicts}; ${found === '-' ? 'no errors or warnings' : found}`
}

/**
 * Per traced node, what finding a Service costs: iptables compares a new connection with the
 * KUBE-SERVICES rules one by one (so the row shows how many there are, and the path that passes the
 * most rules); nftables and IPVS look the Service up at a constant cost.
 */
function ruleWalkTable(report: Report, width: number, c: ReturnType<typeof paint>): string[] {
  const rows = report.nodes.flatMap((n): Cell[][] => {
    const w = n.ruleWalk
    if (!w) return []
    if (w.lookup !== 'rules') return [[{text: clean(n.name)}, {text: `${w.lookup === 'map' ? 'nftables verdict map' : 'IPVS hash'} (constant)`}, {text: '-'}]]
    const d = w.deepest
    const deepest = d
      ? `${plural(d.rulesPassed, 'rule')}: ${clean(d.service ?? d.address)} ${d.service ? `${clean(d.address)} ` : ''}from ${fromWord(d.from)}`
      : '-'
    const services = w.kubeServicesRules === undefined ? 'no nat KUBE-SERVICES' : `KUBE-SERVICES ${plural(w.kubeServicesRules, 'rule')}`
    return [[{text: clean(n.name)}, {text: services}, {text: deepest}]]
  })
  if (rows.length === 0) return []
  const head = ['NODE', 'SERVICE LOOKUP', 'LONGEST RULE WALK'].map((text): Cell => ({text, paint: (l) => c.bold(l)}))
  return table(head, rows, width)
}

/** Check mode as text, in pieces: the table first, then the findings a Service at a time (findingsPieces), then the totals. */
export function* checkViewPieces(report: Report, style: Style & {width: number}, notices: string[]): Generator<string, void, void> {
  const c = paint(style)
  const {width} = style
  const head = ['NAMESPACE', 'SERVICE', 'TYPE', 'READY', 'VERDICT', 'FINDINGS'].map((text): Cell => ({text, paint: (l) => c.bold(l)}))
  const byService = findingsByService(report.findings)
  const rows = report.services.map((s): Cell[] => {
    const mine = byService.get(`${s.namespace}/${s.name}`) ?? []
    return [
      {text: clean(s.namespace)},
      {text: clean(s.name)},
      {text: s.type},
      {text: s.type === 'ExternalName' ? '-' : readyText(s.endpoints)},
      {text: statusWord(s.verdict.status), paint: () => statusLabel(s.verdict.status, c)},
      {text: counts(mine)},
    ]
  })
  const traced = report.nodes.filter((n) => !n.readError).length
  const nodes = report.nodes.length === 0 ? 'node rules not read: API checks only' : `rules of ${traced}/${plural(report.nodes.length, 'node')} traced`
  const ns = report.query.kind === 'all' ? report.query.namespace : undefined
  const header = hanging('', `${plural(report.services.length, 'Service')} ${ns ? `in namespace ${clean(ns)}` : 'in all namespaces'}; ${nodes}`, width)
  // On a big cluster the facts (affinity, headless, …) would drown the problems: -o wide shows them.
  const shown = style.wide ? report.findings : report.findings.filter((f) => f.severity !== 'info')
  const hidden = report.findings.length - shown.length
  const walks = ruleWalkTable(report, width, c)
  const sections = [header, table(head, rows, width), ...(walks.length > 0 ? [walks] : []), ...notices.map((n) => hanging('', clean(n), width))]
  yield sections.map((s) => s.join('\n')).join('\n\n')
  if (shown.length > 0 || hidden === 0) {
    yield '\n\n'
    yield* findingsPieces(shown, width, c, true)
  }
  const more = hidden > 0 ? [c.dim(`(${plural(hidden, 'info finding')} not shown: -o wide or -o json shows ${hidden > 1 ? 'them' : 'it'})`)] : []
  yield `\n\n${[...more, c.bold(totalsLine(report))].join('\n')}\n`
}
