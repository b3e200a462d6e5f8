// The pictures (-o tree, dot, mermaid) on the example bundle's typed report: what the graph holds,
// that Graphviz draws it with every pod named, and that hostile names stay text in every format.
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {runTrace} from '../../src/app/run-trace.js'
import type {Query, Report} from '../../src/core/model.js'
import {dotString, renderDot} from '../../src/render/dot.js'
import {buildGraph, type Graph, type GraphGroup} from '../../src/render/graph.js'
import {mermaidString} from '../../src/render/mermaid.js'
import {sections} from '../../src/render/sections.js'
import {clean} from '../../src/render/style.js'
import {renderTree} from '../../src/render/tree.js'
import {example} from '../support/cli.js'
import {noGraphviz, renderSvg, svgTexts} from '../support/graphviz.js'
import {HOSTILE, hostileReport} from '../support/hostile.js'

const bundle = new BundleDir(example)
const trace = async (query: Query): Promise<Report> =>
  (await runTrace({query, nodes: [], failOn: 'error', ignore: []}, {cluster: bundle, reader: bundle})).report
const service = (name: string): Query => ({kind: 'service', service: name, namespace: 'default'})
const ALL: Query = {kind: 'all'}

/** Every pod a DNAT path of the report reaches, as `namespace/name`. */
const reachedPods = (report: Report) =>
  [
    ...new Set(
      report.nodes.flatMap((n) => n.paths.flatMap((p) => [...p.backends, ...p.alternatives.flatMap((a) => a.backends)]).flatMap((b) => (b.pod ? [b.pod] : []))),
    ),
  ].sort()

const allGroups = (groups: GraphGroup[]): GraphGroup[] => groups.flatMap((g) => [g, ...allGroups(g.groups)])
const nodesOf = (graph: Graph, kind: string) => [...graph.byId.values()].filter((n) => n.kind === kind)

// A control or bidirectional character anywhere: the pictures must hold none.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

describe('label escaping', () => {
  it.each([
    ['plain', ['hello-world 10.0.0.1:80/TCP'], '"hello-world 10.0.0.1:80/TCP"'],
    ['a quote ends no string', ['a"b'], '"a\\"b"'],
    ['a backslash is no escape (\\N is the node name to Graphviz)', ['x\\N\\"'], '"x\\\\N\\\\\\""'],
    ['an ampersand is no entity', ['&lt;'], '"&amp;lt;"'],
    ['lines join with DOT’s \\n', ['a', 'b'], '"a\\nb"'],
  ])('dotString: %s', (_, lines, expected) => {
    expect(dotString(lines)).toBe(expected)
  })

  it.each([
    ['plain', ['hello-world 10.0.0.1:80/TCP 33.3%'], '"hello-world 10.0.0.1:80/TCP 33.3%"'],
    ['a quote as its code', ['a"b'], '"a#34;b"'],
    ['brackets and braces as codes', ['])}'], '"#93;#41;#125;"'],
    ['an entity code stays text', ['#quot;'], '"#35;quot#59;"'],
    ['HTML and markdown stay text', ['<b>`x`'], '"#60;b#62;#96;x#96;"'],
    ['non-ASCII as its code point', ['→'], '"#8594;"'],
    ['lines join with <br>', ['a', 'b'], '"a<br>b"'],
  ])('mermaidString: %s', (_, lines, expected) => {
    expect(mermaidString(lines)).toBe(expected)
  })

  it.each([
    ['newline, tab, escape, C1', 'a\nb\tc\u001b[0m\u009b', 'a?b?c?[0m?'],
    ['bidi override, isolate, mark', 'a\u202eb\u2066c\u200fd\u061ce', 'a?b?c?d?e'],
    ['plain text and other non-ASCII', 'pod-1 → ä', 'pod-1 → ä'],
  ])('clean: %s', (_, text, expected) => {
    expect(clean(text)).toBe(expected)
  })
})

