// -o tree, dot and mermaid as users run them: golden files on the example bundle, the terminal's
// locale choosing box drawing or ASCII, Mermaid's own parser reading every flowchart (hostile names
// included), Graphviz drawing the DOT, and the README's picture made from the current DOT.
import {spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Query} from '../../src/core/model.js'
import {buildGraph, type GraphGroup} from '../../src/render/graph.js'
import {clean} from '../../src/render/style.js'
import {renderMermaid} from '../../src/render/mermaid.js'
import {example, golden, kubectlSvctrace, pluginPath, root} from '../support/cli.js'
import {noGraphviz, renderSvg, svgTexts} from '../support/graphviz.js'
import {HOSTILE, hostileReport} from '../support/hostile.js'
import {parseFlowchart} from '../support/mermaid.js'

let plugin: ReturnType<typeof pluginPath>
beforeAll(() => {
  plugin = pluginPath()
})
afterAll(() => plugin.remove())

// The locale as the C library reads it: LC_ALL, then LC_CTYPE, then LANG.
const UTF8 = {LC_ALL: '', LC_CTYPE: '', LANG: 'en_US.UTF-8'}
const ASCII = {LC_ALL: '', LC_CTYPE: '', LANG: 'C'}
const run = (args: string[], env: Record<string, string> = UTF8) => kubectlSvctrace(plugin.dir, [...args, '--from', example], env)

const HELLO_WORLD_PODS = ['hello-world-6d4cf56db6-7xkqz', 'hello-world-6d4cf56db6-m2wbr', 'hello-world-6d4cf56db6-t9h5n']
const allGroups = (groups: GraphGroup[]): GraphGroup[] => groups.flatMap((g) => [g, ...allGroups(g.groups)])

describe('golden pictures of the example bundle', () => {
  it.each([
    ['tree-hello-world-utf8.txt', ['hello-world', '-o', 'tree'], UTF8],
    ['tree-hello-world-ascii.txt', ['hello-world', '-o', 'tree'], ASCII],
    ['hello-world.dot', ['hello-world', '-o', 'dot'], UTF8],
    ['hello-world.mmd', ['hello-world', '-o', 'mermaid'], UTF8],
  ])('%s', (file, args, env) => {
    const r = run(args, env)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(golden(file, r.stdout))
    for (const pod of HELLO_WORLD_PODS) expect(r.stdout).toContain(pod)
  })
})

describe('-o tree and the locale', () => {
  it.each([
    ['LANG=en_US.UTF-8', UTF8, true],
    ['LANG=C', ASCII, false],
    ['LC_ALL=C.UTF-8 over LANG=C', {...ASCII, LC_ALL: 'C.UTF-8'}, true],
    ['LC_CTYPE=POSIX over LANG=en_US.UTF-8', {...UTF8, LC_CTYPE: 'POSIX'}, false],
    ['nothing set', {LC_ALL: '', LC_CTYPE: '', LANG: ''}, false],
  ])('%s: box drawing %s', (_, env, unicode) => {
    const r = run(['hello-cache', '-o', 'tree'], env)
    expect(r.code).toBe(1)
    expect(r.stdout.includes('└── ')).toBe(unicode)
    expect(/[^\x20-\x7e\n]/.test(r.stdout)).toBe(unicode)
  })

  it('check mode: one tree per Service, each starting at its name', () => {
    const r = run(['-A', '-o', 'tree'])
    expect(r.code).toBe(1)
    const roots = r.stdout.split('\n').filter((l) => /^[^\s├└│]/.test(l))
    expect(roots.map((l) => l.split('  ')[0]).sort()).toEqual(['default/hello-cache', 'default/hello-world', 'default/kubernetes', 'default/web-lb'])
  })
})

describe('-o mermaid is a flowchart Mermaid’s own parser reads', () => {
  it.each([[['hello-world']], [['hello-cache']], [['web-lb', '--source', '198.51.100.20']], [['-A']], [['--ip', '10.244.0.5:8080/tcp']]])(
    '%j',
    async (args) => {
      const r = run([...args, '-o', 'mermaid'])
      expect(r.stderr).toBe('')
      const chart = await parseFlowchart(r.stdout)
      expect(chart.type).toBe('flowchart-v2')
      expect(chart.vertices.size).toBeGreaterThan(2)
    },
  )

  it('hello-world: every pod is a vertex, inside the subgraph of the node it runs on', async () => {
    const chart = await parseFlowchart(run(['hello-world', '-o', 'mermaid']).stdout)
    const pods = [...chart.vertices].filter(([, text]) => text.startsWith('hello-world-'))
    expect(pods.map(([, text]) => text.split('<br>')[0]).sort()).toEqual(HELLO_WORLD_PODS)
    const nodeB = chart.subgraphs.find((s) => s.title === 'node node-b')
    expect(nodeB?.nodes.map((id) => chart.vertices.get(id))).toEqual(['hello-world-6d4cf56db6-t9h5n<br>10.244.1.7:8080'])
  })

  it('hostile names are labels, nothing more: the vertices, edges and subgraphs of the graph, each label whole', async () => {
    const query: Query = {kind: 'all'}
    const report = await hostileReport(query)
    const graph = buildGraph(report)
    const chart = await parseFlowchart(renderMermaid(report))
    expect([...chart.vertices.keys()].sort()).toEqual([...graph.byId.keys()].sort())
    for (const [id, node] of graph.byId) expect(chart.vertices.get(id)).toBe(node.lines.join('<br>'))
    expect(chart.edges.map((e) => [e.from, e.to, e.text])).toEqual(graph.edges.map((e) => [e.from, e.to, e.lines.join('<br>')]))
    expect(chart.subgraphs.map((s) => s.title).sort()).toEqual(
      allGroups(graph.groups)
        .map((g) => g.title)
        .sort(),
    )
  })
})

