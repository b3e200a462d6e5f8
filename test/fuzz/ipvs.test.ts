// Property tests of the IPVS parsers (ipvsadm -Sn and -Ln, /proc/net/ip_vs), the ipset parser and
// the IPVS tracer, on generated and on mutated real captures.
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {indexIptablesSave} from '../../src/core/iptables/dump.js'
import {ipsetMembership} from '../../src/core/ipvs/ipset-match.js'
import {parseIpset} from '../../src/core/ipvs/ipset.js'
import {parseIpvsTable} from '../../src/core/ipvs/ipvsadm.js'
import {traceIpvs} from '../../src/core/ipvs/trace.js'
import {expectBoundedTrace, lineCount, parsedOrExplained} from './support/check.js'
import {traceRequest} from './support/destinations.js'
import {IPSET, IPVS_IPTABLES, IPVSADM_LIST, IPVSADM_SAVE, PROC_IP_VS} from './support/fixtures.js'
import {ipsetText, ipvsText} from './support/ipvs-gen.js'
import {mutated} from './support/mutate.js'
import {settings} from './support/runs.js'

const SOURCE = 'nodes/node-a/ipvsadm.txt'
const IPSET_SOURCE = 'nodes/node-a/ipset.txt'
const iptables = IPVS_IPTABLES.map((t, i) => indexIptablesSave(t, `iptables-${i}`))

/** Parses the IPVS text and traces one request through it with a real IPVS-mode iptables dump and the given ipsets. */
function parseAndTrace(text: string, req: Parameters<typeof traceIpvs>[1], which: number, ipsetsText?: string): void {
  const table = parsedOrExplained(() => parseIpvsTable(text, SOURCE), SOURCE, text)
  const ipsets = ipsetsText === undefined ? undefined : parsedOrExplained(() => parseIpset(ipsetsText, IPSET_SOURCE), IPSET_SOURCE, ipsetsText)
  if (!table) return
  for (const vs of table.services) for (const r of vs.realServers) expect(Number.isInteger(r.weight) && r.weight >= 0).toBe(true)
  const dump = iptables[which % iptables.length]
  const trace = traceIpvs({table, ...(ipsets ? {ipsets} : {}), ...(dump ? {iptables: dump} : {})}, req)
  expectBoundedTrace(trace, lineCount(text) + (dump?.ruleCount ?? 0) + lineCount(ipsetsText ?? ''))
}

describe('IPVS and ipset parsers and the IPVS tracer, fuzzed', () => {
  it('a generated table in any of the three printouts parses or says which line is wrong; its trace does linear work', () => {
    fc.assert(
      fc.property(ipvsText, ipsetText, traceRequest, fc.nat(), ({text}, sets, req, which) => parseAndTrace(text, req, which, sets)),
      settings(),
    )
  })

  it.each([
    ['ipvsadm -Sn', IPVSADM_SAVE],
    ['ipvsadm -Ln', IPVSADM_LIST],
    ['/proc/net/ip_vs', PROC_IP_VS],
  ])('real %s output cut short, garbled, with runaway lines, CRLF or NUL bytes: the same', (_, fixtures) => {
    fc.assert(
      fc.property(mutated(fixtures), mutated(IPSET), traceRequest, fc.nat(), ({text}, sets, req, which) => parseAndTrace(text, req, which, sets.text)),
      settings(),
    )
  })

  it('ipset save or list output, generated or a real one mutated, parses or says which line is wrong, and its members can be matched', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          ipsetText,
          mutated(IPSET).map((m) => m.text),
        ),
        (text) => {
          const sets = parsedOrExplained(() => parseIpset(text, IPSET_SOURCE), IPSET_SOURCE, text)
          if (sets) ipsetMembership(sets)
        },
      ),
      settings(),
    )
  })
})
