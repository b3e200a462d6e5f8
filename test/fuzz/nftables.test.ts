// Property tests of the nftables parsers (JSON and text) and the nftables tracer, on generated
// rulesets and on mutated real captures.
import fc from 'fast-check'
import {describe, it} from 'vitest'
import {parseNft} from '../../src/core/nftables/parse.js'
import {traceNftables} from '../../src/core/nftables/trace.js'
import {expectBoundedTrace, lineCount, parsedOrExplained} from './support/check.js'
import {traceRequest} from './support/destinations.js'
import {NFT_JSON, NFT_TEXT} from './support/fixtures.js'
import {mutated} from './support/mutate.js'
import {nftJson, nftText} from './support/nft-gen.js'
import {settings} from './support/runs.js'

const SOURCE = 'nodes/node-a/nft.json'

/** The input's size for the work bound: its lines, or its objects for one-line JSON. */
const sizeOf = (text: string) => lineCount(text) + text.split('{').length

function parseAndTrace(text: string, req: Parameters<typeof traceNftables>[1]): void {
  const rs = parsedOrExplained(() => parseNft(text, SOURCE), SOURCE, text)
  if (rs) expectBoundedTrace(traceNftables(rs, req), sizeOf(text))
}

describe('nftables parsers and tracer, fuzzed', () => {
  it('a generated listing (chains that jump anywhere, verdict maps, numgen) parses or says which line is wrong; its trace does linear work', () => {
    fc.assert(fc.property(nftText, traceRequest, parseAndTrace), settings())
  })

  it('generated nft -j JSON, with objects and expressions nft would not write: the same', () => {
    fc.assert(fc.property(nftJson, traceRequest, parseAndTrace), settings())
  })

  it.each([
    ['JSON', NFT_JSON],
    ['listing and transaction text', NFT_TEXT],
  ])('real nft %s cut short, garbled, with runaway lines, CRLF or NUL bytes: the same', (_, fixtures) => {
    fc.assert(
      fc.property(mutated(fixtures), traceRequest, ({text}, req) => parseAndTrace(text, req)),
      settings(),
    )
  })
})
