// target-port-name-undefined: a named targetPort that the selected pods do not define (for the
// Service port's protocol). Such pods get no port in the EndpointSlice, so that port has no
// endpoint on them.
import type {V1Pod, V1Service} from '@kubernetes/client-node'
import {keyOf, protocolOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, listNames, plural, serviceFinding, type CheckContext} from './check.js'
import {declaredEvidence, declaredPorts, formatServicePort, podsBehind, targetOf} from './container-ports.js'
import {patchServiceCommand} from './fix-command.js'
import {editDistance} from './selector.js'

/**
 * The JSON patch that points the Service port at the one port its pods declare for its protocol,
 * when every pod lacks the name and all of them declare that same one port (by its name when it has
 * one). The `test` op makes kubectl refuse it if the Service changed since it was read.
 */
function retargetPatch(index: number, target: string, protocol: string, pods: V1Pod[], missing: V1Pod[]): unknown[] | undefined {
  if (missing.length !== pods.length) return undefined
  const candidates = new Map(pods.flatMap((p) => declaredPorts(p).filter((d) => d.protocol === protocol)).map((d) => [`${d.name ?? ''}/${d.port}`, d]))
  const [only] = candidates.values()
  if (candidates.size !== 1 || !only) return undefined
  if (!pods.every((p) => declaredPorts(p).some((d) => d.protocol === protocol && d.port === only.port && d.name === only.name))) return undefined
  const path = `/spec/ports/${index}/targetPort`
  return [
    {op: 'test', path, value: target},
    {op: 'replace', path, value: only.name ?? only.port},
  ]
}

/** A port whose named targetPort some (or all) selected pods do not define for its protocol. */
export function targetPortNameUndefined(svc: V1Service, ctx: Pick<CheckContext, 'pods' | 'slices'>): Finding[] {
  if (isExternalName(svc)) return []
  const pods = podsBehind(svc, ctx.pods)
  if (pods.length === 0) return []
  const out: Finding[] = []
  for (const [index, port] of (svc.spec?.ports ?? []).entries()) {
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
    const retarget = retargetPatch(index, target, protocol, pods, missing)
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
        undefined,
        retarget && patchServiceCommand(svc, 'json', retarget),
      ),
    )
  }
  return out
}
