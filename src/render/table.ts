// The default output: what was asked, one table of paths per node, then the findings.
import Table from 'cli-table3'
import type {ChalkInstance} from 'chalk'
import {joinHostPort} from '../core/address.js'
import type {Backend, Finding, NodeReport, Report, ServiceSummary, TracePath, Verdict} from '../core/model.js'
import {noteText} from './notes.js'
import {clean, paint, type Style} from './style.js'

// kubectl-like: no borders, two spaces between columns.
const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
}

function table(head: string[]): Table.Table {
  return new Table({head, chars: BORDERLESS, style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0}, wordWrap: false})
}

function percent(p: number): string {
  const v = Math.round(p * 1000) / 10
  return `${v}%`
}

/** The verdict, coloured like the finding about it: a drop at its severity (info: a source range keeping an assumed client out). */
function verdictText(v: Verdict, c: ChalkInstance, severity?: TracePath['severity']): string {
  const label = v === 'dnat' ? 'DNAT' : v === 'no-match' ? 'NO MATCH' : v === 'not-a-service' ? 'NOT A SERVICE' : v.toUpperCase()
  if (v === 'dnat') return c.green(label)
  if (severity) return severity === 'info' ? c.cyan(label) : c.yellow(label)
  if (v === 'reject' || v === 'drop') return c.red(label)
  return c.yellow(label)
}

function backendLine(b: Backend): string {
  const who = b.pod ?? (b.node ? `node ${b.node}` : 'unknown IP')
  return `${clean(who)}  ${joinHostPort(b.ip, b.port)}  ${percent(b.probability)}`
}

function fromText(p: TracePath): string {
  const label = p.from === 'external' ? 'outside' : p.from
  return `${label}\n  ${p.source ?? 'any client'}`
}

/** The Service port of the entry by name, else by the number dialled. */
function portLabel(p: TracePath): string | undefined {
  if (!p.entry.service) return undefined
  return p.entry.servicePort?.name || (p.entry.destination.port !== undefined ? String(p.entry.destination.port) : undefined)
}

function entryText(p: TracePath): string {
  const kind = p.entry.kind.replace('-', ' ')
  const port = portLabel(p)
  return `${clean(p.entry.address)}\n  ${kind}${port ? ` ${clean(port)}` : ''}`
}

/** The chains the packet goes through, following the last jump (KUBE-MARK-MASQ shows as MASQ). */
function chainPath(p: TracePath): string {
  const chains: string[] = []
  const add = (c: string) => {
    if (c !== 'KUBE-MARK-MASQ' && chains.at(-1) !== c) chains.push(c)
  }
  for (const h of p.hops) add(h.chain)
  const last = p.hops.at(-1)?.target
  if (last && (last.kind === 'jump' || last.kind === 'goto' || last.kind === 'hook') && last.chain.startsWith('KUBE-')) add(last.chain)
  const [only] = p.backends
  if (p.backends.length > 1) add('KUBE-SEP-…')
  else if (only) add(only.chain)
  return chains.join(' →\n')
}

function pathRow(p: TracePath, style: Style, c: ChalkInstance, noteIndex: (n: string) => number): string[] {
  const marks = p.notes
    .map(noteText)
    .map(noteIndex)
    .map((i) => `[${i}]`)
    .join('')
  const verdict = [verdictText(p.verdict, c, p.severity) + (p.uncertain ? c.yellow(' ?') : '') + (marks ? ` ${marks}` : '')]
  for (const alt of p.alternatives) {
    verdict.push(c.dim(`${verdictText(alt.verdict, c)} if ${clean(alt.when.join(' and '))}`))
  }
  const backends = p.backends.length > 0 ? p.backends.map(backendLine) : ['-']
  const row = [entryText(p), fromText(p), verdict.join('\n'), backends.join('\n')]
  if (style.wide) row.push(p.masquerade, chainPath(p))
  return row
}

function serviceHeader(s: ServiceSummary, c: ChalkInstance): string {
  const ports = s.ports
    .map((p) => `${p.name ? `${clean(p.name)} ` : ''}${p.port}/${p.protocol}→${clean(p.targetPort)}${p.nodePort ? ` (node port ${p.nodePort})` : ''}`)
    .join(', ')
  const parts = [c.bold(clean(`${s.namespace}/${s.name}`)), s.type]
  if (s.clusterIPs.length > 0) parts.push(`cluster IP ${s.clusterIPs.join(', ')}`)
  if (ports) parts.push(`ports ${ports}`)
  if (s.externalIPs.length > 0) parts.push(`external IPs ${s.externalIPs.join(', ')}`)
  if (s.loadBalancerIPs.length > 0) parts.push(`load balancer ${s.loadBalancerIPs.join(', ')}`)
  if (s.externalTrafficPolicy === 'Local') parts.push('externalTrafficPolicy Local')
  if (s.internalTrafficPolicy === 'Local') parts.push('internalTrafficPolicy Local')
  return parts.join('  ')
}

