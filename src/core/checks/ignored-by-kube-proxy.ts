// ignored-by-kube-proxy: kube-proxy watches Services with the label selector
// `!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless`; a Service with
// either label gets no rules from it.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {serviceFinding, type CheckContext} from './check.js'

const IGNORING_LABELS = ['service.kubernetes.io/service-proxy-name', 'service.kubernetes.io/headless']

/** The Service carries a label that makes kube-proxy skip it. */
export function ignoredByKubeProxy(svc: V1Service, _ctx?: Partial<CheckContext>): Finding[] {
  if (svc.spec?.type === 'ExternalName') return []
  const labels = svc.metadata?.labels ?? {}
  const found = IGNORING_LABELS.filter((l) => l in labels)
  if (found.length === 0) return []
  const evidence = found.map((l) => `label ${l}${labels[l] ? `=${labels[l]}` : ''}`)
  const proxy = labels['service.kubernetes.io/service-proxy-name']
  const who = proxy ? `only a proxy named "${proxy}" serves it` : 'nothing programs its cluster IP unless another proxy does'
  return [serviceFinding('ignored-by-kube-proxy', svc, `kube-proxy ignores Service ${keyOf(svc)} (label ${found.join(', ')}): ${who}`, evidence)]
}
