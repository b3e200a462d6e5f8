// One round trip fewer to a node's first command: the session channel is opened in the same flight
// as the signed public-key request, instead of a round trip after USERAUTH_SUCCESS. OpenSSH's sshd
// reads its input in order: when that request succeeds it switches to the connection protocol and
// then reads the CHANNEL_OPEN queued behind it (the pre-authentication process hands its unread input
// on); when it fails, sshd answers the CHANNEL_OPEN with UNIMPLEMENTED and goes on authenticating,
// and the channel is never used (the first command opens its own, as without this). So it is done
// only for a server that says it is OpenSSH, only for the first signed request, and only when ssh2's
// internals are as expected; otherwise nothing changes. The system tests log in through sshd both
// ways (a key that fails first, then one that works).
//
// A later command (a node read's second round) gets the same: the session opens a channel for it in
// the same flight as the command before (openChannelNow), so it waits for its exec alone.
//
// And when the node read's first command is known by then (the API answered during the key exchange,
// as it does), its exec request follows the CHANNEL_OPEN in that flight too: one round trip fewer again.
// An exec request names the server's number for the channel, which only its confirmation tells; sshd
// numbers channels from the lowest free slot, and a fresh connection that asked for no forwarding has
// none open, so the first is 0 (channels.c channel_new). The confirmation is checked: a server that
// numbered it otherwise has been sent a request for a channel it does not have, which OpenSSH answers
// by disconnecting, so the command fails as a lost connection and is never run twice. Behind a failed
// key request sshd answers both with UNIMPLEMENTED, as for the open alone, and the command runs later.
import type {Client, ClientChannel} from 'ssh2'

/** ssh2's window and packet size for the channels it opens (lib/Channel.js MAX_WINDOW, PACKET_SIZE; a test checks them). */
export const SSH2_MAX_WINDOW = 2 * 1024 * 1024
export const SSH2_PACKET_SIZE = 32 * 1024

const OPENSSH = /^OpenSSH_/

type Handler = (...args: unknown[]) => void
type Sign = (data: Buffer, done: (signature: Buffer) => void) => void

interface ClientInternals {
  _remoteVer?: string
  _chanMgr?: {add(handler: unknown): number}
  _protocol?: {
    authPK?: (user: string, key: unknown, keyAlgo?: string, sign?: Sign) => void
    session?: (chan: number, window: number, packetSize: number) => void
    exec?: (chan: number, line: string, wantReply: boolean) => void
    _handlers?: Record<string, Handler | undefined>
  }
}

/** ssh2's Channel as its own exec request uses it (lib/client.js reqExec). */
interface ChannelInternals {
  outgoing?: {id?: number; state?: string}
  _callbacks?: ((failed: boolean | Error) => void)[]
  subtype?: string
  allowHalfOpen?: boolean
}

/** A session channel opened before a command needs it. */
export interface ChannelAhead {
  /**
   * The channel, once the server has confirmed it; undefined when it was never opened or will never
   * be confirmed (the signed request it followed failed, the server refused it, or no answer within
   * the wait it was made with). Only the first call can have a channel.
   */
  take(): Promise<ClientChannel | undefined>
}

/** Runs `line` on a channel `take()` gave, as ssh2's exec does on a channel it opened; false when it cannot (nothing sent). */
export function execOnChannel(client: Client, channel: ClientChannel, line: string, cb: (err: Error | undefined, channel: ClientChannel) => void): boolean {
  const chan = channel as unknown as ChannelInternals
  const exec = (client as unknown as ClientInternals)._protocol?.exec
  const id = chan.outgoing?.id
  if (typeof exec !== 'function' || typeof id !== 'number' || chan.outgoing?.state !== 'open' || !Array.isArray(chan._callbacks)) return false
  awaitExecReply(channel, cb)
  exec.call((client as unknown as ClientInternals)._protocol, id, line, true)
  return true
}

/** The exec request's answer, as ssh2's own exec takes it: then the channel is an exec channel. */
function awaitExecReply(channel: ClientChannel, cb: (err: Error | undefined, channel: ClientChannel) => void): void {
  const chan = channel as unknown as ChannelInternals
  chan._callbacks!.push((failed) => {
    if (failed) return cb(failed === true ? new Error('Unable to exec') : failed, channel)
    chan.subtype = 'exec'
    chan.allowHalfOpen = true
    cb(undefined, channel)
  })
}

/** sshd's number for the first channel of a connection (the lowest free slot of none). */
const FIRST_SERVER_CHANNEL = 0

/**
 * The first command, sent behind the channel open: `line` when it is known at that moment, and what to
 * do with the channel (as ssh2's exec callback), or NOT_RUN when the server never took the request.
 */
export interface FirstExec {
  /** The command line, or undefined when it is not known yet (the channel is then opened alone). */
  line(): string | undefined
  started(result: Error | typeof NOT_RUN | undefined, channel?: ClientChannel): void
}

/** The first exec was not run (its channel was never opened): the command goes on a channel of its own. */
export const NOT_RUN = Symbol('not run')

