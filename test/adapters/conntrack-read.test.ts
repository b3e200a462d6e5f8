// --conntrack through the node reader and the bundle: `conntrack -L -d VIP` per address of the plan in
// the first round, the listings kept as one capture; a node without conntrack keeps its traced rules
// and says why; --capture writes conntrack.txt and --from reads it back (or says it is missing).
// The real conntrack in a namespace is test/integration/conntrack-stale.test.ts.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {writeBundle} from '../../src/adapters/bundle/writer.js'
import {shellLine, type NodeCommand} from '../../src/adapters/node/commands.js'
import type {CommandResult, NodeSession} from '../../src/adapters/node/connector.js'
import {readNodeDataplane} from '../../src/adapters/node/dataplane-reader.js'
import {commandError} from '../../src/adapters/ssh/errors.js'
import {captureOf, captureText} from '../../src/core/captures.js'
import type {Capture} from '../../src/core/model.js'

const textOf = (c: Capture | undefined) => (c ? captureText(c) : undefined)
import type {CollectionPlan} from '../../src/core/collection-plan.js'
import {node, view} from '../support/builders.js'
import {dataplane} from '../support/dataplane.js'

const RULES = [
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':KUBE-SERVICES - [0:0]',
  '-A PREROUTING -j KUBE-SERVICES',
  '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
  'COMMIT',
  '',
].join('\n')
const V4 = 'udp      17 29 src=10.244.1.11 dst=10.96.0.10 sport=41001 dport=53 [UNREPLIED] src=10.244.1.5 dst=10.244.1.11 sport=53 dport=41001 mark=0 use=2\n'
const V6 =
  'udp      17 29 src=fd00:10:244:1::b dst=fd00:10:96::a sport=41001 dport=53 [UNREPLIED] src=fd00:10:244:1::5 dst=fd00:10:244:1::b sport=53 dport=41001 mark=0 use=2'

const plan = (addresses: string[] | 'all'): CollectionPlan => ({
  full: true,
  ipv6: false,
  chains: {nat: [], filter: []},
  chains6: {nat: [], filter: []},
  destinations: [],
  conntrack: {addresses},
})

/** A node answering command lines from a table (as SshSession would; anything else: not installed). */
function session(answers: Record<string, string>): NodeSession & {ran: string[]} {
  const ran: string[] = []
  return {
    ran,
    async run(cmd: NodeCommand): Promise<CommandResult> {
      const line = shellLine(cmd, false).replace(/^env LC_ALL=C /, '')
      ran.push(line)
      const out = answers[line]
      if (out === undefined) throw commandError('node1', cmd, false, 127, `sh: 1: ${cmd.argv[0]}: not found`)
      return {stdout: out, stderr: '', exitCode: 0}
    },
    close: async () => undefined,
  }
}

describe('reading conntrack from a live node', () => {
  it('lists each address of the plan (IPv6 with -f ipv6) and keeps the listings as one capture', async () => {
    const s = session({
      'iptables -V': 'iptables v1.8.9 (nf_tables)\n',
      'iptables-save': RULES,
      'conntrack -L -d 10.96.0.10': V4,
      'conntrack -L -f ipv6 -d fd00:10:96::a': V6,
    })
    const dp = await readNodeDataplane(s, 'node1', plan(['10.96.0.10', 'fd00:10:96::a']))
    expect(captureOf(dp, 'conntrack')).toEqual({
      kind: 'conntrack',
      text: `${V4}${V6}\n`,
      source: 'node1: conntrack -L -d 10.96.0.10; conntrack -L -f ipv6 -d fd00:10:96::a',
    })
    expect(textOf(captureOf(dp, 'iptables-save'))).toBe(RULES)
    expect(dp.conntrackError).toBeUndefined()
  })

  it('reads the whole table for a check of every Service, and nothing without --conntrack', async () => {
    const answers = {'iptables -V': 'iptables v1.8.9 (nf_tables)\n', 'iptables-save': RULES, 'conntrack -L': V4}
    const all = session(answers)
    expect(textOf(captureOf(await readNodeDataplane(all, 'node1', plan('all')), 'conntrack'))).toBe(V4)
    const none = session(answers)
    const {conntrack: _, ...without} = plan('all')
    expect(captureOf(await readNodeDataplane(none, 'node1', without), 'conntrack')).toBeUndefined()
    expect(none.ran.filter((l) => l.startsWith('conntrack'))).toEqual([])
  })

  it('a node without conntrack is still traced, and says what to do', async () => {
    const s = session({'iptables -V': 'iptables v1.8.9 (nf_tables)\n', 'iptables-save': RULES})
    const dp = await readNodeDataplane(s, 'node1', plan(['10.96.0.10']))
    expect(textOf(captureOf(dp, 'iptables-save'))).toBe(RULES)
    expect(captureOf(dp, 'conntrack')).toBeUndefined()
    expect(dp.conntrackError).toMatch(/^conntrack is not installed on node1 .*; install conntrack \(Debian\/Ubuntu: conntrack, RHEL: conntrack-tools\)/)
  })
})

describe('conntrack.txt in a bundle', () => {
  let dir = ''
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('--capture writes it and --from reads it back; asked for but absent, the node says so', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'svctrace-conntrack-'))
    const bundle = path.join(dir, 'b')
    const dps = [dataplane('node1', {'iptables-save': RULES, conntrack: V4}), dataplane('node2', {'iptables-save': RULES})]
    await writeBundle(bundle, view({nodes: [node({name: 'node1'}), node({name: 'node2'})]}), dps, {})
    const reader = new BundleDir(bundle)
    const node1 = await reader.read('node1', plan(['10.96.0.10']))
    const back = captureOf(node1, 'conntrack')
    expect(back && {...back, text: captureText(back)}).toEqual({kind: 'conntrack', text: V4, source: path.join(bundle, 'nodes/node1/conntrack.txt')})
    expect(node1.conntrackError).toBeUndefined()
    const node2 = await reader.read('node2', plan(['10.96.0.10']))
    expect(node2.conntrackError).toBe(
      `${path.join(bundle, 'nodes/node2/conntrack.txt')} not found: capture it on the node with: conntrack -L > conntrack.txt (or --capture with --conntrack)`,
    )
    // Without --conntrack a missing file is no error.
    expect((await reader.read('node2')).conntrackError).toBeUndefined()
  })
})
