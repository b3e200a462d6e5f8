// external-traffic-local-node-without-endpoint: with externalTrafficPolicy Local a node forwards
// external traffic only to endpoints on itself; a node without one drops it.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf, nodeAddresses} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {isExternalName, listNames, plural, serviceFinding, type CheckContext} from './check.js'
import {dropRules, dropSeverity} from './dropped-paths.js'
import {describeEndpoint, usableEndpointsByNode} from './endpoint-slices.js'

/**
 * The nodes that drop the Service's external traffic because none of its endpoints runs on them
 * (externalTrafficPolicy Local): empty when the policy is Cluster, the Service has no external
 * entry, or no endpoint runs anywhere (then every node rejects; the selector and readiness checks say why).
 */
export function nodesWithoutLocalEndpoint(svc: V1Service, ctx: Pick<CheckContext, 'slices' | 'pods' | 'nodes'>): string[] {
  const spec = svc.spec
  if (spec?.externalTrafficPolicy !== 'Local' || isExternalName(svc)) return []
  if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer' && (spec.externalIPs ?? []).length === 0) return []
  const byNode = usableEndpointsByNode(ctx.slices, ctx.pods)
  if (byNode.size === 0) return []
  return ctx.nodes.map((n) => n.metadata?.name ?? '').filter((n) => !byNode.has(n))
}

/** Nodes that would drop the Service's external traffic because no endpoint runs on them, with the rules that drop it where nodes were traced. */
export function externalTrafficLocalNodeWithoutEndpoint(svc: V1Service, ctx: Pick<CheckContext, 'slices' | 'pods' | 'nodes' | 'traced'>): Finding[] {
  const spec = svc.spec
  const without = nodesWithoutLocalEndpoint(svc, ctx)
  if (!spec || without.length === 0) return []
  const nodePorts = (spec.ports ?? []).flatMap((p) => (p.nodePort ? [p.nodePort] : []))
  const externalIPs = spec.externalIPs ?? []
  const byNode = usableEndpointsByNode(ctx.slices, ctx.pods)
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
    // The traced rules that do the dropping (this finding stands for them: traffic-dropped does not repeat them).
    ...dropRules(
      (ctx.traced ?? []).filter((t) => without.includes(t.node)).map((t) => t.path),
      'external-local-no-endpoint',
    ),
  ]
  // A cloud load balancer health-checks healthCheckNodePort and avoids these nodes on its own:
  // then only clients that reach a node port directly are hurt, which is a fact, not a fault.
  if (spec.type === 'LoadBalancer')
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
      dropSeverity('external-local-no-endpoint', {...(spec.type ? {serviceType: spec.type} : {}), explicitSource: false}),
    ),
  ]
}
