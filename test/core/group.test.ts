// addTo: grouping by key in insertion order, each list appended to in place.
import {describe, expect, it} from 'vitest'
import {addTo} from '../../src/core/group.js'

describe('addTo', () => {
  it.each([
    ['no values', [], []],
    [
      'one key',
      [
        ['a', 1],
        ['a', 2],
        ['a', 3],
      ],
      [['a', [1, 2, 3]]],
    ],
    [
      'keys in the order first seen, values in the order added',
      [
        ['b', 1],
        ['a', 2],
        ['b', 3],
        ['c', 4],
        ['a', 5],
      ],
      [
        ['b', [1, 3]],
        ['a', [2, 5]],
        ['c', [4]],
      ],
    ],
  ] as Array<[string, Array<[string, number]>, Array<[string, number[]]>]>)('%s', (_what, values, grouped) => {
    const map = new Map<string, number[]>()
    for (const [k, v] of values) addTo(map, k, v)
    expect([...map]).toEqual(grouped)
  })

  it('appends to the list already in the map (the same array, not a copy)', () => {
    const list = [1]
    const map = new Map([['a', list]])
    addTo(map, 'a', 2)
    expect(map.get('a')).toBe(list)
    expect(list).toEqual([1, 2])
  })
})
