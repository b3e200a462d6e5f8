// Targeted collection against real iptables: kube-proxy rules loaded into network namespaces with the
// real iptables-restore, read back chain by chain with the real `iptables -S` (one `sh -c` compound
// command per round, as over SSH; one command at a time where the session cannot batch), and the trace
// of what was read held against the trace of the whole `iptables-save` of the same namespace. Needs root and iptables; elsewhere it is skipped with a printed reason, except with CI set.
import {spawn} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseClusterFile} from '../../src/adapters/bundle/cluster-file.js'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {nodeCommands, type NodeCommand} from '../../src/adapters/node/commands.js'
import {NodeAccessError, type NodeSession} from '../../src/adapters/node/connector.js'
import {readNodeDataplane} from '../../src/adapters/node/dataplane-reader.js'
import {captureOf, captureText} from '../../src/core/captures.js'
import {planCollection} from '../../src/core/collection-plan.js'
import type {ClusterView, Query, Report} from '../../src/core/model.js'
import {buildReport} from '../../src/core/report.js'
import {service, slice} from '../support/builders.js'
import {renderKubeProxyRestore} from '../support/kube-proxy-rules.js'
import {cleanupLeftovers, requireRoot, run} from '../support/netns.js'
import {namespaceWithRules, NetnsSession} from '../support/netns-session.js'
import {dataplane} from '../support/dataplane.js'
import {first} from '../support/defined.js'
import {indexCluster} from '../../src/core/cluster-index.js'

const env = requireRoot([], 'targeted-iptables')
const FIXTURE = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26/', import.meta.url))
const fixtureView = parseClusterFile(readFileSync(`${FIXTURE}cluster.yaml`, 'utf8'), 'cluster.yaml')
const dumpOf = (node: string) => readFileSync(`${FIXTURE}nodes/${node}/iptables-save.txt`, 'utf8')

/** The fixture cluster plus Service storefront/bulk with 1001 endpoints: kube-proxy then writes no per-endpoint comments. */
function largeClusterView(): ClusterView {
  const endpoints = Array.from({length: 1001}, (_, i) => ({ip: `10.250.${i >> 8}.${i & 255}`, node: 'node2', pod: null}))
  return {
    ...fixtureView,
    services: [...fixtureView.services, service({name: 'bulk', namespace: 'storefront', clusterIP: '10.96.99.99', selector: {app: 'bulk'}})],
    endpointSlices: [...fixtureView.endpointSlices, slice({service: 'bulk', namespace: 'storefront', endpoints})],
  }
}

/** node1's dump with a CNI portmap hook in nat PREROUTING: a chain the allow-list cannot name. */
function withPortmapHook(text: string): string {
  return text.replace(
    /^(\*nat\n(?::.*\n)*)/m,
    '$1:CNI-HOSTPORT-DNAT - [0:0]\n-A PREROUTING -m comment --comment "CNI portfwd requiring DNAT" -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT\n-A CNI-HOSTPORT-DNAT -p tcp -m tcp --dport 8081 -j DNAT --to-destination 10.244.1.50:80\n',
  )
}

/** Wraps a session to see how many commands were in flight at once. */
function watched(session: NodeSession): NodeSession & {peak: number} {
  let inFlight = 0
  const w = {
    peak: 0,
    async run(cmd: NodeCommand) {
      w.peak = Math.max(w.peak, ++inFlight)
      try {
        return await session.run(cmd)
      } finally {
        inFlight--
      }
    },
    close: () => session.close(),
  }
  return w
}

/** The report with hop line numbers zeroed (they count lines of different texts). */
function comparable(report: Report): unknown {
  return JSON.parse(JSON.stringify(report, (k, v) => (k === 'line' ? 0 : v)))
}

interface Compared {
  targeted: {source: string; bytes: number}
  fullBytes: number
  targetedReport: Report
  fullReport: Report
}

