// SshSession.run against an in-process SSH server that records every command line it receives:
// only allow-listed lines ever arrive (hostile chain names, IPs, "service names" are refused before
// anything is sent), --sudo prefixes `sudo -n`, and each failure of a command has its kind.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ALLOWED, nodeCommands, UnsafeArgumentError, type NodeCommand, type NodeCommandId} from '../../src/adapters/node/commands.js'
import {NodeAccessError, type NodeSession} from '../../src/adapters/node/connector.js'
import {SshConnector, type SshOptions} from '../../src/adapters/ssh/connector.js'
import {generateKey, startFakeSshServer, type FakeSshServer, type Reply} from '../support/ssh-server.js'

const home = mkdtempSync(path.join(tmpdir(), 'svctrace-ssh-run-'))
const hostKey = generateKey()
const user = generateKey()
const keyFile = path.join(home, 'id')
const knownHosts = path.join(home, 'known_hosts')

/** What the fake node answers, by the command after the `env LC_ALL=C [sudo -n]` prefix. */
const REPLIES: Record<string, Reply> = {
  'iptables-save': {stdout: '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n'},
  'iptables-save -t nat': {stderr: 'iptables-save v1.8.9 (nf_tables): Permission denied (you must be root)\n', code: 1},
  'iptables -V': {stdout: 'iptables v1.8.9 (nf_tables)\n'},
  'ipvsadm -S -n': {stderr: 'env: ‘ipvsadm’: No such file or directory\n', code: 127},
  'ipset save': {stderr: 'ipset v7.17: Kernel error received: Operation not permitted\n', code: 1},
  'nft -j list table ip kube-proxy': {stderr: 'Error: No such file or directory\nlist table ip kube-proxy\n', code: 1},
  'cat /proc/net/ip_vs': {hang: true},
  'iptables-nft-save': {flood: 64 * 1024 * 1024},
}
const SUDO_REPLIES: Record<string, Reply> = {
  'iptables-save': {stderr: 'sudo: a password is required\n', code: 1},
  'iptables -V': {stdout: 'iptables v1.8.7 (legacy)\n'},
}

let server: FakeSshServer
const audit: {node: string; line: string}[] = []

function reply(line: string): Reply {
  const [, sudo, command] = /^env LC_ALL=C (sudo -n )?(.*)$/.exec(line) ?? []
  if (command === undefined) return {stderr: `unexpected line ${line}\n`, code: 2}
  return (sudo ? SUDO_REPLIES : REPLIES)[command] ?? {stderr: `no reply scripted for ${command}\n`, code: 2}
}

function connector(opts: Partial<SshOptions> = {}): SshConnector {
  return new SshConnector({
    user: 'core',
    port: server.port,
    keyFile,
    knownHostsFiles: [knownHosts],
    home,
    commandTimeoutMs: 500,
    audit: (node, line) => audit.push({node, line}),
    ...opts,
  })
}

async function withSession<T>(c: SshConnector, fn: (s: NodeSession) => Promise<T>): Promise<T> {
  const s = await c.connect({name: 'node-b', address: '127.0.0.1'})
  try {
    return await fn(s)
  } finally {
    await s.close()
  }
}

async function failure(p: Promise<unknown>): Promise<NodeAccessError> {
  const err = await p.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(NodeAccessError)
  return err as NodeAccessError
}

/** The allow-list entry a line matches once the fixed prefix is removed, or undefined. */
function allowedId(line: string): NodeCommandId | undefined {
  const command = /^env LC_ALL=C (?:sudo -n )?(.*)$/.exec(line)?.[1]
  if (command === undefined) return undefined
  return (Object.keys(ALLOWED) as NodeCommandId[]).find((id) => ALLOWED[id].test(command))
}

beforeAll(async () => {
  writeFileSync(keyFile, user.private, {mode: 0o600})
  server = await startFakeSshServer({hostKeys: [hostKey], authorizedKeys: [user.public], reply})
  writeFileSync(knownHosts, `[127.0.0.1]:${server.port} ${hostKey.public}\n`)
})

afterAll(async () => {
  await server?.close()
  rmSync(home, {recursive: true, force: true})
})

