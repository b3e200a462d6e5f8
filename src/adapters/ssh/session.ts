// One open SSH connection to a node. Each run() is one exec channel whose command line comes from
// shellLine() (the allow-list) and nowhere else; runBatch() is one channel too, `sh -c` with a script
// made of such lines (batch.ts). Output is capped and every command has a deadline.
import type {Duplex} from 'node:stream'
import type {Client, ClientChannel} from 'ssh2'
import {compoundCommand, markerCounter, runCompound, type BatchOutcomes, type BatchStep, type CompoundCommand} from '../node/batch.js'
import {shellLine, type NodeCommand} from '../node/commands.js'
import {NodeAccessError, type CommandResult, type FirstBatch, type NodeSession} from '../node/connector.js'
import {batchTimeout, batchTooLarge, commandError, commandTimeout, connectionLost, outputTooLarge} from './errors.js'
import {Limiter} from '../node/limiter.js'
import {execOnChannel, NOT_RUN, openChannelNow, type ChannelAhead, type FirstExec} from './channel-ahead.js'

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
  /** The node read's first batch, when its exec went out with the login (PrimedBatch). */
  first?: PrimedBatch
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

/** What a channel's output is judged by: its node, deadline and cap. */
interface CollectOptions {
  node: string
  commandTimeoutMs: number
  maxOutputBytes: number
}

/** The `sh -c` line of a compound command (single-quoted: batch.ts keeps quotes out of the script). */
function batchLine(compound: CompoundCommand): string {
  return `sh -c '${compound.script}'`
}

/** A batch's channel limits: errors name the node read, not one of its commands; each part restarts the deadline. */
function batchLimits(o: CollectOptions, compound: CompoundCommand): ChannelLimits {
  return {
    timeout: () => batchTimeout(o.node, o.commandTimeoutMs),
    tooLarge: () => batchTooLarge(o.node, o.maxOutputBytes),
    parts: markerCounter(compound.nonce),
  }
}

/**
 * Collects an exec channel's output, from inside ssh2's callback: a fast command's data, exit status
 * and close can arrive in the same packet batch, before any later tick would attach listeners. Over
 * the cap or past the deadline it stops reading at once and closes the channel.
 */
function collectOutput(
  o: CollectOptions,
  cmd: NodeCommand | undefined,
  channel: ClientChannel,
  limits: ChannelLimits,
  lost: () => string | undefined,
): Promise<RawOutput> {
  return new Promise((resolve, reject) => {
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
    const arm = () => setTimeout(() => abandon(limits.timeout()), o.commandTimeoutMs)
    let timer = arm()
    const take = (into: Buffer[]) => (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > o.maxOutputBytes) abandon(limits.tooLarge())
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
      if (exitCode === undefined) settle(connectionLost(o.node, cmd, lost() ?? 'the channel closed without an exit status'))
      else settle(undefined, {stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode})
    })
  })
}

/**
 * A node read's first batch on a connection still logging in: when the reader has handed it over by
 * the time the signed key request goes out, its exec follows the channel opened ahead in that flight
 * (channel-ahead.ts), and its output is collected from the channel's confirmation on. The session then
 * takes that output for the same steps instead of running them again.
 */
export class PrimedBatch implements FirstExec {
  /** The compound command whose exec went out, and the steps it was made of. */
  private sent: {steps: readonly BatchStep[]; compound: CompoundCommand} | undefined
  private settle!: (r: Promise<RawOutput> | RawOutput | typeof NOT_RUN | Error) => void
  private begin!: () => void
  /** Settles when the server answered the exec (or refused it, or never took it): the command's run may still go on. */
  readonly begun: Promise<void>
  /** The output, NOT_RUN when the server never took the exec, or the Error that lost it. */
  readonly output: Promise<RawOutput | typeof NOT_RUN | Error>
  /** Why the connection went, once the session knows (for a channel that closed without an exit status). */
  lost: () => string | undefined = () => undefined

  constructor(
    private readonly batch: FirstBatch,
    private readonly o: CollectOptions & {sudo: boolean; audit?: ((node: string, line: string) => void) | undefined},
  ) {
    this.output = new Promise((resolve) => (this.settle = (r) => resolve(Promise.resolve(r).catch((err: Error) => err))))
    this.begun = new Promise((resolve) => (this.begin = resolve))
  }

