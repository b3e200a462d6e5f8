// The live cluster as a ClusterSource: a few bounded GET/LIST requests through client-node, every
// list in pages of 500 (paged-list.ts). One Service costs: the Service, its EndpointSlices (by label),
// its Endpoints, the pods its selector matches (selected on the server), the nodes — never every pod
// of the cluster.
import type {AppsV1Api, CoreV1Api, DiscoveryV1Api, HttpLibrary, V1Endpoints, V1EndpointSlice, V1Node, V1Pod, V1Service} from '@kubernetes/client-node'
import {SourceError, type ActivityLog, type ClusterRead, type ClusterSource, type LoadHooks} from '../../app/ports.js'
import {QueryError} from '../../core/report.js'
import {canonicalIP, isIP} from '../../core/address.js'
import {keyOf} from '../../core/cluster-index.js'
import {parseServiceDnsName} from '../../core/dns-name.js'
import {serviceNotFoundMessage} from '../../core/did-you-mean.js'
import {isNodeAddress, ownsAddress} from '../../core/kube-proxy/captured-addresses.js'
import type {ClusterView, KubeProxyObjects, Query} from '../../core/model.js'
import {KUBE_PROXY_NAME, KUBE_PROXY_NAMESPACE} from '../../core/proxy-config.js'
import {apiConnections, apiHttp, withSignal} from './client-options.js'
import {listAllPages, PagingError, type Page, type PagedList} from './paged-list.js'
import type {LoadedKubeconfig} from './kubeconfig.js'

/** What a denied read costs the report, per resource. */
const MISSING: Record<string, string> = {
  services: 'Services cannot be looked up',
  endpointslices: 'backends and endpoint findings are missing',
  endpoints: 'checks of manual Endpoints are missing',
  pods: 'selector, readiness and port findings are missing',
  nodes: 'node addresses are unknown, so node ports and traffic-policy findings are missing',
}

interface Request {
  verb: 'get' | 'list'
  resource: string
  namespace?: string
  /** A read the report does without when RBAC denies it: no api-read-denied finding. */
  optional?: boolean
}

type Call<T> = (options: unknown) => Promise<T>
/** One page of a list request. */
type ListCall<T> = (page: Page, options: unknown) => Promise<PagedList<T>>

/** How every request of a run is made. */
export interface ApiSettings {
  /** --request-timeout, per request (so per page of a list). */
  timeoutMs: number
  /** The User-Agent header (user-agent.ts). */
  userAgent?: string
  /** -v: each request as it is answered. */
  log?: ActivityLog
}

function statusMessage(err: {body?: unknown; message?: string}): string {
  try {
    const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as {message?: string} | null | undefined
    if (body?.message) return String(body.message)
  } catch {
    // not JSON: fall through to the exception's own text
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a thrown non-Error (a string) prints as itself
  const [firstLine = ''] = String(err.message ?? err).split('\n')
  return firstLine
}

/** Where a request reads, as its error messages say it. */
function scopeOf(req: Request): string {
  return req.namespace ? ` in namespace ${req.namespace}` : ' cluster-wide'
}

function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
}

export class KubeApiSource implements ClusterSource {
  readonly description: string
  private made?: Promise<{core: CoreV1Api; discovery: DiscoveryV1Api}>
  /** Set with the clients: every request on the run's shared connection, shown by -v when asked. */
  private http?: HttpLibrary
  private readonly denied: string[] = []
  /** Aborted by abort(): every request's signal follows it. */
  private readonly stopping = new AbortController()

  private readonly timeoutMs: number

  constructor(
    private readonly loaded: LoadedKubeconfig,
    private readonly settings: ApiSettings,
  ) {
    this.timeoutMs = settings.timeoutMs
    this.description = `context ${loaded.context} (${loaded.server})`
  }

  async defaultNamespace(): Promise<string> {
    return this.loaded.namespace
  }

  /** The API clients, made once (requests started at once share them). */
  private clients(): Promise<{core: CoreV1Api; discovery: DiscoveryV1Api}> {
    this.made ??= (async () => {
      const k8s = await import('./client-node.js')
      this.http = apiHttp(k8s, {connections: apiConnections(k8s), log: this.settings.log})
      return {core: this.loaded.kc.makeApiClient(k8s.CoreV1Api), discovery: this.loaded.kc.makeApiClient(k8s.DiscoveryV1Api)}
    })()
    return this.made
  }

