#!/usr/bin/env node
// Start-up time of `kubectl svctrace` as krew installs it, measured in the same run as
// `kubectl version --client` (a Go binary doing next to nothing: the floor for a kubectl plugin).
//
// Builds the release archives (scripts/package.js, from the current dist/) into
// .bench/startup/, installs each the way `kubectl krew install --manifest --archive` does,
// then times every command through the real kubectl, round-robin, and reports the median.
// Also timed: `npm i -g`'s layout (bin/run.js, which runs the bundle dist/svctrace.cjs), `node -e 0`, and
// node loading only the lazy client-node / ssh2 bundle: what start-up would cost if they were
// in the main bundle (`npm run bench:startup` compiles dist/ first).
//
//   node bench/startup.js [--runs N] [--release DIR]     (DIR: use archives already built there)
//   import {benchStartup} from './startup.js'; const rows = await benchStartup({runs: 15})
//     → [{name, ms, ratio}], ratio = ms / ms of `kubectl version --client`
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import os from 'node:os'
import {lazyFileName} from '../scripts/krew/bundle.js'
import {writePerformanceDoc} from './performance-doc.js'
import {krewInstall} from '../scripts/krew/krew.js'
import {archiveNames, packageRelease, PLUGIN_NAME, ROOT} from '../scripts/package.js'

const EXAMPLE = path.join(ROOT, 'examples/hello-world')
const COMMANDS = [
  ['--version', ['--version']],
  ['--help', ['--help']],
  ['hello-world --from examples/hello-world', ['hello-world', '--from', EXAMPLE]],
]

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`${cmd} is not on PATH`)
  return r.stdout.trim()
}

function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/**
 * Rows {name, ms, ratio}: median wall time of each command over `runs` runs (after `warmup`),
 * and its ratio to `kubectl version --client` measured alongside.
 */
export async function benchStartup({runs = 15, warmup = 2, release, log = () => {}} = {}) {
  const work = path.join(ROOT, '.bench/startup')
  rmSync(work, {recursive: true, force: true})
  mkdirSync(work, {recursive: true})
  try {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
    const names = archiveNames(`v${pkg.version}`)
    let dir = release
    if (!dir) {
      log('building the release archives (scripts/package.js) …')
      // from dist/ as it is: `npm run bench:startup` compiles it first
      if (!existsSync(path.join(ROOT, 'dist/svctrace.cjs'))) throw new Error('dist/svctrace.cjs is missing: run `npm run build` first')
      dir = (await packageRelease({outDir: path.join(work, 'release'), build: false, writeManifest: false, quiet: true})).outDir
    }
    const manifest = path.join(dir, `${PLUGIN_NAME}.yaml`)
    const kubectl = which('kubectl')
    const tools = path.join(work, 'tools') // kubectl and nothing else
    mkdirSync(tools)
    symlinkSync(kubectl, path.join(tools, 'kubectl'))
    const nodeDir = path.dirname(process.execPath)

    const sea = krewInstall({manifest, archive: path.join(dir, names.linuxAmd64), krewRoot: path.join(work, 'krew-sea'), os: 'linux', arch: 'amd64'})
    const node = krewInstall({manifest, archive: path.join(dir, names.node), krewRoot: path.join(work, 'krew-node'), os: 'linux', arch: 'arm64'})
    const npm = path.join(work, 'npm-bin') // what `npm i -g` puts on PATH: a link to bin/run.js (runs dist/svctrace.cjs)
    mkdirSync(npm)
    symlinkSync(path.join(ROOT, 'bin/run.js'), path.join(npm, 'kubectl-svctrace'))

    const flavours = [
      ['krew linux-amd64, no node', [sea.binDir, tools]],
      ['krew node archive', [node.binDir, nodeDir, tools]],
      ['npm i -g layout', [npm, nodeDir, tools]],
    ]
    const cases = [{name: 'kubectl version --client', path: [tools], args: ['version', '--client']}]
    for (const [flavour, dirs] of flavours) {
      for (const [what, args] of COMMANDS) cases.push({name: `kubectl svctrace ${what} [${flavour}]`, path: dirs, args: ['svctrace', ...args]})
    }
    // What the lazy bundles save: node doing nothing, and node loading only the client-node
    // bundle (which --help, --version and offline traces skip; a live cluster pays it once).
    const lib = path.join(node.installDir, 'lib')
    const clientNode = path.join(lib, lazyFileName('@kubernetes/client-node'))
    const ssh2 = path.join(lib, lazyFileName('ssh2'))
    cases.push({name: 'node -e 0', cmd: process.execPath, path: [nodeDir], args: ['-e', '0']})
    for (const file of [clientNode, ssh2].filter((f) => existsSync(f))) {
      const mod = `{exports: {}}`
      const load = `const f=${JSON.stringify(file)};const m=${mod};require('vm').compileFunction(require('fs').readFileSync(f,'utf8'),['exports','require','module','__filename','__dirname'],{filename:f}).call(m.exports,m.exports,require,m,f,${JSON.stringify(lib)})`
      cases.push({name: `node: load lib/${path.basename(file)} only`, cmd: process.execPath, path: [nodeDir], args: ['-e', load]})
    }

    const times = cases.map(() => [])
    for (let round = 0; round < warmup + runs; round++) {
      cases.forEach((c, i) => {
        const started = process.hrtime.bigint()
        const r = spawnSync(c.cmd ?? kubectl, c.args, {cwd: work, encoding: 'utf8', env: {PATH: c.path.join(path.delimiter), HOME: work, NO_COLOR: '1'}})
        const ms = Number(process.hrtime.bigint() - started) / 1e6
        if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`)
        if (round >= warmup) times[i].push(ms)
      })
      log(`round ${round + 1}/${warmup + runs}`)
    }
    const base = median(times[0])
    return cases.map((c, i) => {
      const ms = median(times[i])
      return {name: c.name, ms: Math.round(ms * 10) / 10, ratio: Math.round((ms / base) * 100) / 100}
    })
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

async function main(argv) {
  const opts = {}
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') opts.runs = Number(argv[++i])
    else if (argv[i] === '--release') opts.release = path.resolve(argv[++i])
    else throw new Error(`unknown option ${argv[i]} (use --runs N, --release DIR)`)
  }
  const rows = await benchStartup({...opts, log: (m) => process.stderr.write(`\r${m}   `)})
  process.stderr.write('\n')
  const width = Math.max(...rows.map((r) => r.name.length))
  const lines = [
    `${'command'.padEnd(width)}  median ms  × kubectl version --client`,
    ...rows.map((r) => `${r.name.padEnd(width)}  ${r.ms.toFixed(1).padStart(9)}  ${r.ratio.toFixed(2).padStart(5)}`),
    `(${opts.runs ?? 15} runs each, round-robin, ${process.version}, ${process.platform}-${process.arch})`,
  ]
  for (const l of lines) console.log(l)
  const measured = `Measured with \`npm run bench:startup${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}.`
  const intro = 'Each command through the real kubectl (which execs the plugin), against `kubectl version --client` in the same run.'
  writePerformanceDoc(ROOT, '## Start-up (issue 13)', 'kubectl svctrace start-up', [measured, intro, '', '```text', ...lines, '```'].join('\n'))
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`bench/startup: ${err.message}`)
    process.exit(1)
  })
}
