// headless-service: no virtual IP, no kube-proxy rules; cluster DNS answers with the endpoints.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf, protocolOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, listNames, serviceFinding, type CheckContext} from './check.js'
import {targetOf} from './container-ports.js'
import {ipSlices, isReady} from '../kube-proxy/endpoint-conditions.js'

/** Evidence names this many addresses; a big StatefulSet would drown the report. */
const MAX_SHOWN = 10

/** True for clusterIP None. */
export function isHeadless(svc: V1Service): boolean {
  return !isExternalName(svc) && (svc.spec?.clusterIP === 'None' || (svc.spec?.clusterIPs ?? []).includes('None'))
}

/** A headless Service, with the addresses DNS returns for it and what that means for ports. */
export function headlessService(svc: V1Service, ctx: Pick<CheckContext, 'slices'>): Finding[] {
  if (!isHeadless(svc)) return []
  const dns = `${svc.metadata?.name}.${svc.metadata?.namespace}.svc`
  // CoreDNS publishes ready endpoints; with publishNotReadyAddresses, every endpoint.
  const all = svc.spec?.publishNotReadyAddresses === true
  const endpoints = ipSlices(ctx.slices)
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => all || isReady(e))
  const evidence = endpoints.slice(0, MAX_SHOWN).map((e) => {
    const pod = e.targetRef?.kind === 'Pod' ? ` (${e.targetRef.name}${e.nodeName ? ` on ${e.nodeName}` : ''})` : ''
    const host = e.hostname ? `; also ${e.hostname}.${dns}` : ''
    return `${dns} → ${e.addresses.join(', ')}${pod}${host}`
  })
  if (endpoints.length > MAX_SHOWN) evidence.push(`and ${endpoints.length - MAX_SHOWN} more endpoints`)
  const slicePorts = ipSlices(ctx.slices).flatMap((s) => s.ports ?? [])
  for (const port of svc.spec?.ports ?? []) {
    // A named targetPort is resolved per pod; the slice holds the number it resolved to.
    const named = targetOf(port)
    const target = typeof named === 'number' ? named : (slicePorts.find((p) => (p.name ?? '') === (port.name ?? ''))?.port ?? named)
    if (port.name) evidence.push(`SRV _${port.name}._${protocolOf(port).toLowerCase()}.${dns} → port ${target}`)
    // No DNAT happens, so port → targetPort is not applied: clients must use the pods' port.
    if (target !== port.port)
      evidence.push(
        `port ${port.port} → ${target} is not remapped: clients connect straight to the pod, on ${typeof target === 'number' ? target : `the port named ${target}`}`,
      )
  }
  const addresses = endpoints.flatMap((e) => e.addresses)
  const answer = addresses.length > 0 ? `DNS ${dns} returns ${listNames(addresses, 5)}` : `DNS ${dns} returns no address (no ready endpoint)`
  return [serviceFinding('headless-service', svc, `Service ${keyOf(svc)} is headless: no virtual IP and no kube-proxy rules; ${answer}`, evidence)]
}