  /** Per-call options: abort after --request-timeout or abort(); the User-Agent; shown by -v. Every call comes after clients(). */
  private options(): unknown {
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stopping.signal])
    return withSignal(signal, {http: this.http, userAgent: this.settings.userAgent})
  }

  abort(): void {
    this.stopping.abort()
  }

  /** A list request, page by page (each page a request of its own, with its own timeout). */
  private async list<T>(req: Request, call: ListCall<T>): Promise<T[] | undefined> {
    try {
      return await listAllPages(`list ${req.resource}${scopeOf(req)}`, (page) => this.request(req, (o) => call(page, o)))
    } catch (err) {
      if (err instanceof PagingError) throw new SourceError(`${err.message} on ${this.description}`)
      throw err
    }
  }

  /**
   * Runs one request. 403 is recorded (the run goes on without that resource); 404 gives
   * undefined; anything else, or an unreachable server, ends the run with what to check next.
   */
  private async request<T>(req: Request, call: Call<T>): Promise<T | undefined> {
    try {
      return await call(this.options())
    } catch (err) {
      const e = err as {code?: number | string; body?: unknown; message?: string; name?: string; cause?: {code?: string}}
      const where = scopeOf(req)
      if (e.code === 404) return undefined
      if (e.code === 403) {
        if (req.optional) return undefined
        this.denied.push(
          `RBAC does not allow ${req.verb} ${req.resource}${where} (${statusMessage(e)}): ${MISSING[req.resource] ?? 'some findings are missing'}`,
        )
        return undefined
      }
      if (e.code === 401) {
        throw new SourceError(
          `the API server of ${this.description} rejected the credentials (401 Unauthorized): ${statusMessage(e)}. Log in again or pick another context (--context)`,
        )
      }
      if (typeof e.code === 'number') {
        throw new SourceError(`${req.verb} ${req.resource}${where} failed on ${this.description}: ${e.code} ${statusMessage(e)}`)
      }
      const reason =
        e.name === 'AbortError' || /aborted/i.test(String(e.message))
          ? `no answer within ${this.timeoutMs / 1000} s (--request-timeout)`
          : String(e.cause?.code ?? e.code ?? e.message ?? err)
      throw new SourceError(
        `cannot reach the API server ${this.loaded.server} (context ${this.loaded.context}): ${reason}. Check the context (kubectl config current-context), the network, and that the cluster is up`,
      )
    }
  }

  async load(query: Query, hooks: LoadHooks = {}): Promise<ClusterRead> {
    const view: ClusterView = {services: [], endpointSlices: [], endpoints: [], pods: [], nodes: []}
    if (query.kind === 'service') {
      const found = this.service(query.namespace ?? this.loaded.namespace, query.service)
      // The Nodes beside the Service (the node reads can start connecting once both are in), one
      // turn after it, so a server that answers neither reports the Service's request first.
      const listing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.nodes(view))
      // Its error is the Service's when that fails too (awaited below otherwise).
      listing.catch(() => undefined)
      const svc = await found
      view.services.push(svc)
      void listing.then(
        () => hooks.onNodes?.(view.nodes),
        () => undefined,
      )
      await Promise.all([this.serviceObjects(svc, view), listing])
    } else if (query.kind === 'ip') {
      const {core} = await this.clients()
      const [services] = await Promise.all([
        this.list({verb: 'list', resource: 'services'}, (p, o) => core.listServiceForAllNamespaces(p, o as never)),
        this.nodes(view),
      ])
      view.services.push(...(services ?? []).map((s) => ({...s, kind: 'Service', apiVersion: 'v1'})))
      const dest = {ip: query.ip!, ...(query.port !== undefined ? {port: query.port} : {})}
      const nodeOwns = isNodeAddress(view.nodes, dest.ip)
      const owners = view.services.filter((s) => ownsAddress(s, dest, nodeOwns))
      await Promise.all(owners.map((s) => this.serviceObjects(s, view)))
      if (owners.length === 0 && !nodeOwns) {
        const pods = await this.list({verb: 'list', resource: 'pods'}, (p, o) =>
          core.listPodForAllNamespaces({fieldSelector: `status.podIP=${query.ip}`, ...p}, o as never),
        )
        view.pods.push(...(pods ?? []).map(asPod))
        // A pod's address: the Services whose endpoints include it are named, from the slices of its
        // own namespace (where Services select it; a Service elsewhere with manual endpoints is not seen).
        const namespace = pods?.[0]?.metadata?.namespace
        if (namespace) {
          const {discovery} = await this.clients()
          const slices = await this.list({verb: 'list', resource: 'endpointslices', namespace, optional: true}, (p, o) =>
            discovery.listNamespacedEndpointSlice({namespace, ...p}, o as never),
          )
          view.endpointSlices.push(...(slices ?? []).map((s): V1EndpointSlice => ({...s, kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1'})))
        }
      }
    }
    if (query.kind === 'name') await this.named(view, query.namespace, query.service)
    if (query.kind === 'all') await this.everything(view, query.namespace, hooks.onNodes)
    return {view, denied: [...this.denied]}
  }

  /**
   * A Service's DNS name: the Service with its objects, and what its name stands for: an ExternalName
   * pointing at an IP is read like --ip of that IP; one pointing at another Service's name reads that Service.
   */
  private async named(view: ClusterView, namespace: string, name: string, depth = 0): Promise<void> {
    const svc = await this.service(namespace, name)
    if (view.services.some((s) => keyOf(s) === keyOf(svc))) return
    view.services.push(svc)
    await Promise.all([this.serviceObjects(svc, view), depth === 0 ? this.nodes(view) : Promise.resolve()])
    const target = svc.spec?.type === 'ExternalName' ? (svc.spec.externalName?.trim() ?? '') : ''
    if (target === '' || depth > 7) return
    if (isIP(target)) {
      const more = await this.load({kind: 'ip', ip: canonicalIP(target), protocol: 'TCP'})
      view.services.push(...more.view.services.filter((s) => s !== svc && keyOf(s) !== keyOf(svc)))
      view.endpointSlices.push(...more.view.endpointSlices)
      view.endpoints.push(...more.view.endpoints)
      view.pods.push(...more.view.pods)
      return
    }
    const next = parseServiceDnsName(target)
    if (!('error' in next) && target.includes('.svc') && keyOf({metadata: next}) !== keyOf(svc)) {
      await this.named(view, next.namespace, next.name, depth + 1).catch((err: unknown) => {
        // The name it points at may not exist: the trace says so from what was read.
        if (!(err instanceof QueryError)) throw err
      })
    }
  }

  /** Check mode: every Service with its slices, Endpoints and pods, and the nodes: five lists (a page per 500 objects). */
  private async everything(view: ClusterView, namespace: string | undefined, onNodes: LoadHooks['onNodes']): Promise<void> {
    const {core, discovery} = await this.clients()
    const req = (resource: string) => ({verb: 'list' as const, resource, ...(namespace ? {namespace} : {})})
    const [services, slices, endpoints, pods] = await Promise.all([
      this.list(req('services'), (p, o) =>
        namespace ? core.listNamespacedService({namespace, ...p}, o as never) : core.listServiceForAllNamespaces(p, o as never),
      ),
      this.list(req('endpointslices'), (p, o) =>
        namespace ? discovery.listNamespacedEndpointSlice({namespace, ...p}, o as never) : discovery.listEndpointSliceForAllNamespaces(p, o as never),
      ),
      this.list(req('endpoints'), (p, o) =>
        namespace ? core.listNamespacedEndpoints({namespace, ...p}, o as never) : core.listEndpointsForAllNamespaces(p, o as never),
      ),
      this.list(req('pods'), (p, o) => (namespace ? core.listNamespacedPod({namespace, ...p}, o as never) : core.listPodForAllNamespaces(p, o as never))),
      this.nodes(view).then(() => onNodes?.(view.nodes)),
    ])
    if (!services) throw new SourceError(this.denied.at(-1) ?? `no Services could be listed on ${this.description}`)
    view.services.push(...services.map((s): V1Service => ({...s, kind: 'Service', apiVersion: 'v1'})))
    view.endpointSlices.push(...(slices ?? []).map((s): V1EndpointSlice => ({...s, kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1'})))
    view.endpoints.push(...(endpoints ?? []).map((e) => ({...e, kind: 'Endpoints', apiVersion: 'v1'}) as V1Endpoints))
    view.pods.push(...(pods ?? []).map(asPod))
  }

  private async service(namespace: string, name: string): Promise<V1Service> {
    const {core} = await this.clients()
    const svc = await this.request({verb: 'get', resource: 'services', namespace}, (o) => core.readNamespacedService({name, namespace}, o as never))
    if (svc) return {...svc, kind: 'Service', apiVersion: 'v1'}
    if (this.denied.length > 0) throw new SourceError(this.denied.at(-1)!)
    // Suggestions, like the bundle path gives them: similar names here, the same name elsewhere.
    const [here, elsewhere] = await Promise.all([
      this.list({verb: 'list', resource: 'services', namespace}, (p, o) => core.listNamespacedService({namespace, ...p}, o as never)),
      this.list({verb: 'list', resource: 'services'}, (p, o) => core.listServiceForAllNamespaces({fieldSelector: `metadata.name=${name}`, ...p}, o as never)),
    ])
    const others = (elsewhere ?? []).map((s) => s.metadata?.namespace).filter((n): n is string => !!n && n !== namespace)
    const names = (here ?? []).map((s) => s.metadata?.name ?? '')
    throw new QueryError(serviceNotFoundMessage(namespace, name, {namesInNamespace: names, namespacesWithName: others}, this.description))
  }

  /** The slices, Endpoints and selected pods of one Service; near-miss pods when nothing matches. */
  private async serviceObjects(svc: V1Service, view: ClusterView): Promise<void> {
    const {core, discovery} = await this.clients()
    const namespace = svc.metadata?.namespace ?? 'default'
    const name = svc.metadata?.name ?? ''
    const selector = svc.spec?.type === 'ExternalName' ? undefined : svc.spec?.selector
    const [slices, endpoints, pods] = await Promise.all([
      this.list({verb: 'list', resource: 'endpointslices', namespace}, (p, o) =>
        discovery.listNamespacedEndpointSlice({namespace, labelSelector: `kubernetes.io/service-name=${name}`, ...p}, o as never),
      ),
      this.request({verb: 'get', resource: 'endpoints', namespace}, (o) => core.readNamespacedEndpoints({name, namespace}, o as never)),
      selector && Object.keys(selector).length > 0
        ? this.list({verb: 'list', resource: 'pods', namespace}, (p, o) =>
            core.listNamespacedPod({namespace, labelSelector: selectorOf(selector), ...p}, o as never),
          )
        : undefined,
    ])
    view.endpointSlices.push(...(slices ?? []).map((s): V1EndpointSlice => ({...s, kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1'})))
    if (endpoints) view.endpoints.push({...endpoints, kind: 'Endpoints', apiVersion: 'v1'} as V1Endpoints)
    const matched = (pods ?? []).map(asPod)
    if (selector && pods && matched.length === 0) matched.push(...(await this.nearMissPods(namespace, selector)))
    addPods(view, matched)
  }

  /** Pods that match all but one selector key (or, for one key, carry the key): for the near-miss. */
  private async nearMissPods(namespace: string, selector: Record<string, string>): Promise<V1Pod[]> {
    const {core} = await this.clients()
    const entries = Object.entries(selector).slice(0, 8)
    const selectors = entries.map(([key]) => (entries.length === 1 ? key : selectorOf(Object.fromEntries(entries.filter(([k]) => k !== key)))))
    const lists = await Promise.all(
      selectors.map((labelSelector) =>
        this.list({verb: 'list', resource: 'pods', namespace}, (p, o) => core.listNamespacedPod({namespace, labelSelector, ...p}, o as never)),
      ),
    )
    return lists.flatMap((l) => (l ?? []).map(asPod))
  }

  /**
   * ConfigMap and DaemonSet kube-system/kube-proxy, for the mode kube-proxy is configured with: two
   * GETs, made only when nodes are read (their rules are what the mode is compared with).
   */
  async kubeProxyObjects(): Promise<KubeProxyObjects> {
    const {core} = await this.clients()
    const k8s = await import('./client-node.js')
    const apps: AppsV1Api = this.loaded.kc.makeApiClient(k8s.AppsV1Api)
    const ref = {name: KUBE_PROXY_NAME, namespace: KUBE_PROXY_NAMESPACE}
    const [configMap, daemonSet] = await Promise.all([
      this.request({verb: 'get', resource: 'configmaps', namespace: ref.namespace, optional: true}, (o) => core.readNamespacedConfigMap(ref, o as never)),
      this.request({verb: 'get', resource: 'daemonsets', namespace: ref.namespace, optional: true}, (o) => apps.readNamespacedDaemonSet(ref, o as never)),
    ])
    return {
      ...(configMap ? {configMap: {...configMap, kind: 'ConfigMap', apiVersion: 'v1'}} : {}),
      ...(daemonSet ? {daemonSet: {...daemonSet, kind: 'DaemonSet', apiVersion: 'apps/v1'}} : {}),
    }
  }

  private async nodes(view: ClusterView): Promise<void> {
    const {core} = await this.clients()
    const nodes = await this.list({verb: 'list', resource: 'nodes'}, (p, o) => core.listNode(p, o as never))
    view.nodes.push(...(nodes ?? []).map((n): V1Node => ({...n, kind: 'Node', apiVersion: 'v1'})))
  }
}

function asPod(p: V1Pod): V1Pod {
  return {...p, kind: 'Pod', apiVersion: 'v1'}
}

function addPods(view: ClusterView, pods: V1Pod[]): void {
  const seen = new Set(view.pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`))
  for (const p of pods) {
    const key = `${p.metadata?.namespace}/${p.metadata?.name}`
    if (!seen.has(key)) {
      seen.add(key)
      view.pods.push(p)
    }
  }
}
