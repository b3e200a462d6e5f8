// dual-stack: the Service's IP families, and what a dual-stack request actually got.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, serviceFinding, type CheckContext} from './check.js'

/** A dual-stack Service, or one that asked for dual-stack and got a single family. */
export function dualStack(svc: V1Service, ctx: Pick<CheckContext, 'slices'>): Finding[] {
  if (isExternalName(svc)) return []
  const families = svc.spec?.ipFamilies ?? []
  const policy = svc.spec?.ipFamilyPolicy ?? 'SingleStack'
  const ips = (svc.spec?.clusterIPs ?? []).filter((ip) => ip !== 'None')
  const key = keyOf(svc)
  if (families.length > 1) {
    const slices = ctx.slices.reduce<Record<string, number>>(
      (acc, s) => ({...acc, [s.addressType]: (acc[s.addressType] ?? 0) + (s.endpoints ?? []).length}),
      {},
    )
    const evidence = [
      `ipFamilyPolicy: ${policy}, ipFamilies: ${families.join(', ')}`,
      ...(ips.length > 0 ? [`cluster IPs: ${ips.join(', ')}`] : []),
      ...families.map((f) => `${f} endpoints: ${slices[f] ?? 0}`),
    ]
    return [serviceFinding('dual-stack', svc, `Service ${key} is dual-stack (${families.join(', ')})`, evidence)]
  }
  if (policy === 'PreferDualStack') {
    return [
      serviceFinding(
        'dual-stack',
        svc,
        `Service ${key} prefers dual-stack but has only ${families[0] ?? 'one family'}: the cluster (or its Service CIDRs) is single-stack`,
        [`ipFamilyPolicy: ${policy}, ipFamilies: ${families.join(', ') || '(none)'}`],
      ),
    ]
  }
  return []
}
