// One node's commands over pods/exec: each command is one exec WebSocket into the pod, its stdout and
// stderr collected under the output cap, its exit code read from the status channel.
import type {IncomingMessage} from 'node:http'
import {Readable, Writable} from 'node:stream'
import type {KubeConfig, V1Status} from '@kubernetes/client-node'
import {FramingError, markerCounter, runCompound, type BatchOutcomes, type BatchStep} from '../node/batch.js'
import {shellLine, UnsafeArgumentError, type NodeCommand} from '../node/commands.js'
import {NodeAccessError, type CommandResult, type NodeSession} from '../node/connector.js'
import {commandResult, execRefused, partError, seconds, statusMessage, type ApiError, type PodLabel} from './pod-exec-errors.js'

/** A pod to exec into, and how to name it in messages. */
export interface PodRef extends PodLabel {
  name: string
  container: string
}

/** The parts of a `ws` WebSocket used here. */
interface ExecSocket {
  terminate(): void
  on(event: 'open' | 'close', fn: () => void): unknown
  on(event: 'unexpected-response', fn: (req: unknown, res: IncomingMessage) => void): unknown
}

/** What an exec needs from client-node and ws (loaded on demand by the connector). */
export interface ExecLib {
  kc: KubeConfig
  Exec: typeof import('@kubernetes/client-node').Exec
  WebSocketHandler: typeof import('@kubernetes/client-node/dist/web-socket-handler.js').WebSocketHandler
  WebSocket: new (url: string, protocols: string[], opts: object) => ExecSocket
}

interface SessionContext {
  lib: ExecLib
  signal: AbortSignal
  commandTimeoutMs: number
  maxOutputBytes: number
  /** The User-Agent header of the exec upgrade request. */
  userAgent?: string
  audit?: (node: string, line: string) => void
  onClose: () => Promise<void>
  /** Shared by the connector's sessions: set once an image is found to have no shell. */
  shell: {missing?: string}
}

/** The argv to send, after the same allow-list check the SSH path applies; nothing else is ever sent. */
function allowListed(cmd: NodeCommand, node: string): string[] {
  try {
    shellLine(cmd, false)
  } catch (err) {
    if (err instanceof UnsafeArgumentError) throw new NodeAccessError(`${err.message}; nothing was run on ${node}`, 'command')
    throw err
  }
  return [...cmd.argv]
}

/**
 * Commands in one pod. As over SSH, only exit 0 is a result: a non-zero exit is a NodeAccessError of kind
 * `command`, and a program the image lacks says "not installed … exited with 127", so the node reader
 * falls back the same way whichever connector it uses (e.g. no ipvsadm in kube-proxy → /proc/net/ip_vs).
 */
export class PodExecSession implements NodeSession {
  /** Exec WebSockets opened so far: `sh -c` batches and single commands (-v counts them per node). */
  readonly channels = {compound: 0, single: 0}
  private closed?: Promise<void>
  private readonly stop = new AbortController()

  constructor(
    readonly pod: PodRef,
    private readonly ctx: SessionContext,
  ) {}

  /** Why the pod's image runs no batch (it has no shell), once that is known. */
  get noShell(): string | undefined {
    return this.ctx.shell.missing
  }

  async run(cmd: NodeCommand): Promise<CommandResult> {
    const argv = allowListed(cmd, this.pod.node)
    if (this.closed) throw new NodeAccessError(`\`${argv.join(' ')}\` was not run on ${this.pod.node}: its session is closed`, 'unreachable')
    this.ctx.audit?.(this.pod.node, argv.join(' '))
    this.channels.single++
    const raw = await execInPod(this.ctx, this.signal(), this.pod, argv)
    return commandResult(raw.status, raw.stdout.toString('utf8'), raw.stderr.toString('utf8'), this.pod, argv)
  }

  /**
   * The batch as one `sh -c` in the pod: one exec WebSocket instead of one per command. An image without
   * a shell (kube-proxy's distroless images) is found once per connector and then not asked again.
   */
  async runBatch(steps: readonly BatchStep[]): Promise<BatchOutcomes> {
    const {pod, ctx} = this
    if (ctx.shell.missing) throw new FramingError(ctx.shell.missing)
    if (this.closed) throw new NodeAccessError(`nothing was run on ${pod.node}: its session is closed`, 'unreachable')
    return runCompound(
      steps,
      false,
      async (compound) => {
        const argv = ['sh', '-c', compound.script]
        ctx.audit?.(pod.node, `sh -c '${compound.script}'`)
        this.channels.compound++
        const raw = await execInPod(ctx, this.signal(), pod, argv, markerCounter(compound.nonce))
        try {
          commandResult(raw.status, '', raw.stderr.toString('utf8'), pod, ['sh'])
        } catch (err) {
          if (!(err instanceof NodeAccessError) || err.exitCode !== 127) throw err
          ctx.shell.missing = `${pod.label} has no shell (sh)`
          throw new FramingError(ctx.shell.missing)
        }
        return {stdout: raw.stdout, stderr: raw.stderr.toString('utf8')}
      },
      (cmd, part) => partError(pod, cmd.argv, part.exitCode, part.stderr),
    )
  }

