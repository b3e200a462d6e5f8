// SshConnector.connect against an in-process SSH server on loopback: host keys checked before anything
// is sent (unknown, changed, revoked, hashed, RSA-only known_hosts), authentication (default keys,
// passphrases, agent fallback), and each way a connection fails, with the message the user sees.
import {createHmac, randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {fingerprintSha256} from '../../src/adapters/ssh/known-hosts.js'
import {nodeCommands} from '../../src/adapters/node/commands.js'
import {NodeAccessError} from '../../src/adapters/node/connector.js'
import {SshConnector, type SshOptions} from '../../src/adapters/ssh/connector.js'
import {closedPort, generateKey, startFakeSshServer, startSilentServer, type FakeSshServer} from '../support/ssh-server.js'

const home = mkdtempSync(path.join(tmpdir(), 'svctrace-ssh-connect-'))
mkdirSync(path.join(home, '.ssh'))
const hostEd = generateKey('ed25519')
const hostRsa = generateKey('rsa')
const user = generateKey('ed25519')
const stranger = generateKey('ed25519')
const PASSPHRASE = 'correct horse'
const encrypted = generateKey('ed25519', PASSPHRASE)
const reply = () => ({stdout: '*nat\nCOMMIT\n'})

let server: FakeSshServer
let rsaAndEd: FakeSshServer

function file(name: string, text: string): string {
  const f = path.join(home, name)
  writeFileSync(f, text, {mode: 0o600})
  return f
}

function token(port: number): string {
  return `[127.0.0.1]:${port}`
}

function connector(knownHosts: string, opts: Partial<SshOptions> = {}): SshConnector {
  return new SshConnector({
    user: 'core',
    port: server.port,
    knownHostsFiles: [file(`kh-${randomBytes(4).toString('hex')}`, knownHosts)],
    home,
    connectTimeoutMs: 3_000,
    ...opts,
  })
}

async function connectError(c: SshConnector, address = '127.0.0.1'): Promise<NodeAccessError> {
  const err = await c.connect({name: 'node-b', address}).then(
    (s) => s.close().then(() => new Error('connected')),
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(NodeAccessError)
  return err as NodeAccessError
}

async function readNat(c: SshConnector, address = '127.0.0.1'): Promise<string> {
  const s = await c.connect({name: 'node-b', address})
  try {
    return (await s.run(nodeCommands.iptablesSaveTable('nat'))).stdout
  } finally {
    await s.close()
  }
}

beforeAll(async () => {
  writeFileSync(path.join(home, '.ssh', 'id_ed25519'), user.private, {mode: 0o600})
  const authorizedKeys = [user.public, encrypted.public]
  server = await startFakeSshServer({hostKeys: [hostEd], authorizedKeys, reply})
  rsaAndEd = await startFakeSshServer({hostKeys: [hostEd, hostRsa], authorizedKeys, reply})
})

afterAll(async () => {
  await server?.close()
  await rsaAndEd?.close()
  rmSync(home, {recursive: true, force: true})
})

describe('host keys', () => {
  it('accepts a key known_hosts records and logs in with the default ~/.ssh/id_ed25519', async () => {
    expect(await readNat(connector(`${token(server.port)} ${hostEd.public}\n`))).toBe('*nat\nCOMMIT\n')
  })

  it('accepts a hashed entry for a [host]:port token', async () => {
    const salt = randomBytes(20)
    const hash = createHmac('sha1', salt).update(token(server.port)).digest()
    const hashed = `|1|${salt.toString('base64')}|${hash.toString('base64')} ${hostEd.public}\n`
    expect(await readNat(connector(hashed))).toContain('*nat')
  })

  it('stops at an unknown key: fingerprint and the exact line to add; nothing sent', async () => {
    const before = server.commands.length
    const err = await connectError(connector(`127.0.0.1 ${hostEd.public}\n`)) // port 22 entry: another host
    expect(err.kind).toBe('host-key')
    expect(err.message).toContain(`unknown host key for node-b (127.0.0.1:${server.port}): ${fingerprintSha256(hostEd.blob)} (ssh-ed25519)`)
    expect(err.message).toContain(`add this line to `)
    expect(err.message).toContain(`: ${token(server.port)} ${hostEd.public}, or pass --insecure-ignore-host-keys`)
    expect(server.commands.length).toBe(before)
  })

  it('stops at a changed key with both fingerprints', async () => {
    const other = generateKey('ed25519')
    const err = await connectError(connector(`# header\n${token(server.port)} ${other.public}\n`))
    expect(err.kind).toBe('host-key')
    expect(err.message).toMatch(/^HOST KEY CHANGED for node-b \(127\.0\.0\.1:\d+\)/)
    expect(err.message).toContain(`expected ${fingerprintSha256(other.blob)} (ssh-ed25519, ~/kh-`)
    expect(err.message).toContain(`:2), got ${fingerprintSha256(hostEd.blob)} (ssh-ed25519)): possible man-in-the-middle; nothing was run`)
  })

  it('refuses a @revoked key even when it is also listed', async () => {
    const err = await connectError(connector(`${token(server.port)} ${hostEd.public}\n@revoked * ${hostEd.public}\n`))
    expect(err.kind).toBe('host-key')
    expect(err.message).toMatch(/is marked @revoked in ~\/kh-[0-9a-f]+:2; nothing was run/)
  })

  it('with known_hosts holding only the RSA key, negotiates RSA although the server prefers ed25519', async () => {
    const c = connector(`${token(rsaAndEd.port)} ${hostRsa.public}\n`, {port: rsaAndEd.port})
    expect(await readNat(c)).toContain('*nat')
    // The same server with its ed25519 key recorded negotiates that one: both keys really are offered.
    expect(await readNat(connector(`${token(rsaAndEd.port)} ${hostEd.public}\n`, {port: rsaAndEd.port}))).toContain('*nat')
  })

  it('stops a host that no longer offers any key type known_hosts records for it', async () => {
    const err = await connectError(connector(`${token(server.port)} ${hostRsa.public}\n`))
    expect(err.kind).toBe('host-key')
    expect(err.message).toBe(
      `node-b (127.0.0.1:${server.port}) offers none of the host key types known_hosts records for it (ssh-rsa): its host key may have changed; nothing was run`,
    )
  })

  it('--insecure-ignore-host-keys accepts any key', async () => {
    expect(await readNat(connector('', {insecureIgnoreHostKeys: true}))).toContain('*nat')
  })
})

describe('authentication', () => {
  it('says what was tried when no key is accepted', async () => {
    const key = file('stranger_key', stranger.private)
    const err = await connectError(connector(`${token(server.port)} ${hostEd.public}\n`, {keyFile: key, agent: path.join(home, 'no-agent.sock')}))
    expect(err.kind).toBe('auth')
    expect(err.message).toMatch(/^ssh as core@127\.0\.0\.1: authentication failed \(tried: agent \(.+\), ~\/stranger_key\); pass --ssh-key or --ssh-user$/)
  })

  it('falls back from an unusable agent to the key file', async () => {
    expect(await readNat(connector(`${token(server.port)} ${hostEd.public}\n`, {agent: path.join(home, 'no-agent.sock')}))).toContain('*nat')
  })

  it('asks once for a passphrase, for every node connecting at once, without counting the wait against the timeout', async () => {
    const key = file('encrypted_key', encrypted.private)
    const asked: string[] = []
    const passphrase = async (f: string) => {
      asked.push(f)
      await new Promise((r) => setTimeout(r, 400)) // a user typing
      return PASSPHRASE
    }
    const c = connector(`${token(server.port)} ${hostEd.public}\n`, {keyFile: key, passphrase, connectTimeoutMs: 250})
    const outs = await Promise.all([readNat(c), readNat(c), readNat(c)])
    expect(outs.every((o) => o.includes('*nat'))).toBe(true)
    expect(asked).toEqual([key])
  })

  it.each([
    ['a wrong passphrase', async () => 'wrong', 'wrong passphrase'],
    ['no terminal to ask on', undefined, 'encrypted, and no terminal to ask for its passphrase'],
  ])('reports an encrypted key with %s', async (_, passphrase, why) => {
    const key = file(`enc_${randomBytes(3).toString('hex')}`, encrypted.private)
    const err = await connectError(connector(`${token(server.port)} ${hostEd.public}\n`, {keyFile: key, passphrase}))
    expect(err.kind).toBe('auth')
    expect(err.message).toContain(`(tried: ${key.replace(home, '~')} (${why}))`)
  })

  it('uses the ssh config for Port, User and IdentityFile', async () => {
    const cfg = file('ssh_config', `Host 127.0.0.1\n  Port ${server.port}\n  User from-config\n  IdentityFile ~/config_key\n`)
    file('config_key', user.private)
    const c = new SshConnector({
      knownHostsFiles: [file('kh-config', `${token(server.port)} ${hostEd.public}\n`)],
      sshConfigFile: cfg,
      home: path.join(home, 'empty'),
    })
    // ~ is the connector's home: ~/config_key does not exist there, so point home back for the key.
    const withHome = new SshConnector({knownHostsFiles: [path.join(home, 'kh-config')], sshConfigFile: cfg, home})
    expect(await connectError(c)).toMatchObject({kind: 'auth'})
    const logins = server.logins.length
    expect(await readNat(withHome)).toContain('*nat')
    expect(server.logins.slice(logins)).toEqual(['from-config'])
  })
})

describe('connection failures', () => {
  it('a closed port: connection refused, with what to check', async () => {
    const port = await closedPort()
    const err = await connectError(connector('', {port}))
    expect(err.kind).toBe('unreachable')
    expect(err.message).toBe(`cannot connect to node-b (127.0.0.1:${port}): connection refused; is sshd running and port ${port} open?`)
  })

  it('no SSH greeting: a timeout after connectTimeoutMs', async () => {
    const silent = await startSilentServer()
    try {
      const t0 = Date.now()
      const err = await connectError(connector('', {port: silent.port, connectTimeoutMs: 300}))
      expect(err.kind).toBe('timeout')
      expect(err.message).toBe(`no SSH answer from node-b (127.0.0.1:${silent.port}) within 0.3 s; is the node up and port ${silent.port} reachable from here?`)
      expect(Date.now() - t0).toBeLessThan(2_000)
    } finally {
      await silent.close()
    }
  })

  it('refuses an address that is not a host name before dialling anything', async () => {
    const err = await connectError(connector(''), '1.2.3.4$(reboot)')
    expect(err.kind).toBe('unreachable')
    expect(err.message).toContain('"1.2.3.4$(reboot)" is not an IP address or host name')
  })

  it('--ssh-host-template decides the address', async () => {
    const c = connector(`${token(server.port)} ${hostEd.public}\n`, {hostTemplate: '{name}'})
    // The address (another loopback address, nothing listening) is not used; the name is.
    const s = await c.connect({name: '127.0.0.1', address: '127.0.0.2'})
    await s.close()
    expect(c.description).toBe('ssh as core')
  })
})
