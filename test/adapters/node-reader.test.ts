// LiveNodeReader over a scripted connector: each node answers command lines from a table, failing the
// way SshSession fails (ssh/errors.ts builds the errors). What is read per mode, the backend check,
// the pool bound, the readError sentences, and close() in the middle of a read.
// The real thing over real sshd is test/integration/live-nodes.test.ts.
import {describe, expect, it} from 'vitest'
import type {CollectionPlan} from '../../src/core/collection-plan.js'
import {shellLine, type NodeCommand} from '../../src/adapters/node/commands.js'
import {NodeAccessError, type CommandResult, type FirstBatch, type NodeConnector, type NodeSession, type NodeTarget} from '../../src/adapters/node/connector.js'
import type {BatchStep} from '../../src/adapters/node/batch.js'
import {firstRound} from '../../src/adapters/node/dataplane-reader.js'
import {countKubeProxyRules} from '../../src/core/kube-proxy/other-backend.js'
import {BACKEND_MARKERS6, iptablesBackendOf} from '../../src/adapters/node/commands.js'
import {Limiter, LiveNodeReader, readErrorOf, type LiveNodeReaderOptions} from '../../src/adapters/node/reader.js'
import {commandError, commandTimeout} from '../../src/adapters/ssh/errors.js'
import {node, view} from '../support/builders.js'
import {captureText, dataplane} from '../support/dataplane.js'
import {at, defined, first} from '../support/defined.js'

const FULL: CollectionPlan = {full: true, ipv6: false, chains: {nat: [], filter: []}, chains6: {nat: [], filter: []}, destinations: []}
const TARGETED: CollectionPlan = {full: false, ipv6: false, chains: {nat: ['KUBE-SERVICES'], filter: []}, chains6: {nat: [], filter: []}, destinations: []}

const IPTABLES_DUMP = [
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':KUBE-SERVICES - [0:0]',
  ':KUBE-SVC-AAAA - [0:0]',
  '-A PREROUTING -j KUBE-SERVICES',
  '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 53 -j KUBE-SVC-AAAA',
  'COMMIT',
  '',
].join('\n')
const PROC_IP_VS =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  0A60000A:0035 rr\n  -> 0AF40102:0035      Masq    1      0          0\n'
const NFT_MISSING = 'Error: No such file or directory\nlist table ip kube-proxy\n                 ^^^^^^^^^^\n'

/** 'hang': no answer until the session is closed (then the connection is lost). */
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- the two special answers, spelled out
type Answer = string | {exit: number; stderr: string} | 'timeout' | 'hang'

/** A node: command line (without `env LC_ALL=C`) → what it prints, or how it fails. */
type Script = Record<string, Answer>

const notInstalled = (program: string): Answer => ({exit: 127, stderr: `sh: 1: ${program}: not found`})

class ScriptedSession implements NodeSession {
  readonly ran: string[] = []
  closed = false
  private readonly onClose: Array<() => void> = []

  constructor(
    private readonly node: string,
    private readonly script: Script,
    private readonly sudo: boolean,
  ) {}

  async run(cmd: NodeCommand): Promise<CommandResult> {
    const line = shellLine(cmd, this.sudo).replace(/^env LC_ALL=C (sudo -n )?/, '')
    this.ran.push(line)
    await new Promise((r) => setTimeout(r, 1))
    const a = this.script[line] ?? notInstalled(defined(cmd.argv[0], 'the program of the command'))
    if (a === 'hang' && !this.closed) await new Promise<void>((r) => this.onClose.push(r))
    if (this.closed) throw new NodeAccessError(`connection to ${this.node} lost`, 'unreachable')
    if (a === 'timeout') throw commandTimeout(this.node, cmd, 60_000)
    if (typeof a === 'string') return {stdout: a, stderr: '', exitCode: 0}
    throw commandError(this.node, cmd, this.sudo, a.exit, a.stderr)
  }

  async close(): Promise<void> {
    this.closed = true
    this.onClose.splice(0).forEach((r) => r())
  }
}

class ScriptedConnector implements NodeConnector {
  readonly description = 'scripted'
  readonly sessions: ScriptedSession[] = []
  readonly targets: NodeTarget[] = []
  open = 0
  maxOpen = 0

  constructor(
    private readonly scripts: Record<string, Script | NodeAccessError>,
    private readonly opts: {sudo?: boolean; connectDelayMs?: number} = {},
  ) {}

  /** Per connection, the first batch's steps as the connection found them when it was ready. */
  readonly firstAtReady: (readonly BatchStep[] | undefined)[] = []

