// -v for node commands (loggedSession): each run() reported with exit status, bytes and time,
// results and errors passed through unchanged.
import {describe, expect, it} from 'vitest'
import type {NodeCommandRecord} from '../../src/app/ports.js'
import {nodeCommands, type NodeCommand} from '../../src/adapters/node/commands.js'
import {NodeAccessError, type CommandResult, type NodeConnector, type NodeSession} from '../../src/adapters/node/connector.js'
import {loggedSession} from '../../src/adapters/node/logged-session.js'
import {LiveNodeReader} from '../../src/adapters/node/reader.js'
import {node, view} from '../support/builders.js'

function fakeSession(answer: (cmd: NodeCommand) => CommandResult): NodeSession & {closed: boolean} {
  const s = {
    closed: false,
    run: async (cmd: NodeCommand) => answer(cmd),
    close: async () => {
      s.closed = true
    },
  }
  return s
}

function recorded(session: NodeSession): {session: NodeSession; records: NodeCommandRecord[]} {
  const records: NodeCommandRecord[] = []
  let t = 0
  const now = () => (t += 5)
  return {
    session: loggedSession(session, 'node-a', 'ssh', {apiRequest: () => undefined, nodeCommand: (r) => records.push(r), nodeRead: () => undefined}, now),
    records,
  }
}

describe('loggedSession', () => {
  it('reports a command that succeeded with its bytes (stdout and stderr, UTF-8)', async () => {
    const result = {stdout: 'iptables v1.8.9 (nf_tables)\n', stderr: 'é', exitCode: 0}
    const {session, records} = recorded(fakeSession(() => result))
    expect(await session.run(nodeCommands.iptablesVersion())).toBe(result)
    expect(records).toEqual([{node: 'node-a', via: 'ssh', command: 'iptables -V', exitCode: 0, bytes: 30, ms: 5}])
  })

  it('reports the exit status of a command that failed, and rethrows the same error', async () => {
    const err = new NodeAccessError('ipvsadm is not installed on node-a', 'command', 127)
    const {session, records} = recorded(
      fakeSession(() => {
        throw err
      }),
    )
    await expect(session.run(nodeCommands.ipvsadmSave())).rejects.toBe(err)
    expect(records).toEqual([{node: 'node-a', via: 'ssh', command: 'ipvsadm -S -n', exitCode: 127, ms: 5}])
  })

  it('reports why a command without an exit status failed', async () => {
    const {session, records} = recorded(
      fakeSession(() => {
        throw new NodeAccessError('`iptables-save` on node-a did not finish within 60 s', 'timeout')
      }),
    )
    await expect(session.run(nodeCommands.iptablesSave())).rejects.toThrow(/did not finish/)
    expect(records).toEqual([{node: 'node-a', via: 'ssh', command: 'iptables-save', error: 'timeout', ms: 5}])
  })

  it('closes the session below it', async () => {
    const below = fakeSession(() => ({stdout: '', stderr: '', exitCode: 0}))
    await loggedSession(below, 'node-a', 'exec', {apiRequest: () => undefined, nodeCommand: () => undefined, nodeRead: () => undefined}).close()
    expect(below.closed).toBe(true)
  })
})

describe('LiveNodeReader with a log', () => {
  it('reports every command it runs on each node, with the way the node is reached', async () => {
    const dump = '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n'
    const answers: Record<string, string> = {'iptables -V': 'iptables v1.8.9 (legacy)\n', 'iptables-save': dump}
    const connector: NodeConnector = {
      description: 'scripted',
      connect: async () =>
        fakeSession((cmd) => {
          const out = answers[cmd.argv.join(' ')]
          if (out === undefined) throw new NodeAccessError(`${cmd.argv[0]} is not installed`, 'command', 127)
          return {stdout: out, stderr: '', exitCode: 0}
        }),
    }
    const records: NodeCommandRecord[] = []
    const reader = new LiveNodeReader(connector, {
      via: 'exec',
      needsAddress: false,
      log: {apiRequest: () => undefined, nodeCommand: (r) => records.push(r), nodeRead: () => undefined},
    })
    await reader.nodeNames(view({nodes: [node({name: 'node-a'})]}))
    await reader.read('node-a', {full: true, ipv6: false, chains: {nat: [], filter: []}, chains6: {nat: [], filter: []}, destinations: []})
    // Without a shell the steps run concurrently: the order of the lines is not fixed, the set is.
    expect(records.map((r) => `${r.via} ${r.node}: ${r.command} → ${r.exitCode}${r.bytes !== undefined ? ` ${r.bytes}` : ''}`).sort()).toEqual(
      [
        'exec node-a: iptables -V → 0 25',
        `exec node-a: iptables-save → 0 ${dump.length}`,
        'exec node-a: iptables-nft-save → 127',
        'exec node-a: nft list chain ip kube-proxy services → 127',
        'exec node-a: cat /proc/net/ip_vs → 127',
      ].sort(),
    )
  })
})

describe('a compound read with a log', () => {
  it('one line per command that ran, each naming its channel, however many branches name the same step', async () => {
    const save = {id: 'save', cmd: nodeCommands.iptablesSave()}
    const steps = [
      {
        id: 'version',
        cmd: nodeCommands.iptablesVersion(),
        branches: [
          {when: {printed: ['(legacy)']}, steps: [save]},
          {when: {always: true as const}, steps: [save]},
        ],
      },
    ]
    const below: NodeSession = {
      run: () => Promise.reject(new Error('not used')),
      runBatch: async () =>
        new Map([
          ['version', {stdout: 'iptables v1.8.9 (nf_tables)\n', stderr: '', exitCode: 0}],
          ['save', {stdout: '*nat\nCOMMIT\n', stderr: '', exitCode: 0}],
        ]),
      close: async () => undefined,
    }
    const records: NodeCommandRecord[] = []
    let t = 0
    const s = loggedSession(
      below,
      'node-a',
      'ssh',
      {apiRequest: () => undefined, nodeCommand: (r) => records.push(r), nodeRead: () => undefined},
      () => (t += 20),
    )
    await s.runBatch!(steps)
    expect(records).toEqual([
      {node: 'node-a', via: 'ssh', command: 'iptables -V', exitCode: 0, bytes: 28, channel: {number: 1, commands: 2}, ms: 20},
      {node: 'node-a', via: 'ssh', command: 'iptables-save', exitCode: 0, bytes: 12, channel: {number: 1, commands: 2}, ms: 20},
    ])
  })
})