async function compare(session: NodeSession, view: ClusterView, node: string, service: string, listAlways = true): Promise<Compared> {
  const query: Query = {kind: 'service', namespace: 'storefront', service}
  const plan = planCollection(indexCluster(view), query)
  expect(plan.full).toBe(false)
  // The fixture's KUBE-SERVICES is small: 0 makes the read list chain by chain, as on a big node.
  const capture = captureOf(await readNodeDataplane(session, node, plan, undefined, listAlways ? 0 : undefined), 'iptables-save')
  const read = capture ? {source: capture.source, text: captureText(capture)} : undefined
  expect(read?.text, 'the namespace has nat KUBE-SERVICES').toMatch(/^:KUBE-SERVICES /m)
  const full = await session.run(nodeCommands.iptablesSave())
  const report = (text: string, source: string) => buildReport(query, view, [dataplane(node, {'iptables-save': text}, {'iptables-save': source})])
  return {
    targeted: {source: read!.source, bytes: Buffer.byteLength(read!.text)},
    fullBytes: Buffer.byteLength(full.stdout),
    targetedReport: report(read!.text, read!.source),
    fullReport: report(full.stdout, `${node}: iptables-save`),
  }
}

/** The first round's listings are all a node read asks of iptables, one chain each. */
const LISTING = /^iptables -w 5 -t (nat|filter) -S (KUBE-[A-Z0-9-]+|PREROUTING|INPUT|FORWARD|OUTPUT)$/

const verdicts = (r: Report) => new Set(r.nodes.flatMap((n) => n.paths.map((p) => p.verdict)))

