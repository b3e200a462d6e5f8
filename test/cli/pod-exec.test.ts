// `--via exec` end to end: the built CLI in a child process, through the real client-node, against the fake
// API server serving the reference capture plus its kube-proxy pods. As root, each node's commands really
// run in a network namespace holding that node's captured rules, and the live trace must equal the trace of
// the bundle. Everywhere: Ctrl-C during a slow command in a debug pod deletes the pod and exits at once.
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {V1Pod} from '@kubernetes/client-node'
import {root} from '../support/cli.js'
import {loadFakeClusterData, startFakeApiServer, type FakeApiServer, type FakeClusterData} from '../support/fake-apiserver.js'
import {NS_PREFIX, requireRoot, run} from '../support/netns.js'
import {comparableReport, type ReportJson} from '../support/netns-trace.js'

const bundle = path.join(root, 'test/fixtures/two-node-iptables-v1.26')
const KUBE_PROXY_IMAGE = 'registry.k8s.io/kube-proxy:v1.26.3'

function kubeProxyPod(node: string, name: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, namespace: 'kube-system', labels: {'k8s-app': 'kube-proxy'}},
    spec: {nodeName: node, hostNetwork: true, containers: [{name: 'kube-proxy', image: KUBE_PROXY_IMAGE, securityContext: {privileged: true}}]},
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
  server = await startFakeApiServer({view: data, podWrites: true, exec: {missing: {[KUBE_PROXY_IMAGE]: ['ipvsadm']}}})
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

const svctracePods = () => server.pods().filter((p) => p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'svctrace')

describe('--via exec --debug-pod, interrupted', () => {
  it('Ctrl-C while a command runs in the debug pod: the pod is deleted and the CLI exits 130 at once', async () => {
    server.exec.delayMs = 120_000
    server.exec.respond = () => ({stdout: ''})
    let sentAt = 0
    const exit = await start(['frontend', '--via', 'exec', '--debug-pod', '--nodes', 'node1'], kubeconfig, (child) => {
      const wait = setInterval(() => {
        if (server.execs.length === 0) return
        clearInterval(wait)
        sentAt = Date.now()
        child.kill('SIGINT')
      }, 50)
      child.on('close', () => clearInterval(wait))
    })
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
