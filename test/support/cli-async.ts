// `kubectl svctrace …` without blocking this process: needed when the test process itself serves
// what the command reads (the fake API server), which a spawnSync would starve.
import {execFile} from 'node:child_process'
import path from 'node:path'
import {root, type Run} from './cli.js'

/** `kubectl svctrace ARGS` with the plugin folder first on PATH; bounded by `timeoutMs` (default 90 s). */
export function kubectlSvctraceAsync(pluginDir: string, args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 90_000): Promise<Run> {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${pluginDir}${path.delimiter}${process.env.PATH}`,
    NO_COLOR: '1',
    COLUMNS: '80',
    ...env,
  }
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k]
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['svctrace', ...args],
      {cwd: root, timeout: timeoutMs, maxBuffer: 64 << 20, env: merged as NodeJS.ProcessEnv},
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        resolve({code, stdout, stderr})
      },
    )
  })
}
