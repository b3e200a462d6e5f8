#!/usr/bin/env node
// Reading nodes over SSH on a slow network (issue 12): the real CLI (`node bin/run.js … --via ssh`,
// built dist/) against 20 nodes, each a network namespace with a real `sshd -D -e` (LogLevel VERBOSE)
// and its own kube-proxy rules (rendered by test/support/kube-proxy-rules.ts for the reference capture's
// objects: 95 rules, ~140 lines of iptables-save) loaded with iptables-restore; the API (those objects
// with 20 Nodes) is served by the project's fake API server. Each Node's InternalIP is a loopback address 127.0.1.N where a relay (bench/relay.js)
// listens and forwards to that node's sshd, adding 50 ms each way. Baseline measured in the same run:
// the OpenSSH client running `iptables-save` on each node, one node after the other, through the same
// relays. Per node, from sshd's log: SSH connections ("Accepted publickey") and exec channels ("Starting
// session"); from the relay: client turns (≈ sequential round trips); from `-v`: node commands logged.
//
// Then one node with 10,000 Services (benchBigNode): bench/generate.js's dump (BENCH_SERVICES, default
// 10000, × BENCH_ENDPOINTS, default 14) loaded twice, with iptables-nft-restore into one namespace (Debian's
// default `iptables`, nf_tables) and with iptables-legacy-restore into another, whose sshd puts a directory
// first on PATH where iptables, iptables-save and iptables-restore are the legacy tools (checked with
// `ssh NODE iptables -V`). The API serves the generated cluster.json, its one Node (node-0) at the relay's
// address; the relay is pointed at one namespace's sshd, then the other. Measured per backend: the CLI's
// one-Service trace (the trace must show the Service's endpoints as that node's backends, or the row fails)
// against the whole read `ssh NODE iptables-save` through the same relay: time, exec channels, client turns,
// bytes read from the node (the -v lines' bytes summed; ssh's stdout) and bytes on the wire. The whole read
// on the nf_tables node takes minutes (iptables-nft-save grows quadratically): only with BENCH_FANOUT_NFT_SAVE=1.
//
// Prints medians and ratios, never asserts, and writes each table into its own subsection of its section
// of docs/performance.md (only when it measured).
//
//   node bench/fanout.js                 (npm run bench:fanout builds dist/ first; BENCH_FANOUT_RUNS, default 3;
//                                        BENCH_FANOUT_LOGS=DIR keeps each CLI scenario's -v log there;
//                                        BENCH_FANOUT_SCENARIOS=nodes,10k picks the scenarios, default both)
//   import {benchFanout} from './fanout.js'; const lines = await benchFanout({root, command: 'npm run bench', bundle: {dir, services, endpoints}})
//
// The namespaces, sshd and fake API server come from test/support (TypeScript), bundled here with
// esbuild into .bench/ at start. Everything made is removed at the end, on failure and on SIGINT/SIGTERM
// too; every wait is bounded. Traffic goes only to loopback and to addresses inside our namespaces.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {loadSupport, median, runChild} from './child.js'
import {generateBundle} from './generate.js'
import {startRelay} from './relay.js'
import {writePerformanceDoc} from './performance-doc.js'

const NODES = 20
const RUNS = Number(process.env.BENCH_FANOUT_RUNS ?? 3)
const DELAY_MS = 50
const QUIET_MS = 20
const SERVICE = 'frontend'
const NAMESPACE = 'storefront'
const FIXTURE = 'test/fixtures/two-node-iptables-v1.26'
const CLI_TIMEOUT_MS = 120_000
const SSH_TIMEOUT_MS = 30_000
const SECTION = '## Reading nodes over SSH (issue 12)'
const REQUIRED = ['ip', 'iptables-restore', 'sshd', 'ssh', 'ssh-keygen', 'openssl']

// One node with 10,000 Services (benchBigNode).
const BIG_SERVICES = Number(process.env.BENCH_SERVICES ?? 10000)
const BIG_ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 14)
/** The one Node's InternalIP, where its relay listens (the 20 nodes use 127.0.1.N). */
const BIG_ADDRESS = '127.0.2.1'
const BIG_NAMESPACE = 'bench'
/** Loading ~430,000 rules with iptables-restore takes seconds; bounded generously (a loaded machine). */
const LOAD_TIMEOUT_MS = 300_000
/** A trace that reads nat whole (the legacy node: ~60 MiB) and parses it. */
const BIG_CLI_TIMEOUT_MS = 300_000
const BIG_NODE_TIMEOUT_S = 180
const LEGACY_SAVE_TIMEOUT_MS = 120_000
/**
 * iptables-nft-save at 10,000 Services takes minutes (quadratic in the chains): only on request. Measured
 * once (BENCH_FANOUT_NFT_SAVE=1, iptables 1.8.9, 2026-12-06): it ran about 6 minutes, then crashed (exit 139).
 */
const NFT_SAVE = process.env.BENCH_FANOUT_NFT_SAVE === '1'
const NFT_SAVE_TIMEOUT_MS = Number(process.env.BENCH_FANOUT_NFT_SAVE_TIMEOUT_S ?? 1800) * 1000
/** sshd's own PATH for root sessions (Debian); the legacy node's sshd puts its bin directory first. */
const SSHD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const LEGACY_NAMES = {iptables: 'iptables-legacy', 'iptables-save': 'iptables-legacy-save', 'iptables-restore': 'iptables-legacy-restore'}
const BIG_REQUIRED = ['iptables-nft-restore', 'iptables-legacy-restore', ...Object.values(LEGACY_NAMES)]
const MiB = 2 ** 20

