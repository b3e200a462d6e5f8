// buildReport end to end: what the typed report says about Services and findings, on builders and
// on the real two-node v1.26 capture.
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {buildReport} from '../../src/core/report.js'
import type {Report} from '../../src/core/model.js'
import {pod, service, slice, view} from '../support/builders.js'

const capture = fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26', import.meta.url))

/** `-A` (or the query given) over the two-node capture, as `--from` reads it. */
async function onCapture(query: Report['query'] = {kind: 'all'}): Promise<Report> {
  const bundle = new BundleDir(capture)
  const {view: cluster} = await bundle.load()
  const nodes = await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n)))
  return buildReport(query, cluster, nodes)
}

describe('ServiceSummary.endpoints', () => {
  it.each([
    ['ready endpoints in a slice with ports', [slice()], {ready: 1, total: 1, portless: 0}],
    ['a ready endpoint in a slice without ports is ready, and portless', [slice({ports: null})], {ready: 1, total: 1, portless: 1}],
    [
      'an unready endpoint without ports is not portless',
      [slice({ports: null, endpoints: [{ip: '10.244.0.5', ready: false}]})],
      {ready: 0, total: 1, portless: 0},
    ],
    ['an address listed with ports in another slice is not portless', [slice({ports: null}), slice({name: 'web-fghij'})], {ready: 1, total: 1, portless: 0}],
  ])('%s', (_name, endpointSlices, expected) => {
    const report = buildReport({kind: 'all'}, view({services: [service()], pods: [pod()], endpointSlices}), [])
    expect(report.services[0]?.endpoints).toEqual(expected)
  })

  it('counts the ready endpoint of storefront/metrics (its slice has no port "prom") as ready and portless', async () => {
    const report = await onCapture()
    const eps = Object.fromEntries(report.services.map((s) => [`${s.namespace}/${s.name}`, s.endpoints]))
    expect(eps['storefront/metrics']).toEqual({ready: 1, total: 1, portless: 1})
    expect(eps['storefront/frontend']).toEqual({ready: 3, total: 3, portless: 0})
  })
})