  async connect(target: NodeTarget, first?: FirstBatch): Promise<NodeSession> {
    this.targets.push(target)
    this.open++
    this.maxOpen = Math.max(this.maxOpen, this.open)
    await new Promise((r) => setTimeout(r, this.opts.connectDelayMs ?? 1))
    this.firstAtReady.push(first?.steps)
    const script = this.scripts[target.name] ?? {}
    if (script instanceof NodeAccessError) {
      this.open--
      throw script
    }
    const s = new ScriptedSession(target.name, script, this.opts.sudo ?? false)
    const close = s.close.bind(s)
    s.close = async () => {
      if (!s.closed) this.open--
      await close()
    }
    this.sessions.push(s)
    return s
  }
}

function reader(connector: NodeConnector, opts: Partial<LiveNodeReaderOptions> = {}): LiveNodeReader {
  return new LiveNodeReader(connector, {via: 'ssh', ...opts})
}

const cluster = (names: string[]) => view({nodes: names.map((name, i) => node({name, ip: `192.0.2.${i + 1}`}))})

describe('what is read from a node', () => {
  it('whole dumps on an iptables node: iptables-save, the other backend counted, nft and IPVS probed', async () => {
    const legacy =
      '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\n-A KUBE-POSTROUTING -j MASQUERADE\n-A KUBE-SERVICES -j KUBE-SVC-OLD\n-A KUBE-SEP-OLD -j DNAT --to-destination 10.244.1.9:80\nCOMMIT\n*filter\n-A KUBE-SERVICES -j REJECT\nCOMMIT\n'
    const c = new ScriptedConnector({
      a: {
        'iptables-save': IPTABLES_DUMP,
        'iptables -V': 'iptables v1.8.9 (nf_tables)\n',
        'iptables-legacy-save': legacy,
        'nft list chain ip kube-proxy services': {exit: 1, stderr: NFT_MISSING},
        'cat /proc/net/ip_vs': {exit: 1, stderr: 'cat: /proc/net/ip_vs: No such file or directory'},
      },
    })
    const r = reader(c)
    await r.nodeNames(cluster(['a']))
    const dp = await r.read('a', FULL)
    expect(dp).toEqual(
      dataplane(
        'a',
        {'iptables-save': IPTABLES_DUMP},
        {'iptables-save': 'a: iptables-save'},
        {otherIptablesBackend: {backend: 'legacy', kubeRules: 2, source: 'a: iptables-legacy-save'}},
      ),
    )
    // This session cannot batch: the steps run one by one, the probes at once, so only the set is fixed.
    expect(first(c.sessions).ran.sort()).toEqual([
      'cat /proc/net/ip_vs',
      'iptables -V',
      'iptables-legacy-save',
      'iptables-save',
      'nft list chain ip kube-proxy services',
    ])
    expect(c.targets).toEqual([{name: 'a', address: '192.0.2.1'}])
    expect(first(c.sessions).closed).toBe(true)
  })

  it('targeted on a legacy iptables node: the planned chains out of iptables-save -t nat, never a whole iptables-save; nft and IPVS probed', async () => {
    const c = new ScriptedConnector({a: {'iptables -V': 'iptables v1.8.7 (legacy)', 'iptables-save -t nat': IPTABLES_DUMP, 'iptables-nft-save': '# empty\n'}})
    const r = reader(c)
    await r.nodeNames(cluster(['a']))
    const dp = await r.read('a', TARGETED)
    // TARGETED plans nat KUBE-SERVICES only: that chain, as the node has it.
    const kept = '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 53 -j KUBE-SVC-AAAA\nCOMMIT\n'
    const source =
      'a: iptables -S (targeted: 1 chain in 1 round; iptables-legacy loads a whole table for each iptables -S CHAIN: one iptables-save per table, only these chains sent (grep on the node))'
    expect(dp).toEqual(
      dataplane(
        'a',
        {'iptables-save': kept},
        {'iptables-save': source},
        {otherIptablesBackend: {backend: 'nft', kubeRules: 0, source: 'a: iptables-nft-save'}},
      ),
    )
    expect(first(c.sessions).ran.sort()).toEqual([
      'cat /proc/net/ip_vs',
      'iptables -V',
      'iptables-nft-save',
      'iptables-save -t nat',
      'nft list chain ip kube-proxy services',
    ])
  })

  it("rules only in the backend the node's iptables does not use: that backend is traced", async () => {
    const c = new ScriptedConnector({
      a: {'iptables-save': '', 'iptables -V': 'iptables v1.8.7 (legacy)', 'iptables-nft-save': IPTABLES_DUMP, 'cat /proc/net/ip_vs': ''},
    })
    const r = reader(c)
    await r.nodeNames(cluster(['a']))
    const dp = await r.read('a', FULL)
    expect(dp.captures).toEqual([{kind: 'iptables-save', text: IPTABLES_DUMP, source: 'a: iptables-nft-save'}])
    expect(dp.otherIptablesBackend).toEqual({backend: 'legacy', kubeRules: 0, source: 'a: iptables-save'})
  })

  it('IPVS: KUBE-SERVICES dispatching to ipsets brings the IPVS table; /proc/net/ip_vs when ipvsadm is missing', async () => {
    const c = new ScriptedConnector({a: {'cat /proc/net/ip_vs': PROC_IP_VS, 'ipset save': 'create KUBE-CLUSTER-IP hash:ip,port\n'}})
    const r = reader(c)
    await r.nodeNames(cluster(['a']))
    const dp = await r.read('a', TARGETED)
    expect(dp.captures.find((x) => x.kind === 'proc-ip-vs')).toEqual({kind: 'proc-ip-vs', text: PROC_IP_VS, source: 'a: /proc/net/ip_vs'})
    expect(captureText(dp, 'ipvsadm')).toBeUndefined()
    expect(captureText(dp, 'ipset')).toContain('KUBE-CLUSTER-IP')
    expect(first(c.sessions).ran.sort()).toEqual([
      'cat /proc/net/ip_vs',
      'ipset save',
      'iptables -V',
      'iptables -w 5 -t nat -S KUBE-SERVICES',
      'iptables-legacy-save',
      'ipvsadm -S -n',
      'nft list chain ip kube-proxy services',
    ])
  })

  it("nftables mode: no KUBE-SERVICES, so kube-proxy's nft table is read", async () => {
    const c = new ScriptedConnector({
      a: {
        'nft list chain ip kube-proxy services': 'table ip kube-proxy {\n\tchain services {\n\t}\n}\n',
        'nft -j list table ip kube-proxy': '{"nftables": []}',
        'cat /proc/net/ip_vs': '',
      },
    })
    const r = reader(c)
    await r.nodeNames(cluster(['a']))
    const dp = await r.read('a', TARGETED)
    expect(dp).toEqual(dataplane('a', {nft: '{"nftables": []}'}, {nft: 'a: nft -j list table ip kube-proxy'}))
  })

  it('no kube-proxy rules at all: the whole dump is read to show what is there instead', async () => {
    const cilium = '*filter\n:CILIUM_INPUT - [0:0]\nCOMMIT\n*nat\n:CILIUM_PRE_nat - [0:0]\nCOMMIT\n'
    const c = new ScriptedConnector({
      a: {
        'iptables -V': 'iptables v1.8.9 (nf_tables)\n',
        'iptables -w 5 -t nat -S KUBE-SERVICES': {exit: 1, stderr: 'iptables: No chain/target/match by that name.\n'},
        'iptables-save': cilium,
        'nft list chain ip kube-proxy services': {exit: 1, stderr: NFT_MISSING},
      },
    })
    const r = reader(c)
    await r.nodeNames(cluster(['a']))
    expect(await r.read('a', TARGETED)).toEqual(dataplane('a', {'iptables-save': cilium}, {'iptables-save': 'a: iptables-save'}))
  })

  it('iptables-save prints no table at all: the empty nat table is listed instead', async () => {
    const nat = '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'
    const c = new ScriptedConnector({a: {'iptables-save': '', 'iptables-save -t nat': nat}})
    const r = reader(c)
    await r.nodeNames(cluster(['a']))
    expect(await r.read('a', FULL)).toEqual(dataplane('a', {'iptables-save': nat}, {'iptables-save': 'a: iptables-save -t nat'}))
    expect(first(c.sessions).ran.filter((l) => l.startsWith('iptables-save'))).toEqual(['iptables-save', 'iptables-save -t nat'])
  })

  it('counts only kube-proxy Service rules of nat, and reads the backend from iptables -V', () => {
    expect(
      countKubeProxyRules('*filter\n-A KUBE-SERVICES -j X\nCOMMIT\n*nat\n-A KUBE-MARK-DROP -j MARK\n-A KUBE-NODEPORTS -j X\n-A KUBE-SVC-X -j Y\nCOMMIT\n'),
    ).toBe(2)
    expect(iptablesBackendOf('iptables v1.8.9 (nf_tables)')).toBe('nft')
    expect(iptablesBackendOf('iptables v1.8.4 (legacy)')).toBe('legacy')
    // Before 1.8 there was only the legacy backend.
    expect(iptablesBackendOf('iptables v1.4.21')).toBe('legacy')
    expect(iptablesBackendOf('sh: iptables: not found')).toBeUndefined()
    // ip6tables -V names itself: its old versions are legacy by their own name.
    expect(iptablesBackendOf('ip6tables v1.8.9 (nf_tables)', BACKEND_MARKERS6)).toBe('nft')
    expect(iptablesBackendOf('ip6tables v1.8.7 (legacy)', BACKEND_MARKERS6)).toBe('legacy')
    expect(iptablesBackendOf('ip6tables v1.4.21', BACKEND_MARKERS6)).toBe('legacy')
    expect(iptablesBackendOf('ip6tables v1.4.21')).toBeUndefined()
  })
})

