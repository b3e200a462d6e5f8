// The API-only answer, for runs that traced no node: each Service's backends as the API lists them,
// then what kube-proxy should program for each entry, marked as expected (not seen on a node).
import type {ChalkInstance} from 'chalk'
import {joinHostPort} from '../core/address.js'
import type {ApiBackend, ExpectedBackend, ExpectedDataplane, ExpectedPath, NodesUntraced, Report, ServiceSummary} from '../core/model.js'
import {hanging, labelled, table, type Cell} from './layout.js'
import {clean, paint, type Style} from './style.js'
import {percent, podName} from './words.js'
import {addTo} from '../core/group.js'

/** Why the paths are expected rather than traced, and how to trace them. */
const MARKING: Record<NodesUntraced, string> = {
  'not-asked': 'node rules not read; add --via exec or --via ssh to check them',
  'via-none': 'node rules not read (--via none)',
  'bundle-without-nodes': 'the bundle has no nodes/ directory, so no node rules were read',
  'none-readable': "no node's rules could be read",
}

function stateOf(b: ApiBackend): string {
  const {ready, serving, terminating} = b.conditions
  return [ready ? 'ready' : 'not ready', ...(terminating ? ['terminating'] : []), ...(!ready && serving ? ['serving'] : [])].join(', ')
}

const bold = (c: ChalkInstance) => (texts: string[]) => texts.map((text): Cell => ({text, paint: (l) => c.bold(l)}))
/** A section title wrapped to the width, its first word (the heading) in bold. */
function titled(heading: string, rest: string, width: number, c: ChalkInstance): string[] {
  return labelled('', heading, c.bold(heading), rest, width)
}

const plain = (texts: string[]) => texts.map((text): Cell => ({text}))

function backendsSection(s: ServiceSummary, c: ChalkInstance, width: number): string {
  const kinds = [...new Set(s.backends.map((b) => b.listedIn.kind))]
  const title = `of ${clean(`${s.namespace}/${s.name}`)}${kinds.length > 0 ? `  (${kinds.join(', ')})` : ''}`
  if (s.backends.length === 0) return [...titled('BACKENDS ', title, width, c), '  none: no EndpointSlice or Endpoints lists an endpoint'].join('\n')
  const zoned = s.backends.some((b) => b.zone !== null || b.zoneHints.length > 0)
  const head = ['POD', 'IP', 'NODE', 'STATE', 'PORTS', ...(zoned ? ['ZONE'] : [])]
  const rows = s.backends.map((b) => {
    const ports = b.ports.map((p) => `${p.name ? `${clean(p.name)} ` : ''}${p.port ?? '?'}/${p.protocol}`).join('\n')
    const zone = `${clean(b.zone ?? '-')}${b.zoneHints.length > 0 ? ` (hints ${b.zoneHints.map(clean).join(', ')})` : ''}`
    return plain([b.pod === null ? '-' : podName(b.pod, s.namespace), b.ip, clean(b.node ?? '-'), stateOf(b), ports || '-', ...(zoned ? [zone] : [])])
  })
  return [...titled('BACKENDS ', title, width, c), ...table(bold(c)(head), rows, width, '  ')].join('\n')
}

/** The sentence behind a verdict that is not a plain split over every usable endpoint. */
function ruleNote(p: ExpectedPath): string | undefined {
  const policy = p.entry.kind === 'cluster-ip' ? 'internalTrafficPolicy' : 'externalTrafficPolicy'
  switch (p.rule) {
    case 'no-endpoints':
      return 'no endpoint is ready or serving while terminating: kube-proxy rejects'
    case 'no-local-endpoints':
      return `${policy} Local and no usable endpoint on the node: kube-proxy drops`
    case 'local-endpoints':
      return `${policy} Local: only the endpoints on the node`
    case 'source-not-allowed':
      // A --source range split by the ranges: the allowed parts are the alternatives.
      return p.source !== undefined
        ? `${p.alternatives.length > 0 ? 'the rest of ' : ''}${clean(p.source)} is outside loadBalancerSourceRanges`
        : 'assumed: client outside loadBalancerSourceRanges (--source IP names one)'
    case 'cluster-endpoints':
      return undefined
  }
}

