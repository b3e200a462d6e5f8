// Reading nft output: the transaction text of kube-proxy's tests, `nft list` text and `nft -j` JSON
// of the same ruleset give the same model; cut or odd input is refused with the line (or JSON object)
// named, and rules svctrace does not understand are kept as data, never a crash.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import type {NftRuleset, Statement, Value} from '../../../src/core/nftables/model.js'
import {parseNft} from '../../../src/core/nftables/parse.js'
import {traceNftables} from '../../../src/core/nftables/trace.js'
import {dumpErrorOf as errorOf} from '../../support/errors.js'
import {noteLines} from '../../support/notes.js'
import {at, first} from '../../support/defined.js'

const dir = fileURLToPath(new URL('../../fixtures/samples/nftables/', import.meta.url))
const read = (f: string) => readFileSync(dir + f, 'utf8')

/** A value without its spelling (0x00004000 and 0x4000 are one number). */
function canonValue(v: Value): unknown {
  switch (v.kind) {
    case 'addr':
      return v.cidr.text.replace(/\/(32|128)$/, '')
    case 'number':
      return v.value
    case 'set':
      return v.items.length === 1 ? canonValue(first(v.items)) : v.items.map(canonValue)
    case 'concat':
      return v.parts.map(canonValue)
    case 'range':
      return [canonValue(v.lo), '-', canonValue(v.hi)]
    default:
      return v
  }
}

function canonStatement(s: Statement): unknown {
  if (s.kind === 'match') return {...s, right: canonValue(s.right)}
  if (s.kind === 'vmap') return {...s, map: 'setref' in s.map ? s.map : s.map.elements.map((e) => [canonValue(e.key), e.verdict])}
  if (s.kind === 'verdict' && s.verdict.kind === 'reject') return {kind: 'verdict', verdict: {kind: 'reject'}}
  if (s.kind === 'set-update' || s.kind === 'dnat' || s.kind === 'other') return {...s, text: undefined}
  return s
}

