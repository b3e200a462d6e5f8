// NodeConnector over the Kubernetes API (pods/exec): runs the allow-listed node commands inside the
// kube-proxy pod on the node — it shares the node's network namespace, so iptables-save there prints the
// node's rules — or, with debugPod, inside a short-lived privileged hostNetwork pod (debug-pod.ts). Every
// command goes out as an argv array checked against the allow-list first: no shell runs anywhere.
// The only writes to the cluster are the debug pods' create and delete.
import {randomBytes} from 'node:crypto'
import type {IncomingMessage} from 'node:http'
import {Readable, Writable} from 'node:stream'
import type {CoreV1Api, KubeConfig, V1Pod, V1Status} from '@kubernetes/client-node'
import {DEBUG_POD_NAMESPACE, DebugPods, DEFAULT_DEBUG_IMAGE, notRunningReason, type DebugPodApi} from './debug-pod.js'
import {withSignal} from './client-options.js'
import type {LoadedKubeconfig} from './kubeconfig.js'
import {MAX_COMMAND_OUTPUT_BYTES, shellLine, UnsafeArgumentError, type NodeCommand} from './node-commands.js'
import {NodeAccessError, type CommandResult, type NodeConnector, type NodeSession, type NodeTarget} from './node-connector.js'

export interface PodExecOptions {
  /** Run commands in a debug pod svctrace creates on each node instead of the kube-proxy pod. */
  debugPod?: boolean
  /** The debug pod's image; default DEFAULT_DEBUG_IMAGE. */
  debugImage?: string
  /** Per command (connecting included); default 60 s. */
  commandTimeoutMs?: number
  /** How long a debug pod may take to be Running; default 60 s. */
  podStartTimeoutMs?: number
  /** Called with every command line just before it is sent. */
  audit?: (node: string, line: string) => void
  /** Output cap per command; default MAX_COMMAND_OUTPUT_BYTES. */
  maxOutputBytes?: number
}

const KUBE_PROXY_NAMESPACE = 'kube-system'
const KUBE_PROXY_SELECTOR = 'k8s-app=kube-proxy'
const REQUEST_TIMEOUT_MS = 30_000
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/

/** A pod to exec into, and how to name it in messages. */
interface PodRef {
  namespace: string
  name: string
  container: string
  node: string
  label: string
}

/** The parts of a `ws` WebSocket used here. */
interface ExecSocket {
  terminate(): void
  on(event: 'open' | 'close', fn: () => void): unknown
  on(event: 'unexpected-response', fn: (req: unknown, res: IncomingMessage) => void): unknown
}

interface Lib {
  core: CoreV1Api
  kc: KubeConfig
  Exec: typeof import('@kubernetes/client-node').Exec
  WebSocketHandler: typeof import('@kubernetes/client-node/dist/web-socket-handler.js').WebSocketHandler
  WebSocket: new (url: string, protocols: string[], opts: object) => ExecSocket
}

interface ApiRequest {
  verb: string
  resource: string
  namespace: string
  node: string
  /** What the request is for: "to find the kube-proxy pod". */
  why: string
}

type ApiError = Error & {code?: number | string; body?: unknown; cause?: {code?: string}}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

function statusMessage(e: ApiError): string {
  try {
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as {message?: string} | null | undefined
    if (body?.message) return String(body.message)
  } catch {
    // not JSON
  }
  return String(e.message ?? e).split('\n')[0]!
}

