import {describe, expect, it} from 'vitest'
import {shellLines} from '../../src/render/findings.js'

describe('shellLines', () => {
  const command = `kubectl -n default patch service hello-cache --type merge -p '{"spec":{"selector":{"tier":"cache"}}}'`

  it('keeps a command that fits on one line', () => {
    expect(shellLines(command, '  ', 200)).toEqual([`  ${command}`])
  })

  it('breaks between words outside quotes, each break ending in a backslash, so it pastes as one command', () => {
    const lines = shellLines(command, '  ', 70)
    expect(lines).toEqual(['  kubectl -n default patch service hello-cache --type merge -p \\', `      '{"spec":{"selector":{"tier":"cache"}}}'`])
    expect(lines.map((l) => l.trim().replace(/ \\$/, '')).join(' ')).toBe(command)
  })

  it('never breaks inside a quoted word that holds spaces', () => {
    const lines = shellLines(`echo 'a b c d e f' x`, '', 12)
    expect(lines).toEqual([`echo \\`, `    'a b c d e f' \\`, '    x'])
  })
})
