// The two seams between the use cases and the outside world.
import type {ClusterView, NodeDataplane, Query} from '../core/model.js'

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
  /** Reads what the query needs (a live source reads only that; a bundle has everything). */
  load(query: Query): Promise<ClusterRead>
}

/** Where node data planes come from. One failing node never fails the others. */
export interface NodeReader {
  /** Names of the nodes this reader can reach. */
  nodeNames(): Promise<string[]>
  read(node: string): Promise<NodeDataplane>
}

/** A source error: nothing could be read (exit code 2). */
export class SourceError extends Error {}
