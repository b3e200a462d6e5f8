import {describe, expect, it} from 'vitest'
import {parseCidr} from '../../../src/core/address.js'
import {cidrsOf, isLocalAddress} from '../../../src/core/trace/node.js'

const ip = (text: string) => {
  const c = parseCidr(text)
  if (!c) throw new Error(`bad test address ${text}`)
  return c
}

describe('isLocalAddress: the one answer to "is this address the node\'s"', () => {
  it.each([
    ['loopback, node addresses unknown', [], '127.0.0.1', true],
    ['any 127/8 address', ['192.168.49.2'], '127.3.4.5', true],
    ['IPv6 loopback', [], '::1', true],
    ['a node address', ['192.168.49.2', '10.0.0.1'], '10.0.0.1', true],
    ['an address inside a node network (kube-ipvs0 /32s, or a listed CIDR)', ['10.96.0.0/12'], '10.96.0.10', true],
    ['IPv6 node address in another spelling', ['fd00::0002'], 'fd00::2', true],
    ['another address, node addresses known', ['192.168.49.2'], '192.168.49.3', false],
    ['another address, node addresses unknown', [], '192.168.49.3', undefined],
    ['IPv4 address vs IPv6 node address', ['fd00::2'], '10.0.0.2', false],
  ] as const)('%s', (_what, addresses, address, expected) => {
    expect(isLocalAddress(cidrsOf(addresses), ip(address))).toBe(expected)
  })

  it('cidrsOf drops what is no address', () => {
    expect(cidrsOf(['10.0.0.1', 'node-a', '', 'fd00::1']).map((c) => c.text)).toEqual(['10.0.0.1', 'fd00::1'])
  })
})
