// target-port-name-undefined: a named targetPort that the selected pods do not define (for the
// Service port's protocol). Such pods get no port in the EndpointSlice, so that port has no
// endpoint on them.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf, protocolOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, listNames, plural, serviceFinding, type CheckContext} from './check.js'
import {declaredEvidence, declaredPorts, formatServicePort, podsBehind, targetOf} from './container-ports.js'
import {editDistance} from './selector.js'

/** A port whose named targetPort some (or all) selected pods do not define for its protocol. */
export function targetPortNameUndefined(svc: V1Service, ctx: Pick<CheckContext, 'pods' | 'slices'>): Finding[] {
  if (isExternalName(svc)) return []
  const pods = podsBehind(svc, ctx.pods)
  if (pods.length === 0) return []
  const out: Finding[] = []
  for (const port of svc.spec?.ports ?? []) {
    const target = targetOf(port)
    if (typeof target !== 'string') continue
    const protocol = protocolOf(port)
    const missing = pods.filter((p) => !declaredPorts(p).some((d) => d.name === target && d.protocol === protocol))
    if (missing.length === 0) continue
    const evidence = declaredEvidence(missing)
    const declared = missing.flatMap(declaredPorts)
    const otherProtocol = declared.find((d) => d.name === target)
    if (otherProtocol)
      evidence.push(`${target} is declared as ${otherProtocol.protocol}, but the Service port is ${protocol}: a named port must match the protocol too`)
    const close = [...new Set(declared.map((d) => d.name).filter((n): n is string => n !== undefined && n !== target && editDistance(n, target) <= 2))]
    if (close.length > 0) evidence.push(`similar port names: ${close.join(', ')}`)
    // The slice shows the consequence: the port is missing from it.
    const bare = ctx.slices.filter((s) => !(s.ports ?? []).some((p) => p.name === (port.name ?? '')))
    if (bare.length > 0)
      evidence.push(`EndpointSlice ${listNames(bare.map((s) => s.metadata?.name ?? ''))} has no port ${port.name ? `"${port.name}"` : ''}`.trimEnd())
    const who =
      missing.length === pods.length
        ? `which no container of its ${plural(pods.length, 'pod')} defines: connections to it are refused`
        : `which ${missing.length} of its ${pods.length} pods do not define: those pods get none of its traffic`
    out.push(
      serviceFinding(
        'target-port-name-undefined',
        svc,
        `port ${formatServicePort(port)} of Service ${keyOf(svc)} targets the named port "${target}", ${who}`,
        evidence,
      ),
    )
  }
  return out
}
