// selector-matches-no-pods, with the near miss: which key fails, and the values pods carry there.
import type {V1Pod, V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding} from '../model.js'

/** Levenshtein distance, capped: only "one or two edits away" matters here. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return prev[b.length]
}

/** Pods of the Service's namespace that its selector matches. */
export function selectedPods(svc: V1Service, pods: V1Pod[]): V1Pod[] {
  const sel = svc.spec?.selector
  if (!sel || Object.keys(sel).length === 0) return []
  const ns = svc.metadata?.namespace
  return pods.filter((p) => p.metadata?.namespace === ns && Object.entries(sel).every(([k, v]) => p.metadata?.labels?.[k] === v))
}

/** The finding when a non-empty selector matches no pod; undefined otherwise. */
export function checkSelectorMatchesPods(svc: V1Service, pods: V1Pod[]): Finding | undefined {
  const sel = svc.spec?.selector
  if (!sel || Object.keys(sel).length === 0 || svc.spec?.type === 'ExternalName') return undefined
  if (selectedPods(svc, pods).length > 0) return undefined
  const ns = svc.metadata?.namespace
  const inNs = pods.filter((p) => p.metadata?.namespace === ns)
  const evidence: string[] = []
  const keys = Object.keys(sel)
  for (const key of keys) {
    // Pods that match every other key: this key is the one that keeps them out.
    const near = inNs.filter((p) => keys.every((k) => k === key || p.metadata?.labels?.[k] === sel[k]))
    if (near.length === 0 || keys.length === 1 && near.length === inNs.length && near.every((p) => p.metadata?.labels?.[key] === undefined)) continue
    const values = new Map<string, string[]>()
    for (const p of near) {
      const v = p.metadata?.labels?.[key]
      const label = v === undefined ? '(no such label)' : v
      values.set(label, [...(values.get(label) ?? []), p.metadata?.name ?? ''])
    }
    for (const [value, names] of values) {
      const typo = value !== '(no such label)' && editDistance(value, sel[key]) <= 2 ? ' (a typo?)' : ''
      const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '')
      evidence.push(`${names.length} pod(s) match every other label but have ${key}=${value} where the selector wants ${key}=${sel[key]}${typo}: ${shown}`)
    }
  }
  const selector = Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',')
  if (evidence.length === 0) evidence.push(`no pod in namespace ${ns} carries any near match of ${selector} (${inNs.length} pods in the namespace)`)
  return {
    id: 'selector-matches-no-pods',
    severity: 'error',
    message: `selector ${selector} of Service ${keyOf(svc)} matches no pod`,
    service: keyOf(svc),
    evidence,
  }
}
