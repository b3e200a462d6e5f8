// target-port-protocol-mismatch: the pods declare the numeric targetPort, but only for another
// protocol (a DNS Service port on UDP whose pods declare 53/TCP only).
import type {V1Service} from '@kubernetes/client-node'
import {keyOf, protocolOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, listNames, serviceFinding, type CheckContext} from './check.js'
import {declaredPorts, formatDeclared, formatServicePort, podsBehind, targetOf} from './container-ports.js'

/** A port whose number the pods declare only with a protocol other than the Service port's. */
export function targetPortProtocolMismatch(svc: V1Service, ctx: Pick<CheckContext, 'pods'>): Finding[] {
  if (isExternalName(svc)) return []
  const pods = podsBehind(svc, ctx.pods)
  const out: Finding[] = []
  for (const port of svc.spec?.ports ?? []) {
    const target = targetOf(port)
    if (typeof target !== 'number') continue
    const protocol = protocolOf(port)
    const mismatched = pods.filter((p) => {
      const same = declaredPorts(p).filter((d) => d.port === target)
      return same.length > 0 && same.every((d) => d.protocol !== protocol)
    })
    if (mismatched.length === 0) continue
    const same = mismatched.flatMap((p) => declaredPorts(p).filter((d) => d.port === target))
    const protocols = [...new Set(same.map((d) => d.protocol))].join(', ')
    const evidence = [`${listNames(mismatched.map((p) => p.metadata?.name ?? ''))}: declare ${[...new Set(same.map(formatDeclared))].join(', ')}`]
    out.push(
      serviceFinding(
        'target-port-protocol-mismatch',
        svc,
        `port ${formatServicePort(port)} of Service ${keyOf(svc)} targets ${target}/${protocol}, but its pods declare ${target} only as ${protocols}`,
        evidence,
      ),
    )
  }
  return out
}
