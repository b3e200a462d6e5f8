// A slow network for one node, in process: a TCP relay (node:net) that listens on a loopback address
// and forwards to the node's sshd, holding every chunk for `delayMs` in each direction (order kept,
// half-closes forwarded, backpressure-safe), so one round trip costs 2 × delayMs as on a WAN link.
// The TCP handshake to the relay itself is not delayed (loopback): a connection's own round trip is
// not in the figures; count it from `connections`.
//
// It also counts, per connection, "client turns": a client→server chunk that arrives after the client
// was handed server data and had itself been quiet for ≥ `quietMs`. That approximates the sequential
// round trips the client waited for (the SSH handshake included): pipelined sends are not turns, and a
// client that answers a server message it waited for is.
//
//   import {startRelay} from './relay.js'
//   const relay = await startRelay({listen: {host: '127.0.1.1', port: 22}, target: {host: '198.18.0.11', port: 22}})
//   relay.connections  → [{turns, up: {bytes, chunks}, down: {bytes, chunks}, closed}] (one per accepted connection)
//   await relay.idle(5000); await relay.close()
import net from 'node:net'

const DELAY_MS = 50
const QUIET_MS = 20
/** Bytes held in one direction before the sender is paused (resumed below half of it). */
const HIGH_WATER = 1 << 20
/** A connection that makes no progress this long is dropped (both sides), so nothing can hang. */
const IDLE_TIMEOUT_MS = 60_000

/**
 * One direction of a connection: chunks read from `src` are written to `dst` `delayMs` after they
 * arrived, in order; `onDelivered` runs after each write. End of `src` becomes end of `dst` after the
 * same delay (a half-close). `src` is paused while too much is held or `dst` is not draining.
 */
function pipeDelayed(src, dst, delayMs, {onChunk = () => {}, onDelivered = () => {}} = {}) {
  const queue = []
  let head = 0
  let held = 0
  let timer
  let waitingDrain = false
  const stats = {bytes: 0, chunks: 0}

  const pump = () => {
    timer = undefined
    while (head < queue.length && !waitingDrain) {
      const item = queue[head]
      const wait = item.due - Date.now()
      if (wait > 0) {
        timer = setTimeout(pump, wait)
        return
      }
      queue[head++] = undefined
      if (head === queue.length) {
        queue.length = 0
        head = 0
      }
      if (item.end) {
        dst.end()
        return
      }
      held -= item.chunk.length
      const ok = dst.write(item.chunk)
      onDelivered()
      if (!ok) {
        waitingDrain = true
        dst.once('drain', () => {
          waitingDrain = false
          pump()
        })
      }
      if (held < HIGH_WATER / 2 && src.isPaused()) src.resume()
    }
  }
  const push = (item) => {
    queue.push(item)
    if (timer === undefined && !waitingDrain && head === queue.length - 1) timer = setTimeout(pump, Math.max(0, item.due - Date.now()))
  }

  src.on('data', (chunk) => {
    stats.bytes += chunk.length
    stats.chunks += 1
    onChunk(chunk)
    held += chunk.length
    push({chunk, due: Date.now() + delayMs})
    if (held >= HIGH_WATER) src.pause()
  })
  src.on('end', () => push({end: true, due: Date.now() + delayMs}))
  return {
    stats,
    stop() {
      clearTimeout(timer)
      queue.length = 0
      head = 0
    },
  }
}

/**
 * Starts a relay from `listen` to `target`, adding `delayMs` each way. Resolves once listening.
 * `connections` grows by one record per accepted connection; `idle(ms)` waits (bounded) until every
 * accepted connection has closed; `close()` stops listening and destroys what is still open.
 */
export async function startRelay({listen, target, delayMs = DELAY_MS, quietMs = QUIET_MS}) {
  const connections = []
  const open = new Set()
  const idleWaiters = new Set()

  const server = net.createServer({allowHalfOpen: true, noDelay: true}, (client) => {
    const record = {turns: 0, up: undefined, down: undefined, closed: false, error: undefined}
    connections.push(record)
    const upstream = net.connect({host: target.host, port: target.port, allowHalfOpen: true, noDelay: true})
    open.add(client)
    open.add(upstream)

    // Turn accounting, at the relay: when the client last sent, and whether it was handed server data since.
    let lastClientSend = Date.now()
    let servedSinceClientSent = false
    const up = pipeDelayed(client, upstream, delayMs, {
      onChunk: () => {
        const now = Date.now()
        if (servedSinceClientSent && now - lastClientSend >= quietMs) record.turns += 1
        lastClientSend = now
        servedSinceClientSent = false
      },
    })
    const down = pipeDelayed(upstream, client, delayMs, {onDelivered: () => (servedSinceClientSent = true)})
    record.up = up.stats
    record.down = down.stats

    let closedSides = 0
    const fail = (err) => {
      record.error ??= err.message
      client.destroy()
      upstream.destroy()
    }
    // A clean close needs both sides to end (each end is forwarded after the delay, behind the data);
    // an error on either side destroys both (fail).
    const onClose = () => {
      if (++closedSides < 2) return
      up.stop()
      down.stop()
      record.closed = true
      open.delete(client)
      open.delete(upstream)
      if (open.size === 0) for (const w of idleWaiters) w()
    }
    for (const s of [client, upstream]) {
      s.on('error', fail)
      s.on('close', onClose)
      s.setTimeout(IDLE_TIMEOUT_MS, () => fail(new Error(`no traffic for ${IDLE_TIMEOUT_MS / 1000} s`)))
    }
  })

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({host: listen.host, port: listen.port}, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()

  return {
    address: {host: address.address, port: address.port},
    connections,
    /** Resolves true when no connection is open (now or within `ms`), false on time-out. */
    idle(ms = 5_000) {
      if (open.size === 0) return Promise.resolve(true)
      return new Promise((resolve) => {
        const done = (v) => {
          clearTimeout(timer)
          idleWaiters.delete(waiter)
          resolve(v)
        }
        const waiter = () => done(true)
        const timer = setTimeout(() => done(false), ms)
        idleWaiters.add(waiter)
      })
    },
    close() {
      for (const s of open) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
