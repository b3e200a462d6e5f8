// Mutations of real captures, as data (so fast-check prints and shrinks them): the ways a dump
// arrives broken — cut short, with stray bytes, a runaway line, Windows line ends, NUL bytes —
// plus format-aware ones (a chain that jumps to itself, a missing COMMIT) given by each test.
import fc from 'fast-check'
import {RUNS} from './runs.js'

/** Where in the text or which line, as a fraction of its length, so one mutation fits any text. */
const at = fc.double({min: 0, max: 1, maxExcluded: true, noNaN: true})

/** One change to a text. */
export type Mutation =
  | {kind: 'truncate'; at: number}
  | {kind: 'insert'; at: number; bytes: string}
  | {kind: 'huge-line'; at: number; unit: string; times: number}
  | {kind: 'crlf'}
  | {kind: 'bare-cr'; at: number}
  | {kind: 'nul'; at: number; count: number}
  | {kind: 'drop-line'; at: number}
  | {kind: 'dup-lines'; at: number; count: number; to: number}
  | {kind: 'swap-lines'; a: number; b: number}
  | {kind: 'flip'; at: number; char: string}
  | {kind: 'bom'}
  | {kind: 'insert-line'; at: number; line: string}
  | {kind: 'replace-all'; from: string; to: string}

/** The text with one mutation applied. */
function applyMutation(text: string, m: Mutation): string {
  const pos = (f: number) => Math.floor(f * (text.length + 1))
  const lines = () => text.split('\n')
  const lineAt = (all: string[], f: number) => Math.floor(f * all.length)
  switch (m.kind) {
    case 'truncate':
      return text.slice(0, pos(m.at))
    case 'insert':
      return text.slice(0, pos(m.at)) + m.bytes + text.slice(pos(m.at))
    case 'huge-line': {
      const all = lines()
      all.splice(lineAt(all, m.at), 0, m.unit.repeat(m.times))
      return all.join('\n')
    }
    case 'crlf':
      return text.replace(/\n/g, '\r\n')
    case 'bare-cr':
      return text.slice(0, pos(m.at)) + '\r' + text.slice(pos(m.at))
    case 'nul':
      return text.slice(0, pos(m.at)) + '\0'.repeat(m.count) + text.slice(pos(m.at))
    case 'drop-line': {
      const all = lines()
      all.splice(lineAt(all, m.at), 1)
      return all.join('\n')
    }
    case 'dup-lines': {
      const all = lines()
      const from = lineAt(all, m.at)
      all.splice(lineAt(all, m.to), 0, ...all.slice(from, from + m.count))
      return all.join('\n')
    }
    case 'swap-lines': {
      const all = lines()
      const a = lineAt(all, m.a)
      const b = lineAt(all, m.b)
      ;[all[a], all[b]] = [all[b] ?? '', all[a] ?? '']
      return all.join('\n')
    }
    case 'flip':
      return text.slice(0, pos(m.at)) + m.char + text.slice(pos(m.at) + 1)
    case 'bom':
      return '\uFEFF' + text
    case 'insert-line': {
      const all = lines()
      all.splice(lineAt(all, m.at), 0, m.line)
      return all.join('\n')
    }
    case 'replace-all':
      return m.from === '' ? text : text.split(m.from).join(m.to)
  }
}

/** Runaway lines: long enough to show super-linear work; the 200,000-character ones only in npm run fuzz (they cost the sample most of its time). */
const HUGE = fc.constantFrom(1_000, 20_000, ...(RUNS >= 1000 ? [200_000] : []))

/** Mutations any text format can suffer. */
const anyMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({kind: fc.constant('truncate' as const), at}),
  fc.record({kind: fc.constant('insert' as const), at, bytes: fc.string({unit: 'binary', maxLength: 24})}),
  fc.record({
    kind: fc.constant('insert' as const),
    at,
    bytes: fc.string({unit: fc.constantFrom('{', '}', '"', "'", '[', ']', ':', ',', ' ', '\t', '\n', '#', '\\', '!', '-', '/'), maxLength: 8}),
  }),
  fc.record({kind: fc.constant('huge-line' as const), at, unit: fc.constantFrom('A', 'x ', '-A X ', ' -j X', '"', '{', '[', '10.0.0.1 ', '\\'), times: HUGE}),
  // Words that name Object.prototype members, for parsers that look words up in plain objects.
  fc.record({kind: fc.constant('insert' as const), at, bytes: fc.constantFrom(' toString ', ' constructor ', ' __proto__ ', ' hasOwnProperty ')}),
  fc.record({kind: fc.constant('crlf' as const)}),
  fc.record({kind: fc.constant('bare-cr' as const), at}),
  fc.record({kind: fc.constant('nul' as const), at, count: fc.integer({min: 1, max: 4})}),
  fc.record({kind: fc.constant('drop-line' as const), at}),
  fc.record({kind: fc.constant('dup-lines' as const), at, count: fc.integer({min: 1, max: 20}), to: at}),
  fc.record({kind: fc.constant('swap-lines' as const), a: at, b: at}),
  fc.record({kind: fc.constant('flip' as const), at, char: fc.string({unit: 'binary', minLength: 1, maxLength: 1})}),
  fc.record({kind: fc.constant('bom' as const)}),
)

/** A fixture and the mutations applied to it, in order, with the resulting text. */
export interface Mutated {
  fixture: number
  mutations: Mutation[]
  text: string
}

/** A real capture with one to four mutations (the format's own ones mixed with anyMutation). */
export function mutated(fixtures: readonly string[], own: Array<fc.Arbitrary<Mutation>> = []): fc.Arbitrary<Mutated> {
  const one = own.length > 0 ? fc.oneof(anyMutation, ...own) : anyMutation
  return fc
    .record({fixture: fc.nat({max: fixtures.length - 1}), mutations: fc.array(one, {minLength: 1, maxLength: 4})})
    .map(({fixture, mutations}) => ({fixture, mutations, text: mutations.reduce(applyMutation, fixtures[fixture] ?? '')}))
}

/** A line to insert, one of `lines`. */
export function insertLine(lines: fc.Arbitrary<string>): fc.Arbitrary<Mutation> {
  return fc.record({kind: fc.constant('insert-line' as const), at, line: lines})
}
