// Selector helpers shared by the checks: which pods a selector picks, how far a label is from a typo.
import type {V1Pod, V1Service} from '@kubernetes/client-node'
import {podsMatching} from '../pod-index.js'

/**
 * Edit distance where inserting, deleting or changing a character, or swapping two neighbours,
 * is one edit (optimal string alignment): `cahce` is one edit from `cache`, as a typist sees it.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({length: a.length + 1}, (_, i) => Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  // Every cell read below is in range (i ≤ a.length, j ≤ b.length); the fallback only satisfies the checker.
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Infinity
  for (const [i, row] of rows.entries()) {
    if (i === 0) continue
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1)
    }
  }
  return at(a.length, b.length)
}

/** Pods of the Service's namespace that its selector matches. */
export function selectedPods(svc: V1Service, pods: readonly V1Pod[]): V1Pod[] {
  const sel = svc.spec?.selector
  if (!sel || Object.keys(sel).length === 0) return []
  return podsMatching(pods, sel, svc.metadata?.namespace ?? '')
}
