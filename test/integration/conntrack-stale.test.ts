// Stale conntrack entries with real traffic: a network namespace stands for node1 of
// test/fixtures/conntrack-stale-dns, holding the rules kube-proxy v1.26 writes for that cluster (loaded
// with the real iptables-restore), a UDP echo at the new CoreDNS address 10.244.2.7:53 and a client
// address 10.244.1.11 (a frontend pod's). While kube-dns's endpoint is the old pod 10.244.1.5 (gone:
// nothing answers there), the client sends from some source ports; then the rules move to 10.244.2.7,
// as kube-proxy rewrites them, without touching conntrack. Real packets show the classic: the old
// source ports still go to the old pod, new ones are answered. svctrace reads `conntrack -L -d VIP`
// through the node reader, flags the stale entries with their count and the `conntrack -D` command;
// that command, run in the namespace, clears exactly them, and the old ports are answered again.
//
// UPDATE_FIXTURE=1 writes what was read into test/fixtures/conntrack-stale-dns and
// conntrack-dns-healthy (nodes/node1/iptables-save.txt and conntrack.txt). Needs root, iptables and
// conntrack; elsewhere it is skipped with a printed reason, except with CI set.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parseClusterFile} from '../../src/adapters/bundle/cluster-file.js'
import {readNodeDataplane} from '../../src/adapters/node/dataplane-reader.js'
import {captureOf, captureText} from '../../src/core/captures.js'
import {indexCluster} from '../../src/core/cluster-index.js'
import {planCollection} from '../../src/core/collection-plan.js'
import {parseConntrack} from '../../src/core/conntrack/parse.js'
import type {ClusterView, NodeDataplane, Query} from '../../src/core/model.js'
import {buildReport} from '../../src/core/report.js'
import {renderKubeProxyRestore} from '../support/kube-proxy-rules.js'
import {cleanupLeftovers, requireRoot, run, which} from '../support/netns.js'
import {namespaceWithRules, NetnsSession} from '../support/netns-session.js'
import {defined, only} from '../support/defined.js'

const env = requireRoot(['conntrack'], 'conntrack-stale')
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url))
const UDP = fileURLToPath(new URL('../support/netns-udp.mjs', import.meta.url))
const after = parseClusterFile(readFileSync(`${FIXTURES}conntrack-stale-dns/cluster.yaml`, 'utf8'), 'cluster.yaml')
const QUERY: Query = {kind: 'service', service: 'kube-dns', namespace: 'kube-system'}
const RULES = {clusterCIDR: '10.244.0.0/16', nodeIPs: ['172.30.0.11']}
const VIP = '10.96.0.10'
const OLD = '10.244.1.5'
const NEW = '10.244.2.7'
const CLIENT = '10.244.1.11'
const OLD_PORTS = [41001, 41002, 41003, 41004, 41005, 41006]
const NEW_PORTS = [42001, 42002, 42003, 42004]

/** The same cluster before the move: kube-dns's one endpoint is the old CoreDNS pod on node1. */
function beforeMove(view: ClusterView): ClusterView {
  const endpointSlices = view.endpointSlices.map((s) =>
    s.metadata?.name === 'kube-dns-7wq2x'
      ? {...s, endpoints: s.endpoints.map((e) => ({...e, addresses: [OLD], nodeName: 'node1', targetRef: {...e.targetRef, name: 'coredns-5d78c9869d-7xk9q'}}))}
      : s,
  )
  return {...view, endpointSlices}
}

