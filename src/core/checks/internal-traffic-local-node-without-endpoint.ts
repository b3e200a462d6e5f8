// internal-traffic-local-node-without-endpoint: with internalTrafficPolicy Local, cluster-IP
// traffic goes only to endpoints on the client's own node; elsewhere it is dropped.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, listNames, plural, serviceFinding, type CheckContext} from './check.js'
import {describeEndpoint, usableEndpointsByNode} from './endpoint-slices.js'
import {isHeadless} from './headless-service.js'

/** The client's node (or, without a client, any node) has no endpoint of an internalTrafficPolicy Local Service. */
export function internalTrafficLocalNodeWithoutEndpoint(svc: V1Service, ctx: Pick<CheckContext, 'slices' | 'pods' | 'nodes' | 'clientNode'>): Finding[] {
  if (svc.spec?.internalTrafficPolicy !== 'Local' || isExternalName(svc) || isHeadless(svc)) return []
  const byNode = usableEndpointsByNode(ctx.slices, ctx.pods)
  if (byNode.size === 0) return []
  const evidence = [...byNode].map(([node, eps]) => `${node}: ${plural(eps.length, 'local endpoint')}: ${listNames(eps.map(describeEndpoint))}`)
  const key = keyOf(svc)
  if (ctx.clientNode !== undefined) {
    if (byNode.has(ctx.clientNode)) return []
    return [
      serviceFinding(
        'internal-traffic-local-node-without-endpoint',
        svc,
        `internalTrafficPolicy Local on Service ${key}: the client's node ${ctx.clientNode} has no endpoint, so its connections to the cluster IP are dropped`,
        [`${ctx.clientNode}: no local endpoint`, ...evidence],
      ),
    ]
  }
  const without = ctx.nodes.map((n) => n.metadata?.name ?? '').filter((n) => !byNode.has(n))
  if (without.length === 0) return []
  const nodes = without.length === 1 ? `node ${without[0]} has` : `nodes ${listNames(without, 5)} have`
  return [
    serviceFinding(
      'internal-traffic-local-node-without-endpoint',
      svc,
      `internalTrafficPolicy Local on Service ${key}: ${nodes} no endpoint, so pods and processes there cannot reach the cluster IP`,
      evidence,
    ),
  ]
}
