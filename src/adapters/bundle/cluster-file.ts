// A bundle's cluster file (cluster.yaml or cluster.json: a v1 List of the API objects) as the view the
// core reads: the whole file, or for one Service or one address only the items its trace can read
// (list-items.ts finds them in the bytes, query-items.ts tells which), each parsed alone.
import yaml from 'js-yaml'
import type {V1ConfigMap, V1DaemonSet} from '@kubernetes/client-node'
import {SourceError} from '../../app/ports.js'
import {canonicalIP, isLoopback, parseCidr} from '../../core/address.js'
import {isNodeAddress} from '../../core/kube-proxy/captured-addresses.js'
import type {ClusterView, Query} from '../../core/model.js'
import {KUBE_PROXY_NAME, KUBE_PROXY_NAMESPACE} from '../../core/proxy-config.js'
import {jsonListItems, yamlListItems, type ItemSpan} from './list-items.js'
import {chooseItems} from './query-items.js'
import {checkListShapes} from './shape.js'

/** How to make a cluster file, for the errors about one. */
export const MAKE_IT = 'make it with: kubectl get svc,endpointslices,endpoints,pods,nodes -A -o yaml > DIR/cluster.yaml'

interface KubeObject {
  kind?: string
  apiVersion?: string
  metadata?: {name?: string; namespace?: string}
  items?: unknown[]
}

const emptyView = (): ClusterView => ({services: [], endpointSlices: [], endpoints: [], pods: [], nodes: []})

/** Where the view keeps each kind it holds a list of. */
const LIST_OF_KIND = {Service: 'services', EndpointSlice: 'endpointSlices', Endpoints: 'endpoints', Pod: 'pods', Node: 'nodes'} as const

/** Puts item `i` of a v1 List where the core looks for it; other kinds are ignored. */
function addItem(view: ClusterView, item: unknown, i: number, file: string): void {
  const o = item as KubeObject
  if (o && typeof o === 'object') checkListShapes(o, `${file}: items[${i}]`, MAKE_IT)
  const list = o && Object.hasOwn(LIST_OF_KIND, o.kind ?? '') ? LIST_OF_KIND[o.kind as keyof typeof LIST_OF_KIND] : undefined
  if (list) {
    ;(view[list] as unknown[]).push(o)
    return
  }
  switch (o?.kind) {
    case 'ConfigMap':
    case 'DaemonSet':
      // Only kube-proxy's own: they say which mode it is configured with.
      if (o.metadata?.namespace === KUBE_PROXY_NAMESPACE && o.metadata?.name === KUBE_PROXY_NAME) {
        view.kubeProxy = {...view.kubeProxy, ...(o.kind === 'ConfigMap' ? {configMap: o as V1ConfigMap} : {daemonSet: o as V1DaemonSet})}
      }
      break
    case 'List':
      // `kubectl get -o yaml` of several lists nests them.
      {
        const inner = clusterViewFromList(o, `${file} (items[${i}])`)
        for (const k of Object.values(LIST_OF_KIND)) (view[k] as unknown[]).push(...inner[k])
        if (inner.kubeProxy) view.kubeProxy = {...view.kubeProxy, ...inner.kubeProxy}
      }
      break
    default:
      if (typeof o !== 'object' || o === null || typeof o.kind !== 'string') {
        throw new SourceError(`${file}: items[${i}] has no "kind"; every item must be a Kubernetes object`)
      }
  }
}

/** Sorts the items of a v1 List into the views the core needs. */
function clusterViewFromList(doc: unknown, file: string): ClusterView {
  const list = doc as KubeObject
  if (!list || typeof list !== 'object' || !Array.isArray(list.items)) {
    throw new SourceError(
      `${file}: expected a v1 List with "items" (as kubectl get … -o yaml writes it), found ${list === null || typeof list !== 'object' ? String(list) : `kind ${list.kind ?? '(none)'}`}; ${MAKE_IT}`,
    )
  }
  const view = emptyView()
  list.items.forEach((item, i) => addItem(view, item, i, file))
  return view
}