describe.skipIf(env.skip)('stale conntrack entries after CoreDNS moved, with real UDP traffic', () => {
  let netns = ''
  let destroy: (() => Promise<unknown>) | undefined
  let echo: ChildProcess | undefined

  const inNs = (argv: string[], input?: string) => run(['ip', 'netns', 'exec', netns, ...argv], input === undefined ? {} : {input})
  /** Sends one datagram from each port to the VIP and says which got an answer. */
  const send = async (sourcePorts: number[]): Promise<number[]> => {
    const cfg = JSON.stringify({dst: VIP, port: 53, from: CLIENT, sourcePorts, waitMs: 400})
    const {stdout} = await inNs([process.execPath, UDP, 'send', cfg])
    return (JSON.parse(stdout) as {answered: number[]}).answered
  }
  const readNode = async (): Promise<{dp: NodeDataplane; session: NetnsSession}> => {
    const session = new NetnsSession(netns)
    const plan = planCollection(indexCluster(after), QUERY, {conntrack: true})
    return {dp: await readNodeDataplane(session, 'node1', plan), session}
  }
  const writeFixture = async (name: string, dp: NodeDataplane) => {
    const dir = `${FIXTURES}${name}/nodes/node1`
    mkdirSync(dir, {recursive: true})
    writeFileSync(`${dir}/iptables-save.txt`, (await inNs(['iptables-save'])).stdout)
    writeFileSync(`${dir}/conntrack.txt`, captureText(defined(captureOf(dp, 'conntrack'), 'the conntrack capture')))
  }

  beforeAll(async () => {
    env.assert()
    await cleanupLeftovers()
    const made = await namespaceWithRules('ct-node1', renderKubeProxyRestore(beforeMove(after), 'node1', RULES))
    netns = made.netns
    destroy = () => made.destroy()
    // The client's address on a veth whose far end nobody answers on (the old pod is gone); the new
    // CoreDNS address is local, so the echo answers what the DNAT sends there.
    for (const argv of [
      ['link', 'set', 'lo', 'up'],
      ['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
      ['link', 'set', 'v0', 'up'],
      ['link', 'set', 'v1', 'up'],
      ['addr', 'add', `${CLIENT}/32`, 'dev', 'v0'],
      ['addr', 'add', `${NEW}/32`, 'dev', 'lo'],
      ['route', 'add', '10.244.0.0/16', 'dev', 'v0', 'src', CLIENT],
      ['route', 'add', '10.96.0.0/16', 'dev', 'v0', 'src', CLIENT],
    ])
      await run(['ip', '-n', netns, ...argv])
    const child = spawn(which('ip') ?? 'ip', ['netns', 'exec', netns, process.execPath, UDP, 'echo', JSON.stringify({host: NEW, port: 53, ttlMs: 120_000})], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    echo = child
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the UDP echo did not start within 10 s')), 10_000)
      child.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('READY')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.on('exit', (code) => reject(new Error(`the UDP echo exited with ${code}`)))
    })
  })

  afterAll(async () => {
    if (echo?.pid && echo.exitCode === null) process.kill(echo.pid, 'SIGTERM')
    await destroy?.()
  })

  it('the old source ports keep going to the old pod after the rules moved; new ones are answered', async () => {
    expect(await send(OLD_PORTS)).toEqual([])
    // kube-proxy's rewrite for the new endpoint: the rules change, conntrack does not.
    await inNs(['iptables-restore'], renderKubeProxyRestore(after, 'node1', RULES))
    expect(await send(OLD_PORTS.slice(0, 3))).toEqual([])
    expect(await send(NEW_PORTS)).toEqual(NEW_PORTS)
  })

  it('reads conntrack -L -d VIP through the node reader and flags the stale entries with the command that clears them', async () => {
    const {dp, session} = await readNode()
    expect(session.ran).toContain(`conntrack -L -d ${VIP}`)
    expect(dp.conntrackError).toBeUndefined()
    const table = parseConntrack(captureText(defined(captureOf(dp, 'conntrack'), 'conntrack capture')), 'node1')
    expect(table.unread).toEqual([])
    const to = (ip: string) => table.entries.filter((e) => e.original.dst === VIP && e.original.dport === 53 && e.reply.src === ip)
    expect(
      to(OLD)
        .map((e) => e.original.sport)
        .sort(),
    ).toEqual(OLD_PORTS)
    expect(to(OLD).every((e) => e.protocol === 'udp' && e.flags.includes('UNREPLIED') && e.original.src === CLIENT)).toBe(true)
    expect(
      to(NEW)
        .map((e) => e.original.sport)
        .sort(),
    ).toEqual(NEW_PORTS)
    expect(to(NEW).some((e) => e.flags.includes('UNREPLIED'))).toBe(false)

    const report = buildReport(QUERY, after, [dp])
    const stale = only(report.findings.filter((f) => f.id === 'conntrack-stale-endpoint'))
    expect(stale).toMatchObject({service: 'kube-system/kube-dns', node: 'node1', severity: 'warning'})
    expect(stale.message).toMatch(
      /^6 conntrack entries on node1 still send 10\.96\.0\.10:53\/UDP to 10\.244\.1\.5, which is no endpoint of kube-system\/kube-dns/,
    )
    expect(stale.fix?.command).toBe(`conntrack -D -p udp --orig-dst ${VIP} --orig-port-dst 53 --reply-src ${OLD}`)
    expect(only(report.nodes).conntrack).toMatchObject({entries: 10, forServices: 10, stale: 6, unread: 0})
    if (process.env.UPDATE_FIXTURE) await writeFixture('conntrack-stale-dns', dp)
  })

  it('the printed command, run on the node, clears exactly the stale entries: the old ports are answered again', async () => {
    const {dp} = await readNode()
    const command = defined(buildReport(QUERY, after, [dp]).findings.find((f) => f.id === 'conntrack-stale-endpoint')?.fix?.command, 'the command')
    await inNs(command.split(' '))
    expect(await send(OLD_PORTS.slice(0, 3))).toEqual(OLD_PORTS.slice(0, 3))
    const {dp: cleared} = await readNode()
    const report = buildReport(QUERY, after, [cleared])
    expect(report.findings.filter((f) => f.id.startsWith('conntrack-'))).toEqual([])
    // The four new ports, and the three old ones that just sent again, now to the new pod.
    expect(only(report.nodes).conntrack).toMatchObject({entries: 7, forServices: 7, stale: 0})
    if (process.env.UPDATE_FIXTURE) await writeFixture('conntrack-dns-healthy', cleared)
  })
})
