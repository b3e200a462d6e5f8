// -o json and -o yaml written in pieces are byte for byte the one string each used to be,
// JSON.stringify(printableReport(report), null, 2) and a line feed, and yaml.dump(printableReport(report),
// {noRefs: true, lineWidth: -1}), on the report of every fixture bundle, every golden query of the
// example, the example without nodes, and hostile names.
import {cpSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import yaml from 'js-yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {runTrace} from '../../src/app/run-trace.js'
import type {Query, Report} from '../../src/core/model.js'
import {printableReport, renderJsonPieces, renderYamlPieces} from '../../src/render/structured.js'
import {example, root} from '../support/cli.js'
import {hostileReport} from '../support/hostile.js'

const scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-structured-'))
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

/** Every bundle directory (one holding cluster.yaml) under test/fixtures, and the example. */
function bundles(): string[] {
  const found: string[] = [example]
  const walk = (dir: string) => {
    const entries = readdirSync(dir, {withFileTypes: true})
    if (entries.some((e) => e.name === 'cluster.yaml' || e.name === 'cluster.json')) found.push(dir)
    else for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name))
  }
  walk(path.join(root, 'test/fixtures'))
  return found
}

async function traced(dir: string, query: Query): Promise<Report> {
  const bundle = new BundleDir(dir)
  const {report} = await runTrace({query, nodes: [], failOn: 'error', ignore: [], conntrack: true, counters: true}, {cluster: bundle, reader: bundle})
  return report
}

/** What -o json and -o yaml printed before they were written in pieces. */
const oneString = (report: Report) => ({
  json: JSON.stringify(printableReport(report), null, 2) + '\n',
  yaml: yaml.dump(printableReport(report), {noRefs: true, lineWidth: -1}),
})
const inPieces = (report: Report) => ({json: [...renderJsonPieces(report)].join(''), yaml: [...renderYamlPieces(report)].join('')})

const goldenQueries: Array<[string, Query]> = [
  ['hello-world', {kind: 'service', service: 'hello-world'}],
  ['hello-cache', {kind: 'service', service: 'hello-cache', namespace: 'default'}],
  ['web-lb --source 198.51.100.20', {kind: 'service', service: 'web-lb', source: '198.51.100.20'}],
  ['web-lb --source 203.0.112.0/23', {kind: 'service', service: 'web-lb', source: '203.0.112.0/23'}],
  ['--ip 192.168.49.3:30080', {kind: 'ip', ip: '192.168.49.3', port: 30080, protocol: 'TCP'}],
  ['--ip 10.244.0.5:8080/tcp', {kind: 'ip', ip: '10.244.0.5', port: 8080, protocol: 'TCP'}],
  ['--ip 10.99.99.99:80', {kind: 'ip', ip: '10.99.99.99', port: 80, protocol: 'TCP'}],
]

describe('-o json and -o yaml in pieces', () => {
  it.each(bundles().map((dir) => [path.relative(root, dir), dir]))('-A on %s', async (_, dir) => {
    const report = await traced(dir, {kind: 'all'})
    expect(inPieces(report)).toEqual(oneString(report))
  })

  it.each(goldenQueries)('%s on the example', async (_, query) => {
    const report = await traced(example, query)
    expect(inPieces(report)).toEqual(oneString(report))
  })

  it('a DNS name on the cluster-dns fixture', async () => {
    const query: Query = {kind: 'name', name: 'kube-dns.kube-system.svc.cluster.local', service: 'kube-dns', namespace: 'kube-system'}
    const report = await traced(path.join(root, 'test/fixtures/cluster-dns-iptables-v1.26'), query)
    expect(report.services).toHaveLength(1)
    expect(inPieces(report)).toEqual(oneString(report))
  })

  it('the expected paths of the example without nodes/', async () => {
    const noNodes = path.join(scratch, 'no-nodes')
    cpSync(example, noNodes, {recursive: true, filter: (src) => !src.startsWith(path.join(example, 'nodes'))})
    const report = await traced(noNodes, {kind: 'service', service: 'web-lb'})
    expect(report.expected).toBeDefined()
    expect(inPieces(report)).toEqual(oneString(report))
  })

  it.each<[string, Query]>([
    ['-A', {kind: 'all'}],
    ['hello-world', {kind: 'service', service: 'hello-world', namespace: 'default'}],
  ])('hostile names and control characters, %s', async (_, query) => {
    const report = await hostileReport(query)
    const text = inPieces(report)
    expect(text.json).toContain('\\u001b[31m')
    expect(text.yaml).toContain('\\e[31m')
    expect(text).toEqual(oneString(report))
  })
})
