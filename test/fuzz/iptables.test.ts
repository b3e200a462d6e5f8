// Property tests of the iptables-save indexer, the rule parser and the iptables tracer, on generated
// dumps (with and without counters) and on real dumps broken in the ways captures break.
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {chainRules, formatIptablesSave, indexIptablesSave, type IptablesDump} from '../../src/core/iptables/dump.js'
import {formatRule, parseRuleLine} from '../../src/core/iptables/rule.js'
import {traceIptables} from '../../src/core/iptables/trace.js'
import {expectBoundedTrace, expectReadable, lineCount, parsedOrExplained} from './support/check.js'
import {traceRequest} from './support/destinations.js'
import {IPTABLES} from './support/fixtures.js'
import {iptablesDump, iptablesMutations, jumpGraph, reachesCycle, ruleLine} from './support/iptables-gen.js'
import {mutated} from './support/mutate.js'
import {settings} from './support/runs.js'

const SOURCE = 'nodes/node-a/iptables-save.txt'

/** Every rule of every chain parsed: each is a rule or an error naming a line of the text. */
function expectRulesReadOrExplained(dump: IptablesDump, text: string): void {
  for (const t of dump.tables.values()) {
    for (const c of t.chains.values()) {
      for (const r of chainRules(dump, t.name, c.name) ?? []) {
        expect(r.line).toBeGreaterThan(0)
        expect(r.line).toBeLessThanOrEqual(lineCount(text))
        if ('error' in r) expectReadable(r.error)
      }
    }
  }
}

/** Indexes the text, reads every rule and traces one request through it: the properties of one input. */
function indexAndTrace(text: string, req: fc.Arbitrary<never> | Parameters<typeof traceIptables>[1]): void {
  const dump = parsedOrExplained(() => indexIptablesSave(text, SOURCE), SOURCE, text)
  if (!dump) return
  expectBoundedTrace(traceIptables(dump, req as Parameters<typeof traceIptables>[1]), lineCount(text))
  expectRulesReadOrExplained(dump, text)
}

describe('iptables-save indexer and tracer, fuzzed', () => {
  it('a generated dump, with or without [packets:bytes] counters, indexes or says which line is wrong; its trace does linear work', () => {
    fc.assert(
      fc.property(iptablesDump, traceRequest, ({text}, req) => indexAndTrace(text, req)),
      settings(),
    )
  })

  it('a real dump cut short, garbled, with a runaway line, CRLF, NUL bytes, self-jumps, cycles, duplicate chains or no COMMIT: the same', () => {
    fc.assert(
      fc.property(mutated(IPTABLES, iptablesMutations), traceRequest, ({text}, req) => indexAndTrace(text, req)),
      settings(),
    )
  })

  it('chains that jump to themselves, in cycles, or to one chain many times: the walk ends, its work stays linear, a cycle is noted', () => {
    fc.assert(
      fc.property(jumpGraph, traceRequest, ({edges, text}, req) => {
        const trace = traceIptables(indexIptablesSave(text, SOURCE), req)
        expectBoundedTrace(trace, lineCount(text))
        const kinds = new Set(trace.notes.map((n) => n.kind))
        if (reachesCycle(edges)) expect(kinds.has('jump-cycle') || kinds.has('walk-limit') || kinds.has('path-limit')).toBe(true)
      }),
      settings(),
    )
  })

  it('an indexed dump prints back into a dump that indexes again, with the same rules', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          iptablesDump.map((d) => d.text),
          mutated(IPTABLES, iptablesMutations).map((m) => m.text),
        ),
        (text) => {
          const dump = parsedOrExplained(() => indexIptablesSave(text, SOURCE), SOURCE, text)
          if (!dump) return
          const printed = formatIptablesSave(dump)
          const again = indexIptablesSave(printed, SOURCE)
          expect([...again.tables.keys()]).toEqual([...dump.tables.keys()])
          expect(again.ruleCount).toBe(dump.ruleCount)
        },
      ),
      settings(),
    )
  })
})

describe('single rule parser, fuzzed', () => {
  it('any line gives a rule or an error sentence, never an exception', () => {
    const line = fc.oneof(
      ruleLine,
      fc.string({unit: 'binary', maxLength: 200}),
      fc.array(fc.oneof(ruleLine, fc.string()), {maxLength: 4}).map((l) => l.join(' ')),
    )
    fc.assert(
      fc.property(line, fc.integer({min: 1, max: 1e6}), (text, n) => {
        const r = parseRuleLine(text, 'nat', n)
        if ('error' in r) {
          expect(r.error).not.toBe('')
          expectReadable(r.error)
        } else expect(r.line).toBe(n)
      }),
      settings(),
    )
  })

  it('a rule that keeps its line as written prints as its parts print, however the words are spaced', () => {
    fc.assert(
      fc.property(ruleLine, fc.boolean(), fc.constantFrom(' ', '  ', '\t', ' \t'), (line, counters, space) => {
        const r = parseRuleLine(`${counters ? '[7:420] ' : ''}${line.split(' ').join(space)}`, 'nat', 1)
        if ('error' in r) return
        const {text, ...parts} = r
        expect(formatRule(r)).toBe(formatRule(parts))
        if (space !== ' ') expect(text).toBeUndefined()
      }),
      settings(),
    )
  })

  it('a rule read from a line prints back into a line that reads as the same rule', () => {
    fc.assert(
      fc.property(ruleLine, fc.boolean(), (line, counters) => {
        const r = parseRuleLine(`${counters ? '[7:420] ' : ''}${line}`, 'nat', 1)
        if ('error' in r) return
        const again = parseRuleLine(formatRule(r), 'nat', 1)
        // Quoting may differ (a word with a quote in it comes back quoted); what the rule means may not.
        const meaning = (x: ReturnType<typeof parseRuleLine>) =>
          'error' in x ? x : {chain: x.chain, counters: x.counters, matches: x.matches, target: x.target}
        expect(meaning(again)).toEqual(meaning(r))
      }),
      settings(),
    )
  })
})
