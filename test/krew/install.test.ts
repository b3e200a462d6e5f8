// The release archives, built once here (scripts/package.js into a temporary directory, from
// the dist/ that `npm test` just compiled), then installed the way
// `kubectl krew install --manifest=svctrace.yaml --archive=…` does (scripts/krew/krew.js) into a
// temporary KREW_ROOT, and run through the real kubectl with that bin directory on PATH:
// the Node.js archive with node on PATH, the self-contained one with no node on PATH.
//
// The self-contained build needs linux x64 and `strip` (Debian package binutils). In CI
// (CI=true) a missing prerequisite fails the suite; elsewhere those tests are skipped with
// the reason printed (SVCTRACE_TEST_NO_SEA=1 skips them on purpose: the build takes ~10 s).
import {spawn, spawnSync} from 'node:child_process'
import {createServer, type Server} from 'node:http'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {LAZY_PACKAGES, lazyFileName} from '../../scripts/krew/bundle.js'
import {krewInstall, readTar, sha256, validateManifestInstalls, validateManifestText, type Installed} from '../../scripts/krew/krew.js'
import {SEA_FUSE, seaUnsupportedReason} from '../../scripts/krew/sea.js'
import {packageRelease, type Release} from '../../scripts/package.js'
import type {V1Pod} from '@kubernetes/client-node'
import {example, root} from '../support/cli.js'
import {loadFakeClusterData, startFakeApiServer, type FakeApiServer} from '../support/fake-apiserver.js'

const seaProblem =
  (process.env.SVCTRACE_TEST_NO_SEA ? 'SVCTRACE_TEST_NO_SEA is set' : undefined) ??
  seaUnsupportedReason() ??
  (spawnSync('strip', ['--version']).error ? '`strip` is missing (apt-get install -y binutils)' : undefined)
const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? '')
if (seaProblem && !inCI) {
  console.warn(`test/krew/install.test.ts: skipping the self-contained (linux-amd64) archive tests: ${seaProblem}`)
}

const KUBECTL = spawnSync('sh', ['-c', 'command -v kubectl'], {encoding: 'utf8'}).stdout.trim()
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {version: string}
const nodeDir = path.dirname(process.execPath)
let scratch: string
let release: Release

beforeAll(async () => {
  if (seaProblem && inCI) throw new Error(`CI must build the self-contained archive: ${seaProblem}`)
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-krew-install-'))
  release = await packageRelease({outDir: path.join(scratch, 'release-a'), build: false, sea: !seaProblem, writeManifest: false, quiet: true})
}, 300_000)
afterAll(async () => {
  await execApi?.server.close()
  if (scratch) rmSync(scratch, {recursive: true, force: true})
})

/** `kubectl ARGS` with PATH = dirs; only PATH, HOME and NO_COLOR in the environment. */
function kubectl(dirs: string[], args: string[], cwd = scratch) {
  const r = spawnSync(KUBECTL, args, {cwd, encoding: 'utf8', timeout: 60_000, env: {PATH: dirs.join(path.delimiter), HOME: scratch, NO_COLOR: '1'}})
  if (r.error) throw r.error
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** kubectl, without blocking the event loop (the fake API server lives in this process). */
function kubectlAsync(dirs: string[], args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return spawnAsync(KUBECTL, args, {PATH: dirs.join(path.delimiter), HOME: scratch, NO_COLOR: '1'})
}

/** reference(), without blocking the event loop. */
function referenceAsync(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return spawnAsync(process.execPath, [path.join(root, 'bin/dev.js'), ...args], {...process.env, NO_COLOR: '1'})
}

function spawnAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {cwd: scratch, env})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill(), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
}

/** The development build's answer, to compare installed output with. */
function reference(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/dev.js'), ...args], {
    cwd: scratch,
    encoding: 'utf8',
    timeout: 60_000,
    env: {...process.env, NO_COLOR: '1'},
  })
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

function install(archive: string, os: string, arch: string): Installed & {krewRoot: string} {
  const krewRoot = mkdtempSync(path.join(scratch, 'krew-root-'))
  return {...krewInstall({manifest: release.manifestPath, archive, krewRoot, os, arch}), krewRoot}
}

