// The compound node read (batch.ts) through a real /bin/sh with real tee, wc and cat, against fake
// node programs (test/support/local-shell.ts): every part comes back whole and attributed, the branches
// run as the same steps run one by one would, and a node read is the same NodeDataplane either way.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {compoundCommand, parseFramed, runBatch, runSeparately, type BatchStep} from '../../src/adapters/node/batch.js'
import {nodeCommands, UnsafeArgumentError} from '../../src/adapters/node/commands.js'
import {NodeAccessError} from '../../src/adapters/node/connector.js'
import {firstRound, readNodeDataplane} from '../../src/adapters/node/dataplane-reader.js'
import type {CollectionPlan} from '../../src/core/collection-plan.js'
import {fakeNodeDir, LocalShellSession, type FakeNode} from '../support/local-shell.js'
import {captureText} from '../../src/core/captures.js'
import {openDataplane} from '../../src/core/dataplane.js'
import {root} from '../support/cli.js'
import {compoundLines} from '../support/compound.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, {recursive: true, force: true})))

function node(answers: FakeNode, tools = true): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-batch-'))
  dirs.push(dir)
  return fakeNodeDir(dir, answers, tools)
}

const NAT = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n'
const PROC_IP_VS =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  0A60000A:0035 rr\n  -> 0AF40102:0035      Masq    1      0          0\n'
const PROC_IP_VS_EMPTY =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n'

const step = (id: string, argv: string[]): BatchStep => ({id, cmd: {id: 'iptables-save', argv}})

