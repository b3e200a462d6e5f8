#!/usr/bin/env node
// npm run bench:counters: what --counters costs on a node. A generated node (BENCH_COUNTERS_SERVICES
// Services, default 1000, 14 endpoints each) is loaded into a scratch network namespace per iptables
// backend, and each read --counters changes is timed with and without its counter flag, through
// `ip netns exec` as a node read runs it: the whole save (-c), the KUBE-SERVICES listing and one
// KUBE-SEP listing (-v). Prints a markdown table of medians; never asserts. Needs root.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {generateBundle} from './generate.js'

const SERVICES = Number(process.env.BENCH_COUNTERS_SERVICES ?? 1000)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Median wall time and output size of `argv` in the namespace. */
function time(netns, argv) {
  const times = []
  let bytes = 0
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint()
    const r = spawnSync('ip', ['netns', 'exec', netns, ...argv], {maxBuffer: 1 << 28, timeout: 300_000})
    times.push(Number(process.hrtime.bigint() - t) / 1e6)
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${String(r.stderr).trim()}`)
    bytes = r.stdout.length
  }
  return {ms: median(times), bytes}
}

const dir = mkdtempSync(path.join(tmpdir(), 'svctrace-bench-counters-'))
const netns = `svct-bench-counters-${process.pid}`
try {
  generateBundle(dir, SERVICES, 14)
  const dump = readFileSync(path.join(dir, 'nodes/node-0/iptables-save.txt'), 'utf8')
  const sep = /^:(KUBE-SEP-\S+)/m.exec(dump)?.[1]
  console.log(`| ${SERVICES} Services, median of ${RUNS} | without | with counters | output |`)
  console.log('|---|---|---|---|')
  for (const backend of ['nft', 'legacy']) {
    spawnSync('ip', ['netns', 'add', netns])
    try {
      const restore = spawnSync('ip', ['netns', 'exec', netns, `iptables-${backend}-restore`], {input: dump, maxBuffer: 1 << 28})
      if (restore.status !== 0) throw new Error(`iptables-${backend}-restore: ${String(restore.stderr).trim()}`)
      const reads = [
        [`iptables-${backend}-save`, [], ['-c']],
        [`iptables-${backend} -w 5 -t nat -S KUBE-SERVICES`, [], ['-v']],
        [`iptables-${backend} -w 5 -t nat -S ${sep}`, [], ['-v']],
      ]
      for (const [cmd, plain, counted] of reads) {
        const argv = cmd.split(' ')
        const a = time(netns, [...argv, ...plain])
        const b = time(netns, [...argv, ...counted])
        const kb = (n) => `${Math.round(n / 1024)} KiB`
        console.log(`| \`${cmd}\` (${counted.join(' ')}) | ${a.ms.toFixed(0)} ms | ${b.ms.toFixed(0)} ms | ${kb(a.bytes)} → ${kb(b.bytes)} |`)
      }
    } finally {
      spawnSync('ip', ['netns', 'del', netns])
    }
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}
