// --bastion: the target is reached through a direct-tcpip channel of the jump host (ProxyJump), the
// host keys of both hops are checked, the target's by its own host:port, and one bastion connection
// serves every node session at once.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {fingerprintSha256} from '../../src/adapters/ssh/known-hosts.js'
import {nodeCommands} from '../../src/adapters/node/commands.js'
import {NodeAccessError} from '../../src/adapters/node/connector.js'
import {SshConnector} from '../../src/adapters/ssh/connector.js'
import {closedPort, generateKey, startFakeSshServer, type FakeSshServer} from '../support/ssh-server.js'

const home = mkdtempSync(path.join(tmpdir(), 'svctrace-ssh-bastion-'))
const user = generateKey()
const bastionKey = generateKey()
const targetKey = generateKey()
const keyFile = path.join(home, 'id')
let bastion: FakeSshServer
let target: FakeSshServer
let noForwarding: FakeSshServer

function knownHosts(...lines: string[]): string {
  const f = path.join(home, `kh-${lines.length}-${Math.random().toString(16).slice(2)}`)
  writeFileSync(f, lines.map((l) => `${l}\n`).join(''))
  return f
}

function connector(files: string[], jump: FakeSshServer, targetPort = target.port): SshConnector {
  return new SshConnector({user: 'core', port: targetPort, keyFile, knownHostsFiles: files, home, bastion: {user: 'jump', host: '127.0.0.1', port: jump.port}})
}

async function failure(c: SshConnector): Promise<NodeAccessError> {
  const err = await c.connect({name: 'node-b', address: '127.0.0.1'}).then(
    (s) => s.close().then(() => new Error('connected')),
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(NodeAccessError)
  return err as NodeAccessError
}

beforeAll(async () => {
  writeFileSync(keyFile, user.private, {mode: 0o600})
  const reply = () => ({stdout: 'target rules\n'})
  bastion = await startFakeSshServer({hostKeys: [bastionKey], authorizedKeys: [user.public], forwarding: true})
  noForwarding = await startFakeSshServer({hostKeys: [bastionKey], authorizedKeys: [user.public]})
  target = await startFakeSshServer({hostKeys: [targetKey], authorizedKeys: [user.public], reply})
})

afterAll(async () => {
  await Promise.all([bastion?.close(), target?.close(), noForwarding?.close()])
  rmSync(home, {recursive: true, force: true})
})

describe('bastion', () => {
  const both = () => knownHosts(`[127.0.0.1]:${bastion.port} ${bastionKey.public}`, `[127.0.0.1]:${target.port} ${targetKey.public}`)

  it('runs on the target through the bastion, one bastion login for concurrent sessions', async () => {
    const c = connector([both()], bastion)
    expect(c.description).toBe(`ssh as core via jump@127.0.0.1:${bastion.port}`)
    const logins = bastion.logins.length
    const sessions = await Promise.all([1, 2, 3].map(() => c.connect({name: 'node-b', address: '127.0.0.1'})))
    const outs = await Promise.all(sessions.map((s) => s.run(nodeCommands.iptablesSave())))
    await Promise.all(sessions.map((s) => s.close()))
    expect(outs.map((o) => o.stdout)).toEqual(['target rules\n', 'target rules\n', 'target rules\n'])
    expect(bastion.logins.slice(logins)).toEqual(['jump'])
    expect(bastion.forwards.slice(-3)).toEqual(Array(3).fill(`127.0.0.1:${target.port}`))
    expect(bastion.commands).toEqual([])
    expect(target.commands.slice(-3)).toEqual(Array(3).fill('env LC_ALL=C iptables-save'))
  })

  it('opens a new bastion connection after the last session closed', async () => {
    const c = connector([both()], bastion)
    const logins = bastion.logins.length
    await (await c.connect({name: 'node-b', address: '127.0.0.1'})).close()
    await (await c.connect({name: 'node-b', address: '127.0.0.1'})).close()
    expect(bastion.logins.length - logins).toBe(2)
  })

  it('stops at an unknown bastion key, before asking it to forward anything', async () => {
    const forwards = bastion.forwards.length
    const err = await failure(connector([knownHosts(`[127.0.0.1]:${target.port} ${targetKey.public}`)], bastion))
    expect(err.kind).toBe('host-key')
    expect(err.message).toContain(`unknown host key for bastion 127.0.0.1 (127.0.0.1:${bastion.port}): ${fingerprintSha256(bastionKey.blob)}`)
    expect(err.message).toContain(`[127.0.0.1]:${bastion.port} ${bastionKey.public}`)
    expect(bastion.forwards.length).toBe(forwards)
  })

  it("checks the target's key by the target's own host:port, although the socket is the bastion's", async () => {
    const commands = target.commands.length
    const wrong = generateKey()
    const err = await failure(
      connector([knownHosts(`[127.0.0.1]:${bastion.port} ${bastionKey.public}`, `[127.0.0.1]:${target.port} ${wrong.public}`)], bastion),
    )
    expect(err.kind).toBe('host-key')
    expect(err.message).toContain(`HOST KEY CHANGED for node-b (127.0.0.1:${target.port} via bastion jump@127.0.0.1:${bastion.port})`)
    expect(err.message).toContain(`got ${fingerprintSha256(targetKey.blob)} (ssh-ed25519)`)
    expect(target.commands.length).toBe(commands)
  })

  it('reports a target the bastion cannot reach', async () => {
    const port = await closedPort()
    const err = await failure(connector([both()], bastion, port))
    expect(err.kind).toBe('unreachable')
    expect(err.message).toMatch(new RegExp(`^cannot connect to node-b \\(127\\.0\\.0\\.1:${port} via bastion jump@127\\.0\\.0\\.1:${bastion.port}\\): `))
  })

  it('reports a bastion that does not forward', async () => {
    const kh = knownHosts(`[127.0.0.1]:${noForwarding.port} ${bastionKey.public}`, `[127.0.0.1]:${target.port} ${targetKey.public}`)
    const err = await failure(connector([kh], noForwarding))
    expect(err.kind).toBe('unreachable')
    expect(err.message).toContain('the bastion could not open a connection')
    expect(err.message).toContain('AllowTcpForwarding')
  })
})
