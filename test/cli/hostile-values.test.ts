// Hostile text from the cluster and the nodes: a label value with terminal escapes, a Service name
// with a bidi override, a pod name with a carriage return, a rule comment with a clear-screen and a
// zero-width space. Every text format prints them clean (each such character as `?`), on their own
// row, pictures included (the DOT and Mermaid quoting is tested in test/render/pictures.test.ts);
// JSON and YAML keep them exact and valid.
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/model.js'
import {example, kubectlSvctrace, pluginPath} from '../support/cli.js'

const ESC = '\u001b'
const SELECTOR = `cahce${ESC}]0;pwned\u0007${ESC}[2J`
const BIDI_NAME = 'hello-\u202edlrow'
const POD = `redis-0\r${ESC}[2K`
const COMMENT = `default/hello-world:http${ESC}[2J\u200b`
// Anything that could drive or disguise a terminal: C0 (but newline), DEL, C1, bidi and zero-width characters.
// eslint-disable-next-line no-control-regex -- the point: none of these may reach the output
const INVISIBLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/

let plugin: ReturnType<typeof pluginPath>
let dir: string

interface Item {
  kind: string
  metadata: {name: string; namespace?: string}
  spec?: {selector?: Record<string, string>}
}

beforeAll(() => {
  plugin = pluginPath()
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'svctrace-hostile-')), 'bundle')
  cpSync(example, dir, {recursive: true})
  const file = path.join(dir, 'cluster.yaml')
  const list = yaml.load(readFileSync(file, 'utf8')) as {items: Item[]}
  const cache = list.items.find((i) => i.kind === 'Service' && i.metadata.name === 'hello-cache')!
  cache.spec!.selector!.tier = SELECTOR
  const world = list.items.find((i) => i.kind === 'Service' && i.metadata.name === 'hello-world')!
  list.items.push({...structuredClone(world), metadata: {...world.metadata, name: BIDI_NAME}})
  list.items.find((i) => i.kind === 'Pod' && i.metadata.name === 'redis-0')!.metadata.name = POD
  writeFileSync(file, yaml.dump(list))
  const rules = path.join(dir, 'nodes/node-a/iptables-save.txt')
  writeFileSync(
    rules,
    readFileSync(rules, 'utf8').replace(
      '-A KUBE-NODEPORTS -p tcp -m comment --comment "default/hello-world:http"',
      `-A KUBE-NODEPORTS -p tcp -m comment --comment "${COMMENT}"`,
    ),
  )
})
afterAll(() => {
  plugin.remove()
  rmSync(path.dirname(dir), {recursive: true, force: true})
})

const run = (args: string[]) => kubectlSvctrace(plugin.dir, [...args, '--from', dir])

describe('every text format prints hostile values inert', () => {
  it.each([
    ['the answer', ['hello-cache']],
    ['the answer, wide', ['hello-cache', '-o', 'wide']],
    ['the trace through the hostile comment, wide', ['hello-world', '-o', 'wide']],
    ['check mode', ['-A']],
    ['check mode, wide', ['-A', '-o', 'wide']],
    ['tree', ['hello-world', '-o', 'tree']],
    ['tree, check mode', ['-A', '-o', 'tree']],
    ['dot', ['-A', '-o', 'dot']],
    ['mermaid', ['-A', '-o', 'mermaid']],
  ])('%s', (_, args) => {
    const r = run(args)
    expect(r.stderr).toBe('')
    expect(r.stdout).not.toMatch(INVISIBLE)
    expect(r.stdout.length).toBeGreaterThan(0)
  })

  it('the hostile values are there, each control character a "?"', () => {
    expect(run(['hello-cache']).stdout).toContain('cahce?]0;pwned??[2J')
    expect(run(['-A']).stdout).toContain('hello-?dlrow')
    // The tree shows the rule that matched, with its comment.
    expect(run(['hello-world', '-o', 'tree']).stdout).toContain('default/hello-world:http?[2J?')
  })

  it('an error that lists names from the cluster prints them clean too', () => {
    const r = run(['hello-wrld'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: Service "hello-wrld" not found/)
    expect(r.stderr).toContain('hello-?dlrow')
    expect(r.stderr).not.toMatch(INVISIBLE)
  })

  it('a name the user typed with escapes comes back inert', () => {
    const r = run([`x${ESC}[2J`])
    expect(r.code).toBe(2)
    expect(r.stderr).not.toMatch(INVISIBLE)
  })
})

describe('JSON and YAML keep them exact', () => {
  it('the same report either way, holding the exact values', () => {
    const json = run(['-A', '-o', 'json'])
    const asYaml = run(['-A', '-o', 'yaml'])
    const report = JSON.parse(json.stdout) as Report
    expect(yaml.load(asYaml.stdout)).toEqual(report)
    expect(report.services.map((s) => s.name)).toContain(BIDI_NAME)
    expect(report.findings.some((f) => f.message.includes(SELECTOR))).toBe(true)
    const traced = JSON.parse(run(['hello-world', '-o', 'json']).stdout) as Report
    const hops = traced.nodes.flatMap((n) => n.paths.flatMap((p) => p.hops))
    expect(hops.some((h) => h.comment === COMMENT)).toBe(true)
  })
})
