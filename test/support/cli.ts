// Runs the built command the way users do: `kubectl svctrace …`, found by kubectl's plugin
// lookup in a PATH folder that holds a kubectl-svctrace link to bin/run.js (which runs dist/svctrace.cjs).
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const root = fileURLToPath(new URL('../../', import.meta.url))
export const example = path.join(root, 'examples/hello-world')

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** A PATH folder holding kubectl-svctrace; remove() when done. */
export function pluginPath(): {dir: string; remove: () => void} {
  // bin/run.js runs the bundle dist/svctrace.cjs, which `npm run build` makes after tsc
  if (!existsSync(path.join(root, 'dist/svctrace.cjs'))) {
    throw new Error('dist/svctrace.cjs is missing: run `npm run build` first (npm test does)')
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-plugin-'))
  symlinkSync(path.join(root, 'bin/run.js'), path.join(dir, 'kubectl-svctrace'))
  return {dir, remove: () => rmSync(dir, {recursive: true, force: true})}
}

/** `kubectl svctrace ARGS` with the plugin folder first on PATH; bounded by a timeout. */
export function kubectlSvctrace(pluginDir: string, args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync('kubectl', ['svctrace', ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    timeout: 60_000,
    env: {...process.env, PATH: `${pluginDir}${path.delimiter}${process.env.PATH}`, NO_COLOR: '1', COLUMNS: '80', ...env},
  })
  if (r.error) throw r.error
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

/** The golden file's text; UPDATE_GOLDEN=1 rewrites it from `actual` first. */
export function golden(name: string, actual: string): string {
  const file = path.join(root, 'test/golden', name)
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual)
  if (!existsSync(file)) throw new Error(`no golden file ${file}: run UPDATE_GOLDEN=1 npx vitest run test/cli, then review it`)
  return readFileSync(file, 'utf8')
}
