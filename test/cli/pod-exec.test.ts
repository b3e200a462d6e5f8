// `--via exec` end to end: the built CLI in a child process, through the real client-node, against the fake
// API server serving the reference capture plus its kube-proxy pods. As root, each node's commands really
// run in a network namespace holding that node's captured rules, and the live trace must equal the trace of
// the bundle. Everywhere: Ctrl-C during a slow command in a debug pod deletes the pod and exits at once, and
// a distroless kube-proxy (no shell, no cat, no conntrack) is read as it is, with --debug-pod-fallback
// reading conntrack from a debug pod per node: its commands run in a real local shell over fake programs.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {V1Pod} from '@kubernetes/client-node'
import {root} from '../support/cli.js'
import {loadFakeClusterData, startFakeApiServer, type FakeApiServer, type FakeClusterData} from '../support/fake-apiserver.js'
import {NS_PREFIX, requireRoot, run} from '../support/netns.js'
import {comparableReport, type ReportJson} from '../support/netns-trace.js'
import {fakeNodeDir, type FakeNode} from '../support/local-shell.js'
import type {ExecCall, ExecReply} from '../support/fake-apiserver.js'

const bundle = path.join(root, 'test/fixtures/two-node-iptables-v1.26')
const KUBE_PROXY_IMAGE = 'registry.k8s.io/kube-proxy:v1.26.3'
// Newer kube-proxy images are distroless: no shell, no coreutils, and conntrack dropped.
const DISTROLESS_IMAGE = 'registry.k8s.io/kube-proxy:v1.33.0'
const DISTROLESS_LACKS = ['sh', 'cat', 'conntrack', 'ipvsadm']

function kubeProxyPod(node: string, name: string, image = KUBE_PROXY_IMAGE): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, namespace: 'kube-system', labels: {'k8s-app': 'kube-proxy'}},
    spec: {nodeName: node, hostNetwork: true, containers: [{name: 'kube-proxy', image, securityContext: {privileged: true}}]},
    status: {phase: 'Running'},
  }
}

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** The CLI in a child process (asynchronously: the API server answers from this process). */
function start(args: string[], kubeconfig: string, onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/run.js'), ...args], {
      cwd: root,
      env: {...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => (stdout += d))
    child.stderr!.on('data', (d) => (stderr += d))
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      resolve({code, signal, stdout, stderr})
    })
    onSpawn?.(child)
  })
}

let server: FakeApiServer
let scratch: string
let kubeconfig: string
let data: FakeClusterData

beforeAll(async () => {
  const base = await loadFakeClusterData(bundle)
  data = {...base, pods: [...base.pods, kubeProxyPod('node1', 'kube-proxy-7xk2p'), kubeProxyPod('node2', 'kube-proxy-m4d9q')]}
  server = await startFakeApiServer({
    view: data,
    podWrites: true,
    podStart: {afterMs: 50},
    exec: {missing: {[KUBE_PROXY_IMAGE]: ['ipvsadm'], [DISTROLESS_IMAGE]: DISTROLESS_LACKS}},
  })
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-cli-podexec-'))
  kubeconfig = path.join(scratch, 'config')
  writeFileSync(kubeconfig, server.kubeconfig({context: 'capture', namespace: 'storefront'}))
})
afterAll(async () => {
  await server?.close()
  if (scratch) rmSync(scratch, {recursive: true, force: true})
})
beforeEach(() => {
  server.reset()
  server.setView(data)
})

/** Runs the CLI and sends it SIGINT once `ready()` holds (checked every 50 ms); when it was sent (0: never). */
async function interruptedWhen(args: string[], ready: () => boolean): Promise<{exit: Exit; sentAt: number}> {
  let sentAt = 0
  const exit = await start(args, kubeconfig, (child) => {
    const wait = setInterval(() => {
      if (!ready()) return
      clearInterval(wait)
      sentAt = Date.now()
      child.kill('SIGINT')
    }, 50)
    child.on('close', () => clearInterval(wait))
  })
  return {exit, sentAt}
}

const svctracePods = () => server.pods().filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'svctrace')

