// The answer for one Service or one address: the verdict first, then what each group of alike nodes
// does with each entry point, every distinct backend list once, and the findings.
import type {ChalkInstance} from 'chalk'
import type {Backend, Report, ServiceSummary, TracePath} from '../core/model.js'
import {renderExpected} from './expected.js'
import {aboutSeveralServices, findingsSection} from './findings.js'
import {hanging, labelled, table, type Cell} from './layout.js'
import {joinHostPort} from '../core/address.js'
import {backendLists, backendsKey, mergeNodes, type MergedRow, type NodeBlock} from './merge.js'
import {noteText} from './notes.js'
import {clean, paint, type Style} from './style.js'
import {backendName, entryWord, fromWord, percent, plural, shareText, statusLabel, statusWord, verdictPaint, verdictWord} from './words.js'

/** What the Service's paths add up to, or the finding that breaks it. */
function verdictSentence(s: ServiceSummary, nodesRead: boolean, otherwise?: string): string {
  const v = s.verdict
  if (v.cause) return clean(v.cause.message)
  if (v.entries === 0) return otherwise ?? (nodesRead ? 'nothing to trace' : `${s.endpoints.ready}/${s.endpoints.total} endpoints ready; node rules not read`)
  const where = `${plural(v.entries, 'entry point')} on ${plural(v.nodes, 'node')}`
  const ready = `${v.reached}/${plural(v.ready, v.reachedPods ? 'ready pod' : 'ready endpoint')}`
  const each = v.evenShare !== undefined && v.reached > 1 ? ` (${percent(v.evenShare)} each)` : ''
  const total = Object.values(v.outcomes).reduce((a, b) => a + b, 0)
  const dnat = v.outcomes.dnat ?? 0
  if (dnat === total) return `${where} → ${ready}${each}`
  const parts = [
    dnat > 0 ? `${dnat} DNAT to ${ready}${each}` : '',
    v.outcomes.reject ? `${v.outcomes.reject} REJECT` : '',
    v.outcomes.drop ? `${v.outcomes.drop} DROP` : '',
    v.outcomes['no-match'] ? `${v.outcomes['no-match']} match no rule (routed as addressed)` : '',
    v.outcomes['not-a-service'] ? `${v.outcomes['not-a-service']} not a Service address` : '',
  ].filter(Boolean)
  return `${where}; ${plural(total, 'path')}: ${parts.join(', ')}`
}

/** Type, addresses and ports of the Service, on the line under its verdict. */
function serviceDetails(s: ServiceSummary): string {
  const ports = s.ports
    .map((p) => `${p.name ? `${clean(p.name)} ` : ''}${p.port}/${p.protocol}→${clean(p.targetPort)}${p.nodePort ? ` (node port ${p.nodePort})` : ''}`)
    .join(', ')
  const parts = [s.type]
  if (s.clusterIPs.length > 0) parts.push(`cluster IP ${s.clusterIPs.join(', ')}`)
  if (ports) parts.push(`${s.ports.length > 1 ? 'ports' : 'port'} ${ports}`)
  if (s.externalIPs.length > 0) parts.push(`external IPs ${s.externalIPs.join(', ')}`)
  if (s.loadBalancerIPs.length > 0) parts.push(`load balancer ${s.loadBalancerIPs.join(', ')}`)
  if (s.externalTrafficPolicy === 'Local') parts.push('externalTrafficPolicy Local')
  if (s.internalTrafficPolicy === 'Local') parts.push('internalTrafficPolicy Local')
  return parts.join('  ')
}

/** The label of a backend list: none when there is only one, else A, B, … */
function listLabel(index: number, count: number): string {
  return count > 1 ? String.fromCharCode(65 + index) : ''
}

function backendSummary(backends: Backend[], label: string): string {
  if (backends.length === 0) return '-'
  const word = backends.every((b) => b.pod) ? 'pod' : backends.every((b) => b.role === 'api-server') ? 'API server' : 'backend'
  const share = backends[0]?.probability ?? 0
  const even = backends.length > 1 && backends.every((b) => Math.abs(b.probability - share) < 1e-6)
  return `${label ? `${label}: ` : ''}${plural(backends.length, word)}${even ? `, ${percent(share)} each` : ''}`
}

function entryCell(row: MergedRow, block: NodeBlock): string {
  const {entry} = row.path
  const d = entry.destination
  const address = row.ownNodeAddress && block.nodes.length > 1 ? `<node-ip>:${d.port ?? ''}/${d.protocol}` : entry.address
  return `${entryWord(entry.kind)} ${clean(address)}`
}

function fromCell(row: MergedRow): string {
  return row.source !== undefined && row.from.includes('external') ? clean(row.source) : row.from.map(fromWord).join(', ')
}