function apiError(err: unknown, req: ApiRequest, stopping: boolean): NodeAccessError {
  const e = err as ApiError
  const what = `${req.verb} ${req.resource} in namespace ${req.namespace}`
  if (e.code === 403) {
    const said = statusMessage(e)
    if (/violates PodSecurity/i.test(said)) {
      return new NodeAccessError(`Pod Security admission refuses svctrace's privileged debug pod in ${req.namespace} (${said}); allow privileged pods there (label the namespace pod-security.kubernetes.io/enforce=privileged) or use --via ssh`, 'auth')
    }
    return new NodeAccessError(`RBAC does not allow ${what} (${said}), needed ${req.why} on ${req.node}; grant it (check with kubectl auth can-i ${req.verb} ${req.resource} -n ${req.namespace}) or use --via ssh`, 'auth')
  }
  if (e.code === 401) return new NodeAccessError(`the API server rejected the credentials (401 Unauthorized) ${req.why} on ${req.node}; log in again or pick another context`, 'auth')
  if (typeof e.code === 'number') return new NodeAccessError(`${what} failed ${req.why} on ${req.node}: ${e.code} ${statusMessage(e)}`, 'unreachable')
  if (stopping) return new NodeAccessError(`cancelled ${req.why} on ${req.node}: svctrace is stopping`, 'unreachable')
  if (e.name === 'AbortError' || /aborted/i.test(String(e.message))) {
    return new NodeAccessError(`the API server did not answer ${what} within ${seconds(REQUEST_TIMEOUT_MS)} (${req.why} on ${req.node}); is it overloaded?`, 'timeout')
  }
  return new NodeAccessError(`cannot reach the API server to ${what} (${req.why} on ${req.node}): ${e.cause?.code ?? e.code ?? e.message}`, 'unreachable')
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

export class PodExecConnector implements NodeConnector {
  readonly description: string
  private readonly runId = randomBytes(4).toString('hex')
  private readonly stopping = new AbortController()
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly sessions = new Set<PodExecSession>()
  private lib?: Promise<Lib>
  private debugPods?: DebugPods
  private closing?: Promise<void>

  constructor(
    private readonly loaded: LoadedKubeconfig,
    private readonly opts: PodExecOptions,
  ) {
    this.description = opts.debugPod
      ? `exec into debug pods (${opts.debugImage ?? DEFAULT_DEBUG_IMAGE}) in ${DEBUG_POD_NAMESPACE}`
      : `exec into kube-proxy pods (${KUBE_PROXY_NAMESPACE}, ${KUBE_PROXY_SELECTOR})`
  }

  async connect(target: NodeTarget): Promise<NodeSession> {
    if (this.closing) throw new NodeAccessError(`not reading ${target.name}: svctrace is stopping`, 'unreachable')
    if (!NODE_NAME.test(target.name)) throw new NodeAccessError(`refusing to look up node "${target.name}": not a valid node name`, 'unreachable')
    const opening = this.open(target.name)
    this.inFlight.add(opening)
    try {
      return await opening
    } finally {
      this.inFlight.delete(opening)
    }
  }

  /** Stops running commands, waits for pods being started, deletes every debug pod; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.stopping.abort()
    await Promise.allSettled([...this.inFlight])
    await Promise.allSettled([...this.sessions].map((s) => s.close()))
    await this.debugPods?.cleanup()
  }

  private async open(node: string): Promise<NodeSession> {
    const lib = await this.load()
    let pod: PodRef
    let release = async () => {}
    if (this.opts.debugPod) {
      const pods = this.debugPodsOf(lib)
      const started = await pods.start(node)
      pod = {...started, node, label: `debug pod ${started.namespace}/${started.name}`}
      release = () => pods.release(started.name)
    } else {
      pod = await this.kubeProxyPod(lib, node)
    }
    const session: PodExecSession = new PodExecSession(pod, {
      lib,
      signal: this.stopping.signal,
      commandTimeoutMs: this.opts.commandTimeoutMs ?? 60_000,
      maxOutputBytes: this.opts.maxOutputBytes ?? MAX_COMMAND_OUTPUT_BYTES,
      audit: this.opts.audit,
      onClose: async () => {
        this.sessions.delete(session)
        await release()
      },
    })
    this.sessions.add(session)
    return session
  }

  private load(): Promise<Lib> {
    this.lib ??= (async () => {
      const [k8s, handler, ws] = await Promise.all([
        import('@kubernetes/client-node'),
        // Not re-exported by the package index in 1.4.0; needed to own the socket (timeouts, refusal bodies).
        import('@kubernetes/client-node/dist/web-socket-handler.js'),
        import('isomorphic-ws'),
      ])
      const kc = this.loaded.kc
      return {core: kc.makeApiClient(k8s.CoreV1Api), kc, Exec: k8s.Exec, WebSocketHandler: handler.WebSocketHandler, WebSocket: ws.default as never}
    })()
    return this.lib
  }

  /** One request; 404 gives undefined when allowed; the stop signal cancels it unless it cleans up. */
  private async request<T>(req: ApiRequest, call: (options: never) => Promise<T>, how: {cleanup?: boolean; allow404?: boolean} = {}): Promise<T | undefined> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    const signal = how.cleanup ? timeout : AbortSignal.any([this.stopping.signal, timeout])
    try {
      return await call(withSignal(signal))
    } catch (err) {
      if (how.allow404 && (err as ApiError).code === 404) return undefined
      throw apiError(err, req, !how.cleanup && this.stopping.signal.aborted)
    }
  }

  private async kubeProxyPod(lib: Lib, node: string): Promise<PodRef> {
    const namespace = KUBE_PROXY_NAMESPACE
    const req = {verb: 'list', resource: 'pods', namespace, node, why: 'to find the kube-proxy pod'}
    // Both selectors go to the server: one small answer, whatever the cluster's size.
    const list = await this.request(req, (o) => lib.core.listNamespacedPod({namespace, labelSelector: KUBE_PROXY_SELECTOR, fieldSelector: `spec.nodeName=${node}`}, o))
    const pods = (list?.items ?? []).filter((p) => !p.metadata?.deletionTimestamp)
    const running = pods.find((p) => p.status?.phase === 'Running')
    const instead = 'pass --debug-pod to read the node from a short-lived privileged pod, or use --via ssh'
    if (!running && pods.length === 0) {
      throw new NodeAccessError(
        `no kube-proxy pod on ${node} (no pod labelled ${KUBE_PROXY_SELECTOR} in ${namespace} runs there): kube-proxy may run outside Kubernetes on this node, or another data plane replaces it; ${instead}`,
        'unreachable',
      )
    }
    if (!running) {
      const states = pods.map((p: V1Pod) => `${p.metadata?.name}: ${notRunningReason(p)}`).join('; ')
      throw new NodeAccessError(`the kube-proxy pod on ${node} is not running (${states}); ${instead}`, 'unreachable')
    }
    const containers = running.spec?.containers ?? []
    const name = running.metadata?.name ?? ''
    const container = containers.find((c) => c.name === 'kube-proxy')?.name ?? containers[0]?.name ?? 'kube-proxy'
    return {namespace, name, container, node, label: `kube-proxy pod ${namespace}/${name}`}
  }

  private debugPodsOf(lib: Lib): DebugPods {
    if (this.debugPods) return this.debugPods
    const namespace = DEBUG_POD_NAMESPACE
    const commandTimeoutMs = this.opts.commandTimeoutMs ?? 60_000
    const startTimeoutMs = this.opts.podStartTimeoutMs ?? 60_000
    const api: DebugPodApi = {
      create: async (body, node) => (await this.request({verb: 'create', resource: 'pods', namespace, node, why: 'to start a debug pod'}, (o) => lib.core.createNamespacedPod({namespace, body}, o)))!,
      read: async (name, node) => {
        const pod = await this.request({verb: 'get', resource: 'pods', namespace, node, why: 'to see whether the debug pod runs'}, (o) => lib.core.readNamespacedPod({name, namespace}, o), {allow404: true})
        if (!pod) throw new NodeAccessError(`debug pod ${namespace}/${name} on ${node} disappeared while starting (deleted by someone, or evicted)`, 'unreachable')
        return pod
      },
      delete: async (name) => {
        await this.request({verb: 'delete', resource: 'pods', namespace, node: 'its node', why: 'to remove the debug pod'}, (o) => lib.core.deleteNamespacedPod({name, namespace}, o), {cleanup: true, allow404: true})
      },
      deleteAll: async (labelSelector) => {
        await this.request({verb: 'deletecollection', resource: 'pods', namespace, node: 'every node', why: 'to remove the debug pods'}, (o) => lib.core.deleteCollectionNamespacedPod({namespace, labelSelector}, o), {cleanup: true})
      },
    }
    this.debugPods = new DebugPods(api, {
      image: this.opts.debugImage ?? DEFAULT_DEBUG_IMAGE,
      runId: this.runId,
      startTimeoutMs,
      // Long enough for a slow run; short enough that a pod svctrace could not delete soon goes away.
      deadlineSeconds: Math.max(600, Math.ceil((startTimeoutMs + 10 * commandTimeoutMs) / 1000)),
      signal: this.stopping.signal,
    })
    return this.debugPods
  }
}

