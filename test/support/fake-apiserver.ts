// A small local HTTPS Kubernetes API server for tests: it serves a ClusterView (or a bundle directory) to the
// real @kubernetes/client-node with the paths, JSON shapes, selectors, pagination and error Status bodies of a
// real kube-apiserver. Read-only by default: any non-GET request is logged and answered 405. With `podWrites`
// it also creates and deletes pods (the debug pods of `--via exec --debug-pod`), and it always serves
// pods/exec over WebSocket with the channel protocol client-node speaks (see "pods/exec" below).
//
//   const server = await startFakeApiServer({bundleDir: 'test/fixtures/two-node-iptables-v1.26'})
//   const kc = new KubeConfig(); kc.loadFromString(server.kubeconfig({namespace: 'storefront'}))
//   ...
//   await server.close()
//
// Faithful details worth knowing when testing client code against it:
// - List items carry no `kind`/`apiVersion` (the real server only sets them on the List), unless listItemTypeMeta.
// - Authorization runs before existence checks, as in the real filter chain: a denied GET of a missing object is 403.
// - Listing in a namespace that does not exist is an empty 200 list; GET of an object there is 404.
// - Continue tokens read a snapshot: after setView() an old token still pages through the old data until
//   expireContinueTokens() (etcd compaction), which turns it into 410 Expired.
// - RBAC rules name subresources as the real ones do: a rule on "pods" does not cover "pods/exec".
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {createHash, randomBytes, randomUUID} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import http2 from 'node:http2'
import https from 'node:https'
import {STATUS_CODES, type IncomingMessage, type ServerResponse} from 'node:http'
import {createRequire} from 'node:module'
import type {Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import os from 'node:os'
import path from 'node:path'
import {promisify} from 'node:util'
import yaml from 'js-yaml'
import type {V1ConfigMap, V1DaemonSet, V1Namespace, V1Pod} from '@kubernetes/client-node'
import {parseClusterFile} from '../../src/adapters/bundle/cluster-file.js'
import {ALLOWED, type NodeCommandId} from '../../src/adapters/node/commands.js'
import {compoundLines} from './compound.js'
import type {ClusterView} from '../../src/core/model.js'
import {labelsMatch, parseFieldSelector, parseLabelSelector, SelectorParseError, type FieldRequirement, type LabelRequirement} from './label-selector.js'
import {which} from './netns.js'

const execFileP = promisify(execFile)

// ---- public types ------------------------------------------------------------------------------

/** What the server serves: a ClusterView, plus ConfigMaps (e.g. kube-system/kube-proxy) and Namespaces if wanted. */
export interface FakeClusterData extends ClusterView {
  configMaps?: V1ConfigMap[]
  daemonSets?: V1DaemonSet[]
  /** Namespace objects; any namespace an object lives in and that is not listed here is synthesised. */
  namespaces?: V1Namespace[]
}

/** Request attributes as the real authorizer sees them (k8s.io/apiserver RequestInfo). */
export interface RequestAttributes {
  user: string
  verb: string
  apiGroup: string
  resource: string
  subresource: string
  /** '' for cluster-scoped requests, including a list of a namespaced resource across all namespaces. */
  namespace: string
  name: string
}

/**
 * An RBAC denial. `verb`/`resource` may be '*' or lists. `namespace` absent = everywhere (including cluster
 * scope); '' = cluster scope only (e.g. listPodForAllNamespaces); 'x' = only requests in namespace x.
 */
export interface DenyRule {
  verb: string | string[]
  resource: string | string[]
  namespace?: string
  name?: string
}

export interface TestPki {
  caPem: string
  certPem: string
  keyPem: string
}

export interface FakeApiServerOptions {
  /** Objects to serve. Default: an empty cluster. */
  view?: FakeClusterData
  /** A bundle directory (DIR/cluster.yaml|yml|json); ConfigMaps and Namespaces in it are served too. */
  bundleDir?: string
  /** Bearer token accepted. Default 'svctrace-test-token'. */
  token?: string
  /** Identity of that token, as it appears in 403 messages. Default 'system:serviceaccount:default:svctrace'. */
  user?: string
  /** More tokens: token → user name. */
  tokens?: Record<string, string>
  deny?: DenyRule[]
  /** Full control over authorization: return false to deny (checked after `deny`). */
  authorize?: (attrs: RequestAttributes) => boolean
  /** Delay before answering every request, ms. */
  delayMs?: number
  /** gitVersion for /version. Default: the first node's kubeletVersion, else v1.30.0. */
  gitVersion?: string
  /** Put kind/apiVersion on every list item (the real server does not). Default false. */
  listItemTypeMeta?: boolean
  /** Server certificate and CA; default: one generated with openssl per process. */
  pki?: TestPki
  /** Accept POST and DELETE of pods (and DELETE of a pod collection by label). Default false: read-only. */
  podWrites?: boolean
  /**
   * Offer HTTP/1.1 only, as a server behind a proxy that does not speak HTTP/2 may. Default false: like
   * kube-apiserver, HTTP/2 by ALPN and HTTP/1.1 for clients that do not offer it (WebSocket upgrades).
   */
  http1Only?: boolean
  /** How pods created through the API start. Default: Running 100 ms after creation. */
  podStart?: PodStart
  /** How pods/exec runs commands. Default: nothing is run (every command exits 1 saying why). */
  exec?: FakeExecOptions
}

/** How a pod created through the API starts (its status is computed whenever it is read). */
export interface PodStart {
  /** Time from creation until the pod is Running, ms. Default 100. */
  afterMs?: number
  /** The container never starts: the pod stays Pending with this waiting reason (e.g. ImagePullBackOff). */
  waiting?: {reason: string; message?: string}
}

/** One pods/exec call as the server received it. */
export interface ExecCall {
  namespace: string
  pod: string
  container: string
  /** spec.nodeName of the pod. */
  node: string
  image: string
  argv: string[]
  /** The allow-list entry the argv matched; undefined when it matched none (and nothing was run). */
  /** The allow-list entry, or `compound` for a checked `sh -c` batch (batch.ts). */
  allowedAs?: NodeCommandId | 'compound' | undefined
  /** The negotiated subprotocol (v5.channel.k8s.io or v4.channel.k8s.io). */
  protocol: string
  /** How it ended: the exit code, or why there is none. Undefined while it runs. */
  outcome?: number | 'not-found' | 'refused' | 'cancelled'
}

/** A canned answer to an exec call. */
export interface ExecReply {
  stdout?: string | Buffer
  stderr?: string
  exitCode?: number
}

export interface FakeExecOptions {
  /**
   * Node name → network namespace: a command exec'd in a pod on that node really runs there, as
   * `ip netns exec NS argv…` (no shell), so iptables-save prints that namespace's rules.
   */
  netns?: Record<string, string>
  /**
   * Programs an image lacks (image → names): exec'ing one fails as containerd reports "executable file
   * not found". An image listed here has no `sh` either (distroless), so compound reads fall back.
   */
  missing?: Record<string, string[]>
  /** Answers a call instead of running it; return undefined to run it. */
  respond?: (call: ExecCall) => ExecReply | undefined
  /** Wait before starting each command, ms (for timeouts and interrupted runs). */
  delayMs?: number
}

/** A write request (any method but GET), with its parsed JSON body. */
export interface RecordedWrite {
  method: string
  path: string
  query: Record<string, string>
  body?: unknown
  /** The status code it was answered with. */
  code?: number
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  /** The User-Agent header as received ('' when there was none). */
  userAgent: string
  /** The HTTP version it came with: '2.0' on a shared HTTP/2 connection, '1.1' otherwise. */
  httpVersion: string
}

export interface KubeconfigOptions {
  /** Context name (also names the cluster entry). Default 'fake'. */
  context?: string
  /** The context's namespace; omitted from the kubeconfig when not given. */
  namespace?: string
  /** Bearer token to put in the kubeconfig. Default: the server's token. */
  token?: string
  /** Name of the kubeconfig user entry. Default 'svctrace'. */
  user?: string
  /** CA to trust instead of the server's (to test TLS verification). */
  caPem?: string
  /** Host to put in the server URL: '127.0.0.1' (default) or 'localhost'. */
  host?: string
  /** Port to put in the server URL instead of the server's own (a relay in front of it). */
  port?: number
}

export interface FailOptions {
  message?: string
  reason?: string
  retryAfterSeconds?: number
}

export interface FakeApiServer {
  /** https://127.0.0.1:PORT */
  readonly url: string
  readonly port: number
  readonly caPem: string
  readonly token: string
  /** Every request received, in order (all methods, including failed and unauthorized ones). */
  readonly requests: RecordedRequest[]
  /** TCP connections accepted so far (reset() sets it back to 0). */
  readonly connections: number
  /** Mutable: delay before answering each request, ms. */
  delayMs: number
  /** Mutable: RBAC denials. */
  deny: DenyRule[]
  /** Clears the request, exec and write logs and pending failNext; delayMs, deny, exec and podStart go back to their start values. */
  reset(): void
  /** The next n requests are answered with `status` (a Status body), or reset ('reset': the connection; on HTTP/2 the stream). */
  failNext(n: number, status: number | 'reset', opts?: FailOptions): void
  /** The next n requests are carried out (a create creates) but their answer is lost: reset instead, as 'reset' above. */
  dropNextAnswers(n: number): void
  /** Replaces the served objects; the resourceVersion advances. Old continue tokens keep their snapshot. */
  setView(view: FakeClusterData): void
  /** Makes every continue token issued so far answer 410 Expired (like etcd compaction). */
  expireContinueTokens(): void
  /** Requests whose method is not GET (the tool is read-only: tests assert this is empty). */
  nonGetRequests(): RecordedRequest[]
  /** Mutable: how pods/exec runs commands. */
  exec: FakeExecOptions
  /** Mutable: how pods created from now on start. */
  podStart: PodStart
  /** Every pods/exec call, in order (refused ones too, unless the upgrade itself was refused). */
  readonly execs: ExecCall[]
  /** Every request with a method other than GET, with its body and answer code. */
  readonly writes: RecordedWrite[]
  /** The pods served right now (those created through the API included), with their current status. */
  pods(): V1Pod[]
  /** A kubeconfig (YAML text) pointing at this server. */
  kubeconfig(opts?: KubeconfigOptions): string
  /** Stops listening and destroys open sockets (pending delayed requests included); idempotent. */
  close(): Promise<void>
}

// ---- certificates ------------------------------------------------------------------------------

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileP('openssl', args, {cwd, timeout: 30_000})
  } catch (err) {
    const e = err as NodeJS.ErrnoException & {stderr?: string}
    if (e.code === 'ENOENT') throw new Error('fake-apiserver: the openssl CLI is not installed; it is needed to make the test CA and server certificate')
    throw new Error(`fake-apiserver: openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`)
  }
}

