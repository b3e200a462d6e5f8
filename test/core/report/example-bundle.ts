// The bundled example (examples/hello-world) read once, for core tests that call buildReport on it.
import {BundleDir} from '../../../src/adapters/bundle/reader.js'
import type {ClusterView, NodeDataplane, Query, Report} from '../../../src/core/model.js'
import {buildReport} from '../../../src/core/report.js'
import {example} from '../../support/cli.js'

const bundle = new BundleDir(example)
const {view} = await bundle.load()
const planes: NodeDataplane[] = await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n)))

/** The example's API objects. */
export const exampleView: ClusterView = view

/** The report of a query on the example (or on changed API objects with the example's node dumps), both nodes traced. */
export function exampleReport(query: Query, objects: ClusterView = view): Report {
  return buildReport(query, objects, planes)
}
