// Counters in a bundle's dumps (iptables-save -c): per-backend packets and bytes in every output,
// and traffic-skewed only where chance cannot explain the split (test/fixtures/counters/README.md).
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/model.js'
import {golden, kubectlSvctrace, pluginPath, root} from '../support/cli.js'

let plugin: ReturnType<typeof pluginPath>
const bundle = (name: string) => path.join(root, 'test/fixtures/counters', name)
const run = (args: string[]) => kubectlSvctrace(plugin.dir, args)

beforeAll(() => {
  plugin = pluginPath()
})
afterAll(() => plugin.remove())

function jsonReport(name: string): Report {
  const r = run(['frontend', '-n', 'storefront', '-o', 'json', '--from', bundle(name)])
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout) as Report
}

/** frontend:http's backends on node1 as ip → counters, from the cluster IP path of a pod. */
function httpCounters(report: Report): Record<string, unknown> {
  const path = report.nodes.find((n) => n.name === 'node1')?.paths.find((p) => p.entry.address === '10.96.10.10:80/TCP' && p.from === 'pod')
  return Object.fromEntries((path?.backends ?? []).map((b) => [b.ip, b.counters]))
}

describe('counters from iptables-save -c', () => {
  it('the JSON report carries packets and bytes per backend, from each KUBE-SEP DNAT rule', () => {
    expect(httpCounters(jsonReport('skewed'))).toEqual({
      '10.244.1.11': {packets: 9120, bytes: 547200},
      '10.244.1.12': {packets: 150, bytes: 9000},
      '10.244.2.13': {packets: 150, bytes: 9000},
    })
  })

  it.each([
    ['skewed', 1],
    ['balanced', 0],
    ['few', 0],
  ])('%s: %i traffic-skewed finding(s)', (name, count) => {
    const skewed = jsonReport(name).findings.filter((f) => f.id === 'traffic-skewed')
    expect(skewed).toHaveLength(count)
    if (count === 0) return
    expect(skewed[0]).toMatchObject({severity: 'warning', node: 'node1', service: 'storefront/frontend'})
    expect(skewed[0]?.message).toContain('9,420 new connections')
    expect(skewed[0]?.message).toContain('10.244.1.11:8080 took 9,120 of them (96.8%, configured 33.3%)')
    expect(skewed[0]?.evidence?.at(-1)).toMatch(/^chi-square 17083\.0 with 2 degrees of freedom: p < 1e-300/)
  })

  it('--fail-on warning fails on the skewed split only', () => {
    expect(run(['frontend', '-n', 'storefront', '--fail-on', 'warning', '--from', bundle('skewed')]).code).toBe(1)
    expect(run(['frontend', '-n', 'storefront', '--fail-on', 'warning', '--from', bundle('balanced')]).code).toBe(0)
  })

  it.each([
    ['counters-skewed.txt', ['frontend', '-n', 'storefront'], '33.3%, 9,120 pkts / 547.2 kB'],
    // At 80 columns the wide view puts the chain and the counts under each backend.
    [
      'counters-skewed-wide.txt',
      ['frontend', '-n', 'storefront', '-o', 'wide'],
      '33.3%\n        via KUBE-SEP-SJXFB47F7IT5FQLL\n        counted 9,120 pkts / 547.2 kB',
    ],
  ])('golden %s: counters next to each share', (file, args, shown) => {
    const r = run([...args, '--from', bundle('skewed')])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(golden(file, r.stdout))
    expect(r.stdout).toContain(shown)
  })
})