/** What the tracer reads of a ruleset, independent of its form. */
function essence(rs: NftRuleset) {
  return rs.tables.map((t) => ({
    table: `${t.family} ${t.name}`,
    sets: [...t.sets.values()]
      .map((s) => ({
        name: s.name,
        isMap: s.isMap,
        keyType: s.keyType,
        timeout: s.timeoutSeconds,
        elements: s.elements.map((e) => [canonValue(e.key), e.verdict, e.comment]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    chains: [...t.chains.values()]
      .map((c) => ({name: c.name, hook: c.hook, rules: c.rules.map((r) => ({statements: r.statements.map(canonStatement), comment: r.comment}))}))
      .sort((a, b) => a.name.localeCompare(b.name)),
  }))
}

describe('the three forms of one ruleset', () => {
  it.each(['nftables-overall-mixed', 'nftables-lb-source-ranges-bad-ips'])('%s: nft -f, nft list and nft -j give the same model', (sample) => {
    const transaction = parseNft(read(`${sample}.txt`), 'txn')
    const listing = parseNft(read(`rendered/${sample}.nft-list.txt`), 'list')
    const json = parseNft(read(`rendered/${sample}.nft.json`), 'json')
    expect([transaction.format, listing.format, json.format]).toEqual(['transaction', 'list', 'json'])
    expect(essence(listing)).toEqual(essence(transaction))
    expect(essence(json)).toEqual(essence(transaction))
    const unknown = [transaction, listing, json].flatMap((rs) =>
      rs.tables.flatMap((t) => [...t.chains.values()].flatMap((c) => c.rules.flatMap((r) => r.statements.filter((s) => s.kind === 'unknown')))),
    )
    expect(unknown).toEqual([])
  })

  it('keeps the listing line of every rule and element, and the handle of JSON rules', () => {
    const listing = parseNft(read('rendered/nftables-overall-mixed.nft-list.txt'), 'list')
    const services = first(listing.tables).chains.get('services')!
    expect(services.rules.map((r) => [r.line, r.text])).toEqual([
      [138, 'ip daddr . meta l4proto . th dport vmap @service-ips'],
      [139, 'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports'],
    ])
    expect(
      first(listing.tables)
        .sets.get('service-nodeports')!
        .elements.map((e) => e.line),
    ).toEqual([54, 55, 56])
    const json = parseNft(read('rendered/nftables-overall-mixed.nft.json'), 'json')
    expect(
      first(json.tables)
        .chains.get('services')!
        .rules.every((r) => typeof r.handle === 'number' && r.line === 0),
    ).toBe(true)
  })
})

describe('odd and cut input', () => {
  const listing = read('rendered/nftables-overall-mixed.nft-list.txt')
  const cut = (text: string, marker: string) => text.slice(0, text.indexOf(marker) + marker.length)
  const bad: Array<[string, string, RegExp]> = [
    [
      'a listing cut inside a chain',
      cut(listing, 'chain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n'),
      /chain services \(line 137\) is not closed: the listing is cut short/,
    ],
    ['a listing cut inside an element list', cut(listing, '172.30.0.43, 172.30.0.44,\n'), /the text ends here; is it cut short\?/],
    ['a listing cut after the last chain', listing.trimEnd().slice(0, -1), /table ip kube-proxy \(line 1\) is not closed/],
    ['an unterminated string', 'table ip kube-proxy {\n\tchain x {\n\t\tjump y comment "oops\n\t}\n}\n', /:3: a quoted string is not closed/],
    ['a word that starts nothing', 'table ip kube-proxy {\n}\nbogus line here\n', /:3: expected "table FAMILY NAME \{" or an nft command/],
    [
      'an unreadable priority',
      'table ip kube-proxy {\n\tchain x {\n\t\ttype nat hook prerouting priority sideways; policy accept;\n\t}\n}\n',
      /priority "sideways" is not readable/,
    ],
    ['an empty file', '\n\n', /no nftables table/],
    ['an error message instead of a listing', 'Error: No such file or directory\nlist table ip kube-proxy\n', /:1: expected "table FAMILY NAME \{"/],
  ]
  it.each(bad)('refuses %s, naming the line', (_what, text, message) => {
    const err = errorOf(() => parseNft(text, 'nodes/n1/nft.txt'))
    expect(err.message).toMatch(/^nodes\/n1\/nft\.txt(:\d+)?: /)
    expect(err.message).toMatch(message)
  })

  const json = read('rendered/nftables-overall-mixed.nft.json')
  const badJson: Array<[string, string, RegExp]> = [
    ['JSON cut short', json.slice(0, Math.floor(json.length / 2)), /not valid JSON .*cut short.*nft -j list table ip kube-proxy/],
    ['JSON that is not nft output', '{"kind": "List", "items": []}', /without an "nftables" array/],
    [
      'a rule without expressions',
      '{"nftables": [{"table": {"family": "ip", "name": "kube-proxy"}}, {"rule": {"family": "ip", "table": "kube-proxy", "chain": "x"}}]}',
      /nftables\[1\]: a rule without "expr"/,
    ],
    [
      'an object svctrace does not know',
      '{"nftables": [{"table": {"family": "ip", "name": "kube-proxy"}}, {"frobnicate": {}}]}',
      /nftables\[1\]: unexpected object with keys frobnicate/,
    ],
    ['a set without a table', '{"nftables": [{"set": {"name": "cluster-ips"}}]}', /nftables\[0\]: an object without "family" and "table"/],
  ]
  it.each(badJson)('refuses %s, naming the object', (_what, text, message) => {
    expect(errorOf(() => parseNft(text, 'nodes/n1/nft.json')).message).toMatch(message)
  })

  it('keeps statements it does not read as data, with their verdict, and the trace says so', () => {
    const rs = parseNft(
      [
        'table ip kube-proxy {',
        '\tchain nat-prerouting {',
        '\t\ttype nat hook prerouting priority dstnat; policy accept;',
        '\t\tmeta skuid 0 limit rate 10/second jump services # handle 4',
        '\t}',
        '\tchain services {',
        '\t\tip daddr 10.96.0.10 tcp dport 80 counter packets 3 bytes 180 dnat to 10.244.1.5:8080',
        '\t}',
        '}',
      ].join('\n'),
      'odd.txt',
    )
    const rule = first(first(rs.tables).chains.get('nat-prerouting')!.rules)
    expect(rule.handle).toBe(4)
    expect(rule.statements).toEqual([
      {kind: 'match', left: {kind: 'meta', key: 'skuid'}, op: '==', right: {kind: 'number', value: 0, text: '0'}},
      {kind: 'unknown', text: 'limit rate 10/second'},
      {kind: 'verdict', verdict: {kind: 'jump', target: 'services'}},
    ])
    const trace = traceNftables(rs, {
      node: {name: 'n', addresses: ['192.168.0.2']},
      destination: {ip: '10.96.0.10', port: 80, protocol: 'TCP'},
      from: 'pod',
      source: '10.244.0.5',
      podNetworks: ['10.244.0.0/16'],
    })
    expect(noteLines(trace.notes)).toMatch(/"limit rate 10\/second" is not understood by svctrace/)
    expect(noteLines(trace.notes)).toMatch(/"meta skuid 0" could not be decided for this packet/)
    // Both undecided: the default (neither holds) is no DNAT; the alternative where both hold reaches the pod.
    const when = (holds: boolean) =>
      trace.outcomes.filter((o) => o.conditions.length > 0 && o.conditions.every((c) => c.holds === holds)).map((o) => `${o.verdict} ${o.dnat?.ip ?? ''}`)
    expect(when(false)).toEqual(['no-match '])
    expect(when(true)).toEqual(['dnat 10.244.1.5'])
  })

  it('follows flush and delete commands of the transaction form', () => {
    const rs = parseNft(
      [
        'add table ip kube-proxy',
        'add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }',
        'add element ip kube-proxy service-ips { 10.96.0.1 . tcp . 443 : goto a }',
        'add element ip kube-proxy service-ips { 10.96.0.2 . tcp . 443 : goto b }',
        'delete element ip kube-proxy service-ips { 10.96.0.1 . tcp . 443 }',
        'add rule ip kube-proxy a jump x',
        'flush chain ip kube-proxy a',
        'add rule ip kube-proxy a jump y',
        'insert rule ip kube-proxy a jump first',
        'add chain ip kube-proxy gone',
        'delete chain ip kube-proxy gone',
      ].join('\n'),
      'txn',
    )
    const t = first(rs.tables)
    expect(t.sets.get('service-ips')!.elements.map((e) => e.verdict)).toEqual([{kind: 'goto', target: 'b'}])
    expect(t.chains.get('a')!.rules.map((r) => r.text)).toEqual(['jump first', 'jump y'])
    expect(t.chains.has('gone')).toBe(false)
  })

  it("reads a whole `nft list ruleset` with iptables-nft tables next to kube-proxy's", () => {
    const ruleset = [
      'table ip nat {',
      '\tchain PREROUTING {',
      '\t\ttype nat hook prerouting priority dstnat; policy accept;',
      '\t\tcounter packets 0 bytes 0 jump KUBE-SERVICES',
      '\t}',
      '\tchain KUBE-SERVICES {',
      '\t\tmeta l4proto tcp ip daddr 10.96.0.1  tcp dport 443 counter packets 0 bytes 0 xt target "KUBE-SVC"',
      '\t}',
      '}',
      listing,
    ].join('\n')
    const rs = parseNft(ruleset, 'ruleset.txt')
    expect(rs.tables.map((t) => `${t.family} ${t.name}`)).toEqual(['ip nat', 'ip kube-proxy'])
    expect(essence({...rs, tables: [at(rs.tables, 1)]})).toEqual(essence(parseNft(listing, 'list')))
  })
})
