// Reading a pod the way the EndpointSlice controller does (Ready condition, phase, deletion), and
// saying in one line why a pod is not ready.
import type {V1Container, V1ContainerStatus, V1Pod, V1Probe} from '@kubernetes/client-node'

/** Ready as the EndpointSlice controller decides it: the pod's Ready condition is True. */
export function isPodReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
}

/** Succeeded and Failed pods never become endpoints again. */
export function isPodFinished(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed'
}

function isPodTerminating(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null
}

/** Containers that serve traffic: the app containers and restartable (sidecar) init containers. */
export function servingContainers(pod: V1Pod): V1Container[] {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')
  return [...(pod.spec?.containers ?? []), ...sidecars]
}

/** `httpGet http://:8080/healthz`, `tcpSocket :5432`, `exec [pg_isready]`, `grpc :9090`. */
function describeProbe(probe: V1Probe): string {
  if (probe.httpGet) {
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase()
    return `httpGet ${scheme}://${probe.httpGet.host ?? ''}:${probe.httpGet.port}${probe.httpGet.path ?? '/'}`
  }
  if (probe.tcpSocket) return `tcpSocket :${probe.tcpSocket.port}`
  if (probe.grpc) return `grpc :${probe.grpc.port}${probe.grpc.service ? ` (${probe.grpc.service})` : ''}`
  if (probe.exec) return `exec [${(probe.exec.command ?? []).join(' ')}]`
  return 'probe'
}

/** Long messages (scheduler, kubelet) are cut: evidence is one line per pod. */
function clip(text: string, max = 120): string {
  const one = text.replace(/\s+/g, ' ').trim()
  return one.length > max ? `${one.slice(0, max - 1)}…` : one
}

function containerState(status: V1ContainerStatus): string {
  const s = status.state
  const restarts = status.restartCount ? `, ${status.restartCount} restart${status.restartCount === 1 ? '' : 's'}` : ''
  if (s?.waiting) {
    const why = [s.waiting.reason, s.waiting.message ? `(${clip(s.waiting.message, 80)})` : undefined].filter(Boolean).join(' ')
    return `waiting${why ? ` ${why}` : ''}${restarts}`
  }
  if (s?.terminated) return `terminated${s.terminated.reason ? ` ${s.terminated.reason}` : ''}, exit code ${s.terminated.exitCode}${restarts}`
  if (s?.running) return `running, not ready${restarts}`
  return `not started${restarts}`
}

/**
 * Why a pod is not ready, in one line: node, phase, the conditions that are not True, each
 * unready container's state and readiness probe, and readiness gates.
 *   web-7d9f-abcde on node-a: phase Running; Ready=False (ContainersNotReady); container web: running, not ready; readiness probe httpGet http://:8080/healthz
 */
export function describeNotReady(pod: V1Pod): string {
  const parts: string[] = [`phase ${pod.status?.phase ?? 'unknown'}`]
  if (isPodTerminating(pod)) parts.push('terminating (deletionTimestamp set)')
  const conditions = pod.status?.conditions ?? []
  const notReady = conditions.some((c) => c.type === 'Ready' && c.status !== 'True')
  for (const c of conditions) {
    // ContainersReady repeats Ready; the container lines below say more.
    if (c.status === 'True' || (c.type === 'ContainersReady' && notReady)) continue
    const why = [c.reason, c.message ? clip(c.message) : undefined].filter(Boolean).join(': ')
    parts.push(`${c.type}=${c.status}${why ? ` (${why})` : ''}`)
  }
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]))
  for (const container of servingContainers(pod)) {
    const status = statuses.get(container.name)
    if (status?.ready) continue
    const probe = container.readinessProbe ? `; readiness probe ${describeProbe(container.readinessProbe)}` : ''
    parts.push(`container ${container.name}: ${status ? containerState(status) : 'no status yet'}${probe}`)
  }
  for (const gate of pod.spec?.readinessGates ?? []) {
    if (!conditions.some((c) => c.type === gate.conditionType)) parts.push(`readiness gate ${gate.conditionType} not reported yet`)
  }
  const where = pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : ' (not scheduled)'
  return `${pod.metadata?.name ?? '?'}${where}: ${parts.join('; ')}`
}