/**
 * Makes a fresh test CA and a server certificate for 127.0.0.1 and localhost, signed by it (ECDSA P-256,
 * valid 2 days), with the openssl CLI in a temp dir that is removed afterwards: keys live only in memory.
 */
export async function makeTestPki(commonName = 'svctrace fake-apiserver test CA'): Promise<TestPki> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'svctrace-pki-'))
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
    await openssl(
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        '-subj',
        `/CN=${commonName}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    )
    await openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir)
    await writeFile(
      path.join(dir, 'server.ext'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '',
      ].join('\n'),
    )
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        '2',
        '-sha256',
        '-extfile',
        'server.ext',
        '-out',
        'server.crt',
      ],
      dir,
    )
    const [caPem, certPem, keyPem] = await Promise.all(['ca.crt', 'server.crt', 'server.key'].map((f) => readFile(path.join(dir, f), 'utf8')))
    return {caPem: caPem!, certPem: certPem!, keyPem: keyPem!}
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

let sharedPki: Promise<TestPki> | undefined
function defaultPki(): Promise<TestPki> {
  sharedPki ??= makeTestPki().catch((err) => {
    sharedPki = undefined
    throw err
  })
  return sharedPki
}

// ---- data --------------------------------------------------------------------------------------

/** Reads DIR/cluster.yaml|yml|json as the bundle adapter does, plus the ConfigMaps and Namespaces in it. */
export async function loadFakeClusterData(dir: string): Promise<FakeClusterData> {
  for (const name of ['cluster.yaml', 'cluster.yml', 'cluster.json']) {
    const file = path.join(dir, name)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
    const view: FakeClusterData = parseClusterFile(text, file)
    const doc = name.endsWith('.json') ? JSON.parse(text) : yaml.load(text, {schema: yaml.CORE_SCHEMA})
    const configMaps: V1ConfigMap[] = []
    const daemonSets: V1DaemonSet[] = []
    const namespaces: V1Namespace[] = []
    const walk = (list: {items?: unknown[]}) => {
      for (const item of list.items ?? []) {
        const o = item as {kind?: string; items?: unknown[]}
        if (o?.kind === 'ConfigMap') configMaps.push(o as V1ConfigMap)
        else if (o?.kind === 'DaemonSet') daemonSets.push(o as V1DaemonSet)
        else if (o?.kind === 'Namespace') namespaces.push(o as V1Namespace)
        else if (o?.kind === 'List') walk(o)
      }
    }
    walk(doc as {items?: unknown[]})
    const {kubeProxy: _kubeProxy, ...objects} = view
    return {...objects, configMaps, daemonSets, namespaces}
  }
  throw new Error(`fake-apiserver: ${dir} has no cluster.yaml`)
}

interface ObjMeta {
  name?: string
  namespace?: string
  labels?: Record<string, string>
  resourceVersion?: string
  creationTimestamp?: unknown
}

interface Obj {
  apiVersion?: string
  kind?: string
  metadata?: ObjMeta
  spec?: Record<string, unknown>
  status?: Record<string, unknown>
}

interface ResourceDef {
  group: string
  version: string
  kind: string
  namespaced: boolean
  /** Field selector fields supported, beyond metadata.name (and metadata.namespace for namespaced resources). */
  fields: Record<string, (o: Obj) => string>
}

// eslint-disable-next-line @typescript-eslint/no-base-to-string -- table cells are scalars
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v))

const RESOURCES: Record<string, ResourceDef> = {
  services: {
    group: '',
    version: 'v1',
    kind: 'Service',
    namespaced: true,
    fields: {
      'spec.clusterIP': (o) => str(o.spec?.clusterIP),
      'spec.type': (o) => str(o.spec?.type),
    },
  },
  pods: {
    group: '',
    version: 'v1',
    kind: 'Pod',
    namespaced: true,
    fields: {
      'spec.nodeName': (o) => str(o.spec?.nodeName),
      'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
      'spec.schedulerName': (o) => str(o.spec?.schedulerName),
      'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
      'spec.hostNetwork': (o) => String(o.spec?.hostNetwork === true),
      'status.phase': (o) => str(o.status?.phase),
      'status.podIP': (o) => str(o.status?.podIP),
      'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
    },
  },
  endpoints: {group: '', version: 'v1', kind: 'Endpoints', namespaced: true, fields: {}},
  configmaps: {group: '', version: 'v1', kind: 'ConfigMap', namespaced: true, fields: {}},
  daemonsets: {group: 'apps', version: 'v1', kind: 'DaemonSet', namespaced: true, fields: {}},
  nodes: {
    group: '',
    version: 'v1',
    kind: 'Node',
    namespaced: false,
    fields: {
      'spec.unschedulable': (o) => String(o.spec?.unschedulable === true),
    },
  },
  namespaces: {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    namespaced: false,
    fields: {
      'status.phase': (o) => str(o.status?.phase),
    },
  },
  endpointslices: {group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', namespaced: true, fields: {}},
}

const apiVersionOf = (def: ResourceDef) => (def.group ? `${def.group}/${def.version}` : def.version)
const qualified = (resource: string, def: ResourceDef) => (def.group ? `${resource}.${def.group}` : resource)

function uuidFrom(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

interface Snapshot {
  rv: string
  /** resource → items sorted by their etcd key (namespace/name). */
  items: Record<string, Obj[]>
}

function keyOf(o: Obj): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`
}

