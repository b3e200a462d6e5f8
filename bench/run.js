#!/usr/bin/env node
// npm run bench: tracing one Service on a generated 10,000-Service node, whole process, against
// baselines measured in the same run on the same dump:
//   - iptables-restore --test (netfilter's own parser; root, in a scratch network namespace)
//   - the floor for a Node program that looks at the whole dump: node reading the file and counting its
//     `-A KUBE-SVC-` lines with Buffer.indexOf, start-up included (issue 13's definition)
// then targeted collection (bench/targeted.js): the same dump loaded into network namespaces, a whole
// iptables-save against reading only one Service's chains, per iptables backend; then reading 20 nodes
// over SSH through relays that add 50 ms each way, and the same dump on one node read over SSH through
// such a relay, per iptables backend (bench/fanout.js, also written to docs/performance.md).
// Prints medians and ratios and writes them to docs/performance.md; never asserts (targets belong here,
// not in timed tests). Last, the API through such a relay (bench/api.js). BENCH_SKIP=targeted,fanout
// leaves out the node-reading parts, BENCH_SKIP=api the API's.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {generateBundle, vipOf} from './generate.js'
import {benchApi} from './api.js'
import {benchFanout} from './fanout.js'
import {benchTargeted} from './targeted.js'
import {writePerformanceDoc} from './performance-doc.js'
import os from 'node:os'

const root = fileURLToPath(new URL('..', import.meta.url))
const SERVICES = Number(process.env.BENCH_SERVICES ?? 10000)
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 14)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Wall time of a command, RUNS times; returns the median in ms, the last result, and every run's stderr. */
function time(cmd, args, opts = {}) {
  const times = []
  const stderrs = []
  let last
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint()
    last = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000, ...opts})
    times.push(Number(process.hrtime.bigint() - t) / 1e6)
    if (last.status !== 0) return {ms: NaN, error: (last.stderr || last.error?.message || '').trim().split('\n')[0]}
    stderrs.push(last.stderr ?? '')
  }
  return {ms: median(times), result: last, stderrs}
}

/** The peak RSS bench/peak-rss.js printed in each run of `r`: median, least and most (MiB), or undefined. */
function peakOf(r) {
  const peaks = (r.stderrs ?? []).map((e) => Number(/peak-rss-mib (\d+)/.exec(e)?.[1]))
  if (peaks.length === 0 || peaks.some(Number.isNaN)) return undefined
  return {median: median(peaks), min: Math.min(...peaks), max: Math.max(...peaks)}
}

/** A peak RSS row: the median over runs, its ratio to the dump, and the range when runs differ. */
function peakRow(name, peak, dumpMiB) {
  if (!peak) return `${name.padEnd(52)} n/a`
  const range = peak.max > peak.min ? `; ${peak.min}–${peak.max} MiB over ${RUNS} runs` : ''
  return `${name.padEnd(52)} ${String(peak.median).padStart(6)} MiB   (${(peak.median / dumpMiB).toFixed(2)}× the dump${range})`
}