describe('buildGraph', () => {
  it('hello-world: clients → entries → Service → a chain box for the alike nodes → every pod, in the box of the node it runs on', async () => {
    const report = await trace(service('hello-world'))
    const graph = buildGraph(report)
    expect(nodesOf(graph, 'client').map((n) => n.lines)).toEqual([['pods'], ['the nodes themselves'], ['outside clients']])
    expect(nodesOf(graph, 'service').map((n) => n.lines[0])).toEqual(['Service default/hello-world'])
    const groups = allGroups(graph.groups)
    expect(groups.map((g) => g.title)).toEqual(['nodes node-a, node-b (iptables)', 'node node-a', 'node node-b'])
    const backends = nodesOf(graph, 'backend')
    expect(backends.map((b) => `default/${b.lines[0]}`).sort()).toEqual(reachedPods(report))
    const nodeA = groups.find((g) => g.title === 'node node-a') as GraphGroup
    expect(nodeA.nodes.map((id) => graph.byId.get(id)?.lines[1]).sort()).toEqual(['10.244.0.12:8080', '10.244.0.5:8080'])
    // A pod enters PREROUTING, the node itself OUTPUT: two chain nodes for the cluster IP.
    const chains = nodesOf(graph, 'chain').map((n) => n.lines[0])
    expect(chains.filter((c) => c === 'nat/PREROUTING')).toHaveLength(2)
    expect(chains.filter((c) => c === 'nat/OUTPUT')).toHaveLength(2)
    expect(graph.edges.filter((e) => graph.byId.get(e.to)?.kind === 'backend').map((e) => e.lines)).toEqual(Array(12).fill(['33.3%']))
    expect(nodesOf(graph, 'refused')).toEqual([])
  })

  it('hello-cache: REJECT is a red terminal node the chains end in; each finding is a note linked to the Service', async () => {
    const report = await trace(service('hello-cache'))
    const graph = buildGraph(report)
    const [reject] = nodesOf(graph, 'refused')
    expect(reject?.lines).toEqual(['REJECT'])
    expect(graph.edges.filter((e) => e.to === reject?.id).map((e) => graph.byId.get(e.from)?.kind)).toEqual(['chain', 'chain'])
    const notes = nodesOf(graph, 'finding')
    expect(notes.map((n) => n.lines[0]).sort()).toEqual(report.findings.map((f) => `${f.severity.toUpperCase()} ${f.id}`).sort())
    const svc = nodesOf(graph, 'service')[0]?.id
    for (const n of notes) expect(graph.edges).toContainEqual({from: svc, to: n.id, lines: [], dashed: true})
  })

  it('a node not read is a dashed "not traced" node in its own box; no node read at all says so', async () => {
    const report = await trace(service('hello-world'))
    const [a, b] = report.nodes
    const unread = buildGraph({...report, nodes: [a!, {name: b!.name, mode: 'unknown', readError: 'ssh: connection refused', paths: []}]})
    const box = allGroups(unread.groups).find((g) => g.title === 'node node-b (unknown)')
    expect(box?.nodes.map((id) => unread.byId.get(id)?.lines)).toEqual([['not traced', 'ssh: connection refused']])
    const none = buildGraph({...report, nodes: []})
    expect(nodesOf(none, 'unread').map((n) => n.lines)).toEqual([['no node rules were traced']])
    expect(nodesOf(none, 'backend')).toEqual([])
  })

  it('check mode: one box per Service, each with its own Service node and findings', async () => {
    const report = await trace(ALL)
    const graph = buildGraph(report)
    expect(graph.nodes).toEqual([])
    expect(graph.groups.map((g) => g.title).sort()).toEqual(report.services.map((s) => `${s.namespace}/${s.name}`).sort())
    for (const g of graph.groups) expect(g.nodes.filter((id) => graph.byId.get(id)?.kind === 'service')).toHaveLength(1)
    expect(nodesOf(graph, 'finding')).toHaveLength(report.findings.length)
    expect(sections(report).map((s) => s.key)).toEqual(report.services.map((s) => `${s.namespace}/${s.name}`))
  })
})

describe('renderTree', () => {
  it('box-drawing on UTF-8, plain ASCII otherwise, the same tree either way', async () => {
    const report = await trace(service('hello-world'))
    const utf8 = renderTree(report, {color: false, wide: false, unicode: true})
    const ascii = renderTree(report, {color: false, wide: false, unicode: false})
    expect(utf8).toContain('├── ')
    expect(ascii).toContain('|-- ')
    expect([...ascii].filter((ch) => ch > '~' && ch !== '\n')).toEqual([])
    expect(ascii.split('\n')).toHaveLength(utf8.split('\n').length)
    for (const pod of reachedPods(report)) expect(utf8).toContain(pod.slice('default/'.length))
  })

  it('every hop with its table/chain and the rule that matched, and the dump line when one node is shown', async () => {
    const report = await trace(service('hello-world'))
    const one = {...report, nodes: report.nodes.slice(0, 1)}
    const text = renderTree(one, {color: false, wide: false, unicode: true, width: 400})
    const hop = one.nodes[0]?.paths[0]?.hops[1]
    expect(text).toContain(`${hop?.table}/${hop?.chain}: ${hop?.rule}  (line ${hop?.line})`)
    expect(renderTree(report, {color: false, wide: false, unicode: true, width: 400})).not.toContain('(line ')
  })

  it('check mode: one tree per Service', async () => {
    const report = await trace(ALL)
    const roots = renderTree(report, {color: false, wide: false, unicode: true}).split('\n\n')
    expect(roots.map((t) => t.split('  ')[0])).toEqual(report.services.map((s) => `${s.namespace}/${s.name}`))
  })

  it.each([true, false])('hostile names (unicode %s): no control or bidi character reaches the terminal', async (unicode) => {
    const text = renderTree(await hostileReport(ALL), {color: false, wide: false, unicode, width: 1000})
    expect(text.replace(/\n/g, '')).not.toMatch(UNSAFE)
    if (unicode) for (const h of HOSTILE) expect(text).toContain(clean(h))
  })
})

describe.skipIf(noGraphviz)('-o dot through Graphviz (dot -Tsvg)', () => {
  it.each([
    ['hello-world', service('hello-world')],
    ['hello-cache', service('hello-cache')],
    ['-A', ALL],
  ])('%s: the SVG names every pod', async (_, query) => {
    const report = await trace(query)
    const texts = svgTexts(renderSvg(renderDot(report)))
    for (const pod of reachedPods(report)) expect(texts).toContain(pod.slice('default/'.length))
  })

  it('hostile names are labels, nothing more: as many nodes, edges and boxes as the graph has, each label line whole', async () => {
    const report = await hostileReport(ALL)
    const graph = buildGraph(report)
    const svg = renderSvg(renderDot(report))
    expect(svg.match(/class="node"/g)).toHaveLength(graph.byId.size)
    expect(svg.match(/class="edge"/g)).toHaveLength(graph.edges.length)
    expect(svg.match(/class="cluster"/g)).toHaveLength(allGroups(graph.groups).length)
    expect(svg).not.toMatch(/<script/i)
    const texts = svgTexts(svg)
    for (const node of graph.byId.values()) for (const line of node.lines) expect(texts).toContain(line)
    for (const h of HOSTILE) expect(texts.some((t) => t.includes(clean(h)))).toBe(true)
    expect(texts.join('')).not.toMatch(UNSAFE)
  })
})
