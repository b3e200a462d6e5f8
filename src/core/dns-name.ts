// A Service's cluster DNS name as users type it: NAME.NAMESPACE, NAME.NAMESPACE.svc, or the full
// NAME.NAMESPACE.svc.cluster.local (any cluster domain after `.svc`; a trailing dot allowed).
// Parsed and validated here, resolved from the API objects elsewhere (name-resolution.ts): never a DNS query.
import {splitDestination} from './address.js'
import type {Protocol} from './model.js'

/** The Service a DNS name names, and the name as written (lowercased, without a trailing dot). */
export interface ServiceDnsName {
  name: string
  namespace: string
  /** The whole name, e.g. `kube-dns.kube-system.svc.cluster.local`. */
  fqdn: string
}

const USAGE = 'expected NAME.NAMESPACE[.svc[.cluster.local]] (e.g. kube-dns.kube-system.svc.cluster.local)'

// RFC 1123 labels, as Kubernetes validates namespace names (IsDNS1123Label); Service names are
// RFC 1035 labels (IsDNS1035Label): they also start with a letter.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/

/** Why `label` is no valid `what` (a DNS label of at most 63 characters), or undefined when it is. */
function labelProblem(label: string, what: 'Service name' | 'namespace' | 'cluster domain label', pattern: RegExp): string | undefined {
  if (label === '') return `an empty ${what}`
  if (label.length > 63) return `${what} "${label.slice(0, 20)}…" is longer than 63 characters`
  if (!pattern.test(label)) {
    const rule = pattern === DNS1035_LABEL ? 'start with a letter' : 'start with a letter or digit'
    return `${what} "${label}" is no DNS label (lowercase letters, digits and "-"; ${rule} and end with a letter or digit)`
  }
  return undefined
}

/** True when the text has the shape of a DNS name rather than an address: a dot, and a letter somewhere. */
export function looksLikeDnsName(text: string): boolean {
  return text.includes('.') && /[a-z]/i.test(text) && !text.includes(':')
}

/**
 * Parses a Service's DNS name; the error names the bad part and the expected form. Case is folded
 * (DNS names are case-insensitive; Kubernetes names are lowercase). `shown`: the text errors quote.
 */
export function parseServiceDnsName(text: string, shown = text): ServiceDnsName | {error: string} {
  const fqdn = text.trim().toLowerCase().replace(/\.$/, '')
  if (fqdn.length > 253) return {error: `"${shown}" is longer than 253 characters; ${USAGE}`}
  const labels = fqdn.split('.')
  const [name = '', namespace = '', svc, ...domain] = labels
  if (labels.length < 2) return {error: `"${shown}" names no namespace; ${USAGE}`}
  if (labels.length > 2 && svc !== 'svc') {
    return {error: `"${shown}" is no Service name: the third label must be "svc" (pod and other records are not traced); ${USAGE}`}
  }
  const problem =
    labelProblem(name, 'Service name', DNS1035_LABEL) ??
    labelProblem(namespace, 'namespace', DNS1123_LABEL) ??
    domain.map((l) => labelProblem(l, 'cluster domain label', DNS1123_LABEL)).find((p) => p !== undefined)
  if (problem) return {error: `"${shown}": ${problem}; ${USAGE}`}
  return {name, namespace, fqdn}
}

/** `--ip NAME.NS[.svc[.DOMAIN]][:PORT][/PROTO]`: the name, and the port and protocol when given. */
export function parseNameDestination(text: string): {dns: ServiceDnsName; port?: number; protocol?: Protocol} | {error: string} {
  const split = splitDestination(text, `${USAGE}, optionally :PORT and /PROTO (e.g. kube-dns.kube-system:53/udp)`)
  if ('error' in split) return split
  const dns = parseServiceDnsName(split.host, text.trim())
  if ('error' in dns) return dns
  return {dns, ...(split.port !== undefined ? {port: split.port} : {}), ...(split.protocol ? {protocol: split.protocol} : {})}
}
