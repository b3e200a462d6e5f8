// Pods looked up by namespace, by name, by label and by node. Each index is built once per pod list
// (the run's one list, idx.view.pods) and kept with it, so checking or tracing every Service stays
// linear in the pods instead of scanning them all once per Service.
import type {V1Pod} from '@kubernetes/client-node'

interface PodIndex {
  byNamespace: Map<string, V1Pod[]>
  byName: Map<string, V1Pod>
  /** `namespace\0key=value` → pods in that namespace carrying the label. */
  byLabel: Map<string, V1Pod[]>
  /** `key=value` → pods carrying the label in any namespace. */
  byLabelAnywhere: Map<string, V1Pod[]>
  byNode: Map<string, V1Pod[]>
}

const indexes = new WeakMap<readonly V1Pod[], PodIndex>()

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

function indexOf(pods: readonly V1Pod[]): PodIndex {
  let index = indexes.get(pods)
  if (!index) {
    index = {byNamespace: new Map(), byName: new Map(), byLabel: new Map(), byLabelAnywhere: new Map(), byNode: new Map()}
    for (const p of pods) {
      const ns = p.metadata?.namespace ?? ''
      push(index.byNamespace, ns, p)
      index.byName.set(`${ns}/${p.metadata?.name ?? ''}`, p)
      for (const [k, v] of Object.entries(p.metadata?.labels ?? {})) {
        push(index.byLabel, `${ns}\0${k}=${v}`, p)
        push(index.byLabelAnywhere, `${k}=${v}`, p)
      }
      const node = p.spec?.nodeName
      if (node) push(index.byNode, node, p)
    }
    indexes.set(pods, index)
  }
  return index
}

/** The pods of one namespace. */
export function podsInNamespace(pods: readonly V1Pod[], namespace: string): readonly V1Pod[] {
  return indexOf(pods).byNamespace.get(namespace) ?? []
}

/** The pod `namespace/name`, if the list holds it. */
export function podNamed(pods: readonly V1Pod[], namespace: string, name: string): V1Pod | undefined {
  return indexOf(pods).byName.get(`${namespace}/${name}`)
}

/** The pods scheduled on one node. */
export function podsOnNode(pods: readonly V1Pod[], node: string): readonly V1Pod[] {
  return indexOf(pods).byNode.get(node) ?? []
}

/**
 * The pods carrying every label of `selector` (which has at least one), in one namespace or, without
 * one, in any: only the pods with the selector's rarest label are looked at.
 */
export function podsMatching(pods: readonly V1Pod[], selector: Record<string, string>, namespace?: string): V1Pod[] {
  const index = indexOf(pods)
  const labels = Object.entries(selector)
  let rarest: V1Pod[] | undefined
  for (const [k, v] of labels) {
    const list = (namespace === undefined ? index.byLabelAnywhere.get(`${k}=${v}`) : index.byLabel.get(`${namespace}\0${k}=${v}`)) ?? []
    if (!rarest || list.length < rarest.length) rarest = list
  }
  return (rarest ?? []).filter((p) => labels.every(([k, v]) => p.metadata?.labels?.[k] === v))
}
