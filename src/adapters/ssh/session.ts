// One open SSH connection to a node. Each run() is one exec channel whose command line comes from
// shellLine() (the allow-list) and nowhere else; runBatch() is one channel too, `sh -c` with a script
// made of such lines (batch.ts). Output is capped and every command has a deadline.
import type {Duplex} from 'node:stream'
import type {Client, ClientChannel} from 'ssh2'
import {markerCounter, runCompound, type BatchOutcomes, type BatchStep} from '../node/batch.js'
import {shellLine, type NodeCommand} from '../node/commands.js'
import type {CommandResult, NodeSession} from '../node/connector.js'
import {batchTimeout, batchTooLarge, commandError, commandTimeout, connectionLost, outputTooLarge} from './errors.js'
import {Limiter} from '../node/limiter.js'
import {execOnChannel, openChannelNow, type ChannelAhead} from './channel-ahead.js'

export interface SshSessionOptions {
  node: string
  sudo: boolean
  commandTimeoutMs: number
  maxOutputBytes: number
  /** Called with each line just before it is sent to the node. */
  audit?: (node: string, line: string) => void
  /** Runs after the connection is closed (releases a shared bastion). */
  onClose?: () => void
  /** The channel opened during authentication, for the first command (channel-ahead.ts). */
  ahead?: ChannelAhead
  /** How long a command waits for a channel opened ahead before opening its own; default 10 s. */
  openWaitMs?: number
}

/** What one channel gave back, before it is judged. */
interface RawOutput {
  stdout: Buffer
  stderr: Buffer
  exitCode: number
}

interface ChannelLimits {
  timeout: () => Error
  tooLarge: () => Error
  /** Batches: counts part markers in a stderr chunk (each restarts the deadline). */
  parts?: (chunk: Buffer) => number
}

const CLOSE_WAIT_MS = 2_000
// OpenSSH allows MaxSessions (default 10) channels per connection and frees one only when its close
// handshake is done, which lags the client's 'close' event: a few channels at once stay clear of it.
const MAX_CHANNELS = 4
// A channel refused anyway ("open failed": MaxSessions lowered, or the lag above) is asked again.
const OPEN_RETRIES = 5
const OPEN_RETRY_MS = 25
// How long a command waits for the confirmation of a channel opened ahead (the connect timeout's default).
const DEFAULT_OPEN_WAIT_MS = 10_000

/** The connection's transport: the TCP socket, or the bastion's channel (ssh2 1.x keeps it in `_sock`). */
function transportOf(client: Client): Duplex | undefined {
  return (client as unknown as {_sock?: Duplex})._sock
}

/**
 * Drops the connection at once. ssh2's Client.destroy() does nothing once end() has half-closed the
 * socket (it destroys only a writable one), and a peer that never sends its FIN then keeps the
 * socket, and the run, open for ever: so the socket itself is destroyed.
 */
function forceClose(client: Client): void {
  const sock = transportOf(client)
  if (sock) sock.destroy()
  else client.destroy()
}

/** Settles once everything written to `sock` (the disconnect and the half-close) has been handed on, or it is gone. */
function flushed(sock: Duplex | undefined): Promise<void> {
  if (!sock || sock.writableFinished || sock.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    sock.once('finish', resolve)
    sock.once('close', resolve)
  })
}

export class SshSession implements NodeSession {
  private closed = false
  private released = false
  private lost?: string
  private readonly gone: Promise<void>
  private readonly channels = new Limiter(MAX_CHANNELS)
  /** A channel opened ahead for the next command (channel-ahead.ts): at most one at a time. */
  private spare: ChannelAhead | undefined

  constructor(
    private readonly client: Client,
    private readonly opts: SshSessionOptions,
  ) {
    this.spare = opts.ahead
    this.gone = new Promise((resolve) => client.once('close', () => resolve()))
    client.on('error', (err) => {
      this.lost = err.message
    })
    client.once('close', () => {
      this.lost ??= 'the node closed the connection'
      this.finish()
    })
  }

  async run(cmd: NodeCommand): Promise<CommandResult> {
    const line = shellLine(cmd, this.opts.sudo)
    const {node, sudo, commandTimeoutMs, maxOutputBytes} = this.opts
    const out = await this.onChannel(cmd, line, {
      timeout: () => commandTimeout(node, cmd, commandTimeoutMs),
      tooLarge: () => outputTooLarge(node, cmd, maxOutputBytes),
    })
    const stderr = out.stderr.toString('utf8')
    if (out.exitCode !== 0) throw commandError(node, cmd, sudo, out.exitCode, stderr)
    return {stdout: out.stdout.toString('utf8'), stderr, exitCode: 0}
  }

