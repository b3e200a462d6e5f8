// Every class of error a user can cause, walked through the real command: each names what failed and
// says what to do next (a command to run, a flag to use, the choices), on one `error:` paragraph,
// with exit code 2 and no stack trace. Errors about one node (a bundle file that is no dump) are
// node-unreadable findings instead, whose message and fix say the same. The live classes (API server
// unreachable, RBAC, SSH, interruption) have their own tests: live-cluster, ssh-nodes, live-nodes,
// interrupted-read.
import {cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/model.js'
import {example, kubectlSvctrace, pluginPath} from '../support/cli.js'

let plugin: ReturnType<typeof pluginPath>
let scratch: string
/** Bundles broken in one way each, made in beforeAll. */
const bundles = {noCluster: '', badYaml: '', emptyRules: '', garbageRules: ''}

beforeAll(() => {
  plugin = pluginPath()
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-errors-'))
  for (const name of Object.keys(bundles) as (keyof typeof bundles)[]) {
    bundles[name] = path.join(scratch, name)
    cpSync(example, bundles[name], {recursive: true})
  }
  rmSync(path.join(bundles.noCluster, 'cluster.yaml'))
  writeFileSync(path.join(bundles.badYaml, 'cluster.yaml'), 'items: [ {kind: Service\n')
  writeFileSync(path.join(bundles.emptyRules, 'nodes/node-a/iptables-save.txt'), '')
  writeFileSync(path.join(bundles.garbageRules, 'nodes/node-a/iptables-save.txt'), '*nat\n:PREROUTING ACCEPT [0:0]\nthis is not a rule\nCOMMIT\n')
  mkdirSync(path.join(scratch, 'home'))
})
afterAll(() => {
  plugin.remove()
  rmSync(scratch, {recursive: true, force: true})
})

/** A HOME without ~/.kube and no KUBECONFIG: only what the flags say is read. */
const run = (args: string[]) => kubectlSvctrace(plugin.dir, args, {HOME: path.join(scratch, 'home'), KUBECONFIG: ''})

interface Case {
  /** The class of error, as the code raises it. */
  kind: string
  args: () => string[]
  /** What failed: the input named in the message. */
  failed: RegExp
  /** The next step. */
  next: RegExp
}

const usage: Case[] = [
  {kind: 'oclif: unknown flag', args: () => ['--nodse', 'x', 'hello-world'], failed: /Nonexistent flag: --nodse/, next: /did you mean --nodes\?/},
  {kind: 'oclif: value not among the choices', args: () => ['-o', 'jsn', 'hello-world'], failed: /--output=jsn/, next: /one of: table, wide/},
  {kind: 'oclif: flag without its value', args: () => ['-n'], failed: /--namespace expects a value/, next: /See kubectl svctrace --help/},
  {
    kind: 'oclif: extra argument',
    args: () => ['hello-world', 'extra', '--from', example],
    failed: /Unexpected argument: extra/,
    next: /See kubectl svctrace --help/,
  },
  {kind: 'query: nothing asked', args: () => ['--from', example], failed: /name a Service/, next: /kubectl svctrace SERVICE -n NAMESPACE.*--ip.*-A/},
  {kind: 'query: a Service and --ip', args: () => ['hello-world', '--ip', '10.96.77.44', '--from', example], failed: /not both/, next: /give either/},
  {kind: 'query: -A with a Service', args: () => ['-A', 'hello-world', '--from', example], failed: /-A checks every Service/, next: /drop "hello-world" or -A/},
  {
    kind: 'query: --ip not an address',
    args: () => ['--ip', '1.2.3', '--from', example],
    failed: /"1\.2\.3" is not an IP address/,
    next: /e\.g\. 10\.96\.0\.10:53\/udp/,
  },
  {
    kind: 'query: --source not an address',
    args: () => ['hello-world', '--source', 'abc', '--from', example],
    failed: /--source "abc"/,
    next: /e\.g\. --source 203\.0\.113\.9/,
  },
  {
    kind: 'finding id: --explain',
    args: () => ['--explain', 'selector-match-no-pod'],
    failed: /no finding "selector-match-no-pod"/,
    next: /did you mean selector-matches-no-pods\?/,
  },
  {
    kind: 'finding id: --ignore',
    args: () => ['hello-world', '--ignore', 'nope', '--from', example],
    failed: /no finding "nope"/,
    next: /--explain ID tells what each means/,
  },
  {
    kind: 'QueryError: no such Service',
    args: () => ['hello-wrld', '--from', example],
    failed: /Service "hello-wrld" not found in namespace "default"/,
    next: /similar names in default: .*hello-world/,
  },
  {
    kind: 'SourceError: no such node',
    args: () => ['hello-world', '--nodes', 'node-z', '--from', example],
    failed: /no node named node-z/,
    next: /nodes: node-a, node-b/,
  },
  {kind: 'SourceError: no kubeconfig', args: () => ['hello-world'], failed: /no kubeconfig found/, next: /Point --kubeconfig at one, or use --from DIR/},
  {
    kind: 'SourceError: --kubeconfig missing',
    args: () => ['hello-world', '--kubeconfig', path.join(scratch, 'nope')],
    failed: /no such file/,
    next: /kubectl config view --minify/,
  },
  {
    kind: 'SourceError: --from missing',
    args: () => ['hello-world', '--from', path.join(scratch, 'nope')],
    failed: /no such directory/,
    next: /--capture .*nope/,
  },
  {
    kind: 'SourceError: --from a file',
    args: () => ['hello-world', '--from', path.join(example, 'cluster.yaml')],
    failed: /not a directory/,
    next: /make one from a live cluster/,
  },
  {
    kind: 'SourceError: bundle without cluster.yaml',
    args: () => ['hello-world', '--from', bundles.noCluster],
    failed: /cluster\.yaml not found/,
    next: /kubectl get svc,endpointslices,endpoints,pods,nodes -A -o yaml/,
  },
  {
    kind: 'SourceError: cluster.yaml not YAML',
    args: () => ['hello-world', '--from', bundles.badYaml],
    failed: /cluster\.yaml:\d+: not valid YAML/,
    next: /make it with: kubectl get/,
  },
  {
    kind: 'NodeFlagError: --from with --via',
    args: () => ['hello-world', '--from', example, '--via', 'ssh'],
    failed: /--from reads a bundle/,
    next: /drop --via ssh/,
  },
  {
    kind: 'NodeFlagError: --ssh-key missing',
    args: () => ['hello-world', '--via', 'ssh', '--ssh-key', path.join(scratch, 'nokey')],
    failed: /--ssh-key .*: no such file/,
    next: /e\.g\. --ssh-key ~\/\.ssh\/id_ed25519/,
  },
]

describe('usage and source errors: one error paragraph, what failed, the next step, exit 2', () => {
  it.each(usage.map((c) => [c.kind, c] as const))('%s', (_, c) => {
    const r = run(c.args())
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^error: /)
    expect(r.stderr).not.toMatch(/^\s+at |internal error/m)
    expect(r.stderr).toMatch(c.failed)
    expect(r.stderr).toMatch(c.next)
  })
})