describe('failures become one sentence per node; the other nodes are read', () => {
  it('each kind names its cause and the next step', async () => {
    const hostKey = new NodeAccessError(
      'HOST KEY CHANGED for c (192.0.2.3:22) (expected SHA256:x, got SHA256:y): possible man-in-the-middle; nothing was run. If the node was rebuilt, … replace the old line with: 192.0.2.3 ssh-ed25519 AAAA',
      'host-key',
    )
    const c = new ScriptedConnector(
      {
        a: {'iptables-save': IPTABLES_DUMP},
        b: {'iptables-save': {exit: 1, stderr: 'sudo: a password is required'}},
        c: hostKey,
        d: {'iptables-save': 'timeout'},
        e: {},
      },
      {sudo: true},
    )
    const r = reader(c)
    await r.nodeNames(cluster(['a', 'b', 'c', 'd', 'e']))
    const got = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => r.read(n, FULL)))
    expect(first(got).readError).toBeUndefined()
    expect(at(got, 1).readError).toMatch(
      /^--sudo needs passwordless sudo for iptables-save on b \(sudo: a password is required\): sudo -n cannot ask for a password\. Allow these read-only commands without one \(sudoers: USER ALL=\(root\) NOPASSWD: \/usr\/sbin\/iptables-save, .*\), or log in as root \(--ssh-user root\) without --sudo$/,
    )
    expect(at(got, 2).readError).toBe(hostKey.message)
    expect(at(got, 3).readError).toBe('`iptables-save` on d did not finish within 60 s; the node may be overloaded; raise --node-timeout (seconds per command)')
    expect(at(got, 4).readError).toBe(
      'e has none of iptables-save, nft (table ip kube-proxy) or IPVS state: is kube-proxy running there, and are the iptables tools installed?',
    )
  })

  it('a Node without the asked address is not dialled', async () => {
    const c = new ScriptedConnector({})
    const r = reader(c, {addressType: 'ExternalIP'})
    await r.nodeNames(cluster(['a']))
    const dp = await r.read('a', FULL)
    expect(dp.readError).toBe(
      "cannot reach a: its Node object has no ExternalIP address (status.addresses: InternalIP 192.0.2.1, Hostname a); pick another with --ssh-address-type, or name hosts with --ssh-host-template '{name}.example.com'",
    )
    expect(c.targets).toEqual([])
  })

  it.each([
    [
      'unreachable',
      'cannot connect to a (192.0.2.1:22): connection refused; is sshd running and port 22 open?',
      'ssh',
      ' (if nodes are reachable only through a jump host, pass --bastion user@host:port)',
    ],
    [
      'timeout',
      'no SSH answer from a (192.0.2.1:22) within 10 s; is the node up and port 22 reachable from here?',
      'ssh',
      ' (raise --connect-timeout if the network is slow)',
    ],
    ['auth', 'ssh as root@192.0.2.1: authentication failed (tried: ~/.ssh/id_ed25519); pass --ssh-key or --ssh-user', 'ssh', ''],
    [
      'too-large',
      '`iptables-save` on a printed more than 256 MiB; stopped reading and closed the channel',
      'exec',
      ': capture that node on the node itself (iptables-save > nodes/NODE/iptables-save.txt with cluster.yaml beside it) and trace it with --from DIR',
    ],
  ] as const)('%s', (kind, message, via, hint) => {
    expect(readErrorOf(new NodeAccessError(message, kind), via)).toBe(message + hint)
  })
})

