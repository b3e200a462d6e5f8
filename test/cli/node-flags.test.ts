// The node-access flags as users meet them: each bad value is one `error: …` line saying what to give
// instead, exit 2, before anything is read; bundles refuse node access; --help lists the flags.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {example, kubectlSvctrace, pluginPath} from '../support/cli.js'

let plugin: ReturnType<typeof pluginPath>
let scratch: string
let kubeconfig: string
const run = (args: string[]) => kubectlSvctrace(plugin.dir, args, {KUBECONFIG: kubeconfig, HOME: scratch})

beforeAll(() => {
  plugin = pluginPath()
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-node-flags-'))
  // A context nothing listens behind: every case below must fail before the API is asked.
  kubeconfig = path.join(scratch, 'config')
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: x',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
    'users: [{name: u, user: {token: t}}]', 'contexts: [{name: x, context: {cluster: c, user: u}}]', '',
  ].join('\n'))
})
afterAll(() => {
  plugin.remove()
  rmSync(scratch, {recursive: true, force: true})
})

describe('node access flags', () => {
  it.each([
    [['--ssh-port', '70000'], '--ssh-port 70000: not a port number; give 1 to 65535 (default 22)'],
    [['--ssh-port', '0'], '--ssh-port 0: not a port number; give 1 to 65535 (default 22)'],
    [['--via', 'ssh', '--parallel', '0'], '--parallel 0: give how many nodes to read at once from 1 to 1000 (default 10)'],
    [['--parallel', '0'], '--parallel sets how nodes are read, but no node is read: add --via ssh (with --ssh-user …) or --via exec'],
    [['--via', 'none', '--node-timeout', '5', '--parallel', '2'], '--parallel, --node-timeout set how nodes are read, but no node is read: add --via ssh (with --ssh-user …) or --via exec'],
    [['--via', 'ssh', '--node-timeout', '0'], '--node-timeout 0: give seconds per node command from 1 to 3600 (default 60)'],
    [['--bastion', 'ops@'], '--bastion ops@: "" is not a host name or IP address (expected user@host:port)'],
    [['--bastion', 'ops@jump:99999'], '--bastion ops@jump:99999: "99999" is not a port number'],
    [['--ssh-key', '/no/such/key'], '--ssh-key /no/such/key: no such file; give the private key file (e.g. --ssh-key ~/.ssh/id_ed25519)'],
    [['--ssh-config', '/no/such/config'], '--ssh-config /no/such/config: no such file; give an ssh config file, or leave the flag out to read ~/.ssh/config'],
    [['--ssh-user', 'root;reboot'], '--ssh-user "root;reboot": not a user name (letters, digits, _ . @ -)'],
    [['--ssh-host-template', '{name}.x;reboot'], '--ssh-host-template "{name}.x;reboot": must make a host name from {name} and {address} (e.g. {name}.nodes.example.com)'],
    [['--via', 'exec', '--ssh-user', 'core'], '--ssh-user is for --via ssh, not --via exec'],
    [['--via', 'none', '--sudo'], '--sudo is for --via ssh, not --via none'],
    [['--via', 'ssh', '--debug-pod'], '--debug-pod is for --via exec, not --via ssh'],
    [['--ssh-user', 'core', '--debug-pod'], '--ssh-user read nodes over SSH and --debug-pod through pods: say which with --via ssh or --via exec'],
    [['--via', 'exec', '--debug-image', 'busybox'], '--debug-image names the image of --debug-pod pods: add --debug-pod'],
    [['--via', 'exec', '--debug-pod', '--debug-image', 'x;reboot'], '--debug-image "x;reboot": not an image reference (e.g. registry.k8s.io/kube-proxy:v1.30.0)'],
  ])('%j', (flags, message) => {
    const r = run(['hello-world', ...flags])
    expect(r.stderr).toBe(`error: ${message}\n`)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
  })

  it('a bundle already holds the nodes: --via ssh and the SSH flags are refused with --from', () => {
    const a = run(['hello-world', '--from', example, '--via', 'ssh'])
    expect(a.stderr).toBe('error: --from reads a bundle, which already holds each node\'s rules: drop --via ssh (or drop --from to read the live cluster)\n')
    expect(a.code).toBe(2)
    const b = run(['hello-world', '--from', example, '--ssh-user', 'core', '--parallel', '3'])
    expect(b.stderr).toBe('error: --ssh-user, --parallel read the nodes of a live cluster; a bundle (--from) already holds them: drop them\n')
  })

  it('--via none with a bundle checks the API objects only', () => {
    const r = run(['hello-world', '--from', example, '--via', 'none', '-o', 'json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).nodes).toEqual([])
  })

  it('--help lists the node access flags', () => {
    const r = run(['--help'])
    for (const f of ['--via=<option>', '--ssh-user=USER', '--ssh-key=FILE', '--known-hosts=FILE', '--bastion=USER@HOST:PORT', '--sudo', '--insecure-ignore-host-keys', '--parallel=N', '--node-timeout=SEC', '--connect-timeout=SEC', '--debug-pod']) {
      expect(r.stdout).toContain(f)
    }
  })
})
