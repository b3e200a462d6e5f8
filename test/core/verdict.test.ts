// The one-line verdict is counted from the traced paths and the findings of the example bundle.
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {runTrace} from '../../src/app/run-trace.js'
import type {Query} from '../../src/core/model.js'
import {withoutFindings} from '../../src/core/verdict.js'
import {example} from '../support/cli.js'

const bundle = new BundleDir(example)
const report = async (query: Query, ignore: string[] = []) =>
  (await runTrace({query, nodes: [], failOn: 'error', ignore}, {cluster: bundle, reader: bundle})).report
const service = (name: string): Query => ({kind: 'service', service: name, namespace: 'default'})

describe('serviceVerdict', () => {
  it('a healthy Service: every entry point on every node reaches every ready pod evenly', async () => {
    const [s] = (await report(service('hello-world'))).services
    expect(s?.verdict).toEqual({status: 'ok', entries: 4, nodes: 2, outcomes: {dnat: 10}, reached: 3, ready: 3, reachedPods: true, evenShare: 1 / 3})
  })

  it('a Service whose selector matches nothing is broken, and says so with the worst finding', async () => {
    const [s] = (await report(service('hello-cache'))).services
    expect(s?.verdict.status).toBe('broken')
    expect(s?.verdict.cause?.id).toBe('selector-matches-no-pods')
    expect(s?.verdict.outcomes).toEqual({reject: 4})
    expect(s?.verdict.reached).toBe(0)
  })

  it('--ignore judges again without the ignored findings', async () => {
    const [s] = (await report(service('hello-cache'), ['selector-matches-no-pods', 'service-rejected-no-endpoints'])).services
    expect(s?.verdict.status).toBe('ok')
    expect(s?.verdict.cause).toBeUndefined()
  })

  it('a Service of two ports counts each pod reached once, as the ready endpoints are counted', async () => {
    const capture = new BundleDir(fileURLToPath(new URL('../fixtures/two-node-iptables-v1.26', import.meta.url)))
    const query: Query = {kind: 'service', service: 'frontend', namespace: 'storefront'}
    const [s] = (await runTrace({query, nodes: [], failOn: 'error', ignore: []}, {cluster: capture, reader: capture})).report.services
    expect(s?.ports.map((p) => p.port)).toEqual([80, 443])
    expect(s?.verdict).toMatchObject({reached: 3, ready: 3, reachedPods: true})
  })

  it('withoutFindings with no ids is the same report', async () => {
    const r = await report(service('hello-cache'))
    expect(withoutFindings(r, new Set())).toBe(r)
  })
})