function buildSnapshot(data: FakeClusterData, minRv: number): Snapshot {
  const clone = <T>(xs: T[] | undefined): Obj[] => JSON.parse(JSON.stringify(xs ?? [])) as Obj[]
  const items: Record<string, Obj[]> = {
    services: clone(data.services),
    pods: clone(data.pods),
    endpoints: clone(data.endpoints),
    configmaps: clone(data.configMaps),
    daemonsets: clone(data.daemonSets),
    nodes: clone(data.nodes),
    endpointslices: clone(data.endpointSlices),
  }
  let maxRv = 0
  let earliest: string | undefined
  for (const list of Object.values(items)) {
    for (const o of list) {
      const rv = Number(o.metadata?.resourceVersion)
      if (Number.isFinite(rv) && rv > maxRv) maxRv = rv
      const ts = o.metadata?.creationTimestamp
      if (typeof ts === 'string' && (earliest === undefined || ts < earliest)) earliest = ts
    }
  }
  const namespaces = clone(data.namespaces)
  const known = new Set(namespaces.map((n) => n.metadata?.name))
  for (const list of Object.values(items)) {
    for (const o of list) {
      const ns = o.metadata?.namespace
      if (!ns || known.has(ns)) continue
      known.add(ns)
      namespaces.push({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          creationTimestamp: earliest ?? '2024-01-01T00:00:00Z',
          labels: {'kubernetes.io/metadata.name': ns},
          name: ns,
          resourceVersion: '1',
          uid: uuidFrom(`namespace/${ns}`),
        } as ObjMeta,
        spec: {finalizers: ['kubernetes']},
        status: {phase: 'Active'},
      })
    }
  }
  items.namespaces = namespaces
  for (const [resource, list] of Object.entries(items)) {
    const def = RESOURCES[resource]!
    for (const o of list) {
      o.apiVersion ??= apiVersionOf(def)
      o.kind ??= def.kind
    }
    list.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0))
  }
  return {rv: String(Math.max(maxRv, minRv, 1)), items}
}

// ---- Status bodies -----------------------------------------------------------------------------

interface StatusDetails {
  name?: string | undefined
  group?: string | undefined
  kind?: string
  retryAfterSeconds?: number
}

const REASONS: Record<number, [string, string]> = {
  400: ['BadRequest', 'the server rejected our request for an unknown reason'],
  401: ['Unauthorized', 'Unauthorized'],
  403: ['Forbidden', 'forbidden'],
  404: ['NotFound', 'the server could not find the requested resource'],
  405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
  409: ['Conflict', 'the server reported a conflict'],
  410: ['Expired', 'the resource version is too old'],
  422: ['Invalid', 'the server rejected our request due to an error in our request'],
  429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
  500: ['InternalError', 'an error on the server ("") has prevented the request from succeeding'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
}

function statusBody(code: number, reason: string, message: string, details?: StatusDetails): Record<string, unknown> {
  const body: Record<string, unknown> = {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason}
  if (details) {
    // Go field order of StatusDetails: name, group, kind, uid, causes, retryAfterSeconds.
    const d: Record<string, unknown> = {}
    if (details.name) d.name = details.name
    if (details.group) d.group = details.group
    if (details.kind) d.kind = details.kind
    if (details.retryAfterSeconds) d.retryAfterSeconds = details.retryAfterSeconds
    body.details = d
  }
  body.code = code
  return body
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message))
  }
}

