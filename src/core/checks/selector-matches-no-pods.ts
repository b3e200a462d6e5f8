// selector-matches-no-pods, with the near miss: for each selector key, how many pods match the
// rest of the selector, which values they carry for that key, and which are one edit away.
import type {V1Pod, V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'
import {formatSelector, isExternalName, listNames, plural, selectorOf, serviceFinding, type CheckContext} from './check.js'
import {patchServiceCommand} from './fix-command.js'
import {editDistance, selectedPods} from './selector.js'
import {podsInNamespace, podsMatching} from '../pod-index.js'

/** Close enough to be a typo: one edit, or two in a longer word, or only the case differs. */
function isTypo(seen: string, wanted: string): boolean {
  if (seen === wanted) return false
  if (seen.toLowerCase() === wanted.toLowerCase()) return true
  return editDistance(seen, wanted) <= (wanted.length >= 6 ? 2 : 1)
}

function edits(seen: string, wanted: string): string {
  const d = editDistance(seen, wanted)
  return d === 0 ? 'differs only in case' : `${plural(d, 'edit')} from ${wanted}`
}

/** How the pods that match every other key differ on this one, typos first. */
function valueGroups(key: string, wanted: string, near: readonly V1Pod[], restEmpty: boolean): string[] {
  // Group by the value a pod has for the key or, lacking the key, by a key one edit away that holds the wanted value.
  const groups = new Map<string, {value?: string; twin?: string; names: string[]}>()
  for (const p of near) {
    const labels = p.metadata?.labels ?? {}
    const value = labels[key]
    const twin = value === undefined ? Object.keys(labels).find((k) => labels[k] === wanted && isTypo(k, key)) : undefined
    const id = value !== undefined ? `=${value}` : `!${twin ?? ''}`
    const group = groups.get(id) ?? {...(value !== undefined ? {value} : {}), ...(twin ? {twin} : {}), names: []}
    group.names.push(p.metadata?.name ?? '')
    groups.set(id, group)
  }
  const lines = [...groups.values()].map(({value, twin, names}) => {
    const pods = `on ${plural(names.length, 'pod')}: ${listNames(names)}`
    if (value !== undefined) {
      const typo = isTypo(value, wanted)
      return {typo, size: names.length, text: `${key}=${value}${typo ? ` (${edits(value, wanted)}: a typo?)` : ''} ${pods}`}
    }
    if (twin) return {typo: true, size: names.length, text: `no ${key} label but ${twin}=${wanted} (the key is ${edits(twin, key)}: a typo?) ${pods}`}
    return {typo: false, size: names.length, text: `no ${key} label ${pods}`}
  })
  // With a one-key selector every pod of the namespace "matches the rest": only typos say anything.
  const shown = lines.filter((l) => l.typo || !restEmpty).sort((a, b) => Number(b.typo) - Number(a.typo) || b.size - a.size)
  const out = shown.slice(0, 3).map((l) => l.text)
  if (shown.length > 3) out.push(`and ${plural(shown.length - 3, 'other value')} of ${key}`)
  return out
}

/**
 * The one selector value that is a typo, when that is certain: exactly one key whose pods matching
 * the rest of the selector all carry one value for it, a typo of the wanted one. The patch that
 * sets it.
 */
function typoPatch(sel: Record<string, string>, pods: readonly V1Pod[], ns: string): Record<string, string> | undefined {
  const labels = Object.entries(sel)
  const fixes = labels.flatMap(([key, wanted]) => {
    const near = matchingTheRest(pods, ns, labels, key)
    const values = new Set(near.map((p) => p.metadata?.labels?.[key]))
    const [value] = values
    return near.length > 0 && values.size === 1 && value !== undefined && isTypo(value, wanted) ? [[key, value] as const] : []
  })
  const [only] = fixes
  return fixes.length === 1 && only ? {[only[0]]: only[1]} : undefined
}

/** Pods of the namespace matching every label of the selector but `key`'s (all of them for a one-key selector). */
function matchingTheRest(pods: readonly V1Pod[], ns: string, labels: ReadonlyArray<readonly [string, string]>, key: string): readonly V1Pod[] {
  const rest = labels.filter(([k]) => k !== key)
  return rest.length === 0 ? podsInNamespace(pods, ns) : podsMatching(pods, Object.fromEntries(rest), ns)
}

/** The selector matches no pod of the Service's namespace (an ExternalName has no pods to match). */
export function selectorMatchesNoPods(svc: V1Service, ctx: Pick<CheckContext, 'pods'>): Finding[] {
  const sel = selectorOf(svc)
  if (!sel || isExternalName(svc) || selectedPods(svc, ctx.pods).length > 0) return []
  const ns = svc.metadata?.namespace ?? ''
  const labels = Object.entries(sel)
  const evidence: string[] = []
  for (const [key, wanted] of labels) {
    const rest = labels.filter(([k]) => k !== key)
    const near = matchingTheRest(ctx.pods, ns, labels, key)
    const restText = rest.length > 0 ? formatSelector(Object.fromEntries(rest)) : 'the selector has no other label'
    evidence.push(`ignoring ${key}=${wanted}: ${near.length === 0 ? 'no pod matches' : `${plural(near.length, 'pod')} match`} the rest (${restText})`)
    evidence.push(...valueGroups(key, wanted, near, rest.length === 0))
  }
  // A Service selects only in its own namespace; pods elsewhere that match are a classic slip.
  const elsewhere = podsMatching(ctx.pods, sel).filter((p) => (p.metadata?.namespace ?? '') !== ns)
  if (elsewhere.length > 0) {
    evidence.push(
      `${plural(elsewhere.length, 'pod')} in other namespaces match the whole selector, but a Service selects only in its own (${ns}): ${listNames(elsewhere.map(keyOf))}`,
    )
  }
  if (podsInNamespace(ctx.pods, ns).length === 0) evidence.push(`namespace ${ns} has no pods at all`)
  const typo = typoPatch(sel, ctx.pods, ns)
  const command = typo ? patchServiceCommand(svc, 'merge', {spec: {selector: typo}}) : undefined
  return [
    serviceFinding('selector-matches-no-pods', svc, `selector ${formatSelector(sel)} of Service ${keyOf(svc)} matches no pod`, evidence, undefined, command),
  ]
}
