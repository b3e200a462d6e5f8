// -o dot: the graph (graph.ts) in Graphviz's language, for `dot -Tsvg`. Every label is a quoted
// string with backslash and quote escaped, so cluster text is never DOT syntax; lines are joined
// with DOT's own `\n` escape. Ids are the graph's own (n1, g2…).
import type {Report} from '../core/model.js'
import {buildGraph, type Graph, type GraphGroup, type GraphNode, type GraphNodeKind} from './graph.js'

/**
 * A DOT quoted string: `\` and `"` escaped (so `\N`, `\G`, `\l`… in a name stay text), `&` as
 * `&amp;` (Graphviz reads HTML entities in every label), lines joined by `\n`.
 */
export function dotString(lines: string[]): string {
  const escape = (line: string) => line.replace(/&/g, '&amp;').replace(/\\/g, '\\\\').replace(/"/g, '\\"')
  return `"${lines.map(escape).join('\\n')}"`
}

const SHAPE: Record<GraphNodeKind, string> = {
  client: 'shape=ellipse, style=filled, fillcolor="#eeeeee"',
  entry: 'shape=box',
  service: 'shape=box, style="rounded,filled,bold", fillcolor="#dbe9ff"',
  chain: 'shape=box, style=filled, fillcolor="#f5f5f5", fontname="Courier"',
  backend: 'shape=box, style="rounded,filled", fillcolor="#e3f6e3"',
  refused: 'shape=octagon, style=filled, fillcolor="#ffd6d6", color="#cc0000", fontcolor="#cc0000"',
  unmatched: 'shape=octagon, style=filled, fillcolor="#fff3c4", color="#b8860b"',
  unread: 'shape=box, style=dashed, color="#b8860b"',
  finding: 'shape=note, style=filled',
}

const NOTE_FILL = {error: '#ffd6d6', warning: '#fff3c4', info: '#e0f4ff'}

function nodeLine(n: GraphNode): string {
  const fill = n.kind === 'finding' && n.severity ? `, fillcolor="${NOTE_FILL[n.severity]}"` : ''
  return `${n.id} [label=${dotString(n.lines)}, ${SHAPE[n.kind]}${fill}];`
}

function groupLines(g: GraphGroup, graph: Graph, indent: string): string[] {
  // A subgraph is drawn as a box only when its name starts with `cluster`.
  return [
    `${indent}subgraph cluster_${g.id} {`,
    `${indent}  label=${dotString([g.title])};`,
    ...g.nodes.map((id) => `${indent}  ${nodeLine(graph.byId.get(id) as GraphNode)}`),
    ...g.groups.flatMap((inner) => groupLines(inner, graph, `${indent}  `)),
    `${indent}}`,
  ]
}

/** The report as a Graphviz digraph, left to right. */
export function renderDot(report: Report): string {
  const graph = buildGraph(report)
  const lines = [
    'digraph svctrace {',
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.5];',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    ...graph.nodes.map((id) => `  ${nodeLine(graph.byId.get(id) as GraphNode)}`),
    ...graph.groups.flatMap((g) => groupLines(g, graph, '  ')),
    ...graph.edges.map((e) => {
      const attrs = [...(e.lines.length > 0 ? [`label=${dotString(e.lines)}`] : []), ...(e.dashed ? ['style=dashed', 'arrowhead=none'] : [])]
      return `  ${e.from} -> ${e.to}${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`
    }),
    '}',
  ]
  return lines.join('\n') + '\n'
}
