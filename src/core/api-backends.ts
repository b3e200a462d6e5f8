// The backends of a Service as the API lists them: one row per endpoint of its EndpointSlices (the
// Endpoints object when it has no slice), with the conditions read as kube-proxy reads them. This
// is what an API-only run can say about where traffic goes, and what node rules are held against.
import type {V1EndpointConditions, V1EndpointSlice, V1Endpoints, V1ObjectReference, V1Service} from '@kubernetes/client-node'
import {canonicalIP} from './address.js'
import {keyOf, protocolOf, type ClusterIndex} from './cluster-index.js'
import {ipSlices, isReady, isServing, isTerminating} from './kube-proxy/endpoint-conditions.js'
import type {Protocol} from './model.js'

/** A port an endpoint serves: a slice port (name '' when unnamed; port null when the controller could not resolve it). */
export interface ApiBackendPort {
  name: string
  port: number | null
  protocol: Protocol
}

/** One endpoint of a Service, as its EndpointSlice (or Endpoints) lists it. */
export interface ApiBackend {
  /** `namespace/name` of the targetRef pod, or null when the endpoint names no pod. */
  pod: string | null
  /** The endpoint's first address: the one kube-proxy forwards to. */
  ip: string
  /** `nodeName`, or null when the endpoint has none (then it is never local to a node). */
  node: string | null
  /** The conditions with kube-proxy's defaults applied (nil ready and serving are true, nil terminating false). */
  conditions: {ready: boolean; serving: boolean; terminating: boolean}
  ports: ApiBackendPort[]
  /** `zone`, or null. */
  zone: string | null
  /** `hints.forZones`: the zones whose nodes may use this endpoint under topology-aware routing. */
  zoneHints: readonly string[]
  /** The object that lists it. */
  listedIn: {kind: 'EndpointSlice' | 'Endpoints'; name: string}
}

function podOf(ref: V1ObjectReference | undefined, namespace: string): string | null {
  return ref?.kind === 'Pod' && ref.name ? `${ref.namespace ?? namespace}/${ref.name}` : null
}

/** The eight sets of conditions, made once: rows share them (reports are never changed after they are made). */
const CONDITIONS: ReadonlyArray<ApiBackend['conditions']> = Array.from({length: 8}, (_, bits) =>
  Object.freeze({ready: (bits & 1) !== 0, serving: (bits & 2) !== 0, terminating: (bits & 4) !== 0}),
)

function conditionsOf(e: {conditions?: V1EndpointConditions}): ApiBackend['conditions'] {
  const bits = (isReady(e) ? 1 : 0) | (isServing(e) ? 2 : 0) | (isTerminating(e) ? 4 : 0)
  const shared = CONDITIONS[bits]
  if (!shared) throw new Error(`endpoint conditions: ${bits} is not one of the eight sets`)
  return shared
}

/** A row without zone hints: one empty list for all of them. */
const NO_HINTS: readonly string[] = Object.freeze([])

/** A slice's endpoints as backends. The slice's ports and name are one value shared by its rows (reports are never changed, and YAML is dumped without references). */
function fromSlice(slice: V1EndpointSlice): ApiBackend[] {
  const namespace = slice.metadata?.namespace ?? ''
  const ports = (slice.ports ?? []).map((p) => ({name: p.name ?? '', port: p.port ?? null, protocol: protocolOf(p)}))
  const listedIn = {kind: 'EndpointSlice' as const, name: slice.metadata?.name ?? ''}
  const rows: ApiBackend[] = []
  for (const ep of slice.endpoints ?? []) {
    const ip = ep.addresses[0]
    if (!ip) continue
    rows.push({
      pod: podOf(ep.targetRef, namespace),
      ip: canonicalIP(ip),
      node: ep.nodeName ?? null,
      conditions: conditionsOf(ep),
      ports,
      zone: ep.zone ?? null,
      zoneHints: ep.hints?.forZones?.length ? ep.hints.forZones.map((z) => z.name) : NO_HINTS,
      listedIn,
    })
  }
  return rows
}

/** Endpoints subsets: `addresses` are ready, `notReadyAddresses` not (as the mirroring controller writes their slices). */
function fromEndpoints(eps: V1Endpoints): ApiBackend[] {
  const namespace = eps.metadata?.namespace ?? ''
  return (eps.subsets ?? []).flatMap((subset) => {
    const ports = (subset.ports ?? []).map((p) => ({name: p.name ?? '', port: p.port, protocol: protocolOf(p)}))
    const rows = (ready: boolean) => (a: {ip: string; nodeName?: string; targetRef?: V1ObjectReference}) => ({
      pod: podOf(a.targetRef, namespace),
      ip: canonicalIP(a.ip),
      node: a.nodeName ?? null,
      conditions: conditionsOf({conditions: {ready}}),
      ports,
      zone: null,
      zoneHints: NO_HINTS,
      listedIn: {kind: 'Endpoints' as const, name: eps.metadata?.name ?? ''},
    })
    return [...(subset.addresses ?? []).map(rows(true)), ...(subset.notReadyAddresses ?? []).map(rows(false))]
  })
}

/** Every endpoint of the Service's IP EndpointSlices, else of its Endpoints object, by IP. */
export function apiBackends(idx: ClusterIndex, svc: V1Service): ApiBackend[] {
  const slices = idx.slicesByService.get(keyOf(svc)) ?? []
  const rows = slices.length > 0 ? ipSlices(slices).flatMap(fromSlice) : fromEndpoints(idx.endpointsByKey.get(keyOf(svc)) ?? {})
  return rows.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0))
}
