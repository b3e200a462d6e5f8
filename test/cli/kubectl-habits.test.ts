// kubectl habits at the command line: the SERVICE argument as TYPE/NAME or NS/NAME, and --help in
// groups that read at 80 columns.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {example, kubectlSvctrace, pluginPath} from '../support/cli.js'

let plugin: ReturnType<typeof pluginPath>
const run = (args: string[], env?: Record<string, string>) => kubectlSvctrace(plugin.dir, args, env)

beforeAll(() => {
  plugin = pluginPath()
})
afterAll(() => plugin.remove())

describe('SERVICE as kubectl users write it', () => {
  it('svc/NAME, service/NAME, NS/NAME and NAME -n NS give the same report', () => {
    const plain = run(['hello-world', '-n', 'default', '--from', example, '-o', 'json'])
    expect(plain.stderr).toBe('')
    for (const arg of [
      ['svc/hello-world'],
      ['service/hello-world', '-n', 'default'],
      ['services/hello-world'],
      ['default/hello-world'],
      ['default/hello-world', '-n', 'default'],
      // The Service's DNS name, short or full, with any cluster domain.
      ['hello-world.default'],
      ['hello-world.default.svc'],
      ['hello-world.default.svc.cluster.local'],
      ['hello-world.default.svc.cluster.local.'],
      ['hello-world.default.svc.example.org', '-n', 'default'],
    ]) {
      const r = run([...arg, '--from', example, '-o', 'json'])
      expect({arg, stderr: r.stderr, code: r.code}).toEqual({arg, stderr: '', code: plain.code})
      expect(r.stdout).toBe(plain.stdout)
    }
  })

  it.each([
    [['deploy/hello-world'], 'error: svctrace traces Services; got deploy/hello-world: give the Service'],
    [['default/hello-world', '-n', 'kube-system'], 'error: "default/hello-world" names namespace default but -n says kube-system: drop -n kube-system'],
    [['hello-world.kube-system', '-n', 'default'], 'error: "hello-world.kube-system" names namespace kube-system but -n says default: drop -n default'],
    [['hello_world.default'], 'error: "hello_world.default": Service name "hello_world" is no DNS label'],
    [
      ['--ip', 'hello-world.default.pod.cluster.local'],
      'error: --ip "hello-world.default.pod.cluster.local" is no Service name: the third label must be "svc"',
    ],
    [['--ip', 'hello-world.-bad:80'], 'error: --ip "hello-world.-bad:80": namespace "-bad" is no DNS label'],
    [['--ip', 'no-such.default'], 'error: Service "no-such" not found in namespace "default"'],
    [
      ['hello-world', '--source', '10.0.0.0/33'],
      'error: --source "10.0.0.0/33" is not an IP address or CIDR range (e.g. --source 203.0.113.9 or --source 203.0.113.0/24)',
    ],
    [['hello-world', '-v=loud'], 'error: -v=loud: give -v (or --verbose), or a level as kubectl takes it (-v=6)'],
  ])('%j is refused (exit 2) with what to write instead', (args, message) => {
    const r = run([...args, '--from', example])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.startsWith(message)).toBe(true)
  })
})

describe('--help', () => {
  const HEADINGS = ['FLAGS', 'QUERY FLAGS', 'CLUSTER FLAGS', 'OUTPUT FLAGS', 'NODE ACCESS FLAGS', 'SSH NODE ACCESS FLAGS', 'EXEC NODE ACCESS FLAGS']

  it('groups the flags under headings, in this order, each flag once, within 80 columns', () => {
    const r = run(['--help'], {COLUMNS: '80'})
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines.filter((l) => / FLAGS$|^FLAGS$/.test(l))).toEqual(HEADINGS)
    const longest = lines.reduce((a, l) => (l.length > a.length ? l : a), '')
    expect(longest.length, longest).toBeLessThanOrEqual(80)
    // A flag's own line: "  -n, --namespace=…" or "  --via=…" (descriptions continue further in).
    const flags = lines.map((l) => /^ {2}(?:-\w, )?--([a-z-]+)/.exec(l)?.[1] ?? /^ {6}--([a-z-]+)/.exec(l)?.[1]).filter((f): f is string => f !== undefined)
    expect(new Set(flags).size).toBe(flags.length)
    expect([...flags].sort()).toEqual([
      'all-namespaces',
      'bastion',
      'capture',
      'connect-timeout',
      'conntrack',
      'context',
      'counters',
      'debug-image',
      'debug-pod',
      'debug-pod-fallback',
      'explain',
      'fail-on',
      'from',
      'help',
      'ignore',
      'insecure-ignore-host-keys',
      'ip',
      'known-hosts',
      'kubeconfig',
      'namespace',
      'no-color',
      'node-timeout',
      'nodes',
      'output',
      'parallel',
      'request-timeout',
      'source',
      'ssh-address-type',
      'ssh-config',
      'ssh-host-template',
      'ssh-key',
      'ssh-port',
      'ssh-user',
      'sudo',
      'verbose',
      'version',
      'via',
    ])
  })

  it('puts each flag in its group', () => {
    const r = run(['--help'], {COLUMNS: '80'})
    const section = (heading: string) => {
      const start = r.stdout.indexOf(`\n${heading}\n`)
      const end = r.stdout.indexOf('\n\n', start + heading.length + 2)
      return r.stdout.slice(start, end)
    }
    expect(section('QUERY FLAGS')).toMatch(/--namespace[\s\S]*--all-namespaces[\s\S]*--ip[\s\S]*--source[\s\S]*--nodes/)
    expect(section('CLUSTER FLAGS')).toMatch(/--kubeconfig[\s\S]*--context[\s\S]*--request-timeout[\s\S]*--from[\s\S]*--capture/)
    expect(section('OUTPUT FLAGS')).toMatch(/--output[\s\S]*--fail-on[\s\S]*--ignore[\s\S]*--explain[\s\S]*--no-color[\s\S]*-v, --verbose/)
    expect(section('NODE ACCESS FLAGS')).toMatch(/--via[\s\S]*--counters[\s\S]*--parallel[\s\S]*--node-timeout[\s\S]*--connect-timeout/)
    expect(section('SSH NODE ACCESS FLAGS')).toMatch(/--ssh-user[\s\S]*--known-hosts[\s\S]*--bastion[\s\S]*--ssh-address-type/)
    expect(section('EXEC NODE ACCESS FLAGS')).toMatch(/--debug-pod[\s\S]*--debug-pod-fallback[\s\S]*--debug-image/)
  })
})
