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
