// What the benches that run the CLI beside servers of their own share: a bounded child process that
// does not block the event loop (the relays and the fake API server live in the bench's process), the
// median, and test/support bundled by esbuild so that a plain-JavaScript bench can call it.
import {spawn} from 'node:child_process'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Runs a child without blocking this process; killed after `timeoutMs`. Resolves {code, signal, stdout, stderr, ms}. */
export function runChild(argv, {env = process.env, timeoutMs}) {
  const [cmd, ...args] = argv
  return new Promise((resolve) => {
    const started = performance.now()
    const child = spawn(cmd, args, {env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs / 1000} s)`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', (err) => (stderr += `\n${err.message}`))
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code: code ?? -1, signal, stdout, stderr, ms: performance.now() - started})
    })
  })
}

/**
 * `exports` (lines of `export … from 'REPO-PATH'`, paths from the repository root) bundled by esbuild
 * into DIR/support.mjs (under the repository, so packages resolve) and imported; throws when one of
 * `required` is not a function there (esbuild cannot tell a missing re-export from a type).
 */
export async function loadSupport(root, dir, exports, required) {
  const {build} = await import('esbuild')
  const file = path.join(dir, 'support.mjs')
  await build({
    stdin: {
      contents: exports.map(([names, from]) => `export ${names} from ${JSON.stringify(path.join(root, from))}`).join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: file,
    logLevel: 'error',
  })
  const support = await import(pathToFileURL(file).href)
  const missing = required.filter((name) => typeof support[name] !== 'function')
  if (missing.length > 0) throw new Error(`the bundled test/support has no ${missing.join(', ')} (moved or renamed? update the bench)`)
  return support
}
