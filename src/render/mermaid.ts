// -o mermaid: the graph (graph.ts) as a Mermaid flowchart. Every label is a quoted string in which
// any character but letters, digits and a few plain marks is written as Mermaid's entity code
// (`#34;`), so cluster text can close no quote or bracket, start no markdown or HTML, and end no
// subgraph; lines are joined with `<br>`. Ids are the graph's own (n1, g2…).
import type {Report} from '../core/model.js'
import {buildGraph, type Graph, type GraphGroup, type GraphNode, type GraphNodeKind} from './graph.js'

const PLAIN = /[A-Za-z0-9 .,:/_%=@+-]/

/** A Mermaid quoted label: plain characters as they are, every other one as `#CODE;`, lines joined by `<br>`. */
export function mermaidString(lines: string[]): string {
  const escape = (line: string) => [...line].map((ch) => (PLAIN.test(ch) ? ch : `#${ch.codePointAt(0)};`)).join('')
  return `"${lines.map(escape).join('<br>')}"`
}

// Each kind's shape: the label goes between the brackets.
const SHAPE: Record<GraphNodeKind, [string, string]> = {
  client: ['([', '])'],
  entry: ['[', ']'],
  service: ['[[', ']]'],
  chain: ['[', ']'],
  backend: ['(', ')'],
  refused: ['{{', '}}'],
  unmatched: ['{{', '}}'],
  unread: ['[', ']'],
  finding: ['>', ']'],
}

const CLASSES = [
  'classDef service fill:#dbe9ff,stroke:#1f4e99,stroke-width:2px',
  'classDef chain fill:#f5f5f5,stroke:#888888',
  'classDef backend fill:#e3f6e3,stroke:#2e7d32',
  'classDef refused fill:#ffd6d6,stroke:#cc0000,color:#cc0000',
  'classDef unmatched fill:#fff3c4,stroke:#b8860b',
  'classDef unread fill:#ffffff,stroke:#b8860b,stroke-dasharray:4 3',
  'classDef error fill:#ffd6d6,stroke:#cc0000',
  'classDef warning fill:#fff3c4,stroke:#b8860b',
  'classDef info fill:#e0f4ff,stroke:#1f77b4',
]

const classOf = (n: GraphNode) => (n.kind === 'finding' ? (n.severity ?? 'info') : n.kind)

function nodeLine(n: GraphNode): string {
  const [open, close] = SHAPE[n.kind]
  return `${n.id}${open}${mermaidString(n.lines)}${close}`
}

function groupLines(g: GraphGroup, graph: Graph, indent: string): string[] {
  return [
    `${indent}subgraph ${g.id}[${mermaidString([g.title])}]`,
    ...g.nodes.map((id) => `${indent}  ${nodeLine(graph.byId.get(id) as GraphNode)}`),
    ...g.groups.flatMap((inner) => groupLines(inner, graph, `${indent}  `)),
    `${indent}end`,
  ]
}

/** The report as a Mermaid flowchart, left to right. */
export function renderMermaid(report: Report): string {
  const graph = buildGraph(report)
  const byClass = new Map<string, string[]>()
  for (const n of graph.byId.values()) {
    const name = classOf(n)
    if (['client', 'entry'].includes(name)) continue
    const ids = byClass.get(name)
    if (ids) ids.push(n.id)
    else byClass.set(name, [n.id])
  }
  const lines = [
    'flowchart LR',
    ...graph.nodes.map((id) => `  ${nodeLine(graph.byId.get(id) as GraphNode)}`),
    ...graph.groups.flatMap((g) => groupLines(g, graph, '  ')),
    ...graph.edges.map((e) => {
      const arrow = e.dashed ? '-.-' : '-->'
      return `  ${e.from} ${arrow}${e.lines.length > 0 ? `|${mermaidString(e.lines)}|` : ''} ${e.to}`
    }),
    ...CLASSES.filter((c) => byClass.has(c.split(' ')[1] ?? '')).map((c) => `  ${c}`),
    ...[...byClass].map(([name, ids]) => `  class ${ids.join(',')} ${name}`),
  ]
  return lines.join('\n') + '\n'
}