describe('one compound command, framed parts', () => {
  it('returns each part byte for byte with its own exit status and error text', async () => {
    const big = Array.from({length: 40_000}, (_, i) => `-A KUBE-SVC-${i} -m comment --comment "ns/x:p → ü" -j KUBE-SEP-${i}`).join('\n')
    const bin = node({
      'iptables-save': {stdout: big},
      'iptables-legacy-save': {stdout: 'no newline at the end'},
      'iptables-nft-save': {stdout: '', stderr: 'iptables-nft-save: table busy\n', exit: 4},
      'nft -j list table ip kube-proxy': {stdout: 'a\r\nb\r\n\n\n'},
    })
    const s = new LocalShellSession(bin)
    const steps: BatchStep[] = [
      {id: 'save', cmd: nodeCommands.iptablesSave()},
      {id: 'legacy', cmd: nodeCommands.iptablesLegacySave()},
      {id: 'nftsave', cmd: nodeCommands.iptablesNftSave()},
      {id: 'nft', cmd: nodeCommands.nftListKubeProxy('ip')},
      {id: 'missing', cmd: nodeCommands.ipsetSave()},
    ]
    const out = await runBatch(s, steps)
    expect(s.channels).toBe(1)
    expect(out.get('save')).toEqual({stdout: big, stderr: '', exitCode: 0})
    expect(out.get('legacy')).toEqual({stdout: 'no newline at the end', stderr: '', exitCode: 0})
    expect(out.get('nft')).toEqual({stdout: 'a\r\nb\r\n\n\n', stderr: '', exitCode: 0})
    const failed = out.get('nftsave')
    expect(failed).toBeInstanceOf(NodeAccessError)
    expect((failed as NodeAccessError).message).toBe('`iptables-nft-save` on node-a exited with 4: iptables-nft-save: table busy')
    expect((out.get('missing') as NodeAccessError).message).toMatch(/^ipset is not installed on node-a/)
    // The same steps one by one give the same outcomes, in as many channels as commands.
    const one = new LocalShellSession(bin, 'node-a', false)
    expect(await runBatch(one, steps)).toEqual(out)
    expect(one.channels).toBe(steps.length)
  })

  it('runs a branch by what its step printed or whether it failed, as the steps run one by one do', async () => {
    const cases: Array<[string, FakeNode, string[]]> = [
      ['nf_tables', {'iptables -V': {stdout: 'iptables v1.8.9 (nf_tables)\n'}}, ['version', 'nft-branch']],
      ['legacy', {'iptables -V': {stdout: 'iptables v1.8.9 (legacy)\n'}}, ['version', 'legacy-branch']],
      ['before 1.8', {'iptables -V': {stdout: 'iptables v1.4.21\n'}}, ['version', 'legacy-branch']],
      ['no iptables', {}, ['version', 'else-branch']],
    ]
    const steps: BatchStep[] = [
      {
        id: 'version',
        cmd: nodeCommands.iptablesVersion(),
        branches: [
          {when: {printed: ['(nf_tables)']}, steps: [{id: 'nft-branch', cmd: nodeCommands.iptablesSave()}]},
          {when: {printed: ['(legacy)', 'iptables v1.']}, steps: [{id: 'legacy-branch', cmd: nodeCommands.iptablesSave()}]},
          {when: {always: true}, steps: [{id: 'else-branch', cmd: nodeCommands.iptablesSave()}]},
        ],
      },
    ]
    for (const [name, answers, ran] of cases) {
      const bin = node({...answers, 'iptables-save': {stdout: NAT}})
      const together = await runBatch(new LocalShellSession(bin), steps)
      const apart = await runSeparately(new LocalShellSession(bin, 'node-a', false), steps)
      expect([...together.keys()].sort(), name).toEqual(ran.sort())
      expect(together, name).toEqual(apart)
    }
  })

  it('falls back to one command at a time where the shell has no tee or wc', async () => {
    const bin = node({'iptables-save': {stdout: NAT}}, false)
    const s = new LocalShellSession(bin)
    const why: string[] = []
    const out = await runBatch(s, [{id: 'save', cmd: nodeCommands.iptablesSave()}], (w) => why.push(w))
    expect(out.get('save')).toEqual({stdout: NAT, stderr: '', exitCode: 0})
    expect(why).toEqual(["the compound command's output is not framed as expected (the shell has no tee, wc, cat or grep)"])
    expect(s.channels).toBe(2)
  })

  it('a small step (one chain) kept in the shell frames exactly as one streamed: bytes, exit status, error text', async () => {
    const bin = node({
      'iptables -w 5 -t nat -S KUBE-SVC-AAAA': {stdout: '-N KUBE-SVC-AAAA\n-A KUBE-SVC-AAAA -m comment --comment "ns/x → ü" -j KUBE-SEP-BBBB\n\n'},
      'iptables -w 5 -t nat -S KUBE-SVC-CCCC': {stdout: 'no newline at the end'},
      'iptables -w 5 -t nat -S KUBE-SEP-BBBB': {stderr: 'iptables: No chain/target/match by that name.\n', exit: 1},
    })
    const steps = (small: boolean): BatchStep[] =>
      ['KUBE-SVC-AAAA', 'KUBE-SVC-CCCC', 'KUBE-SEP-BBBB'].map((chain) => ({id: chain, cmd: nodeCommands.iptablesListChain('nat', chain), small}))
    const kept = await runBatch(new LocalShellSession(bin), steps(true))
    expect(compoundCommand(steps(true), false).script).toMatch(/; g KUBE-SVC-AAAA iptables /)
    expect(kept).toEqual(await runBatch(new LocalShellSession(bin), steps(false)))
    expect(kept.get('KUBE-SVC-CCCC')).toEqual({stdout: 'no newline at the end', stderr: '', exitCode: 0})
  })

  it('a node read is the same data plane in one channel as in one channel per command', async () => {
    const plan: CollectionPlan = {full: true, ipv6: false, chains: {nat: [], filter: []}, chains6: {nat: [], filter: []}, destinations: []}
    const nodes: Record<string, FakeNode> = {
      'iptables, nf_tables backend': {
        'iptables -V': {stdout: 'iptables v1.8.9 (nf_tables)\n'},
        'iptables-save': {stdout: NAT},
        'iptables-legacy-save': {stdout: '# Warning: iptables-legacy tables present\n*nat\n-A KUBE-SERVICES -j KUBE-SVC-OLD\nCOMMIT\n'},
        'cat /proc/net/ip_vs': {stdout: PROC_IP_VS_EMPTY},
        'nft list chain ip kube-proxy services': {stderr: 'Error: No such file or directory\n', exit: 1},
      },
      'IPVS, no ipvsadm': {
        'iptables -V': {stdout: 'iptables v1.8.7 (legacy)\n'},
        'iptables-save': {stdout: '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT\nCOMMIT\n'},
        'cat /proc/net/ip_vs': {stdout: PROC_IP_VS},
        'ipset save': {stdout: 'create KUBE-CLUSTER-IP hash:ip,port family inet\n'},
      },
      'nftables mode only': {
        'nft list chain ip kube-proxy services': {stdout: 'table ip kube-proxy {\n\tchain services {\n\t}\n}\n'},
        'nft -j list table ip kube-proxy': {stdout: '{"nftables": [{"metainfo": {"json_schema_version": 1}}]}\n'},
      },
    }
    for (const [name, answers] of Object.entries(nodes)) {
      const bin = node(answers)
      const s = new LocalShellSession(bin)
      const together = await readNodeDataplane(s, 'node-a', plan)
      expect(s.channels, name).toBe(1)
      const apart = await readNodeDataplane(new LocalShellSession(bin, 'node-a', false), 'node-a', plan)
      expect(together, name).toEqual(apart)
      expect(together.captures.length, name).toBeGreaterThan(0)
    }
  })
})