describe('bounded concurrency and close()', () => {
  it('never more than --parallel nodes at once, and every node is read', async () => {
    const names = Array.from({length: 25}, (_, i) => `n${String(i).padStart(2, '0')}`)
    const c = new ScriptedConnector(Object.fromEntries(names.map((n) => [n, {'iptables-save': IPTABLES_DUMP}])), {connectDelayMs: 5})
    const progress: string[] = []
    const r = reader(c, {parallel: 3, onProgress: (d, t) => progress.push(`${d}/${t}`)})
    expect(await r.nodeNames(cluster([...names].reverse()))).toEqual(names)
    const got = await Promise.all(names.map((n) => r.read(n, FULL)))
    expect(got.map((d) => d.name)).toEqual(names)
    expect(got.every((d) => captureText(d, 'iptables-save') === IPTABLES_DUMP)).toBe(true)
    expect(c.maxOpen).toBe(3)
    expect(progress.at(-1)).toBe('25/25')
  })

  it('the pool hands slots over in order and never exceeds its size', async () => {
    const pool = new Limiter(2)
    let active = 0
    let peak = 0
    const order: number[] = []
    await Promise.all(
      Array.from({length: 10}, (_, i) =>
        pool.run(async () => {
          active++
          peak = Math.max(peak, active)
          await new Promise((r) => setTimeout(r, 2))
          order.push(i)
          active--
        }),
      ),
    )
    expect(peak).toBe(2)
    expect(order).toHaveLength(10)
    expect(() => new Limiter(0)).toThrow(RangeError)
  })

  it('nodesListed() connects to the first --parallel nodes to be read while the API read goes on; read() takes that connection', async () => {
    const names = ['c', 'a', 'b', 'd']
    const c = new ScriptedConnector(Object.fromEntries(names.map((n) => [n, {'iptables-save': IPTABLES_DUMP}])))
    const r = reader(c, {parallel: 2})
    r.nodesListed(cluster(names).nodes, [])
    // Connected before the node names are asked for or anything is read: a and b, as read() will start.
    expect(c.targets.map((t) => t.name)).toEqual(['a', 'b'])
    const got = await Promise.all((await r.nodeNames(cluster(names))).map((n) => r.read(n, FULL)))
    expect(got.every((d) => captureText(d, 'iptables-save') === IPTABLES_DUMP)).toBe(true)
    // One connection per node: a and b's made ahead, c and d's when their turn came.
    expect(c.targets.map((t) => t.name).sort()).toEqual(['a', 'b', 'c', 'd'])
    expect(c.sessions.every((s) => s.closed)).toBe(true)
  })

  it('read() hands each connection its first batch once it has the plan: one made ahead gets it while it is still logging in', async () => {
    const c = new ScriptedConnector({a: {'iptables-save': IPTABLES_DUMP}, b: {'iptables-save': IPTABLES_DUMP}}, {connectDelayMs: 30})
    const r = reader(c, {parallel: 1})
    r.nodesListed(cluster(['a', 'b']).nodes, [])
    // a's connection is made ahead (before any plan), b's when its turn comes (plan known).
    await Promise.all((await r.nodeNames(cluster(['a', 'b']))).map((n) => r.read(n, TARGETED)))
    expect(c.targets.map((t) => t.name)).toEqual(['a', 'b'])
    expect(c.firstAtReady).toEqual([firstRound(TARGETED), firstRound(TARGETED)])
    expect(firstRound(TARGETED).length).toBeGreaterThan(0)
  })

  it('nodesListed() with nodes named: only those; close() ends a connection made ahead that read() never took', async () => {
    const c = new ScriptedConnector({a: {}, b: {}, c: {}})
    const r = reader(c)
    r.nodesListed(cluster(['a', 'b', 'c']).nodes, ['c', 'nosuch'])
    expect(c.targets.map((t) => t.name)).toEqual(['c'])
    await r.close()
    for (let i = 0; i < 100 && !c.sessions[0]?.closed; i++) await new Promise((res) => setTimeout(res, 2))
    expect(c.sessions.map((s) => s.closed)).toEqual([true])
  })

  it('close() ends open sessions; reads in flight and queued come back as interrupted', async () => {
    const names = ['a', 'b', 'c']
    const c = new ScriptedConnector(Object.fromEntries(names.map((n) => [n, {'iptables -V': 'iptables v1.8.9 (nf_tables)', 'iptables-save': 'hang'}])))
    const r = reader(c, {parallel: 1})
    await r.nodeNames(cluster(names))
    const reads = Promise.all(names.map((n) => r.read(n, FULL)))
    // Close once the first node is inside its (never answered) iptables-save; the others are queued.
    for (let i = 0; i < 500 && !c.sessions[0]?.ran.includes('iptables-save'); i++) await new Promise((res) => setTimeout(res, 2))
    expect(c.sessions).toHaveLength(1)
    await r.close()
    const got = await reads
    expect(got.map((d) => d.readError)).toEqual(names.map((n) => `${n} was not read: the run was interrupted`))
    expect(c.sessions.every((s) => s.closed)).toBe(true)
  })
})
