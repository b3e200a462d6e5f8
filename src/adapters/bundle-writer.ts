// --capture DIR: writes what a run read as a bundle that --from DIR reads back.
import {mkdir, readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import yaml from 'js-yaml'
import {SourceError} from '../app/ports.js'
import type {ClusterView, NodeDataplane} from '../core/model.js'

/** Plain JSON values (client-node objects hold Dates): what `kubectl get -o yaml` would print. */
function plain(o: unknown): unknown {
  return JSON.parse(JSON.stringify(o))
}

/** Writes DIR/cluster.yaml, DIR/nodes/NODE/*, DIR/meta.yaml; refuses to mix into an existing bundle. */
export async function writeBundle(dir: string, view: ClusterView, dataplanes: NodeDataplane[], meta: Record<string, unknown>): Promise<void> {
  try {
    if ((await readdir(dir)).length > 0) throw new SourceError(`--capture ${dir}: the directory is not empty; choose a new or empty one`)
  } catch (err) {
    if (err instanceof SourceError) throw err
  }
  await mkdir(path.join(dir, 'nodes'), {recursive: true})
  const items = [...view.services, ...view.endpointSlices, ...view.endpoints, ...view.pods, ...view.nodes]
  const list = {apiVersion: 'v1', kind: 'List', metadata: {resourceVersion: ''}, items: items.map(plain)}
  await writeFile(path.join(dir, 'cluster.yaml'), yaml.dump(list, {noRefs: true, lineWidth: -1}))
  for (const dp of dataplanes) {
    if (dp.iptablesSave === undefined) continue
    await mkdir(path.join(dir, 'nodes', dp.name), {recursive: true})
    await writeFile(path.join(dir, 'nodes', dp.name, 'iptables-save.txt'), dp.iptablesSave)
  }
  await writeFile(path.join(dir, 'meta.yaml'), yaml.dump(meta))
}
