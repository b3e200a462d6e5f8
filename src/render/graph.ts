// The picture -o dot and -o mermaid both draw, built once from the typed report: clients → entry
// points → Service → per-node chains → backends (in a box per node they run on), REJECT/DROP as
// red terminal nodes, findings as notes. Ids are made here (n1, g1…), so no cluster text is ever
// an id; labels are plain lines that each format escapes its own way.
import {joinHostPort} from '../core/address.js'
import type {Backend, Finding, Report, SourceKind, TracePath, Verdict} from '../core/model.js'
import {chainPath} from './chains.js'
import {wrap} from './layout.js'
import {entryKey, isOwnNodeAddress, mergeNodes, outcomeKey, type NodeBlock} from './merge.js'
import {sections, type Section} from './sections.js'
import {clean} from './style.js'
import {backendName, entryWord, fromWord, percent, statusWord, verdictWord} from './words.js'

/** What a node stands for: each format gives each kind its shape and colour. */
export type GraphNodeKind = 'client' | 'entry' | 'service' | 'chain' | 'backend' | 'refused' | 'unmatched' | 'unread' | 'finding'

export interface GraphNode {
  id: string
  kind: GraphNodeKind
  /** Label lines, already clean (no control or bidirectional characters); still to be escaped. */
  lines: string[]
  /** For a finding: its severity. */
  severity?: Finding['severity']
}

export interface GraphEdge {
  from: string
  to: string
  /** Label lines, already inert. */
  lines: string[]
  /** A finding's link: dashed. */
  dashed?: boolean
}

/** A box drawn around nodes: a Service (check mode), a group of nodes that trace alike, the pods on one node. */
export interface GraphGroup {
  id: string
  title: string
  nodes: string[]
  groups: GraphGroup[]
}

export interface Graph {
  /** Ids of the nodes outside every group; the groups hold the rest. */
  nodes: string[]
  groups: GraphGroup[]
  edges: GraphEdge[]
  /** Every node by id. */
  byId: Map<string, GraphNode>
}

const CLIENT: Record<SourceKind, string> = {pod: 'pods', external: 'outside clients', node: 'the nodes themselves'}
// A note is a handful of short lines, not one line as wide as the picture.
const NOTE_WIDTH = 48

/** Builds the graph; ids and dedupe keys live here, the drawing in dot.ts and mermaid.ts. */
class GraphBuilder {
  readonly graph: Graph = {nodes: [], groups: [], edges: [], byId: new Map()}
  private count = 0
  private readonly keyed = new Map<string, string>()
  private readonly edgeIndex = new Map<string, GraphEdge>()

  /** The id of the node made for `key`, if one was. */
  known(key: string): string | undefined {
    return this.keyed.get(key)
  }

  /** The node for `key`, made on first use inside `into` (a group's list, or the top level). */
  node(key: string, kind: GraphNodeKind, lines: string[], into: string[], extra: Partial<GraphNode> = {}): string {
    const known = this.keyed.get(key)
    if (known) return known
    const id = `n${++this.count}`
    const node = {id, kind, lines: lines.map(clean), ...extra}
    this.keyed.set(key, id)
    this.graph.byId.set(id, node)
    into.push(id)
    return id
  }

  group(title: string): GraphGroup {
    return {id: `g${++this.count}`, title: clean(title), nodes: [], groups: []}
  }

  /** One edge per pair; labels of the rows that take it are joined under each other. */
  edge(from: string, to: string, label?: string, dashed = false): void {
    const key = `${from}>${to}`
    const known = this.edgeIndex.get(key)
    const line = label === undefined ? undefined : clean(label)
    if (known) {
      if (line !== undefined && !known.lines.includes(line)) known.lines.push(line)
      return
    }
    const edge = {from, to, lines: line === undefined ? [] : [line], ...(dashed ? {dashed} : {})}
    this.edgeIndex.set(key, edge)
    this.graph.edges.push(edge)
  }
}

/** A node's paths grouped by entry, chains and outcome: the clients in a group take the same way. */
function ways(paths: TracePath[]): TracePath[][] {
  const groups = new Map<string, TracePath[]>()
  for (const p of paths) {
    const key = `${entryKey(p)}#${chainPath(p).join('>')}#${outcomeKey(p)}`
    const group = groups.get(key)
    if (group) group.push(p)
    else groups.set(key, [p])
  }
  return [...groups.values()]
}

const REFUSED: ReadonlySet<Verdict> = new Set(['reject', 'drop'])

