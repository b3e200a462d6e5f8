// NodeConnector over the Kubernetes API (pods/exec): runs the allow-listed node commands inside the
// kube-proxy pod on the node — it shares the node's network namespace, so iptables-save there prints the
// node's rules — or, with debugPod, inside a short-lived privileged hostNetwork pod (debug-pod.ts). Every
// command goes out as an argv array checked against the allow-list first; a node read goes out as one
// `sh -c` whose script is made of those commands only (batch.ts), or, where the image has no shell
// (kube-proxy's distroless images), as concurrent execs of the same commands. With debugPod 'fallback',
// what the kube-proxy image lacks (conntrack, …) is read from a debug pod on the node instead
// (debug-pod-fallback.ts).
// The only writes to the cluster are the debug pods' create and delete. One command's exec stream is
// pod-exec-session.ts; the sentences for what failed are pod-exec-errors.ts.
import {randomBytes} from 'node:crypto'
import type {CoreV1Api, HttpLibrary, V1Pod} from '@kubernetes/client-node'
import type {ActivityLog} from '../../app/ports.js'
import {DEBUG_POD_NAMESPACE, DebugPods, DEFAULT_DEBUG_IMAGE, notRunningReason, type DebugPodApi} from './debug-pod.js'
import {apiConnections, apiHttp, withSignal} from './client-options.js'
import {listAllPages, PagingError, type Page, type PagedList} from './paged-list.js'
import type {LoadedKubeconfig} from './kubeconfig.js'
import {MAX_COMMAND_OUTPUT_BYTES} from '../node/commands.js'
import {NodeAccessError, type NodeConnector, type NodeSession, type NodeTarget} from '../node/connector.js'
import {apiError, type ApiError, type ApiRequest} from './pod-exec-errors.js'
import {PodExecSession, type ExecLib, type PodRef} from './pod-exec-session.js'
import {DebugPodFallbackSession, useOf} from './debug-pod-fallback.js'
import {channelSummary} from './debug-pod-reads.js'

/**
 * Where commands run: `never` (default) in the kube-proxy pod; `always` in a debug pod svctrace creates on
 * each node (--debug-pod); `fallback` in the kube-proxy pod, and what its image lacks in a debug pod
 * created only when a read needs it (--debug-pod-fallback).
 */
export type DebugPodUse = 'never' | 'always' | 'fallback'

export interface PodExecOptions {
  debugPod?: DebugPodUse
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
  /** The User-Agent header of every request (user-agent.ts). */
  userAgent?: string
  /** -v: shows each API request (pod lookups, debug pods); node commands are shown by the reader. */
  log?: ActivityLog
}

const KUBE_PROXY_NAMESPACE = 'kube-system'
const KUBE_PROXY_SELECTOR = 'k8s-app=kube-proxy'
const REQUEST_TIMEOUT_MS = 30_000
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/

/** client-node and ws, loaded on the first node. */
interface Lib extends ExecLib {
  core: CoreV1Api
  /** The observed HTTP library when -v is on. */
  http?: HttpLibrary
}

export class PodExecConnector implements NodeConnector {
  readonly description: string
  private readonly runId = randomBytes(4).toString('hex')
  private readonly stopping = new AbortController()
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly sessions = new Set<PodExecSession>()
  /** Whether each kind of pod's image has a shell for batches, learnt from the first node that answers. */
  private readonly shells = {'kube-proxy': {} as {missing?: string}, debug: {} as {missing?: string}}
  private lib?: Promise<Lib>
  private debugPods?: DebugPods
  private closing?: Promise<void>

  constructor(
    private readonly loaded: LoadedKubeconfig,
    private readonly opts: PodExecOptions,
  ) {
    const debugPods = `debug pods (${opts.debugImage ?? DEFAULT_DEBUG_IMAGE}) in ${DEBUG_POD_NAMESPACE}`
    const kubeProxyPods = `kube-proxy pods (${KUBE_PROXY_NAMESPACE}, ${KUBE_PROXY_SELECTOR})`
    this.description =
      opts.debugPod === 'always'
        ? `exec into ${debugPods}`
        : `exec into ${kubeProxyPods}${opts.debugPod === 'fallback' ? `, and ${debugPods} for what their image lacks` : ''}`
  }

  async connect(target: NodeTarget): Promise<NodeSession> {
    if (this.closing) throw new NodeAccessError(`not reading ${target.name}: svctrace is stopping`, 'unreachable')
    if (!NODE_NAME.test(target.name)) throw new NodeAccessError(`refusing to look up node "${target.name}": not a valid node name`, 'unreachable')
    return this.tracked(this.open(target.name))
  }

  /** A pod lookup or start in progress: close() waits for it before deleting debug pods. */
  private async tracked<T>(opening: Promise<T>): Promise<T> {
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
    const debugPod = this.opts.debugPod ?? 'never'
    if (debugPod === 'always') return this.debugPodSession(lib, node, true)
    const kubeProxy = this.session(lib, {...(await this.kubeProxyPod(lib, node)), fallback: debugPod === 'fallback'}, async () => {}, debugPod === 'never')
    if (debugPod === 'never') return kubeProxy
    return new DebugPodFallbackSession(kubeProxy, {
      node,
      openDebugPod: () => {
        if (this.closing) return Promise.reject(new NodeAccessError(`not starting a debug pod on ${node}: svctrace is stopping`, 'unreachable'))
        return this.tracked(this.debugPodSession(lib, node, false))
      },
      ...(this.opts.log ? {log: this.opts.log} : {}),
    })
  }

