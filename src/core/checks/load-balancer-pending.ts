// load-balancer-pending: type LoadBalancer, but no controller has published an ingress address.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {serviceFinding, type CheckContext} from './check.js'

/** A LoadBalancer Service with no status.loadBalancer.ingress entry yet. */
export function loadBalancerPending(svc: V1Service, _ctx?: Partial<CheckContext>): Finding[] {
  if (svc.spec?.type !== 'LoadBalancer' || (svc.status?.loadBalancer?.ingress ?? []).length > 0) return []
  const evidence = ['status.loadBalancer.ingress is empty']
  if (svc.spec.loadBalancerClass) evidence.push(`spec.loadBalancerClass: ${svc.spec.loadBalancerClass} (only that controller will provision it)`)
  if (svc.spec.loadBalancerIP) evidence.push(`spec.loadBalancerIP asks for ${svc.spec.loadBalancerIP}`)
  const nodePorts = (svc.spec.ports ?? []).flatMap((p) => (p.nodePort ? [p.nodePort] : []))
  if (nodePorts.length > 0) evidence.push(`meanwhile the node port${nodePorts.length === 1 ? '' : 's'} ${nodePorts.join(', ')} and the cluster IP work`)
  return [
    serviceFinding(
      'load-balancer-pending',
      svc,
      `LoadBalancer Service ${keyOf(svc)} has no external address yet (pending): no load balancer sends it traffic`,
      evidence,
    ),
  ]
}