/** Draws one Service's part: `into` is the Service's group (check mode) or the top level. */
function drawSection(b: GraphBuilder, section: Section, report: Report, top: {nodes: string[]; groups: GraphGroup[]}, tag: string): void {
  const s = section.service
  const namespace = s?.namespace
  const service = s
    ? b.node(`${tag}svc`, 'service', [`Service ${s.namespace}/${s.name}`, `${s.type} ${statusWord(s.verdict.status)}`, ...s.clusterIPs], top.nodes)
    : b.node(`${tag}svc`, 'service', wrap(report.resolution ?? 'no Service', NOTE_WIDTH), top.nodes)
  const podGroups = new Map<string, GraphGroup>()
  const backendNode = (x: Backend) => {
    const key = `${tag}be|${x.ip}|${x.port}`
    const known = b.known(key)
    if (known) return known
    const host = x.node ?? ''
    let group = podGroups.get(host)
    if (!group) podGroups.set(host, (group = b.group(host ? `node ${host}` : 'not on a node')))
    return b.node(key, 'backend', [backendName(x, namespace), joinHostPort(x.ip, x.port)], group.nodes)
  }
  const outcome = (from: string, verdict: Verdict, backends: Backend[], block: string, group: GraphGroup, when?: string) => {
    const condition = when === undefined ? '' : ` if ${when}`
    if (verdict === 'dnat') {
      for (const x of backends) b.edge(from, backendNode(x), `${percent(x.probability)}${x.weight !== undefined ? ` w${x.weight}` : ''}${condition}`)
      return
    }
    const kind = REFUSED.has(verdict) ? 'refused' : 'unmatched'
    const end = b.node(`${block}|${verdict}`, kind, [verdictWord(verdict)], group.nodes)
    b.edge(from, end, when === undefined ? undefined : `if ${when}`)
  }
  // The block's first node stands for all (they trace alike); clients whose chains differ (a pod
  // enters PREROUTING, the node itself OUTPUT) get a chain node each.
  const wayEdges = (paths: TracePath[], block: NodeBlock, blockTag: string, group: GraphGroup) => {
    const p = paths[0] as TracePath
    const d = p.entry.destination
    const address = isOwnNodeAddress(p) && block.nodes.length > 1 ? `node IP:${d.port ?? ''}/${d.protocol}` : p.entry.address
    const entry = b.node(`${tag}entry|${entryKey(p)}`, 'entry', [entryWord(p.entry.kind), address], top.nodes)
    const from = [...new Set(paths.map((x) => x.from))]
    for (const kind of from) b.edge(b.node(`${tag}client|${kind}`, 'client', [CLIENT[kind]], top.nodes), entry)
    b.edge(entry, service)
    const chains = chainPath(p)
    const chain = b.node(`${blockTag}|${chains.join('>')}`, 'chain', chains.length > 0 ? chains : ['(no rule)'], group.nodes)
    b.edge(service, chain, `${address} from ${from.map(fromWord).join(', ')}${p.uncertain ? ' ?' : ''}`)
    outcome(chain, p.verdict, p.backends, blockTag, group)
    for (const alt of p.alternatives) outcome(chain, alt.verdict, alt.backends, blockTag, group, alt.when.join(' and '))
  }
  const blocks = mergeNodes(section.nodes).filter((block) => block.readError !== undefined || block.rows.length > 0)
  // Nodes not read (an API-only run, a bundle without nodes/): say so rather than draw nothing.
  if (blocks.length === 0) b.edge(service, b.node(`${tag}untraced`, 'unread', ['no node rules were traced'], top.nodes), undefined, true)
  const byName = new Map(section.nodes.map((n) => [n.name, n]))
  blocks.forEach((block, i) => {
    const blockTag = `${tag}block${i}`
    const group = b.group(`${block.nodes.length > 1 ? 'nodes' : 'node'} ${block.nodes.join(', ')} (${block.mode})`)
    top.groups.push(group)
    if (block.readError !== undefined) {
      b.edge(service, b.node(`${blockTag}|unread`, 'unread', ['not traced', ...wrap(block.readError, NOTE_WIDTH)], group.nodes), undefined, true)
    }
    for (const paths of ways(byName.get(block.nodes[0] ?? '')?.paths ?? [])) wayEdges(paths, block, blockTag, group)
  })
  top.groups.push(...podGroups.values())
  section.findings.forEach((f, i) => {
    const lines = [`${f.severity.toUpperCase()} ${f.id}`, ...wrap(f.message, NOTE_WIDTH)]
    b.edge(service, b.node(`${tag}finding|${i}`, 'finding', lines, top.nodes, {severity: f.severity}), undefined, true)
  })
}

/** The report as a graph: one Service at the top level, or in check mode a group per Service. */
export function buildGraph(report: Report): Graph {
  const b = new GraphBuilder()
  const parts = sections(report)
  const boxed = report.query.kind === 'all'
  parts.forEach((section, i) => {
    if (!boxed) return drawSection(b, section, report, b.graph, `${i}|`)
    const group = b.group(section.key ?? 'no Service')
    b.graph.groups.push(group)
    drawSection(b, section, report, group, `${i}|`)
  })
  return b.graph
}
