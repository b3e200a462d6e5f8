// `iptables -S CHAIN -v` (--counters): the `-c PACKETS BYTES` iptables 1.8 prints before the target
// becomes iptables-save -c's `[PACKETS:BYTES]` prefix, so the dump parser and tracer read counters the
// same way from a listing and from a save. Lines: iptables v1.8.9 (nf_tables) in a network namespace;
// iptables-legacy 1.8.9 prints -c in the same place.
import {describe, expect, it} from 'vitest'
import {formatChainCollection, emptyCollection, parseChainListing, recordChain, withCounterPrefix} from '../../../src/core/iptables/chain-listing.js'
import {chainRules, indexIptablesSave} from '../../../src/core/iptables/dump.js'
import {parseBracketCounters} from '../../../src/core/counters.js'

const LISTED = [
  '-N KUBE-SEP-X',
  '-A KUBE-SEP-X -s 10.0.0.1/32 -m comment --comment "a b" -c 0 0 -j MARK --set-xmark 0x4000/0x4000',
  '-A KUBE-SEP-X -p tcp -m comment --comment "ns/x:p" -m tcp -c 9120 547200 -j DNAT --to-destination 10.0.0.1:80',
].join('\n')

describe('withCounterPrefix', () => {
  it.each([
    [
      '-A KUBE-SEP-X -p tcp -m comment --comment "ns/x:p" -m tcp -c 9120 547200 -j DNAT --to-destination 10.0.0.1:80',
      '[9120:547200] -A KUBE-SEP-X -p tcp -m comment --comment "ns/x:p" -m tcp -j DNAT --to-destination 10.0.0.1:80',
    ],
    ['-A OUTPUT -c 0 0 -j KUBE-SEP-X', '[0:0] -A OUTPUT -j KUBE-SEP-X'],
    ['-A KUBE-MARK-X -m comment --comment "no target" -c 3 180', '[3:180] -A KUBE-MARK-X -m comment --comment "no target"'],
    ['-A KUBE-SEP-X -p tcp -j DNAT --to-destination 10.0.0.1:80', '-A KUBE-SEP-X -p tcp -j DNAT --to-destination 10.0.0.1:80'],
  ])('%s', (listed, saved) => {
    expect(withCounterPrefix(listed)).toBe(saved)
  })
})

describe('a listing with counters, rebuilt as iptables-save text', () => {
  it('keeps each rule counter for the tracer', () => {
    const c = emptyCollection()
    recordChain(c, 'nat', 'KUBE-SEP-X', parseChainListing('nat', 'KUBE-SEP-X', LISTED))
    const dump = indexIptablesSave(formatChainCollection(c), 'listing')
    const rules = chainRules(dump, 'nat', 'KUBE-SEP-X') ?? []
    expect(rules.map((r) => ('error' in r ? r.error : parseBracketCounters(r.counters)))).toEqual([
      {packets: 0, bytes: 0},
      {packets: 9120, bytes: 547200},
    ])
  })
})
