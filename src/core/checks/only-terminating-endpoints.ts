// only-terminating-endpoints: every endpoint of the Service is on its way out.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, listNames, plural, serviceFinding, type CheckContext} from './check.js'
import {ipSlices, isServing, isTerminating} from '../kube-proxy/endpoint-conditions.js'
import {describeEndpoint} from './endpoint-slices.js'

/** The Service has endpoints and all of them are terminating. */
export function onlyTerminatingEndpoints(svc: V1Service, ctx: Pick<CheckContext, 'slices'>): Finding[] {
  if (isExternalName(svc)) return []
  const endpoints = ipSlices(ctx.slices).flatMap((s) => s.endpoints ?? [])
  if (endpoints.length === 0 || !endpoints.every(isTerminating)) return []
  const serving = endpoints.filter(isServing)
  const evidence = endpoints.map(
    (e) => `${describeEndpoint(e)}${e.nodeName ? ` on ${e.nodeName}` : ''}: terminating, ${isServing(e) ? 'still serving' : 'no longer serving'}`,
  )
  // kube-proxy (1.26+) sends new connections to serving terminating endpoints only when no ready one exists.
  const outcome =
    serving.length > 0
      ? `kube-proxy uses ${serving.length === 1 ? 'the one' : `the ${serving.length}`} still serving (${listNames(serving.map(describeEndpoint))}) until ${serving.length === 1 ? 'it stops' : 'they stop'}`
      : 'none is serving, so new connections are refused'
  return [
    serviceFinding(
      'only-terminating-endpoints',
      svc,
      `all ${plural(endpoints.length, 'endpoint')} of Service ${keyOf(svc)} are terminating: ${outcome}`,
      evidence,
    ),
  ]
}