/** One session channel: its CHANNEL_OPEN sent by `send()`, its confirmation awaited by `take()`. */
class Opening implements ChannelAhead {
  // none: not sent; pending: sent, not answered; settled: `channel` is known (undefined: never coming).
  private state: 'none' | 'pending' | 'settled' = 'none'
  private channel: ClientChannel | undefined
  private taken = false
  private readonly waiters: ((ch: ClientChannel | undefined) => void)[] = []
  /** The first command, when its exec went out behind the open: the channel is its, not take()'s. */
  private execSent: FirstExec | undefined

  constructor(
    private readonly client: ClientInternals,
    private readonly waitMs: number,
    private readonly first?: FirstExec,
  ) {}

  /** Whether ssh2's internals are there to open a channel this way. */
  get possible(): boolean {
    return typeof this.client._protocol?.session === 'function' && typeof this.client._chanMgr?.add === 'function'
  }

  /**
   * Sends the CHANNEL_OPEN, once. When the first command is known, its exec follows, and a second
   * CHANNEL_OPEN for take() (the command after it, as openChannelNow does for a logged-in connection).
   */
  send(): void {
    if (this.state !== 'none' || !this.possible) return
    if (!this.open((err, ch) => this.confirmed(err ? undefined : ch))) return
    this.state = 'pending'
    const proto = this.client._protocol!
    const line = typeof proto.exec === 'function' ? this.first?.line() : undefined
    if (line === undefined) return
    this.execSent = this.first
    proto.exec!(FIRST_SERVER_CHANNEL, line, true)
    if (!this.open((err, ch) => this.settle(err ? undefined : ch))) this.settle(undefined)
  }

  /** One CHANNEL_OPEN through ssh2's channel manager; false when it has no channel number left. */
  private open(confirmed: (err: Error | undefined, ch: ClientChannel | undefined) => void): boolean {
    ;(confirmed as unknown as {type: string}).type = 'session'
    const id = this.client._chanMgr!.add(confirmed)
    if (id < 0) return false
    this.client._protocol!.session!(id, SSH2_MAX_WINDOW, SSH2_PACKET_SIZE)
    return true
  }

  /** The server's answer to the first open: take()'s channel, or the first command's (undefined: refused). */
  private confirmed(ch: ClientChannel | undefined): void {
    const exec = this.execSent
    if (!exec) return this.settle(ch)
    const chan = ch as unknown as ChannelInternals | undefined
    if (!ch || !Array.isArray(chan?._callbacks)) exec.started(new Error('the server refused the session channel'))
    else if (chan.outgoing?.id !== FIRST_SERVER_CHANNEL)
      exec.started(new Error(`the server numbered the first channel ${String(chan.outgoing?.id)}, not ${FIRST_SERVER_CHANNEL}`))
    else awaitExecReply(ch, (err, channel) => exec.started(err, channel))
  }

  /** The server will not confirm it (or confirmed it; `ch`): `take()` has it, unless the first command's exec went with it. */
  settle(ch: ClientChannel | undefined): void {
    if (this.state === 'settled') return
    this.state = 'settled'
    this.channel = ch
    for (const w of this.waiters.splice(0)) w(ch)
  }

  /** The request it followed failed: sshd took neither the open nor the exec behind it. */
  refused(): void {
    if (this.state !== 'pending') return
    this.settle(undefined)
    this.execSent?.started(NOT_RUN)
    this.execSent = undefined
  }

  take(): Promise<ClientChannel | undefined> {
    if (this.taken) return Promise.resolve(undefined)
    this.taken = true
    if (this.state !== 'pending') return Promise.resolve(this.channel)
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(undefined), this.waitMs)
      this.waiters.push((ch) => {
        clearTimeout(timer)
        resolve(ch)
      })
    })
  }
}

const NONE: ChannelAhead = {take: () => Promise.resolve(undefined)}

/**
 * Opens a session channel right after the first signed public-key request of a client whose
 * connect() has just been called (before quickLogin, which signs key files at once through this).
 */
export function openChannelAhead(client: Client, waitMs: number, first?: FirstExec): ChannelAhead {
  const c = client as unknown as ClientInternals
  const proto = c._protocol
  const authPK = proto?.authPK
  const handlers = proto?._handlers
  const failure = handlers?.USERAUTH_FAILURE
  const opening = new Opening(c, waitMs, first)
  if (!proto || typeof authPK !== 'function' || !handlers || typeof failure !== 'function' || !opening.possible) return NONE
  proto.authPK = (user, key, keyAlgo, sign) => {
    if (!sign) return authPK.call(proto, user, key, keyAlgo)
    // ssh2 sends the request from inside `done`: the channel open follows it.
    return authPK.call(proto, user, key, keyAlgo, (data, done) =>
      sign(data, (signature) => {
        done(signature)
        if (OPENSSH.test(c._remoteVer ?? '')) opening.send()
      }),
    )
  }
  // A failed request: sshd did not take the CHANNEL_OPEN that followed it.
  handlers.USERAUTH_FAILURE = (...args) => {
    opening.refused()
    failure(...args)
  }
  return opening
}

/**
 * Opens a session channel now, on a logged-in connection, for a command that may come later (a
 * node read's second round): that command then waits for its exec alone, not for the open too.
 */
export function openChannelNow(client: Client, waitMs: number): ChannelAhead {
  const opening = new Opening(client as unknown as ClientInternals, waitMs)
  if (!opening.possible) return NONE
  opening.send()
  return opening
}