const fail = (code: number, message?: string, details?: StatusDetails, reason?: string) =>
  new HttpError(code, statusBody(code, reason ?? REASONS[code]?.[0] ?? 'Unknown', message ?? REASONS[code]?.[1] ?? `fake-apiserver: status ${code}`, details))
const notFoundPath = () => fail(404, undefined, {})
const badRequest = (message: string) => fail(400, message)

// ---- pods/exec ---------------------------------------------------------------------------------
//
// The wire protocol of kube-apiserver's exec over WebSocket (k8s.io/apimachinery wsstream), as client-node 1.4
// speaks it: GET /api/v1/namespaces/NS/pods/POD/exec?stdout=true&stderr=true&stdin=false&tty=false&command=a&
// command=b&container=C, upgraded with subprotocol v5.channel.k8s.io (or v4). Every binary message is one
// channel byte then data: 1 stdout, 2 stderr, 3 the final Status as JSON. A refused upgrade is a plain HTTP
// answer with a Status body (client-node only sees "Unexpected server response: 403").

const MAX_BODY_BYTES = 1 << 20
const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io']
/** A command that runs longer than this is killed (the test would have failed long before). */
const EXEC_KILL_MS = 120_000
const FRAME_BYTES = 32 * 1024

/** The parts of the `ws` package used here (it comes with client-node; its types are not installed). */
interface WsSocket {
  send(data: Buffer): void
  close(code?: number): void
  terminate(): void
  on(event: 'close', fn: () => void): void
  on(event: 'error', fn: (err: Error) => void): void
}
interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WsSocket) => void): void
  close(): void
}
interface WsModule {
  WebSocketServer: new (opts: {noServer: true; handleProtocols: (offered: Set<string>) => string | false}) => WsServer
}

function execSuccess(): Record<string, unknown> {
  return {metadata: {}, status: 'Success'}
}

/** What the kubelet reports for a non-zero exit (remotecommand's status on channel 3). */
function execExit(argv: string[], code: number): Record<string, unknown> {
  if (code === 0) return execSuccess()
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: {causes: [{reason: 'ExitCode', message: String(code)}]},
  }
}

/** What containerd + runc report for a program the image does not have. */
function execNotFound(program: string): Record<string, unknown> {
  const id = randomBytes(32).toString('hex')
  const cause =
    `error executing command in container: failed to exec in container: failed to start exec "${id}": ` +
    `OCI runtime exec failed: exec failed: unable to start container process: exec: "${program}": executable file not found in $PATH: unknown`
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${cause}`,
    reason: 'InternalError',
    details: {causes: [{message: cause}]},
    code: 500,
  }
}

/** The allow-list entry an argv is, if any: the same check svctrace applies before sending; `compound` for a checked `sh -c` batch. */
function allowListEntry(argv: string[]): NodeCommandId | 'compound' | undefined {
  if (argv.length === 3 && argv[0] === 'sh' && argv[1] === '-c') return compoundLines(argv[2]!) ? 'compound' : undefined
  if (!argv.every((w) => /^[A-Za-z0-9_./:=@%+-]+$/.test(w))) return undefined
  const line = argv.join(' ')
  return (Object.keys(ALLOWED) as NodeCommandId[]).find((id) => ALLOWED[id].test(line))
}

// ---- request parsing ---------------------------------------------------------------------------

interface ResourceRequest {
  def: ResourceDef
  resource: string
  subresource: string
  namespace: string
  name: string
  verb: string
}

/** Splits a resource path like k8s.io/apiserver's RequestInfoFactory; undefined = not a known resource. */
function parseResourcePath(parts: string[], query: URLSearchParams): ResourceRequest | undefined {
  let group: string
  let rest: string[]
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = ''
    rest = parts.slice(2)
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1]!
    if (parts[2] !== 'v1') return undefined
    rest = parts.slice(3)
  } else {
    return undefined
  }
  if (rest.length === 0) return undefined
  let namespace = ''
  if (rest[0] === 'namespaces' && rest.length > 2) {
    namespace = rest[1]!
    rest = rest.slice(2)
  } else if (rest[0] === 'namespaces' && rest.length === 2) {
    namespace = rest[1]!
  }
  const [resource, name = '', subresource = '', ...extra] = rest
  const def = RESOURCES[resource!]
  if (!def || def.group !== group || extra.length) return undefined
  // A namespaced resource by name needs a namespace; a cluster-scoped one lives outside /namespaces/{ns}/.
  if (resource !== 'namespaces' && def.namespaced && name && !namespace) return undefined
  if (!def.namespaced && resource !== 'namespaces' && namespace) return undefined
  const watch = query.get('watch')
  const verb = name ? 'get' : watch === 'true' || watch === '1' ? 'watch' : 'list'
  return {def, resource: resource!, subresource, namespace, name, verb}
}

function matchesRule(rule: DenyRule, a: RequestAttributes): boolean {
  const has = (v: string | string[], x: string) => (Array.isArray(v) ? v : [v]).some((e) => e === '*' || e === x)
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  if (!has(rule.verb, a.verb) || !has(rule.resource, resource)) return false
  if (rule.namespace !== undefined && rule.namespace !== a.namespace) return false
  if (rule.name !== undefined && rule.name !== a.name) return false
  return true
}

function forbidden(a: RequestAttributes, def: ResourceDef): HttpError {
  const what = qualified(a.resource, def)
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope'
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  const reason = `User "${a.user}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`
  const message = a.name ? `${what} "${a.name}" is forbidden: ${reason}` : `${what} is forbidden: ${reason}`
  return fail(403, message, {name: a.name || undefined, group: def.group || undefined, kind: a.resource})
}

interface ContinueToken {
  rv: string
  start: string
}

function encodeContinue(rv: string, lastKey: string): string {
  // Same shape as the real token: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"key\u0000"}.
  return Buffer.from(JSON.stringify({v: 'meta.k8s.io/v1', rv: Number(rv), start: `${lastKey}\u0000`})).toString('base64')
}

