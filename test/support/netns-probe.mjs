#!/usr/bin/env node
// TCP probe run inside a test network namespace (see test/support/netns.ts). Makes a bounded number of
// connections to one address and prints one JSON object on stdout:
//
//   node netns-probe.mjs '{"dst":"10.96.0.10","port":80,"attempts":16,"timeoutMs":500,"concurrency":1,
//                          "silentMs":300,"deadlineMs":20000}'
//   -> {"attempts":[{"kind":"answered","id":"ns/pod","local":"10.244.1.5:8080","peer":"172.30.0.11:4242",
//                    "ms":1.2}, {"kind":"timeout","ms":500}, ...]}
//
// kinds: answered (the responder said who it is), refused (ECONNREFUSED: RST or ICMP port unreachable),
// timeout (no SYN-ACK within timeoutMs: dropped), unreachable (ENETUNREACH / EHOSTUNREACH, with code),
// silent (connected, nothing said within silentMs), closed (connected, closed without a word),
// reset (ECONNRESET after connecting), error (anything else, with code), skipped (overall deadline hit
// before the attempt started).
//
// Hard limits: attempts <= 1000, every attempt ends after timeoutMs (+ silentMs), no new attempt starts
// after deadlineMs, and the process exits by itself at deadlineMs + 1 s whatever happens.
import net from 'node:net'
import {performance} from 'node:perf_hooks'

const cfg = JSON.parse(process.argv[2] ?? '{}')
const dst = String(cfg.dst)
const port = Number(cfg.port)
const attempts = Math.max(0, Math.min(1000, Number(cfg.attempts ?? 1)))
const timeoutMs = Math.max(1, Number(cfg.timeoutMs ?? 500))
const silentMs = Math.max(1, Number(cfg.silentMs ?? timeoutMs))
const concurrency = Math.max(1, Math.min(64, Number(cfg.concurrency ?? 1)))
const deadlineMs = Math.max(1, Number(cfg.deadlineMs ?? 30_000))

const started = performance.now()
const results = new Array(attempts).fill(null)

function emit(code) {
  const out = results.map((r) => r ?? {kind: 'skipped', ms: 0})
  process.stdout.write(JSON.stringify({attempts: out}) + '\n', () => process.exit(code))
}

// Last-resort exit: never outlive the deadline by more than a second.
setTimeout(() => emit(3), deadlineMs + 1000).unref()

function classifyError(err) {
  switch (err && err.code) {
    case 'ECONNREFUSED':
      return {kind: 'refused'}
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return {kind: 'unreachable', code: err.code}
    case 'ECONNRESET':
      return {kind: 'reset'}
    case 'ETIMEDOUT':
      return {kind: 'timeout', code: 'ETIMEDOUT'}
    default:
      return {kind: 'error', code: String((err && (err.code ?? err.message)) ?? 'unknown')}
  }
}

function attempt() {
  return new Promise((resolve) => {
    const t0 = performance.now()
    let done = false
    let data = ''
    const sock = new net.Socket()
    const finish = (r) => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      resolve({...r, ms: Math.round((performance.now() - t0) * 10) / 10})
    }
    let timer = setTimeout(() => finish({kind: 'timeout'}), timeoutMs)
    sock.setEncoding('utf8')
    sock.on('connect', () => {
      clearTimeout(timer)
      timer = setTimeout(() => finish(data ? {kind: 'partial', text: data} : {kind: 'silent'}), silentMs)
    })
    sock.on('data', (chunk) => {
      data += chunk
    })
    sock.on('end', () => {
      if (!data) return finish({kind: 'closed'})
      const [id, local, peer] = data.trim().split(/\s+/)
      finish({kind: 'answered', id, local, peer})
    })
    sock.on('error', (err) => finish(classifyError(err)))
    sock.connect({host: dst, port})
  })
}

let next = 0
async function worker() {
  while (next < attempts) {
    if (performance.now() - started > deadlineMs) return
    const i = next++
    results[i] = await attempt()
  }
}

await Promise.all(Array.from({length: Math.min(concurrency, attempts)}, () => worker()))
emit(0)
