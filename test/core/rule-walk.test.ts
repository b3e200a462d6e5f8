// A node's rule walk, tallied as check mode traces one Service after another, is the one
// ruleWalkOf reads off all its paths at once: the first lookup, the first of the longest walks.
import {describe, expect, it} from 'vitest'
import type {Lookup, TracePath} from '../../src/core/model.js'
import {ruleWalkOf, ruleWalkOfTally, tallyRuleWalk} from '../../src/core/rule-walk.js'

/** A traced path with only what the rule walk reads (`none`: it looked no Service up). */
function path(service: string, rulesPassed: number | undefined, lookup: Lookup | 'none' = 'rules'): TracePath {
  return {
    entry: {address: `${service}:80/TCP`, destination: {ip: '10.96.0.1', port: 80, protocol: 'TCP'}, kind: 'cluster-ip', service},
    from: 'pod',
    ...(lookup !== 'none' ? {lookup} : {}),
    ...(rulesPassed !== undefined ? {rulesPassed} : {}),
  } as TracePath
}

describe('the rule walk tallied Service by Service', () => {
  it.each([
    ['the longest walk of a later Service', [[path('a', 3)], [path('b', 9), path('b', 2)]], {service: 'b', rulesPassed: 9}],
    ['the first of two equally long walks', [[path('a', 7)], [path('b', 7)]], {service: 'a', rulesPassed: 7}],
    ['a walk after Services that looked nothing up', [[path('a', undefined, 'none')], [], [path('c', 4)]], {service: 'c', rulesPassed: 4}],
  ])('keeps %s', (_name, byService, deepest) => {
    const tally = byService.reduce((t, paths) => tallyRuleWalk(t, paths), {})
    const walk = ruleWalkOfTally(tally, 120)
    expect(walk).toEqual(ruleWalkOf(byService.flat(), 120))
    expect(walk?.deepest).toMatchObject(deepest)
    expect(walk?.kubeServicesRules).toBe(120)
  })

  it('takes the lookup of the first path that made one: a map lookup has no walk', () => {
    const tally = [[path('a', undefined, 'none')], [path('b', undefined, 'map')], [path('c', 5)]].reduce((t, paths) => tallyRuleWalk(t, paths), {})
    expect(ruleWalkOfTally(tally, undefined)).toEqual({lookup: 'map'})
  })

  it('is absent when no path looked a Service up', () => {
    expect(ruleWalkOfTally(tallyRuleWalk({}, [path('a', undefined, 'none')]), 10)).toBeUndefined()
  })
})
