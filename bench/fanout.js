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
// Prints medians and ratios, never asserts, and writes the table into its section of docs/performance.md
// (only when it measured).
//
//   node bench/fanout.js                 (npm run bench:fanout builds dist/ first; BENCH_FANOUT_RUNS, default 3;
//                                        BENCH_FANOUT_LOGS=DIR keeps each CLI scenario's -v log there)
//   import {benchFanout} from './fanout.js'; const lines = await benchFanout({root, command: 'npm run bench'})
//
// The namespaces, sshd and fake API server come from test/support (TypeScript), bundled here with
// esbuild into .bench/ at start. Everything made is removed at the end, on failure and on SIGINT/SIGTERM
// too; every wait is bounded. Traffic goes only to loopback and to addresses inside our namespaces.
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {startRelay} from './relay.js'

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

/** 127.0.1.N: the address the API gives node N (1-based), where its relay listens. */
const relayAddress = (n) => `127.0.1.${n}`
const nodeName = (n) => `node${n}`

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs a child without blocking this process (the relays and the API server live here); bounded. */
function runChild(argv, {env = process.env, timeoutMs}) {
  const [cmd, ...args] = argv
  return new Promise((resolve) => {
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
      resolve({code: code ?? -1, signal, stdout, stderr})
    })
  })
}

