// The pod look-ups checks and traces share: each answers as a scan of the list would, from an index
// made once per list.
import {describe, expect, it} from 'vitest'
import type {V1Pod} from '@kubernetes/client-node'
import {podNamed, podsInNamespace, podsMatching, podsOnNode} from '../../src/core/pod-index.js'
import {pod} from '../support/builders.js'

const pods: V1Pod[] = [
  pod({name: 'web-a', namespace: 'shop', labels: {app: 'web', tier: 'front'}, node: 'node-a'}),
  pod({name: 'web-b', namespace: 'shop', labels: {app: 'web', tier: 'back'}, node: 'node-b'}),
  pod({name: 'api-a', namespace: 'shop', labels: {app: 'api', tier: 'front'}, node: 'node-a'}),
  pod({name: 'web-c', namespace: 'other', labels: {app: 'web', tier: 'front'}, node: 'node-a'}),
  pod({name: 'pending', namespace: 'other', labels: {app: 'web'}, phase: 'Pending'}),
]
const names = (list: readonly V1Pod[]) => list.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)

describe('pod look-ups', () => {
  it.each<[Record<string, string>, string | undefined, string[]]>([
    [{app: 'web'}, 'shop', ['shop/web-a', 'shop/web-b']],
    [{app: 'web', tier: 'front'}, 'shop', ['shop/web-a']],
    [{app: 'web', tier: 'front'}, undefined, ['shop/web-a', 'other/web-c']],
    [{tier: 'front'}, 'shop', ['shop/web-a', 'shop/api-a']],
    [{app: 'web', tier: 'middle'}, 'shop', []],
    [{app: 'web'}, 'nowhere', []],
    [{app: 'web'}, undefined, ['shop/web-a', 'shop/web-b', 'other/web-c', 'other/pending']],
  ])('selector %o in %s matches %o, as a scan does', (selector, namespace, want) => {
    expect(names(podsMatching(pods, selector, namespace))).toEqual(want)
    const scan = pods.filter(
      (p) => (namespace === undefined || p.metadata?.namespace === namespace) && Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v),
    )
    expect(podsMatching(pods, selector, namespace)).toEqual(scan)
  })

  it('finds pods by namespace, by name and by node, in list order', () => {
    expect(names(podsInNamespace(pods, 'other'))).toEqual(['other/web-c', 'other/pending'])
    expect(podsInNamespace(pods, 'nowhere')).toEqual([])
    expect(podNamed(pods, 'shop', 'api-a')).toBe(pods[2])
    expect(podNamed(pods, 'other', 'api-a')).toBeUndefined()
    expect(names(podsOnNode(pods, 'node-a'))).toEqual(['shop/web-a', 'shop/api-a', 'other/web-c'])
    expect(podsOnNode(pods, 'node-c')).toEqual([])
  })

  it('indexes each list on its own', () => {
    const more = [...pods, pod({name: 'web-d', namespace: 'shop', labels: {app: 'web'}})]
    expect(podsMatching(more, {app: 'web'}, 'shop')).toHaveLength(3)
    expect(podsMatching(pods, {app: 'web'}, 'shop')).toHaveLength(2)
  })
})
