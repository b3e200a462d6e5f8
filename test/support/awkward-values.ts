// Values to serialise that printers get wrong: empty containers, undefined members, line breaks,
// blank lines, leading spaces, control characters, lone surrogates, words YAML would read as other types.
import fc from 'fast-check'

const awkwardString = fc.oneof(
  fc.string({unit: 'binary'}),
  fc.string({unit: fc.constantFrom('a', ' ', '\n', '\t', '\r', ':', '-', '#', '"', "'", '\\', '\u0000', '\u001b', 'é', '\u202e', '\ud800'), maxLength: 12}),
  fc.constantFrom('', ' ', '\n', 'yes', 'null', '~', '1.0', '0x1F', '- x', 'a: b', 'one\n\ntwo\n', '  lead\n', 'tail  \n\n'),
)

/** Any JSON- or YAML-able value built from awkward strings and numbers, with or without undefined. */
export function awkwardValue(more: Omit<fc.ObjectConstraints, 'key' | 'values'> = {}): fc.Arbitrary<unknown> {
  return fc.anything({
    ...more,
    key: awkwardString,
    values: [awkwardString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined)],
  })
}
