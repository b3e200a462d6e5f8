// Every API-only check of one Service, run in one place: what buildReport calls per Service.
import type {V1Service} from '@kubernetes/client-node'
import {canonicalIP} from '../address.js'
import {keyOf, type ClusterIndex} from '../cluster-index.js'
import type {Finding} from '../model.js'
import type {Check, CheckContext, TracedPath} from './check.js'
import {dualStack} from './dual-stack.js'
import {endpointSliceMissingServiceNameLabel} from './endpointslice-missing-service-name-label.js'
import {externalNameHasSelector} from './external-name-has-selector.js'
import {externalNameIsIP} from './external-name-is-ip.js'
import {externalTrafficLocalNodeWithoutEndpoint} from './external-traffic-local-node-without-endpoint.js'
import {headlessService} from './headless-service.js'
import {ignoredByKubeProxy} from './ignored-by-kube-proxy.js'
import {internalTrafficLocalNodeWithoutEndpoint} from './internal-traffic-local-node-without-endpoint.js'
import {loadBalancerPending} from './load-balancer-pending.js'
import {noReadyPods} from './no-ready-pods.js'
import {noSelectorNoEndpoints} from './no-selector-no-endpoints.js'
import {nodePortOutsideDefaultRange} from './node-port-outside-default-range.js'
import {onlyTerminatingEndpoints} from './only-terminating-endpoints.js'
import {selectorMatchesNoPods} from './selector-matches-no-pods.js'
import {selectorMatchesSeveralOwners} from './selector-matches-several-owners.js'
import {sessionAffinity} from './session-affinity.js'
import {sourceOutsideLoadBalancerRanges} from './source-outside-load-balancer-ranges.js'
import {targetPortNameUndefined} from './target-port-name-undefined.js'
import {targetPortNotDeclared} from './target-port-not-declared.js'
import {targetPortProtocolMismatch} from './target-port-protocol-mismatch.js'

/** The checks by the slug they report, in the order their findings are listed. */
export const serviceChecks = {
  'selector-matches-no-pods': selectorMatchesNoPods,
  'selector-matches-several-owners': selectorMatchesSeveralOwners,
  'no-ready-pods': noReadyPods,
  'only-terminating-endpoints': onlyTerminatingEndpoints,
  'target-port-name-undefined': targetPortNameUndefined,
  'target-port-not-declared': targetPortNotDeclared,
  'target-port-protocol-mismatch': targetPortProtocolMismatch,
  'no-selector-no-endpoints': noSelectorNoEndpoints,
  'endpointslice-missing-service-name-label': endpointSliceMissingServiceNameLabel,
  'external-name-is-ip': externalNameIsIP,
  'external-name-has-selector': externalNameHasSelector,
  'headless-service': headlessService,
  'load-balancer-pending': loadBalancerPending,
  'source-outside-load-balancer-ranges': sourceOutsideLoadBalancerRanges,
  'external-traffic-local-node-without-endpoint': externalTrafficLocalNodeWithoutEndpoint,
  'internal-traffic-local-node-without-endpoint': internalTrafficLocalNodeWithoutEndpoint,
  'node-port-outside-default-range': nodePortOutsideDefaultRange,
  'session-affinity': sessionAffinity,
  'ignored-by-kube-proxy': ignoredByKubeProxy,
  'dual-stack': dualStack,
} as const satisfies Record<string, Check>

export interface ServiceCheckOptions {
  /** The client address (`--source`): decides loadBalancerSourceRanges and the client's node. */
  source?: string
  /** The client's node, when known otherwise; found from `source` (a pod or node IP) when not given. */
  clientNode?: string
  /** The Service's traced paths (checks that explain a drop quote its rule). */
  traced?: TracedPath[]
}

/** The node a client address lives on: a pod's node, or the node holding that IP. */
function nodeOfAddress(idx: ClusterIndex, source: string): string | undefined {
  const ip = canonicalIP(source.trim())
  return idx.podByIP.get(ip)?.spec?.nodeName ?? idx.nodeByIP.get(ip)?.metadata?.name
}

/** The context the checks of one Service read, cut from the index. */
function checkContextOf(svc: V1Service, idx: ClusterIndex, options: ServiceCheckOptions = {}): CheckContext {
  const key = keyOf(svc)
  const ns = svc.metadata?.namespace
  const clientNode = options.clientNode ?? (options.source ? nodeOfAddress(idx, options.source) : undefined)
  const endpoints = idx.endpointsByKey.get(key)
  return {
    pods: idx.view.pods,
    slices: idx.slicesByService.get(key) ?? [],
    namespaceSlices: idx.slicesByNamespace.get(ns ?? '') ?? [],
    ...(endpoints ? {endpoints} : {}),
    nodes: idx.view.nodes,
    ...(options.source ? {source: options.source} : {}),
    ...(clientNode ? {clientNode} : {}),
    traced: options.traced ?? [],
  }
}

/** Runs every API-only check over one Service. */
export function checkService(svc: V1Service, idx: ClusterIndex, options: ServiceCheckOptions = {}): Finding[] {
  const ctx = checkContextOf(svc, idx, options)
  return Object.values(serviceChecks).flatMap((check: Check) => check(svc, ctx))
}
