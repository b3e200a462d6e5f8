// external-name-is-ip: an ExternalName Service is a DNS CNAME; a CNAME cannot point at an IP.
import type {V1Service} from '@kubernetes/client-node'
import {isIP} from '../address.js'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {serviceFinding, type CheckContext} from './check.js'

/** The externalName of an ExternalName Service is an IP address. */
export function externalNameIsIP(svc: V1Service, _ctx?: Partial<CheckContext>): Finding[] {
  const target = svc.spec?.externalName?.trim()
  if (svc.spec?.type !== 'ExternalName' || !target || !isIP(target)) return []
  const name = `${svc.metadata?.name}.${svc.metadata?.namespace}.svc`
  return [
    serviceFinding(
      'external-name-is-ip',
      svc,
      `ExternalName Service ${keyOf(svc)} points at the IP address ${target}: DNS answers ${name} with a CNAME to "${target}", a name that does not resolve`,
      [`spec.externalName: ${target}`],
    ),
  ]
}