describe('a legacy node, one Service', () => {
  it('sends only the kept chains out of iptables-save -t nat, and traces the same data as the whole table read one by one', async () => {
    const nat = [
      '# Generated by iptables-save v1.8.9',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SVC-AAAA - [0:0]',
      ':KUBE-SVC-OTHER - [0:0]',
      ':KUBE-SEP-BBBB - [0:0]',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-AAAA',
      '-A KUBE-SERVICES -d 10.96.0.11/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-OTHER',
      '-A KUBE-SVC-AAAA -j KUBE-SEP-BBBB',
      '-A KUBE-SVC-OTHER -m comment --comment "-A KUBE-SVC-AAAA -j forged" -j KUBE-SEP-BBBB',
      '-A KUBE-SEP-BBBB -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080',
      'COMMIT',
      '',
    ].join('\n')
    const bin = node({
      'iptables -V': {stdout: 'iptables v1.8.7 (legacy)\n'},
      'iptables-save -t nat': {stdout: nat},
      'iptables-save -t filter': {stdout: '*filter\nCOMMIT\n'},
    })
    const plan: CollectionPlan = {
      full: false,
      ipv6: false,
      chains: {nat: ['PREROUTING', 'KUBE-SVC-AAAA', 'KUBE-SEP-BBBB'], filter: ['INPUT']},
      chains6: {nat: [], filter: []},
      destinations: [{ip: '10.96.0.10', port: 80, protocol: 'TCP'}],
    }
    const s = new LocalShellSession(bin)
    const together = await readNodeDataplane(s, 'node-a', plan)
    expect(s.channels).toBe(1)
    const text = together.captures.find((c) => c.kind === 'iptables-save')?.text ?? ''
    expect(text).toContain('-A KUBE-SVC-AAAA -j KUBE-SEP-BBBB')
    // Another Service's chain stays on the node (KUBE-SERVICES still names it), the rule quoting a forged line too.
    expect(text).not.toMatch(/^(:|-A )KUBE-SVC-OTHER /m)
    expect(text).not.toContain('forged')
    expect(together).toEqual(await readNodeDataplane(new LocalShellSession(bin, 'node-a', false), 'node-a', plan))
  })
})

