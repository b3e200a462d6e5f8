// The backends table of an API-only run: one row per endpoint, conditions as kube-proxy reads them.
import type {V1Endpoints, V1EndpointSlice} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {apiBackends, type ApiBackend} from '../../src/core/api-backends.js'
import {indexCluster} from '../../src/core/cluster-index.js'
import {endpoints, service, slice, view} from '../support/builders.js'

const rowsOf = (slices: V1EndpointSlice[], eps: V1Endpoints[] = []) =>
  apiBackends(indexCluster(view({services: [service()], endpointSlices: slices, endpoints: eps})), service())

const short = (b: ApiBackend) =>
  `${b.pod ?? '-'} ${b.ip} ${b.node ?? '-'} ${
    Object.entries(b.conditions)
      .filter(([, v]) => v)
      .map(([k]) => k)
      .join('+') || 'none'
  } ${b.listedIn.kind}`

describe('apiBackends', () => {
  it.each([
    [
      'slices: every endpoint, by IP, conditions defaulted as kube-proxy does',
      [
        slice({
          endpoints: [
            {ip: '10.244.1.7', node: 'node-b', pod: 'web-b'},
            {ip: '10.244.0.5', node: 'node-a', pod: 'web-a', terminating: true, serving: true},
            {ip: '10.244.0.9', pod: null, ready: false, serving: false},
          ],
        }),
      ],
      [],
      [
        'default/web-a 10.244.0.5 node-a serving+terminating EndpointSlice',
        '- 10.244.0.9 - none EndpointSlice',
        'default/web-b 10.244.1.7 node-b ready+serving EndpointSlice',
      ],
    ],
    ['FQDN slices are not read (kube-proxy skips them)', [slice({addressType: 'FQDN', endpoints: [{ip: 'db.example.com'}]})], [], []],
    [
      'no slice: the Endpoints object, ready addresses and not ready ones (serving, as kube-proxy reads their mirrored slices)',
      [],
      [
        {
          ...endpoints(),
          subsets: [{addresses: [{ip: '10.0.0.1'}], notReadyAddresses: [{ip: '10.0.0.2', targetRef: {kind: 'Pod', name: 'web-x', namespace: 'default'}}]}],
        },
      ],
      ['- 10.0.0.1 - ready+serving Endpoints', 'default/web-x 10.0.0.2 - serving Endpoints'],
    ],
    ['a slice exists: the Endpoints object is not read', [slice({endpoints: []})], [endpoints()], []],
  ] as Array<[string, V1EndpointSlice[], V1Endpoints[], string[]]>)('%s', (_what, slices, eps, want) => {
    expect(rowsOf(slices, eps).map(short)).toEqual(want)
  })

  it('carries the slice ports, the zone and the zone hints', () => {
    const s = slice({
      ports: [
        {name: 'http', port: 8080},
        {name: 'dns', port: 53, protocol: 'UDP'},
      ],
    })
    const [ep] = s.endpoints ?? []
    if (ep) Object.assign(ep, {zone: 'zone-a', hints: {forZones: [{name: 'zone-a'}, {name: 'zone-b'}]}})
    expect(rowsOf([s])).toEqual([
      {
        pod: 'default/web-6d4cf56db6-7xkqz',
        ip: '10.244.0.5',
        node: 'node-a',
        conditions: {ready: true, serving: true, terminating: false},
        ports: [
          {name: 'http', port: 8080, protocol: 'TCP'},
          {name: 'dns', port: 53, protocol: 'UDP'},
        ],
        zone: 'zone-a',
        zoneHints: ['zone-a', 'zone-b'],
        listedIn: {kind: 'EndpointSlice', name: 'web-abcde'},
      },
    ])
  })

  it('rows with the same conditions share one frozen value, and rows without hints one empty list', () => {
    const rows = rowsOf([
      slice({
        endpoints: [
          {ip: '10.244.0.1', pod: 'a'},
          {ip: '10.244.0.2', pod: 'b'},
          {ip: '10.244.0.3', pod: 'c', ready: false, serving: true, terminating: true},
        ],
      }),
    ])
    const [a, b, c] = rows
    expect(a?.conditions).toEqual({ready: true, serving: true, terminating: false})
    expect(b?.conditions).toBe(a?.conditions)
    expect(c?.conditions).toEqual({ready: false, serving: true, terminating: true})
    expect(Object.isFrozen(a?.conditions)).toBe(true)
    expect(b?.zoneHints).toEqual([])
    expect(b?.zoneHints).toBe(a?.zoneHints)
    expect(Object.isFrozen(a?.zoneHints)).toBe(true)
  })
})
