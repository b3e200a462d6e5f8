// Short-lived debug pods for `--via exec --debug-pod`: one privileged hostNetwork pod per node, pinned to
// it, labelled as ours with this run's id, and deleted when the run ends. A pod whose deletion never
// happens (the process was killed) still ends by itself: restartPolicy Never, a container that only
// sleeps, and activeDeadlineSeconds.
import type {V1Pod} from '@kubernetes/client-node'
import {NodeAccessError} from '../node/connector.js'

/**
 * The default image: nicolaka/netshoot carries iptables(-save), ip6tables, nft, ipvsadm, ipset, conntrack
 * and iproute2 (what every allow-listed command needs), and `sleep`. Pinned, so a run is repeatable.
 */
export const DEFAULT_DEBUG_IMAGE = 'docker.io/nicolaka/netshoot:v0.13'

/**
 * Debug pods go to kube-system: where node agents such as kube-proxy live, and where Pod Security
 * admission lets privileged pods run on stock clusters. Not the kubeconfig namespace: that one follows
 * -n, the Service's namespace, which is no place for a privileged pod.
 */
export const DEBUG_POD_NAMESPACE = 'kube-system'
const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const RUN_ID_LABEL = 'svctrace/run-id'
const DEBUG_CONTAINER = 'svctrace'

/** The pod API calls debug pods need; errors come back as NodeAccessError naming cause and fix. */
export interface DebugPodApi {
  create(pod: V1Pod, node: string): Promise<V1Pod>
  read(name: string, node: string): Promise<V1Pod>
  /** Deletes one pod; a pod that is already gone is not an error. */
  delete(name: string): Promise<void>
  /** Deletes every pod matching the label selector (those whose creation answer was lost included). */
  deleteAll(labelSelector: string): Promise<void>
}

export interface DebugPodSettings {
  image: string
  runId: string
  startTimeoutMs: number
  /** The pod's activeDeadlineSeconds: its lifetime should svctrace never delete it. */
  deadlineSeconds: number
  /** Aborted when the run stops: waiting ends at once. */
  signal: AbortSignal
}

/** The pod that reads one node: privileged (netfilter needs CAP_NET_ADMIN), on the node's network. */
function debugPodManifest(node: string, name: string, s: Pick<DebugPodSettings, 'image' | 'runId' | 'deadlineSeconds'>): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: DEBUG_POD_NAMESPACE,
      labels: {[MANAGED_BY_LABEL]: 'svctrace', [RUN_ID_LABEL]: s.runId},
      annotations: {'svctrace/node': node, 'svctrace/purpose': 'reads kube-proxy rules for `kubectl svctrace --via exec --debug-pod`; safe to delete'},
    },
    spec: {
      nodeName: node,
      hostNetwork: true,
      restartPolicy: 'Never',
      activeDeadlineSeconds: s.deadlineSeconds,
      terminationGracePeriodSeconds: 1,
      // Tainted nodes (control plane, NoExecute) must be readable too.
      tolerations: [{operator: 'Exists'}],
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: [
        {
          name: DEBUG_CONTAINER,
          image: s.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', String(s.deadlineSeconds)],
          securityContext: {privileged: true},
          resources: {requests: {cpu: '10m', memory: '32Mi'}},
        },
      ],
    },
  }
}