describe('dual-stack', () => {
  it('an IPv6 Service also reads ip6tables-save, in the same channel', async () => {
    const v6 = '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d fd00:10:96::a/128 -p tcp -m tcp --dport 80 -j KUBE-SVC-AAAA\nCOMMIT\n'
    const bin = node({'iptables -V': {stdout: 'iptables v1.8.9 (nf_tables)\n'}, 'iptables-save': {stdout: NAT}, 'ip6tables-save': {stdout: v6}})
    const plan = (ipv6: boolean): CollectionPlan => ({full: true, ipv6, chains: {nat: [], filter: []}, chains6: {nat: [], filter: []}, destinations: []})
    const s = new LocalShellSession(bin)
    const read = await readNodeDataplane(s, 'node-a', plan(true))
    expect(read.captures.find((c) => c.kind === 'ip6tables-save')).toEqual({kind: 'ip6tables-save', text: v6, source: 'node-a: ip6tables-save'})
    expect(s.channels).toBe(1)
    expect((await readNodeDataplane(s, 'node-a', plan(false))).captures.map((c) => c.kind)).not.toContain('ip6tables-save')
  })
})

// A dual-stack Service's chains as kube-proxy writes them in each family: the same names (the hash has no
// family), each family's own addresses. `stale` adds a KUBE-SEP the API no longer predicts.
function dualStackNode(opts: {stale?: boolean; v6Backend?: 'nf_tables' | 'legacy'} = {}): FakeNode {
  const listing = (tool: string, table: string, chain: string, lines: string[]) => ({
    [`${tool} -w 5 -t ${table} -S ${chain}`]: {stdout: `${lines.join('\n')}\n`},
  })
  const family = (tool: string, vip: string, pod: string, prefix: string, stale: string) => ({
    ...listing(tool, 'nat', 'KUBE-SERVICES', [
      '-N KUBE-SERVICES',
      `-A KUBE-SERVICES -d ${vip}/${prefix} -p tcp -m comment --comment "ns/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAA`,
    ]),
    ...listing(tool, 'nat', 'PREROUTING', ['-P PREROUTING ACCEPT', '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES']),
    ...listing(tool, 'nat', 'KUBE-SVC-AAAA', [
      '-N KUBE-SVC-AAAA',
      ...(opts.stale ? [`-A KUBE-SVC-AAAA -m statistic --mode random --probability 0.50000000000 -j ${stale}`] : []),
      '-A KUBE-SVC-AAAA -j KUBE-SEP-BBBB',
    ]),
    ...listing(tool, 'nat', 'KUBE-SEP-BBBB', ['-N KUBE-SEP-BBBB', `-A KUBE-SEP-BBBB -p tcp -m tcp -j DNAT --to-destination ${pod}`]),
    ...listing(tool, 'nat', stale, ['-N ' + stale, `-A ${stale} -p tcp -m tcp -j DNAT --to-destination ${pod.replace(/5(\]?:8080)$/, '9$1')}`]),
    ...listing(tool, 'filter', 'INPUT', ['-P INPUT ACCEPT']),
  })
  const v6Save = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-AAAA - [0:0]',
    ':KUBE-SVC-OTHER - [0:0]',
    ':KUBE-SEP-BBBB - [0:0]',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A KUBE-SERVICES -d fd00:10:96::a/128 -p tcp -m comment --comment "ns/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAA',
    '-A KUBE-SERVICES -d fd00:10:96::b/128 -p tcp -m tcp --dport 80 -j KUBE-SVC-OTHER',
    '-A KUBE-SVC-AAAA -j KUBE-SEP-BBBB',
    '-A KUBE-SVC-OTHER -j KUBE-SEP-BBBB',
    '-A KUBE-SEP-BBBB -p tcp -m tcp -j DNAT --to-destination [fd00:10:244::5]:8080',
    'COMMIT',
    '',
  ].join('\n')
  return {
    'iptables -V': {stdout: 'iptables v1.8.9 (nf_tables)\n'},
    ...family('iptables', '10.96.0.10', '10.244.1.5:8080', '32', 'KUBE-SEP-OLD4'),
    'ip6tables -V': {stdout: `ip6tables v1.8.9 (${opts.v6Backend ?? 'nf_tables'})\n`},
    ...family('ip6tables', 'fd00:10:96::a', '[fd00:10:244::5]:8080', '128', 'KUBE-SEP-OLD6'),
    'ip6tables-save -t nat': {stdout: v6Save},
    'ip6tables-save -t filter': {stdout: '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'},
  }
}

