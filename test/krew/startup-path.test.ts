// Heavy modules stay off the start-up path: --help, --version and offline traces (--from)
// must not load @kubernetes/client-node or ssh2 (or what they pull in). Checked on the
// compiled command (dist/, as `npm i -g` installs it) with a module-load recorder; the
// installed krew archives are checked in install.test.ts (with the lazy bundle removed).
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {example, root} from '../support/cli.js'

const HEAVY = /node_modules\/(@kubernetes\/client-node|ssh2|cpu-features|node-fetch|ws|openid-client|jose|socks|@types\/ssh2)\//
const recorder = path.join(root, 'test/krew/support/record-loads.mjs')
let scratch: string

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist/commands/svctrace.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
  scratch = mkdtempSync(path.join(tmpdir(), 'svctrace-startup-'))
})
afterAll(() => rmSync(scratch, {recursive: true, force: true}))

let n = 0
/** Runs bin/run.js ARGS under the recorder; returns the exit code and the modules loaded. */
function loads(args: string[], env: Record<string, string> = {}): {code: number | null; stderr: string; modules: string[]} {
  const log = path.join(scratch, `loads-${++n}.txt`)
  writeFileSync(log, '')
  const r = spawnSync(process.execPath, ['--import', recorder, path.join(root, 'bin/run.js'), ...args], {
    cwd: scratch,
    encoding: 'utf8',
    timeout: 60_000,
    env: {...process.env, NO_COLOR: '1', SVCTRACE_LOAD_LOG: log, KUBECONFIG: path.join(scratch, 'no-such-kubeconfig'), ...env},
  })
  const modules = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\w+ (file:\/\/)?/, ''))
  return {code: r.status, stderr: r.stderr, modules}
}

describe('start-up path of the compiled command', () => {
  it.each([
    ['--version', ['--version']],
    ['--help', ['--help']],
    ['an offline trace', ['hello-world', '--from', example]],
    ['an offline address lookup', ['--ip', '10.96.77.44:80', '--from', example, '-o', 'json']],
    ['an offline check of a namespace', ['-n', 'default', '--from', example]],
  ])('%s loads no heavy module', (_what, args) => {
    const r = loads(args)
    expect(r.code, r.stderr).not.toBe(2)
    expect(r.modules.length).toBeGreaterThan(20) // the recorder saw the run (oclif alone is more)
    expect(r.modules.filter((m) => m.includes('/dist/commands/svctrace.js'))).toHaveLength(1)
    expect(r.modules.filter((m) => HEAVY.test(m))).toEqual([])
  })

  it('the recorder does see client-node when a live cluster is used', () => {
    const kubeconfig = path.join(scratch, 'kubeconfig.yaml')
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: x',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        '',
      ].join('\n'),
    )
    const r = loads(['hello-world', '--kubeconfig', kubeconfig])
    expect(r.modules.some((m) => /node_modules\/@kubernetes\/client-node\//.test(m))).toBe(true)
  })
})
