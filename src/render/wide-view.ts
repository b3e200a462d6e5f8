// -o wide: every node and every path in full: where the packet starts, the chains it passes (with
// their table, whole), masquerade, affinity, and each backend with the chain that DNATs to it.
import type {ChalkInstance} from 'chalk'
import type {Backend, NodeReport, Report, TracePath} from '../core/model.js'
import {aboutSeveralServices, findingsSection} from './findings.js'
import {hanging, table, type Cell} from './layout.js'
import {noteText} from './notes.js'
import {clean, paint, type Style} from './style.js'
import {backendName, configuredShare, countersText, entryWord, lookupText, verdictPaint, verdictWord} from './words.js'
import {joinHostPort} from '../core/address.js'
import {chainPath} from './chains.js'

/** For a --source range: which part of it the traced address stands for. */
function rangeText(r: NonNullable<TracePath['sourceRange']>): string {
  if (r.stands === 'whole') return ` for ${clean(r.given)}`
  if (r.stands === 'allowed') return ` for ${clean(r.part ?? '')} of ${clean(r.given)}, allowed`
  return ` for the rest of ${clean(r.given)}`
}

function sourceText(p: TracePath): string {
  return clientText(p) + (p.sourceRange ? rangeText(p.sourceRange) : '')
}

function clientText(p: TracePath): string {
  if (p.from === 'external') return p.source !== undefined ? `client ${clean(p.source)}` : 'an outside client (any address)'
  if (p.from === 'node') return `the node itself${p.source !== undefined ? ` (${clean(p.source)})` : ''}`
  const at = p.source !== undefined ? ` (${clean(p.source)})` : ''
  if (p.sourcePod !== undefined) return `pod ${clean(p.sourcePod)}${at}`
  return p.sourceIsExample ? `any pod on the node${at}` : `a pod${at}`
}

/**
 * Backends as rows of who, address, share, what the dump counted and the chain that DNATs to it; the
 * chain and the counts go under the row when the line would not fit.
 */
function backendLines(backends: Backend[], namespace: string | undefined, width: number, indent: string): string[] {
  const counted = (b: Backend) => (b.counters ? countersText(b.counters) : '')
  const anyCounted = backends.some((b) => b.counters)
  const rows = backends.map((b): Cell[] => [
    {text: backendName(b, namespace)},
    {text: joinHostPort(b.ip, b.port)},
    {text: configuredShare(b)},
    ...(anyCounted ? [{text: counted(b) || '-'}] : []),
    {text: clean(b.chain)},
  ])
  const lines = table([], rows, width, indent)
  if (lines.every((l) => l.length <= width)) return lines
  return table(
    [],
    backends.map((b, i) => [
      {text: [backendName(b, namespace), `  via ${clean(b.chain)}`, ...(b.counters ? [`  counted ${counted(b)}`] : [])].join('\n')},
      rows[i]?.[1] ?? {text: ''},
      rows[i]?.[2] ?? {text: ''},
    ]),
    width,
    indent,
  )
}

function pathLines(p: TracePath, namespace: string | undefined, width: number, c: ChalkInstance): string[] {
  const facts = [`masquerade ${p.masquerade}`]
  if (p.affinity) facts.push(`ClientIP affinity ${p.affinity.timeoutSeconds}s`)
  if (p.scheduler) facts.push(`scheduler ${clean(p.scheduler)}`)
  const lookup = lookupText(p)
  if (lookup) facts.push(lookup)
  const verdict = `${verdictWord(p.verdict)}${p.uncertain ? ' ?' : ''}`
  const head = hanging('    ', `from ${sourceText(p)}: ${verdict}, ${facts.join(', ')}`, width)
  const lines = head.map((l) => l.replace(verdict, verdictPaint(p.verdict, c, p.severity)(verdict)))
  const chains = chainPath(p)
  if (chains.length > 0) lines.push(...hanging('      ', chains.join(' → '), width, c.dim))
  lines.push(...backendLines(p.backends, namespace, width, '      '))
  for (const alt of p.alternatives) {
    lines.push(...hanging('      ', `${verdictWord(alt.verdict)} if ${clean(alt.when.join(' and '))}`, width, c.dim))
    lines.push(...backendLines(alt.backends, namespace, width, '        '))
  }
  for (const n of p.notes) lines.push(...hanging('      · ', clean(noteText(n)), width, c.dim))
  return lines
}

function nodeLines(node: NodeReport, namespace: string | undefined, width: number, c: ChalkInstance): string[] {
  const title = c.bold(`NODE ${clean(node.name)}`) + `  (${node.mode})`
  if (node.readError !== undefined) return [title, ...hanging('  ', `not traced: ${clean(node.readError)}`, width)]
  if (node.paths.length === 0) return [title, '  nothing to trace on this node']
  const lines = [title]
  let entry = ''
  for (const p of node.paths) {
    const port = p.entry.servicePort?.name ? `  (port ${clean(p.entry.servicePort.name)})` : ''
    const heading = `${entryWord(p.entry.kind)} ${clean(p.entry.address)}${port}`
    if (heading !== entry) lines.push(...hanging('  ', heading, width, c.bold))
    entry = heading
    lines.push(...pathLines(p, namespace, width, c))
  }
  return lines
}

/** Every node's paths in full, then the findings (info included). */
export function renderWideView(report: Report, style: Style & {width: number}, header: string[][], notices: string[]): string {
  const c = paint(style)
  const namespace = report.services.length === 1 ? report.services[0]?.namespace : undefined
  const sections = [...header, ...report.nodes.map((n) => nodeLines(n, namespace, style.width, c))]
  for (const n of notices) sections.push(hanging('', clean(n), style.width))
  sections.push([findingsSection(report.findings, style.width, c, aboutSeveralServices(report.findings))])
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n'
}
