// The live trace end to end: the real `kubectl svctrace --via ssh` reads the API from the local fake API
// server and each node over SSH from real sshd in network namespaces (test/support/netns.ts, sshd.ts),
// each node with its own address, host key and kube-proxy rules loaded into its own netfilter:
//
//   node1, node2   the reference capture's rules (test/fixtures/two-node-iptables-v1.26), and in
//                  ip6tables the IPv6 rules of a dual-stack Service (dual/web)
//   node-stale     kube-proxy rules that still forward frontend to a deleted pod (GHOST_POD_IP)
//   node-empty     no rules at all (kube-proxy not running)
//   node-down      sshd stopped
//   node-rekeyed   host key changed after known_hosts was written
//
// Checked: the JSON report's nodes equal the trace of a bundle captured from the same namespaces (whole
// dumps in check mode, targeted reads for one Service); each broken node gives its finding or its error
// row and the rest still trace, with exit code 1, not 2; every command line sshd received is on the
// allow-list; hostile Service names, port names, annotations and flag values never reach a shell.
//
// Needs root, sshd, ssh-keygen, kubectl and openssl (see requireRoot): outside CI a missing prerequisite
// skips with a printed reason; with CI set it fails.
import {compoundLines} from '../support/compound.js'
import {existsSync, mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ALLOWED, type NodeCommandId} from '../../src/adapters/node/commands.js'
import type {NodeReport, Report} from '../../src/core/model.js'
import {pluginPath, type Run} from '../support/cli.js'
import {kubectlSvctraceAsync} from '../support/cli-async.js'
import {startFakeApiServer, type FakeApiServer} from '../support/fake-apiserver.js'
import {asList, GHOST_POD_IP, hostileWords, liveNodesCluster} from '../support/live-nodes-cluster.js'
import {attachTestProcessToLan, cleanupLeftovers, requireRoot, Topology, unusedTestSubnet} from '../support/netns.js'
import {generateClientKey, sshKeygenFingerprint, Sshd, tempDir, writeHashedKnownHosts, type ClientKey} from '../support/sshd.js'
import {defined, first} from '../support/defined.js'

const NODES = ['node1', 'node2', 'node-stale', 'node-empty', 'node-down', 'node-rekeyed'] as const
const EXTRA = ['node-stale', 'node-empty', 'node-down', 'node-rekeyed']
const READABLE = ['node-empty', 'node-stale', 'node1', 'node2']
type NodeName = (typeof NODES)[number]

const env = requireRoot(['sshd', 'ssh-keygen', 'kubectl', 'openssl'], 'live-nodes')