const dualStackPlan: CollectionPlan = {
  full: false,
  ipv6: true,
  chains: {nat: ['PREROUTING', 'KUBE-SVC-AAAA', 'KUBE-SEP-BBBB'], filter: ['INPUT']},
  chains6: {nat: ['PREROUTING', 'KUBE-SVC-AAAA', 'KUBE-SEP-BBBB'], filter: ['INPUT']},
  destinations: [
    {ip: '10.96.0.10', port: 80, protocol: 'TCP'},
    {ip: 'fd00:10:96::a', port: 80, protocol: 'TCP'},
  ],
}

describe('dual-stack, one Service (targeted)', () => {
  const read = async (answers: FakeNode, compound = true) => {
    const s = new LocalShellSession(node(answers), 'node-a', compound)
    const notes: string[] = []
    // 0: list chain by chain whatever KUBE-SERVICES' size (the bench's big node, not this small one).
    const dp = await readNodeDataplane(s, 'node-a', dualStackPlan, (n) => notes.push(n), 0)
    const capture = (kind: string) => dp.captures.find((c) => c.kind === kind)
    return {s, dp, notes, v4: capture('iptables-save'), v6: capture('ip6tables-save')}
  }

  it("lists both families' predicted chains in one compound command, each part byte for byte", async () => {
    const answers = dualStackNode()
    const out = await runBatch(new LocalShellSession(node(answers)), firstRound(dualStackPlan, 0))
    for (const [id, line] of [
      ['nat:KUBE-SVC-AAAA', 'iptables -w 5 -t nat -S KUBE-SVC-AAAA'],
      ['nat6:KUBE-SVC-AAAA', 'ip6tables -w 5 -t nat -S KUBE-SVC-AAAA'],
      ['nat6:KUBE-SEP-BBBB', 'ip6tables -w 5 -t nat -S KUBE-SEP-BBBB'],
      ['filter6:INPUT', 'ip6tables -w 5 -t filter -S INPUT'],
      ['version6', 'ip6tables -V'],
    ] as const) {
      expect(out.get(id), id).toEqual({stdout: answers[line]?.stdout, stderr: '', exitCode: 0})
    }
    // Not ip6tables-save whole, nor a table whole: KUBE-SERVICES is "large" (over 0 bytes).
    expect([...out.keys()].filter((id) => /save|whole/.test(id))).toEqual([])
    const {s, v4, v6, notes} = await read(answers)
    expect(s.channels).toBe(1)
    expect(v6).toEqual({
      kind: 'ip6tables-save',
      text: [
        '*filter',
        ':INPUT ACCEPT [0:0]',
        'COMMIT',
        '*nat',
        ':PREROUTING ACCEPT [0:0]',
        ':KUBE-SEP-BBBB - [0:0]',
        ':KUBE-SERVICES - [0:0]',
        ':KUBE-SVC-AAAA - [0:0]',
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A KUBE-SEP-BBBB -p tcp -m tcp -j DNAT --to-destination [fd00:10:244::5]:8080',
        '-A KUBE-SERVICES -d fd00:10:96::a/128 -p tcp -m comment --comment "ns/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAA',
        '-A KUBE-SVC-AAAA -j KUBE-SEP-BBBB',
        'COMMIT',
        '',
      ].join('\n'),
      source: 'node-a: ip6tables -S (targeted: 5 chains in 1 round)',
    })
    expect(v4?.source).toBe('node-a: iptables -S (targeted: 5 chains in 1 round)')
    expect(v4 && captureText(v4)).toContain('-A KUBE-SEP-BBBB -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080')
    expect(notes).toEqual(['targeted read (nft backend): one round', 'targeted IPv6 read (nft backend): one round'])
    // The same read one command at a time.
    expect((await read(answers, false)).dp).toEqual((await read(answers)).dp)
  })

  it('a second round lists what the first revealed in both families, in one more channel', async () => {
    const {s, v4, v6, notes} = await read(dualStackNode({stale: true}))
    expect(s.channels).toBe(2)
    expect(v4?.source).toBe('node-a: iptables -S (targeted: 6 chains in 2 rounds; listed 1 chain the API did not predict (KUBE-SEP-OLD4))')
    expect(v6?.source).toBe('node-a: ip6tables -S (targeted: 6 chains in 2 rounds; listed 1 chain the API did not predict (KUBE-SEP-OLD6))')
    expect(v6 && captureText(v6)).toContain('-A KUBE-SEP-OLD6 -p tcp -m tcp -j DNAT --to-destination [fd00:10:244::9]:8080')
    expect(notes).toEqual([
      'targeted read (nft backend): listed 1 chain the API did not predict (KUBE-SEP-OLD4); a second round',
      'targeted IPv6 read (nft backend): listed 1 chain the API did not predict (KUBE-SEP-OLD6); a second round',
    ])
  })

  it('decides per family: ip6tables on the legacy backend sends its kept chains out of one ip6tables-save per table', async () => {
    const {s, v4, v6, notes} = await read(dualStackNode({v6Backend: 'legacy'}))
    expect(s.channels).toBe(1)
    expect(v4?.source).toBe('node-a: iptables -S (targeted: 5 chains in 1 round)')
    expect(v6?.source).toBe(
      'node-a: ip6tables -S (targeted: 5 chains in 1 round; ip6tables-legacy loads a whole table for each ip6tables -S CHAIN: one ip6tables-save per table, only these chains sent (grep on the node))',
    )
    const text = v6 ? captureText(v6) : ''
    expect(text).toContain('-A KUBE-SEP-BBBB -p tcp -m tcp -j DNAT --to-destination [fd00:10:244::5]:8080')
    // Another Service's chain stays on the node.
    expect(text).not.toContain('KUBE-SVC-OTHER -')
    expect(notes[1]).toMatch(/^targeted IPv6 read \(legacy backend\): ip6tables-legacy loads/)
  })

  it('a small IPv6 KUBE-SERVICES, or none at all: nat and filter whole in the first round', async () => {
    const whole4 = {'iptables-save -t nat': {stdout: NAT}, 'iptables-save -t filter': {stdout: '*filter\nCOMMIT\n'}}
    const s = new LocalShellSession(node({...dualStackNode(), ...whole4}))
    const small = await readNodeDataplane(s, 'node-a', dualStackPlan)
    expect(s.channels).toBe(1)
    expect(small.captures.find((c) => c.kind === 'ip6tables-save')?.source).toBe(
      'node-a: ip6tables -S (targeted: nat, filter whole in 1 round; KUBE-SERVICES is small: nat and filter whole cost no more than listing chains)',
    )
    const none = {
      ...dualStackNode(),
      'ip6tables -w 5 -t nat -S KUBE-SERVICES': {stderr: 'ip6tables: No chain/target/match by that name.\n', exit: 1},
      'ip6tables-save -t nat': {stdout: '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'},
    }
    const {s: s2, v6} = await read(none)
    expect(s2.channels).toBe(1)
    expect(v6).toEqual({
      kind: 'ip6tables-save',
      text: '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n',
      source: 'node-a: ip6tables -S (targeted: nat, filter whole in 1 round; no nat KUBE-SERVICES: nat and filter read whole)',
    })
    // A node without ip6tables: no IPv6 rules read, and no error.
    const noTool = Object.fromEntries(Object.entries(dualStackNode()).filter(([line]) => !line.startsWith('ip6tables')))
    const {v4: only4, v6: no6} = await read(noTool)
    expect([only4?.kind, no6]).toEqual(['iptables-save', undefined])
  })

  it('the script holds ip6tables listings, its whole tables and its kept-chains filter, each an allow-listed line', () => {
    const c = compoundCommand(firstRound(dualStackPlan), false, 'ab'.repeat(12))
    const lines = compoundLines(c.script)
    expect(lines).toEqual(
      expect.arrayContaining(['ip6tables -V', 'ip6tables -w 5 -t nat -S KUBE-SVC-AAAA', 'ip6tables -w 5 -t filter -S INPUT', 'ip6tables-save -t nat']),
    )
    expect(c.script).toContain(
      'k keep6:nat "^([*]|COMMIT|:(KUBE-SERVICES|PREROUTING|KUBE-SVC-AAAA|KUBE-SEP-BBBB) |([[][0-9]+:[0-9]+] )?-A (KUBE-SERVICES|PREROUTING|KUBE-SVC-AAAA|KUBE-SEP-BBBB) )" ip6tables-save -t nat',
    )
    expect(compoundLines(c.script.replace('ip6tables -w 5 -t nat -S KUBE-SVC-AAAA', 'ip6tables -w 5 -t nat -S KUBE-SVC-AAAA -j ACCEPT'))).toBeUndefined()
    expect(compoundLines(compoundCommand(firstRound({...dualStackPlan, counters: true}), true, 'ab'.repeat(12)).script)).toEqual(
      expect.arrayContaining(['ip6tables -w 5 -t nat -S KUBE-SVC-AAAA -v', 'ip6tables-save -c -t nat']),
    )
  })
})

