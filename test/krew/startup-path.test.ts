// Heavy modules stay off the start-up path: --help, --version and offline traces (--from)
// must not load @kubernetes/client-node or ssh2 (or what they pull in). Checked on the
// compiled modules (bin/dev.js over dist/) with a module-load recorder, and on what `npm i -g`
// installs (bin/run.js, which runs the bundle dist/svctrace.cjs) in a copy without the lazy
// bundles; the installed krew archives are checked in install.test.ts the same way.
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {lazyFileName} from '../../scripts/krew/bundle.js'
import {example, root} from '../support/cli.js'

const HEAVY = /node_modules\/(@kubernetes\/client-node|ssh2|cpu-features|node-fetch|ws|openid-client|jose|socks|@types\/ssh2)\//
const recorder = path.join(root, 'test/krew/support/record-loads.mjs')
let scratch: string

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist/commands/svctrace.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-startup-'))
})
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

// A cluster at 127.0.0.1:9 (discard: nothing answers there).
const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'current-context: x',
  'clusters: [{name: c, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]',
  'users: [{name: u, user: {token: t}}]',
  'contexts: [{name: x, context: {cluster: c, user: u}}]',
  '',
].join('\n')

let n = 0
/** Runs BIN (bin/dev.js) ARGS under the recorder; returns the exit code and the modules loaded. */
function loads(
  args: string[],
  env: Record<string, string> = {},
  bin = path.join(root, 'bin/dev.js'),
): {code: number | null; stdout: string; stderr: string; modules: string[]} {
  const log = path.join(scratch, `loads-${++n}.txt`)
  writeFileSync(log, '')
  const r = spawnSync(process.execPath, ['--import', recorder, bin, ...args], {
    cwd: scratch,
    encoding: 'utf8',
    timeout: 60_000,
    env: {...process.env, NO_COLOR: '1', SVCTRACE_LOAD_LOG: log, KUBECONFIG: path.join(scratch, 'no-such-kubeconfig'), ...env},
  })
  const modules = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\w+ (file:\/\/)?/, ''))
  return {code: r.status, stdout: r.stdout, stderr: r.stderr, modules}
}

const OFFLINE: Array<[string, string[]]> = [
  ['--version', ['--version']],
  ['--help', ['--help']],
  ['an offline trace', ['hello-world', '--from', example]],
  ['an offline address lookup', ['--ip', '10.96.77.44:80', '--from', example, '-o', 'json']],
  ['an offline check of a namespace', ['-n', 'default', '--from', example]],
]

describe('start-up path of the compiled command', () => {
  it.each(OFFLINE)('%s loads no heavy module', (_what, args) => {
    const r = loads(args)
    expect(r.code, r.stderr).not.toBe(2)
    expect(r.modules.length).toBeGreaterThan(20) // the recorder saw the run (oclif alone is more)
    expect(r.modules.filter((m) => m.includes('/dist/commands/svctrace.js'))).toHaveLength(1)
    expect(r.modules.filter((m) => HEAVY.test(m))).toEqual([])
  })

  it('the recorder does see client-node when a live cluster is used', () => {
    const kubeconfig = path.join(scratch, 'kubeconfig.yaml')
    writeFileSync(kubeconfig, KUBECONFIG)
    const r = loads(['hello-world', '--kubeconfig', kubeconfig])
    expect(r.modules.some((m) => /node_modules\/@kubernetes\/client-node\//.test(m))).toBe(true)
  })
})

describe('start-up path of the npm layout (bin/run.js runs dist/svctrace.cjs)', () => {
  let pkg: string
  beforeAll(() => {
    // bin/ and dist/'s bundles as `npm i -g` installs them, without the lazy bundles and without node_modules
    pkg = path.join(scratch, 'npm-layout')
    mkdirSync(path.join(pkg, 'dist'), {recursive: true})
    cpSync(path.join(root, 'bin'), path.join(pkg, 'bin'), {recursive: true})
    cpSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'))
    const lazy = readdirSync(path.join(root, 'dist')).filter((f) => /^svctrace-.*\.cjs$/.test(f))
    expect(lazy).toContain(lazyFileName('@kubernetes/client-node'))
    cpSync(path.join(root, 'dist/svctrace.cjs'), path.join(pkg, 'dist/svctrace.cjs'))
    cpSync(path.join(root, 'dist/version.cjs'), path.join(pkg, 'dist/version.cjs'))
  })

  it.each(OFFLINE)('%s runs the bundle alone, like the compiled modules', (_what, args) => {
    const r = loads(args, {}, path.join(pkg, 'bin/run.js'))
    const dev = loads(args)
    expect(r.stderr).toBe(dev.stderr)
    expect(r.stdout).toBe(dev.stdout)
    expect(r.code).toBe(dev.code)
    // files of ours only, nothing from a node_modules tree (there is none) nor dist/'s modules;
    // `--version` alone is answered by dist/version.cjs without reading the bundle
    // (bin/load-bundle.cjs evaluates the bundle itself, as a vm.Script: it is read, not required)
    const ours = [path.join(pkg, 'bin/run.js'), path.join(pkg, 'dist/version.cjs')]
    expect(r.modules.filter((m) => !m.startsWith('node:') && m !== recorder && !m.endsWith('/record-loads.mjs'))).toEqual(
      args.length === 1 && args[0] === '--version' ? ours : [...ours, path.join(pkg, 'bin/load-bundle.cjs')],
    )
  })

  it.each([
    ['the code cache the build trained', () => readFileSync(path.join(root, 'dist/svctrace.cjs.v8cache'))],
    ['a damaged code cache', () => Buffer.from('not a V8 code cache')],
  ])('%s beside the bundle: the same output as without one', (_what, cache) => {
    const withCache = path.join(scratch, 'npm-layout-cached')
    cpSync(pkg, withCache, {recursive: true})
    writeFileSync(path.join(withCache, 'dist/svctrace.cjs.v8cache'), cache())
    for (const [, args] of OFFLINE) {
      const r = loads(args, {}, path.join(withCache, 'bin/run.js'))
      const without = loads(args, {}, path.join(pkg, 'bin/run.js'))
      expect({code: r.code, stdout: r.stdout, stderr: r.stderr}).toEqual({code: without.code, stdout: without.stdout, stderr: without.stderr})
    }
  })

  it('a live cluster does load the client-node bundle (missing here)', () => {
    const kubeconfig = path.join(scratch, 'kubeconfig.yaml')
    writeFileSync(kubeconfig, KUBECONFIG)
    const r = loads(['hello-world', '--kubeconfig', kubeconfig], {}, path.join(pkg, 'bin/run.js'))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(lazyFileName('@kubernetes/client-node'))
  })
})