describe.skipIf(env.skip)('kubectl svctrace --via ssh against nodes in network namespaces', () => {
  let topo: Topology | undefined
  let work: ReturnType<typeof tempDir> | undefined
  let server: FakeApiServer | undefined
  let plugin: ReturnType<typeof pluginPath> | undefined
  const sshd = {} as Record<NodeName, Sshd>
  const ip = {} as Record<NodeName, string>
  let key: ClientKey
  let knownHosts: string
  let bundle: string
  let bundle6: string
  let oldFingerprint: string
  let marker: string

  const sshFlags = () => [
    '--via',
    'ssh',
    '--ssh-user',
    'root',
    '--ssh-key',
    key.privateKeyPath,
    '--known-hosts',
    knownHosts,
    '--connect-timeout',
    '5',
    '--node-timeout',
    '20',
  ]
  // A HOME without ~/.ssh, no agent: only what the flags say is used.
  const childEnv = () => ({KUBECONFIG: path.join(work!.dir, 'kubeconfig'), HOME: path.join(work!.dir, 'home'), SSH_AUTH_SOCK: undefined})
  const svctrace = (args: string[]): Promise<Run> => kubectlSvctraceAsync(plugin!.dir, args, childEnv())
  // A compound read arrives as one `sh -c '…'` line: its allow-listed command lines, or the line itself when it is not one.
  const expand = (line: string) => {
    const script = /^sh -c '(.*)'$/s.exec(line)?.[1]
    return script === undefined ? [line] : (compoundLines(script) ?? [line])
  }
  const commandsSent = () => Object.fromEntries(NODES.map((n) => [n, sshd[n].commands().flatMap(expand)])) as Record<NodeName, string[]>
  /** sshd's own count (LogLevel VERBOSE): logins, and exec channels ("Starting session" per channel). */
  const sshdCounts = () =>
    Object.fromEntries(
      NODES.map((n) => [
        n,
        {logins: (sshd[n].log.match(/Accepted publickey/g) ?? []).length, channels: (sshd[n].log.match(/Starting session:/g) ?? []).length},
      ]),
    ) as Record<NodeName, {logins: number; channels: number}>
  const sinceThen = (before: ReturnType<typeof sshdCounts>) => {
    const now = sshdCounts()
    return Object.fromEntries(
      (READABLE as NodeName[]).map((n) => [n, {logins: now[n].logins - before[n].logins, channels: now[n].channels - before[n].channels}]),
    )
  }

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    const subnet = await unusedTestSubnet()
    const prefix = subnet.split('.').slice(0, 3).join('.')
    NODES.forEach((n, i) => (ip[n] = `${prefix}.${11 + i}`))
    work = tempDir('live-nodes')
    mkdirSync(path.join(work.dir, 'home'))
    marker = path.join(tmpdir(), `svctrace-pwned-${process.pid}`)
    const cluster = liveNodesCluster(ip, EXTRA, marker)
    topo = await Topology.create(
      {lanCIDR: subnet, nodes: NODES.map((n, i) => ({name: n, ip: ip[n], podCIDR: `10.244.${i + 1}.0/24`})), pods: []},
      {label: 'live'},
    )
    // node-empty: a node without kube-proxy (only a rule of its own), so nothing answers for Services.
    const noKubeProxy = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'
    const rulesOf: Record<NodeName, string> = {
      ...cluster.rules,
      'node-empty': noKubeProxy,
      'node-down': cluster.rules.node1,
      'node-rekeyed': cluster.rules.node2,
    } as Record<NodeName, string>
    for (const n of NODES) await topo.loadRules(n, rulesOf[n])
    for (const [n, rules] of Object.entries(cluster.rules6)) await topo.exec(n, ['ip6tables-restore'], {input: rules})
    await attachTestProcessToLan(topo, `${prefix}.2`)
    key = await generateClientKey(work.dir, 'id_test')
    for (const n of NODES) sshd[n] = await Sshd.start(topo, {member: n, address: ip[n], authorizedKeys: [key.publicKey]})
    knownHosts = path.join(work.dir, 'known_hosts')
    await writeHashedKnownHosts(
      knownHosts,
      NODES.map((n) => `${ip[n]} ${sshd[n].hostPublicKey}`),
    )
    oldFingerprint = await sshKeygenFingerprint(work.dir, sshd['node-rekeyed'].hostPublicKey)
    await sshd['node-rekeyed'].regenerateHostKey()
    await sshd['node-down'].stop()

    // The reference: a bundle of the same API objects and what each readable node's own iptables-save prints.
    bundle = path.join(work.dir, 'bundle')
    mkdirSync(bundle)
    writeFileSync(path.join(bundle, 'cluster.json'), asList(cluster.view))
    for (const n of READABLE) {
      mkdirSync(path.join(bundle, 'nodes', n), {recursive: true})
      writeFileSync(path.join(bundle, 'nodes', n, 'iptables-save.txt'), await topo.saveRules(n))
    }
    // The dual-stack Service's reference: the same plus each node's IPv6 rules. Where ip6tables-save prints
    // no table (node-empty), what `ip6tables-save -t nat` and `-t filter` print (a table even when empty),
    // which is what a one-Service read takes when IPv6 has no KUBE-SERVICES.
    bundle6 = path.join(work.dir, 'bundle6')
    for (const n of READABLE) {
      mkdirSync(path.join(bundle6, 'nodes', n), {recursive: true})
      writeFileSync(path.join(bundle6, 'nodes', n, 'iptables-save.txt'), await topo.saveRules(n))
      const save6 = async (...args: string[]) => (await topo!.exec(n, ['ip6tables-save', ...args])).stdout
      const v6 = (await save6()).trim() !== '' ? await save6() : (await save6('-t', 'nat')) + (await save6('-t', 'filter'))
      writeFileSync(path.join(bundle6, 'nodes', n, 'ip6tables-save.txt'), v6)
    }
    writeFileSync(path.join(bundle6, 'cluster.json'), asList(cluster.view))
    server = await startFakeApiServer({view: cluster.view})
    writeFileSync(path.join(work.dir, 'kubeconfig'), server.kubeconfig({context: 'live', namespace: 'storefront'}))
    plugin = pluginPath()
  })

  afterAll(async () => {
    plugin?.remove()
    await server?.close()
    await Promise.all(Object.values(sshd).map((s) => s.destroy()))
    await topo?.destroy()
    work?.remove()
    rmSync(marker, {recursive: true, force: true})
    rmSync(`${marker}.d`, {recursive: true, force: true})
  })

  const byName = (r: Report) => Object.fromEntries(r.nodes.map((n) => [n.name, n]))
  /** The report's row for node `name`; fails the test when there is none. */
  const nodeOf = (r: Report, name: string) =>
    defined(
      r.nodes.find((n) => n.name === name),
      `node ${name} in the report`,
    )
  // A targeted read lists chains with `iptables -S`: same rules, other line numbers than a whole dump.
  // Rule lines differ between a targeted read and a full dump; the pod standing in as a client may too
  // (a live one-Service read lists only the Service's pods, never used as the client): what happens may not.
  const withoutLines = (n: NodeReport) => ({
    ...n,
    paths: n.paths.map(({source, sourcePod, sourceIsExample, ...p}) => ({
      ...p,
      ...(p.from === 'pod' ? {} : {source, sourcePod, sourceIsExample}),
      hops: p.hops.map((h) => ({...h, line: 0})),
    })),
  })

  function expectBrokenNodes(report: Report): void {
    expect(nodeOf(report, 'node-down').readError).toBe(
      `cannot connect to node-down (${ip['node-down']}:22): connection refused; is sshd running and port 22 open? (if nodes are reachable only through a jump host, pass --bastion user@host:port)`,
    )
    const rekeyed = nodeOf(report, 'node-rekeyed').readError ?? ''
    expect(rekeyed).toContain(`HOST KEY CHANGED for node-rekeyed (${ip['node-rekeyed']}:22) (expected ${oldFingerprint} (ssh-ed25519`)
    expect(rekeyed).toContain(`replace the old line with: ${ip['node-rekeyed']} ${sshd['node-rekeyed'].hostPublicKey}`)
    const unreadable = report.findings
      .filter((f) => f.id === 'node-unreadable')
      .map((f) => f.node)
      .sort()
    expect(unreadable).toEqual(['node-down', 'node-rekeyed'])
    expect(report.findings.find((f) => f.id === 'node-has-no-kube-proxy-rules')?.node).toBe('node-empty')
    expect(nodeOf(report, 'node-empty').mode).toBe('none')
    expect(sshd['node-rekeyed'].commands()).toEqual([])
  }

  it('one Service (targeted reads): the same paths as the bundle of the same nodes; broken nodes are rows, exit 1', async () => {
    const counts = sshdCounts()
    const live = await svctrace(['frontend', '-o', 'json', ...sshFlags()])
    // One SSH login and at most two exec channels per node (a second only for what the first revealed).
    for (const [n, c] of Object.entries(sinceThen(counts))) {
      expect(c.logins, n).toBe(1)
      expect(c.channels, n).toBeGreaterThanOrEqual(1)
      expect(c.channels, n).toBeLessThanOrEqual(2)
    }
    expect(live.stderr).toBe('')
    expect(live.code).toBe(1)
    const replay = await svctrace(['frontend', '-n', 'storefront', '-o', 'json', '--from', bundle])
    expect(replay.stderr).toBe('')
    const got = JSON.parse(live.stdout) as Report
    const want = JSON.parse(replay.stdout) as Report
    expect(got.nodes.map((n) => n.name)).toEqual([...NODES].sort())
    for (const n of READABLE) expect(withoutLines(nodeOf(got, n)), n).toEqual(withoutLines(nodeOf(want, n)))
    expect(nodeOf(got, 'node1').paths.length).toBeGreaterThan(0)
    expect(nodeOf(got, 'node1').mode).toBe('iptables')
    const stale = got.findings.filter((f) => f.id === 'stale-endpoint-rule')
    expect(stale.map((f) => f.node)).toEqual(stale.map(() => 'node-stale'))
    expect(stale.length).toBeGreaterThan(0)
    expect(first(stale).message).toContain(GHOST_POD_IP)
    expectBrokenNodes(got)
    // Targeted: no whole dump was taken on a node that has kube-proxy rules.
    expect(sshd.node1.commands().filter((l) => l.endsWith(' iptables-save'))).toEqual([])
    expect(sshd.node1.commands().some((l) => / iptables -w 5 -t nat -S KUBE-SVC-/.test(l))).toBe(true)
  })

  it('a dual-stack Service: both families chain by chain, still one login and at most two exec channels per node; the same paths as the bundle', async () => {
    const counts = sshdCounts()
    const sent = Object.fromEntries(NODES.map((n) => [n, sshd[n].commands().length]))
    const live = await svctrace(['web', '-n', 'dual', '-o', 'json', '-v', ...sshFlags()])
    for (const [n, c] of Object.entries(sinceThen(counts))) {
      expect(c.logins, n).toBe(1)
      expect(c.channels, n).toBeGreaterThanOrEqual(1)
      expect(c.channels, n).toBeLessThanOrEqual(2)
    }
    // -v says per family how node1 was read (both KUBE-SERVICES are small here: nat and filter whole).
    expect(live.stderr).toMatch(/node1.*targeted read \(nft backend\): KUBE-SERVICES is small/)
    expect(live.stderr).toMatch(/node1.*targeted IPv6 read \(nft backend\): KUBE-SERVICES is small/)
    const replay = await svctrace(['web', '-n', 'dual', '-o', 'json', '--from', bundle6])
    expect(replay.stderr).toBe('')
    const got = JSON.parse(live.stdout) as Report
    const want = JSON.parse(replay.stdout) as Report
    for (const n of READABLE) expect(withoutLines(nodeOf(got, n)), n).toEqual(withoutLines(nodeOf(want, n)))
    // node1 traces the IPv6 cluster IP to the IPv6 endpoints.
    const v6 = nodeOf(got, 'node1').paths.filter((p) => p.entry.destination.ip === 'fd00:10:96::77')
    expect(v6.map((p) => [p.verdict, p.backends.map((b) => b.ip).sort()])).toContainEqual(['dnat', ['fd00:10:244:1::77', 'fd00:10:244:2::77']])
    // The scripts ask ip6tables for the Service's own chains (the branch for a large KUBE-SERVICES), never for a whole ip6tables-save.
    const lines = sshd.node1.commands().slice(sent.node1).flatMap(expand)
    expect(lines.filter((l) => /^ip6tables-save( -c)?$/.test(l))).toEqual([])
    expect(lines.some((l) => /^ip6tables -w 5 -t nat -S KUBE-SVC-/.test(l))).toBe(true)
  })

  it('--counters: the iptables reads carry -v or -c, every backend on node1 carries its counters, the paths are unchanged', async () => {
    const before = sshd.node1.commands().length
    const live = await svctrace(['frontend', '-o', 'json', '--counters', ...sshFlags()])
    expect(live.stderr).toBe('')
    const sent = sshd.node1.commands().slice(before).flatMap(expand)
    // The node's own iptables reads (not -V, not the other backend's count): listings with -v, saves with -c.
    const reads = sent.filter((l) => /^iptables(-save)? /.test(l) && l !== 'iptables -V')
    expect(reads.length).toBeGreaterThan(0)
    for (const l of reads) expect(l).toMatch(/^iptables -w 5 -t (nat|filter) -S \S+ -v$|^iptables-save -c( -t (nat|filter))?$/)
    const got = JSON.parse(live.stdout) as Report
    const backends = nodeOf(got, 'node1').paths.flatMap((p) => p.backends)
    expect(backends.length).toBeGreaterThan(0)
    for (const b of backends) expect(b.counters, `${b.ip}:${b.port}`).toEqual({packets: expect.any(Number), bytes: expect.any(Number)})
    // Counters aside, the same report as without the flag.
    const plain = JSON.parse((await svctrace(['frontend', '-o', 'json', ...sshFlags()])).stdout) as Report
    const withoutCounters = (r: Report) => JSON.parse(JSON.stringify(nodeOf(r, 'node1'), (k, v) => (k === 'counters' ? undefined : v)))
    expect(withoutCounters(got)).toEqual(withoutCounters(plain))
  })

  it("check mode (whole dumps): every readable node equals the bundle's, line numbers included", async () => {
    const counts = sshdCounts()
    const live = await svctrace(['-n', 'storefront', '-o', 'json', ...sshFlags()])
    // A whole read is one SSH login and one exec channel per node.
    for (const [n, c] of Object.entries(sinceThen(counts))) expect(c, n).toEqual({logins: 1, channels: 1})
    expect(live.code).toBe(1)
    const replay = await svctrace(['-n', 'storefront', '-o', 'json', '--from', bundle])
    expect(replay.stderr).toBe('')
    const got = JSON.parse(live.stdout) as Report
    const want = JSON.parse(replay.stdout) as Report
    for (const n of READABLE) expect(byName(got)[n], n).toEqual(byName(want)[n])
    const nodeFindings = (r: Report) =>
      r.findings
        .filter((f) => f.node && READABLE.includes(f.node))
        .map((f) => `${f.id} ${f.node} ${f.service ?? ''}`)
        .sort()
    expect(nodeFindings(got)).toEqual(nodeFindings(want))
    expectBrokenNodes(got)
  })

  it('the table says which nodes could not be read and why, and traces the others', async () => {
    const r = await svctrace(['frontend', ...sshFlags()])
    expect(r.code).toBe(1)
    const flat = r.stdout.replace(/\s+/g, ' ')
    expect(flat).toMatch(/NODE node-down \(unknown\) not traced: cannot connect to node-down .*connection refused/)
    expect(flat).toMatch(/NODE node-rekeyed \(unknown\) not traced: HOST KEY CHANGED for node-rekeyed/)
    expect(r.stdout).toMatch(/^NODES? (?:[\w-]+, )*node1(?:, [\w-]+)* {2}\(iptables\)\n {2}ENTRY/m)
    expect(r.stdout).toContain('(stale-endpoint-rule)')
  })

  it('every command line the nodes received is on the allow-list', () => {
    const sent = commandsSent()
    const ids = new Set<string>()
    // Every compound line the nodes received was one svctrace builds: compoundLines accepted each.
    for (const n of NODES) for (const line of sshd[n].commands()) if (line.startsWith('sh -c ')) expect(expand(line), line).not.toEqual([line])
    for (const n of NODES) {
      for (const line of sent[n]) {
        const inner = /^env LC_ALL=C (.*)$/.exec(line)?.[1] ?? line
        const id = (Object.keys(ALLOWED) as NodeCommandId[]).find((k) => ALLOWED[k].test(inner))
        expect(id, `${n}: ${line}`).toBeDefined()
        ids.add(id!)
      }
    }
    expect(sent.node1.length).toBeGreaterThan(0)
    expect(sent['node-rekeyed']).toEqual([])
    expect([...ids]).toEqual(expect.arrayContaining(['iptables-save', 'iptables-list-chain', 'iptables-version']))
  })

  it('hostile Service names, port names and flag values never reach a shell', async () => {
    const words = hostileWords(marker)
    const before = commandsSent()
    // Check mode reads every Service of the namespace, the hostile ones too, with whole dumps; node-stale's
    // rules for the first carry the hostile port name in their comments.
    const check = await svctrace(['-n', 'storefront', '-o', 'json', ...sshFlags()])
    expect(check.stderr).toBe('')
    const report = JSON.parse(check.stdout) as Report
    expect(report.services.map((s) => s.name)).toEqual(expect.arrayContaining([words.serviceName, words.multiLineName]))
    const hostilePaths = nodeOf(report, 'node-stale').paths.filter((p) => p.entry.address === '10.96.66.66:80/TCP')
    expect(hostilePaths.length).toBeGreaterThan(0)
    expect(hostilePaths.some((p) => p.hops.some((h) => h.rule.includes(words.portName)))).toBe(true)
    const bad: [string, string][] = [
      ['--ssh-user', `root;touch ${marker}`],
      ['--ssh-host-template', `{name}$(touch ${marker})`],
      ['--bastion', `root@\`touch ${marker}\``],
      ['--nodes', `node1;touch ${marker}`],
      ['--ssh-key', `$(touch ${marker})`],
    ]
    for (const [flag, value] of bad) {
      const r = await svctrace(['frontend', ...sshFlags(), flag, value])
      expect(r.code, `${flag} ${value}`).toBe(2)
      expect(r.stderr, flag).toMatch(/^error: /)
      expect(r.stdout).toBe('')
    }
    const after = commandsSent()
    for (const n of NODES) {
      for (const line of after[n].slice(before[n].length)) {
        const inner = /^env LC_ALL=C (.*)$/.exec(line)?.[1] ?? line
        expect(
          (Object.keys(ALLOWED) as NodeCommandId[]).some((k) => ALLOWED[k].test(inner)),
          line,
        ).toBe(true)
        expect(line).not.toMatch(/touch|rm -rf|`|\$\(/)
      }
    }
    expect(existsSync(marker)).toBe(false)
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`svctrace-pwned-${process.pid}`))).toEqual([])
  })

  it('without --via the live run reads no node and says how to', async () => {
    const r = await svctrace(['frontend'])
    expect(r.stdout).toContain('EXPECTED — node rules not read; add --via exec or --via ssh to check them')
    const check = await svctrace(['-n', 'storefront'])
    expect(check.stdout.replace(/\s+/g, ' ')).toContain(
      "Node rules were not read (no --via): only the API objects were checked. To trace each node's kube-proxy rules add --via ssh --ssh-user USER",
    )
    expect(r.stderr).toBe('')
  })
})