describe('dual-stack, nftables mode', () => {
  it("reads kube-proxy's ip6 table too and joins both listings into one ruleset", async () => {
    const table = (family: string) =>
      JSON.stringify({nftables: [{metainfo: {version: '1.0.6', json_schema_version: 1}}, {table: {family, name: 'kube-proxy', handle: 1}}]})
    const bin = node({
      'nft list chain ip kube-proxy services': {stdout: 'table ip kube-proxy {\n}\n'},
      'nft -j list table ip kube-proxy': {stdout: `${table('ip')}\n`},
      'nft list chain ip6 kube-proxy services': {stdout: 'table ip6 kube-proxy {\n}\n'},
      'nft -j list table ip6 kube-proxy': {stdout: `${table('ip6')}\n`},
    })
    const plan: CollectionPlan = {full: true, ipv6: true, chains: {nat: [], filter: []}, chains6: {nat: [], filter: []}, destinations: []}
    const nft = (await readNodeDataplane(new LocalShellSession(bin), 'node-a', plan)).captures.find((c) => c.kind === 'nft')
    expect(nft?.source).toBe('node-a: nft -j list table ip kube-proxy, table ip6 kube-proxy')
    const items = (JSON.parse(nft ? captureText(nft) : '{}') as {nftables: Array<Record<string, {family?: string}>>}).nftables
    expect(items.filter((i) => 'metainfo' in i)).toHaveLength(1)
    expect(items.flatMap((i) => (i.table ? [i.table.family] : []))).toEqual(['ip', 'ip6'])
  })

  it('a one-Service read of an IPv6 Service there: no ip6tables KUBE-SERVICES, its empty tables read whole in the same channel, still nftables mode', async () => {
    const nftJson = readFileSync(path.join(root, 'test/fixtures/healthy/nftables-clusterip-internal-local/nodes/test-node/nft.json'), 'utf8')
    const missing = {stderr: "ip6tables v1.8.9 (nf_tables): chain `KUBE-SERVICES' in table `nat' is incompatible, use 'nft' tool.\n", exit: 1}
    const bin = node({
      'iptables -V': {stdout: 'iptables v1.8.9 (nf_tables)\n'},
      'iptables -w 5 -t nat -S KUBE-SERVICES': {...missing, stderr: missing.stderr.replace('ip6tables', 'iptables')},
      'ip6tables -V': {stdout: 'ip6tables v1.8.9 (nf_tables)\n'},
      'ip6tables -w 5 -t nat -S KUBE-SERVICES': missing,
      'ip6tables-save -t nat': {stdout: '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'},
      'ip6tables-save -t filter': {stdout: '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'},
      'nft list chain ip kube-proxy services': {stdout: 'table ip kube-proxy {\n}\n'},
      'nft -j list table ip kube-proxy': {stdout: nftJson},
    })
    const s = new LocalShellSession(bin)
    const dp = await readNodeDataplane(s, 'node-a', dualStackPlan)
    expect(s.channels).toBe(1)
    expect(dp.captures.map((c) => c.kind).sort()).toEqual(['ip6tables-save', 'nft'])
    expect(openDataplane(dp).mode).toBe('nftables')
  })
})

