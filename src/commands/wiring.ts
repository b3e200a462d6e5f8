// The composition root: turns where-to-read flags into the adapters behind the app's ports.
import {BundleDir} from '../adapters/bundle-dir.js'
import {SourceError, type ClusterSource, type NodeReader} from '../app/ports.js'
import type {NodeDataplane} from '../core/model.js'

export interface SourceFlags {
  from?: string
  kubeconfig?: string
  context?: string
  namespace?: string
  requestTimeoutMs: number
}

/** Reads no node: API-only checks. */
class NoNodes implements NodeReader {
  async nodeNames(): Promise<string[]> {
    return []
  }

  async read(node: string): Promise<NodeDataplane> {
    return {name: node, readError: 'nodes are not read in this mode'}
  }
}

/** A bundle directory, or the live cluster of the kubeconfig context (loaded only then: client-node is heavy). */
export async function openSources(flags: SourceFlags): Promise<{cluster: ClusterSource; reader: NodeReader}> {
  if (flags.from) {
    if (flags.kubeconfig || flags.context) throw new SourceError('--from reads a bundle; --kubeconfig and --context are for a live cluster: give one or the other')
    const bundle = new BundleDir(flags.from)
    return {cluster: bundle, reader: bundle}
  }
  const [{loadKubeconfig}, {KubeApiSource}] = await Promise.all([import('../adapters/kubeconfig.js'), import('../adapters/kube-api.js')])
  const loaded = await loadKubeconfig({kubeconfig: flags.kubeconfig, context: flags.context, namespace: flags.namespace, env: process.env})
  return {cluster: new KubeApiSource(loaded, flags.requestTimeoutMs), reader: new NoNodes()}
}