describe('--via exec --debug-pod, interrupted', () => {
  it('Ctrl-C while a command runs in the debug pod: the pod is deleted and the CLI exits 130 at once', async () => {
    server.exec.delayMs = 120_000
    server.exec.respond = () => ({stdout: ''})
    const {exit, sentAt} = await interruptedWhen(['frontend', '--via', 'exec', '--debug-pod', '--nodes', 'node1'], () => server.execs.length > 0)
    expect(sentAt).toBeGreaterThan(0)
    expect(Date.now() - sentAt).toBeLessThan(5_000)
    expect(exit.code).toBe(130)
    expect(exit.stderr).toMatch(/interrupted/)
    // The pod was created on node1, the exec was cut off, and the pod is gone.
    const created = server.writes.filter((w) => w.method === 'POST')
    expect(created.map((w) => (w.body as V1Pod).spec?.nodeName)).toEqual(['node1'])
    // The reader may have several commands in flight: every one of them was cut off.
    expect(server.execs.length).toBeGreaterThanOrEqual(1)
    expect(server.execs.every((e) => e.outcome === 'cancelled' && e.node === 'node1')).toBe(true)
    expect(svctracePods()).toEqual([])
    expect(server.writes.filter((w) => w.method === 'DELETE').every((w) => w.code === 200)).toBe(true)
  })
})

describe('interrupted before the API server answered', () => {
  it('Ctrl-C while the requests are still out: the CLI gives them up and exits 130 at once, saying nothing was read', async () => {
    server.delayMs = 60_000
    const {exit, sentAt} = await interruptedWhen(['frontend', '--request-timeout', '20'], () => server.requests.length > 0)
    expect(sentAt).toBeGreaterThan(0)
    expect(Date.now() - sentAt).toBeLessThan(5_000)
    expect(exit.code).toBe(130)
    expect(exit.stderr).toMatch(/interrupted before the API server answered: nothing was read/)
  })
})

describe('--via exec --debug-pod, interrupted twice', () => {
  it("a second Ctrl-C while the debug pod's delete hangs exits 130 at once, after stderr has taken the first signal's line", async () => {
    server.exec.delayMs = 120_000
    server.exec.respond = () => ({stdout: ''})
    let signals = 0
    let secondAt = 0
    const exit = await start(['frontend', '--via', 'exec', '--debug-pod', '--nodes', 'node1', '-o', 'json'], kubeconfig, (child) => {
      const wait = setInterval(() => {
        if (signals === 0 && server.execs.length > 0) {
          // From here the API server answers nothing for a minute: closing (deleting the debug pod) hangs.
          server.delayMs = 60_000
          signals = 1
          child.kill('SIGINT')
        } else if (signals === 1 && server.writes.some((w) => w.method === 'DELETE')) {
          signals = 2
          secondAt = Date.now()
          child.kill('SIGINT')
          clearInterval(wait)
        }
      }, 50)
      child.on('close', () => clearInterval(wait))
    })
    expect(signals).toBe(2)
    // Well before the 15 s a hanging close is allowed: the second signal ended the run.
    expect(Date.now() - secondAt).toBeLessThan(5_000)
    expect(exit.code).toBe(130)
    expect(exit.stdout).toBe('')
    // The hard exit (process.exit in exitAfterDrain) comes after stderr has taken the first signal's whole line.
    expect(exit.stderr).toMatch(/interrupted: closing node connections and printing what was read \(Ctrl-C again to quit at once\)…\n/)
    // The delete was sent, and never answered: the pod's activeDeadlineSeconds ends it.
    expect(server.writes.filter((w) => w.method === 'DELETE')).toHaveLength(1)
  })
})

const env = requireRoot([], 'cli pod-exec netns')

