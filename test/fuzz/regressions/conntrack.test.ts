// Inputs the fuzzer found that broke a property of the conntrack -L parser, kept as fixed examples.
import {describe, expect, it} from 'vitest'
import {parseConntrack} from '../../../src/core/conntrack/parse.js'

describe('conntrack regressions found by the fuzzer', () => {
  it.each([
    ['reply', 'tcp      6 0 src=0.0.0.0 dst=fd00::10 sport=0 dport=0 src=0.0.0.0 dst=0.0.0.0 sport=65536 dport=0 mark=0 use=1'],
    ['original', 'udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=1 dport=70000 src=10.244.2.7 dst=10.244.1.5 sport=53 dport=1 mark=0 use=1'],
  ])('a port over 65535 in the %s tuple is a line kept unread, with why, not an entry', (_, line) => {
    const table = parseConntrack(`${line}\n`, 'conntrack.txt')
    expect(table.entries).toEqual([])
    expect(table.unread).toEqual([{line: 1, text: line, reason: expect.stringMatching(/port is over 65535/)}])
  })

  it('65535 itself is a port', () => {
    const line = 'udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=65535 dport=53 src=10.244.2.7 dst=10.244.1.5 sport=53 dport=65535 mark=0 use=1'
    expect(parseConntrack(line, 'conntrack.txt').entries.map((e) => e.original.sport)).toEqual([65535])
  })
})
