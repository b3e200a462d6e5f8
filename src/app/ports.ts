// The two seams between the use cases and the outside world.
import type {ClusterView, NodeDataplane} from '../core/model.js'

/** Where API objects come from: a bundle directory, or (later) the live API server. */
export interface ClusterSource {
  /** Human name for messages (`bundle examples/hello-world`, `context kind-dev`). */
  readonly description: string
  /** Namespace to use when the user gave none. */
  defaultNamespace(): Promise<string>
  load(): Promise<ClusterView>
}

/** Where node data planes come from. One failing node never fails the others. */
export interface NodeReader {
  /** Names of the nodes this reader can reach. */
  nodeNames(): Promise<string[]>
  read(node: string): Promise<NodeDataplane>
}

/** A source error: nothing could be read (exit code 2). */
export class SourceError extends Error {}