function decodeContinue(token: string): ContinueToken {
  let parsed: {v?: string; rv?: number; start?: string}
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as typeof parsed
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data or JSON')
  }
  if (parsed?.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
  }
  return {rv: String(parsed.rv), start: parsed.start}
}

// ---- the server --------------------------------------------------------------------------------

export async function startFakeApiServer(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const pki = opts.pki ?? (await defaultPki())
  const token = opts.token ?? 'svctrace-test-token'
  const tokens: Record<string, string> = {[token]: opts.user ?? 'system:serviceaccount:default:svctrace', ...opts.tokens}
  const initialData: FakeClusterData =
    opts.view ?? (opts.bundleDir ? await loadFakeClusterData(opts.bundleDir) : {services: [], endpointSlices: [], endpoints: [], pods: [], nodes: []})

  let current = buildSnapshot(initialData, 1)
  /** Snapshots continue tokens may still read, by resourceVersion. */
  const snapshots = new Map<string, Snapshot>([[current.rv, current]])
  const requests: RecordedRequest[] = []
  const writes: RecordedWrite[] = []
  const execs: ExecCall[] = []
  let pendingFailures: Array<{status: number | 'reset'; opts: FailOptions}> = []
  let dropAnswers = 0
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  let closed = false

  const firstNode = initialData.nodes[0] as {status?: {nodeInfo?: {kubeletVersion?: string}}} | undefined
  const gitVersion = opts.gitVersion ?? firstNode?.status?.nodeInfo?.kubeletVersion ?? 'v1.30.0'

  function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.destroyed || res.headersSent) return
    const text = JSON.stringify(body)
    res.writeHead(code, {
      'Audit-Id': randomUUID(),
      'Cache-Control': 'no-cache, private',
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
      ...headers,
    })
    res.end(text)
  }

  function versionBody(): Record<string, string> {
    const m = /^v(\d+)\.(\d+)/.exec(gitVersion)
    return {
      major: m?.[1] ?? '1',
      minor: m?.[2] ?? '30',
      gitVersion,
      gitCommit: createHash('sha1').update(gitVersion).digest('hex'),
      gitTreeState: 'clean',
      buildDate: '2024-01-01T00:00:00Z',
      goVersion: 'go1.22.0',
      compiler: 'gc',
      platform: 'linux/amd64',
    }
  }

  function listItemOut(o: Obj): Obj {
    if (opts.listItemTypeMeta) return o
    const {kind: _k, apiVersion: _a, ...rest} = o
    return rest
  }

  function fieldValue(def: ResourceDef, field: string, o: Obj): string | undefined {
    if (field === 'metadata.name') return str(o.metadata?.name)
    if (field === 'metadata.namespace' && def.namespaced) return str(o.metadata?.namespace)
    return def.fields[field]?.(o)
  }

  function list(rr: ResourceRequest, q: URLSearchParams): unknown {
    let labelReqs: LabelRequirement[] = []
    let fieldReqs: FieldRequirement[] = []
    try {
      labelReqs = parseLabelSelector(q.get('labelSelector') ?? '')
      fieldReqs = parseFieldSelector(q.get('fieldSelector') ?? '')
    } catch (err) {
      if (err instanceof SelectorParseError) throw badRequest(err.message)
      throw err
    }
    for (const f of fieldReqs) {
      if (fieldValue(rr.def, f.field, {}) === undefined) throw badRequest(`field label not supported: ${f.field}`)
    }
    const limitText = q.get('limit')
    const limit = limitText === null || limitText === '' ? 0 : Number(limitText)
    if (!Number.isInteger(limit)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(limitText)}: invalid syntax`)
    const timeoutText = q.get('timeoutSeconds')
    if (timeoutText !== null && timeoutText !== '' && !/^\d+$/.test(timeoutText)) {
      throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(timeoutText)}: invalid syntax`)
    }
    const cont = q.get('continue') ?? ''
    let snap = current
    let start = ''
    if (cont) {
      if (q.get('resourceVersion')) throw badRequest('specifying resource version is not allowed when using continue')
      const t = decodeContinue(cont)
      const old = snapshots.get(t.rv)
      if (!old) {
        throw fail(
          410,
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        )
      }
      snap = old
      start = t.start
    }
    const all = snap.items[rr.resource]!
    const inScope = (o: Obj) => !rr.namespace || o.metadata?.namespace === rr.namespace
    const matches = (o: Obj) =>
      inScope(o) && labelsMatch(labelReqs, o.metadata?.labels) && fieldReqs.every((f) => (fieldValue(rr.def, f.field, o) === f.value) === (f.operator === '='))
    const candidates = all.filter((o) => !start || keyOf(o) >= start)
    const selected: Obj[] = []
    let more = false
    let remaining = 0
    for (const o of candidates) {
      if (!matches(o)) continue
      if (limit > 0 && selected.length >= limit) {
        more = true
        remaining++
        continue
      }
      selected.push(o)
    }
    const metadata: Record<string, unknown> = {resourceVersion: snap.rv}
    if (more) {
      metadata.continue = encodeContinue(snap.rv, keyOf(selected[selected.length - 1]!))
      // The real server reports remainingItemCount only when nothing is filtered out by selectors.
      if (!labelReqs.length && !fieldReqs.length) metadata.remainingItemCount = remaining
    }
    return {kind: `${rr.def.kind}List`, apiVersion: apiVersionOf(rr.def), metadata, items: selected.map(listItemOut)}
  }

  function get(rr: ResourceRequest): unknown {
    const found = current.items[rr.resource]!.find(
      (o) => o.metadata?.name === rr.name && (rr.resource === 'namespaces' || !rr.def.namespaced || o.metadata?.namespace === rr.namespace),
    )
    if (!found) {
      throw fail(404, `${qualified(rr.resource, rr.def)} "${rr.name}" not found`, {name: rr.name, group: rr.def.group || undefined, kind: rr.resource})
    }
    return found
  }

  function authorize(attrs: RequestAttributes, def: ResourceDef): void {
    if (server.deny.some((r) => matchesRule(r, attrs)) || (opts.authorize && !opts.authorize(attrs))) throw forbidden(attrs, def)
  }

  function route(req: IncomingMessage, user: string, url: URL, body: unknown): {code: number; body: unknown} {
    // Read-only unless podWrites: every other method is refused whatever the path (and was logged by handle()).
    const method = req.method ?? ''
    const podWrite = opts.podWrites === true && (method === 'POST' || method === 'DELETE')
    if (method !== 'GET' && !podWrite) throw fail(405)
    const parts = url.pathname.split('/').filter(Boolean)
    if (method === 'GET' && (url.pathname === '/version' || url.pathname === '/version/')) return {code: 200, body: versionBody()}
    const rr = parseResourcePath(parts, url.searchParams)
    if (!rr) throw notFoundPath()
    if (method !== 'GET' && (rr.resource !== 'pods' || rr.subresource || !rr.namespace || (method === 'POST' && rr.name))) throw fail(405)
    const verb = method === 'POST' ? 'create' : method === 'DELETE' ? (rr.name ? 'delete' : 'deletecollection') : rr.verb
    authorize({user, verb, apiGroup: rr.def.group, resource: rr.resource, subresource: rr.subresource, namespace: rr.namespace, name: rr.name}, rr.def)
    if (rr.subresource) throw notFoundPath()
    if (rr.verb === 'watch') throw badRequest('fake-apiserver: watch is not supported')
    if (rr.resource === 'pods') refreshCreatedPods()
    if (verb === 'create') return {code: 201, body: createPod(rr.namespace, body)}
    if (verb === 'delete') return {code: 200, body: deletePod(rr.namespace, rr.name)}
    if (verb === 'deletecollection') return {code: 200, body: deletePods(rr.namespace, url.searchParams.get('labelSelector') ?? '')}
    return {code: 200, body: rr.name ? get(rr) : list(rr, url.searchParams)}
  }

  // ---- pod writes (podWrites) ------------------------------------------------------------------

  /** Created pods: when, and how they start; their status is derived from the clock whenever they are read. */
  const createdPods = new Map<string, {at: number; start: PodStart}>()

  function replacePods(pods: Obj[]): void {
    pods.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0))
    current = {rv: String(Number(current.rv) + 1), items: {...current.items, pods}}
    snapshots.set(current.rv, current)
  }

  function nodeAddress(node: string): string | undefined {
    const n = current.items.nodes!.find((o) => o.metadata?.name === node) as {status?: {addresses?: Array<{type: string; address: string}>}} | undefined
    return n?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address
  }

  function refreshCreatedPods(): void {
    const now = Date.now()
    for (const o of current.items.pods!) {
      const c = createdPods.get(keyOf(o))
      if (!c || o.status?.phase === 'Running') continue
      const container = ((o.spec?.containers ?? []) as Array<{name: string; image: string}>)[0]!
      const hostIP = nodeAddress(str(o.spec?.nodeName))
      const running = !c.start.waiting && now - c.at >= (c.start.afterMs ?? 100)
      const since = new Date(c.at).toISOString().replace(/\.\d+Z$/, 'Z')
      const state = running
        ? {running: {startedAt: new Date(now).toISOString().replace(/\.\d+Z$/, 'Z')}}
        : {waiting: c.start.waiting ?? {reason: 'ContainerCreating'}}
      o.status = {
        phase: running ? 'Running' : 'Pending',
        conditions: [
          {type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: since},
          {
            type: 'Ready',
            status: running ? 'True' : 'False',
            lastProbeTime: null,
            lastTransitionTime: since,
            ...(running ? {} : {reason: 'ContainersNotReady', message: `containers with unready status: [${container.name}]`}),
          },
        ],
        ...(hostIP ? {hostIP, ...(o.spec?.hostNetwork === true && running ? {podIP: hostIP, podIPs: [{ip: hostIP}]} : {})} : {}),
        startTime: since,
        containerStatuses: [{name: container.name, image: container.image, imageID: '', ready: running, restartCount: 0, started: running, state}],
        qosClass: 'BestEffort',
      }
    }
  }

  function createPod(namespace: string, body: unknown): Obj {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request was in an unknown format')
    const pod = body as Obj & {metadata?: {generateName?: string}}
    const meta = {...pod.metadata}
    if (meta.namespace && meta.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    const name = meta.name || (meta.generateName ? `${meta.generateName}${randomBytes(3).toString('hex').slice(0, 5)}` : '')
    if (!name) throw fail(422, 'Pod "" is invalid: metadata.name: Required value: name or generateName is required', {kind: 'Pod'})
    const containers = pod.spec?.containers
    if (!Array.isArray(containers) || containers.length === 0) throw fail(422, `Pod "${name}" is invalid: spec.containers: Required value`, {name, kind: 'Pod'})
    if (current.items.pods!.some((o) => o.metadata?.namespace === namespace && o.metadata?.name === name)) {
      throw fail(409, `pods "${name}" already exists`, {name, kind: 'pods'}, 'AlreadyExists')
    }
    const rv = String(Number(current.rv) + 1)
    const created: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...meta,
        name,
        namespace,
        uid: randomUUID(),
        resourceVersion: rv,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      } as ObjMeta,
      spec: {...pod.spec},
      status: {phase: 'Pending', qosClass: 'BestEffort'},
    }
    createdPods.set(keyOf(created), {at: Date.now(), start: {...server.podStart}})
    replacePods([...current.items.pods!, created])
    refreshCreatedPods()
    return created
  }

  function deleted(o: Obj): Obj {
    return {...o, metadata: {...o.metadata, deletionTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), deletionGracePeriodSeconds: 0} as ObjMeta}
  }

  function deletePod(namespace: string, name: string): Obj {
    const found = current.items.pods!.find((o) => o.metadata?.namespace === namespace && o.metadata?.name === name)
    if (!found) throw fail(404, `pods "${name}" not found`, {name, kind: 'pods'})
    createdPods.delete(keyOf(found))
    replacePods(current.items.pods!.filter((o) => o !== found))
    return deleted(found)
  }

  function deletePods(namespace: string, selector: string): unknown {
    let reqs: LabelRequirement[]
    try {
      reqs = parseLabelSelector(selector)
    } catch (err) {
      if (err instanceof SelectorParseError) throw badRequest(err.message)
      throw err
    }
    const gone = current.items.pods!.filter((o) => o.metadata?.namespace === namespace && labelsMatch(reqs, o.metadata?.labels))
    for (const o of gone) createdPods.delete(keyOf(o))
    replacePods(current.items.pods!.filter((o) => !gone.includes(o)))
    return {kind: 'PodList', apiVersion: 'v1', metadata: {resourceVersion: current.rv}, items: gone.map((o) => listItemOut(deleted(o)))}
  }

  function answer(req: IncomingMessage, res: ServerResponse, url: URL, write: RecordedWrite | undefined): void {
    const send = (code: number, body: unknown, headers: Record<string, string> = {}) => {
      if (write) write.code = code
      sendJson(res, code, body, headers)
    }
    const failure = pendingFailures.shift()
    if (failure) {
      if (failure.status === 'reset') {
        resetRequest(req)
        return
      }
      const code = failure.status
      const headers: Record<string, string> = {}
      const retry = failure.opts.retryAfterSeconds ?? (code === 429 ? 1 : undefined)
      if (retry) headers['Retry-After'] = String(retry)
      const message = failure.opts.message ?? `fake-apiserver: injected failure ${code}`
      send(code, statusBody(code, failure.opts.reason ?? REASONS[code]?.[0] ?? 'Unknown', message, retry ? {retryAfterSeconds: retry} : undefined), headers)
      return
    }
    const auth = req.headers.authorization ?? ''
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
    const user = m ? tokens[m[1]!] : undefined
    if (!user) {
      send(401, statusBody(401, 'Unauthorized', 'Unauthorized'))
      return
    }
    try {
      const r = route(req, user, url, write?.body)
      if (dropAnswers > 0) {
        dropAnswers--
        resetRequest(req)
        return
      }
      send(r.code, r.body)
    } catch (err) {
      if (err instanceof HttpError) send(err.code, err.body, err.headers)
      else send(500, statusBody(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`))
    }
  }

  /** A request left without an answer: its connection reset, or on HTTP/2 its stream (the connection carries others). */
  function resetRequest(req: IncomingMessage): void {
    const stream = (req as unknown as {stream?: http2.ServerHttp2Stream}).stream
    if (stream) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
    else req.socket.destroy()
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1')
    const query = Object.fromEntries(url.searchParams)
    requests.push({method: req.method ?? '', path: url.pathname, query, userAgent: req.headers['user-agent'] ?? '', httpVersion: req.httpVersion})
    // Read the whole body (JSON for pod writes; drained and ignored otherwise) before answering.
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= MAX_BODY_BYTES) chunks.push(c)
    })
    req.on('end', () => {
      let write: RecordedWrite | undefined
      if (req.method !== 'GET') {
        const text = Buffer.concat(chunks).toString('utf8')
        let body: unknown = text === '' ? undefined : text
        try {
          body = text === '' ? undefined : JSON.parse(text)
        } catch {
          // not JSON: recorded as text
        }
        write = {method: req.method ?? '', path: url.pathname, query, ...(body === undefined ? {} : {body})}
        writes.push(write)
      }
      if (server.delayMs > 0) {
        const t = setTimeout(() => {
          timers.delete(t)
          answer(req, res, url, write)
        }, server.delayMs)
        timers.add(t)
        res.on('close', () => {
          clearTimeout(t)
          timers.delete(t)
        })
        return
      }
      answer(req, res, url, write)
    })
  }

  // The compatibility API gives HTTP/2 requests the shape of HTTP/1.1 ones (url, method, headers, writeHead).
  const httpsServer = opts.http1Only
    ? https.createServer({cert: pki.certPem, key: pki.keyPem}, handle)
    : http2.createSecureServer({cert: pki.certPem, key: pki.keyPem, allowHTTP1: true}, handle as never)
  httpsServer.on('connection', (s: Socket) => {
    server.connections++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  // A client that rejects our certificate aborts the handshake; that is expected in tests, not an error.
  httpsServer.on('tlsClientError', () => {})

  // ---- pods/exec over WebSocket ----------------------------------------------------------------

  const {WebSocketServer} = createRequire(import.meta.url)('ws') as WsModule
  const wss = new WebSocketServer({noServer: true, handleProtocols: (offered) => [...offered].find((p) => EXEC_PROTOCOLS.includes(p)) ?? false})
  const liveExecs = new Set<WsSocket>()
  const children = new Set<ChildProcess>()

  function refuseUpgrade(socket: Duplex, code: number, body: Record<string, unknown>): void {
    const text = JSON.stringify(body)
    socket.end(
      `HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    )
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1')
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      userAgent: req.headers['user-agent'] ?? '',
      httpVersion: req.httpVersion,
    })
    socket.on('error', () => {})
    try {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
      const user = m ? tokens[m[1]!] : undefined
      if (!user) throw fail(401, 'Unauthorized')
      const path = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname)
      if (!path) throw notFoundPath()
      const namespace = decodeURIComponent(path[1]!)
      const name = decodeURIComponent(path[2]!)
      // Since Kubernetes 1.35 a WebSocket exec (an HTTP GET) is authorized as `create pods/exec`, as a POST always was.
      authorize({user, verb: 'create', apiGroup: '', resource: 'pods', subresource: 'exec', namespace, name}, RESOURCES.pods!)
      refreshCreatedPods()
      const pod = current.items.pods!.find((o) => o.metadata?.namespace === namespace && o.metadata?.name === name)
      if (!pod) throw fail(404, `pods "${name}" not found`, {name, kind: 'pods'})
      const containers = (pod.spec?.containers ?? []) as Array<{name: string; image?: string}>
      const container = url.searchParams.get('container') || (containers.length === 1 ? containers[0]!.name : '')
      if (!container) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`)
      const spec = containers.find((c) => c.name === container)
      if (!spec) throw badRequest(`container ${container} is not valid for pod ${name}`)
      const phase = str(pod.status?.phase)
      if (phase === 'Succeeded' || phase === 'Failed') throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`)
      if (phase !== 'Running') throw badRequest(`unable to upgrade connection: container not found ("${container}")`)
      const argv = url.searchParams.getAll('command')
      if (argv.length === 0) throw badRequest('you must specify at least 1 command')
      const offered = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
      const protocol = offered.find((p) => EXEC_PROTOCOLS.includes(p))
      if (!protocol) throw badRequest(`unable to upgrade connection: none of the offered subprotocols is supported (${offered.join(', ') || 'none offered'})`)
      const call: ExecCall = {
        namespace,
        pod: name,
        container,
        node: str(pod.spec?.nodeName),
        image: spec.image ?? '',
        argv,
        allowedAs: allowListEntry(argv),
        protocol,
      }
      const want = {stdout: url.searchParams.get('stdout') === 'true', stderr: url.searchParams.get('stderr') === 'true'}
      wss.handleUpgrade(req, socket, head, (ws) => void runExec(ws, call, want))
    } catch (err) {
      if (err instanceof HttpError) refuseUpgrade(socket, err.code, err.body)
      else refuseUpgrade(socket, 500, statusBody(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`))
    }
  }

  async function runExec(ws: WsSocket, call: ExecCall, want: {stdout: boolean; stderr: boolean}): Promise<void> {
    execs.push(call)
    liveExecs.add(ws)
    let gone = false
    let child: ChildProcess | undefined
    const goneWaiters: Array<() => void> = []
    ws.on('error', () => {})
    ws.on('close', () => {
      gone = true
      liveExecs.delete(ws)
      call.outcome ??= 'cancelled'
      child?.kill('SIGKILL')
      for (const w of goneWaiters) w()
    })
    const frame = (channel: number, data: Buffer | string) => {
      if (!gone) ws.send(Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]))
    }
    const output = (channel: 1 | 2, data: Buffer | string) => {
      if (!(channel === 1 ? want.stdout : want.stderr)) return
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data)
      for (let i = 0; i < buf.length; i += FRAME_BYTES) frame(channel, buf.subarray(i, i + FRAME_BYTES))
    }
    const finish = (status: Record<string, unknown>, outcome: NonNullable<ExecCall['outcome']>) => {
      if (gone) return
      call.outcome = outcome
      frame(3, JSON.stringify(status))
      ws.close(1000)
    }
    // wsstream opens by sending an empty message on the first writable channel.
    frame(want.stdout ? 1 : 2, Buffer.alloc(0))
    if (!call.allowedAs) {
      output(2, `fake-apiserver: refusing to run "${call.argv.join(' ')}": not on svctrace's allow-list\n`)
      finish(execExit(call.argv, 126), 'refused')
      return
    }
    const delay = server.exec.delayMs ?? 0
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay)
        goneWaiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
      if (gone) return
    }
    const reply = server.exec.respond?.(call)
    if (reply) {
      if (reply.stdout !== undefined) output(1, reply.stdout)
      if (reply.stderr !== undefined) output(2, reply.stderr)
      finish(execExit(call.argv, reply.exitCode ?? 0), reply.exitCode ?? 0)
      return
    }
    const program = which(call.argv[0]!)
    // An image that lacks programs stands for a distroless one: it has no shell either.
    const lacks = server.exec.missing?.[call.image]
    if (lacks?.includes(call.argv[0]!) || (lacks && call.allowedAs === 'compound') || !program) {
      finish(execNotFound(call.argv[0]!), 'not-found')
      return
    }
    const netns = server.exec.netns?.[call.node]
    if (!netns) {
      output(2, `fake-apiserver: no network namespace for node "${call.node}" (set exec.netns)\n`)
      finish(execExit(call.argv, 1), 1)
      return
    }
    child = spawn(which('ip') ?? 'ip', ['netns', 'exec', netns, program, ...call.argv.slice(1)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C'},
    })
    const proc = child
    children.add(proc)
    const killer = setTimeout(() => proc.kill('SIGKILL'), EXEC_KILL_MS)
    proc.stdout!.on('data', (c: Buffer) => output(1, c))
    proc.stderr!.on('data', (c: Buffer) => output(2, c))
    proc.on('error', (err) => {
      output(2, `fake-apiserver: ${err.message}\n`)
    })
    proc.on('close', (code) => {
      clearTimeout(killer)
      children.delete(proc)
      const exit = code ?? 137
      finish(execExit(call.argv, exit), exit)
    })
  }

  httpsServer.on('upgrade', upgrade)

  await new Promise<void>((resolve, reject) => {
    httpsServer.once('error', reject)
    httpsServer.listen(0, '127.0.0.1', () => {
      httpsServer.off('error', reject)
      resolve()
    })
  })
  const port = (httpsServer.address() as {port: number}).port
  const url = `https://127.0.0.1:${port}`

  const server: FakeApiServer & {connections: number} = {
    url,
    port,
    connections: 0,
    caPem: pki.caPem,
    token,
    requests,
    delayMs: opts.delayMs ?? 0,
    deny: [...(opts.deny ?? [])],
    reset() {
      server.connections = 0
      requests.length = 0
      pendingFailures = []
      dropAnswers = 0
      server.delayMs = opts.delayMs ?? 0
      server.deny = [...(opts.deny ?? [])]
      execs.length = 0
      writes.length = 0
      server.exec = {...opts.exec}
      server.podStart = {...opts.podStart}
    },
    dropNextAnswers(n) {
      dropAnswers += n
    },
    failNext(n, status, failOpts = {}) {
      for (let i = 0; i < n; i++) pendingFailures.push({status, opts: failOpts})
    },
    setView(view) {
      current = buildSnapshot(view, Number(current.rv) + 1)
      snapshots.set(current.rv, current)
    },
    expireContinueTokens() {
      snapshots.clear()
      // A fresh list still works: only tokens issued before now are gone.
      current = {...current, rv: String(Number(current.rv) + 1)}
      snapshots.set(current.rv, current)
    },
    nonGetRequests() {
      return requests.filter((r) => r.method !== 'GET')
    },
    exec: {...opts.exec},
    podStart: {...opts.podStart},
    execs,
    writes,
    pods() {
      refreshCreatedPods()
      return JSON.parse(JSON.stringify(current.items.pods)) as V1Pod[]
    },
    kubeconfig(k = {}) {
      const context = k.context ?? 'fake'
      const userName = k.user ?? 'svctrace'
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: context,
            cluster: {
              'certificate-authority-data': Buffer.from(k.caPem ?? pki.caPem).toString('base64'),
              server: `https://${k.host ?? '127.0.0.1'}:${k.port ?? port}`,
            },
          },
        ],
        contexts: [{name: context, context: {cluster: context, user: userName, ...(k.namespace ? {namespace: k.namespace} : {})}}],
        'current-context': context,
        preferences: {},
        users: [{name: userName, user: {token: k.token ?? token}}],
      }
      return yaml.dump(config, {lineWidth: -1})
    },
    async close() {
      if (closed) return
      closed = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const ws of liveExecs) ws.terminate()
      for (const c of children) c.kill('SIGKILL')
      wss.close()
      const done = new Promise<void>((resolve) => httpsServer.close(() => resolve()))
      if ('closeAllConnections' in httpsServer) httpsServer.closeAllConnections()
      for (const s of sockets) s.destroy()
      await done
    },
  }
  return server
}