/** Parses cluster.yaml/.json text; errors name the file and line. */
export function parseClusterFile(text: string, file: string): ClusterView {
  let doc: unknown
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : yaml.load(text, {filename: file, schema: yaml.CORE_SCHEMA})
  } catch (err) {
    const mark = (err as {mark?: {line: number}}).mark
    const reason = (err as {reason?: string}).reason ?? (err as Error).message
    throw new SourceError(`${file}${mark ? `:${mark.line + 1}` : ''}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${reason}; ${MAKE_IT}`)
  }
  return clusterViewFromList(doc, file)
}

/** Items `chosen` of the file, each parsed alone, by index; undefined when one does not parse alone. */
function parseItems(
  bytes: Buffer,
  file: string,
  json: boolean,
  items: readonly ItemSpan[],
  chosen: Iterable<number>,
  into = new Map<number, unknown>(),
): Map<number, unknown> | undefined {
  for (const i of chosen) {
    if (into.has(i)) continue
    const span = items[i]!
    try {
      const text = bytes.toString('utf8', span.start, span.end)
      into.set(i, json ? JSON.parse(text) : (yaml.load(text, {filename: file, schema: yaml.CORE_SCHEMA}) as unknown[] | undefined)?.[0])
    } catch {
      return undefined
    }
  }
  return into
}

/** The Services a Service, EndpointSlice or Endpoints names: its own name, and for a slice the Service it is labelled for. */
function serviceNamesOf(item: unknown): string[] {
  const o = item as KubeObject & {metadata?: {labels?: Record<string, unknown>}}
  if (o?.kind !== 'Service' && o?.kind !== 'EndpointSlice' && o?.kind !== 'Endpoints') return []
  const names = [o.metadata?.name, o.metadata?.labels?.['kubernetes.io/service-name']]
  return names.filter((n): n is string => typeof n === 'string' && n !== '')
}

/**
 * The view of a trace of one Service, or of one address, from the items of the file it can read, in
 * the file's order. Undefined, so that the whole file is parsed and its errors and suggestions are
 * the usual ones, for other queries and when the file is not a List laid out as kubectl writes it,
 * an item does not parse alone (a YAML alias to another item), the Service is not there or is an
 * ExternalName (whose name may stand for other Services), or the address is IPv6 (written in more
 * than one way), loopback or a node's (where every node port counts). A Service query comes with its
 * namespace (the app fills in the default); without one the whole file is parsed.
 */
export function partialView(bytes: Buffer, file: string, query: Query): ClusterView | undefined {
  if ((query.kind !== 'service' || !query.namespace) && query.kind !== 'ip') return undefined
  const ip = query.kind === 'ip' ? canonicalIP(query.ip) : ''
  if (query.kind === 'ip' && (parseCidr(ip)?.family !== 4 || isLoopback(ip))) return undefined
  const json = file.endsWith('.json')
  const items = json ? jsonListItems(bytes) : yamlListItems(bytes)
  if (!items) return undefined
  let parsed: Map<number, unknown> | undefined
  if (query.kind === 'service') {
    parsed = parseItems(bytes, file, json, items, chooseItems(bytes, items, json, {words: [query.service], unlabelledSlices: true}))
  } else {
    const first = chooseItems(bytes, items, json, {words: [], ipv4: ip, externalNames: true})
    parsed = parseItems(bytes, file, json, items, first)
    // Then the Services those items name: an owner's slices and Endpoints, a slice's Service.
    const named = parsed && [...new Set([...parsed.values()].flatMap(serviceNamesOf))]
    if (parsed && named) parsed = parseItems(bytes, file, json, items, chooseItems(bytes, items, json, {words: named}, new Set(first)), parsed)
  }
  if (!parsed) return undefined
  const view = emptyView()
  // In the file's order, as the whole file's view has them.
  for (const i of [...parsed.keys()].sort((a, b) => a - b)) addItem(view, parsed.get(i), i, file)
  if (query.kind === 'ip') return isNodeAddress(view.nodes, ip) ? undefined : view
  const svc = view.services.find((s) => s.metadata?.namespace === query.namespace && s.metadata?.name === query.service)
  return svc && svc.spec?.type !== 'ExternalName' ? view : undefined
}
