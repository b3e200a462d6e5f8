// jsonPieces is JSON.stringify(value, null, 2) cut into pieces: joined, the pieces are that string
// byte for byte, at every depth the containers are opened to.
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {jsonPieces} from '../../src/render/json-pieces.js'
import {awkwardValue} from '../support/awkward-values.js'
import {settings} from '../fuzz/support/runs.js'

const joined = (value: unknown, levels: number) => [...jsonPieces(value, levels)].join('')
const LEVELS = [0, 1, 2, 3, 4, 8]

describe('jsonPieces', () => {
  it.each([
    ['empty object', {}],
    ['empty array', []],
    ['empty containers nested', {a: {}, b: [], c: [[], {}], d: {e: {f: []}}}],
    ['undefined-valued keys left out', {a: undefined, b: 1, c: undefined}],
    ['an object whose every key is left out', {a: undefined, b: () => 1, c: Symbol('s'), nested: {x: undefined}}],
    ['undefined, function and symbol elements as null', [undefined, () => 1, Symbol('s'), 2]],
    ['a left-out first key', {a: undefined, b: {c: [1, {d: undefined, e: 'x'}]}}],
    [
      'strings JSON.stringify escapes',
      {s: 'new\nline\rreturn\ttab "quote" back\\slash', c: '\u0000\u0007\u001b[31m\u007f\u009b', u: 'bidi\u202e é 漢字 😀 \ud800 lone'},
    ],
    ['keys that need escaping', {'new\nline': 1, 'quo"te': {'\u001b': [1]}, '': 0}],
    ['numbers JSON.stringify writes as null', {nan: Number.NaN, inf: Number.POSITIVE_INFINITY, negZero: -0, big: 1e21, small: 5e-7}],
    ['toJSON, boxed values and other prototypes', {date: new Date(0), boxed: [new String('s'), new Number(1), new Boolean(false)], map: new Map([[1, 2]])}],
    ['null prototype and null values', Object.assign(Object.create(null) as object, {a: null, b: [null]})],
    ['deep nesting', {a: [{b: [{c: [{d: [{e: [1, 2, {f: 'g'}]}]}]}]}]}],
  ])('%s', (_, value) => {
    for (const levels of LEVELS) expect(joined(value, levels)).toBe(JSON.stringify(value, null, 2))
  })

  it('keeps every piece below the opened levels to one member', () => {
    const paths = Array.from({length: 3}, (_, i) => ({entry: `10.96.0.${i}:80`, hops: [{chain: 'KUBE-SERVICES'}]}))
    const pieces = [...jsonPieces({nodes: [{name: 'node-a', paths}]}, 4)]
    for (const path of paths) expect(pieces).toContain(JSON.stringify(path, null, 2).replaceAll('\n', '\n        '))
  })

  it('any JSON-able value, opened to any depth', () => {
    const value = awkwardValue({withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withSparseArray: true})
    fc.assert(
      fc.property(value, fc.nat(6), (v, levels) => {
        if (typeof v !== 'object' || v === null) return
        expect(joined(v, levels)).toBe(JSON.stringify(v, null, 2))
      }),
      settings(),
    )
  })
})