interface SessionContext {
  lib: Lib
  signal: AbortSignal
  commandTimeoutMs: number
  maxOutputBytes: number
  audit?: (node: string, line: string) => void
  onClose: () => Promise<void>
}

/**
 * Commands in one pod. As over SSH, only exit 0 is a result: a non-zero exit is a NodeAccessError of kind
 * `command`, and a program the image lacks says "not installed … exited with 127", so the node reader
 * falls back the same way whichever connector it uses (e.g. no ipvsadm in kube-proxy → /proc/net/ip_vs).
 */
class PodExecSession implements NodeSession {
  private closed?: Promise<void>
  private readonly stop = new AbortController()

  constructor(
    private readonly pod: PodRef,
    private readonly ctx: SessionContext,
  ) {}

  async run(cmd: NodeCommand): Promise<CommandResult> {
    const argv = allowListed(cmd, this.pod.node)
    if (this.closed) throw new NodeAccessError(`\`${argv.join(' ')}\` was not run on ${this.pod.node}: its session is closed`, 'unreachable')
    this.ctx.audit?.(this.pod.node, argv.join(' '))
    return execInPod(this.ctx, AbortSignal.any([this.ctx.signal, this.stop.signal]), this.pod, argv)
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.stop.abort()
      await this.ctx.onClose()
    })()
    return this.closed
  }
}

