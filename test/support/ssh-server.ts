// An in-process SSH server (ssh2's Server) on 127.0.0.1 for unit tests of the SSH connector: real
// SSH protocol, host keys, public-key auth and direct-tcpip forwarding, with scripted command replies.
// It records every command line it is asked to run. Real sshd in namespaces: test/support/sshd.ts.
import net from 'node:net'
import ssh2 from 'ssh2'
import type {Connection, ParsedKey, ServerChannel} from 'ssh2'
import {defined} from './defined.js'

/** A generated key pair: OpenSSH private key text and the `type base64` public key. */
export interface KeyPair {
  private: string
  public: string
  /** The raw public key blob, as a host key arrives in hostVerifier. */
  blob: Buffer
}

export function generateKey(type: 'ed25519' | 'rsa' = 'ed25519', passphrase?: string): KeyPair {
  const generate = () =>
    type === 'rsa'
      ? ssh2.utils.generateKeyPairSync('rsa', {bits: 2048, ...(passphrase ? {passphrase, cipher: 'aes256-ctr'} : {})})
      : ssh2.utils.generateKeyPairSync('ed25519', passphrase ? {passphrase, cipher: 'aes256-ctr', rounds: 4} : {})
  // About 1 in 300 ed25519 keys ssh2 generates is one its own parser rejects ("Malformed OpenSSH
  // private key"), which failed a test now and then: keep only keys that parse.
  let pair = generate()
  for (let i = 0; i < 20 && ssh2.utils.parseKey(pair.private, passphrase) instanceof Error; i++) pair = generate()
  const pub = pair.public.split(' ').slice(0, 2).join(' ')
  return {private: pair.private, public: pub, blob: Buffer.from(defined(pub.split(' ')[1], 'the public key blob'), 'base64')}
}

/** What the server answers to one command line. */
export interface Reply {
  stdout?: string
  stderr?: string
  code?: number
  /** Never answer (for command timeouts). */
  hang?: boolean
  /** Write this many bytes in 64 KiB chunks, or until the client closes the channel. */
  flood?: number
}

export interface FakeServerOptions {
  hostKeys: KeyPair[]
  /** Public keys (`type base64`) allowed to log in. */
  authorizedKeys: string[]
  /** Defaults to "unknown command" with exit 127. */
  reply?: (line: string) => Reply
  /** Accept direct-tcpip channels (jump host); only to 127.0.0.1. */
  forwarding?: boolean
}

export interface FakeSshServer {
  host: string
  port: number
  /** Every exec command line received, in order. */
  commands: string[]
  /** Users that logged in. */
  logins: string[]
  /** Forwarding requests, as host:port. */
  forwards: string[]
  /** Bytes written by floods before the client closed the channel. */
  floodWritten: number[]
  close(): Promise<void>
}

export async function startFakeSshServer(opts: FakeServerOptions): Promise<FakeSshServer> {
  const clients = new Set<Connection>()
  const authorized = opts.authorizedKeys.map((k) => ssh2.utils.parseKey(k)).filter((k): k is ParsedKey => !(k instanceof Error))
  const state = {commands: [] as string[], logins: [] as string[], forwards: [] as string[], floodWritten: [] as number[]}
  const server = new ssh2.Server({hostKeys: opts.hostKeys.map((k) => k.private)}, (client) => {
    clients.add(client)
    // Connection.setNoDelay exists in ssh2 but not in its typings; without it each reply waits ~40 ms (Nagle).
    const tcp = client as unknown as {setNoDelay(on: boolean): void}
    tcp.setNoDelay(true)
    client.on('close', () => clients.delete(client))
    client.on('error', () => undefined)
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey'])
      const key = authorized.find((k) => k.type === ctx.key.algo && k.getPublicSSH().equals(ctx.key.data))
      if (!key) return ctx.reject(['publickey'])
      if (ctx.signature && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey'])
      if (ctx.signature) state.logins.push(ctx.username)
      ctx.accept()
    })
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          state.commands.push(info.command)
          answer(acceptExec(), opts.reply?.(info.command) ?? {stderr: `sh: 1: ${info.command.split(' ')[0]}: not found\n`, code: 127}, state.floodWritten)
        })
      })
      client.on('tcpip', (acceptTcp, rejectTcp, info) => {
        state.forwards.push(`${info.destIP}:${info.destPort}`)
        if (!opts.forwarding || info.destIP !== '127.0.0.1') return rejectTcp()
        const sock = net.connect(info.destPort, info.destIP)
        sock.once('error', () => rejectTcp())
        sock.once('connect', () => {
          const channel = acceptTcp()
          channel.pipe(sock).pipe(channel)
          channel.on('close', () => sock.destroy())
        })
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    host: '127.0.0.1',
    port,
    ...state,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.end()
        server.close(() => resolve())
      }),
  }
}

function answer(channel: ServerChannel, reply: Reply, floodWritten: number[]): void {
  if (reply.hang) return
  if (reply.flood !== undefined) {
    const chunk = Buffer.alloc(64 * 1024, 'x')
    let written = 0
    let open = true
    // The client's CHANNEL_CLOSE ends the readable side ('close' waits for the unsent backlog).
    const stop = () => {
      if (!open) return
      open = false
      floodWritten.push(written)
    }
    channel.resume()
    channel.on('end', stop)
    channel.on('close', stop)
    const pump = (): void => {
      while (open && written < (reply.flood ?? 0)) {
        written += chunk.length
        if (!channel.write(chunk)) return void channel.once('drain', pump)
      }
      if (open) {
        channel.exit(0)
        channel.end()
      }
    }
    pump()
    return
  }
  if (reply.stdout) channel.write(reply.stdout)
  if (reply.stderr) channel.stderr.write(reply.stderr)
  channel.exit(reply.code ?? 0)
  channel.end()
}

/** A TCP server on 127.0.0.1 that accepts and never says a word (an SSH handshake that never comes). */
export async function startSilentServer(): Promise<{port: number; close: () => Promise<void>}> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
