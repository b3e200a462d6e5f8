// Every nftables sample of kube-proxy (upstream tests) traced for the entry points in
// test/fixtures/samples/nftables/expectations.ts, in the three forms a node can hand over:
// `nft -f` transaction text, `nft list` text and `nft -j list` JSON (rendered by scripts/render-nft-fixtures.mjs).
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import type {Outcome} from '../../../src/core/trace/branch.js'
import type {NftRuleset} from '../../../src/core/nftables/model.js'
import {parseNft} from '../../../src/core/nftables/parse.js'
import {traceNftables} from '../../../src/core/nftables/trace.js'
import {nftCases} from '../../fixtures/samples/nftables/expectations.js'
import {noteText} from '../../../src/render/notes.js'
import {at, first} from '../../support/defined.js'

const dir = fileURLToPath(new URL('../../fixtures/samples/nftables/', import.meta.url))
const FORMS = [
  {form: 'nft -f', file: (s: string) => `${s}.txt`},
  {form: 'nft list', file: (s: string) => `rendered/${s}.nft-list.txt`},
  {form: 'nft -j', file: (s: string) => `rendered/${s}.nft.json`},
]
const parsed = new Map<string, NftRuleset>()
function rulesetOf(file: string): NftRuleset {
  let rs = parsed.get(file)
  if (!rs) {
    rs = parseNft(readFileSync(dir + file, 'utf8'), file)
    parsed.set(file, rs)
  }
  return rs
}

/** The outcomes under the default assumptions (every undecided condition fails). */
const settled = (outcomes: Outcome[]) => outcomes.filter((o) => o.conditions.every((c) => !c.holds))

const table = nftCases.flatMap((c) => FORMS.map((f) => [`${c.name} [${f.form}]`, c, f.file(c.sample)] as const))

describe('tracing the kube-proxy nftables samples', () => {
  it.each(table)('%s', (_name, c, file) => {
    const trace = traceNftables(rulesetOf(file), {
      node: {name: c.node.name, addresses: c.node.ips},
      destination: c.destination,
      from: c.from,
      ...(c.source !== undefined ? {source: c.source} : {}),
      podNetworks: ['10.0.0.0/8'],
    })
    const outcomes = settled(trace.outcomes)
    expect([...new Set(outcomes.map((o) => o.verdict))]).toEqual([c.expect.verdict])
    const backends = outcomes.filter((o) => o.dnat).map((o) => ({ip: o.dnat!.ip, port: o.dnat!.port, probability: o.probability}))
    expect(backends.map((b) => `${b.ip}:${b.port}`)).toEqual(c.expect.backends.map((b) => `${b.ip}:${b.port}`))
    backends.forEach((b, i) => expect(b.probability).toBeCloseTo(at(c.expect.backends, i).probability, 8))
    if (c.expect.masquerade !== undefined) for (const o of outcomes) expect(o.masquerade).toBe(c.expect.masquerade)
    expect(outcomes.find((o) => o.affinitySeconds !== undefined)?.affinitySeconds).toBe(c.expect.affinityTimeoutSeconds)
    // Every endpoint chain named in a backend is a real chain of the dump.
    for (const o of outcomes) if (o.dnat) expect(first(rulesetOf(file).tables).chains.has(o.dnat.chain)).toBe(true)
    expect(trace.notes.map(noteText).filter((n) => /not understood|could not/.test(n))).toEqual([])
  })
})
