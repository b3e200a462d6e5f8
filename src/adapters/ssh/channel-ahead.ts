// One round trip fewer to a node's first command: the session channel is opened in the same flight
// as the signed public-key request, instead of a round trip after USERAUTH_SUCCESS. OpenSSH's sshd
// reads its input in order: when that request succeeds it switches to the connection protocol and
// then reads the CHANNEL_OPEN queued behind it (the pre-authentication process hands its unread input
// on); when it fails, sshd answers the CHANNEL_OPEN with UNIMPLEMENTED and goes on authenticating,
// and the channel is never used (the first command opens its own, as without this). So it is done
// only for a server that says it is OpenSSH, only for the first signed request, and only when ssh2's
// internals are as expected; otherwise nothing changes. The system tests log in through sshd both
// ways (a key that fails first, then one that works).
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

/** The channel opened ahead, for the connection's first command. */
export interface ChannelAhead {
  /**
   * The channel, once the server has confirmed it; undefined when it was never opened or will never
   * be confirmed (the signed request failed, the server refused it, or no answer within `waitMs` of
   * the connection being ready). Only the first call can have a channel.
   */
  take(): Promise<ClientChannel | undefined>
}

/** Runs `line` on a channel `take()` gave, as ssh2's exec does on a channel it opened; false when it cannot (nothing sent). */
export function execOnChannel(client: Client, channel: ClientChannel, line: string, cb: (err: Error | undefined, channel: ClientChannel) => void): boolean {
  const chan = channel as unknown as ChannelInternals
  const exec = (client as unknown as ClientInternals)._protocol?.exec
  const id = chan.outgoing?.id
  if (typeof exec !== 'function' || typeof id !== 'number' || chan.outgoing?.state !== 'open' || !Array.isArray(chan._callbacks)) return false
  chan._callbacks.push((failed) => {
    if (failed) return cb(failed === true ? new Error('Unable to exec') : failed, channel)
    chan.subtype = 'exec'
    chan.allowHalfOpen = true
    cb(undefined, channel)
  })
  exec.call((client as unknown as ClientInternals)._protocol, id, line, true)
  return true
}

/**
 * Opens a session channel right after the first signed public-key request of a client whose
 * connect() has just been called (before quickLogin, which signs key files at once through this).
 */
export function openChannelAhead(client: Client, waitMs: number): ChannelAhead {
  const c = client as unknown as ClientInternals
  const proto = c._protocol
  const authPK = proto?.authPK
  const handlers = proto?._handlers
  const failure = handlers?.USERAUTH_FAILURE
  let taken = false
  // pending: sent, not yet answered; undefined in `channel` once it is known never to come.
  let state: 'none' | 'pending' | 'settled' = 'none'
  let channel: ClientChannel | undefined
  const waiters: ((ch: ClientChannel | undefined) => void)[] = []
  const settle = (ch: ClientChannel | undefined) => {
    if (state === 'settled') return
    state = 'settled'
    channel = ch
    for (const w of waiters.splice(0)) w(ch)
  }
  const none: ChannelAhead = {take: () => Promise.resolve(undefined)}
  if (!proto || typeof authPK !== 'function' || typeof proto.session !== 'function' || !handlers || typeof failure !== 'function') return none
  if (!c._chanMgr || typeof c._chanMgr.add !== 'function') return none

  const open = () => {
    if (state !== 'none' || !OPENSSH.test(c._remoteVer ?? '')) return
    const confirmed = (err: Error | undefined, ch: ClientChannel | undefined) => settle(err ? undefined : ch)
    ;(confirmed as unknown as {type: string}).type = 'session'
    const id = c._chanMgr!.add(confirmed)
    if (id < 0) return
    state = 'pending'
    proto.session!(id, SSH2_MAX_WINDOW, SSH2_PACKET_SIZE)
  }
  proto.authPK = (user, key, keyAlgo, sign) => {
    if (!sign) return authPK.call(proto, user, key, keyAlgo)
    // ssh2 sends the request from inside `done`: the channel open follows it.
    return authPK.call(proto, user, key, keyAlgo, (data, done) =>
      sign(data, (signature) => {
        done(signature)
        open()
      }),
    )
  }
  // A failed request: sshd did not take the CHANNEL_OPEN that followed it.
  handlers.USERAUTH_FAILURE = (...args) => {
    if (state === 'pending') settle(undefined)
    failure(...args)
  }
  return {
    take() {
      if (taken) return Promise.resolve(undefined)
      taken = true
      if (state !== 'pending') return Promise.resolve(channel)
      return new Promise((resolve) => {
        const timer = setTimeout(() => settle(undefined), waitMs)
        waiters.push((ch) => {
          clearTimeout(timer)
          resolve(ch)
        })
      })
    },
  }
}