function iptablesRestoreBaseline(file) {
  if (process.getuid?.() !== 0) return {ms: NaN, error: 'needs root (network namespace)'}
  const ns = `svctrace-bench-${process.pid}`
  try {
    execFileSync('ip', ['netns', 'add', ns])
  } catch (err) {
    return {ms: NaN, error: `ip netns add failed: ${err.message}`}
  }
  try {
    return time('ip', ['netns', 'exec', ns, 'sh', '-c', `iptables-restore --test < ${file}`])
  } finally {
    spawnSync('ip', ['netns', 'delete', ns])
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-bench-'))
try {
  const {rules, bytes} = generateBundle(dir, SERVICES, ENDPOINTS)
  const dump = path.join(dir, 'nodes/node-0/iptables-save.txt')
  console.log(`node dump: ${SERVICES} Services × ${ENDPOINTS} endpoints = ${rules} rules, ${(bytes / 2 ** 20).toFixed(1)} MiB; median of ${RUNS} runs\n`)

  const svc = `svc-${Math.floor(SERVICES / 2)}`
  const ours = time(process.execPath, [path.join(root, 'bin/run.js'), svc, '-n', 'bench', '--from', dir, '-o', 'json', '--fail-on', 'none'])
  if (ours.result) {
    const report = JSON.parse(ours.result.stdout)
    const backends = report.nodes[0].paths[0].backends.length
    if (backends !== ENDPOINTS) throw new Error(`trace found ${backends} backends, expected ${ENDPOINTS}`)
  }
  const rss = time(process.execPath, [
    '--expose-gc',
    path.join(root, 'bench/peak-rss.js'),
    svc,
    '-n',
    'bench',
    '--from',
    dir,
    '-o',
    'json',
    '--fail-on',
    'none',
  ])
  const peak = peakOf(rss)
  // Check mode over every Service (the summary table: -o json of 10,000 Services is ~200 MB).
  const all = time(process.execPath, [path.join(root, 'bin/run.js'), '-A', '--from', dir, '--fail-on', 'none'])
  const allRss = time(process.execPath, ['--expose-gc', path.join(root, 'bench/peak-rss.js'), '-A', '--from', dir, '--fail-on', 'none'])
  const allPeak = peakOf(allRss)
  // The same as -o json, written as it is made: time and peak RSS from one set of runs, the output to /dev/null.
  const allJson = time(process.execPath, ['--expose-gc', path.join(root, 'bench/peak-rss.js'), '-A', '--from', dir, '--fail-on', 'none', '-o', 'json'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const allJsonPeak = peakOf(allJson)
  // A real cluster has a pod behind each endpoint: the same node, its cluster.json with those pods
  // (the checks and the choice of a client pod look pods up per Service; they must not scan them all).
  const podsDir = path.join(dir, 'with-pods')
  generateBundle(podsDir, SERVICES, ENDPOINTS, {pods: true})
  const clusterWithPods = statSync(path.join(podsDir, 'cluster.json')).size
  const allPods = time(process.execPath, ['--expose-gc', path.join(root, 'bench/peak-rss.js'), '-A', '--from', podsDir, '--fail-on', 'none'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const allPodsPeak = peakOf(allPods)
  const restore = iptablesRestoreBaseline(dump)
  const read = time(process.execPath, [
    '-e',
    `const b = require('fs').readFileSync(${JSON.stringify(dump)}); const k = Buffer.from('-A KUBE-SVC-'); let n = 0; for (let i = b.indexOf(k); i >= 0; i = b.indexOf(k, i + 1)) n++; console.log(n)`,
  ])
  // The same Service asked for by its address and port.
  const byIP = time(process.execPath, [path.join(root, 'bin/run.js'), '--ip', `${vipOf(svc)}:80`, '--from', dir, '-o', 'json', '--fail-on', 'none'])
  const startup = time(process.execPath, [path.join(root, 'bin/run.js'), '--version'])

  const row = (name, r, base) =>
    `${name.padEnd(52)} ${Number.isNaN(r.ms) ? `n/a (${r.error})` : `${r.ms.toFixed(0).padStart(6)} ms`}${base && !Number.isNaN(r.ms) && !Number.isNaN(base.ms) ? `   ${(r.ms / base.ms).toFixed(2)}× of ${base.name}` : ''}`
  restore.name = 'iptables-restore --test'
  const lines = [
    row('iptables-restore --test (baseline)', restore),
    row('node: read the dump, count -A KUBE-SVC- (floor)', read),
    row('kubectl-svctrace --version (start-up)', startup),
    row(`kubectl-svctrace ${svc} -o json (whole process)`, ours, restore),
    ...(!Number.isNaN(ours.ms) && !Number.isNaN(read.ms) ? [`${''.padEnd(52)}           ${(ours.ms / read.ms).toFixed(2)}× of the floor`] : []),
    row(`kubectl-svctrace --ip ${vipOf(svc)}:80 -o json`, byIP, restore),
    ...(!Number.isNaN(byIP.ms) && !Number.isNaN(read.ms) ? [`${''.padEnd(52)}           ${(byIP.ms / read.ms).toFixed(2)}× of the floor`] : []),
    peakRow('peak RSS of the trace', peak, bytes / 2 ** 20),
    row('kubectl-svctrace -A (whole process)', all, restore),
    peakRow('peak RSS of -A', allPeak, bytes / 2 ** 20),
    row('kubectl-svctrace -A -o json (whole process)', allJson, restore),
    peakRow('peak RSS of -A -o json', allJsonPeak, bytes / 2 ** 20),
    `with a running pod behind every endpoint (${SERVICES * ENDPOINTS} pods; cluster.json ${(clusterWithPods / 2 ** 20).toFixed(1)} MiB):`,
    row('kubectl-svctrace -A (whole process)', allPods, restore),
    peakRow('peak RSS of -A', allPodsPeak, bytes / 2 ** 20),
  ]
  console.log(lines.join('\n'))
  console.log(`\ntargets: one Service ≤ 0.10× of iptables-restore --test; -A ≤ 0.5×; peak RSS ≤ 4× the dump`)
  writePerformanceDoc(
    root,
    '## Offline trace at 10,000 Services (issue 13)',
    `One Service and every Service from a bundle (${ENDPOINTS} endpoints per Service)`,
    [
      `Measured with \`${['BENCH_SERVICES', 'BENCH_ENDPOINTS', 'BENCH_RUNS', 'BENCH_SKIP']
        .filter((k) => process.env[k])
        .map((k) => `${k}=${process.env[k]} `)
        .join(
          '',
        )}npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}; a generated node of ${SERVICES} Services × ${ENDPOINTS} endpoints (${rules} rules, ${(bytes / 2 ** 20).toFixed(1)} MiB), median of ${RUNS} runs (peak RSS too: each run's, with their range when they differ).`,
      '',
      '```text',
      ...lines,
      '```',
    ].join('\n'),
  )
  const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').map((x) => x.trim()))
  if (!skip.has('targeted'))
    console.log(`\n${(await benchTargeted({root, dir, services: SERVICES, service: svc, runs: RUNS, endpoints: ENDPOINTS})).join('\n')}`)
  if (!skip.has('fanout'))
    console.log(`\n${(await benchFanout({root, command: 'npm run bench', bundle: {dir, services: SERVICES, endpoints: ENDPOINTS}})).join('\n')}`)
  if (!skip.has('api')) console.log(`\n${(await benchApi({root, command: 'npm run bench'})).join('\n')}`)
} finally {
  rmSync(dir, {recursive: true, force: true})
}
