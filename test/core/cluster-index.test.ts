import {describe, expect, it} from 'vitest'
import {endpointsByAddress, indexCluster} from '../../src/core/cluster-index.js'
import type {ClusterView} from '../../src/core/model.js'
import {service, slice} from '../support/builders.js'

// Forty Services, each with one slice of two endpoints of its own (10.244.N.1 and .2).
const names = Array.from({length: 40}, (_, i) => `web-${i}`)
const view: ClusterView = {
  services: names.map((name, i) => service({name, clusterIP: `10.96.1.${i + 1}`})),
  endpointSlices: names.map((name, i) =>
    slice({
      service: name,
      name: `${name}-abcde`,
      endpoints: [
        {ip: `10.244.${i}.1`, node: 'node-a', pod: `${name}-1`},
        {ip: `10.244.${i}.2`, node: 'node-a', pod: `${name}-2`},
      ],
    }),
  ),
  endpoints: [],
  pods: [],
  nodes: [],
}

const addressesOf = (m: ReadonlyMap<string, unknown>) => [...m.keys()].sort()

describe('endpointsByAddress', () => {
  it('gives each Service its own endpoints, in any order of asking and after many other Services', () => {
    const idx = indexCluster(view)
    // Every Service, then every Service again backwards (past what the recent maps keep), then one twice.
    const order = [...names.keys(), ...[...names.keys()].reverse(), 7, 7]
    for (const i of order) {
      expect(addressesOf(endpointsByAddress(idx, `default/web-${i}`))).toEqual([`10.244.${i}.1`, `10.244.${i}.2`])
    }
  })

  it('gives the same map while a Service is being traced', () => {
    const idx = indexCluster(view)
    const first = endpointsByAddress(idx, 'default/web-3')
    endpointsByAddress(idx, 'default/web-4')
    expect(endpointsByAddress(idx, 'default/web-3')).toBe(first)
  })

  it('gives no endpoint for a Service without slices', () => {
    expect(endpointsByAddress(indexCluster(view), 'default/none').size).toBe(0)
  })
})
