// Property tests of the `conntrack -L` parser and the stale-entry check, on generated lines in the
// default and `-o extended` forms and on mutated real captures.
import fc from 'fast-check'
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {isIP} from '../../src/core/address.js'
import {indexCluster, type ClusterIndex} from '../../src/core/cluster-index.js'
import {conntrackStaleEndpoints} from '../../src/core/checks/conntrack-stale-endpoint.js'
import {parseConntrack} from '../../src/core/conntrack/parse.js'
import type {NodeDataplane} from '../../src/core/model.js'
import {expectReadable, lineCount} from './support/check.js'
import {CONNTRACK} from './support/fixtures.js'
import {insertLine, mutated} from './support/mutate.js'
import {settings} from './support/runs.js'

const SOURCE = 'nodes/node-a/conntrack.txt'
const octet = fc.nat({max: 300}) // past 255 on purpose: not every generated address is one
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'))
const ipv6 = fc.constantFrom('fd00::10', 'fd00:10:244:1::5', '::1', 'fd00:::1')
const address = fc.oneof(ipv4, ipv6, fc.constantFrom('', 'x', '10.96.0.10/32'))
const port = fc.oneof(fc.nat({max: 70000}), fc.constant(-1))
const tuple = fc.record({src: address, dst: address, sport: port, dport: port})
const words = (t: {src: string; dst: string; sport: number; dport: number}, withPorts: boolean) =>
  `src=${t.src} dst=${t.dst}${withPorts ? ` sport=${t.sport} dport=${t.dport}` : ''}`

/** A `conntrack -L` line: protocol, number, timeout, state, both tuples, flags, mark and use, in the default or extended form. */
const entryLine = fc
  .record({
    extended: fc.boolean(),
    protocol: fc.constantFrom('tcp', 'udp', 'icmp', 'sctp', 'gre', 'TCP', '???'),
    number: fc.constantFrom('6', '17', '1', '132', '47', 'x'),
    timeout: fc.oneof(fc.nat({max: 432000}), fc.constant(-5)),
    state: fc.constantFrom('', 'ESTABLISHED ', 'TIME_WAIT ', 'SYN_SENT '),
    original: tuple,
    reply: tuple,
    unreplied: fc.boolean(),
    assured: fc.boolean(),
  })
  .map((e) => {
    const ports = e.protocol !== 'icmp' && e.protocol !== 'gre'
    const head = `${e.extended ? 'ipv4     2 ' : ''}${e.protocol.padEnd(8)} ${e.number} ${e.timeout} ${e.state}`
    return `${head}${words(e.original, ports)}${e.unreplied ? ' [UNREPLIED]' : ''} ${words(e.reply, ports)}${e.assured ? ' [ASSURED]' : ''} mark=0 use=1`
  })

const conntrackText = fc
  .array(fc.oneof({weight: 8, arbitrary: entryLine}, {weight: 1, arbitrary: fc.string({maxLength: 80})}), {maxLength: 40})
  .map((lines) => lines.join('\n'))

/** The parser never throws; every entry is well-formed; every other line is kept with its number and a readable reason. */
function expectParsed(text: string): void {
  const table = parseConntrack(text, SOURCE)
  const lines = lineCount(text)
  expect(table.source).toBe(SOURCE)
  expect(table.entries.length + table.unread.length).toBeLessThanOrEqual(lines)
  for (const e of table.entries) {
    expect(e.line).toBeGreaterThanOrEqual(1)
    expect(e.line).toBeLessThanOrEqual(lines)
    expect(e.protocol).toBe(e.protocol.toLowerCase())
    expect(Number.isInteger(e.timeout) && e.timeout >= 0).toBe(true)
    for (const t of [e.original, e.reply]) {
      expect(isIP(t.src) && isIP(t.dst)).toBe(true)
      for (const p of [t.sport, t.dport]) if (p !== undefined) expect(Number.isInteger(p) && p >= 0 && p <= 65535).toBe(true)
    }
  }
  for (const u of table.unread) {
    expect(u.line).toBeGreaterThanOrEqual(1)
    expect(u.line).toBeLessThanOrEqual(lines)
    expectReadable(u.reason)
  }
}

describe('conntrack -L parser and the stale-entry check, fuzzed', () => {
  let idx: ClusterIndex
  beforeAll(async () => {
    const bundle = new BundleDir(fileURLToPath(new URL('../fixtures/conntrack-stale-dns', import.meta.url)))
    idx = indexCluster((await bundle.load()).view)
  })

  it('generated lines, entries and garbage mixed: parsed or kept as unread, never a throw', () => {
    fc.assert(fc.property(conntrackText, expectParsed), settings())
  })

  it('real captures cut short, garbled, with runaway lines, CRLF or NUL bytes: the same, and the check over them never throws', () => {
    fc.assert(
      fc.property(mutated(CONNTRACK, [insertLine(entryLine)]), ({text}) => {
        expectParsed(text)
        const dp: NodeDataplane = {name: 'node-a', captures: [{kind: 'conntrack', text, source: SOURCE}]}
        const check = conntrackStaleEndpoints(idx, idx.view.services, [dp])
        for (const f of check.findings) expectReadable(f.message)
      }),
      settings(),
    )
  })
})
