#!/usr/bin/env node
// Tiny TCP responder run inside a test network namespace (see test/support/netns.ts).
//
//   node netns-responder.mjs '{"id":"storefront/web-0","ports":[8080,8443],"mode":"answer","ttlMs":600000}'
//   ("host": "::" listens on IPv6 too; the default, 0.0.0.0, on IPv4 only)
//
// mode "answer": every accepted connection gets one line and is closed:
//     <id> <local ip>:<local port> <peer ip>:<peer port>\n
//   (local = the address the connection really arrived at, i.e. after any DNAT; peer = the client address
//   as this process sees it, i.e. after any SNAT/masquerade).
// mode "silent": accept and say nothing (like a TLS server waiting for a ClientHello); the connection is
//   closed when the client closes it.
//
// Prints "READY" on stdout once every port listens. Stops by itself when its stdin closes (the harness that
// spawned it went away), on SIGTERM/SIGINT, or after ttlMs — it can never outlive a test run for long.
import net from 'node:net'

const cfg = JSON.parse(process.argv[2] ?? '{}')
const id = String(cfg.id ?? 'unknown')
const ports = Array.isArray(cfg.ports) ? cfg.ports.map(Number) : []
const mode = cfg.mode === 'silent' ? 'silent' : 'answer'
const ttlMs = Number(cfg.ttlMs ?? 600_000)
const host = cfg.host === '::' ? '::' : '0.0.0.0'

const servers = []
const sockets = new Set()

function shutdown(code) {
  for (const s of sockets) s.destroy()
  for (const srv of servers) srv.close()
  process.exit(code)
}

setTimeout(() => shutdown(0), ttlMs).unref()
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))
process.stdin.on('end', () => shutdown(0))
process.stdin.on('close', () => shutdown(0))
process.stdin.on('error', () => shutdown(0))
process.stdin.resume()

function onConnection(sock) {
  sockets.add(sock)
  sock.on('close', () => sockets.delete(sock))
  sock.on('error', () => sock.destroy())
  if (mode === 'answer') {
    sock.end(`${id} ${sock.localAddress}:${sock.localPort} ${sock.remoteAddress}:${sock.remotePort}\n`)
  } else {
    sock.on('end', () => sock.end())
  }
}

let pending = ports.length
if (pending === 0) process.stdout.write('READY\n')
for (const port of ports) {
  const srv = net.createServer(onConnection)
  servers.push(srv)
  srv.on('error', (err) => {
    process.stderr.write(`responder ${id}: port ${port}: ${err.message}\n`)
    shutdown(2)
  })
  srv.listen({host, port, backlog: 256}, () => {
    pending -= 1
    if (pending === 0) process.stdout.write('READY\n')
  })
}