function verdictText(v: ExpectedPath['verdict'], c: ChalkInstance, text: string): string {
  return v === 'dnat' ? c.green(text) : c.red(text)
}

function backendLines(backends: ExpectedBackend[]): string[] {
  return backends.map((b) => `${joinHostPort(b.ip, b.port)}  ${percent(b.probability)}`)
}

/** Paths of one entry that differ only in the kind of client, as one row. */
function mergeClients(paths: ExpectedPath[]): Array<{path: ExpectedPath; froms: string[]}> {
  const rows = new Map<string, {path: ExpectedPath; froms: string[]}>()
  for (const p of paths) {
    const {from, ...rest} = p
    const key = JSON.stringify(rest)
    const label = from === 'external' ? 'outside' : from
    const row = rows.get(key)
    if (row) row.froms.push(label)
    else rows.set(key, {path: p, froms: [label]})
  }
  return [...rows.values()]
}

function expectedRow(p: ExpectedPath, froms: string[], c: ChalkInstance, mark: (note: string) => number): Cell[] {
  const port = p.entry.servicePort?.name || (p.entry.destination.port !== undefined ? String(p.entry.destination.port) : '')
  const entry = `${clean(p.entry.address)}\n  ${p.entry.kind.replace('-', ' ')}${port ? ` ${clean(port)}` : ''}`
  const nodes = p.nodes === undefined ? [] : [p.nodes.length <= 2 ? `on ${p.nodes.map(clean).join(', ')}` : `on ${p.nodes.length} nodes`]
  const from = [...froms, ...(p.source !== undefined ? [`  ${p.source}`] : []), ...nodes].join('\n')
  const notes = [ruleNote(p), p.topologyHints ? 'endpoints carry zone hints: a node may use only those of its zone' : undefined].filter((n) => n !== undefined)
  const marks = notes.map((n) => `[${mark(n)}]`).join('')
  const backends = p.backends.length > 0 ? backendLines(p.backends) : ['-']
  for (const alt of p.alternatives) {
    backends.push(`if ${clean(alt.when.join(' and '))}: ${alt.verdict.toUpperCase()}`, ...backendLines(alt.backends).map((l) => `  ${l}`))
  }
  const verdict = `${p.verdict.toUpperCase()}${marks ? ` ${marks}` : ''}`
  return [{text: entry}, {text: from}, {text: verdict, paint: (l) => verdictText(p.verdict, c, l)}, {text: backends.join('\n')}]
}

function expectedSection(expected: ExpectedDataplane, c: ChalkInstance, width: number): string {
  const title = `— ${MARKING[expected.reason]}`
  if (expected.paths.length === 0) return `${title}\n  kube-proxy programs nothing for this query`
  const notes: string[] = []
  const mark = (n: string) => (notes.includes(n) ? notes.indexOf(n) : notes.push(n) - 1) + 1
  const byEntry = new Map<string, ExpectedPath[]>()
  for (const p of expected.paths) addTo(byEntry, p.entry.address, p)
  const rows = [...byEntry.values()].flatMap(mergeClients).map(({path, froms}) => expectedRow(path, froms, c, mark))
  const lines = table(bold(c)(['ENTRY', 'FROM', 'VERDICT', 'BACKENDS']), rows, width, '  ')
  return [...titled('EXPECTED ', title, width, c), ...lines, ...notes.flatMap((n, i) => hanging(`  [${i + 1}] `, n, width, c.dim))].join('\n')
}

/**
 * The sections for a report whose nodes were not traced: each Service's backends, then the
 * expected paths. Nothing when a node was traced.
 */
export function renderExpected(report: Report, style: Style & {width: number}): string[] {
  const {expected} = report
  if (!expected) return report.nodes.length === 0 ? ['No node data planes were read, so nothing was traced.'] : []
  const c = paint(style)
  return [...report.services.map((s) => backendsSection(s, c, style.width)), expectedSection(expected, c, style.width)]
}