describe.skipIf(env.skip)('readIptablesTargeted against real iptables', () => {
  const namespaces: Array<{netns: string; destroy(): Promise<void>}> = []
  const sessions = new Map<string, NetnsSession>()
  const large = largeClusterView()

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    const load = async (key: string, rules: string | undefined) => {
      const ns = await namespaceWithRules(key, rules)
      namespaces.push(ns)
      sessions.set(key, new NetnsSession(ns.netns))
    }
    await Promise.all([
      load('node1', dumpOf('node1')),
      load('node2', dumpOf('node2')),
      load('large', renderKubeProxyRestore(large, 'node2', {clusterCIDR: '10.244.0.0/16', nodeIPs: ['172.30.0.12']})),
      load('portmap', withPortmapHook(dumpOf('node1'))),
      load('empty', undefined),
    ])
  }, 120_000)

  afterAll(async () => {
    for (const ns of namespaces) await ns.destroy()
  })

  // frontend: ClusterIP, 3 endpoints; api: NodePort with externalTrafficPolicy Local (node1 has no local
  // endpoint: DROP); gateway: LoadBalancer with loadBalancerSourceRanges; cache: no endpoints (REJECT);
  // sessions: ClientIP affinity; metrics: a slice without ports; partner: manual Endpoints.
  describe.each(['node1', 'node2'])('%s, rules as kube-proxy v1.26 wrote them', (node) => {
    it.each(['frontend', 'api', 'gateway', 'cache', 'sessions', 'metrics', 'partner'])(
      '%s: the trace of the chains read equals the trace of iptables-save, from fewer bytes',
      async (svc) => {
        const session = new NetnsSession(sessions.get(node)!.netns)
        const c = await compare(session, fixtureView, node, svc)
        expect(comparable(c.targetedReport)).toEqual(comparable(c.fullReport))
        expect(c.targeted.source).toMatch(new RegExp(`^${node}: iptables -S \\(targeted: \\d+ chains(, nat whole)? in [12] rounds?(; .*)?\\)$`))
        // One compound command, and a second only for what the first revealed.
        expect(session.batches).toBeLessThanOrEqual(2)
        if (session.batches === 1) expect(c.targeted.bytes).toBeLessThan(c.fullBytes)
        // The same read one command at a time (a shell-less image) keeps at most 8 in flight.
        const apart = watched(new NetnsSession(sessions.get(node)!.netns))
        const d = await compare(apart, fixtureView, node, svc)
        expect(comparable(d.targetedReport)).toEqual(comparable(c.targetedReport))
        expect(apart.peak).toBeLessThanOrEqual(8)
      },
    )
  })

  it('covers what it claims: DNAT, REJECT for no endpoints, DROP for Local policy, source-range alternatives', async () => {
    const node1 = sessions.get('node1')!
    expect(verdicts((await compare(node1, fixtureView, 'node1', 'frontend')).targetedReport)).toEqual(new Set(['dnat']))
    expect(verdicts((await compare(node1, fixtureView, 'node1', 'cache')).targetedReport)).toEqual(new Set(['reject']))
    expect(verdicts((await compare(node1, fixtureView, 'node1', 'api')).targetedReport)).toContain('drop')
    const gateway = (await compare(sessions.get('node2')!, fixtureView, 'node2', 'gateway')).targetedReport
    expect(first(gateway.nodes).paths.some((p) => p.alternatives.some((a) => a.when.some((w) => w.includes('172.30.0.100'))))).toBe(true)
  })

  it('asks iptables only for its version, one chain per listing, and the other backend; each once', async () => {
    const session = new NetnsSession(sessions.get('node2')!.netns)
    await compare(session, fixtureView, 'node2', 'gateway')
    const ran = session.ran.slice(0, -1)
    const iptables = ran.filter((l) => /^iptables/.test(l))
    expect(iptables.filter((l) => !LISTING.test(l)).sort()).toEqual(['iptables -V', 'iptables-legacy-save'])
    expect(iptables.filter((l) => LISTING.test(l)).length).toBeGreaterThan(5)
    expect(new Set(ran).size).toBe(ran.length)
  })

  it('without rule comments (a Service with over 1000 endpoints in the cluster), reads the predicted chains in one round and a small part of the dump', async () => {
    const session = sessions.get('large')!
    const full = (await session.run(nodeCommands.iptablesSave())).stdout
    expect(full).toMatch(/^-A KUBE-SEP-\S+ -s 10\.250\.0\.1\/32 -j KUBE-MARK-MASQ$/m)
    for (const svc of ['frontend', 'gateway', 'cache']) {
      const c = await compare(session, large, 'node2', svc)
      expect(comparable(c.targetedReport), svc).toEqual(comparable(c.fullReport))
      expect(c.targeted.source, svc).toMatch(/in 1 round\)$/)
      expect(c.targeted.bytes * 10, svc).toBeLessThan(c.fullBytes)
    }
    // 1001 KUBE-SEP chains cost more commands than one whole dump.
    expect(planCollection(indexCluster(large), {kind: 'service', namespace: 'storefront', service: 'bulk'})).toMatchObject({
      full: true,
      reason: expect.stringMatching(/more than 400/),
    })
  })

  it('follows a rule the API does not predict (a stale KUBE-SEP for a pod the API no longer has) in a further round', async () => {
    const stale: ClusterView = {
      ...fixtureView,
      endpointSlices: fixtureView.endpointSlices.map((s) =>
        s.metadata?.labels?.['kubernetes.io/service-name'] !== 'frontend' ? s : {...s, endpoints: s.endpoints.filter((e) => e.addresses[0] !== '10.244.2.13')},
      ),
    }
    const session = new NetnsSession(sessions.get('node1')!.netns)
    const c = await compare(session, stale, 'node1', 'frontend')
    // The stale KUBE-SEP chain is listed in the second round.
    expect(c.targeted.source).toMatch(/in 2 rounds; listed \d+ chains? the API did not predict \(KUBE-SEP-/)
    expect(session.batches).toBe(2)
    // At this size a whole table costs no more: the first round reads nat and filter whole, and nothing is left.
    const small = new NetnsSession(sessions.get('node1')!.netns)
    const s = await compare(small, stale, 'node1', 'frontend', false)
    expect(s.targeted.source).toMatch(/targeted: nat, filter whole in 1 round; KUBE-SERVICES is small/)
    expect(small.batches).toBe(1)
    expect(comparable(s.targetedReport)).toEqual(comparable(c.targetedReport))
    expect(comparable(c.targetedReport)).toEqual(comparable(c.fullReport))
    expect(c.targetedReport.findings.map((f) => f.id)).toContain('stale-endpoint-rule')
  })

  it('an SSH-like session that rejects failed commands: missing chains are still just absent', async () => {
    const session = new NetnsSession(sessions.get('node1')!.netns, {rejectFailures: true})
    const c = await compare(session, fixtureView, 'node1', 'gateway')
    expect(comparable(c.targetedReport)).toEqual(comparable(c.fullReport))
  })

  it('reads nat whole when a rule on the path jumps to a chain the allow-list cannot name (CNI portmap), and only then', async () => {
    const session = sessions.get('portmap')!
    const api = await compare(session, fixtureView, 'node1', 'api')
    expect(api.targeted.source).toMatch(/nat read whole: rules jump to CNI-HOSTPORT-DNAT, a chain the allow-list does not list/)
    expect(comparable(api.targetedReport)).toEqual(comparable(api.fullReport))
    const frontend = await compare(session, fixtureView, 'node1', 'frontend')
    expect(frontend.targeted.source).not.toMatch(/read whole/)
    expect(comparable(frontend.targetedReport)).toEqual(comparable(frontend.fullReport))
  })

  it('rejects with NodeAccessError naming the node and the command when a listing fails for another reason', async () => {
    const plan = planCollection(indexCluster(fixtureView), {kind: 'service', namespace: 'storefront', service: 'frontend'})
    const broken = new NetnsSession(sessions.get('node1')!.netns, {argv: (argv) => (argv[0] === 'iptables' && argv[1] !== '-V' ? ['false'] : argv)})
    await expect(readNodeDataplane(broken, 'node1', plan)).rejects.toThrow(NodeAccessError)
    await expect(readNodeDataplane(broken, 'node1', plan)).rejects.toThrow(/`iptables -w 5 -t (nat|filter) -S [A-Z0-9-]+` exited with 1/)
  })

  it('a node without nat KUBE-SERVICES: no chain listed, its nat table shown instead', async () => {
    const plan = planCollection(indexCluster(fixtureView), {kind: 'service', namespace: 'storefront', service: 'frontend'})
    const session = new NetnsSession(sessions.get('empty')!.netns)
    const read = await readNodeDataplane(session, 'node9', plan)
    expect(read.captures.map((c) => [c.kind, c.source])).toEqual([['iptables-save', 'node9: iptables-save -t nat']])
    expect(session.batches).toBe(2)
  })
})

