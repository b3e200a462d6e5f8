// source-outside-load-balancer-ranges: the client named with --source is not in
// loadBalancerSourceRanges, so kube-proxy drops its packets to the load-balancer IP.
import type {V1Service} from '@kubernetes/client-node'
import {cidrContains, parseCidr} from '../address.js'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {serviceFinding, type CheckContext} from './check.js'
import {dropRules} from './dropped-paths.js'

/** The client lies outside every loadBalancerSourceRanges entry of a LoadBalancer Service that has some. */
export function isOutsideLoadBalancerRanges(svc: V1Service, client: string): boolean {
  const ranges = svc.spec?.loadBalancerSourceRanges ?? []
  const source = parseCidr(client.trim())
  if (svc.spec?.type !== 'LoadBalancer' || ranges.length === 0 || !source) return false
  return !ranges.some((r) => {
    const net = parseCidr(r.trim())
    return net !== undefined && cidrContains(net, source)
  })
}

/** The client (--source) lies outside every loadBalancerSourceRanges entry of a LoadBalancer Service; the traced rules that drop it are its evidence. */
export function sourceOutsideLoadBalancerRanges(svc: V1Service, ctx: Pick<CheckContext, 'source' | 'traced'>): Finding[] {
  if (!ctx.source || !isOutsideLoadBalancerRanges(svc, ctx.source)) return []
  const ranges = svc.spec?.loadBalancerSourceRanges ?? []
  const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname).filter(Boolean)
  const nodePorts = (svc.spec?.ports ?? []).flatMap((p) => (p.nodePort ? [p.nodePort] : []))
  const evidence = [`loadBalancerSourceRanges: ${ranges.join(', ')}`]
  if (ingress.length > 0) evidence.push(`guarded: the load-balancer address${ingress.length === 1 ? '' : 'es'} ${ingress.join(', ')}`)
  evidence.push(`not guarded: the cluster IP${nodePorts.length > 0 ? ` and node port${nodePorts.length === 1 ? '' : 's'} ${nodePorts.join(', ')}` : ''}`)
  // The traced rules that do the dropping (this finding stands for them: traffic-dropped does not repeat them).
  evidence.push(
    ...dropRules(
      (ctx.traced ?? []).map((t) => t.path),
      'source-range',
    ),
  )
  return [
    serviceFinding(
      'source-outside-load-balancer-ranges',
      svc,
      `client ${ctx.source} is outside loadBalancerSourceRanges of Service ${keyOf(svc)}: its connections to the load-balancer address are dropped`,
      evidence,
    ),
  ]
}
