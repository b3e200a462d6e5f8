// nft counters (`counter packets N bytes M` in a listing, {"counter": {"packets", "bytes"}} in JSON) are
// read as typed values, and a backend's counters are those of the rule that DNATs to it. The texts are
// what nft 1.0.6 printed for a rule loaded with `counter packets 9120 bytes 547200` in a network namespace.
import {describe, expect, it} from 'vitest'
import {parseNft} from '../../../src/core/nftables/parse.js'
import type {Statement} from '../../../src/core/nftables/model.js'

const TEXT = `table ip kube-proxy {
	chain endpoint-A {
		ip saddr 10.244.1.10 jump mark-for-masquerade
		meta l4proto tcp counter packets 9120 bytes 547200 dnat to 10.244.1.10:8080
	}

	chain mark-for-masquerade {
		meta mark set meta mark | 0x00004000
	}
}
`
const JSON_TEXT = JSON.stringify({
  nftables: [
    {metainfo: {version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1}},
    {table: {family: 'ip', name: 'kube-proxy', handle: 1}},
    {chain: {family: 'ip', table: 'kube-proxy', name: 'endpoint-A', handle: 1}},
    {chain: {family: 'ip', table: 'kube-proxy', name: 'mark-for-masquerade', handle: 2}},
    {
      rule: {
        family: 'ip',
        table: 'kube-proxy',
        chain: 'endpoint-A',
        handle: 3,
        expr: [{match: {op: '==', left: {payload: {protocol: 'ip', field: 'saddr'}}, right: '10.244.1.10'}}, {jump: {target: 'mark-for-masquerade'}}],
      },
    },
    {
      rule: {
        family: 'ip',
        table: 'kube-proxy',
        chain: 'endpoint-A',
        handle: 4,
        expr: [
          {match: {op: '==', left: {meta: {key: 'l4proto'}}, right: 'tcp'}},
          {counter: {packets: 9120, bytes: 547200}},
          {dnat: {addr: '10.244.1.10', port: 8080}},
        ],
      },
    },
  ],
})

const counterOf = (statements: Statement[]) => statements.find((s) => s.kind === 'other' && s.what === 'counter')

describe('nft counters', () => {
  it.each([
    ['the listing', TEXT],
    ['the JSON', JSON_TEXT],
  ])('%s: the DNAT rule has counters 9120 packets / 547200 bytes', (_form, text) => {
    const rs = parseNft(text, 'nft')
    const rules = rs.tables[0]?.chains.get('endpoint-A')?.rules ?? []
    expect(rules.map((r) => counterOf(r.statements))).toEqual([undefined, expect.objectContaining({counters: {packets: 9120, bytes: 547200}})])
  })

  it('a bare `counter` (nft -f input, no values yet) has none', () => {
    const rs = parseNft(
      'add table ip kube-proxy\nadd chain ip kube-proxy e\nadd rule ip kube-proxy e meta l4proto tcp counter dnat to 10.244.1.10:8080\n',
      'nft',
    )
    const rule = rs.tables[0]?.chains.get('e')?.rules[0]
    expect(counterOf(rule?.statements ?? [])).toEqual({kind: 'other', what: 'counter', text: 'counter'})
  })
})
