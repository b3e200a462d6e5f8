// Services that name an address without owning a virtual IP of it: ExternalName Services pointing at
// it (cluster DNS answers their name with it) and Services whose endpoints include it. Linear in the
// Services or endpoints, once per address query.
import type {V1Service} from '@kubernetes/client-node'
import {canonicalIP, isIP} from './address.js'
import {keyOf, type ClusterIndex} from './cluster-index.js'

/** ExternalName Services whose externalName is this address (written as an IP where a DNS name belongs). */
export function externalNamesOf(idx: ClusterIndex, ip: string): V1Service[] {
  return idx.view.services.filter((s) => {
    const target = s.spec?.type === 'ExternalName' ? s.spec.externalName?.trim() : undefined
    return target !== undefined && isIP(target) && canonicalIP(target) === ip
  })
}

/** `namespace/name` of every Service with `ip` among its endpoints (EndpointSlices, and Endpoints for Services without slices), sorted. */
export function servicesWithEndpoint(idx: ClusterIndex, ip: string): string[] {
  const out = new Set<string>()
  for (const [service, slices] of idx.slicesByService) {
    if (slices.some((s) => (s.endpoints ?? []).some((e) => e.addresses.some((a) => canonicalIP(a) === ip)))) out.add(service)
  }
  for (const e of idx.view.endpoints) {
    const key = keyOf(e)
    if (out.has(key) || idx.slicesByService.has(key)) continue
    if ((e.subsets ?? []).some((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])].some((a) => canonicalIP(a.ip) === ip))) out.add(key)
  }
  return [...out].sort()
}
