// The node-access flags translated into a typed config (resolveNodeAccess): each bad value is one
// NodeFlagError saying what to give instead (the command prints it as `error: …`, exit 2, before
// anything is read, as test/cli/node-flags.test.ts checks); bundles refuse node access.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {NodeFlagError, resolveNodeAccess, type NodeFlagValues} from '../../src/commands/node-flags.js'

const bundle = '/some/bundle'
let home: string

beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), 'svctrace-node-flags-'))
})
afterAll(() => rmSync(home, {recursive: true, force: true}))

async function refusal(flags: NodeFlagValues): Promise<unknown> {
  try {
    return await resolveNodeAccess(flags, home)
  } catch (err) {
    return err
  }
}

describe('a bad node access flag is refused with what to give instead', () => {
  it.each<[NodeFlagValues, string]>([
    [{'ssh-port': 70000}, '--ssh-port 70000: not a port number; give 1 to 65535 (default 22)'],
    [{'ssh-port': 0}, '--ssh-port 0: not a port number; give 1 to 65535 (default 22)'],
    [{via: 'ssh', parallel: 0}, '--parallel 0: give how many nodes to read at once from 1 to 1000 (default 10)'],
    [{parallel: 0}, '--parallel sets how nodes are read, but no node is read: add --via ssh (with --ssh-user …) or --via exec'],
    [
      {via: 'none', 'node-timeout': 5, parallel: 2},
      '--parallel, --node-timeout set how nodes are read, but no node is read: add --via ssh (with --ssh-user …) or --via exec',
    ],
    [{via: 'ssh', 'node-timeout': 0}, '--node-timeout 0: give seconds per node command from 1 to 3600 (default 60)'],
    [{via: 'ssh', 'connect-timeout': 601}, '--connect-timeout 601: give seconds to connect from 1 to 600 (default 10)'],
    [{bastion: 'ops@'}, '--bastion ops@: "" is not a host name or IP address (expected user@host:port)'],
    [{bastion: 'ops@jump:99999'}, '--bastion ops@jump:99999: "99999" is not a port number'],
    [{'ssh-key': '/no/such/key'}, '--ssh-key /no/such/key: no such file; give the private key file (e.g. --ssh-key ~/.ssh/id_ed25519)'],
    [{'ssh-key': '/'}, '--ssh-key /: not a file; give the private key file (e.g. --ssh-key ~/.ssh/id_ed25519)'],
    [{'ssh-config': '/no/such/config'}, '--ssh-config /no/such/config: no such file; give an ssh config file, or leave the flag out to read ~/.ssh/config'],
    [{'ssh-user': 'root;reboot'}, '--ssh-user "root;reboot": not a user name (letters, digits, _ . @ -)'],
    [
      {'ssh-host-template': '{name}.x;reboot'},
      '--ssh-host-template "{name}.x;reboot": must make a host name from {name} and {address} (e.g. {name}.nodes.example.com)',
    ],
    [{via: 'exec', 'ssh-user': 'core'}, '--ssh-user is for --via ssh, not --via exec'],
    [{via: 'none', sudo: true}, '--sudo is for --via ssh, not --via none'],
    [{via: 'ssh', 'debug-pod': true}, '--debug-pod is for --via exec, not --via ssh'],
    [{via: 'none', 'debug-pod': true}, '--debug-pod is for --via exec, not --via none'],
    [{'ssh-user': 'core', 'debug-pod': true}, '--ssh-user read nodes over SSH and --debug-pod through pods: say which with --via ssh or --via exec'],
    [
      {via: 'exec', 'debug-image': 'busybox'},
      '--debug-image names the image of debug pods: add --debug-pod (every read in one) or --debug-pod-fallback (what the kube-proxy image lacks)',
    ],
    [
      {'debug-pod': true, 'debug-pod-fallback': true},
      '--debug-pod reads everything from a debug pod, --debug-pod-fallback only what the kube-proxy image lacks: give one',
    ],
    [{via: 'ssh', 'debug-pod-fallback': true}, '--debug-pod-fallback is for --via exec, not --via ssh'],
    [{from: bundle, 'debug-pod-fallback': true}, '--debug-pod-fallback reads the nodes of a live cluster; a bundle (--from) already holds them: drop it'],
    [{via: 'exec', 'debug-pod': true, 'debug-image': 'x;reboot'}, '--debug-image "x;reboot": not an image reference (e.g. registry.k8s.io/kube-proxy:v1.30.0)'],
    // A bundle already holds each node's rules.
    [{from: bundle, via: 'ssh'}, "--from reads a bundle, which already holds each node's rules: drop --via ssh (or drop --from to read the live cluster)"],
    [{from: bundle, via: 'exec'}, "--from reads a bundle, which already holds each node's rules: drop --via exec (or drop --from to read the live cluster)"],
    [
      {from: bundle, 'ssh-user': 'core', parallel: 3},
      '--ssh-user, --parallel read the nodes of a live cluster; a bundle (--from) already holds them: drop them',
    ],
    [{from: bundle, 'debug-pod': true}, '--debug-pod reads the nodes of a live cluster; a bundle (--from) already holds them: drop it'],
  ])('%j', async (flags, message) => {
    const err = await refusal(flags)
    expect(err).toBeInstanceOf(NodeFlagError)
    expect((err as Error).message).toBe(message)
  })
})

