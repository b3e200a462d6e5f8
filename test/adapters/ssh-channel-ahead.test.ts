// The channel opened during authentication (channel-ahead.ts), against a stand-in for ssh2's client
// internals: when it is opened, and when the first command must open its own. Through a real sshd:
// test/integration/ssh-nodes.test.ts (the round trip it saves, and a refused key first).
import {createRequire} from 'node:module'
import type {Client, ClientChannel} from 'ssh2'
import {describe, expect, it} from 'vitest'
import {NOT_RUN, openChannelAhead, openChannelNow, SSH2_MAX_WINDOW, SSH2_PACKET_SIZE, type FirstExec} from '../../src/adapters/ssh/channel-ahead.js'

type Confirm = ((err: Error | undefined, ch?: unknown) => void) & {type?: string}
type Sign = (data: Buffer, done: (sig: Buffer) => void) => void

/** ssh2's Client as far as channel-ahead.ts reaches into it; `sent` records the packets in order. */
function fakeClient(remoteVer: string) {
  const sent: string[] = []
  const handlers: Record<string, (...a: unknown[]) => void> = {USERAUTH_FAILURE: () => sent.push('(failure handled)')}
  const channels: Confirm[] = []
  const protocol = {
    _handlers: handlers,
    authPK(_user: string, _key: unknown, _algo?: string, sign?: Sign) {
      if (!sign) return void sent.push('USERAUTH_REQUEST (query)')
      sign(Buffer.from('data'), () => sent.push('USERAUTH_REQUEST (signed)'))
    },
    session(chan: number, window: number, packet: number) {
      sent.push(`CHANNEL_OPEN ${chan} ${window} ${packet}`)
    },
    exec(chan: number, line: string, wantReply: boolean) {
      sent.push(`CHANNEL_REQUEST ${chan} exec ${line}${wantReply ? ' (reply)' : ''}`)
    },
  }
  const client = {_remoteVer: remoteVer, _protocol: protocol, _chanMgr: {add: (h: Confirm) => channels.push(h) - 1}}
  const signed = (sign: Sign = (d, done) => done(d)) => protocol.authPK('root', {}, 'ssh-ed25519', sign)
  return {client: client as unknown as Client, sent, handlers, channels, signed, query: () => protocol.authPK('root', {})}
}