/** test/support's namespaces, sshd, fake API server and rule renderer, bundled by esbuild into `dir` (under the repo, so packages resolve). */
async function loadSupport(root, dir) {
  const {build} = await import('esbuild')
  const file = path.join(dir, 'support.mjs')
  const from = (p) => JSON.stringify(path.join(root, p))
  await build({
    stdin: {
      contents: [
        `export * from ${from('test/support/netns.ts')}`,
        `export * from ${from('test/support/sshd.ts')}`,
        `export * from ${from('test/support/fake-apiserver.ts')}`,
        `export {renderKubeProxyRestore} from ${from('test/support/kube-proxy-rules.ts')}`,
        `export {parseClusterFile} from ${from('src/adapters/bundle/reader.ts')}`,
      ].join('\n'),
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
  return import(pathToFileURL(file).href)
}

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
async function scenario(env, nodes, fn) {
  const walls = []
  const per = {connections: [], channels: [], turns: [], commands: []}
  let stray = 0
  let verbose
  for (let run = 0; run < RUNS; run++) {
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
      if (result.verbose !== undefined) per.commands.push(countOf(result.verbose, new RegExp(` ssh ${env.names[i]}: `, 'g')))
    })
  }
  return {ms: median(walls), walls, per, stray, verbose}
}

/** `node bin/run.js ARGS --via ssh …` with -v and -o json; fails unless every node in `expect` was read. */
function cli(root, env, args, expect) {
  const flags = ['--via', 'ssh', '--ssh-user', 'root', '--ssh-key', env.key.privateKeyPath, '--known-hosts', env.knownHosts]
  const childEnv = {...process.env, KUBECONFIG: env.kubeconfig, HOME: env.home, NO_COLOR: '1'}
  delete childEnv.SSH_AUTH_SOCK
  return async () => {
    const r = await runChild(
      [process.execPath, path.join(root, 'bin/run.js'), ...args, ...flags, '-o', 'json', '-v', '--connect-timeout', '10', '--node-timeout', '30'],
      {
        env: childEnv,
        timeoutMs: CLI_TIMEOUT_MS,
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
    return {verbose: r.stderr}
  }
}

/** The OpenSSH client running `iptables-save` on each node in turn, through the same relays. */
function opensshLoop(env, nodes) {
  const opts = ['-F', '/dev/null', '-i', env.key.privateKeyPath, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${env.knownHosts}`]
  opts.push('-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR')
  const childEnv = {...process.env, HOME: env.home}
  delete childEnv.SSH_AUTH_SOCK
  return async () => {
    for (const i of nodes) {
      const r = await runChild(['ssh', ...opts, `root@${relayAddress(i + 1)}`, 'iptables-save'], {env: childEnv, timeoutMs: SSH_TIMEOUT_MS})
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

/** Replaces (or appends) this bench's section of docs/performance.md; other sections are left as they are. */
function writeDoc(root, body) {
  const file = path.join(root, 'docs/performance.md')
  const old = existsSync(file)
    ? readFileSync(file, 'utf8')
    : 'Figures measured by the benches in bench/ (`npm run bench`); each section says the command that produced it.\n'
  const section = `${SECTION}\n\n${body.trimEnd()}\n`
  const start = old.indexOf(`${SECTION}\n`)
  let text
  if (start < 0) {
    text = `${old.trimEnd()}\n\n${section}`
  } else {
    const next = old.slice(start + SECTION.length).search(/^## /m)
    const end = next < 0 ? old.length : start + SECTION.length + next
    text = `${old.slice(0, start)}${section}${end < old.length ? `\n${old.slice(end)}` : ''}`
  }
  writeFileSync(file, text)
}

function probe(root) {
  if (process.platform !== 'linux') return 'needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, sshd)'
  if (!existsSync(path.join(root, 'dist/commands/svctrace.js'))) return 'dist/ is missing: run npm run build'
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']
  const missing = REQUIRED.filter((b) => !dirs.some((d) => d && existsSync(path.join(d, b))))
  return missing.length > 0 ? `missing ${missing.join(', ')}` : undefined
}

/**
 * Measures reading nodes over SSH through slow relays; returns the lines to print and writes them into
 * docs/performance.md (not when it could not measure). `command` is what to record as having produced them.
 */
export async function benchFanout({root, command = 'node bench/fanout.js'}) {
  const reason = probe(root)
  if (reason) return [`reading nodes over SSH: n/a (${reason})`]
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
    const support = await loadSupport(root, work)
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
    const sshVersion = (await runChild(['ssh', '-V'], {timeoutMs: 5_000})).stderr.trim()
    const header = [
      `reading nodes over SSH: ${NODES} nodes (a real sshd each, in a network namespace, ${env.size.rules} kube-proxy rules in ${env.size.lines} lines of iptables-save), ${DELAY_MS} ms each way`,
      `through a relay per node (TCP handshake not delayed); wall: median of ${RUNS} runs; per node: min/median/max over nodes × runs`,
      `(one value when all equal). SSH conns and exec channels from sshd's log; client turns: client sends after waiting`,
      `≥ ${QUIET_MS} ms for the server (≈ round trips of ${2 * DELAY_MS} ms); commands: node commands logged by -v.`,
      `Set-up ${setupS.toFixed(0)} s, set-up and scenarios ${seconds().toFixed(0)} s.`,
      '',
    ]
    const lines = table(rows, header)
    if (process.env.BENCH_FANOUT_LOGS) saveLogs(process.env.BENCH_FANOUT_LOGS, rows)
    const cpus = os.cpus().length
    const runsEnv = process.env.BENCH_FANOUT_RUNS ? `BENCH_FANOUT_RUNS=${RUNS} ` : ''
    writeDoc(
      root,
      [
        `Measured with \`${runsEnv}${command}\` (bench/fanout.js, needs root) on ${new Date().toISOString().slice(0, 10)}: ${cpus} CPUs, Node ${process.version}, ${sshVersion}.`,
        'kubectl-svctrace runs with its default --parallel; the baseline is the OpenSSH client, one node after the other.',
        '',
        '```text',
        ...lines,
        '```',
      ].join('\n'),
    )
    return lines
  } catch (err) {
    return [`reading nodes over SSH: n/a (${err.message.split('\n')[0]})`]
  } finally {
    await made.destroy().catch((err) => console.error(`bench/fanout.js: ${err.message}`))
    removeWork()
    process.off('exit', removeWork)
    process.off('exit', killOwnNamespaceProcesses)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const command = process.env.npm_lifecycle_event === 'bench:fanout' ? 'npm run bench:fanout' : 'node bench/fanout.js'
  console.log((await benchFanout({root, command})).join('\n'))
}
