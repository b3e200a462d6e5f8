// Fix commands: built from typed facts, quoted for a POSIX shell, never made from unsafe values.
import {describe, expect, it} from 'vitest'
import {patchServiceCommand, shellQuote} from '../../../src/core/checks/fix-command.js'
import {service} from '../../support/builders.js'

describe('shellQuote', () => {
  it.each([
    ['kubectl', 'kubectl'],
    ['kube-system', 'kube-system'],
    ['{"a":1}', `'{"a":1}'`],
    ['a b', "'a b'"],
    ["it's", `'it'\\''s'`],
    ['$(reboot)', "'$(reboot)'"],
    ['`id`', "'`id`'"],
    ['', "''"],
  ])('%s → %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted)
  })
})

describe('patchServiceCommand', () => {
  it('builds the merge patch of a selector, quoted for the shell', () => {
    const svc = service({name: 'myapp', namespace: 'shop'})
    expect(patchServiceCommand(svc, 'merge', {spec: {selector: {release: 'stable'}}})).toBe(
      `kubectl -n shop patch service myapp --type merge -p '{"spec":{"selector":{"release":"stable"}}}'`,
    )
  })

  it('quotes a single quote inside a value so the shell gets the value back', () => {
    const svc = service({name: 'myapp', namespace: 'shop'})
    expect(patchServiceCommand(svc, 'merge', {spec: {selector: {release: "it's"}}})).toBe(
      `kubectl -n shop patch service myapp --type merge -p '{"spec":{"selector":{"release":"it'\\''s"}}}'`,
    )
  })

  it.each([
    ['a control character in a value', service(), {spec: {selector: {release: 'stable\u001b[2J'}}}],
    ['a control character in a key', service(), {spec: {selector: {'rel\nease': 'stable'}}}],
    ['a C1 control character', service(), {spec: {selector: {release: 'stable\u009b'}}}],
    ['a name kubectl would read as a flag', service({name: '--all'}), {spec: {}}],
    ['a namespace that is no object name', service({namespace: 'shop; rm -rf /'}), {spec: {}}],
  ])('makes no command from %s', (_name, svc, patch) => {
    expect(patchServiceCommand(svc, 'merge', patch)).toBeUndefined()
  })
})
