// The first batch sent with the login (session.ts PrimedBatch), against stand-ins for ssh2's client and
// channel: runBatch() takes its output for the same steps, however long the command runs, and runs it on
// a channel of its own when the server never took it. Through a real sshd: test/integration/ssh-nodes.test.ts.
import {EventEmitter} from 'node:events'
import type {Client, ClientChannel} from 'ssh2'
import {describe, expect, it} from 'vitest'
import type {BatchStep, CompoundCommand} from '../../src/adapters/node/batch.js'
import {nodeCommands} from '../../src/adapters/node/commands.js'
import {NodeAccessError, type CommandResult} from '../../src/adapters/node/connector.js'
import {NOT_RUN} from '../../src/adapters/ssh/channel-ahead.js'
import {PrimedBatch, SshSession} from '../../src/adapters/ssh/session.js'

const SETTINGS = {node: 'node-a', sudo: false, commandTimeoutMs: 5_000, maxOutputBytes: 1 << 20}
const STEPS: BatchStep[] = [{id: 'save', cmd: nodeCommands.iptablesSave()}]
const RULES = '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'

/** A channel as collectOutput reads it: data, stderr data, exit, close. */
function fakeChannel(): ClientChannel & EventEmitter {
  return Object.assign(new EventEmitter(), {stderr: new EventEmitter(), close: () => undefined}) as unknown as ClientChannel & EventEmitter
}

/** What the compound command prints for STEPS: the framed save. */
function answer(channel: ClientChannel & EventEmitter, compound: CompoundCommand): void {
  channel.stderr.emit('data', Buffer.from(`${compound.nonce} save\n`))
  channel.emit('data', Buffer.from(`${compound.nonce} save\n${RULES}\n${compound.nonce} save 0 ${Buffer.byteLength(RULES)}\n`))
  channel.emit('exit', 0)
  channel.emit('close')
}

/** A logged-in client: `exec` runs on a fresh channel (the path without the early exec). */
function fakeClient(onExec: (line: string, channel: ClientChannel & EventEmitter) => void = () => undefined) {
  const execs: string[] = []
  const client = Object.assign(new EventEmitter(), {
    exec(line: string, cb: (err: Error | undefined, ch: ClientChannel) => void) {
      execs.push(line)
      const channel = fakeChannel()
      cb(undefined, channel)
      onExec(line, channel)
    },
    end: () => undefined,
  })
  return {client: client as unknown as Client, execs}
}

function primed(): {first: PrimedBatch; compound: CompoundCommand} {
  const first = new PrimedBatch({steps: STEPS}, SETTINGS)
  expect(first.line()).toMatch(/^sh -c '/)
  const compound = first.sentFor(STEPS)
  if (!compound) throw new Error('the batch was not sent')
  return {first, compound}
}

const saveOf = (outcomes: Map<string, unknown>) => (outcomes.get('save') as CommandResult).stdout

describe('the first batch sent with the login', () => {
  it('gives runBatch() its output for the same steps, also when the command runs past the wait for its channel', async () => {
    const {first, compound} = primed()
    const channel = fakeChannel()
    first.started(undefined, channel)
    const {client, execs} = fakeClient()
    const session = new SshSession(client, {...SETTINGS, first, openWaitMs: 20})
    const reading = session.runBatch(STEPS)
    // The command answered at once (begun) but runs 5× longer than the wait for its channel.
    await new Promise((r) => setTimeout(r, 100))
    answer(channel, compound)
    expect(saveOf(await reading)).toBe(RULES)
    expect(execs).toEqual([])
  })

  it('runs the batch on a channel of its own when the server never took the early exec', async () => {
    const {first} = primed()
    first.started(NOT_RUN)
    const {client, execs} = fakeClient((line, channel) => {
      const nonce = /M=([a-f0-9]+);/.exec(line)?.[1] ?? ''
      setImmediate(() => answer(channel, {nonce} as CompoundCommand))
    })
    const session = new SshSession(client, {...SETTINGS, first, openWaitMs: 20})
    expect(saveOf(await session.runBatch(STEPS))).toBe(RULES)
    expect(execs).toHaveLength(1)
  })

  it('fails as a lost connection when the server never answers the early exec', async () => {
    const {first} = primed()
    const {client, execs} = fakeClient()
    const session = new SshSession(client, {...SETTINGS, first, openWaitMs: 20})
    const err = await session.runBatch(STEPS).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NodeAccessError)
    expect((err as NodeAccessError).message).toBe("connection to node-a lost: no answer to the first command's channel within 0.02 s")
    expect(execs).toEqual([])
  })
})