  private signal(): AbortSignal {
    return AbortSignal.any([this.ctx.signal, this.stop.signal])
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.stop.abort()
      await this.ctx.onClose()
    })()
    return this.closed
  }
}

/** What one exec stream gave back: its output and the status channel's verdict. */
interface RawExec {
  stdout: Buffer
  stderr: Buffer
  status: V1Status
}

/**
 * One command over one exec WebSocket: output collected under the cap, the status from its channel.
 * `parts` (batches) counts part markers on stderr: each restarts the per-command deadline.
 */
function execInPod(ctx: SessionContext, signal: AbortSignal, pod: PodRef, argv: string[], parts?: (chunk: Buffer) => number): Promise<RawExec> {
  const shown = argv[0] === 'sh' ? `the node read in ${pod.label} on ${pod.node}` : `\`${argv.join(' ')}\` in ${pod.label} on ${pod.node}`
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    const err: Buffer[] = []
    let bytes = 0
    let socket: ExecSocket | undefined
    let opened = false
    let refusal: {code: number; message: string} | undefined
    let settled = false
    const finish = (e: Error | undefined, r?: RawExec) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      if (e) socket?.terminate()
      if (e) reject(e)
      else resolve(r!)
    }
    const sink = (into: Buffer[], markers?: (chunk: Buffer) => number) =>
      new Writable({
        write(chunk: Buffer, _enc, done) {
          if (markers && markers(chunk) > 0 && !settled) {
            clearTimeout(timer)
            timer = arm()
          }
          bytes += chunk.length
          if (bytes > ctx.maxOutputBytes)
            finish(new NodeAccessError(`${shown} printed more than ${sizeOf(ctx.maxOutputBytes)}; stopped reading and closed the stream`, 'too-large'))
          else if (!settled) into.push(chunk)
          done()
        },
      }).on('error', () => {})
    const stdout = sink(out)
    const stderr = sink(err, parts)
    const arm = () =>
      setTimeout(
        () =>
          finish(
            new NodeAccessError(`${shown} did not finish within ${seconds(ctx.commandTimeoutMs)}; the node or the API server may be overloaded`, 'timeout'),
          ),
        ctx.commandTimeoutMs,
      )
    let timer = arm()
    const onAbort = () => finish(new NodeAccessError(`${shown} was cancelled: svctrace is stopping`, 'unreachable'))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, {once: true})

    const {lib} = ctx
    const factory = (uri: string, protocols: string[], opts: object) => {
      // applyToHTTPSOptions may have put the credentials in opts.headers: the User-Agent joins them.
      const headers = {...(opts as {headers?: Record<string, string>}).headers, ...(ctx.userAgent ? {'User-Agent': ctx.userAgent} : {})}
      const ws = new lib.WebSocket(uri, protocols, {...opts, headers, handshakeTimeout: ctx.commandTimeoutMs})
      socket = ws
      ws.on('open', () => (opened = true))
      // Refused upgrades carry a Status body; keep its message, then fail the handshake.
      ws.on('unexpected-response', (_req, res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body = (body + c).slice(0, 64 * 1024)))
        res.on('end', () => {
          refusal = {code: res.statusCode ?? 0, message: statusMessage({body, message: `HTTP ${res.statusCode}`} as ApiError)}
          ws.terminate()
        })
        res.on('error', () => ws.terminate())
      })
      ws.on(
        'close',
        () => opened && finish(new NodeAccessError(`connection lost while running ${shown}: the stream closed without an exit status`, 'unreachable')),
      )
      if (settled) ws.terminate()
      return ws
    }
    const handler = new lib.WebSocketHandler(lib.kc, factory as never, {stdin: new Readable({read() {}}), stdout, stderr})
    const onStatus = (status: V1Status) => finish(undefined, {stdout: Buffer.concat(out), stderr: Buffer.concat(err), status})
    new lib.Exec(lib.kc, handler)
      .exec(pod.namespace, pod.name, pod.container, argv, stdout, stderr, null, false, onStatus)
      .catch((e: unknown) => finish(execRefused(e as Error, refusal, pod, shown)))
  })
}

function sizeOf(limit: number): string {
  return limit >= 1024 * 1024 ? `${Math.round(limit / (1024 * 1024))} MiB` : `${limit} bytes`
}
