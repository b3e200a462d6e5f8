// selector-matches-several-owners: the selector picks pods of more than one workload, which
// usually means it is too broad (traffic is split between unrelated programs).
import type {V1Pod, V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {formatSelector, isExternalName, listNames, plural, selectorOf, serviceFinding, type CheckContext} from './check.js'
import {isPodFinished} from './pod-state.js'
import {selectedPods} from './selector.js'
import {addTo} from '../group.js'

/** Labels the controllers add per revision or per pod: they never tell two workloads apart. */
const BOOKKEEPING = new Set([
  'pod-template-hash',
  'rollouts-pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'pod-template-generation',
])

/**
 * The controller a pod belongs to, or undefined for a pod no controller owns. A ReplicaSet is folded
 * into its Deployment (or Argo Rollout): the name minus the pod-template-hash, so a rollout in
 * progress is one owner, not two. Without ownerReferences (some captures strip them) only the labels
 * a controller sets tell: pod-template-hash in the name (`web-6d4cf56db6-7xkqz` → Deployment web), or
 * statefulset.kubernetes.io/pod-name (`redis-0` → StatefulSet redis); a pod with neither is bare.
 */
export function ownerOf(pod: V1Pod): string | undefined {
  const refs = pod.metadata?.ownerReferences ?? []
  const ref = refs.find((r) => r.controller) ?? refs[0]
  const labels = pod.metadata?.labels ?? {}
  const rollout = labels['rollouts-pod-template-hash']
  const hash = rollout ?? labels['pod-template-hash']
  const kind = rollout ? 'Rollout' : 'Deployment'
  if (ref) {
    if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) return `${kind} ${ref.name.slice(0, -hash.length - 1)}`
    return `${ref.kind} ${ref.name}`
  }
  const name = pod.metadata?.name ?? ''
  if (hash && name.includes(`-${hash}-`)) return `${kind} ${name.slice(0, name.lastIndexOf(`-${hash}-`))}`
  const ordinal = /^(.+)-\d+$/.exec(name)
  if (ordinal && labels['statefulset.kubernetes.io/pod-name'] === name) return `StatefulSet ${ordinal[1]}`
  return undefined
}

/** What the evidence calls the pods no controller owns: one group, however many there are. */
const NO_CONTROLLER = 'pods with no controller'

/** Labels every pod of the group carries, with their values. */
function commonLabels(pods: V1Pod[]): Map<string, string> {
  const first = Object.entries(pods[0]?.metadata?.labels ?? {})
  return new Map(first.filter(([k, v]) => !BOOKKEEPING.has(k) && pods.every((p) => p.metadata?.labels?.[k] === v)))
}

/** The Service's pods (not finished ones) belong to two or more controllers; bare pods are listed as one more group. */
export function selectorMatchesSeveralOwners(svc: V1Service, ctx: Pick<CheckContext, 'pods'>): Finding[] {
  const sel = selectorOf(svc)
  if (!sel || isExternalName(svc)) return []
  const byOwner = new Map<string, V1Pod[]>()
  const bare: V1Pod[] = []
  for (const pod of selectedPods(svc, ctx.pods).filter((p) => !isPodFinished(p))) {
    const owner = ownerOf(pod)
    if (owner === undefined) bare.push(pod)
    else addTo(byOwner, owner, pod)
  }
  // One controller plus a debug pod is not a too-broad selector; two controllers are.
  if (byOwner.size < 2) return []
  const groups = [...byOwner].map(([owner, pods]) => ({owner, pods}))
  if (bare.length > 0) groups.push({owner: NO_CONTROLLER, pods: bare})
  const evidence = groups.map(({owner, pods}) => {
    // Labels the whole group shares and no pod of another group carries: what a selector could add to pick it alone.
    const others = groups.filter((g) => g.owner !== owner).flatMap((g) => g.pods)
    const own = [...commonLabels(pods)].filter(([k, v]) => !(k in sel) && !others.some((p) => p.metadata?.labels?.[k] === v))
    const hint = own.length > 0 ? `; labels that set it apart: ${own.map(([k, v]) => `${k}=${v}`).join(', ')}` : ''
    return `${owner}: ${plural(pods.length, 'pod')} (${listNames(pods.map((p) => p.metadata?.name ?? ''))})${hint}`
  })
  const owners = [...byOwner.keys()]
  const strays = bare.length > 0 ? `, and ${plural(bare.length, 'pod')} with no controller` : ''
  return [
    serviceFinding(
      'selector-matches-several-owners',
      svc,
      `selector ${formatSelector(sel)} of Service ${keyOf(svc)} matches pods of ${owners.length} workloads: ${listNames(owners)}${strays}`,
      evidence,
    ),
  ]
}