/** A directory holding only a kubectl link: PATH without node. */
function kubectlOnlyDir(): string {
  const dir = mkdtempSync(path.join(scratch, 'tools-'))
  symlinkSync(KUBECTL, path.join(dir, 'kubectl'))
  return dir
}

/** A fake API server that answers every request with 404 and remembers the paths asked for. */
async function fakeApiServer(): Promise<{server: Server; kubeconfig: string; paths: string[]}> {
  const paths: string[] = []
  const server = createServer((req, res) => {
    paths.push(req.url ?? '')
    res.writeHead(404, {'content-type': 'application/json'})
    res.end(JSON.stringify({kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found'}))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  const kubeconfig = path.join(scratch, `kubeconfig-${port}.yaml`)
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: fake',
      `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: u, namespace: default}}]',
      '',
    ].join('\n'),
  )
  return {server, kubeconfig, paths}
}

const TRACES = [
  ['hello-world', '--from', example],
  ['--ip', '192.168.49.3:30080', '--from', example, '-o', 'json'],
]

/** Errors the installed command must report like the development build (exit 2, same message), not as a missing module. */
const ERRORS = [
  ['hello-world', '--kubeconfig', '/nonexistent/kubeconfig'],
  ['hello-world', '--from', example, '-o', 'xml'],
  ['no-such-service', '--from', example],
  ['--no-such-flag'],
]

/**
 * The fake HTTPS API server of the CLI tests, serving a two-node capture plus its kube-proxy pods,
 * answering pods/exec of iptables-save with each node's captured rules: `--via exec` goes through
 * client-node's WebSocket exec and the pod-exec adapter, both loaded on demand.
 */
const EXEC_FIXTURE = path.join(root, 'test/fixtures/two-node-iptables-v1.26')
let execApi: {server: FakeApiServer; kubeconfig: string} | undefined
async function execApiServer(): Promise<{server: FakeApiServer; kubeconfig: string}> {
  if (execApi) return execApi
  const image = 'registry.k8s.io/kube-proxy:v1.26.3'
  const kubeProxy = (node: string): V1Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name: `kube-proxy-${node}`, namespace: 'kube-system', labels: {'k8s-app': 'kube-proxy'}},
    spec: {nodeName: node, hostNetwork: true, containers: [{name: 'kube-proxy', image, securityContext: {privileged: true}}]},
    status: {phase: 'Running'},
  })
  const base = await loadFakeClusterData(EXEC_FIXTURE)
  const server = await startFakeApiServer({
    view: {...base, pods: [...base.pods, kubeProxy('node1'), kubeProxy('node2')]},
    exec: {respond: (call) => iptablesFromCapture(readFileSync(path.join(EXEC_FIXTURE, 'nodes', call.node, 'iptables-save.txt'), 'utf8'), call.argv)},
  })
  const kubeconfig = path.join(scratch, 'kubeconfig-exec.yaml')
  writeFileSync(kubeconfig, server.kubeconfig({context: 'capture', namespace: 'storefront'}))
  execApi = {server, kubeconfig}
  return execApi
}

/** iptables-save [-t TABLE], or `iptables [-w N] [-t TABLE] -S CHAIN`, answered from a captured iptables-save; anything else is not found. */
function iptablesFromCapture(dump: string, argv: string[]): {stdout?: string; stderr?: string; exitCode?: number} {
  if (argv[0] === 'iptables-save' && argv.length === 1) return {stdout: dump}
  if (argv[0] === 'iptables-save' && argv[1] === '-t' && argv.length === 3) {
    const at = dump.indexOf(`*${argv[2]}\n`)
    return {stdout: at < 0 ? '' : dump.slice(at, dump.indexOf('COMMIT\n', at) + 7)}
  }
  const opt = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined)
  const chain = opt('-S')
  if (argv[0] !== 'iptables' || !chain) return {stderr: `${argv[0]}: not found`, exitCode: 127}
  const table = opt('-t') ?? 'filter'
  let current = ''
  let policy: string | undefined
  const rules: string[] = []
  for (const line of dump.split('\n')) {
    if (line.startsWith('*')) current = line.slice(1)
    if (current !== table) continue
    if (line.startsWith(`:${chain} `)) policy = line.split(' ')[1]
    if (line.startsWith(`-A ${chain} `)) rules.push(line)
  }
  if (policy === undefined) return {stderr: 'iptables: No chain/target/match by that name.\n', exitCode: 1}
  return {stdout: [policy === '-' ? `-N ${chain}` : `-P ${chain} ${policy}`, ...rules, ''].join('\n')}
}

/** What both installed archives must do through kubectl, with PATH = dirs(). */
function behavesLikeTheDevelopmentBuild(dirs: () => string[], tag: string) {
  it('kubectl svctrace -h prints the same help as the development build', () => {
    const h = kubectl(dirs(), ['svctrace', '-h'])
    const want = reference(['-h'])
    expect(h.code).toBe(0)
    expect(h.stdout).toBe(want.stdout)
    expect(h.stdout).toContain('$ kubectl svctrace')
  })

  it.each(TRACES)('traces the bundled example like the development build: %s', (...args) => {
    const got = kubectl(dirs(), ['svctrace', ...args])
    const want = reference(args)
    expect(got.stderr).toBe(want.stderr)
    expect(got.stdout).toBe(want.stdout)
    expect(got.code).toBe(want.code)
    expect(got.stdout.length).toBeGreaterThan(100)
  })

  it.each(ERRORS)('reports errors like the development build: %s', (...args) => {
    const got = kubectl(dirs(), ['svctrace', ...args])
    const want = reference(args)
    expect(got.stderr).not.toMatch(/Cannot find module|not bundled|MODULE_NOT_FOUND| {4}at /)
    expect(got.stderr).toBe(want.stderr)
    expect(got.stderr).toMatch(/^error: /)
    expect(got.code).toBe(2)
    expect(got.code).toBe(want.code)
  })

  it('--capture (an adapter imported on demand) writes a bundle that traces the same', () => {
    const dir = path.join(scratch, `capture-${tag}`)
    const first = kubectl(dirs(), ['svctrace', 'hello-world', '--from', example, '--capture', dir])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toBe(reference(['hello-world', '--from', example]).stdout)
    expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(['cluster.yaml', 'nodes']))
    const again = kubectl(dirs(), ['svctrace', 'hello-world', '--from', dir])
    expect(again.stdout).toBe(first.stdout)
    expect(again.code).toBe(0)
  })

  it('reaches a live API server through client-node, loaded on demand', async () => {
    const api = await fakeApiServer()
    try {
      const live = await kubectlAsync(dirs(), ['svctrace', 'hello-world', '--kubeconfig', api.kubeconfig])
      const asked = [...api.paths]
      const want = await referenceAsync(['hello-world', '--kubeconfig', api.kubeconfig])
      expect(live.stderr).not.toMatch(/Cannot find module|not bundled|MODULE_NOT_FOUND|Warning/)
      // every request gets a 404 ("Service not found"): the same answer and requests as the development build
      expect(asked.some((p) => p.startsWith('/api/v1/namespaces/default/services/hello-world'))).toBe(true)
      expect(live.stderr).toBe(want.stderr)
      expect(live.stdout).toBe(want.stdout)
      expect(live.code).toBe(want.code)
      expect(api.paths.slice(asked.length).sort()).toEqual([...asked].sort())
    } finally {
      api.server.close()
    }
  })

  it('reads node rules through pods/exec (--via exec) like the development build', async () => {
    const {server, kubeconfig} = await execApiServer()
    const args = ['frontend', '--via', 'exec', '-o', 'json', '--kubeconfig', kubeconfig]
    server.reset()
    const got = await kubectlAsync(dirs(), ['svctrace', ...args])
    const execs = server.execs.map((e) => `${e.node}: ${e.argv[0] === 'sh' ? 'sh -c (compound)' : e.argv.join(' ')} → ${e.outcome}`).sort()
    server.reset()
    const want = await referenceAsync(args)
    expect(got.stderr).toBe(want.stderr)
    expect(got.stderr).not.toMatch(/not available in this build|Cannot find module|not bundled/)
    // commands ran in both kube-proxy pods over client-node's WebSocket exec, and their output came back; this
    // image lacks programs (a distroless one: no shell), so a compound read was tried at most once per node
    expect(execs).toEqual(expect.arrayContaining([expect.stringMatching(/^node1: iptables.* → 0$/), expect.stringMatching(/^node2: iptables.* → 0$/)]))
    for (const node of ['node1', 'node2']) expect(execs.filter((e) => e.startsWith(`${node}: sh -c`)).length).toBeLessThanOrEqual(1)
    const report = JSON.parse(got.stdout) as {nodes: Array<{name: string; mode: string; readError?: string}>}
    expect(report.nodes.map((n) => [n.name, n.mode, n.readError])).toEqual([
      ['node1', 'iptables', undefined],
      ['node2', 'iptables', undefined],
    ])
    expect(got.stdout).toBe(want.stdout)
    expect(got.code).toBe(want.code)
    expect(server.execs.map((e) => `${e.node}: ${e.argv[0] === 'sh' ? 'sh -c (compound)' : e.argv.join(' ')} → ${e.outcome}`).sort()).toEqual(execs)
  })
}

describe('release archives', () => {
  it('the Node.js archive holds the launcher, the bundles, LICENSE and notices; nothing else', () => {
    const entries = readTar(gunzipSync(readFileSync(release.archives.node.path)))
    const lazy = entries.filter((e) => /^lib\/svctrace-.+\.cjs$/.test(e.name)).map((e) => e.name)
    expect(entries.map((e) => e.name)).toEqual(
      ['LICENSE', 'THIRD-PARTY-NOTICES', 'kubectl-svctrace.cjs', ...lazy, 'lib/svctrace.cjs', 'lib/version.cjs'].sort(),
    )
    // client-node is imported (lazily) by src/ today; each lazy package has its own bundle
    expect(lazy).toContain(`lib/${lazyFileName('@kubernetes/client-node')}`)
    expect(lazy.every((f) => LAZY_PACKAGES.some((p) => f === `lib/${lazyFileName(p)}`))).toBe(true)
    const launcher = entries.find((e) => e.name === 'kubectl-svctrace.cjs')!
    expect(launcher.data.toString('utf8')).toMatch(/^#!\/usr\/bin\/env node\n/)
    expect(launcher.mode).toBe(0o755)
    expect(entries.find((e) => e.name === 'LICENSE')!.data.equals(readFileSync(path.join(root, 'LICENSE')))).toBe(true)
    expect(entries.find((e) => e.name === 'THIRD-PARTY-NOTICES')!.data.toString('utf8')).toMatch(/@oclif\/core@[\d.]+ {2}MIT/)
  })

  it('archives hold only regular files, relative paths without .., owned by 0:0 at time 0', () => {
    for (const a of Object.values(release.archives)) {
      const data = readFileSync(a.path)
      expect(sha256(data)).toBe(a.sha256)
      expect(data.subarray(0, 3).equals(Buffer.from([0x1f, 0x8b, 0x08]))).toBe(true)
      const entries = readTar(gunzipSync(data))
      const names = entries.map((e) => e.name)
      expect(names).toEqual([...names].sort())
      for (const e of entries) {
        expect({name: e.name, type: e.type, uid: e.uid, gid: e.gid, mtime: e.mtime}).toEqual({name: e.name, type: '0', uid: 0, gid: 0, mtime: 0})
        expect(e.name).not.toMatch(/\.\.|^\/|\\|node_modules/)
        expect([0o644, 0o755]).toContain(e.mode)
      }
      // GNU tar agrees: regular files only (no l/h/d type letters)
      const listing = spawnSync('tar', ['--numeric-owner', '-tvzf', a.path], {encoding: 'utf8'}).stdout.trim().split('\n')
      expect(listing).toHaveLength(entries.length)
      for (const line of listing) expect(line).toMatch(/^-rw[-x]r-[-x]r-[-x] 0\/0 /)
    }
  })

  it('the generated manifest passes krew validation, and installs with LICENSE and an executable bin on every platform', () => {
    const plugin = validateManifestText('svctrace.yaml', release.manifest)
    expect(plugin.spec.version).toBe(`v${pkg.version}`)
    const local: Record<string, string> = {}
    for (const p of plugin.spec.platforms) {
      const a = Object.values(release.archives).find((x) => p.uri.endsWith(`/${x.name}`))
      if (a) local[p.uri] = a.path
      if (a) expect(p.sha256).toBe(a.sha256)
    }
    // without the self-contained build the manifest's linux/amd64 sha256 is a placeholder
    const results = validateManifestInstalls(release.manifestPath, local, {skipMissing: !!seaProblem})
    expect(results.map((r) => `${r.os}/${r.arch}: ${r.bin} + ${r.license}`)).toEqual([
      ...(seaProblem ? [] : ['linux/amd64: kubectl-svctrace + LICENSE']),
      'darwin/386: kubectl-svctrace.cjs + LICENSE',
      'linux/386: kubectl-svctrace.cjs + LICENSE',
    ])
  })

  it('two builds give byte-identical archives and the same manifest', async () => {
    const again = await packageRelease({outDir: path.join(scratch, 'release-b'), build: false, sea: !seaProblem, writeManifest: false, quiet: true})
    expect(again.archives.node.sha256).toBe(release.archives.node.sha256)
    expect(again.archives.linuxAmd64?.sha256).toBe(release.archives.linuxAmd64?.sha256)
    expect(again.manifest).toBe(release.manifest)
  }, 300_000)
})

describe('installed from the Node.js archive (darwin, or linux other than amd64)', () => {
  let installed: Installed & {krewRoot: string}
  let dirs: string[]
  beforeAll(() => {
    installed = install(release.archives.node.path, 'linux', 'arm64')
    dirs = [installed.binDir, nodeDir, '/usr/bin', '/bin']
  })

  it('is linked as bin/kubectl-svctrace → the launcher in store/svctrace/<version>', () => {
    expect(readlinkSync(installed.link)).toBe(`../store/svctrace/v${pkg.version}/kubectl-svctrace.cjs`)
    expect(readdirSync(installed.installDir).sort()).toEqual(['LICENSE', 'THIRD-PARTY-NOTICES', 'kubectl-svctrace.cjs', 'lib'])
    expect(statSync(installed.link).mode & 0o111).not.toBe(0)
  })

  it('kubectl svctrace --version runs through kubectl, from any directory', () => {
    const v = kubectl(dirs, ['svctrace', '--version'], '/')
    expect(v.stderr).toBe('')
    expect(v.code).toBe(0)
    expect(v.stdout).toBe(`kubectl-svctrace/${pkg.version} linux-x64 node-${process.version}\n`)
  })

  it("answers --version before oclif loads, in oclif's words", async () => {
    const {Config} = await import('@oclif/core')
    const config = await Config.load(root)
    const env = {PATH: dirs.join(path.delimiter), HOME: scratch, NO_COLOR: '1', DEBUG: '*'}
    const v = spawnSync(KUBECTL, ['svctrace', '--version'], {cwd: scratch, encoding: 'utf8', env})
    expect(v.stdout).toBe(`${config.userAgent}\n`)
    expect(v.stderr).toBe('') // under DEBUG=*, oclif logs from its first step
    expect(v.status).toBe(0)
    // the control: with another argument oclif runs, and does log
    const help = spawnSync(KUBECTL, ['svctrace', '--version', '--help'], {cwd: scratch, encoding: 'utf8', env})
    expect(help.stderr).toContain('oclif:main')
    expect(help.stdout).toBe(reference(['--version', '--help']).stdout)
  })

  it('answers --version alone from lib/version.cjs, without reading the bundle', () => {
    const bundle = path.join(installed.installDir, 'lib/svctrace.cjs')
    const aside = `${bundle}.aside`
    renameSync(bundle, aside)
    try {
      const v = kubectl(dirs, ['svctrace', '--version'], '/')
      expect(v.stdout).toBe(`kubectl-svctrace/${pkg.version} linux-x64 node-${process.version}\n`)
      expect(v.code).toBe(0)
      // the control: anything else needs the bundle
      const help = kubectl(dirs, ['svctrace', '--help'], '/')
      expect(help.code).not.toBe(0)
      expect(help.stderr).toContain('svctrace.cjs')
    } finally {
      renameSync(aside, bundle)
    }
  })

  behavesLikeTheDevelopmentBuild(() => dirs, 'node')

  it('--help, --version and offline traces work with the lazy bundles (client-node, ssh2) removed', async () => {
    const lib = path.join(installed.installDir, 'lib')
    const lazy = readdirSync(lib).filter((f) => f !== 'svctrace.cjs' && f !== 'version.cjs')
    expect(lazy).toContain(lazyFileName('@kubernetes/client-node'))
    for (const f of lazy) rmSync(path.join(lib, f))
    for (const args of [['--version'], ['--help'], ...TRACES]) {
      const r = kubectl(dirs, ['svctrace', ...args])
      const want = reference(args)
      expect(r.stderr, args.join(' ')).toBe(want.stderr)
      expect(r.stdout, args.join(' ')).toBe(want.stdout)
      expect(r.code, args.join(' ')).toBe(want.code)
    }
    // while a live cluster does need it (so the check above is not vacuous)
    const api = await fakeApiServer()
    try {
      const live = await kubectlAsync(dirs, ['svctrace', 'hello-world', '--kubeconfig', api.kubeconfig])
      expect(live.code).not.toBe(0)
      expect(live.stderr).toContain(lazyFileName('@kubernetes/client-node'))
      expect(api.paths).toEqual([])
    } finally {
      api.server.close()
    }
  })

  it('says which Node.js it needs when node on PATH is too old', () => {
    const fake = path.join(scratch, 'node18.cjs')
    writeFileSync(
      fake,
      "Object.defineProperty(process, 'versions', {value: {...process.versions, node: '18.20.4'}});\nObject.defineProperty(process, 'version', {value: 'v18.20.4'});\n",
    )
    const r = spawnSync(process.execPath, ['--require', fake, installed.link, '--version'], {encoding: 'utf8'})
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^error: kubectl svctrace needs Node\.js 20 or newer, but "node" on PATH is v18\.20\.4 /)
  })
})

describe.skipIf(!!seaProblem)('installed from the self-contained linux-amd64 archive, with no node on PATH', () => {
  let installed: Installed & {krewRoot: string}
  let pathDirs: string[]
  beforeAll(() => {
    installed = install(release.archives.linuxAmd64!.path, 'linux', 'amd64')
    pathDirs = [installed.binDir, kubectlOnlyDir()]
  })

  it('has no node on PATH, and kubectl finds the plugin', () => {
    for (const dir of pathDirs) expect(existsSync(path.join(dir, 'node'))).toBe(false)
    expect(spawnSync('sh', ['-c', 'command -v node'], {env: {PATH: pathDirs.join(':')}}).status).not.toBe(0)
    expect(readlinkSync(installed.link)).toBe(`../store/svctrace/v${pkg.version}/kubectl-svctrace`)
    expect(readdirSync(installed.installDir).sort()).toEqual(['LICENSE', 'THIRD-PARTY-NOTICES', 'kubectl-svctrace'])
    const list = kubectl(pathDirs, ['plugin', 'list'])
    expect(list.stdout).toContain(installed.link)
  })

  it('is a stripped node with the svctrace blob injected (fuse flipped)', () => {
    const exe = readFileSync(installed.binPath)
    expect(exe.includes(`${SEA_FUSE}:1`)).toBe(true)
    expect(exe.includes(`${SEA_FUSE}:0`)).toBe(false)
    const sections = spawnSync('readelf', ['-S', '--wide', installed.binPath], {encoding: 'utf8'}).stdout
    expect(sections).toContain('.dynsym')
    expect(sections).not.toMatch(/\.symtab|\.debug_info/)
  })

  it('kubectl svctrace --version, from any directory', () => {
    const v = kubectl(pathDirs, ['svctrace', '--version'], '/')
    expect(v.stderr).toBe('')
    expect(v.code).toBe(0)
    expect(v.stdout).toBe(`kubectl-svctrace/${pkg.version} linux-x64 node-${release.nodeVersion}\n`)
  })

  behavesLikeTheDevelopmentBuild(() => pathDirs, 'sea')

  it('refuses the Node.js archive in place of this one (sha256 mismatch)', () => {
    const krewRoot = path.join(scratch, 'krew-root-mismatch')
    mkdirSync(krewRoot)
    expect(() => krewInstall({manifest: release.manifestPath, archive: release.archives.node.path, krewRoot, os: 'linux', arch: 'amd64'})).toThrow(
      'checksum does not match',
    )
  })
})
