// "Service not found" with a hint at what the user probably meant: the same name in another
// namespace, similar names in this one, or what the namespace holds.

/** What the source knows near a missing Service: names in its namespace, namespaces holding its name. */
export interface ServiceCandidates {
  namesInNamespace: string[]
  namespacesWithName: string[]
}

/** `a Service named "web" exists in namespace shop (use -n shop)`, `similar names in default: web-v2`… */
function suggestService(namespace: string, name: string, known: ServiceCandidates): string {
  const others = known.namespacesWithName.filter((n) => n !== namespace)
  const inNs = known.namesInNamespace
  const close = inNs.filter((n) => n.includes(name) || name.includes(n) || n.slice(0, 3) === name.slice(0, 3)).slice(0, 5)
  const hints: string[] = []
  if (others.length > 0) hints.push(`a Service named "${name}" exists in namespace ${others.join(', ')} (use -n ${others[0]})`)
  if (close.length > 0) hints.push(`similar names in ${namespace}: ${close.join(', ')}`)
  if (hints.length === 0)
    hints.push(
      inNs.length > 0 ? `Services in ${namespace}: ${inNs.slice(0, 8).join(', ')}${inNs.length > 8 ? ', …' : ''}` : `namespace ${namespace} has no Services`,
    )
  return hints.join('; ')
}

/** The whole message: `Service "x" not found in namespace "y" (where): hint.` */
export function serviceNotFoundMessage(namespace: string, name: string, known: ServiceCandidates, where?: string): string {
  return `Service "${name}" not found in namespace "${namespace}"${where ? ` (${where})` : ''}: ${suggestService(namespace, name, known)}.`
}

/**
 * Edit distance between two words: the fewest one-character insertions, deletions, substitutions or
 * swaps of two neighbours (optimal string alignment), so `nodse` is one step from `nodes`.
 */
export function editDistance(a: string, b: string): number {
  // rows[i][j]: the distance between a's first i characters and b's first j.
  const rows: number[][] = [Array.from({length: b.length + 1}, (_, j) => j)]
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const above = rows[i - 1] ?? []
      let d = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1)
      row[j] = d
    }
    rows.push(row)
  }
  return rows[a.length]?.[b.length] ?? 0
}

/**
 * The candidates a typo of `word` most likely was, closest first (at most `max`): within an edit
 * distance of a third of the word's length (at least 1), or starting with it.
 */
export function closestWords(word: string, candidates: readonly string[], max = 3): string[] {
  const w = word.toLowerCase()
  const limit = Math.max(1, Math.floor(w.length / 3))
  return candidates
    .map((c) => ({c, d: editDistance(w, c.toLowerCase())}))
    .filter(({c, d}) => d <= limit || (w.length >= 2 && c.toLowerCase().startsWith(w)))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map(({c}) => c)
}
