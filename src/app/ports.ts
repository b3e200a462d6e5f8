// The seams between the use cases and the outside world: what is read (ClusterSource, NodeReader)
// and where a copy of it goes (CaptureSink).
import type {CollectionPlan} from '../core/collection-plan.js'
import type {ClusterView, KubeProxyObjects, NodeDataplane, NodesUntraced, Query} from '../core/model.js'

export type {CollectionPlan} from '../core/collection-plan.js'

/** What a source read: the objects, and what it was not allowed to read. */
export interface ClusterRead {
  view: ClusterView
  /** One sentence per denied request: what was denied and which findings are therefore missing. */
  denied: string[]
}

/** Where API objects come from: a bundle directory or the live API server. */
export interface ClusterSource {
  /** Human name for messages (`bundle examples/hello-world`, `context kind-dev (https://…)`). */
  readonly description: string
  /** Namespace to use when the user gave none. */
  defaultNamespace(): Promise<string>
  /** Reads what the query needs (a live source asks only for that; a bundle parses only that for one Service or address, else everything). */
  load(query: Query, hooks?: LoadHooks): Promise<ClusterRead>
  /** kube-proxy's ConfigMap and DaemonSet, read only when nodes are (a bundle's load already holds them). */
  kubeProxyObjects?(): Promise<KubeProxyObjects>
  /**
   * The run was interrupted: requests still out are given up (they fail at once), so they do not hold
   * the process until --request-timeout.
   */
  abort?(): void
}

/** What a source tells while it reads. */
export interface LoadHooks {
  /**
   * The Node objects, as soon as they are read and the query is known to have an answer (a Service
   * trace: the Service exists), while the rest is still being read. Called at most once.
   */
  onNodes?: (nodes: ClusterView['nodes']) => void
}

/** Where node data planes come from. One failing node never fails the others. */
export interface NodeReader {
  /** Names of the nodes this reader can reach (a live reader takes them from the API's Node objects). */
  nodeNames(view: ClusterView): Promise<string[]>
  /** Reads one node as the plan says; a node that cannot be read comes back with readError, never a throw. */
  read(node: string, plan: CollectionPlan): Promise<NodeDataplane>
  /**
   * Starts what read() will need that does not depend on the plan (a bundle's files), so it runs beside
   * the API read; only these nodes when some are named. Never throws: read() reports what went wrong.
   */
  prefetch?(nodes: readonly string[]): void
  /**
   * The API's Node objects, before the rest of the API read is done: starts connecting to the nodes
   * read() will read first (only these when some are named), so that connecting overlaps the API read.
   * Never throws: read() reports what went wrong; close() ends what read() never took.
   */
  nodesListed?(nodes: ClusterView['nodes'], only: readonly string[]): void
  /** What an empty nodeNames() means (a bundle without nodes/, a reader that reads no node); default: none could be read. */
  readonly noNodes?: NodesUntraced
  /** Releases connections and anything created on the cluster (debug pods); called on every exit path. */
  close?(): Promise<void>
}

/** Where and why a capture was made (DIR/meta.yaml of a bundle). */
export interface CaptureMeta {
  /** The source's description (`bundle examples/hello-world`, `context kind-dev (https://…)`). */
  capturedFrom: string
  query: Query
}

/** Where `--capture` keeps everything a run read, so that `--from` can read it back. */
export interface CaptureSink {
  /** Writes the API objects and node dumps; throws SourceError when it cannot (e.g. a non-empty directory). */
  write(view: ClusterView, dataplanes: NodeDataplane[], meta: CaptureMeta): Promise<void>
}

/** A source error: nothing could be read (exit code 2). */
export class SourceError extends Error {}

/** One API request as -v shows it: answered (status) or not (error). Never headers or credentials. */
export interface ApiRequestRecord {
  method: string
  /** The URL with its query, without any user:password part. */
  url: string
  /** The HTTP status; absent when no response came (refused, timed out). */
  status?: number
  /** Why no response came (`ECONNREFUSED`, `AbortError`). */
  error?: string
  ms: number
}

/** One node command as -v shows it. */
export interface NodeCommandRecord {
  node: string
  /** How the node was reached. */
  via: 'ssh' | 'exec'
  /** Where it ran, when a node's commands run in more than one place (`debug pod kube-system/svctrace-…`). */
  where?: string
  /** The command's argv joined by spaces (never the remote shell line with sudo/env). */
  command: string
  /** The exit status, when the command ran to the end. */
  exitCode?: number
  /** When it ran in a compound command: that channel's number on the node and its command count (ms is the channel's). */
  channel?: {number: number; commands: number}
  /** Output bytes (stdout + stderr), when the command succeeded. */
  bytes?: number
  /** What went wrong when there is no exit status (timeout, connection lost, output too large). */
  error?: string
  ms: number
}

/** Where -v/--verbose sends each API request and node command; the command supplies it. */
export interface ActivityLog {
  apiRequest(record: ApiRequestRecord): void
  nodeCommand(record: NodeCommandRecord): void
  /** How a node was read: rounds, what was chosen and why, fallbacks. */
  nodeRead(record: NodeReadRecord): void
}

export interface NodeReadRecord {
  node: string
  via: 'ssh' | 'exec'
  text: string
}
