// The ports a Service's pods declare, and how a Service port's targetPort resolves against them
// (the EndpointSlice controller's FindPort: a name must match name *and* protocol).
import type {V1Pod, V1Service, V1ServicePort} from '@kubernetes/client-node'
import {protocolOf} from '../cluster-index.js'
import type {Protocol} from '../model.js'
import {listNames} from './check.js'
import {isPodFinished, servingContainers} from './pod-state.js'
import {selectedPods} from './selector.js'
import {addTo} from '../group.js'

/** One containerPort, with the container that declares it. */
export interface DeclaredPort {
  container: string
  name?: string
  port: number
  protocol: Protocol
}

/** Every containerPort of the pod's serving containers. */
export function declaredPorts(pod: V1Pod): DeclaredPort[] {
  return servingContainers(pod).flatMap((c) =>
    (c.ports ?? []).map((p) => ({container: c.name, ...(p.name ? {name: p.name} : {}), port: p.containerPort, protocol: protocolOf(p)})),
  )
}

/** `metrics 9100/TCP (exporter)`. */
export function formatDeclared(d: DeclaredPort): string {
  return `${d.name ? `${d.name} ` : ''}${d.port}/${d.protocol} (${d.container})`
}

/** The targetPort a Service port forwards to: a name, or a number (defaulting to port). */
export function targetOf(port: V1ServicePort): string | number {
  const t = port.targetPort ?? port.port
  return typeof t === 'string' && /^\d+$/.test(t) ? Number(t) : t
}

/** `http 80/TCP`, how the Service port is named in messages. */
export function formatServicePort(port: V1ServicePort): string {
  return `${port.name ? `${port.name} ` : ''}${port.port}/${protocolOf(port)}`
}

/** The pods whose ports matter: selected and not finished. */
export function podsBehind(svc: V1Service, pods: V1Pod[]): V1Pod[] {
  return selectedPods(svc, pods).filter((p) => !isPodFinished(p))
}

/**
 * Pods grouped by what they declare, one evidence line per group:
 *   metrics-exporter-84c9f6d7b-zq5lp: declares metrics 9100/TCP (exporter)
 */
export function declaredEvidence(pods: V1Pod[]): string[] {
  const groups = new Map<string, string[]>()
  for (const pod of pods) {
    const ports = declaredPorts(pod)
    const text = ports.length > 0 ? `declares ${ports.map(formatDeclared).join(', ')}` : 'declares no ports'
    addTo(groups, text, pod.metadata?.name ?? '')
  }
  return [...groups].map(([text, names]) => `${listNames(names)}: ${text}`)
}
