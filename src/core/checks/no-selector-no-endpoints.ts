// no-selector-no-endpoints: a Service without a selector gets endpoints only from objects someone
// writes by hand; with none, kube-proxy rejects its traffic.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, listNames, selectorOf, serviceFinding, type CheckContext} from './check.js'

/** No selector, and neither an EndpointSlice nor an Endpoints object lists an address. */
export function noSelectorNoEndpoints(svc: V1Service, ctx: Pick<CheckContext, 'slices' | 'endpoints'>): Finding[] {
  if (selectorOf(svc) || isExternalName(svc)) return []
  const sliceAddresses = ctx.slices.flatMap((s) => s.endpoints ?? []).length
  const subsets = ctx.endpoints?.subsets ?? []
  const endpointAddresses = subsets.flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]).length
  if (sliceAddresses > 0 || endpointAddresses > 0) return []
  const name = svc.metadata?.name ?? ''
  const evidence = [
    ctx.slices.length > 0
      ? `EndpointSlice ${listNames(ctx.slices.map((s) => s.metadata?.name ?? ''))} lists no endpoints`
      : `no EndpointSlice is labelled kubernetes.io/service-name=${name}`,
    ctx.endpoints ? `Endpoints ${name} has no addresses` : `no Endpoints object is named ${name}`,
  ]
  return [
    serviceFinding(
      'no-selector-no-endpoints',
      svc,
      `Service ${keyOf(svc)} has no selector and no endpoints: nothing tells kube-proxy where to send its traffic`,
      evidence,
    ),
  ]
}
