// Zero false positives through the real command: one healthy bundle per proxy mode
// (test/fixtures/healthy/), checked whole with -A and --fail-on warning, exits 0. The unit suite
// (test/core/checks/healthy-fixtures.test.ts) walks every healthy fixture; this proves the command agrees.
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/model.js'
import {kubectlSvctrace, pluginPath, root} from '../support/cli.js'

let plugin: ReturnType<typeof pluginPath>
beforeAll(() => {
  plugin = pluginPath()
})
afterAll(() => plugin.remove())

describe('kubectl svctrace -A --fail-on warning on a healthy bundle', () => {
  it.each([
    ['iptables', 'iptables-loadbalancer-external-local-health-checked'],
    ['ipvs', 'ipvs-nodeport-external-local'],
    ['ipvs', 'ipvs-nodeport-cluster-dual-stack'],
    ['nftables', 'nftables-externalips-cluster'],
  ])('%s: %s exits 0, every Service OK, no warning or error', (mode, fixture) => {
    const r = kubectlSvctrace(plugin.dir, ['-A', '--fail-on', 'warning', '-o', 'json', '--from', path.join(root, 'test/fixtures/healthy', fixture)])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as Report
    expect(report.nodes.map((n) => n.mode)).toEqual(report.nodes.map(() => mode))
    expect(report.services.map((s) => s.verdict.status)).toEqual(report.services.map(() => 'ok'))
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([])
  })

  it('the table says so too', () => {
    const r = kubectlSvctrace(plugin.dir, ['-A', '--fail-on', 'warning', '--from', path.join(root, 'test/fixtures/healthy/ipvs-nodeport-external-local')])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/ns1\s+svc1\s+NodePort\s+2\/2\s+OK/)
    expect(r.stdout).toContain('no errors or warnings')
  })
})
