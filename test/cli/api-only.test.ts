// Without node rules, still an answer: the example bundle with its nodes/ removed gives each
// Service's backends from the API and the paths kube-proxy should program, marked as expected.
import {cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {example, golden, kubectlSvctrace, pluginPath} from '../support/cli.js'

let plugin: ReturnType<typeof pluginPath>
let scratch: string
let noNodes: string
const run = (args: string[]) => kubectlSvctrace(plugin.dir, args)

beforeAll(() => {
  plugin = pluginPath()
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-api-only-'))
  noNodes = path.join(scratch, 'hello-world-no-nodes')
  cpSync(example, noNodes, {recursive: true, filter: (src) => !src.startsWith(path.join(example, 'nodes'))})
})
afterAll(() => {
  plugin.remove()
  rmSync(scratch, {recursive: true, force: true})
})

/** The lines from the BACKENDS section to the findings: what this renderer adds. */
function expectedLines(stdout: string): string[] {
  const lines = stdout.split('\n')
  return lines.slice(
    lines.findIndex((l) => l.startsWith('BACKENDS')),
    lines.findIndex((l) => l.startsWith('FINDINGS') || l === 'No findings.'),
  )
}

describe('a bundle without nodes/', () => {
  it.each([
    ['api-only-hello-world.txt', ['hello-world'], 0],
    ['api-only-web-lb.txt', ['web-lb'], 0],
    ['api-only-hello-cache.txt', ['hello-cache'], 1],
  ])('%s: backends and expected paths, in 80 columns', (file, args, code) => {
    const r = run([...args, '--from', noNodes])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(golden(file, r.stdout))
    expect(r.code).toBe(code)
    expect(r.stdout).toContain('EXPECTED — the bundle has no nodes/ directory, so no node rules were read')
    const added = expectedLines(r.stdout)
    expect(added.length).toBeGreaterThan(5)
    expect(added.filter((l) => l.length > 80)).toEqual([])
  })

  it('-o json: the backends of the Service and the expected paths, typed', () => {
    const r = run(['hello-world', '--from', noNodes, '-o', 'json'])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.nodes).toEqual([])
    expect(report.services[0].backends[0]).toEqual({
      pod: 'default/hello-world-6d4cf56db6-m2wbr',
      ip: '10.244.0.12',
      node: 'node-a',
      conditions: {ready: true, serving: true, terminating: false},
      ports: [{name: 'http', port: 8080, protocol: 'TCP'}],
      zone: null,
      zoneHints: [],
      listedIn: {kind: 'EndpointSlice', name: 'hello-world-rx7kd'},
    })
    expect(report.expected.reason).toBe('bundle-without-nodes')
    const rows = report.expected.paths.map((p: {entry: {address: string}; from: string; verdict: string; backends: Array<{ip: string}>}) => [
      p.entry.address,
      p.from,
      p.verdict,
      p.backends.map((b) => b.ip).join(' '),
    ])
    const all = '10.244.0.12 10.244.0.5 10.244.1.7'
    expect(rows).toEqual([
      ['10.96.77.44:80/TCP', 'pod', 'dnat', all],
      ['10.96.77.44:80/TCP', 'node', 'dnat', all],
      ['192.168.49.2:30080/TCP', 'external', 'dnat', all],
      ['192.168.49.2:30080/TCP', 'node', 'dnat', all],
      ['192.168.49.3:30080/TCP', 'external', 'dnat', all],
      ['192.168.49.3:30080/TCP', 'node', 'dnat', all],
    ])
  })
})

describe('nodes that were read', () => {
  it('give no expected paths when one was traced', () => {
    const r = run(['hello-world', '--from', example, '-o', 'json'])
    expect(JSON.parse(r.stdout).expected).toBeUndefined()
  })

  it('all unreadable: the expected paths say no node could be read', () => {
    const dir = path.join(scratch, 'all-broken')
    cpSync(example, dir, {recursive: true})
    for (const n of ['node-a', 'node-b']) writeFileSync(path.join(dir, 'nodes', n, 'iptables-save.txt'), 'iptables-save: permission denied\n')
    const r = run(['hello-world', '--from', dir, '--fail-on', 'none'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("EXPECTED — no node's rules could be read\n  ENTRY")
  })
})
