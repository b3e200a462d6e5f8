// source-outside-load-balancer-ranges: the client named with --source (an address, or a range of
// them) is not in loadBalancerSourceRanges, so kube-proxy drops its packets to the load-balancer IP.
// For a range, decided for the whole of it, or said which part is allowed.
import type {V1Service} from '@kubernetes/client-node'
import {formatCidr, parseCidr, splitByNetworks, type Cidr} from '../address.js'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {serviceFinding, type CheckContext} from './check.js'
import {dropRules} from './dropped-paths.js'

/** How much of a client (address or range) loadBalancerSourceRanges let in: all of it, none, or some parts (and the rest not). */
export type RangeAdmission = {allowed: 'all'} | {allowed: 'none'} | {allowed: 'part'; parts: string[]}

/** The Service's source ranges, parsed; empty when it has none or is no LoadBalancer (then nothing is guarded). */
export function loadBalancerRanges(svc: V1Service): Cidr[] {
  if (svc.spec?.type !== 'LoadBalancer') return []
  return (svc.spec.loadBalancerSourceRanges ?? []).map((r) => parseCidr(r.trim())).filter((c): c is Cidr => c !== undefined)
}

/** What loadBalancerSourceRanges make of the client: undefined when the Service guards nothing or the client is no address or range. */
export function loadBalancerAdmission(svc: V1Service, client: string): RangeAdmission | undefined {
  const ranges = loadBalancerRanges(svc)
  const source = parseCidr(client.trim())
  if (ranges.length === 0 || !source) return undefined
  const {inside, outside} = splitByNetworks(source, ranges)
  if (inside.length === 0) return {allowed: 'none'}
  if (outside === undefined) return {allowed: 'all'}
  return {allowed: 'part', parts: inside.map(formatCidr)}
}

/** The client (every address of it, for a range) lies outside every loadBalancerSourceRanges entry of a LoadBalancer Service that has some. */
export function isOutsideLoadBalancerRanges(svc: V1Service, client: string): boolean {
  return loadBalancerAdmission(svc, client)?.allowed === 'none'
}

/** The sentence of the finding: one client, a whole range, or a range split by the source ranges. */
function message(svc: V1Service, client: string, admission: Exclude<RangeAdmission, {allowed: 'all'}>): string {
  const ranges = `loadBalancerSourceRanges of Service ${keyOf(svc)}`
  if (admission.allowed === 'part') {
    return `${client}: ${admission.parts.join(', ')} allowed, the rest rejected by ${ranges}: connections from the rest to the load-balancer address are dropped`
  }
  if (client.includes('/')) return `every client in ${client} is outside ${ranges}: their connections to the load-balancer address are dropped`
  return `client ${client} is outside ${ranges}: its connections to the load-balancer address are dropped`
}

/** The client (--source) lies outside loadBalancerSourceRanges of a LoadBalancer Service, wholly or in part; the traced rules that drop it are its evidence. */
export function sourceOutsideLoadBalancerRanges(svc: V1Service, ctx: Pick<CheckContext, 'source' | 'traced'>): Finding[] {
  const admission = ctx.source ? loadBalancerAdmission(svc, ctx.source) : undefined
  if (!ctx.source || !admission || admission.allowed === 'all') return []
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
  return [serviceFinding('source-outside-load-balancer-ranges', svc, message(svc, ctx.source, admission), evidence)]
}
