// Mermaid's own parser, for checking -o mermaid. Mermaid needs a DOM even to parse (its label
// sanitiser is DOMPurify), so a jsdom window is made global first: use this only in suites that run
// isolated (the cli project), never in the unit project's shared workers.
import {JSDOM} from 'jsdom'

interface Vertex {
  text?: string
}
interface FlowDb {
  getVertices(): Map<string, Vertex>
  getEdges(): Array<{start: string; end: string; text: string}>
  getSubGraphs(): Array<{id: string; title: string; nodes: string[]}>
}
interface MermaidApi {
  initialize(config: object): void
  parse(text: string): Promise<{diagramType: string}>
  mermaidAPI: {getDiagramFromText(text: string): Promise<{db: FlowDb}>}
}

let loaded: Promise<MermaidApi> | undefined

function mermaid(): Promise<MermaidApi> {
  loaded ??= (async () => {
    const {window} = new JSDOM('<!doctype html><html><body></body></html>')
    Object.assign(globalThis, {window, document: window.document})
    const api = (await import('mermaid')).default as unknown as MermaidApi
    api.initialize({startOnLoad: false, securityLevel: 'strict'})
    return api
  })()
  return loaded
}

// Mermaid keeps an entity code `#NUM;` as this placeholder until it renders.
const decode = (text: string) => text.replace(/ﬂ°°(\d+)¶ß/g, (_, n: string) => String.fromCodePoint(Number(n)))

/** What Mermaid's flowchart parser read: the diagram type, each vertex's and edge's text (entity codes decoded) and the subgraphs. */
export async function parseFlowchart(text: string): Promise<{
  type: string
  vertices: Map<string, string>
  edges: Array<{from: string; to: string; text: string}>
  subgraphs: Array<{id: string; title: string; nodes: string[]}>
}> {
  const api = await mermaid()
  const {diagramType} = await api.parse(text)
  const {db} = await api.mermaidAPI.getDiagramFromText(text)
  return {
    type: diagramType,
    vertices: new Map([...db.getVertices()].map(([id, v]) => [id, decode(v.text ?? '')])),
    edges: db.getEdges().map((e) => ({from: e.start, to: e.end, text: decode(e.text)})),
    subgraphs: db.getSubGraphs().map((s) => ({id: s.id, title: decode(s.title), nodes: s.nodes})),
  }
}