describe.skipIf(env.skip)("--via exec reads each node's real rules from its network namespace", () => {
  const netns = {node1: `${NS_PREFIX}${process.pid}-cliexec-node1`, node2: `${NS_PREFIX}${process.pid}-cliexec-node2`}

  beforeAll(async () => {
    env.assert()
    for (const [node, ns] of Object.entries(netns)) {
      await run(['ip', 'netns', 'add', ns])
      await run(['ip', 'netns', 'exec', ns, 'iptables-restore'], {input: readFileSync(path.join(bundle, 'nodes', node, 'iptables-save.txt'), 'utf8')})
    }
  })
  afterAll(async () => {
    for (const ns of Object.values(netns)) await run(['ip', 'netns', 'del', ns]).catch(() => undefined)
  })

  it('the live trace through the kube-proxy pods equals the trace of the bundle, with allow-listed commands only', async () => {
    server.exec.netns = netns
    const live = await start(['frontend', '--via', 'exec', '-o', 'json'], kubeconfig)
    expect(live.stderr).toBe('')
    const offline = await start(['frontend', '-n', 'storefront', '--from', bundle, '-o', 'json'], kubeconfig)
    const liveReport = JSON.parse(live.stdout) as ReportJson
    expect(liveReport.nodes.map((n) => [n.name, n.mode, n.readError])).toEqual([
      ['node1', 'iptables', undefined],
      ['node2', 'iptables', undefined],
    ])
    expect(comparableReport(liveReport)).toEqual(comparableReport(JSON.parse(offline.stdout) as ReportJson))
    expect(live.code).toBe(offline.code)
    expect(server.execs.length).toBeGreaterThan(2)
    for (const call of server.execs) expect(call).toMatchObject({namespace: 'kube-system', container: 'kube-proxy', allowedAs: expect.any(String)})
    expect(server.nonGetRequests()).toEqual([])
  })
})

/** The lines of one table of an iptables-save dump, `*nat` to COMMIT. */
function tableOf(dump: string, table: string): string {
  const lines = dump.split('\n')
  const start = lines.indexOf(`*${table}`)
  return `${lines.slice(start, lines.indexOf('COMMIT', start) + 1).join('\n')}\n`
}

/** `iptables -t TABLE -S CHAIN` as iptables prints it from the dump. */
function listingOf(dump: string, table: string, chain: string): string {
  const rules = tableOf(dump, table)
    .split('\n')
    .filter((l) => l.startsWith(`-A ${chain} `))
  return [`-N ${chain}`, ...rules, ''].join('\n')
}

/** What the distroless kube-proxy pod on a node answers: its rules from the capture, with the tools its image has. */
function kubeProxyAnswers(node: string): FakeNode {
  const dump = readFileSync(path.join(bundle, 'nodes', node, 'iptables-save.txt'), 'utf8')
  return {
    'iptables -V': {stdout: 'iptables v1.8.9 (nf_tables)\n'},
    'iptables -w 5 -t nat -S KUBE-SERVICES': {stdout: listingOf(dump, 'nat', 'KUBE-SERVICES')},
    'iptables-save -t nat': {stdout: tableOf(dump, 'nat')},
    'iptables-save -t filter': {stdout: tableOf(dump, 'filter')},
    'iptables-legacy-save': {stdout: ''},
    'nft list chain ip kube-proxy services': {stderr: 'Error: No such file or directory\nlist chain ip kube-proxy services\n', exit: 1},
  }
}

/** Runs an argv the way an exec would, with only `bin`'s programs on PATH (no shell unless bin has one). */
function runWith(bin: string, argv: string[]): ExecReply {
  const r = spawnSync(argv[0]!, argv.slice(1), {env: {PATH: bin}, encoding: 'buffer', timeout: 30_000})
  return {stdout: r.stdout, stderr: r.stderr.toString('utf8'), exitCode: r.status ?? 1}
}