describe.skipIf(noGraphviz)('-o dot drawn by Graphviz', () => {
  it('check mode: one graph, a box per Service, every pod named in the SVG', () => {
    const r = run(['-A', '-o', 'dot'])
    expect(r.stderr).toBe('')
    const svg = renderSvg(r.stdout)
    const texts = svgTexts(svg)
    for (const pod of [...HELLO_WORLD_PODS, 'web-5b8f7c9d4-hk2vz', 'web-5b8f7c9d4-pq6ms']) expect(texts).toContain(pod)
    for (const s of ['default/hello-cache', 'default/hello-world', 'default/kubernetes', 'default/web-lb']) expect(texts).toContain(s)
    expect(texts).toContain('REJECT')
  })

  it('the README picture is drawn from the committed DOT, which is what the command prints today', () => {
    const check = spawnSync(process.execPath, [path.join(root, 'scripts/picture.mjs'), '--check'], {cwd: root, encoding: 'utf8', timeout: 60_000})
    expect(check.stderr).toBe('')
    expect(check.status).toBe(0)
    const source = readFileSync(path.join(root, 'docs/example.dot'), 'utf8')
    const committed = readFileSync(path.join(root, 'docs/example.svg'), 'utf8')
    expect(svgTexts(committed)).toEqual(svgTexts(renderSvg(source)))
    for (const pod of HELLO_WORLD_PODS) expect(svgTexts(committed)).toContain(pod)
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toMatch(/!\[[^\]]+\]\(docs\/example\.svg\)/)
  })
})

describe('a bundle whose pod is named to break out of every format', () => {
  // The pod of node-b, renamed in cluster.yaml (pod, EndpointSlice targetRef, Endpoints targetRef).
  const POD = 'hello-world-6d4cf56db6-t9h5n'
  const name = HOSTILE.join('|')
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'svctrace-hostile-'))
    cpSync(example, dir, {recursive: true})
    const yaml = path.join(dir, 'cluster.yaml')
    // A JSON string is a YAML double-quoted scalar: every control character arrives escaped and intact.
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replaceAll(`name: ${POD}`, `name: ${JSON.stringify(name)}`))
  })
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  // Wide enough that the tree wraps no line: the whole name must be on one.
  const runHostile = (format: string) => kubectlSvctrace(plugin.dir, ['hello-world', '-o', format, '--from', dir], {...UTF8, COLUMNS: '2000'})

  it('-o mermaid: the pod is one vertex whose label is the name, made inert', async () => {
    const r = runHostile('mermaid')
    expect(r.code).toBe(0)
    const chart = await parseFlowchart(r.stdout)
    expect([...chart.vertices.values()].filter((t) => t.includes('10.244.1.7:8080'))).toEqual([`${clean(name)}<br>10.244.1.7:8080`])
  })

  it.skipIf(noGraphviz)('-o dot: Graphviz draws the name as text, every other pod still there', () => {
    const r = runHostile('dot')
    expect(r.code).toBe(0)
    const texts = svgTexts(renderSvg(r.stdout))
    expect(texts).toContain(clean(name))
    for (const pod of HELLO_WORLD_PODS.filter((p) => p !== POD)) expect(texts).toContain(pod)
  })

  it('-o tree: the name on one line, without control or bidi characters', () => {
    const r = runHostile('tree')
    expect(r.code).toBe(0)
    const podLines = r.stdout.split('\n').filter((l) => l.includes('10.244.1.7:8080'))
    expect(podLines.length).toBeGreaterThan(0)
    for (const line of podLines) expect(line).toContain(clean(name))
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/)
  })
})

describe('--help', () => {
  it('lists the picture formats and says what each is', () => {
    const r = kubectlSvctrace(plugin.dir, ['--help'])
    expect(r.stdout).toMatch(/-o, --output=<option>[\s\S]*<options: table\|wide\|tree\|json\|yaml\|dot\|mermaid>/)
    expect(r.stdout).toMatch(/-o dot \| dot \\?\s*-Tsvg/)
    expect(r.stdout).toMatch(/DESCRIPTION[\s\S]*tree, per node[\s\S]*mermaid, a/)
  })
})