function verdictCell(p: TracePath, c: ChalkInstance, marks: string): Cell {
  const lines = [
    `${verdictWord(p.verdict)}${p.uncertain ? ' ?' : ''}${marks}`,
    ...p.alternatives.map((a) => `${verdictWord(a.verdict)} if ${clean(a.when.join(' and '))}`),
  ]
  return {text: lines.join('\n'), paint: (line, i) => (i === 0 ? verdictPaint(p.verdict, c, p.severity)(line) : c.dim(line))}
}

/** One block of alike nodes: a table of entry points, then its notes. */
function blockSection(block: NodeBlock, lists: Backend[][], width: number, c: ChalkInstance): string[] {
  const title = hanging(`${block.nodes.length > 1 ? 'NODES' : 'NODE'} `, `${block.nodes.map(clean).join(', ')}  (${block.mode})`, width, c.bold)
  title[0] = c.bold(title[0] ?? '')
  if (block.readError !== undefined) {
    return [...title, ...labelled('  ', 'not traced: ', `${c.red('not traced:')} `, clean(block.readError), width)]
  }
  if (block.rows.length === 0) return [...title, '  nothing to trace on this node']
  const notes: string[] = []
  const mark = (text: string) => {
    if (!notes.includes(text)) notes.push(text)
    return `[${notes.indexOf(text) + 1}]`
  }
  const keys = lists.map(backendsKey)
  const rows = block.rows.map((row): Cell[] => {
    const p = row.path
    const marks = p.notes.map((n) => mark(noteText(n))).join('')
    const label = listLabel(keys.indexOf(backendsKey(p.backends)), lists.length)
    return [{text: entryCell(row, block)}, {text: fromCell(row)}, verdictCell(p, c, marks ? ` ${marks}` : ''), {text: backendSummary(p.backends, label)}]
  })
  const head = ['ENTRY', 'FROM', 'VERDICT', 'BACKENDS'].map((h) => ({text: h, paint: (l: string) => c.bold(l)}))
  return [...title, ...table(head, rows, width, '  '), ...notes.flatMap((n, i) => hanging(`  [${i + 1}] `, clean(n), width, c.dim))]
}

/** Every distinct backend list once: who, where, on which node, which share. */
function backendsSection(lists: Backend[][], namespace: string | undefined, width: number, c: ChalkInstance): string[] {
  return lists.flatMap((list, i) => {
    const label = listLabel(i, lists.length)
    const head = [label ? `BACKENDS ${label}` : 'BACKEND', 'ADDRESS', 'NODE', 'SHARE'].map((h) => ({text: h, paint: (l: string) => c.bold(l)}))
    const rows = list.map((b): Cell[] => [
      {text: backendName(b, namespace)},
      {text: joinHostPort(b.ip, b.port)},
      {text: b.node ? clean(b.node) : '-'},
      {text: shareText(b)},
    ])
    return [...(i > 0 ? [''] : []), ...table(head, rows, width)]
  })
}

/** What the answer starts with: what owns the address (--ip), each Service's verdict and details, the configured mode. */
export function answerHeader(report: Report, width: number, c: ChalkInstance): string[][] {
  const sections: string[][] = []
  const nodesRead = report.nodes.some((n) => !n.readError)
  const byService = report.query.kind === 'service'
  if (report.resolution && !byService) sections.push(hanging('', clean(report.resolution), width))
  for (const s of report.services) {
    const name = clean(`${s.namespace}/${s.name}`)
    const unread = report.nodes.filter((n) => n.readError !== undefined).length
    const sentence =
      verdictSentence(s, nodesRead, byService ? report.resolution : undefined) + (unread > 0 && nodesRead ? `; ${plural(unread, 'node')} not read` : '')
    const first = labelled('', `${name}  ${statusWord(s.verdict.status)}  `, `${c.bold(name)}  ${statusLabel(s.verdict.status, c)}  `, sentence, width)
    sections.push([...first, ...hanging('  ', serviceDetails(s), width)])
  }
  if (report.kubeProxyMode)
    sections.push(
      hanging('', `kube-proxy is configured for ${clean(report.kubeProxyMode.mode)} mode: ${report.kubeProxyMode.evidence.map(clean).join('; ')}`, width),
    )
  return sections
}

/** The answer to a Service or --ip query: alike nodes merged, each backend list once. */
export function renderServiceView(report: Report, style: Style & {width: number}, notices: string[]): string {
  const c = paint(style)
  const {width} = style
  const sections = answerHeader(report, width, c)
  const blocks = mergeNodes(report.nodes)
  const lists = backendLists(blocks)
  for (const block of blocks) sections.push(blockSection(block, lists, width, c))
  const namespace = report.services.length === 1 ? report.services[0]?.namespace : undefined
  if (lists.length > 0) sections.push(backendsSection(lists, namespace, width, c))
  for (const part of renderExpected(report, style)) sections.push([part])
  for (const n of notices) sections.push(hanging('', clean(n), width))
  sections.push([findingsSection(report.findings, width, c, aboutSeveralServices(report.findings))])
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n'
}
