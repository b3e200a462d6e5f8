// Targeted collection measured on a real kernel: the generated 10,000-Service dump is loaded into a
// fresh network namespace with iptables-restore, then, in the same run, a whole `iptables-save` is
// timed against the node reader's targeted read (readNodeDataplane) for one Service, both through `ip netns exec` (execFile, no
// shell), as an SSH session runs commands on a node. Three nodes: the big dump with iptables-legacy
// (whose iptables-save is the "~4 s" of big nodes, but which loads the whole table for every
// `iptables -S CHAIN`, under the xtables lock), the same dump with iptables-nft (Debian's default;
// its iptables-save grows quadratically and does not finish in minutes), and a smaller nf_tables
// node whose whole save does finish, for a ratio.
//
//   import {benchTargeted} from './targeted.js'
//   const lines = await benchTargeted({root, dir, services, service, runs, endpoints})
import {execFile, execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {generateBundle} from './generate.js'

const MiB = 2 ** 20
/** iptables-nft-save (1.8.9) grows quadratically with the chain count (3,000 Services: 44 s); stop waiting here. */
const SAVE_TIMEOUT_MS = Number(process.env.BENCH_SAVE_TIMEOUT_MS ?? 45_000)
/** A second, smaller nf_tables node, where a whole iptables-save still finishes, for a ratio. */
const SMALL_SERVICES = Number(process.env.BENCH_TARGETED_SMALL_SERVICES ?? 2000)

/** A NodeSession (src/adapters/node/connector.ts) over a namespace; `rename` maps argv[0] (iptables → iptables-legacy). */
class NetnsSession {
  constructor(netns, rename = {}) {
    this.netns = netns
    this.rename = rename
  }

  commands = 0

  run(cmd) {
    this.commands++
    const [program, ...args] = cmd.argv
    return new Promise((resolve) => {
      execFile(
        'ip',
        ['netns', 'exec', this.netns, this.rename[program] ?? program, ...args],
        {encoding: 'utf8', maxBuffer: 1 << 28, timeout: SAVE_TIMEOUT_MS, killSignal: 'SIGKILL', env: {...process.env, LC_ALL: 'C'}},
        (err, stdout, stderr) => {
          const exitCode = err ? (typeof err.code === 'number' ? err.code : -1) : 0
          resolve({
            stdout,
            stderr: err && exitCode < 0 ? `${stderr}${err.killed ? `stopped after ${SAVE_TIMEOUT_MS / 1000} s` : err.message}` : stderr,
            exitCode,
          })
        },
      )
    })
  }

  async close() {}
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function timed(fn, runs) {
  const times = []
  let last
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint()
    last = await fn()
    times.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  return {ms: median(times), last}
}

function load(netns, restore, file) {
  const t = process.hrtime.bigint()
  const r = spawnSync('ip', ['netns', 'exec', netns, restore], {input: readFileSync(file), timeout: 300_000, killSignal: 'SIGKILL', maxBuffer: 1 << 24})
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  if (r.status !== 0)
    throw new Error(
      `${restore} failed after ${(ms / 1000).toFixed(1)} s: ${
        String(r.stderr || r.error?.message)
          .trim()
          .split('\n')[0]
      }`,
    )
  return ms
}

/** One node: load, time the whole save and the targeted read, check the targeted read traces every backend. */
async function measure({label, restore, rename, bundle, runs, saveRuns, expectBackends, lib}) {
  const netns = `svct-${process.pid}-bench-${label.replace(/[^a-z0-9]+/gi, '-')}`.slice(0, 60)
  execFileSync('ip', ['netns', 'add', netns])
  const result = {label}
  try {
    result.loadMs = load(netns, restore, bundle.file)
    const session = new NetnsSession(netns, rename)
    const full = await timed(() => session.run(lib.nodeCommands.iptablesSave()), saveRuns)
    result.full =
      full.last.exitCode === 0 && full.last.stdout.length > 0
        ? {ms: full.ms, bytes: Buffer.byteLength(full.last.stdout), runs: saveRuns}
        : {error: full.last.stderr.trim().split('\n').pop() || `exit ${full.last.exitCode}, ${full.last.stdout.length} bytes`}
    // The node reader's steps one by one (this session has no shell to batch them in): what the node pays.
    const targeted = await timed(async () => {
      const before = session.commands
      const dp = await lib.readNodeDataplane(session, 'node-0', bundle.plan)
      const capture = dp.captures.find((c) => c.kind === 'iptables-save')
      return capture && {text: capture.text, source: capture.source, bytes: Buffer.byteLength(capture.text), commands: session.commands - before}
    }, runs)
    const read = targeted.last
    if (!read) throw new Error('the targeted read found no nat KUBE-SERVICES')
    const report = lib.buildReport(bundle.query, bundle.view, [{name: 'node-0', captures: [{kind: 'iptables-save', text: read.text, source: read.source}]}])
    const backends = report.nodes[0].paths[0]?.backends.length
    if (backends !== expectBackends) throw new Error(`the targeted read traced ${backends} backends, expected ${expectBackends}`)
    result.targeted = {ms: targeted.ms, bytes: read.bytes, commands: read.commands, source: read.source, runs}
  } catch (err) {
    result.error = err.message
  } finally {
    spawnSync('ip', ['netns', 'delete', netns])
  }
  return result
}

const ms = (x) => `${x.toFixed(0).padStart(6)} ms`
const mib = (b, digits = 1) => `${(b / MiB).toFixed(digits).padStart(6)} MiB`

function lines(r) {
  const out = [`${r.label}${r.loadMs === undefined ? '' : ` (loaded with iptables-restore in ${(r.loadMs / 1000).toFixed(1)} s)`}`]
  if (r.full)
    out.push(
      `  ${'whole iptables-save'.padEnd(48)} ${r.full.error ? `n/a (${r.full.error})` : `${ms(r.full.ms)}  ${mib(r.full.bytes)}  1 command (median of ${r.full.runs})`}`,
    )
  if (r.targeted) {
    out.push(
      `  ${'targeted node read, one Service'.padEnd(48)} ${ms(r.targeted.ms)}  ${mib(r.targeted.bytes, 2)}  ${r.targeted.commands} commands (median of ${r.targeted.runs})`,
    )
    out.push(`  ${''.padEnd(48)} ${r.targeted.source}`)
    if (r.full && !r.full.error)
      out.push(
        `  ${'targeted / whole'.padEnd(48)} ${(r.targeted.ms / r.full.ms).toFixed(3)}× the time, ${((100 * r.targeted.bytes) / r.full.bytes).toFixed(2)}% of the bytes`,
      )
    else if (r.full) out.push(`  ${'targeted / whole'.padEnd(48)} < ${(r.targeted.ms / SAVE_TIMEOUT_MS).toFixed(3)}× the time (the whole save did not finish)`)
  }
  if (r.error) out.push(`  n/a (${r.error})`)
  return out
}

/** The bundle in `dir` (bench/generate.js) with its plan for `service`. */
function bundleAt(dir, service, {planCollection, indexCluster}, parseClusterFile) {
  const view = parseClusterFile(readFileSync(path.join(dir, 'cluster.json'), 'utf8'), 'cluster.json')
  const query = {kind: 'service', namespace: 'bench', service}
  return {file: path.join(dir, 'nodes/node-0/iptables-save.txt'), view, query, plan: planCollection(indexCluster(view), query)}
}

/**
 * Measures targeted collection for `service` of the bundle in `dir` (bench/generate.js, `services`
 * Services) with iptables-legacy and iptables-nft, plus a smaller nf_tables node generated here (its
 * whole iptables-save finishes); returns the lines to print. Needs root and the built dist/.
 */
export async function benchTargeted({root, dir, services, service, runs, endpoints}) {
  if (process.getuid?.() !== 0) return ['targeted collection: n/a (needs root: network namespaces)']
  const dist = (p) => import(path.join(root, 'dist', p))
  const [{readNodeDataplane}, {nodeCommands}, {planCollection}, {buildReport}, {parseClusterFile}, {indexCluster}] = await Promise.all([
    dist('adapters/node/dataplane-reader.js'),
    dist('adapters/node/commands.js'),
    dist('core/collection-plan.js'),
    dist('core/report.js'),
    dist('adapters/bundle/reader.js'),
    dist('core/cluster-index.js'),
  ])
  const lib = {readNodeDataplane, nodeCommands, buildReport}
  const big = bundleAt(dir, service, {planCollection, indexCluster}, parseClusterFile)
  const smallDir = path.join(dir, 'small')
  mkdirSync(smallDir, {recursive: true})
  generateBundle(smallDir, SMALL_SERVICES, endpoints)
  const small = bundleAt(smallDir, `svc-${Math.floor(SMALL_SERVICES / 2)}`, {planCollection, indexCluster}, parseClusterFile)
  const legacy = {restore: 'iptables-legacy-restore', rename: {iptables: 'iptables-legacy', 'iptables-save': 'iptables-legacy-save'}}
  const nft = {restore: 'iptables-nft-restore', rename: {iptables: 'iptables-nft', 'iptables-save': 'iptables-nft-save'}}
  const out = [
    `targeted collection (${big.plan.chains.nat.length + big.plan.chains.filter.length} chains planned for ${service}), every command through ip netns exec`,
  ]
  for (const node of [
    {label: `iptables-legacy, ${services} Services`, ...legacy, bundle: big, saveRuns: runs, runs: Math.min(runs, 3)},
    {label: `iptables-nft, ${services} Services`, ...nft, bundle: big, saveRuns: 1, runs},
    {label: `iptables-nft, ${SMALL_SERVICES} Services`, ...nft, bundle: small, saveRuns: 1, runs},
  ]) {
    out.push(...lines(await measure({...node, expectBackends: endpoints, lib})))
  }
  return out
}
