// "Service not found": one hint text for the bundle and the live API.
import {describe, expect, it} from 'vitest'
import {serviceNotFoundMessage} from '../../src/core/did-you-mean.js'

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
