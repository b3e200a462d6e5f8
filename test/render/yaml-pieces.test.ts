// yamlPieces is yaml.dump(value, {noRefs: true, lineWidth: -1}) cut into pieces: joined, the pieces
// are that string byte for byte, at every depth the containers are opened to.
import fc from 'fast-check'
import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {yamlPieces} from '../../src/render/yaml-pieces.js'
import {awkwardValue} from '../support/awkward-values.js'
import {settings} from '../fuzz/support/runs.js'

const dumped = (value: unknown) => yaml.dump(value, {noRefs: true, lineWidth: -1})
const joined = (value: unknown, levels: number) => [...yamlPieces(value, levels)].join('')
const LEVELS = [0, 1, 2, 3, 4, 8]

describe('yamlPieces', () => {
  it.each([
    ['empty object', {}],
    ['empty array', []],
    ['empty containers nested', {a: {}, b: [], c: [[], {}], d: {e: {f: []}}}],
    ['undefined-valued keys left out', {a: undefined, b: 1, c: undefined}],
    ['a mapping whose every value is left out is {}', {a: {x: undefined}, b: [{y: undefined}], c: 1}],
    ['undefined elements as null', [undefined, 2, [undefined]]],
    ['sequences of sequences (- - a)', {a: [[1, [2, 3]], [[]], [{b: [[4]]}]], top: [[['x']]]}],
    ['a mapping in a sequence starts on the dash line', {nodes: [{name: 'node-a', paths: [{entry: 'x', hops: [{chain: 'KUBE-SERVICES', line: 3}]}]}]}],
    ['multi-line strings as literal blocks, with empty and blank lines', {s: 'one\n\ntwo\n  three\n', nested: [{t: 'a\n\n  \nb'}, ' lead\nspace', ['x\ny']]}],
    [
      'strings js-yaml quotes',
      {c: '\u0000\u0007\u001b[31m\u007f\u009b', u: 'bidi\u202e é 漢字 😀', y: ['yes', 'null', '1.0', '- x', ': y', '#z', "it's", '"q"', '', ' ']},
    ],
    ['keys js-yaml quotes', {'new\nline': 1, 'quo"te': {'\u001b': [1]}, '': 0, '- dash': {'? q': 'v'}}],
    ['a key too long for an implicit pair', {k: {['k'.repeat(2000)]: [1, 2]}}],
    ['numbers', {nan: Number.NaN, inf: Number.POSITIVE_INFINITY, negZero: -0, big: 1e21, small: 5e-7}],
    ['null prototype and null values', Object.assign(Object.create(null) as object, {a: null, b: [null]})],
    ['deep nesting', {a: [{b: [{c: [{d: [{e: [1, 2, {f: 'g'}]}]}]}]}]}],
  ])('%s', (_, value) => {
    for (const levels of LEVELS) expect(joined(value, levels)).toBe(dumped(value))
  })

  it('any YAML-able value, opened to any depth', () => {
    const value = awkwardValue({withNullPrototype: true})
    fc.assert(
      fc.property(value, fc.nat(6), (v, levels) => {
        expect(joined(v, levels)).toBe(dumped(v))
      }),
      settings(),
    )
  })
})