describe('a distroless kube-proxy: no shell, no cat, no conntrack', () => {
  const bins: Record<string, string> = {}
  let debugBin = ''
  const distroless = () => ({
    ...data,
    pods: [
      ...data.pods.filter((p) => p.metadata?.namespace !== 'kube-system'),
      kubeProxyPod('node1', 'kube-proxy-7xk2p', DISTROLESS_IMAGE),
      kubeProxyPod('node2', 'kube-proxy-m4d9q', DISTROLESS_IMAGE),
    ],
  })
  const isDebugPod = (call: ExecCall) => call.pod.startsWith('svctrace-')
  // What the image lacks, the server answers as containerd does (executable file not found): respond leaves it.
  const kubeProxyAnswer = (call: ExecCall) =>
    call.allowedAs === 'compound' || DISTROLESS_LACKS.includes(call.argv[0]!) ? undefined : runWith(bins[call.node]!, call.argv)

  beforeAll(() => {
    for (const node of ['node1', 'node2']) bins[node] = fakeNodeDir(path.join(scratch, `kube-proxy-${node}`), kubeProxyAnswers(node))
    // The debug image has a shell and the tools; conntrack tracks nothing, /proc/net/ip_vs is absent (no IPVS).
    debugBin = fakeNodeDir(path.join(scratch, 'debug-image'), {'cat /proc/net/ip_vs': {stderr: 'cat: /proc/net/ip_vs: No such file or directory\n', exit: 1}})
    symlinkSync('/bin/sh', path.join(debugBin, 'sh'))
    writeFileSync(path.join(debugBin, 'conntrack'), '#!/bin/sh\necho "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown." >&2\n', {
      mode: 0o755,
    })
  })

  beforeEach(() => {
    server.setView(distroless())
    server.exec.respond = (call) => (isDebugPod(call) ? runWith(debugBin, call.argv) : kubeProxyAnswer(call))
  })

  const kubeProxyExecs = () => server.execs.filter((e) => !isDebugPod(e))
  const debugExecs = () => server.execs.filter(isDebugPod)

  it('--conntrack --debug-pod-fallback: rules from the kube-proxy pod, conntrack from a debug pod per node (created, then deleted), -v says which', async () => {
    const live = await start(['frontend', '--via', 'exec', '--conntrack', '--debug-pod-fallback', '-v', '-o', 'json'], kubeconfig)
    const offline = await start(['frontend', '-n', 'storefront', '--from', bundle, '-o', 'json'], kubeconfig)
    const report = JSON.parse(live.stdout) as ReportJson
    expect(report.nodes.map((n) => [n.name, n.mode, n.readError])).toEqual([
      ['node1', 'iptables', undefined],
      ['node2', 'iptables', undefined],
    ])
    // The rules traced are the capture's, and conntrack was read: no finding says it was not.
    expect(comparableReport(report)).toEqual(comparableReport(JSON.parse(offline.stdout) as ReportJson))
    expect(report.findings.map((f) => f.id)).not.toContain('conntrack-not-read')
    expect(live.code).toBe(offline.code)

    // One debug pod per node: created privileged in kube-system on that node, then deleted.
    const created = server.writes.filter((w) => w.method === 'POST').map((w) => [w.path, (w.body as V1Pod).spec?.nodeName, w.code])
    expect(created.sort()).toEqual([
      ['/api/v1/namespaces/kube-system/pods', 'node1', 201],
      ['/api/v1/namespaces/kube-system/pods', 'node2', 201],
    ])
    const deleted = server.writes.filter((w) => w.method === 'DELETE' && w.code === 200).map((w) => w.path)
    const names = [...new Set(debugExecs().map((e) => e.pod))]
    expect(names).toHaveLength(2)
    for (const name of names) expect(deleted).toContain(`/api/v1/namespaces/kube-system/pods/${name}`)
    expect(svctracePods()).toEqual([])

    // Each debug pod ran one sh -c holding conntrack (cat rides along) and no iptables; the kube-proxy pods
    // ran the iptables reads, one exec per command (no shell), and were asked for conntrack once per node.
    expect(
      debugExecs()
        .map((e) => [e.node, e.allowedAs, e.outcome])
        .sort(),
    ).toEqual([
      ['node1', 'compound', 0],
      ['node2', 'compound', 0],
    ])
    for (const e of debugExecs()) expect(e.argv[2]).toMatch(/ conntrack -L -d [0-9.]+;/)
    for (const e of debugExecs()) expect(e.argv[2]).not.toMatch(/iptables/)
    const askedForConntrack = kubeProxyExecs().filter((e) => e.argv[0] === 'conntrack')
    expect(askedForConntrack.map((e) => [e.node, e.outcome]).sort()).toEqual([
      ['node1', 'not-found'],
      ['node2', 'not-found'],
    ])
    expect(
      kubeProxyExecs()
        .filter((e) => e.argv[0] === 'iptables-save')
        .map((e) => e.outcome),
    ).toEqual([0, 0, 0, 0])
    for (const e of kubeProxyExecs()) expect(e.outcome === 0 || e.outcome === 1 || DISTROLESS_LACKS.includes(e.argv[0]!)).toBe(true)

    // -v names the pod on each command's line, says what went to the debug pod, and sums up the channels.
    const v = live.stderr
    expect(v).toMatch(/exec node1 \(kube-proxy pod kube-system\/kube-proxy-7xk2p\): iptables-save -t nat exit 0/)
    expect(v).toMatch(/exec node1 \(debug pod kube-system\/svctrace-[0-9a-f]+-\d+\): conntrack -L -d [0-9.]+ exit 0, \d+ bytes \(channel 1: \d+ commands/)
    expect(v).toMatch(
      /exec node2: conntrack, cat not in the kube-proxy image: read from debug pod kube-system\/svctrace-[0-9a-f]+-\d+ \(--debug-pod-fallback\)/,
    )
    for (const [node, pod] of [
      ['node1', 'kube-proxy-7xk2p'],
      ['node2', 'kube-proxy-m4d9q'],
    ] as const) {
      const n = kubeProxyExecs().filter((e) => e.node === node).length
      expect(v).toMatch(
        new RegExp(
          `exec ${node}: ${n + 1} exec channels: ${n} into kube-proxy pod kube-system/${pod} \\([^)]*no shell in its image: one exec per command, run concurrently\\), ` +
            `1 into debug pod kube-system/svctrace-[0-9a-f]+-\\d+ \\(1 sh -c\\) for conntrack, cat, which the kube-proxy image lacks`,
        ),
      )
    }
  })

  it('Ctrl-C while the debug pod starts: the CLI exits 130 at once, the pod is deleted, the kube-proxy pod was only read', async () => {
    server.podStart = {waiting: {reason: 'ContainerCreating'}}
    const {exit, sentAt} = await interruptedWhen(['frontend', '--via', 'exec', '--conntrack', '--debug-pod-fallback', '--nodes', 'node1'], () =>
      server.writes.some((w) => w.method === 'POST'),
    )
    expect(sentAt).toBeGreaterThan(0)
    expect(Date.now() - sentAt).toBeLessThan(5_000)
    expect(exit.code).toBe(130)
    expect(server.writes.filter((w) => w.method === 'POST').map((w) => (w.body as V1Pod).spec?.nodeName)).toEqual(['node1'])
    expect(svctracePods()).toEqual([])
    expect(debugExecs()).toEqual([])
  })

  it('--conntrack without the opt-in: conntrack names the missing program and the flag, nothing is created, the rest is the same', async () => {
    const withPods = await start(['frontend', '--via', 'exec', '--conntrack', '--debug-pod-fallback', '-o', 'json'], kubeconfig)
    server.reset()
    server.setView(distroless())
    server.exec.respond = kubeProxyAnswer
    const without = await start(['frontend', '--via', 'exec', '--conntrack', '-o', 'json'], kubeconfig)
    expect(server.nonGetRequests()).toEqual([])
    expect(debugExecs()).toEqual([])
    const report = JSON.parse(without.stdout) as ReportJson
    const notRead = report.findings.filter((f) => f.id === 'conntrack-not-read')
    expect(notRead.map((f) => f.node)).toEqual(['node1', 'node2'])
    expect(notRead[0]!.message).toMatch(
      /^node1: connection tracking was not read: conntrack is not installed in kube-proxy pod kube-system\/kube-proxy-7xk2p on node1 \(`conntrack -L -d [0-9.]+` exited with 127: not in the kube-proxy image\); add --debug-pod-fallback to read conntrack from a short-lived privileged debug pod on node1 \(the rest stays in the kube-proxy pod\), or use --via ssh$/,
    )
    // Everything else is as with the debug pods: the same paths, findings and exit code.
    const rest = (r: ReportJson) => {
      const c = comparableReport(r) as {nodes: unknown; findings: Array<{id: string}>}
      return {nodes: c.nodes, findings: c.findings.filter((f) => f.id !== 'conntrack-not-read')}
    }
    expect(rest(report)).toEqual(rest(JSON.parse(withPods.stdout) as ReportJson))
    expect(without.code).toBe(withPods.code)
  })
})
