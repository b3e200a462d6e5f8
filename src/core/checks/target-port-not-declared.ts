// target-port-not-declared: a numeric targetPort that the selected pods declare no containerPort
// for. containerPort is informational, so traffic still flows if the process listens there;
// but pods that declare other ports and not this one usually mean a wrong number.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, plural, serviceFinding, type CheckContext} from './check.js'
import {declaredEvidence, declaredPorts, formatServicePort, podsBehind, targetOf} from './container-ports.js'

/** A port whose numeric targetPort no container of some selected pods declares (pods that declare no ports at all say nothing). */
export function targetPortNotDeclared(svc: V1Service, ctx: Pick<CheckContext, 'pods'>): Finding[] {
  if (isExternalName(svc)) return []
  const pods = podsBehind(svc, ctx.pods).filter((p) => declaredPorts(p).length > 0)
  if (pods.length === 0) return []
  const out: Finding[] = []
  for (const port of svc.spec?.ports ?? []) {
    const target = targetOf(port)
    if (typeof target !== 'number') continue
    // Declared with another protocol is target-port-protocol-mismatch, not this.
    const missing = pods.filter((p) => !declaredPorts(p).some((d) => d.port === target))
    if (missing.length === 0) continue
    const who =
      missing.length === pods.length
        ? `which no container of its ${plural(pods.length, 'pod')} declares`
        : `which ${missing.length} of its ${pods.length} pods do not declare`
    out.push(
      serviceFinding(
        'target-port-not-declared',
        svc,
        `port ${formatServicePort(port)} of Service ${keyOf(svc)} targets port ${target}, ${who}; it works only if the process listens on ${target} anyway`,
        declaredEvidence(missing),
      ),
    )
  }
  return out
}