describe('good flags become a typed config', () => {
  const defaults = {parallel: 10, commandTimeoutMs: 60_000, connectTimeoutMs: 10_000}
  const knownHosts = () => [path.join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts']

  it.each<[string, NodeFlagValues, (home: string) => unknown]>([
    ['no flag: nodes are not read, and the output says how to', {}, () => ({via: 'none', implicit: true})],
    ['--via none: not read, and no hint', {via: 'none'}, () => ({via: 'none', implicit: false})],
    ['a bundle reads its own nodes', {from: bundle}, () => ({via: 'none', implicit: true})],
    ['a bundle with --via none: API objects only', {from: bundle, via: 'none'}, () => ({via: 'none', implicit: false})],
    [
      'an --ssh-* flag means --via ssh',
      {'ssh-user': 'core'},
      () => ({via: 'ssh', ssh: {user: 'core', knownHostsFiles: knownHosts(), sudo: false, insecureIgnoreHostKeys: false}, read: defaults}),
    ],
    [
      '--via ssh with every read setting',
      {
        via: 'ssh',
        'ssh-port': 2222,
        sudo: true,
        'known-hosts': ['~/kh', ' '],
        parallel: 3,
        'node-timeout': 5,
        'connect-timeout': 2,
        'ssh-address-type': 'ExternalIP',
        'ssh-host-template': '{name}.nodes.example.com',
      },
      (h: string) => ({
        via: 'ssh',
        ssh: {port: 2222, knownHostsFiles: [path.join(h, 'kh')], sudo: true, insecureIgnoreHostKeys: false, hostTemplate: '{name}.nodes.example.com'},
        read: {parallel: 3, commandTimeoutMs: 5000, connectTimeoutMs: 2000, addressType: 'ExternalIP'},
      }),
    ],
    [
      '--debug-pod means --via exec',
      {'debug-pod': true, 'debug-image': 'registry.k8s.io/kube-proxy:v1.30.0'},
      () => ({via: 'exec', exec: {debugPod: 'always', debugImage: 'registry.k8s.io/kube-proxy:v1.30.0'}, read: defaults}),
    ],
    [
      '--debug-pod-fallback means --via exec, with debug pods only for what the kube-proxy image lacks',
      {'debug-pod-fallback': true, 'debug-image': 'registry.k8s.io/kube-proxy:v1.30.0'},
      () => ({via: 'exec', exec: {debugPod: 'fallback', debugImage: 'registry.k8s.io/kube-proxy:v1.30.0'}, read: defaults}),
    ],
    ['--via exec: the kube-proxy pods', {via: 'exec'}, () => ({via: 'exec', exec: {debugPod: 'never'}, read: defaults})],
  ])('%s', async (_, flags, expected) => {
    expect(await resolveNodeAccess(flags, home)).toEqual(expected(home))
  })
})
