// The self-contained linux-amd64 executable: a Node.js single executable application
// (https://nodejs.org/api/single-executable-applications.html) made from this machine's
// node. The blob must come from the same node binary it is injected into, so this only
// builds on linux x64. The node copy is stripped *before* injection (stripping after
// injection breaks the binary).
import {spawnSync} from 'node:child_process'
import {chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {inject} from 'postject'

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', ...options})
  if (r.error) {
    if (r.error.code === 'ENOENT' && cmd === 'strip') {
      throw new Error('`strip` not found: install binutils (Debian: apt-get install -y binutils)')
    }
    throw r.error
  }
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`)
  return r
}

/** Runs fn with console.warn lines matching `noise` dropped (postject's ELF parser warns about
 * every note section of node's binary; the injection itself is fine). */
async function quietly(noise, fn) {
  const warn = console.warn
  console.warn = (...args) => {
    if (!noise.test(args.map(String).join(' '))) warn(...args)
  }
  try {
    return await fn()
  } finally {
    console.warn = warn
  }
}

/** Why this host cannot build the linux-amd64 executable, or undefined when it can. */
export function seaUnsupportedReason(nodeBinary = process.execPath) {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `the linux-amd64 executable must be built on linux x64 (this is ${process.platform} ${process.arch})`
  if (!readFileSync(nodeBinary).includes(`${SEA_FUSE}:0`)) return `${nodeBinary} has no single-executable fuse (Node.js 20 official builds have it)`
  return undefined
}

/**
 * Builds the executable at `output` from the bundled CommonJS `code` and `assets` ({name:
 * text}, read at run time with sea.getAsset), working in `workDir` (which must exist and be
 * empty). Returns the Node.js version inside.
 */
export async function buildSea({code, assets = {}, output, workDir, nodeBinary = process.execPath}) {
  const reason = seaUnsupportedReason(nodeBinary)
  if (reason) throw new Error(reason)
  const blob = path.join(workDir, 'sea-prep.blob')
  writeFileSync(path.join(workDir, 'sea-main.cjs'), code)
  mkdirSync(path.join(workDir, 'assets'))
  const names = Object.keys(assets).sort()
  for (const name of names) writeFileSync(path.join(workDir, 'assets', name), assets[name])
  // Paths relative to workDir: the blob records the main script's name, and a temporary
  // directory's name would make every build differ.
  writeFileSync(
    path.join(workDir, 'sea-config.json'),
    JSON.stringify(
      {
        main: 'sea-main.cjs',
        output: 'sea-prep.blob',
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        // V8's code cache of the main script: the executable skips parsing and compiling the
        // bundle's top level (measured, 25 runs: --version 161 → 131 ms, --help 264 → 244 ms).
        // V8 writes it differently on every run unless its random seed is fixed (below); a
        // --hash-seed would also make it stable, but that flag is part of the cache's check,
        // and the executable would reject it ("Code cache data rejected", see the smoke test).
        useCodeCache: true,
        assets: Object.fromEntries(names.map((name) => [name, `assets/${name}`])),
      },
      null,
      2,
    ),
  )
  // --random-seed: a fixed seed makes the code cache the same on every build (reproducible archives)
  run(nodeBinary, ['--random-seed=1', '--experimental-sea-config', 'sea-config.json'], {cwd: workDir})
  copyFileSync(nodeBinary, output)
  chmodSync(output, 0o755)
  run('strip', ['--strip-all', output])
  await quietly(/Can't find string offset for section name/, () => inject(output, 'NODE_SEA_BLOB', readFileSync(blob), {sentinelFuse: SEA_FUSE}))
  chmodSync(output, 0o755)
  // Smoke test with an empty environment: no PATH, so no node to fall back on. Nothing on
  // stderr: a code cache the executable rejects only shows as a warning there.
  const r = spawnSync(output, ['--version'], {encoding: 'utf8', env: {}, cwd: workDir, timeout: 60_000})
  if (r.status !== 0 || !/^kubectl-svctrace\//.test(r.stdout) || r.stderr !== '') {
    throw new Error(`the built executable does not run: exit ${r.status}, ${r.error ?? ''}${r.stderr}${r.stdout}`)
  }
  return spawnSync(nodeBinary, ['--version'], {encoding: 'utf8'}).stdout.trim()
}

/** Node.js's own license text, which must ship with an executable that contains Node.js. */
export function nodeLicense(nodeBinary = process.execPath) {
  const prefix = path.dirname(path.dirname(nodeBinary))
  const candidates = [
    process.env.SVCTRACE_NODE_LICENSE,
    '/usr/share/doc/nodejs/LICENSE', // Debian/NodeSource packages
    path.join(prefix, 'share/doc/node/LICENSE'),
    path.join(prefix, 'LICENSE'), // official tarball layout
  ].filter(Boolean)
  for (const file of candidates) {
    if (!existsSync(file)) continue
    const text = readFileSync(file, 'utf8')
    if (/^Node\.js is licensed for use as follows/.test(text)) return text.replace(/\r\n/g, '\n')
  }
  throw new Error(`cannot find Node.js's LICENSE (looked at ${candidates.join(', ')}); set SVCTRACE_NODE_LICENSE to its path`)
}
