// The node-access flags as users meet them, through oclif's parsing: a bad value is one `error: …` line,
// exit 2, before anything is read; --via none reads no node of a bundle; --help lists the flags.
// Every message and rule of the translation itself: test/commands/node-flags.test.ts (in-process).
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
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: x',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      '',
    ].join('\n'),
  )
})
afterAll(() => {
  plugin.remove()
  rmSync(scratch, {recursive: true, force: true})
})

describe('node access flags', () => {
  it('a bad value is one error line, exit 2, nothing on stdout, and no API request (nothing listens)', () => {
    const r = run(['hello-world', '--via', 'ssh', '--ssh-port', '70000', '--known-hosts', 'a,b'])
    expect(r.stderr).toBe('error: --ssh-port 70000: not a port number; give 1 to 65535 (default 22)\n')
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
  })

  it('--via none with a bundle checks the API objects only', () => {
    const r = run(['hello-world', '--from', example, '--via', 'none', '-o', 'json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).nodes).toEqual([])
  })

  it('--help lists the node access flags', () => {
    const r = run(['--help'])
    for (const f of [
      '--via=<option>',
      '--ssh-user=USER',
      '--ssh-key=FILE',
      '--known-hosts=FILE',
      '--bastion=USER@HOST:PORT',
      '--sudo',
      '--insecure-ignore-host-keys',
      '--parallel=N',
      '--node-timeout=SEC',
      '--connect-timeout=SEC',
      '--debug-pod',
    ]) {
      expect(r.stdout).toContain(f)
    }
  })
})