const POLL_MS = 500

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`
}

/** Why a pod is not running yet, from its status: the container's waiting reason, else the false conditions. */
export function notRunningReason(pod: V1Pod): string {
  const status = pod.status
  const waiting = (status?.containerStatuses ?? [])
    .map((c) =>
      c.state?.waiting
        ? `container ${c.name} is waiting: ${c.state.waiting.reason ?? 'unknown reason'}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ''}`
        : '',
    )
    .filter(Boolean)
  if (waiting.length > 0) return waiting.join('; ')
  const conditions = (status?.conditions ?? [])
    .filter((c) => c.status === 'False' && c.reason)
    .map((c) => `${c.type}: ${c.reason}${c.message ? ` (${c.message})` : ''}`)
  const phase = `phase ${status?.phase ?? 'unknown'}${status?.reason ? ` (${status.reason}${status.message ? `: ${status.message}` : ''})` : ''}`
  return conditions.length > 0 ? `${phase}; ${conditions.join('; ')}` : phase
}

/** The debug pods of one run: created on demand, each deleted when its node is done, all deleted on cleanup. */
export class DebugPods {
  private readonly names = new Set<string>()
  private seq = 0
  private cleaning?: Promise<void>

  constructor(
    private readonly api: DebugPodApi,
    private readonly s: DebugPodSettings,
  ) {}

  get labelSelector(): string {
    return `${MANAGED_BY_LABEL}=svctrace,${RUN_ID_LABEL}=${this.s.runId}`
  }

  /** Creates the pod for a node and waits until it runs; on failure the pod is deleted before the error is thrown. */
  async start(node: string): Promise<{namespace: string; name: string; container: string}> {
    if (this.cleaning) throw new NodeAccessError(`not starting a debug pod on ${node}: svctrace is stopping`, 'unreachable')
    const name = `svctrace-${this.s.runId}-${++this.seq}`
    // Recorded before the request: if the answer is lost, cleanup still knows the pod may exist.
    this.names.add(name)
    try {
      await this.api.create(debugPodManifest(node, name, this.s), node)
      if (this.cleaning) throw new NodeAccessError(`debug pod on ${node} not used: svctrace is stopping`, 'unreachable')
      await this.waitUntilRunning(node, name)
    } catch (err) {
      await this.release(name)
      throw err
    }
    return {namespace: DEBUG_POD_NAMESPACE, name, container: DEBUG_CONTAINER}
  }

  private async waitUntilRunning(node: string, name: string): Promise<void> {
    const {startTimeoutMs, signal, image} = this.s
    const deadline = Date.now() + startTimeoutMs
    let pod: V1Pod | undefined
    // Bounded by the deadline (and by the number of polls it allows).
    for (let polls = 0; polls <= Math.ceil(startTimeoutMs / POLL_MS); polls++) {
      if (signal.aborted)
        throw new NodeAccessError(`stopped waiting for debug pod ${DEBUG_POD_NAMESPACE}/${name} on ${node}: svctrace is stopping`, 'unreachable')
      pod = await this.api.read(name, node)
      const phase = pod.status?.phase
      if (phase === 'Running') return
      if (phase === 'Succeeded' || phase === 'Failed') {
        throw new NodeAccessError(
          `debug pod ${DEBUG_POD_NAMESPACE}/${name} on ${node} ended before it could be used (${notRunningReason(pod)}); check that image ${image} has \`sleep\``,
          'unreachable',
        )
      }
      const left = deadline - Date.now()
      if (left <= 0) break
      await sleep(Math.min(POLL_MS, left), signal)
    }
    throw new NodeAccessError(
      `debug pod ${DEBUG_POD_NAMESPACE}/${name} on ${node} was not running after ${seconds(startTimeoutMs)}: ${pod ? notRunningReason(pod) : 'no status'}; ` +
        `check that ${node} can pull ${image} (or pass --debug-image with one it can), and that the node is Ready`,
      'timeout',
    )
  }

  /** Deletes one pod now (its node is done); failures are left to cleanup(). */
  async release(name: string): Promise<void> {
    try {
      await this.api.delete(name)
      this.names.delete(name)
    } catch {
      // cleanup() tries again by label
    }
  }

  /** Deletes every pod this run may have created, by label; idempotent (later calls share the first one's work). */
  cleanup(): Promise<void> {
    this.cleaning ??= this.deleteEverything()
    return this.cleaning
  }

  private async deleteEverything(): Promise<void> {
    if (this.seq === 0) return
    try {
      await this.api.deleteAll(this.labelSelector)
      this.names.clear()
    } catch (err) {
      // Without deletecollection, delete by name what is known; say what may be left.
      for (const name of [...this.names]) await this.release(name)
      if (this.names.size > 0) {
        throw new NodeAccessError(
          `could not delete debug pod(s) ${[...this.names].map((n) => `${DEBUG_POD_NAMESPACE}/${n}`).join(', ')}: ${(err as Error).message}; ` +
            `delete them with: kubectl delete pods -n ${DEBUG_POD_NAMESPACE} -l ${this.labelSelector}`,
          'unreachable',
        )
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, {once: true})
  })
}
