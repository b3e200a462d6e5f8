// endpointslice-missing-service-name-label: a hand-written EndpointSlice meant for a selectorless
// Service but without the `kubernetes.io/service-name` label, which is the only link kube-proxy
// follows from a slice to its Service.
import type {V1EndpointSlice, V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, plural, selectorOf, serviceFinding, type CheckContext} from './check.js'

const SERVICE_NAME = 'kubernetes.io/service-name'

/** Why an unlabelled slice looks meant for the Service, or undefined when it does not. */
function meantFor(slice: V1EndpointSlice, name: string): string | undefined {
  if ((slice.metadata?.ownerReferences ?? []).some((r) => r.kind === 'Service' && r.name === name)) return `its ownerReference names Service ${name}`
  const sliceName = slice.metadata?.name ?? ''
  if (sliceName === name || sliceName.startsWith(`${name}-`)) return `its name starts with ${name}`
  return undefined
}

/** Unlabelled EndpointSlices of the namespace that look meant for this selectorless Service. */
export function endpointSliceMissingServiceNameLabel(svc: V1Service, ctx: Pick<CheckContext, 'namespaceSlices'>): Finding[] {
  if (selectorOf(svc) || isExternalName(svc)) return []
  const name = svc.metadata?.name ?? ''
  return ctx.namespaceSlices.flatMap((slice) => {
    if (slice.metadata?.namespace !== svc.metadata?.namespace || slice.metadata?.labels?.[SERVICE_NAME] !== undefined) return []
    const why = meantFor(slice, name)
    if (!why) return []
    const endpoints = slice.endpoints ?? []
    const evidence = [
      `EndpointSlice ${slice.metadata?.name}: ${why}; ${plural(endpoints.length, 'endpoint')} (${endpoints.flatMap((e) => e.addresses).join(', ') || 'none'}); labels: ${
        Object.entries(slice.metadata?.labels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || 'none'
      }`,
    ]
    return [
      serviceFinding(
        'endpointslice-missing-service-name-label',
        svc,
        `EndpointSlice ${slice.metadata?.namespace}/${slice.metadata?.name} looks meant for Service ${keyOf(svc)} but has no ${SERVICE_NAME} label, so kube-proxy never uses it`,
        evidence,
      ),
    ]
  })
}