const nodeFiles: Case[] = [
  {
    kind: 'empty iptables-save.txt',
    args: () => ['hello-world', '-o', 'json', '--from', bundles.emptyRules],
    failed: /node-a\/iptables-save\.txt is empty/,
    next: /make it again on node-a as root with: iptables-save > iptables-save\.txt/,
  },
  {
    kind: 'DumpError: a line that is no rule',
    args: () => ['hello-world', '-o', 'json', '--from', bundles.garbageRules],
    failed: /iptables-save\.txt:3: unexpected line "this is not a rule"/,
    next: /capture the file again on the node as root \(iptables-save > iptables-save\.txt/,
  },
]

describe('a bad node file: a node-unreadable finding that names the file and line, and how to make it again', () => {
  it.each(nodeFiles.map((c) => [c.kind, c] as const))('%s', (_, c) => {
    const r = run(c.args())
    expect(r.stderr).toBe('')
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout) as Report
    const unreadable = report.findings.filter((f) => f.id === 'node-unreadable')
    expect(unreadable.map((f) => f.node)).toEqual(['node-a'])
    const f = unreadable[0]
    expect(f?.message).toMatch(c.failed)
    expect(`${f?.message} ${f?.fix?.text}`).toMatch(c.next)
    // node-b is still traced.
    expect(report.nodes.find((n) => n.name === 'node-b')?.paths.length).toBeGreaterThan(0)
  })
})