// IPv6: the dual-stack fixture's node-a rules (test/fixtures/dual-stack-iptables-v1.26) loaded with the real
// iptables-restore and ip6tables-restore (or their legacy backends), the IPv6 chains read back with the
// real `ip6tables -S` in the same compound commands as the IPv4 ones.
const DUAL = fileURLToPath(new URL('../fixtures/dual-stack-iptables-v1.26/', import.meta.url))
const dualDump = (file: string) => readFileSync(`${DUAL}nodes/node-a/${file}`, 'utf8')
const env6 = requireRoot(
  ['ip6tables', 'ip6tables-restore', 'ip6tables-save', 'ip6tables-legacy', 'ip6tables-legacy-restore', 'ip6tables-legacy-save'],
  'targeted-iptables IPv6',
)

describe.skipIf(env6.skip)('readIptablesTargeted: IPv6 against real ip6tables', () => {
  const namespaces: Array<{netns: string; destroy(): Promise<void>}> = []
  const ns = new Map<string, string>()
  let view: ClusterView
  const LEGACY6: Record<string, string> = {
    iptables: 'iptables-legacy',
    'iptables-save': 'iptables-legacy-save',
    ip6tables: 'ip6tables-legacy',
    'ip6tables-save': 'ip6tables-legacy-save',
  }

  beforeAll(async () => {
    env6.assert()
    await cleanupLeftovers()
    view = (await new BundleDir(DUAL).load()).view
    for (const backend of ['nft', 'legacy'] as const) {
      const suffix = backend === 'legacy' ? '-legacy' : ''
      const created = await namespaceWithRules(`dual-${backend}`, dualDump('iptables-save.txt'), `iptables${suffix}-restore`)
      namespaces.push(created)
      await run(['ip', 'netns', 'exec', created.netns, `ip6tables${suffix}-restore`], {input: dualDump('ip6tables-save.txt')})
      ns.set(backend, created.netns)
    }
  }, 120_000)

  afterAll(async () => {
    for (const n of namespaces) await n.destroy()
  })

  /** The targeted read of `service` against the whole iptables-save and ip6tables-save of the same namespace. */
  async function compare6(session: NetnsSession, service: string, v: ClusterView = view, smallBytes: number | undefined = 0) {
    const query: Query = {kind: 'service', namespace: 'default', service}
    const plan = planCollection(indexCluster(v), query)
    expect([plan.full, plan.ipv6]).toEqual([false, true])
    const notes: string[] = []
    const read = await readNodeDataplane(session, 'node-a', plan, (n) => notes.push(n), smallBytes)
    const v6 = captureOf(read, 'ip6tables-save')
    const whole = {
      'iptables-save': (await session.run(nodeCommands.iptablesSave())).stdout,
      'ip6tables-save': (await session.run(nodeCommands.ip6tablesSave())).stdout,
    }
    return {
      v6: {source: v6?.source ?? '', bytes: Buffer.byteLength(v6 ? captureText(v6) : '')},
      wholeBytes: Buffer.byteLength(whole['ip6tables-save']),
      notes,
      targetedReport: buildReport(query, v, [read]),
      fullReport: buildReport(query, v, [dataplane('node-a', whole)]),
    }
  }

  it.each(['web', 'api6', 'edge', 'empty6'])(
    '%s: the IPv6 chains read trace as ip6tables-save does, from fewer bytes, in one compound command',
    async (svc) => {
      const session = new NetnsSession(ns.get('nft')!)
      const c = await compare6(session, svc)
      expect(comparable(c.targetedReport)).toEqual(comparable(c.fullReport))
      expect(c.targetedReport.nodes[0]?.paths.some((p) => p.entry.destination.ip.includes(':'))).toBe(true)
      expect(c.v6.source).toMatch(/^node-a: ip6tables -S \(targeted: \d+ chains in 1 round\)$/)
      expect(c.v6.bytes).toBeLessThan(c.wholeBytes)
      expect(session.batches).toBe(1)
      expect(c.notes).toContain('targeted IPv6 read (nft backend): one round')
    },
  )

  it('follows a stale IPv6 KUBE-SEP (a pod the API no longer has) in a second compound command', async () => {
    const stale: ClusterView = {
      ...view,
      endpointSlices: view.endpointSlices.map((s) =>
        s.metadata?.name !== 'web-v6' ? s : {...s, endpoints: s.endpoints.filter((e) => e.addresses[0] !== 'fd00:10:244::5')},
      ),
    }
    const session = new NetnsSession(ns.get('nft')!)
    const c = await compare6(session, 'web', stale)
    expect(c.v6.source).toMatch(/in 2 rounds; listed 1 chain the API did not predict \(KUBE-SEP-/)
    expect(session.batches).toBe(2)
    expect(comparable(c.targetedReport)).toEqual(comparable(c.fullReport))
    expect(
      c.targetedReport.findings
        .filter((f) => f.id === 'stale-endpoint-rule')
        .map((f) => f.message)
        .join(),
    ).toContain('fd00:10:244::5')
  })

  it('ip6tables on the legacy backend (ip6tables -V says so): one ip6tables-save per table instead of listings, and the same trace', async () => {
    // argv rewritten to the legacy tools: the session runs the steps one by one, as in a distroless pod.
    const session = new NetnsSession(ns.get('legacy')!, {argv: ([p = '', ...rest]) => [LEGACY6[p] ?? p, ...rest]})
    const c = await compare6(session, 'web')
    expect(c.v6.source).toMatch(/^node-a: ip6tables -S \(targeted: \d+ chains in 1 round; ip6tables-legacy loads a whole table for each ip6tables -S CHAIN/)
    expect(
      session.ran
        .filter((l) => l.startsWith('ip6tables'))
        .slice(0, -1)
        .sort(),
    ).toEqual(['ip6tables -V', 'ip6tables-save -t filter', 'ip6tables-save -t nat'])
    expect(comparable(c.targetedReport)).toEqual(comparable(c.fullReport))
  })
})

// iptables-legacy lists a chain by loading the whole table under the xtables lock. A private lock file
// (XTABLES_LOCKFILE) held with flock stands for kube-proxy restoring its rules at that moment.
const legacyEnv = requireRoot(['iptables-legacy', 'iptables-legacy-restore', 'iptables-legacy-save', 'flock'], 'targeted-iptables legacy')
const LEGACY: Record<string, string> = {iptables: 'iptables-legacy', 'iptables-save': 'iptables-legacy-save'}

describe.skipIf(legacyEnv.skip)('readIptablesTargeted against iptables-legacy', () => {
  let ns: {netns: string; destroy(): Promise<void>} | undefined
  const lockFile = join(tmpdir(), `svct-${process.pid}-xtables.lock`)
  /** A node whose iptables is legacy; `versionSays` overrides what `iptables -V` reports. */
  const legacy = (netns: string, versionSays?: string) =>
    new NetnsSession(netns, {
      argv: ([p = '', ...rest]) => (versionSays && rest[0] === '-V' ? [versionSays, '-V'] : [LEGACY[p] ?? p, ...rest]),
      env: {XTABLES_LOCKFILE: lockFile},
    })

  beforeAll(async () => {
    legacyEnv.assert()
    ns = await namespaceWithRules('legacy', dumpOf('node1'), 'iptables-legacy-restore')
  })

  afterAll(async () => {
    await ns?.destroy()
    rmSync(lockFile, {force: true})
  })

  it('reads nat and filter with iptables-save when iptables -V says legacy (a listing would load the whole table anyway), and traces the same', async () => {
    const session = legacy(ns!.netns)
    const c = await compare(session, fixtureView, 'node1', 'gateway')
    const iptables = session.ran.slice(0, -1).filter((l) => /^iptables/.test(l))
    expect(iptables.sort()).toEqual(['iptables -V', 'iptables-nft-save', 'iptables-save -t filter', 'iptables-save -t nat'])
    expect(c.targeted.source).toMatch(
      /^node1: iptables -S \(targeted: \d+ chains in 1 round; iptables-legacy loads .* only these chains sent \(grep on the node\)\)$/,
    )
    expect(comparable(c.targetedReport)).toEqual(comparable(c.fullReport))
  })

  it('lists chain by chain when iptables -V does not say legacy and the lock is free', async () => {
    const c = await compare(legacy(ns!.netns, 'iptables-nft'), fixtureView, 'node1', 'gateway')
    expect(c.targeted.source).not.toMatch(/read whole/)
    expect(comparable(c.targetedReport)).toEqual(comparable(c.fullReport))
  })

  it('reads the tables whole when the xtables lock stays busy, and traces the same', async () => {
    const holder = spawn('flock', [lockFile, 'sleep', '60'], {stdio: 'ignore'})
    try {
      await new Promise((resolve) => setTimeout(resolve, 300))
      const c = await compare(legacy(ns!.netns, 'iptables-nft'), fixtureView, 'node1', 'gateway')
      expect(c.targeted.source).toMatch(/nat read whole: the xtables lock stayed busy/)
      expect(c.targeted.source).toMatch(/filter read whole: the xtables lock stayed busy/)
      expect(comparable(c.targetedReport)).toEqual(comparable(c.fullReport))
    } finally {
      holder.kill('SIGKILL')
    }
  }, 60_000)
})
