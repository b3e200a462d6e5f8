// --conntrack as users meet it: on the stale-DNS bundle the finding prints with its count and the
// `conntrack -D` command (golden), --fail-on warning turns it into exit 1, and asking for conntrack
// without any way to read nodes is one error line with exit 2.
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {golden, kubectlSvctrace, pluginPath, root} from '../support/cli.js'

let plugin: ReturnType<typeof pluginPath>
const run = (args: string[]) => kubectlSvctrace(plugin.dir, args, {KUBECONFIG: path.join(root, 'no-such-kubeconfig')})
const bundle = (name: string) => path.join('test/fixtures', name)

beforeAll(() => {
  plugin = pluginPath()
})
afterAll(() => plugin.remove())

describe('--conntrack', () => {
  it('golden: kube-dns of the stale-DNS bundle shows the stale entries and the command that clears them', () => {
    const r = run(['kube-dns', '-n', 'kube-system', '--from', bundle('conntrack-stale-dns'), '--conntrack'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    // The command wraps at the width with a ` \\` continuation: it still pastes as one line.
    expect(r.stdout.replace(/ \\\n\s+/g, ' ')).toContain('conntrack -D -p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.244.1.5')
    expect(r.stdout).toBe(golden('conntrack-stale-dns.txt', r.stdout))
  })

  it('exits 1 with --fail-on warning; the healthy bundle does not', () => {
    expect(run(['kube-dns', '-n', 'kube-system', '--from', bundle('conntrack-stale-dns'), '--conntrack', '--fail-on', 'warning']).code).toBe(1)
    const healthy = run(['kube-dns', '-n', 'kube-system', '--from', bundle('conntrack-dns-healthy'), '--conntrack', '-o', 'json', '--fail-on', 'warning'])
    expect(healthy.code).toBe(0)
    const report = JSON.parse(healthy.stdout) as {findings: Array<{id: string}>; nodes: Array<{name: string; conntrack?: unknown}>}
    expect(report.findings.filter((f) => f.id.startsWith('conntrack-'))).toEqual([])
    expect(report.nodes.find((n) => n.name === 'node1')?.conntrack).toEqual({
      source: expect.stringMatching(/conntrack-dns-healthy\/nodes\/node1\/conntrack\.txt$/),
      entries: 7,
      forServices: 7,
      stale: 0,
      unread: 0,
    })
  })

  it('without --via or --from there is no node to read: one error line, exit 2', () => {
    const r = run(['kube-dns', '-n', 'kube-system', '--conntrack'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('error: --conntrack reads the nodes: add --via ssh (with --ssh-user …) or --via exec, or read a bundle with --from DIR\n')
  })

  it('--help lists it', () => {
    expect(run(['--help']).stdout).toMatch(/--conntrack\s+also read each node's conntrack entries/)
  })
})
