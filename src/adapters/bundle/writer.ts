// --capture DIR: writes what a run read as a bundle that --from DIR reads back.
import {mkdir, readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import yaml from 'js-yaml'
import {SourceError, type CaptureMeta, type CaptureSink} from '../../app/ports.js'
import type {ClusterView, NodeDataplane} from '../../core/model.js'
import {CLUSTER_FILES, META_FILE, NODE_CAPTURES, NODES_DIR, OTHER_BACKEND_FILES, READ_ERROR_FILE} from './layout.js'

/** Plain JSON values (client-node objects hold Dates): what `kubectl get -o yaml` would print. */
function plain(o: unknown): unknown {
  return JSON.parse(JSON.stringify(o))
}

/**
 * A node's files in the bundle layout (layout.ts): one per capture it holds, plus the other iptables
 * backend's count; a node that could not be read is its read-error.txt alone.
 */
export function nodeFiles(dp: NodeDataplane): Array<[string, string]> {
  if (dp.readError !== undefined) return [[READ_ERROR_FILE, `${dp.readError}\n`]]
  const out: Array<[string, string]> = []
  for (const c of NODE_CAPTURES) {
    const w = c.write(dp)
    if (w) out.push([w.file, w.text])
  }
  if (dp.otherIptablesBackend) out.push([OTHER_BACKEND_FILES.count, `${JSON.stringify(dp.otherIptablesBackend, null, 2)}\n`])
  return out
}

/** Writes DIR/cluster.yaml, DIR/nodes/NODE/* (failed nodes included), DIR/meta.yaml; refuses to mix into an existing bundle. */
export async function writeBundle(dir: string, view: ClusterView, dataplanes: NodeDataplane[], meta: Record<string, unknown>): Promise<void> {
  try {
    if ((await readdir(dir)).length > 0) throw new SourceError(`--capture ${dir}: the directory is not empty; choose a new or empty one`)
  } catch (err) {
    if (err instanceof SourceError) throw err
  }
  await mkdir(path.join(dir, NODES_DIR), {recursive: true})
  const kubeProxy = [view.kubeProxy?.configMap, view.kubeProxy?.daemonSet].filter((o) => o !== undefined)
  const items = [...view.services, ...view.endpointSlices, ...view.endpoints, ...view.pods, ...view.nodes, ...kubeProxy]
  const list = {apiVersion: 'v1', kind: 'List', metadata: {resourceVersion: ''}, items: items.map(plain)}
  await writeFile(path.join(dir, CLUSTER_FILES[0]), yaml.dump(list, {noRefs: true, lineWidth: -1}))
  for (const dp of dataplanes) {
    const files = nodeFiles(dp)
    if (files.length === 0) continue
    await mkdir(path.join(dir, NODES_DIR, dp.name), {recursive: true})
    for (const [name, text] of files) await writeFile(path.join(dir, NODES_DIR, dp.name, name), text)
  }
  await writeFile(path.join(dir, META_FILE), yaml.dump(meta))
}

/** --capture DIR: the app's CaptureSink over a bundle directory. */
export class BundleWriter implements CaptureSink {
  constructor(readonly dir: string) {}

  async write(view: ClusterView, dataplanes: NodeDataplane[], meta: CaptureMeta): Promise<void> {
    await writeBundle(this.dir, view, dataplanes, {...meta})
  }
}