/** One command over one exec WebSocket: output collected under the cap, exit code from the status channel. */
function execInPod(ctx: SessionContext, signal: AbortSignal, pod: PodRef, argv: string[]): Promise<CommandResult> {
  const shown = `\`${argv.join(' ')}\` in ${pod.label} on ${pod.node}`
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    const err: Buffer[] = []
    let bytes = 0
    let socket: ExecSocket | undefined
    let opened = false
    let refusal: {code: number; message: string} | undefined
    let settled = false
    const finish = (e: Error | undefined, r?: CommandResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      if (e) socket?.terminate()
      if (e) reject(e)
      else resolve(r!)
    }
    const sink = (into: Buffer[]) => new Writable({
      write(chunk: Buffer, _enc, done) {
        bytes += chunk.length
        if (bytes > ctx.maxOutputBytes) finish(new NodeAccessError(`${shown} printed more than ${sizeOf(ctx.maxOutputBytes)}; stopped reading and closed the stream`, 'too-large'))
        else if (!settled) into.push(chunk)
        done()
      },
    }).on('error', () => {})
    const stdout = sink(out)
    const stderr = sink(err)
    const timer = setTimeout(() => finish(new NodeAccessError(`${shown} did not finish within ${seconds(ctx.commandTimeoutMs)}; the node or the API server may be overloaded`, 'timeout')), ctx.commandTimeoutMs)
    const onAbort = () => finish(new NodeAccessError(`${shown} was cancelled: svctrace is stopping`, 'unreachable'))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, {once: true})

    const {lib} = ctx
    const factory = (uri: string, protocols: string[], opts: object) => {
      const ws = new lib.WebSocket(uri, protocols, {...opts, handshakeTimeout: ctx.commandTimeoutMs})
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
      ws.on('close', () => opened && finish(new NodeAccessError(`connection lost while running ${shown}: the stream closed without an exit status`, 'unreachable')))
      if (settled) ws.terminate()
      return ws
    }
    const handler = new lib.WebSocketHandler(lib.kc, factory as never, {stdin: new Readable({read() {}}), stdout, stderr})
    const onStatus = (status: V1Status) => {
      const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8')
      try {
        finish(undefined, commandResult(status, text(out), text(err), pod, argv))
      } catch (e) {
        finish(e as Error)
      }
    }
    new lib.Exec(lib.kc, handler).exec(pod.namespace, pod.name, pod.container, argv, stdout, stderr, null, false, onStatus)
      .catch((e: unknown) => finish(execRefused(e as Error, refusal, pod, shown)))
  })
}

