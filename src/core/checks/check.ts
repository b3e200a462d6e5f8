// What every Service check is handed, and the small helpers they share. A check is a pure
// `(svc, ctx) => Finding[]`; it declares the pieces of the context it reads with Pick<>, so a
// test builds only those.
import type {V1Endpoints, V1EndpointSlice, V1Node, V1Pod, V1Service} from '@kubernetes/client-node'
import {keyOf} from '../cluster-index.js'
import type {Finding, TracePath} from '../model.js'
import {finding, type FindingId, type SeverityOf} from './catalog.js'

/** The API objects a Service check may read, plus the client the user named. */
export interface CheckContext {
  /** Pods of the cluster (checks look at the Service's namespace; a near miss may look further). */
  pods: V1Pod[]
  /** EndpointSlices labelled `kubernetes.io/service-name=<the Service>` in its namespace. */
  slices: V1EndpointSlice[]
  /** Every EndpointSlice of the Service's namespace, labelled or not. */
  namespaceSlices: V1EndpointSlice[]
  /** The Endpoints object of the same name, when there is one. */
  endpoints?: V1Endpoints
  nodes: V1Node[]
  /** The client address (`--source`). */
  source?: string
  /** The node the client runs on: given, or found from `--source`. */
  clientNode?: string
  /** The Service's traced paths, with the node each was traced on (absent or empty when nodes were not read). */
  traced?: TracedPath[]
}

/** A traced path and the node it was traced on. */
export interface TracedPath {
  node: string
  path: TracePath
}

/** One named check over one Service. */
export type Check = (svc: V1Service, ctx: CheckContext) => Finding[]

/** A finding of a catalogued kind about a Service; the severity comes from the catalogue (see finding()). */
export function serviceFinding<Id extends FindingId>(
  id: Id,
  svc: V1Service,
  message: string,
  evidence: string[] = [],
  severity?: SeverityOf<Id>,
  command?: string,
): Finding {
  return finding(id, {message, service: keyOf(svc), ...(evidence.length > 0 ? {evidence} : {}), ...(command !== undefined ? {command} : {})}, severity)
}

/** The Service's selector, or undefined when it has none (an empty map selects nothing either). */
export function selectorOf(svc: V1Service): Record<string, string> | undefined {
  const sel = svc.spec?.selector
  return sel && Object.keys(sel).length > 0 ? sel : undefined
}

/** ExternalName Services are DNS aliases: no endpoints, no kube-proxy rules. */
export function isExternalName(svc: V1Service): boolean {
  return svc.spec?.type === 'ExternalName'
}

/** `app=web,tier=cache`, as kubectl prints a selector. */
export function formatSelector(sel: Record<string, string>): string {
  return Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
}

/** `a, b, c and 4 more`: evidence names a few, and counts the rest. */
export function listNames(names: string[], max = 3): string {
  const shown = names.slice(0, max).join(', ')
  return names.length > max ? `${shown} and ${names.length - max} more` : shown
}

/** `1 pod`, `3 pods`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