function nodeSection(node: NodeReport, style: Style, c: ChalkInstance): string {
  const title = `${c.bold(`NODE ${clean(node.name)}`)}  (${node.mode})`
  if (node.readError) return `${title}\n  ${c.red('not traced:')} ${clean(node.readError)}`
  if (node.paths.length === 0) return `${title}\n  nothing to trace on this node`
  const notes: string[] = []
  const noteIndex = (n: string) => {
    const i = notes.indexOf(n)
    if (i >= 0) return i + 1
    notes.push(n)
    return notes.length
  }
  const head = ['ENTRY', 'FROM', 'VERDICT', 'BACKENDS']
  if (style.wide) head.push('MASQ', 'CHAINS')
  const t = table(head.map((h) => c.bold(h)))
  for (const p of node.paths) t.push(pathRow(p, style, c, noteIndex))
  const footer = notes.map((n, i) => c.dim(`  [${i + 1}] ${clean(n)}`))
  return [title, indent(t.toString()), ...footer].join('\n')
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l.trimEnd()}`)
    .join('\n')
}

function findingsSection(findings: Finding[], c: ChalkInstance): string {
  if (findings.length === 0) return c.green('No findings.')
  const lines = [c.bold('FINDINGS')]
  for (const f of findings) {
    const sev = f.severity === 'error' ? c.red('ERROR  ') : f.severity === 'warning' ? c.yellow('WARNING') : c.cyan('INFO   ')
    lines.push(`  ${sev}  ${clean(f.message)}  ${c.dim(`(${f.id})`)}`)
    for (const e of [...(f.evidence ?? []), ...(f.notes ?? []).map(noteText)]) lines.push(`           ${c.dim('·')} ${clean(e)}`)
    if (f.fix) lines.push(`           ${c.dim('fix:')} ${clean(f.fix.text)}`)
    if (f.fix?.command) lines.push(`             ${clean(f.fix.command)}`)
  }
  return lines.join('\n')
}

/** Check mode: one row per Service, then every finding. */
function renderSummary(report: Report, c: ChalkInstance, wide: boolean, notices: string[]): string {
  const t = table(['NAMESPACE', 'SERVICE', 'TYPE', 'ENDPOINTS', 'FINDINGS'].map((h) => c.bold(h)))
  for (const s of report.services) {
    const key = `${s.namespace}/${s.name}`
    const mine = report.findings.filter((f) => f.service === key)
    const count = (sev: Finding['severity']) => mine.filter((f) => f.severity === sev).length
    const parts = [
      count('error') ? c.red(`${count('error')} error${count('error') > 1 ? 's' : ''}`) : '',
      count('warning') ? c.yellow(`${count('warning')} warning${count('warning') > 1 ? 's' : ''}`) : '',
    ].filter(Boolean)
    const slugs = [...new Set(mine.filter((f) => f.severity !== 'info').map((f) => f.id))].join(', ')
    const {ready, total, portless} = s.endpoints
    const noPort = portless === 0 ? '' : portless === ready ? ' (no port)' : ` (${portless} without port)`
    const eps = s.type === 'ExternalName' ? '-' : `${ready}/${total}${noPort}`
    t.push([clean(s.namespace), clean(s.name), s.type, eps, parts.length ? `${parts.join(', ')}: ${slugs}` : c.green('ok')])
  }
  const traced = report.nodes.filter((n) => !n.readError).length
  const nodes = report.nodes.length === 0 ? 'node rules not read: API checks only' : `rules of ${traced}/${report.nodes.length} node(s) traced`
  const ns = report.query.kind === 'all' ? report.query.namespace : undefined
  const header = `${report.services.length} Service(s)${ns ? ` in namespace ${ns}` : ' in all namespaces'}; ${nodes}`
  // On a big cluster the facts (affinity, headless, …) would drown the problems: -o wide shows them.
  const shown = wide ? report.findings : report.findings.filter((f) => f.severity !== 'info')
  const hidden = report.findings.length - shown.length
  const more = hidden > 0 ? `\n${c.dim(`(${hidden} info finding${hidden > 1 ? 's' : ''} not shown: -o wide or -o json shows them)`)}` : ''
  const listed = shown.length === 0 && hidden > 0 ? c.green('No errors or warnings.') : findingsSection(shown, c)
  return [header, indent(t.toString()), ...notices.map(clean), listed + more].join('\n\n') + '\n'
}

/** Renders the report as tables for a terminal or a pipe; notices (how nodes were read) go before the findings. */
export function renderTable(report: Report, style: Style, notices: string[] = []): string {
  const c = paint(style)
  if (report.query.kind === 'all') return renderSummary(report, c, style.wide, notices)
  const sections: string[] = []
  if (report.resolution) sections.push(clean(report.resolution))
  for (const s of report.services) sections.push(serviceHeader(s, c))
  if (report.kubeProxyMode)
    sections.push(`kube-proxy is configured for ${clean(report.kubeProxyMode.mode)} mode: ${report.kubeProxyMode.evidence.map(clean).join('; ')}`)
  for (const node of report.nodes) sections.push(nodeSection(node, style, c))
  if (report.nodes.length === 0 && notices.length === 0) sections.push('No node data planes were read, so nothing was traced.')
  sections.push(...notices.map(clean))
  sections.push(findingsSection(report.findings, c))
  return sections.join('\n\n') + '\n'
}