function firstLines(text: string): string {
  const lines = text.trim().split('\n').slice(0, 3).join(' / ')
  return lines.length > 300 ? `${lines.slice(0, 300)}…` : lines
}

/** The exit status channel: Success, NonZeroExitCode with the code, or a failure to start the program. */
function commandResult(status: V1Status, stdout: string, stderr: string, pod: PodRef, argv: string[]): CommandResult {
  if (status.status === 'Success') return {stdout, stderr, exitCode: 0}
  const shown = `\`${argv.join(' ')}\``
  const message = status.message ?? ''
  // containerd/runc: `exec: "ipvsadm": executable file not found in $PATH` — what a shell reports as 127.
  if (/executable file not found|no such file or directory/i.test(message)) {
    const image = pod.label.startsWith('kube-proxy') ? 'the kube-proxy image' : 'the debug image'
    return fail(`${argv[0]} is not installed in ${pod.label} on ${pod.node} (${shown} exited with 127: not in ${image})`)
  }
  if (status.reason !== 'NonZeroExitCode') return fail(`${shown} in ${pod.label} on ${pod.node} could not run: ${message || status.reason || 'unknown failure'}`)
  const code = Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? /exit code (\d+)/.exec(message)?.[1])
  return fail(`${shown} in ${pod.label} on ${pod.node} exited with ${Number.isInteger(code) ? code : 'a non-zero code'}: ${firstLines(stderr) || 'no error output'}`)

  function fail(text: string): never {
    throw new NodeAccessError(text, 'command')
  }
}

function execRefused(e: Error, refusal: {code: number; message: string} | undefined, pod: PodRef, shown: string): NodeAccessError {
  const text = e?.message ?? String(e)
  const code = refusal?.code ?? Number(/Unexpected server response: (\d+)/.exec(text)?.[1])
  const said = refusal ? ` (${refusal.message})` : ''
  if (code === 403) {
    return new NodeAccessError(
      `RBAC does not allow create pods/exec in namespace ${pod.namespace}${said}, needed to run commands in ${pod.label} on ${pod.node}; ` +
        `grant the verbs create and get on pods/exec there (check with kubectl auth can-i create pods/exec -n ${pod.namespace}) or use --via ssh`,
      'auth',
    )
  }
  if (code === 401) return new NodeAccessError(`the API server rejected the credentials (401 Unauthorized) for ${shown}; log in again or pick another context`, 'auth')
  if (code === 404) return new NodeAccessError(`${pod.label} on ${pod.node} no longer exists${said}; run svctrace again (kube-proxy pods are replaced on upgrades)`, 'unreachable')
  if (code > 0) return new NodeAccessError(`the API server refused to run ${shown}: ${code}${said}`, 'unreachable')
  if (/handshake has timed out/i.test(text)) return new NodeAccessError(`no exec stream for ${shown}: the API server did not answer the upgrade in time`, 'timeout')
  return new NodeAccessError(`cannot open an exec stream for ${shown}: ${text}`, 'unreachable')
}

function sizeOf(limit: number): string {
  return limit >= 1024 * 1024 ? `${Math.round(limit / (1024 * 1024))} MiB` : `${limit} bytes`
}
