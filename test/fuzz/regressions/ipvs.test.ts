// Inputs the fuzzer found that broke a property of the IPVS parsers, kept as fixed examples.
import {describe, expect, it} from 'vitest'
import {DumpError} from '../../../src/core/iptables/dump.js'
import {parseIpvsTable} from '../../../src/core/ipvs/ipvsadm.js'

describe('IPVS regressions found by the fuzzer', () => {
  it.each([
    [
      '/proc/net/ip_vs',
      'TCP  0A60000A:0050 rr \n  -> 0AF40105:1F90      Masq    -1      0          0\n',
      /ipvs\.txt:2: expected "-> HEXADDR:PORT Forward Weight/,
    ],
    ['ipvsadm -Ln', 'TCP  10.96.0.10:80 rr\n  -> 10.244.1.5:8080      Masq    -1      0          0\n', /ipvs\.txt:2: expected "-> RIP:PORT Forward Weight/],
  ])('a negative weight in %s is an error naming the line, not a real server that silently gets no traffic', (_, text, message) => {
    expect(() => parseIpvsTable(text, 'ipvs.txt')).toThrow(DumpError)
    expect(() => parseIpvsTable(text, 'ipvs.txt')).toThrow(message)
  })

  it('a bad --weight (long option) is quoted in the error, not "undefined"', () => {
    const text = '-A -t 10.96.0.10:80 -s rr\n-a -t 10.96.0.10:80 -r 10.244.1.5:8080 -m --weight heavy\n'
    expect(() => parseIpvsTable(text, 'ipvs.txt')).toThrow('ipvs.txt:2: weight "heavy" is not a number')
  })
})

describe('IPVS words that name Object.prototype members', () => {
  it.each([
    ['ipvsadm -Sn', '-A constructor 10.96.0.10:80 -s rr\n', /ipvs\.txt:1: .* names no service/],
    ['ipvsadm -Ln', 'constructor  10.96.0.10:80 rr\n', /ipvs\.txt:1: expected "TCP\|UDP\|SCTP\|FWM VIP:PORT SCHEDULER/],
  ])('%s: a protocol word "constructor" is an error naming the line', (_, text, message) => {
    expect(() => parseIpvsTable(text, 'ipvs.txt')).toThrow(message)
  })

  it('a real-server option "toString" is not taken for a forwarding method', () => {
    const t = parseIpvsTable('-A -t 10.96.0.10:80 -s rr\n-a -t 10.96.0.10:80 -r 10.244.1.5:8080 toString -w 1\n', 'ipvs.txt')
    expect(t.services[0]?.realServers[0]?.forward).toBe('route')
  })
})