/** 127.0.1.N: the address the API gives node N (1-based), where its relay listens. */
const relayAddress = (n) => `127.0.1.${n}`
const nodeName = (n) => `node${n}`

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** test/support's namespaces, sshd, fake API server and rule renderer, bundled into `dir`. */
function loadFanoutSupport(root, dir) {
  const exports = [
    ['*', 'test/support/netns.ts'],
    ['*', 'test/support/sshd.ts'],
    ['*', 'test/support/fake-apiserver.ts'],
    ['{renderKubeProxyRestore}', 'test/support/kube-proxy-rules.ts'],
    ['{parseClusterFile}', 'src/adapters/bundle/cluster-file.ts'],
  ]
  return loadSupport(root, dir, exports, SUPPORT_EXPORTS)
}

/** What this bench calls in test/support and src. */
const SUPPORT_EXPORTS = [
  'Sshd',
  'Topology',
  'attachTestProcessToLan',
  'cleanupLeftovers',
  'generateClientKey',
  'parseClusterFile',
  'renderKubeProxyRestore',
  'startFakeApiServer',
  'unusedTestSubnet',
]

/** The reference capture's API objects with `count` nodes (node1…nodeN, clones of node1) at their relay addresses. */
function clusterView(root, support, count) {
  const view = support.parseClusterFile(readFileSync(path.join(root, FIXTURE, 'cluster.yaml'), 'utf8'), 'cluster.yaml')
  const template = view.nodes.find((n) => n.metadata?.name === 'node1')
  view.nodes = Array.from({length: count}, (_, i) => {
    const name = nodeName(i + 1)
    const node = JSON.parse(JSON.stringify(template))
    const podCIDR = `10.244.${i + 1}.0/24`
    node.metadata = {...node.metadata, name, uid: `bench-${name}`, labels: {...node.metadata?.labels, 'kubernetes.io/hostname': name}}
    node.spec = {...node.spec, podCIDR, podCIDRs: [podCIDR]}
    node.status = {
      ...node.status,
      addresses: [
        {type: 'InternalIP', address: relayAddress(i + 1)},
        {type: 'Hostname', address: name},
      ],
    }
    return node
  })
  return view
}

const countOf = (text, re) => (text.match(re) ?? []).length

/** min/median/max of a list of counts, as `a/b/c` (or `a` when all equal). */
function spread(xs) {
  if (xs.length === 0) return 'n/a'
  const s = [...xs].sort((a, b) => a - b)
  const [lo, mid, hi] = [s[0], median(s), s[s.length - 1]]
  return lo === hi ? String(lo) : `${lo}/${mid}/${hi}`
}

/** What setUp makes, filled in as it is made; `destroy()` removes it all, in order, and may be called again. */
function resources() {
  const made = {relays: [], sshd: [], topo: undefined, server: undefined}
  made.destroy = async () => {
    const errors = []
    const step = async (fn) => {
      try {
        await fn()
      } catch (err) {
        errors.push(err.message)
      }
    }
    await Promise.all(made.relays.splice(0).map((r) => step(() => r.close())))
    const server = made.server
    made.server = undefined
    if (server) await step(() => server.close())
    await Promise.all(made.sshd.splice(0).map((s) => step(() => s?.destroy())))
    // Deleting the namespaces also kills what still runs in them (sshd's per-connection processes).
    const topo = made.topo
    made.topo = undefined
    if (topo) await step(() => topo.destroy())
    if (errors.length > 0) throw new Error(`clean-up: ${errors.join('; ')}`)
  }
  return made
}

/**
 * Synchronous last resort on exit (a signal, a crash): kills every process left in this process's
 * namespaces (`svct-PID-…`), such as sshd's per-connection children, which outlive their listener.
 * The namespaces themselves are deleted by test/support/netns.ts's own exit hook.
 */