describe('the script', () => {
  it('holds only allow-listed command lines, each after its step id', () => {
    const plan: CollectionPlan = {
      full: false,
      ipv6: false,
      chains: {nat: ['KUBE-SVC-AAAA', 'KUBE-SEP-BBBB'], filter: ['KUBE-FORWARD']},
      chains6: {nat: [], filter: []},
      destinations: [],
    }
    const c = compoundCommand(firstRound(plan), false, 'ab'.repeat(12))
    const lines = [...c.script.matchAll(/ [fg] ([A-Za-z0-9_:-]+) ([^;]+);| k ([A-Za-z0-9_:-]+) "[^"]+" ([^;]+);/g)].map((m) => [m[1] ?? m[3], m[2] ?? m[4]])
    expect(lines).toContainEqual(['nat:KUBE-SVC-AAAA', 'iptables -w 5 -t nat -S KUBE-SVC-AAAA'])
    expect(lines).toContainEqual(['filter:KUBE-FORWARD', 'iptables -w 5 -t filter -S KUBE-FORWARD'])
    expect(lines).toContainEqual(['whole:nat', 'iptables-save -t nat'])
    // A legacy node's filtered save: only the kept chains' lines leave the node.
    expect(c.script).toContain(
      'k keep:nat "^([*]|COMMIT|:(KUBE-SERVICES|KUBE-SVC-AAAA|KUBE-SEP-BBBB) |([[][0-9]+:[0-9]+] )?-A (KUBE-SERVICES|KUBE-SVC-AAAA|KUBE-SEP-BBBB) )" iptables-save -t nat',
    )
    expect(new Set(lines.map(([id]) => id)).size).toBe(c.steps.size)
    expect(c.script).not.toContain("'")
  })

  it('refuses step ids and branch texts outside their alphabets, and a command off the allow-list', () => {
    expect(() => compoundCommand([step('a;b', ['iptables-save'])], false)).toThrow(UnsafeArgumentError)
    expect(() => compoundCommand([step('a', ['iptables-save']), step('a', ['iptables-save', '-t', 'nat'])], false)).toThrow(UnsafeArgumentError)
    expect(() => compoundCommand([step('a', ['iptables-save', ';', 'reboot'])], false)).toThrow(UnsafeArgumentError)
    const quoted: BatchStep = {...step('v', ['iptables-save']), branches: [{when: {printed: ['"$(reboot)"']}, steps: []}]}
    expect(() => compoundCommand([quoted], false)).toThrow(UnsafeArgumentError)
  })

  it('a byte count that disagrees with what arrived, or a missing end marker, is no framing', () => {
    const n = 'cd'.repeat(12)
    const ok = Buffer.from(`${n} a\nhello\n${n} a 0 5\n`)
    expect(parseFramed(ok, `${n} a\n`, n).get('a')).toEqual({stdout: 'hello', stderr: '', exitCode: 0})
    expect(() => parseFramed(Buffer.from(`${n} a\nhello\n${n} a 0 9\n`), '', n)).toThrow(/printed 9 bytes but 5 arrived/)
    expect(() => parseFramed(Buffer.from(`${n} a\nhel`), '', n)).toThrow(/no end marker for a/)
    // Output that quotes another batch's marker is data, not a frame.
    const other = 'ef'.repeat(12)
    const quoting = Buffer.from(`${n} a\n${other} b 0 1\n\n${n} a 0 ${other.length + 7}\n`)
    expect(parseFramed(quoting, '', n).get('a')?.stdout).toBe(`${other} b 0 1\n`)
  })
})
