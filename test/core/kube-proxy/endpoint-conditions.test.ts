// "Usable endpoint", one definition: the EndpointSlice conditions as kube-proxy reads them
// (endpointslicecache.go defaults, topology.go CategorizeEndpoints fallback). The old columns record
// what the five copies this replaced said, so every row where they differed is a stated change.
import type {V1Endpoint, V1EndpointConditions} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {onlyTerminatingEndpoints} from '../../../src/core/checks/only-terminating-endpoints.js'
import {usableEndpointsByNode} from '../../../src/core/checks/endpoint-slices.js'
import {chooseUsable, hasUsableEndpoint, isReady, isServing, isTerminating, isUsable} from '../../../src/core/kube-proxy/endpoint-conditions.js'
import {service, slice} from '../../support/builders.js'
import {first} from '../../support/defined.js'

const ep = (conditions: V1EndpointConditions | undefined, ip = '10.244.0.5'): V1Endpoint => ({addresses: [ip], ...(conditions ? {conditions} : {})})

describe('endpoint conditions as kube-proxy defaults them', () => {
  // conditions | ready | serving | terminating | usable (ready, or serving and terminating)
  it.each([
    ['none at all', undefined, true, true, false, true],
    ['ready', {ready: true, serving: true, terminating: false}, true, true, false, true],
    ['not ready, not terminating', {ready: false, serving: false, terminating: false}, false, false, false, false],
    ['serving while terminating', {ready: false, serving: true, terminating: true}, false, true, true, true],
    ['no longer serving, terminating', {ready: false, serving: false, terminating: true}, false, false, true, false],
    // The rows below are where the old copies disagreed.
    ['terminating, serving not set (kube-proxy: nil serving is true)', {ready: false, terminating: true}, false, true, true, true],
    ['not ready, serving not set, not terminating', {ready: false}, false, true, false, false],
    ['ready not set, not serving', {serving: false}, true, false, false, true],
  ] as Array<[string, V1EndpointConditions | undefined, boolean, boolean, boolean, boolean]>)(
    '%s',
    (_what, conditions, ready, serving, terminating, usable) => {
      const e = ep(conditions)
      expect({ready: isReady(e), serving: isServing(e), terminating: isTerminating(e), usable: isUsable(e)}).toEqual({ready, serving, terminating, usable})
    },
  )
})

describe('chooseUsable: ready ones, else serving-and-terminating ones (CategorizeEndpoints)', () => {
  it.each([
    ['ready ones win over serving terminating ones', [ep({ready: true}, 'a'), ep({ready: false, serving: true, terminating: true}, 'b')], ['a']],
    [
      'without a ready one, the serving terminating ones',
      [ep({ready: false, serving: true, terminating: true}, 'a'), ep({ready: false, serving: false, terminating: true}, 'b'), ep({ready: false}, 'c')],
      ['a'],
    ],
    ['nil serving while terminating counts as serving', [ep({ready: false, terminating: true}, 'a')], ['a']],
    ['nothing usable', [ep({ready: false, serving: false}, 'a')], []],
  ] as Array<[string, V1Endpoint[], string[]]>)('%s', (_what, list, want) => {
    expect(chooseUsable(list).map((e) => e.addresses[0])).toEqual(want)
  })
})

describe('hasUsableEndpoint: what kube-proxy calls "has endpoints"', () => {
  it.each([
    ['a ready endpoint', [slice()], true],
    ['only a serving terminating endpoint', [slice({endpoints: [{ip: '10.244.0.5', terminating: true, serving: true}]})], true],
    ['only an endpoint neither ready nor serving', [slice({endpoints: [{ip: '10.244.0.5', ready: false}]})], false],
    ['a slice without ports (no port resolved)', [slice({ports: null})], false],
    ['an FQDN slice, which kube-proxy skips (was: counted)', [slice({addressType: 'FQDN'})], false],
    ['a slice port without a number, which kube-proxy skips (was: counted)', [slice({ports: [{name: 'http', port: 0}]})], false],
  ] as const)('%s → %s', (_what, slices, want) => {
    expect(hasUsableEndpoint([...slices])).toBe(want)
  })
})

describe('the checks read the one definition', () => {
  const terminatingNoServing = {
    addresses: ['10.244.0.5'],
    nodeName: 'node-a',
    conditions: {ready: false, terminating: true},
    targetRef: {kind: 'Pod', name: 'web-1', namespace: 'default'},
  }

  it('only-terminating-endpoints: an endpoint with no serving condition still serves (was: "no longer serving")', () => {
    const s = {...slice(), endpoints: [terminatingNoServing]}
    const f = first(onlyTerminatingEndpoints(service(), {slices: [s]}), 'finding')
    expect(f.message).toBe('all 1 endpoint of Service default/web are terminating: kube-proxy uses the one still serving (web-1 (10.244.0.5)) until it stops')
    expect(f.evidence).toEqual(['web-1 (10.244.0.5) on node-a: terminating, still serving'])
  })

  it('Local policies: a node counts such an endpoint as local (was: no local endpoint)', () => {
    const s = {...slice(), endpoints: [terminatingNoServing]}
    expect([...usableEndpointsByNode([s], [])].map(([n, eps]) => [n, eps.length])).toEqual([['node-a', 1]])
  })

  it('Local policies: a node with a ready endpoint lists only that one, as kube-proxy uses only it (was: both)', () => {
    const s = slice({
      endpoints: [
        {ip: '10.244.0.5', node: 'node-a'},
        {ip: '10.244.0.6', node: 'node-a', terminating: true, serving: true},
        {ip: '10.244.1.7', node: 'node-b', terminating: true, serving: true},
      ],
    })
    expect([...usableEndpointsByNode([s], [])].map(([n, eps]) => [n, eps.map((e) => e.addresses[0])])).toEqual([
      ['node-a', ['10.244.0.5']],
      ['node-b', ['10.244.1.7']],
    ])
  })
})
