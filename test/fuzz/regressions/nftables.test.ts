// Inputs the fuzzer found that broke a property of the nftables parsers, kept as fixed examples.
import {describe, expect, it} from 'vitest'
import {DumpError} from '../../../src/core/iptables/dump.js'
import {parseNft} from '../../../src/core/nftables/parse.js'

describe('nftables regressions found by the fuzzer', () => {
  it.each([
    ['a form feed', '\f'],
    ['a vertical tab', '\v'],
    ['a no-break space', '\u00a0'],
  ])('%s between words is white space (the tokenizer looped forever on it, pushing empty words until memory ran out)', (_, space) => {
    const rs = parseNft(`table ip kube-proxy {\n\tchain services {\n\t\tjump${space}other\n\t}\n\tchain other {\n\t}\n}\n`, 'nft.txt')
    expect(rs.tables[0]?.chains.get('services')?.rules[0]?.text).toBe('jump other')
  })

  it('a cut JSON capture that starts with a form feed is read as text and refused with a line, not a hang', () => {
    expect(() => parseNft('\f{"nftables": [', 'nft.json')).toThrow(DumpError)
  })
})

describe('nft words that name Object.prototype members', () => {
  it('a chain priority "constructor" is refused naming the line, not a priority', () => {
    const text = 'table ip kube-proxy {\n\tchain c {\n\t\ttype nat hook prerouting priority constructor; policy accept;\n\t}\n}\n'
    expect(() => parseNft(text, 'nft.txt')).toThrow(/nft\.txt:3: chain c: priority "constructor" is not readable/)
  })
})