describe('running allow-listed commands', () => {
  it('returns stdout and sends exactly `env LC_ALL=C <argv>`', async () => {
    const out = await withSession(connector(), (s) => s.run(nodeCommands.iptablesSave()))
    expect(out).toEqual({stdout: '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n', stderr: '', exitCode: 0})
    expect(server.commands.at(-1)).toBe('env LC_ALL=C iptables-save')
  })

  it('--sudo runs `sudo -n`, and a password prompt becomes a sudo error', async () => {
    const c = connector({sudo: true})
    const out = await withSession(c, (s) => s.run(nodeCommands.iptablesVersion()))
    expect(out.stdout).toBe('iptables v1.8.7 (legacy)\n')
    expect(server.commands.at(-1)).toBe('env LC_ALL=C sudo -n iptables -V')
    const err = await failure(withSession(c, (s) => s.run(nodeCommands.iptablesSave())))
    expect(err.kind).toBe('sudo')
    expect(err.message).toBe('--sudo needs passwordless sudo for iptables-save on node-b (sudo: a password is required)')
  })

  it.each([
    [
      'needs root',
      nodeCommands.iptablesSaveTable('nat'),
      'command',
      /^`iptables-save -t nat` on node-b needs root \(.*you must be root\)\); log in as root \(--ssh-user root\) or pass --sudo$/,
    ],
    [
      'not installed',
      nodeCommands.ipvsadmSave(),
      'command',
      /^ipvsadm is not installed on node-b \(`ipvsadm -S -n` exited with 127: env: ‘ipvsadm’: No such file or directory\)$/,
    ],
    [
      'fails',
      nodeCommands.nftListKubeProxy(),
      'command',
      /^`nft -j list table ip kube-proxy` on node-b exited with 1: Error: No such file or directory \/ list table ip kube-proxy$/,
    ],
    ['hangs', nodeCommands.procIpVs(), 'timeout', /^`cat \/proc\/net\/ip_vs` on node-b did not finish within 0\.5 s/],
  ])('a command that %s', async (_, cmd, kind, message) => {
    const err = await failure(withSession(connector(), (s) => s.run(cmd)))
    expect(err.kind).toBe(kind)
    expect(err.message).toMatch(message)
  })

  it('keeps the session usable after a command timed out', async () => {
    await withSession(connector(), async (s) => {
      await expect(s.run(nodeCommands.procIpVs())).rejects.toMatchObject({kind: 'timeout'})
      expect((await s.run(nodeCommands.iptablesVersion())).stdout).toContain('nf_tables')
    })
  })

  it('stops reading output over the cap and closes the channel', async () => {
    const floods = server.floodWritten.length
    const err = await failure(withSession(connector({maxOutputBytes: 1024 * 1024}), (s) => s.run(nodeCommands.iptablesNftSave())))
    expect(err.kind).toBe('too-large')
    expect(err.message).toBe('`iptables-nft-save` on node-b printed more than 1 MiB; stopped reading and closed the channel')
    await expect.poll(() => server.floodWritten.length, {timeout: 5_000}).toBe(floods + 1)
    expect(server.floodWritten.at(-1)).toBeLessThan(64 * 1024 * 1024)
  })

  it('refuses to run on a closed session', async () => {
    const s = await connector().connect({name: 'node-b', address: '127.0.0.1'})
    await s.close()
    const err = await failure(s.run(nodeCommands.iptablesSave()))
    expect(err.kind).toBe('unreachable')
    expect(err.message).toContain('connection to node-b lost while running `iptables-save`')
  })
})

describe('nothing hostile reaches the node', () => {
  const HOSTILE_CHAINS = ['KUBE-SVC-X;rm -rf /', 'KUBE-SVC-`reboot`', 'KUBE-SVC-$(id)', 'KUBE-SVC-X\nreboot', 'KUBE-SVC-X rm']
  const HOSTILE_TABLES = ['nat;reboot', 'nat -F', '`reboot`', '$(id)', 'nat\nreboot', 'security']
  const FORGED: NodeCommand[] = [
    {id: 'iptables-save', argv: ['iptables-save;reboot']},
    {id: 'iptables-save-table', argv: ['iptables-save', '-t', 'nat', ';', 'reboot']},
    {id: 'iptables-list-chain', argv: ['iptables', '-w', '5', '-t', 'nat', '-S', 'KUBE-SVC-`my-service`']},
    {id: 'iptables-save', argv: ['iptables-save', '-t', 'nat']},
    {id: 'no-such-id' as NodeCommandId, argv: ['reboot']},
  ]

  it.each(HOSTILE_CHAINS)('the builder refuses chain %j', (chain) => {
    expect(() => nodeCommands.iptablesListChain('nat', chain)).toThrow(UnsafeArgumentError)
  })

  it.each(HOSTILE_TABLES)('the builder refuses table %j', (table) => {
    expect(() => nodeCommands.iptablesSaveTable(table)).toThrow(UnsafeArgumentError)
    expect(() => nodeCommands.iptablesListChain(table, 'KUBE-SERVICES')).toThrow(UnsafeArgumentError)
  })

  it('refuses forged commands before sending, and every line the node received is on the allow-list', async () => {
    audit.length = 0
    const sentBefore = server.commands.length
    await withSession(connector({sudo: true}), async (s) => {
      for (const cmd of FORGED) await expect(s.run(cmd)).rejects.toBeInstanceOf(UnsafeArgumentError)
      await s.run(nodeCommands.iptablesVersion())
    })
    await withSession(connector(), async (s) => {
      for (const cmd of FORGED) await expect(s.run(cmd)).rejects.toBeInstanceOf(UnsafeArgumentError)
      await s.run(nodeCommands.iptablesSave())
      await s.run(nodeCommands.iptablesListChain('nat', 'KUBE-SVC-ABCDEF0123456789')).catch(() => undefined)
      await s.run(nodeCommands.ipsetSave()).catch(() => undefined)
    })
    const received = server.commands.slice(sentBefore)
    expect(received).toEqual([
      'env LC_ALL=C sudo -n iptables -V',
      'env LC_ALL=C iptables-save',
      'env LC_ALL=C iptables -w 5 -t nat -S KUBE-SVC-ABCDEF0123456789',
      'env LC_ALL=C ipset save',
    ])
    expect(audit.map((a) => a.line)).toEqual(received)
    expect(audit.every((a) => a.node === 'node-b')).toBe(true)
    for (const line of server.commands) expect(allowedId(line), line).toBeDefined()
  })
})
