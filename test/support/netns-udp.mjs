#!/usr/bin/env node
// Tiny UDP programs run inside a test network namespace (test/integration/conntrack-stale.test.ts).
//
//   node netns-udp.mjs echo '{"host":"10.244.2.7","port":53,"ttlMs":120000}'
//     answers every datagram with its own text; prints READY once bound. Stops by itself when its stdin
//     closes, on SIGTERM/SIGINT, or after ttlMs.
//   node netns-udp.mjs send '{"dst":"10.96.0.10","port":53,"from":"10.244.1.11","sourcePorts":[40001],"waitMs":400}'
//     sends one datagram from each source port and waits waitMs for answers; prints
//     {"answered":[ports…]} and exits (never later than waitMs plus a second).
import dgram from 'node:dgram'

const [mode, json] = process.argv.slice(2)
const cfg = JSON.parse(json ?? '{}')

if (mode === 'echo') {
  const socket = dgram.createSocket('udp4')
  const stop = () => {
    socket.close()
    process.exit(0)
  }
  setTimeout(stop, Number(cfg.ttlMs ?? 120_000)).unref()
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.on('close', stop)
  process.stdin.resume()
  socket.on('message', (msg, peer) => socket.send(msg, peer.port, peer.address))
  socket.bind(Number(cfg.port), String(cfg.host), () => process.stdout.write('READY\n'))
} else if (mode === 'send') {
  const answered = new Set()
  const sockets = []
  const waitMs = Number(cfg.waitMs ?? 400)
  const finish = () => {
    for (const s of sockets) s.close()
    process.stdout.write(`${JSON.stringify({answered: [...answered].sort((a, b) => a - b)})}\n`)
    process.exit(0)
  }
  setTimeout(() => process.exit(2), waitMs + 1000).unref()
  let bound = 0
  for (const port of cfg.sourcePorts ?? []) {
    const s = dgram.createSocket('udp4')
    sockets.push(s)
    s.on('message', () => answered.add(port))
    s.on('error', (err) => {
      process.stderr.write(`${port}: ${err.message}\n`)
      process.exit(1)
    })
    s.bind(port, String(cfg.from), () => {
      s.send(`query from ${port}`, Number(cfg.port), String(cfg.dst))
      if (++bound === cfg.sourcePorts.length) setTimeout(finish, waitMs)
    })
  }
} else {
  process.stderr.write('usage: netns-udp.mjs echo|send JSON\n')
  process.exit(2)
}
