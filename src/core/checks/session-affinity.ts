// session-affinity: ClientIP affinity pins each client address to one endpoint for a while.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {serviceFinding, type CheckContext} from './check.js'

/** The default of sessionAffinityConfig.clientIP.timeoutSeconds: three hours. */
const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800

/** The Service's ClientIP session affinity and its timeout. */
export function sessionAffinity(svc: V1Service, ctx: Pick<CheckContext, 'source'> = {}): Finding[] {
  if (svc.spec?.sessionAffinity !== 'ClientIP' || svc.spec.type === 'ExternalName') return []
  const timeout = svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS
  const evidence = [
    `sessionAffinity: ClientIP, timeoutSeconds: ${timeout}${svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined ? ' (the default)' : ''}`,
  ]
  evidence.push(`a client that connected in the last ${timeout} s goes back to the same endpoint; the split the paths show is for a first connection`)
  if (ctx.source) evidence.push(`client ${ctx.source} sticks to the endpoint its first connection reached until it is idle for ${timeout} s`)
  return [serviceFinding('session-affinity', svc, `Service ${keyOf(svc)} has ClientIP session affinity with a ${timeout} s timeout`, evidence)]
}
