import {describe, expect, it} from 'vitest'
import {catalog} from '../../../src/core/checks/catalog.js'
import {selectorMatchesNoPods} from '../../../src/core/checks/selector-matches-no-pods.js'
import {editDistance} from '../../../src/core/checks/selector.js'
import {pod, service} from '../../support/builders.js'
import {first} from '../../support/defined.js'

const cachePods = [
  pod({name: 'cache-0', labels: {app: 'cache', tier: 'backend'}, owner: {kind: 'StatefulSet', name: 'cache'}}),
  pod({name: 'cache-1', labels: {app: 'cache', tier: 'backend'}, owner: {kind: 'StatefulSet', name: 'cache'}}),
  pod({name: 'web-6d4cf56db6-7xkqz', labels: {app: 'web', tier: 'frontend'}}),
]

describe('selector-matches-no-pods', () => {
  it('reports, per selector key, how many pods match the rest and the value one edit away', () => {
    const f = first(selectorMatchesNoPods(service({name: 'cache', selector: {app: 'cache', tier: 'backnd'}}), {pods: cachePods}), 'finding')
    expect(f).toMatchObject({
      id: 'selector-matches-no-pods',
      severity: 'error',
      service: 'default/cache',
      message: 'selector app=cache,tier=backnd of Service default/cache matches no pod',
    })
    expect(f.evidence).toEqual([
      'ignoring app=cache: no pod matches the rest (tier=backnd)',
      'ignoring tier=backnd: 2 pods match the rest (app=cache)',
      'tier=backend (1 edit from backnd: a typo?) on 2 pods: cache-0, cache-1',
    ])
  })

  it('shows the values of pods that match the rest even when no value is close', () => {
    const f = first(selectorMatchesNoPods(service({selector: {app: 'cache', tier: 'db'}}), {pods: cachePods}), 'finding')
    expect(f.evidence).toContain('tier=backend on 2 pods: cache-0, cache-1')
  })

  it('finds a label key one edit away, and pods lacking the key', () => {
    const pods = [pod({name: 'a-0', labels: {app: 'a', teir: 'web'}}), pod({name: 'a-1', labels: {app: 'a'}})]
    const f = first(selectorMatchesNoPods(service({selector: {app: 'a', tier: 'web'}}), {pods}), 'finding')
    expect(f.evidence).toEqual([
      'ignoring app=a: no pod matches the rest (tier=web)',
      'ignoring tier=web: 2 pods match the rest (app=a)',
      'no tier label but teir=web (the key is 1 edit from tier: a typo?) on 1 pod: a-0',
      'no tier label on 1 pod: a-1',
    ])
  })

  it('with a one-key selector lists only the typos, not every app of the namespace', () => {
    const pods = [pod({name: 'api-1', labels: {app: 'api'}}), pod({name: 'fronted-1', labels: {app: 'fronted'}})]
    const f = first(selectorMatchesNoPods(service({selector: {app: 'frontend'}}), {pods}), 'finding')
    expect(f.evidence).toEqual([
      'ignoring app=frontend: 2 pods match the rest (the selector has no other label)',
      'app=fronted (1 edit from frontend: a typo?) on 1 pod: fronted-1',
    ])
  })

  it('points at pods in another namespace that match the whole selector', () => {
    const f = first(selectorMatchesNoPods(service({namespace: 'shop'}), {pods: [pod({namespace: 'default'})]}), 'finding')
    expect(f.evidence).toContain(
      '1 pod in other namespaces match the whole selector, but a Service selects only in its own (shop): default/web-6d4cf56db6-7xkqz',
    )
    expect(f.evidence).toContain('namespace shop has no pods at all')
  })

  it.each([
    ['a selector that matches', service(), [pod()]],
    ['no selector', service({selector: null}), []],
    ['an ExternalName', service({type: 'ExternalName', selector: {app: 'x'}}), []],
  ])('stays quiet for %s', (_name, svc, pods) => {
    expect(selectorMatchesNoPods(svc, {pods})).toEqual([])
  })
})

describe('selector-matches-no-pods: the fix command', () => {
  it('patches the one value that is a typo', () => {
    const svc = service({name: 'cache', selector: {app: 'cache', tier: 'backnd'}})
    expect(first(selectorMatchesNoPods(svc, {pods: cachePods}), 'finding').fix).toEqual({
      text: catalog['selector-matches-no-pods'].fix,
      command: `kubectl -n default patch service cache --type merge -p '{"spec":{"selector":{"tier":"backend"}}}'`,
    })
  })

  it.each([
    ['the pods matching the rest carry two values', [...cachePods, pod({name: 'cache-2', labels: {app: 'cache', tier: 'backand'}})]],
    ['no value is a typo', cachePods.map((p) => ({...p, metadata: {...p.metadata, labels: {app: 'cache', tier: 'storage'}}}))],
  ])('gives no command when %s', (_name, pods) => {
    const svc = service({name: 'cache', selector: {app: 'cache', tier: 'backnd'}})
    const f = first(selectorMatchesNoPods(svc, {pods}), 'finding')
    expect(f.fix).toEqual({text: catalog['selector-matches-no-pods'].fix})
  })

  it('gives no command when two keys each have a typo candidate', () => {
    const pods = [pod({name: 'a', labels: {app: 'cach', tier: 'backnd'}}), pod({name: 'b', labels: {app: 'cache', tier: 'backend'}})]
    const svc = service({name: 'cache', selector: {app: 'cache', tier: 'backnd'}})
    expect(first(selectorMatchesNoPods(svc, {pods}), 'finding').fix?.command).toBeUndefined()
  })
})

describe('editDistance', () => {
  it.each([
    ['cache', 'cache', 0],
    ['backnd', 'backend', 1],
    ['cahce', 'cache', 1],
    ['stabel', 'stable', 1],
    ['web', 'api', 3],
    ['', 'abc', 3],
  ])('%s → %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d)
  })
})
