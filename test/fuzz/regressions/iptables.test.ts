// Inputs the fuzzer found that broke a property of the iptables indexer, rule parser or tracer,
// kept as fixed examples (each names the property it broke).
import {describe, expect, it} from 'vitest'
import {chainRules, indexIptablesSave} from '../../../src/core/iptables/dump.js'
import {formatRule, parseRuleLine} from '../../../src/core/iptables/rule.js'
import {traceIptables} from '../../../src/core/iptables/trace.js'
import type {TraceRequest} from '../../../src/core/trace/branch.js'
import {MAX_DEPTH} from '../../../src/core/trace/limits.js'

const req: TraceRequest = {
  node: {name: 'node-a', addresses: ['192.168.0.2']},
  destination: {ip: '10.96.0.10', port: 80, protocol: 'TCP'},
  from: 'pod',
  podNetworks: [],
}

/** A nat table: PREROUTING jumps to C0, then the given rules. */
function nat(chains: number, rules: string[]): string {
  return ['*nat', ':PREROUTING ACCEPT [0:0]', ...Array.from({length: chains}, (_, i) => `:C${i} - [0:0]`), '-A PREROUTING -j C0', ...rules, 'COMMIT', ''].join(
    '\n',
  )
}

const kinds = (text: string) => new Set(traceIptables(indexIptablesSave(text, 'dump'), req).notes.map((n) => n.kind))

describe('iptables regressions found by the fuzzer', () => {
  it('chains that each jump twice to the next one (2^40 routes) stop at the path limit instead of walking every route', () => {
    const rules = Array.from({length: 39}, (_, i) => [`-A C${i} -j C${i + 1}`, `-A C${i} -j C${i + 1}`]).flat()
    const text = nat(40, rules)
    const trace = traceIptables(indexIptablesSave(text, 'dump'), req)
    expect(trace.rulesVisited).toBeLessThan(1000)
    expect(trace.notes.map((n) => n.kind)).toContain('path-limit')
  })

  it('a chain that jumps 250 times to a chain of 2000 rules that do not match stops at the visit budget (the work would be 250 × 2000)', () => {
    const jumps = Array.from({length: 250}, () => '-A C0 -j C1')
    const filler = Array.from({length: 2000}, (_, i) => `-A C1 -p udp -m udp --dport ${i} -j DROP`)
    const text = nat(2, [...jumps, ...filler])
    const trace = traceIptables(indexIptablesSave(text, 'dump'), req)
    expect(trace.notes.map((n) => n.kind)).toContain('walk-limit')
    expect(trace.rulesVisited).toBeLessThan(32 * (text.split('\n').length + 4096))
  })

  it.each([
    ['a chain that jumps to itself', nat(1, ['-A C0 -j C0'])],
    ['two chains that jump to each other', nat(2, ['-A C0 -j C1', '-A C1 -g C0'])],
    [
      `a chain of ${MAX_DEPTH + 36} chains, deeper than MAX_DEPTH`,
      nat(
        MAX_DEPTH + 36,
        Array.from({length: MAX_DEPTH + 35}, (_, i) => `-A C${i} -j C${i + 1}`),
      ),
    ],
  ])('%s: the walk stops at the jump and notes a cycle', (_, text) => {
    expect(kinds(text)).toContain('jump-cycle')
  })

  it('a table whose section appears twice keeps all its rules: the second section is traced too', () => {
    // Found as: *filter with KUBE-SEP-A1 declared, COMMIT, then *filter again with the chains re-declared and a rule in OUTPUT.
    const text = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      'COMMIT',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      '-A PREROUTING -j KUBE-SERVICES',
      '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.1.5:8080',
      'COMMIT',
      '',
    ].join('\n')
    const dump = indexIptablesSave(text, 'dump')
    expect(chainRules(dump, 'nat', 'PREROUTING')).toHaveLength(1)
    const trace = traceIptables(dump, req)
    expect(trace.outcomes.map((o) => o.dnat?.ip)).toEqual(['10.244.1.5'])
  })

  it.each(['-0.00000000001', '1.5', '1e400'])('a statistic probability of %s (outside 0…1) is a match svctrace does not understand, not a share', (p) => {
    const r = parseRuleLine(`-A KUBE-SVC-A -m statistic --mode random --probability ${p} -j KUBE-SEP-A1`, 'nat', 1)
    expect('error' in r ? r : r.matches).toEqual([{kind: 'unknown', text: `-m statistic --mode random --probability ${p}`}])
  })
})

describe('iptables rule printing regressions found by the fuzzer', () => {
  it.each([
    ['-A KUBE-SERVICES -m "a b" -j ACCEPT', '-m "a b"'],
    ['-A KUBE-SERVICES -j "a b"', '-j "a b"'],
  ])('%s prints its quoted name quoted, so it reads back as the same rule', (line, printed) => {
    const r = parseRuleLine(line, 'nat', 1)
    if ('error' in r) throw new Error(r.error)
    expect(formatRule(r)).toContain(printed)
    const again = parseRuleLine(formatRule(r), 'nat', 1)
    expect('error' in again ? again : again.matches).toEqual(r.matches)
  })
})

describe('words that name Object.prototype members, found by the fuzzer', () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])('a rule with the word %s is an error sentence, not a TypeError', (word) => {
    const r = parseRuleLine(`-A KUBE-SERVICES ${word} -j ACCEPT`, 'nat', 1)
    expect(r).toEqual({error: `unexpected word "${word}"`})
  })
})