describe('a channel opened with the signed key request', () => {
  it("uses ssh2's own window and packet size for it", () => {
    const {MAX_WINDOW, PACKET_SIZE} = createRequire(import.meta.url)('ssh2/lib/Channel.js') as {MAX_WINDOW: number; PACKET_SIZE: number}
    expect([SSH2_MAX_WINDOW, SSH2_PACKET_SIZE]).toEqual([MAX_WINDOW, PACKET_SIZE])
  })

  it('follows the first signed request to an OpenSSH server, once; a query is not followed', async () => {
    const f = fakeClient('OpenSSH_9.2p1')
    const ahead = openChannelAhead(f.client, 5_000)
    f.query()
    f.signed()
    f.signed()
    expect(f.sent).toEqual([
      'USERAUTH_REQUEST (query)',
      'USERAUTH_REQUEST (signed)',
      `CHANNEL_OPEN 0 ${SSH2_MAX_WINDOW} ${SSH2_PACKET_SIZE}`,
      'USERAUTH_REQUEST (signed)',
    ])
    expect(f.channels[0]?.type).toBe('session')
    const channel = {outgoing: {id: 7, state: 'open'}} as unknown as ClientChannel
    f.channels[0]!(undefined, channel)
    await expect(ahead.take()).resolves.toBe(channel)
    await expect(ahead.take()).resolves.toBeUndefined()
  })

  it('after an agent signature that comes later, still behind its request', async () => {
    const f = fakeClient('OpenSSH_8.4')
    openChannelAhead(f.client, 5_000)
    let later: (() => void) | undefined
    f.signed((d, done) => (later = () => done(d)))
    expect(f.sent).toEqual([])
    later!()
    expect(f.sent).toEqual(['USERAUTH_REQUEST (signed)', `CHANNEL_OPEN 0 ${SSH2_MAX_WINDOW} ${SSH2_PACKET_SIZE}`])
  })

  it('is given up when the request fails (sshd did not take the open), and ssh2 still sees the failure', async () => {
    const f = fakeClient('OpenSSH_9.2p1')
    const ahead = openChannelAhead(f.client, 60_000)
    f.signed()
    f.handlers.USERAUTH_FAILURE!()
    expect(f.sent.at(-1)).toBe('(failure handled)')
    await expect(ahead.take()).resolves.toBeUndefined()
  })

  it('is given up when the server refuses it or does not answer in time', async () => {
    const refused = fakeClient('OpenSSH_9.2p1')
    const a1 = openChannelAhead(refused.client, 60_000)
    refused.signed()
    const taking = a1.take()
    refused.channels[0]!(new Error('open failed'))
    await expect(taking).resolves.toBeUndefined()

    const silent = fakeClient('OpenSSH_9.2p1')
    const a2 = openChannelAhead(silent.client, 20)
    silent.signed()
    await expect(a2.take()).resolves.toBeUndefined()
  })

  it('is not opened for another server, or when ssh2 is not as expected', async () => {
    for (const ver of ['dropbear_2022.83', 'libssh_0.10.4', '']) {
      const f = fakeClient(ver)
      const ahead = openChannelAhead(f.client, 5_000)
      f.signed()
      expect(f.sent, ver).toEqual(['USERAUTH_REQUEST (signed)'])
      await expect(ahead.take()).resolves.toBeUndefined()
    }
    await expect(openChannelAhead({} as Client, 5_000).take()).resolves.toBeUndefined()
  })

  it('opened now on a logged-in connection, for a later command, whatever the server', async () => {
    const f = fakeClient('dropbear_2022.83')
    const ahead = openChannelNow(f.client, 5_000)
    expect(f.sent).toEqual([`CHANNEL_OPEN 0 ${SSH2_MAX_WINDOW} ${SSH2_PACKET_SIZE}`])
    const channel = {outgoing: {id: 3, state: 'open'}} as unknown as ClientChannel
    f.channels[0]!(undefined, channel)
    await expect(ahead.take()).resolves.toBe(channel)
    await expect(openChannelNow({} as Client, 5_000).take()).resolves.toBeUndefined()
  })

  describe("with the first command's exec behind it", () => {
    /** A FirstExec whose line is known (or not) when the open goes out; `got` records how it started. */
    function first(line: string | undefined) {
      const got: unknown[] = []
      const exec: FirstExec = {line: () => line, started: (result, channel) => got.push(result === undefined ? channel : result)}
      return {exec, got}
    }
    const open = (n: number) => `CHANNEL_OPEN ${n} ${SSH2_MAX_WINDOW} ${SSH2_PACKET_SIZE}`
    const confirmedChannel = (id: number) => ({outgoing: {id, state: 'open'}, _callbacks: [] as ((failed: boolean | Error) => void)[]})

    it("sends the exec to the server's channel 0, then opens the next channel for take(); the exec channel starts on the reply", async () => {
      const f = fakeClient('OpenSSH_9.2p1')
      const {exec, got} = first('sh -c true')
      const ahead = openChannelAhead(f.client, 5_000, exec)
      f.signed()
      expect(f.sent).toEqual(['USERAUTH_REQUEST (signed)', open(0), 'CHANNEL_REQUEST 0 exec sh -c true (reply)', open(1)])
      const execChannel = confirmedChannel(0)
      f.channels[0]!(undefined, execChannel)
      expect(got).toEqual([])
      execChannel._callbacks[0]!(false)
      expect(got).toEqual([execChannel])
      expect(execChannel).toMatchObject({subtype: 'exec', allowHalfOpen: true})
      const spare = confirmedChannel(1)
      f.channels[1]!(undefined, spare)
      await expect(ahead.take()).resolves.toBe(spare)
    })

    it('fails the command when the server numbered the channel otherwise, or refused it, or the exec', () => {
      const cases: [string, (f: ReturnType<typeof fakeClient>) => void, RegExp][] = [
        ['numbered 3', (f) => f.channels[0]!(undefined, confirmedChannel(3)), /numbered the first channel 3, not 0/],
        ['refused', (f) => f.channels[0]!(new Error('open failed')), /refused the session channel/],
        [
          'exec refused',
          (f) => {
            const ch = confirmedChannel(0)
            f.channels[0]!(undefined, ch)
            ch._callbacks[0]!(true)
          },
          /Unable to exec/,
        ],
      ]
      for (const [name, answer, message] of cases) {
        const f = fakeClient('OpenSSH_9.2p1')
        const {exec, got} = first('sh -c true')
        openChannelAhead(f.client, 5_000, exec)
        f.signed()
        answer(f)
        expect(got, name).toHaveLength(1)
        expect(String(got[0]), name).toMatch(message)
      }
    })

    it('says NOT_RUN when the signed request fails (sshd took neither), and take() has no channel', async () => {
      const f = fakeClient('OpenSSH_9.2p1')
      const {exec, got} = first('sh -c true')
      const ahead = openChannelAhead(f.client, 60_000, exec)
      f.signed()
      f.handlers.USERAUTH_FAILURE!()
      expect(got).toEqual([NOT_RUN])
      await expect(ahead.take()).resolves.toBeUndefined()
    })

    it('opens the one channel for take() alone when the command is not known yet, or the server is not OpenSSH', async () => {
      const unknown = fakeClient('OpenSSH_9.2p1')
      const a = first(undefined)
      const ahead = openChannelAhead(unknown.client, 5_000, a.exec)
      unknown.signed()
      expect(unknown.sent).toEqual(['USERAUTH_REQUEST (signed)', open(0)])
      const channel = confirmedChannel(7)
      unknown.channels[0]!(undefined, channel)
      await expect(ahead.take()).resolves.toBe(channel)
      expect(a.got).toEqual([])

      const other = fakeClient('dropbear_2022.83')
      const b = first('sh -c true')
      openChannelAhead(other.client, 5_000, b.exec)
      other.signed()
      expect(other.sent).toEqual(['USERAUTH_REQUEST (signed)'])
    })
  })
})
