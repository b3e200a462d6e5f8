// -o wide: every node and every path in full: where the packet starts, the chains it passes (with
// their table, whole), masquerade, affinity, and each backend with the chain that DNATs to it.
import type {ChalkInstance} from 'chalk'
import type {Backend, NodeReport, Report, TracePath} from '../core/model.js'
import {aboutSeveralServices, findingsSection} from './findings.js'
import {hanging, table, type Cell} from './layout.js'
import {noteText} from './notes.js'
import {clean, paint, type Style} from './style.js'
import {backendName, entryWord, lookupText, shareText, verdictPaint, verdictWord} from './words.js'
import {joinHostPort} from '../core/address.js'

// Marking for masquerade is a side trip, shown in the masquerade column rather than as a chain.
const SIDE_CHAINS = new Set(['KUBE-MARK-MASQ'])

/** The chains the packet passes, each as table/chain, including chains it jumped to where no rule matched (KUBE-FW- when the source check lets it through). */
function chainPath(p: TracePath): string[] {
  const out: string[] = []
  const add = (table: string, chain: string) => {
    const name = table ? `${table}/${chain}` : chain
    if (!SIDE_CHAINS.has(chain) && out.at(-1) !== name) out.push(name)
  }
  p.hops.forEach((h, i) => {
    add(h.table, h.chain)
    const t = h.target
    const next = p.hops[i + 1]
    if ((t.kind === 'jump' || t.kind === 'goto' || t.kind === 'hook') && !(next && next.table === h.table && next.chain === t.chain)) add(h.table, t.chain)
  })
  return out
}

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

/** Backends as rows of who, address, share and the chain that DNATs to it; the chain goes under the row when the line would not fit. */
function backendLines(backends: Backend[], namespace: string | undefined, width: number, indent: string): string[] {
  const rows = backends.map((b): Cell[] => [
    {text: backendName(b, namespace)},
    {text: joinHostPort(b.ip, b.port)},
    {text: shareText(b)},
    {text: clean(b.chain)},
  ])
  const lines = table([], rows, width, indent)
  if (lines.every((l) => l.length <= width)) return lines
  return table(
    [],
    rows.map((r) => [{text: `${r[0]?.text ?? ''}\n  via ${r[3]?.text ?? ''}`}, r[1] ?? {text: ''}, r[2] ?? {text: ''}]),
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
