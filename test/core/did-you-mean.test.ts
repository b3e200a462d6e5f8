// "Service not found": one hint text for the bundle and the live API; "did you mean" for typed words.
import {describe, expect, it} from 'vitest'
import {closestWords, editDistance, serviceNotFoundMessage} from '../../src/core/did-you-mean.js'

describe('serviceNotFoundMessage', () => {
  it.each([
    [
      'the name in another namespace',
      {namesInNamespace: ['db'], namespacesWithName: ['shop', 'default']},
      undefined,
      'Service "web" not found in namespace "default": a Service named "web" exists in namespace shop (use -n shop).',
    ],
    [
      'similar names here',
      {namesInNamespace: ['web-v2', 'db'], namespacesWithName: []},
      'context kind',
      'Service "web" not found in namespace "default" (context kind): similar names in default: web-v2.',
    ],
    [
      'what the namespace holds',
      {namesInNamespace: ['db1', 'db2', 'db3', 'db4', 'db5', 'db6', 'db7', 'db8', 'db9'], namespacesWithName: []},
      undefined,
      'Service "web" not found in namespace "default": Services in default: db1, db2, db3, db4, db5, db6, db7, db8, ….',
    ],
    [
      'an empty namespace',
      {namesInNamespace: [], namespacesWithName: []},
      undefined,
      'Service "web" not found in namespace "default": namespace default has no Services.',
    ],
  ])('%s', (_what, known, where, want) => {
    expect(serviceNotFoundMessage('default', 'web', known, where)).toBe(want)
  })
})

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['nodes', 'nodes', 0],
    ['nodse', 'nodes', 1], // a swap of neighbours is one step
    ['outptu', 'output', 1],
    ['kitten', 'sitting', 3],
    ['namspace', 'namespace', 1],
    ['ca', 'abc', 3], // optimal string alignment: no edit of a swapped pair
  ])('%s → %s: %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d)
    expect(editDistance(b, a)).toBe(d)
  })
})

describe('closestWords', () => {
  const flags = ['namespace', 'nodes', 'node-selector', 'output', 'all-namespaces', 'all-services', 'ip', 'verbose']
  it.each([
    ['nodse', ['nodes']],
    ['namspace', ['namespace']],
    ['al', ['all-services', 'all-namespaces']], // a prefix of both, nearer first
    ['zzzzzz', []],
    ['OUTPUT', ['output']],
  ])('%s → %j', (typo, want) => {
    expect(closestWords(typo, flags)).toEqual(want)
  })

  it('closest first, at most max', () => {
    expect(closestWords('node', flags, 2)).toEqual(['nodes', 'node-selector'])
  })
})
