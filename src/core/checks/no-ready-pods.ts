// no-ready-pods: the selector matches pods, but none is ready, so none is a ready endpoint.
import type {V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {formatSelector, isExternalName, plural, selectorOf, serviceFinding, type CheckContext} from './check.js'
import {describeNotReady, isPodReady} from './pod-state.js'
import {selectedPods} from './selector.js'

const MAX_PODS = 10

/** Pods match the selector but none is Ready; the evidence says why, pod by pod. */
export function noReadyPods(svc: V1Service, ctx: Pick<CheckContext, 'pods'>): Finding[] {
  const sel = selectorOf(svc)
  // publishNotReadyAddresses makes unready pods endpoints all the same (StatefulSet peer discovery).
  if (!sel || isExternalName(svc) || svc.spec?.publishNotReadyAddresses) return []
  const pods = selectedPods(svc, ctx.pods)
  if (pods.length === 0 || pods.some(isPodReady)) return []
  const evidence = pods.slice(0, MAX_PODS).map(describeNotReady)
  if (pods.length > MAX_PODS) evidence.push(`and ${plural(pods.length - MAX_PODS, 'more pod')}`)
  return [
    serviceFinding(
      'no-ready-pods',
      svc,
      `${plural(pods.length, 'pod')} match the selector ${formatSelector(sel)} of Service ${keyOf(svc)}, but none is ready`,
      evidence,
    ),
  ]
}