  /** A session in a debug pod started on the node; closing it deletes the pod. */
  private async debugPodSession(lib: Lib, node: string, summarize: boolean): Promise<PodExecSession> {
    const pods = this.debugPodsOf(lib)
    const started = await pods.start(node)
    const pod: PodRef = {...started, node, label: `debug pod ${started.namespace}/${started.name}`, role: 'debug'}
    return this.session(lib, pod, () => pods.release(started.name), summarize)
  }

  /** `summarize`: -v says where the node's exec channels went when the session closes (a fallback session says it itself). */
  private session(lib: Lib, pod: PodRef, release: () => Promise<void>, summarize: boolean): PodExecSession {
    const log = this.opts.log
    const session: PodExecSession = new PodExecSession(pod, {
      lib,
      signal: this.stopping.signal,
      commandTimeoutMs: this.opts.commandTimeoutMs ?? 60_000,
      shell: this.shells[pod.role],
      maxOutputBytes: this.opts.maxOutputBytes ?? MAX_COMMAND_OUTPUT_BYTES,
      ...(this.opts.userAgent !== undefined ? {userAgent: this.opts.userAgent} : {}),
      ...(this.opts.audit !== undefined ? {audit: this.opts.audit} : {}),
      onClose: async () => {
        this.sessions.delete(session)
        if (log && summarize) log.nodeRead({node: pod.node, via: 'exec', text: channelSummary([useOf(session)])})
        await release()
      },
    })
    this.sessions.add(session)
    return session
  }

  private load(): Promise<Lib> {
    this.lib ??= (async () => {
      const k8s = await import('./client-node.js')
      const kc = this.loaded.kc
      return {
        core: kc.makeApiClient(k8s.CoreV1Api),
        http: apiHttp(k8s, {connections: apiConnections(k8s), log: this.opts.log}),
        kc,
        Exec: k8s.Exec,
        WebSocketHandler: k8s.WebSocketHandler,
        WebSocket: k8s.WebSocket as never,
      }
    })()
    return this.lib
  }

  /** One request; 404 gives undefined when allowed; the stop signal cancels it unless it cleans up. */
  private async request<T>(req: ApiRequest, call: (options: never) => Promise<T>, how: {cleanup?: boolean; allow404?: boolean} = {}): Promise<T | undefined> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    const signal = how.cleanup ? timeout : AbortSignal.any([this.stopping.signal, timeout])
    try {
      const {http} = await this.load()
      return await call(withSignal(signal, {http, userAgent: this.opts.userAgent}))
    } catch (err) {
      if (how.allow404 && (err as ApiError).code === 404) return undefined
      throw apiError(err, req, !how.cleanup && this.stopping.signal.aborted, REQUEST_TIMEOUT_MS)
    }
  }

  /** A list request page by page, as every list is made (paged-list.ts). */
  private async pagedList<T>(req: ApiRequest, call: (page: Page, options: never) => Promise<PagedList<T>>): Promise<T[] | undefined> {
    try {
      return await listAllPages(`list ${req.resource} in namespace ${req.namespace}`, (page) => this.request(req, (o) => call(page, o)))
    } catch (err) {
      if (err instanceof PagingError) throw new NodeAccessError(`${err.message} ${req.why} on ${req.node}`, 'unreachable')
      throw err
    }
  }

  private async kubeProxyPod(lib: Lib, node: string): Promise<PodRef> {
    const namespace = KUBE_PROXY_NAMESPACE
    const req = {verb: 'list', resource: 'pods', namespace, node, why: 'to find the kube-proxy pod'}
    // Both selectors go to the server: one small answer (a page), whatever the cluster's size.
    const list = await this.pagedList(req, (page, o) =>
      lib.core.listNamespacedPod({namespace, labelSelector: KUBE_PROXY_SELECTOR, fieldSelector: `spec.nodeName=${node}`, ...page}, o),
    )
    const pods = (list ?? []).filter((p) => !p.metadata?.deletionTimestamp)
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
    return {namespace, name, container, node, label: `kube-proxy pod ${namespace}/${name}`, role: 'kube-proxy'}
  }

  private debugPodsOf(lib: Lib): DebugPods {
    if (this.debugPods) return this.debugPods
    const namespace = DEBUG_POD_NAMESPACE
    const commandTimeoutMs = this.opts.commandTimeoutMs ?? 60_000
    const startTimeoutMs = this.opts.podStartTimeoutMs ?? 60_000
    const api: DebugPodApi = {
      create: async (body, node) =>
        (await this.request({verb: 'create', resource: 'pods', namespace, node, why: 'to start a debug pod'}, (o) =>
          lib.core.createNamespacedPod({namespace, body}, o),
        ))!,
      read: async (name, node) => {
        const pod = await this.request(
          {verb: 'get', resource: 'pods', namespace, node, why: 'to see whether the debug pod runs'},
          (o) => lib.core.readNamespacedPod({name, namespace}, o),
          {allow404: true},
        )
        if (!pod)
          throw new NodeAccessError(`debug pod ${namespace}/${name} on ${node} disappeared while starting (deleted by someone, or evicted)`, 'unreachable')
        return pod
      },
      delete: async (name) => {
        await this.request(
          {verb: 'delete', resource: 'pods', namespace, node: 'its node', why: 'to remove the debug pod'},
          (o) => lib.core.deleteNamespacedPod({name, namespace}, o),
          {cleanup: true, allow404: true},
        )
      },
      deleteAll: async (labelSelector) => {
        await this.request(
          {verb: 'deletecollection', resource: 'pods', namespace, node: 'every node', why: 'to remove the debug pods'},
          (o) => lib.core.deleteCollectionNamespacedPod({namespace, labelSelector}, o),
          {cleanup: true},
        )
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
