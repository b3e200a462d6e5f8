// -o tree: per Service, per group of nodes that trace alike, each entry point → the clients that
// take the same way → every hop with its table/chain and the rule that matched → the backends with
// their share, pod and node. Equality is on the typed paths (merge.ts), never on printed text.
import type {ChalkInstance} from 'chalk'
import {joinHostPort} from '../core/address.js'
import type {Backend, Finding, Hop, NodeReport, Report, TracePath} from '../core/model.js'
import {DEFAULT_WIDTH, usableWidth} from './layout.js'
import {entryKey, isOwnNodeAddress, mergeNodes, outcomeKey, type NodeBlock} from './merge.js'
import {noteText} from './notes.js'
import {sections, type Section} from './sections.js'
import {paint, type Style} from './style.js'
import {drawTree, type TreeNode} from './tree-draw.js'
import {backendName, entryWord, fromWord, plural, shareText, statusWord, verdictPaint, verdictWord} from './words.js'

const leaf = (text: string, paint?: (t: string) => string): TreeNode => ({text, children: [], ...(paint ? {paint} : {})})

function backendNode(b: Backend, namespace: string | undefined): TreeNode {
  const where = b.node ? `  on ${b.node}` : ''
  return leaf(`${shareText(b)}  ${backendName(b, namespace)}  ${joinHostPort(b.ip, b.port)}${where}  via ${b.chain}`)
}

/** A hop as table/chain and the rule; the dump's line only when one node's dump is shown. */
function hopNode(h: Hop, withLine: boolean): TreeNode {
  const where = h.table ? `${h.table}/${h.chain}` : h.chain
  return leaf(`${where}: ${h.rule}${withLine && h.line > 0 ? `  (line ${h.line})` : ''}`)
}

/** One way through: who takes it, the verdict, the hops, the backends, the conditional outcomes and the notes. */
function wayNode(paths: TracePath[], namespace: string | undefined, withLine: boolean, c: ChalkInstance): TreeNode {
  const p = paths[0] as TracePath
  const facts = [`masquerade ${p.masquerade}`]
  if (p.affinity) facts.push(`ClientIP affinity ${p.affinity.timeoutSeconds}s`)
  if (p.scheduler) facts.push(`scheduler ${p.scheduler}`)
  const from = [...new Set(paths.map((x) => fromWord(x.from)))].join(', ')
  const verdict = `${verdictWord(p.verdict)}${p.uncertain ? ' ?' : ''}`
  const children = p.hops.map((h) => hopNode(h, withLine))
  if (p.backends.length > 0) children.push({text: plural(p.backends.length, 'backend'), children: p.backends.map((b) => backendNode(b, namespace))})
  for (const alt of p.alternatives) {
    children.push({
      text: `if ${alt.when.join(' and ')}: ${verdictWord(alt.verdict)}`,
      paint: verdictPaint(alt.verdict, c),
      children: alt.backends.map((b) => backendNode(b, namespace)),
    })
  }
  for (const n of p.notes) children.push(leaf(`note: ${noteText(n)}`, c.dim))
  return {text: `from ${from}: ${verdict}, ${facts.join(', ')}`, paint: verdictPaint(p.verdict, c, p.severity), children}
}

const hopsKey = (p: TracePath) => p.hops.map((h) => `${h.table}/${h.chain}/${h.rule}`).join('\n')

/** A node's paths by entry point, and within an entry the clients whose hops and outcome are equal. */
function entryNodes(node: NodeReport, several: boolean, namespace: string | undefined, c: ChalkInstance): TreeNode[] {
  const entries = new Map<string, Map<string, TracePath[]>>()
  for (const p of node.paths) {
    const ways = entries.get(entryKey(p)) ?? new Map<string, TracePath[]>()
    entries.set(entryKey(p), ways)
    const key = `${hopsKey(p)}#${outcomeKey(p)}`
    const way = ways.get(key)
    if (way) way.push(p)
    else ways.set(key, [p])
  }
  return [...entries.values()].map((ways) => {
    const p = [...ways.values()][0]?.[0] as TracePath
    const d = p.entry.destination
    // In a block of several nodes, a node port on each node's own address is one entry.
    const address = several && isOwnNodeAddress(p) ? `node IP:${d.port ?? ''}/${d.protocol}` : p.entry.address
    const port = p.entry.servicePort?.name ? `  (port ${p.entry.servicePort.name})` : ''
    return {text: `${entryWord(p.entry.kind)} ${address}${port}`, paint: c.bold, children: [...ways.values()].map((w) => wayNode(w, namespace, !several, c))}
  })
}

function blockNode(block: NodeBlock, byName: Map<string, NodeReport>, namespace: string | undefined, c: ChalkInstance): TreeNode {
  const several = block.nodes.length > 1
  const first = byName.get(block.nodes[0] ?? '')
  const title = `${block.nodes.length > 1 ? 'NODES' : 'NODE'} ${block.nodes.join(', ')}  (${block.mode}${several ? `; rules as on ${block.nodes[0]}` : ''})`
  if (block.readError !== undefined) return {text: title, children: [leaf(`not traced: ${block.readError}`, c.yellow)]}
  if (!first || first.paths.length === 0) return {text: title, children: [leaf('nothing to trace on these nodes')]}
  return {text: title, children: entryNodes(first, several, namespace, c)}
}

function findingNode(f: Finding, c: ChalkInstance): TreeNode {
  const painted = f.severity === 'error' ? c.red : f.severity === 'warning' ? c.yellow : c.cyan
  return {text: `${f.severity.toUpperCase()} ${f.id}: ${f.message}`, paint: painted, children: (f.evidence ?? []).map((e) => leaf(e, c.dim))}
}

function sectionTree(report: Report, section: Section, c: ChalkInstance): TreeNode {
  const s = section.service
  const title = s
    ? `${s.namespace}/${s.name}  ${statusWord(s.verdict.status)}  ${s.type} ${s.clusterIPs.join(', ')}`
    : (report.resolution ?? 'paths that belong to no Service')
  const blocks = mergeNodes(section.nodes).filter((b) => b.readError !== undefined || b.rows.length > 0)
  const byName = new Map(section.nodes.map((n) => [n.name, n]))
  const children = blocks.map((b) => blockNode(b, byName, s?.namespace, c))
  if (blocks.length === 0) children.push(leaf('no node rules were traced for it', c.dim))
  if (section.findings.length > 0) children.push({text: 'FINDINGS', paint: c.bold, children: section.findings.map((f) => findingNode(f, c))})
  return {text: title, paint: c.bold, children}
}

/** The report as one tree per Service (check mode: every Service), box-drawn when `style.unicode`. */
export function renderTree(report: Report, style: Style): string {
  const c = paint(style)
  const width = usableWidth(style.width ?? DEFAULT_WIDTH)
  const trees = sections(report).map((section) => drawTree(sectionTree(report, section, c), width, style.unicode === true))
  return trees.map((lines) => lines.join('\n')).join('\n\n') + '\n'
}
