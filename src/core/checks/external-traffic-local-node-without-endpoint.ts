// external-traffic-local-node-without-endpoint: with externalTrafficPolicy Local a node forwards
// external traffic only to endpoints on itself; a node without one drops it.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf, nodeAddresses} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, listNames, plural, serviceFinding, type CheckContext} from './check.js'
import {describeEndpoint, usableEndpointsByNode} from './endpoint-slices.js'

/** Nodes that would drop the Service's external traffic because no endpoint runs on them. */
export function externalTrafficLocalNodeWithoutEndpoint(svc: V1Service, ctx: Pick<CheckContext, 'slices' | 'pods' | 'nodes'>): Finding[] {
  const spec = svc.spec
  if (spec?.externalTrafficPolicy !== 'Local' || isExternalName(svc)) return []
  const nodePorts = (spec.ports ?? []).flatMap((p) => (p.nodePort ? [p.nodePort] : []))
  const externalIPs = spec.externalIPs ?? []
  if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer' && externalIPs.length === 0) return []
  const byNode = usableEndpointsByNode(ctx.slices, ctx.pods)
  // With no endpoint anywhere every node rejects; the selector and readiness checks say why.
  if (byNode.size === 0) return []
  const without = ctx.nodes.map((n) => n.metadata?.name ?? '').filter((n) => !byNode.has(n))
  if (without.length === 0) return []
  const entries = [
    ...(nodePorts.length > 0 ? [`node port${nodePorts.length === 1 ? '' : 's'} ${nodePorts.join(', ')}`] : []),
    ...(externalIPs.length > 0 ? [`external IP${externalIPs.length === 1 ? '' : 's'} ${externalIPs.join(', ')}`] : []),
    ...(spec.type === 'LoadBalancer' ? ['load-balancer traffic'] : []),
  ].join(', ')
  const evidence = [
    ...ctx.nodes
      .filter((n) => without.includes(n.metadata?.name ?? ''))
      .map((n) => {
        const ips = nodeAddresses(n)
        return `${n.metadata?.name}${ips.length > 0 ? ` (${ips.join(', ')})` : ''}: no local endpoint`
      }),
    ...[...byNode].map(([node, eps]) => `${node}: ${plural(eps.length, 'local endpoint')}: ${listNames(eps.map(describeEndpoint))}`),
  ]
  // A cloud load balancer health-checks healthCheckNodePort and avoids these nodes on its own:
  // then only clients that reach a node port directly are hurt, which is a fact, not a fault.
  const balanced = spec.type === 'LoadBalancer'
  if (balanced)
    evidence.push(
      `the load balancer's health check${spec.healthCheckNodePort ? ` (node port ${spec.healthCheckNodePort})` : ''} keeps its traffic off these nodes; clients that reach their node ports directly are dropped`,
    )
  const nodes = without.length === 1 ? `node ${without[0]} has` : `nodes ${listNames(without, 5)} have`
  const them = without.length === 1 ? 'it' : 'them'
  return [
    serviceFinding(
      'external-traffic-local-node-without-endpoint',
      svc,
      `externalTrafficPolicy Local on Service ${keyOf(svc)}: ${nodes} no local endpoint, so external traffic reaching ${them} (${entries}) is dropped`,
      evidence,
      balanced ? 'info' : undefined,
    ),
  ]
}