  /** The batch as one `sh -c` on one channel; each part has --node-timeout from its start marker. */
  async runBatch(steps: readonly BatchStep[]): Promise<BatchOutcomes> {
    const {node, sudo, commandTimeoutMs, maxOutputBytes} = this.opts
    return runCompound(
      steps,
      sudo,
      async (compound) => {
        // Errors name the node read, not one of its commands.
        const out = await this.onChannel(undefined, `sh -c '${compound.script}'`, {
          timeout: () => batchTimeout(node, commandTimeoutMs),
          tooLarge: () => batchTooLarge(node, maxOutputBytes),
          parts: markerCounter(compound.nonce),
        })
        return {stdout: out.stdout, stderr: out.stderr.toString('utf8')}
      },
      (cmd, part) => commandError(node, cmd, sudo, part.exitCode, part.stderr),
    )
  }

  /** One exec channel for `line` (asked again while sshd refuses another session); its raw output. */
  private onChannel(cmd: NodeCommand | undefined, line: string, limits: ChannelLimits): Promise<RawOutput> {
    return this.channels.run(async () => {
      if (this.closed || this.lost) throw connectionLost(this.opts.node, cmd, this.lost ?? 'the session was closed')
      this.opts.audit?.(this.opts.node, line)
      for (let attempt = 0; ; attempt++) {
        const result = await this.exec(cmd, line, limits)
        if (!(result instanceof Error)) return result
        if (!/open failed/i.test(result.message) || attempt >= OPEN_RETRIES || this.closed || this.lost) {
          const why = /open failed/i.test(result.message)
            ? `sshd refused another session (${result.message}); is MaxSessions in its sshd_config below ${MAX_CHANNELS}?`
            : result.message
          throw connectionLost(this.opts.node, cmd, why)
        }
        await new Promise((r) => setTimeout(r, OPEN_RETRY_MS * 2 ** attempt))
      }
    })
  }

  /**
   * One exec channel; resolves with the channel-open error instead of rejecting, so it can be retried.
   * The output is collected from inside ssh2's callback: a fast command's data, exit status and close
   * can arrive in the same packet batch, before any later tick would attach listeners.
   */
  private async exec(cmd: NodeCommand | undefined, line: string, limits: ChannelLimits): Promise<RawOutput | Error> {
    // A channel opened ahead: the first command's during authentication, a later one's while the one
    // before it ran (so a node read's second round waits for its exec alone).
    const ahead = this.spare
    this.spare = undefined
    const opened = ahead ? await ahead.take() : undefined
    if (this.closed || this.lost) return new Error(this.lost ?? 'the session was closed')
    return new Promise((resolve, reject) => {
      const started = (err: Error | undefined, channel: ClientChannel) => (err ? resolve(err) : this.collect(cmd, channel, limits, resolve, reject))
      if (!opened || !execOnChannel(this.client, opened, line, started)) this.client.exec(line, started)
      // In the same flight as this command's request, so it costs no wait of its own.
      this.spare ??= openChannelNow(this.client, this.opts.openWaitMs ?? DEFAULT_OPEN_WAIT_MS)
    })
  }

  private collect(
    cmd: NodeCommand | undefined,
    channel: ClientChannel,
    limits: ChannelLimits,
    resolve: (r: RawOutput) => void,
    reject: (e: Error) => void,
  ): void {
    const {node, maxOutputBytes, commandTimeoutMs} = this.opts
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let bytes = 0
    let exitCode: number | undefined
    let settled = false
    const settle = (err?: Error, result?: RawOutput) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (err) reject(err)
      else if (result) resolve(result)
    }
    // Stop reading at once and close the channel: the rest of the output is never buffered.
    const abandon = (err: Error) => {
      settle(err)
      channel.removeAllListeners('data')
      channel.stderr.removeAllListeners('data')
      channel.close()
    }
    const arm = () => setTimeout(() => abandon(limits.timeout()), commandTimeoutMs)
    let timer = arm()
    const take = (into: Buffer[]) => (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > maxOutputBytes) abandon(limits.tooLarge())
      else into.push(chunk)
    }
    channel.on('data', take(stdout))
    channel.stderr.on('data', (chunk: Buffer) => {
      // A batch part starting: the deadline is per command, so it starts again.
      if (limits.parts && limits.parts(chunk) > 0 && !settled) {
        clearTimeout(timer)
        timer = arm()
      }
      take(stderr)(chunk)
    })
    channel.on('exit', (code: number | null, signal?: string) => {
      exitCode = typeof code === 'number' ? code : signal ? -1 : undefined
    })
    channel.on('close', () => {
      if (exitCode === undefined) settle(connectionLost(node, cmd, this.lost ?? 'the channel closed without an exit status'))
      else settle(undefined, {stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode})
    })
  }

  /**
   * Sends the disconnect and drops the connection once it is on its way, as OpenSSH's client does:
   * the run does not wait a round trip for the node's side of the close. A transport that cannot take
   * the disconnect (a peer that stopped reading) is dropped after CLOSE_WAIT_MS.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      this.client.end()
    }
    const timer = setTimeout(() => forceClose(this.client), CLOSE_WAIT_MS)
    await Promise.race([this.gone, flushed(transportOf(this.client))])
    forceClose(this.client)
    await this.gone
    clearTimeout(timer)
  }

  private finish(): void {
    if (this.released) return
    this.released = true
    this.opts.onClose?.()
  }
}