  line(): string | undefined {
    const steps = this.batch.steps
    if (!steps) return undefined
    let compound: CompoundCommand
    try {
      compound = compoundCommand(steps, this.o.sudo)
    } catch {
      // A batch refused here (UnsafeArgumentError) is refused again, and reported, when the session runs it.
      return undefined
    }
    this.sent = {steps, compound}
    const line = batchLine(compound)
    this.o.audit?.(this.o.node, line)
    return line
  }

  started(result: Error | typeof NOT_RUN | undefined, channel?: ClientChannel): void {
    this.begin()
    if (result !== undefined || !channel || !this.sent) this.settle(result ?? new Error('no channel'))
    else this.settle(collectOutput(this.o, undefined, channel, batchLimits(this.o, this.sent.compound), () => this.lost()))
  }

  /** The compound command sent for `steps`, when these are the steps that went out. */
  sentFor(steps: readonly BatchStep[]): CompoundCommand | undefined {
    return this.sent?.steps === steps ? this.sent.compound : undefined
  }
}

export class SshSession implements NodeSession {
  private closed = false
  private released = false
  private lost?: string
  private readonly gone: Promise<void>
  private readonly channels = new Limiter(MAX_CHANNELS)
  /** A channel opened ahead for the next command (channel-ahead.ts): at most one at a time. */
  private spare: ChannelAhead | undefined
  /** The first batch, when its exec went out with the login: taken by the runBatch() for its steps. */
  private first: PrimedBatch | undefined

  constructor(
    private readonly client: Client,
    private readonly opts: SshSessionOptions,
  ) {
    this.spare = opts.ahead
    this.first = opts.first
    if (this.first) this.first.lost = () => this.lost
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
    const {node, sudo} = this.opts
    const first = this.first
    this.first = undefined
    const primed = first?.sentFor(steps)
    return runCompound(
      steps,
      sudo,
      async (compound) => {
        const early = first && primed ? await this.primedOutput(first) : undefined
        const out = early ?? (await this.onChannel(undefined, batchLine(compound), batchLimits(this.opts, compound)))
        return {stdout: out.stdout, stderr: out.stderr.toString('utf8')}
      },
      (cmd, part) => commandError(node, cmd, sudo, part.exitCode, part.stderr),
      primed,
    )
  }

  /**
   * The first batch's output from the exec sent with the login; undefined when the server never took
   * it (the batch then runs on a channel of its own). The channel for the next command was opened in
   * the same flight (the spare).
   */
  private async primedOutput(first: PrimedBatch): Promise<RawOutput | undefined> {
    const waitMs = this.opts.openWaitMs ?? DEFAULT_OPEN_WAIT_MS
    // Its channel's confirmation and the exec's answer come with the login's success: a server that never
    // sends them has lost the command. Once it has begun, the command's own deadline (collectOutput) holds.
    let timer: NodeJS.Timeout | undefined
    const silent = new Promise<'silent'>((resolve) => (timer = setTimeout(() => resolve('silent'), waitMs)))
    const answered = await Promise.race([first.begun, silent])
    clearTimeout(timer)
    if (answered === 'silent') throw connectionLost(this.opts.node, undefined, `no answer to the first command's channel within ${waitMs / 1000} s`)
    const out = await first.output
    if (out === NOT_RUN) return undefined
    if (out instanceof Error) throw out instanceof NodeAccessError ? out : connectionLost(this.opts.node, undefined, this.lost ?? out.message)
    return out
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
      const started = (err: Error | undefined, channel: ClientChannel): void => {
        if (err) resolve(err)
        else collectOutput(this.opts, cmd, channel, limits, () => this.lost).then(resolve, reject)
      }
      if (!opened || !execOnChannel(this.client, opened, line, started)) this.client.exec(line, started)
      // In the same flight as this command's request, so it costs no wait of its own.
      this.spare ??= openChannelNow(this.client, this.opts.openWaitMs ?? DEFAULT_OPEN_WAIT_MS)
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