function killOwnNamespaceProcesses() {
  const sync = (args) => execFileSync('ip', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000})
  try {
    for (const ns of sync(['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0])) {
      if (!ns.startsWith(`svct-${process.pid}-`)) continue
      for (const pid of sync(['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL')
        } catch {
          // gone
        }
      }
    }
  } catch {
    // ip failed: nothing more to do here
  }
}

/** Builds the 20 nodes, their relays and the API into `made` (resources()); the caller destroys it, on failure too. */
async function setUp(root, support, work, made) {
  await support.cleanupLeftovers()
  const subnet = await support.unusedTestSubnet()
  const prefix = subnet.split('.').slice(0, 3).join('.')
  const lanIP = (n) => `${prefix}.${10 + n}`
  const view = clusterView(root, support, NODES)
  made.topo = await support.Topology.create(
    {lanCIDR: subnet, nodes: view.nodes.map((node, i) => ({name: node.metadata.name, ip: lanIP(i + 1), podCIDR: node.spec.podCIDR})), pods: []},
    {label: 'fanout'},
  )
  const topo = made.topo
  // Each node's own kube-proxy rules for the served objects (its name and address in them).
  const rules = view.nodes.map((node, i) =>
    support.renderKubeProxyRestore(view, node.metadata.name, {clusterCIDR: '10.244.0.0/16', nodeIPs: [relayAddress(i + 1)]}),
  )
  await Promise.all(view.nodes.map((node, i) => topo.loadRules(node.metadata.name, rules[i])))
  await support.attachTestProcessToLan(topo, `${prefix}.2`)
  const key = await support.generateClientKey(work, 'id_bench')
  // allSettled: every sshd that did start is in `made` before a failure is thrown, so destroy() stops it.
  const started = await Promise.allSettled(
    view.nodes.map(async (node, i) => {
      made.sshd[i] = await support.Sshd.start(topo, {member: node.metadata.name, address: lanIP(i + 1), authorizedKeys: [key.publicKey]})
    }),
  )
  const failed = started.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  for (let i = 0; i < NODES; i++) {
    made.relays.push(
      await startRelay({listen: {host: relayAddress(i + 1), port: 22}, target: {host: lanIP(i + 1), port: 22}, delayMs: DELAY_MS, quietMs: QUIET_MS}),
    )
  }
  const knownHosts = path.join(work, 'known_hosts')
  writeFileSync(knownHosts, made.sshd.map((s, i) => `${relayAddress(i + 1)} ${s.hostPublicKey}\n`).join(''))
  made.server = await support.startFakeApiServer({view})
  const kubeconfig = path.join(work, 'kubeconfig')
  writeFileSync(kubeconfig, made.server.kubeconfig({context: 'bench', namespace: NAMESPACE}))
  const home = path.join(work, 'home')
  mkdirSync(home, {recursive: true})
  const size = {rules: median(rules.map((r) => countOf(r, /^-A /gm))), lines: median(rules.map((r) => countOf(r, /\n/g)))}
  return {names: view.nodes.map((n) => n.metadata.name), sshd: made.sshd, relays: made.relays, key, knownHosts, kubeconfig, home, size}
}

/**
 * Runs `fn` RUNS times; after each run, per node in `nodes` (indexes): SSH connections and exec channels
 * from sshd's log, client turns summed over the relay's connections, node commands from the -v log.
 * Returns the median wall time, the per-node counts of every run pooled and the last -v log, or the first failure.
 */
async function scenario(env, nodes, fn, runs = RUNS) {
  const walls = []
  const per = {connections: [], channels: [], turns: [], commands: [], bytes: [], wire: []}
  let stray = 0
  let verbose
  for (let run = 0; run < runs; run++) {
    const logAt = env.sshd.map((s) => s.log.length)
    const connAt = env.relays.map((r) => r.connections.length)
    const t = process.hrtime.bigint()
    const result = await fn()
    const ms = Number(process.hrtime.bigint() - t) / 1e6
    if (result.error) return {error: result.error}
    walls.push(ms)
    verbose = result.verbose
    // The clients have exited; wait (bounded) for the relays to forward the last closes and sshd to log.
    await Promise.all(env.relays.map((r) => r.idle(5_000)))
    await sleep(100)
    env.sshd.forEach((s, i) => {
      const log = s.log.slice(logAt[i])
      const conns = env.relays[i].connections.slice(connAt[i])
      if (!nodes.includes(i)) {
        stray += conns.length
        return
      }
      per.connections.push(countOf(log, /Accepted publickey for /g))
      per.channels.push(countOf(log, /Starting session: /g))
      per.turns.push(conns.reduce((n, c) => n + c.turns, 0))
      per.wire.push(conns.reduce((n, c) => n + c.down.bytes, 0))
      const logged = result.verbose === undefined ? undefined : loggedCommands(result.verbose, env.names[i])
      if (logged) per.commands.push(logged.count)
      const bytes = result.bytes?.[i] ?? logged?.bytes
      if (bytes !== undefined) per.bytes.push(bytes)
    })
  }
  return {ms: median(walls), walls, per, stray, verbose, runs}
}

/**
 * The node commands -v logged for `node` (`ssh N: CMD exit 0, 1234 bytes (channel 1: …)`, `… failed (timeout) …`; not its
 * notes on how it read the node), each once: -v logs a step of a compound command once for every branch that names it,
 * so lines of one channel are counted once per command. bytes: their stdout and stderr (a failed one's are not logged).
 */
function loggedCommands(verbose, node) {
  const line = new RegExp(
    `^\\S+ \\S+ ssh ${escapeRe(node)}: (.*) (?:exit -?\\d+(?:, (\\d+) bytes)?|failed \\([^)]*\\)) (?:\\(channel (\\d+): \\d+ commands in \\d+ milliseconds\\)|in \\d+ milliseconds)$`,
    'gm',
  )
  const seen = new Map()
  for (const m of verbose.matchAll(line)) seen.set(m[3] === undefined ? `#${seen.size}` : `${m[3]} ${m[1]}`, Number(m[2] ?? 0))
  return {count: seen.size, bytes: [...seen.values()].reduce((a, b) => a + b, 0)}
}

/**
 * `node bin/run.js ARGS --via ssh …` with -v and -o json; fails unless every node in `expect` was read
 * and `check(report)` (when given) returns no error text.
 */
function cli(root, env, args, expect, {timeoutMs = CLI_TIMEOUT_MS, nodeTimeoutS = 30, check} = {}) {
  const flags = ['--via', 'ssh', '--ssh-user', 'root', '--ssh-key', env.key.privateKeyPath, '--known-hosts', env.knownHosts]
  const childEnv = {...process.env, KUBECONFIG: env.kubeconfig, HOME: env.home, NO_COLOR: '1'}
  delete childEnv.SSH_AUTH_SOCK
  return async () => {
    const r = await runChild(
      [
        process.execPath,
        path.join(root, 'bin/run.js'),
        ...args,
        ...flags,
        '-o',
        'json',
        '-v',
        '--connect-timeout',
        '10',
        '--node-timeout',
        String(nodeTimeoutS),
      ],
      {
        env: childEnv,
        timeoutMs,
      },
    )
    if (r.code !== 0 && r.code !== 1) return {error: `exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`}
    let report
    try {
      report = JSON.parse(r.stdout)
    } catch {
      return {error: `no JSON report: ${r.stdout.slice(0, 200)}`}
    }
    const read = new Set(report.nodes.filter((n) => !n.readError).map((n) => n.name))
    const missing = expect.filter((n) => !read.has(n))
    if (missing.length > 0) {
      const why = report.nodes.find((n) => n.readError)?.readError ?? 'not in the report'
      return {error: `${missing.length} node(s) not read (${missing.slice(0, 3).join(', ')}): ${why}`}
    }
    const wrong = check?.(report)
    if (wrong) return {error: wrong}
    return {verbose: r.stderr}
  }
}

/** The OpenSSH client's argv up to the destination (our key and known_hosts only, no agent, no config), and its environment. */
function opensshClient(env, extra = []) {
  const opts = ['-F', '/dev/null', '-i', env.key.privateKeyPath, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${env.knownHosts}`]
  opts.push('-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', ...extra)
  const childEnv = {...process.env, HOME: env.home}
  delete childEnv.SSH_AUTH_SOCK
  return {argv: ['ssh', ...opts], env: childEnv}
}

/** The OpenSSH client running `iptables-save` on each node in turn, through the same relays. */
function opensshLoop(env, nodes) {
  const ssh = opensshClient(env)
  return async () => {
    for (const i of nodes) {
      const r = await runChild([...ssh.argv, `root@${relayAddress(i + 1)}`, 'iptables-save'], {env: ssh.env, timeoutMs: SSH_TIMEOUT_MS})
      if (r.code !== 0) return {error: `ssh ${env.names[i]}: exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`}
      if (!r.stdout.includes('*nat')) return {error: `ssh ${env.names[i]}: iptables-save printed no nat table`}
    }
    return {}
  }
}

function table(rows, header) {
  const out = [...header]
  out.push(
    `${'scenario'.padEnd(50)} ${'wall'.padStart(8)}  ${'ratio to baseline'.padEnd(24)} ${'per node: SSH conns'.padStart(19)} ${'exec channels'.padStart(13)} ${'client turns'.padStart(12)} ${'commands (-v)'.padStart(13)}`,
  )
  for (const {name, r, base} of rows) {
    if (r.error) {
      out.push(`${name.padEnd(50)} n/a (${r.error})`)
      continue
    }
    const ratio = base && !base.r.error ? `${(r.ms / base.r.ms).toFixed(2)}× ${base.short}` : base ? 'n/a' : '(baseline)'
    out.push(
      `${name.padEnd(50)} ${`${r.ms.toFixed(0)} ms`.padStart(8)}  ${ratio.padEnd(24)} ${spread(r.per.connections).padStart(19)} ${spread(r.per.channels).padStart(13)} ${spread(r.per.turns).padStart(12)} ${(r.per.commands.length ? spread(r.per.commands) : '-').padStart(13)}`,
    )
    if (r.stray > 0) out.push(`${''.padEnd(50)} (and ${r.stray} SSH connection(s) to nodes outside the scenario)`)
  }
  return out
}

/** BENCH_FANOUT_LOGS=DIR: each CLI scenario's -v stderr (last run) in DIR/SCENARIO.log, one line per API request and node command. */
function saveLogs(dir, rows) {
  mkdirSync(dir, {recursive: true})
  for (const {name, r} of rows) {
    if (r.verbose !== undefined) writeFileSync(path.join(dir, `${name.replace(/[^A-Za-z0-9-]+/g, '_')}.log`), r.verbose)
  }
}

/** Replaces (or appends) one subsection of this bench's section of docs/performance.md. */
function writeDoc(root, title, body) {
  writePerformanceDoc(root, SECTION, title, body)
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function findBin(name) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']
  return dirs.map((d) => d && path.join(d, name)).find((f) => f && existsSync(f))
}

function probe(root, required) {
  if (process.platform !== 'linux') return 'needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, sshd)'
  if (!existsSync(path.join(root, 'dist/commands/svctrace.js'))) return 'dist/ is missing: run npm run build'
  const missing = required.filter((b) => !findBin(b))
  return missing.length > 0 ? `missing ${missing.join(', ')}` : undefined
}

/**
 * Runs `body(work, support, made)` with a scratch directory under .bench/, test/support bundled, and what
 * it makes (`made`, resources()) removed at the end, on failure and on SIGINT/SIGTERM too. Returns body's
 * lines, or one `LABEL: n/a (why)` line.
 */
async function measured(root, label, required, body) {
  const reason = probe(root, required)
  if (reason) return [`${label}: n/a (${reason})`]
  const work = path.join(root, '.bench', `fanout-${process.pid}`)
  rmSync(work, {recursive: true, force: true})
  mkdirSync(work, {recursive: true})
  const removeWork = () => rmSync(work, {recursive: true, force: true})
  const made = resources()
  process.on('exit', removeWork)
  process.on('exit', killOwnNamespaceProcesses)
  // A signal would skip every exit hook: clean up (bounded), then exit through the hooks for what is left.
  const onSignal = (signal) => {
    void Promise.race([made.destroy().catch(() => undefined), sleep(15_000)]).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const support = await loadFanoutSupport(root, work)
    return await body(work, support, made)
  } catch (err) {
    // Not "cannot measure here" (probe's reasons): the bench itself failed, so the run fails too.
    console.error(`bench/fanout.js: ${label}: ${err.stack ?? err.message}`)
    process.exitCode = 1
    return [`${label}: n/a (${err.message.split('\n')[0]})`]
  } finally {
    await made.destroy().catch((err) => console.error(`bench/fanout.js: ${err.message}`))
    removeWork()
    process.off('exit', removeWork)
    process.off('exit', killOwnNamespaceProcesses)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** `Measured with … on DATE: N CPUs, Node …, OpenSSH …` for a subsection of docs/performance.md. */
async function measuredWith(command) {
  const sshVersion = (await runChild(['ssh', '-V'], {timeoutMs: 5_000})).stderr.trim()
  const settings = ['BENCH_FANOUT_RUNS', 'BENCH_FANOUT_SCENARIOS', 'BENCH_SERVICES', 'BENCH_ENDPOINTS', 'BENCH_FANOUT_NFT_SAVE']
    .filter((k) => process.env[k] !== undefined)
    .map((k) => `${k}=${process.env[k]} `)
    .join('')
  return `Measured with \`${settings}${command}\` (bench/fanout.js, needs root) on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, Node ${process.version}, ${sshVersion}.`
}

/** 20 nodes with small rule sets: one Service on one node, on every node, and -A, against ssh NODE iptables-save. */
async function benchNodes({root, command}) {
  return measured(root, 'reading nodes over SSH', REQUIRED, async (work, support, made) => {
    const t = process.hrtime.bigint()
    const seconds = () => Number(process.hrtime.bigint() - t) / 1e9
    const env = await setUp(root, support, work, made)
    const setupS = seconds()
    const all = env.names.map((_, i) => i)
    const one = [0]
    const b1 = {short: 'of 1 ssh', r: await scenario(env, one, opensshLoop(env, one))}
    const bN = {short: `of ${NODES} ssh in a row`, r: await scenario(env, all, opensshLoop(env, all))}
    const rows = [
      {name: 'baseline: ssh NODE iptables-save, 1 node', r: b1.r},
      {name: `kubectl-svctrace ${SERVICE} --nodes node1`, r: await scenario(env, one, cli(root, env, [SERVICE, '--nodes', 'node1'], ['node1'])), base: b1},
      {name: `baseline: ssh NODE iptables-save, ${NODES} in a row`, r: bN.r},
      {name: `kubectl-svctrace ${SERVICE}, ${NODES} nodes`, r: await scenario(env, all, cli(root, env, [SERVICE], env.names)), base: bN},
      {name: `kubectl-svctrace -A, ${NODES} nodes`, r: await scenario(env, all, cli(root, env, ['-A'], env.names)), base: bN},
    ]
    const header = [
      `reading nodes over SSH: ${NODES} nodes (a real sshd each, in a network namespace, ${env.size.rules} kube-proxy rules in ${env.size.lines} lines of iptables-save), ${DELAY_MS} ms each way`,
      `through a relay per node (TCP handshake not delayed); wall: median of ${RUNS} runs; per node: min/median/max over nodes × runs`,
      `(one value when all equal). SSH conns and exec channels from sshd's log; client turns: client sends after waiting`,
      `≥ ${QUIET_MS} ms for the server (≈ round trips of ${2 * DELAY_MS} ms); commands: node commands logged by -v (each once).`,
      `Set-up ${setupS.toFixed(0)} s, set-up and scenarios ${seconds().toFixed(0)} s.`,
      '',
    ]
    const lines = table(rows, header)
    if (process.env.BENCH_FANOUT_LOGS) saveLogs(process.env.BENCH_FANOUT_LOGS, rows)
    writeDoc(
      root,
      `${NODES} nodes`,
      docSection(
        await measuredWith(command),
        ['kubectl-svctrace runs with its default --parallel; the baseline is the OpenSSH client, one node after the other.'],
        lines,
      ),
    )
    return lines
  })
}

// ---------------------------------------------------------------------------------------------------------
// One node with 10,000 Services, on each iptables backend.

/** A directory whose iptables, iptables-save and iptables-restore are the legacy tools: first on the legacy node's PATH. */
function legacyBinDir(work) {
  const dir = path.join(work, 'legacy-bin')
  mkdirSync(dir, {recursive: true})
  for (const [name, legacy] of Object.entries(LEGACY_NAMES)) symlinkSync(findBin(legacy), path.join(dir, name))
  return dir
}

/** The bundle's API objects (bench/generate.js's cluster.json), its one Node at the relay's address. */
function bigClusterView(support, dir) {
  const view = support.parseClusterFile(readFileSync(path.join(dir, 'cluster.json'), 'utf8'), 'cluster.json')
  if (view.nodes.length !== 1) throw new Error(`${dir}/cluster.json has ${view.nodes.length} Nodes, expected 1`)
  const node = view.nodes[0]
  node.status = {
    ...node.status,
    addresses: [
      {type: 'InternalIP', address: BIG_ADDRESS},
      {type: 'Hostname', address: node.metadata.name},
    ],
  }
  return view
}

/** `report` shows, on `node`, exactly the endpoints of `service`'s EndpointSlices as backends on every path, or says what it shows instead. */
function backendsCheck(view, node, service) {
  const slices = view.endpointSlices.filter((s) => s.metadata?.namespace === BIG_NAMESPACE && s.metadata?.labels?.['kubernetes.io/service-name'] === service)
  const want = slices.flatMap((s) => s.endpoints.flatMap((e) => e.addresses.map((a) => `${a}:${s.ports[0].port}`))).sort()
  return (report) => {
    const paths = report.nodes.find((n) => n.name === node)?.paths ?? []
    if (paths.length === 0) return `the trace shows no path on ${node}`
    for (const p of paths) {
      const got = p.backends.map((b) => `${b.ip}:${b.port}`).sort()
      if (got.join() !== want.join()) return `${p.entry.address} on ${node}: ${got.length} backends, expected the Service's ${want.length} endpoints`
    }
    return undefined
  }
}

/** The two nodes (network namespaces, the same rules loaded by each backend), their sshd, and the API; the relay comes per backend (onBackend). */
async function setUpBig(support, work, made, bundle) {
  await support.cleanupLeftovers()
  const subnet = await support.unusedTestSubnet()
  const prefix = subnet.split('.').slice(0, 3).join('.')
  const backends = [
    {label: 'iptables-nft', member: 'nft', restore: 'iptables-nft-restore', marker: '(nf_tables)', fullRead: NFT_SAVE},
    {
      label: 'iptables-legacy',
      member: 'legacy',
      restore: 'iptables-legacy-restore',
      marker: '(legacy)',
      fullRead: true,
      env: {PATH: `${legacyBinDir(work)}:${SSHD_PATH}`},
    },
  ].map((b, i) => ({...b, ip: `${prefix}.${11 + i}`}))
  made.topo = await support.Topology.create(
    {lanCIDR: subnet, nodes: backends.map((b, i) => ({name: b.member, ip: b.ip, podCIDR: `10.250.${i + 1}.0/24`})), pods: []},
    {label: 'fanout-big'},
  )
  const rules = readFileSync(bundle.file, 'utf8')
  for (const b of backends) {
    const t = process.hrtime.bigint()
    await made.topo.exec(b.member, [b.restore], {input: rules, timeoutMs: LOAD_TIMEOUT_MS})
    b.loadS = Number(process.hrtime.bigint() - t) / 1e9
  }
  await support.attachTestProcessToLan(made.topo, `${prefix}.2`)
  const key = await support.generateClientKey(work, 'id_bench')
  for (const b of backends) {
    b.sshd = await support.Sshd.start(made.topo, {member: b.member, address: b.ip, authorizedKeys: [key.publicKey], env: b.env})
    made.sshd.push(b.sshd)
  }
  const view = bigClusterView(support, bundle.dir)
  made.server = await support.startFakeApiServer({view})
  const kubeconfig = path.join(work, 'kubeconfig')
  writeFileSync(kubeconfig, made.server.kubeconfig({context: 'bench', namespace: BIG_NAMESPACE}))
  const home = path.join(work, 'home')
  mkdirSync(home, {recursive: true})
  const size = {rules: countOf(rules, /^-A /gm), bytes: Buffer.byteLength(rules)}
  return {backends, view, node: view.nodes[0].metadata.name, key, knownHosts: path.join(work, 'known_hosts'), kubeconfig, home, size}
}

/** Runs `fn(env)` with the one Node's relay pointed at backend `b`'s sshd (and known_hosts naming its host key); the relay is closed after. */
async function onBackend(big, made, b, fn) {
  writeFileSync(big.knownHosts, `${BIG_ADDRESS} ${b.sshd.hostPublicKey}\n`)
  const relay = await startRelay({listen: {host: BIG_ADDRESS, port: 22}, target: {host: b.ip, port: 22}, delayMs: DELAY_MS, quietMs: QUIET_MS})
  made.relays.push(relay)
  try {
    return await fn({...big, sshd: [b.sshd], relays: [relay], names: [big.node]})
  } finally {
    made.relays.splice(made.relays.indexOf(relay), 1)
    await relay.close()
  }
}

/** `ssh NODE ARGV` through the relay with the OpenSSH client; rejects unless it exits 0. */
async function sshRun(env, argv, {timeoutMs = SSH_TIMEOUT_MS, extra = []} = {}) {
  const ssh = opensshClient(env, extra)
  const r = await runChild([...ssh.argv, `root@${BIG_ADDRESS}`, ...argv], {env: ssh.env, timeoutMs})
  if (r.code !== 0) throw new Error(`ssh ${env.node} ${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
  return r.stdout
}

/** The whole read: `ssh NODE iptables-save` through the relay; its stdout's bytes. Keep-alives carry a save that prints nothing for minutes through the relay. */
function opensshSave(env, timeoutMs) {
  return async () => {
    try {
      const out = await sshRun(env, ['iptables-save'], {timeoutMs, extra: ['-o', 'ServerAliveInterval=15']})
      if (!out.includes('*nat')) return {error: 'iptables-save printed no nat table'}
      return {bytes: [Buffer.byteLength(out)]}
    } catch (err) {
      return {error: err.message}
    }
  }
}

/** One backend: check `iptables -V` names it, then the whole read (when enabled) and the CLI's one-Service trace. */
async function measureBackend(root, env, b, service) {
  const version = (await sshRun(env, ['iptables', '-V'])).trim()
  if (!version.includes(b.marker)) throw new Error(`${b.label} node: ssh NODE iptables -V says ${JSON.stringify(version)}, expected ${b.marker}`)
  const full = b.fullRead
    ? await scenario(
        env,
        [0],
        opensshSave(env, b.label === 'iptables-nft' ? NFT_SAVE_TIMEOUT_MS : LEGACY_SAVE_TIMEOUT_MS),
        b.label === 'iptables-nft' ? 1 : RUNS,
      )
    : undefined
  const check = backendsCheck(env.view, env.node, service)
  const trace = await scenario(
    env,
    [0],
    cli(root, env, [service, '-n', BIG_NAMESPACE], [env.node], {timeoutMs: BIG_CLI_TIMEOUT_MS, nodeTimeoutS: BIG_NODE_TIMEOUT_S, check}),
  )
  return {backend: b, version, full, trace}
}

/**
 * What one chain listing costs on the node itself (in its namespace, no SSH): `TOOL -t nat -S
 * KUBE-SERVICES`, median of RUNS. iptables-legacy loads the whole table for any listing, so no read
 * of that node can take less; iptables-nft fetches only what it lists.
 */
async function nodeListing(topo, b) {
  const argv = [b.label, '-w', '5', '-t', 'nat', '-S', 'KUBE-SERVICES']
  const ms = []
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint()
    await topo.exec(b.member, argv, {timeoutMs: LOAD_TIMEOUT_MS})
    ms.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  return {command: argv.join(' '), ms: median(ms)}
}

const mib = (b) => `${(b / MiB).toFixed(b < 10 * MiB ? 2 : 1)} MiB`

function bigTable(results, service, header) {
  const out = [...header]
  const cols = (name, wall, ratio, bytes, bytesRatio, wire, channels, turns, conns, commands) =>
    `${name.padEnd(46)} ${wall.padStart(9)}  ${ratio.padStart(8)} ${bytes.padStart(10)} ${bytesRatio.padStart(9)} ${wire.padStart(10)} ${channels.padStart(8)} ${turns.padStart(6)} ${conns.padStart(5)} ${commands.padStart(8)}`
  out.push(cols('', '', 'time /', 'bytes', 'bytes /', 'on the', 'exec', 'client', 'SSH', 'commands'))
  out.push(cols('scenario', 'wall', 'full read', 'read', 'full read', 'wire', 'channels', 'turns', 'conns', '(-v)'))
  const legacyFull = results.find((x) => x.backend.label === 'iptables-legacy')?.full
  let dagger = false
  const row = (name, r, base) => {
    if (r.error) return out.push(`${name.padEnd(46)} n/a (${r.error})`)
    const bytes = median(r.per.bytes)
    const ok = base && !base.r.error
    const mark = ok && base.other ? '†' : ''
    dagger ||= mark !== ''
    out.push(
      cols(
        name,
        `${r.ms.toFixed(0)} ms`,
        ok ? `${(r.ms / base.r.ms).toFixed(3)}×${mark}` : base ? 'n/a' : '(base)',
        mib(bytes),
        ok ? `${(bytes / median(base.r.per.bytes)).toFixed(3)}×${mark}` : base ? 'n/a' : '(base)',
        mib(median(r.per.wire)),
        spread(r.per.channels),
        spread(r.per.turns),
        spread(r.per.connections),
        r.per.commands.length ? spread(r.per.commands) : '-',
      ),
    )
  }
  for (const {backend: b, version, full, trace, listing} of results) {
    out.push('', `${b.label} node (ssh NODE iptables -V: ${version}), rules loaded with ${b.restore} in ${b.loadS.toFixed(1)} s`)
    if (full) row('  baseline: ssh NODE iptables-save (full read)', full)
    else
      out.push(
        `${'  baseline: ssh NODE iptables-save (full read)'.padEnd(46)} not run: iptables-nft-save takes minutes at this size (quadratic in the chains), and may crash; BENCH_FANOUT_NFT_SAVE=1 runs it once`,
      )
    const base = full && !full.error ? {r: full} : legacyFull ? {r: legacyFull, other: true} : undefined
    row(`  kubectl-svctrace ${service} -n ${BIG_NAMESPACE}`, trace, base)
    if (full && full.runs !== RUNS && !full.error) out.push(`${''.padEnd(46)} (the full read: ${full.runs} run)`)
    const how = trace.verbose?.match(/ ssh \S+: (targeted read .*)$/m)?.[1]
    if (how) out.push(`${''.padEnd(46)} ${how}`)
    if (listing) {
      const of = base ? ` = ${(listing.ms / base.r.ms).toFixed(3)}×${base.other ? '†' : ''} of the full read` : ''
      out.push(`${''.padEnd(46)} on the node, no SSH: ${listing.command} ${listing.ms.toFixed(0)} ms${of} (median of ${RUNS})`)
    }
  }
  if (dagger) out.push('', `† of the iptables-legacy node's full read: the same rules, through the same relay (the nf_tables one was not run, or failed)`)
  return out
}

/**
 * One node with many Services (bench/generate.js; `bundle` {dir, services, endpoints} reuses one already
 * generated), on iptables-nft and on iptables-legacy: the CLI's one-Service trace against the whole read.
 */
export async function benchBigNode({root, command = 'node bench/fanout.js', bundle}) {
  return measured(root, 'one node with many Services over SSH', [...REQUIRED, ...BIG_REQUIRED], async (work, support, made) => {
    const t = process.hrtime.bigint()
    const seconds = () => Number(process.hrtime.bigint() - t) / 1e9
    const loadAtStart = os.loadavg()
    let b = bundle
    if (!b) {
      b = {dir: path.join(work, 'bundle'), services: BIG_SERVICES, endpoints: BIG_ENDPOINTS}
      generateBundle(b.dir, b.services, b.endpoints)
    }
    const big = await setUpBig(support, work, made, {...b, file: path.join(b.dir, 'nodes/node-0/iptables-save.txt')})
    const setupS = seconds()
    const service = `svc-${Math.floor(b.services / 2)}`
    const results = []
    for (const backend of big.backends) {
      const r = await onBackend(big, made, backend, (env) => measureBackend(root, env, backend, service))
      results.push({...r, listing: await nodeListing(made.topo, backend)})
    }
    const loadAtEnd = os.loadavg()
    const header = [
      `one node with ${b.services} Services × ${b.endpoints} endpoints over SSH: ${big.size.rules} rules, ${mib(big.size.bytes)} of iptables-save (bench/generate.js),`,
      `loaded into two network namespaces (one per iptables backend), a real sshd each; the API serves the generated objects,`,
      `the one Node (${big.node}) at a relay adding ${DELAY_MS} ms each way (TCP handshake not delayed), pointed at one namespace, then the other.`,
      `wall: median of ${RUNS} runs${NFT_SAVE ? ' (the nf_tables full read: 1)' : ''}. bytes read: from the node, for kubectl-svctrace the sum of the bytes its -v`,
      `lines give per node command, for ssh its stdout; on the wire: what the relay forwarded from the node (SSH, encrypted).`,
      `exec channels and SSH conns from sshd's log; client turns: client sends after waiting ≥ ${QUIET_MS} ms for the server`,
      `(≈ round trips of ${2 * DELAY_MS} ms); commands: node commands logged by -v (each once); min/median/max over runs (one value when all equal).`,
      `Load average (1 min) ${loadAtStart[0].toFixed(2)} at the start, ${loadAtEnd[0].toFixed(2)} at the end, ${os.cpus().length} CPUs. Set-up ${setupS.toFixed(0)} s, set-up and scenarios ${seconds().toFixed(0)} s.`,
    ]
    const lines = bigTable(results, service, header)
    if (process.env.BENCH_FANOUT_LOGS) {
      saveLogs(
        process.env.BENCH_FANOUT_LOGS,
        results.map((x) => ({name: `${b.services}-services-${x.backend.label}`, r: x.trace})),
      )
    }
    writeDoc(
      root,
      'One node with many Services',
      docSection(
        await measuredWith(command),
        [
          `The trace is \`kubectl-svctrace ${service} -n ${BIG_NAMESPACE} --via ssh -o json -v\` (its report must show the Service's ${b.endpoints} endpoints as the node's backends);`,
          'the full read is the OpenSSH client running `iptables-save` on the node.',
        ],
        lines,
      ),
    )
    return lines
  })
}

/** A docs/performance.md subsection: how it was measured, what it shows, then the printed table. */
function docSection(measured, intro, lines) {
  return [measured, ...intro, '', '```text', ...lines, '```'].join('\n')
}

/** BENCH_FANOUT_SCENARIOS (comma-separated: nodes, 10k), default both. */
function wanted() {
  const names = (process.env.BENCH_FANOUT_SCENARIOS ?? 'nodes,10k').split(',').map((s) => s.trim())
  const unknown = names.filter((n) => n !== 'nodes' && n !== '10k')
  if (unknown.length > 0) throw new Error(`BENCH_FANOUT_SCENARIOS: unknown ${unknown.join(', ')} (nodes, 10k)`)
  return new Set(names)
}

/**
 * Measures reading nodes over SSH through slow relays (20 small nodes, then one node with many Services);
 * returns the lines to print and writes each table into docs/performance.md (not when it could not measure).
 * `command` is what to record as having produced them; `bundle` ({dir, services, endpoints}) reuses a
 * bench/generate.js bundle for the big node.
 */
export async function benchFanout({root, command = 'node bench/fanout.js', bundle}) {
  const which = wanted()
  const out = []
  if (which.has('nodes')) out.push(...(await benchNodes({root, command})))
  if (which.has('10k')) out.push(...(out.length ? [''] : []), ...(await benchBigNode({root, command, bundle})))
  return out
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const command = process.env.npm_lifecycle_event === 'bench:fanout' ? 'npm run bench:fanout' : 'node bench/fanout.js'
  console.log((await benchFanout({root, command})).join('\n'))
}
