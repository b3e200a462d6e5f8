import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {
  canonicalIP,
  isIP,
  cidrContains,
  cidrsOverlap,
  networkSet,
  familyOf,
  formatCidr,
  isLoopback,
  lastHostOf,
  parseCidr,
  parseDestination,
  sampleAddressOf,
  splitByNetworks,
  splitHostPort,
  type Cidr,
} from '../../src/core/address.js'

describe('addresses', () => {
  it.each([
    ['10.0.0.0/8', '10.244.1.5', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['172.30.0.100/32', '172.30.0.100', true],
    ['fd00::/64', 'fd00::1', true],
    ['fd00::/64', 'fd00:0:0:1::1', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['10.0.0.0/8', 'fd00::1', false],
  ])('%s contains %s: %s', (net, ip, want) => {
    expect(cidrContains(parseCidr(net)!, parseCidr(ip)!)).toBe(want)
  })

  it.each([
    '10.0.0.256',
    '1.2.3',
    '1.2.3.4.',
    '.1.2.3',
    '1..2.3',
    '1.2.3.1000',
    '1.2.3.4 ',
    '+1.2.3.4',
    '1.2.3.-4',
    '',
    '10.0.0.0/33',
    'fd00::/129',
    'fd00:::1',
    'hello',
    '1:2:3:4:5:6:7:8:9',
  ])('%s is not an address', (text) => {
    expect(parseCidr(text)).toBeUndefined()
  })

  it.each([
    ['FD00:0:0::1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['10.0.0.1', '10.0.0.1'],
    ['010.0.0.1', '10.0.0.1'],
    ['10.00.0.01', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['10.0.0.256', '10.0.0.256'], // not an address: kept as written
    ['10.0.0.0/8', '10.0.0.0/8'], // a network, not an address
  ])('canonical %s = %s', (a, b) => expect(canonicalIP(a)).toBe(b))

  it.each([
    ['10.0.0.1', true],
    ['249.250.251.252', true],
    ['010.0.0.1', true],
    ['256.0.0.1', false],
    ['10.0.0.0/8', false],
    ['fd00::1', true],
  ])('isIP(%s) = %s', (text, want) => expect(isIP(text)).toBe(want))

  it('finds the last host of a pod CIDR', () => {
    expect(lastHostOf(parseCidr('10.244.1.0/24')!)).toBe('10.244.1.254')
  })

  it.each([
    ['10.0.0.1:80', {host: '10.0.0.1', port: 80}],
    ['[fd00::1]:443', {host: 'fd00::1', port: 443}],
    ['fd00::1', {host: 'fd00::1'}],
    ['10.0.0.1', {host: '10.0.0.1'}],
    ['[fd00::1]', {host: 'fd00::1'}],
    ['10.0.0.1:http', undefined],
    ['10.0.0.1:', undefined],
    [':80', {host: '', port: 80}],
    ['[fd00::1', {host: '[fd00::1'}],
    ['[fd00::1]:x', {host: '[fd00::1]:x'}],
  ])('splits %s', (text, want) => expect(splitHostPort(text)).toEqual(want))
})

describe('--ip argument', () => {
  it.each([
    ['10.96.0.10', {ip: '10.96.0.10', protocol: 'TCP'}, false],
    ['10.96.0.10:53/udp', {ip: '10.96.0.10', port: 53, protocol: 'UDP'}, true],
    ['[fd00::10]:443/TCP', {ip: 'fd00::10', port: 443, protocol: 'TCP'}, true],
    ['10.96.0.10/sctp', {ip: '10.96.0.10', protocol: 'SCTP'}, false],
  ])('%s', (text, destination, portGiven) => {
    expect(parseDestination(text)).toEqual({destination, portGiven})
  })

  it.each([
    ['10.96.0', /is not an IP address/],
    ['10.96.0.10:99999', /out of range/],
    ['10.96.0.10:80/icmp', /unknown protocol "icmp"/],
    ['my-service', /is not an IP address/],
  ])('rejects %s', (text, message) => {
    const r = parseDestination(text)
    expect('error' in r && r.error).toMatch(message)
  })
})

describe('isLoopback and familyOf', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['::2', false],
    ['fd00::1', false],
    ['not-an-ip', false],
  ])('%s → %s', (ip, loopback) => {
    expect(isLoopback(ip)).toBe(loopback)
  })

  it('names the family, or nothing for what is no address', () => {
    expect([familyOf('10.0.0.1'), familyOf('fd00::1'), familyOf('node-a')]).toEqual([4, 6, undefined])
  })
})

describe('a range against networks (splitByNetworks)', () => {
  const cidr = (text: string): Cidr => {
    const c = parseCidr(text)
    if (!c) throw new Error(`test CIDR ${text}`)
    return c
  }
  it.each<[string, string[], string[], string | undefined]>([
    ['10.0.0.0/16', ['10.0.0.0/8'], ['10.0.0.0/16'], undefined],
    ['10.0.0.0/16', ['10.0.1.0/24'], ['10.0.1.0/24'], '10.0.0.1'],
    // The first address outside the parts is found past them.
    ['10.0.0.0/24', ['10.0.0.0/25', '10.0.0.0/26'], ['10.0.0.0/25'], '10.0.0.129'],
    ['10.0.0.0/16', ['10.0.128.0/17', '10.0.0.0/17'], ['10.0.0.0/17', '10.0.128.0/17'], undefined],
    ['10.0.0.0/16', ['192.168.0.0/16', 'fd00::/8'], [], '10.0.0.1'],
    ['10.0.0.7', ['10.0.0.0/29'], ['10.0.0.7'], undefined],
    ['10.0.0.7', ['10.0.0.8/29'], [], '10.0.0.7'],
    ['2001:db8::/32', ['2001:db8::/48', '2001:db8:1::/48'], ['2001:db8::/48', '2001:db8:1::/48'], '2001:db8:2::1'],
  ])('%s against %j: inside %j, outside %s', (range, networks, inside, outside) => {
    const r = splitByNetworks(cidr(range), networks.map(cidr))
    expect({inside: r.inside.map(formatCidr), outside: r.outside}).toEqual({inside, outside})
  })

  it.each([
    ['10.0.0.0/16', '10.0.0.1'],
    ['10.0.0.4/31', '10.0.0.4'],
    ['10.0.0.9', '10.0.0.9'],
    ['fd00::/64', 'fd00::1'],
  ])('%s is sampled by %s', (range, address) => {
    expect(sampleAddressOf(cidr(range))).toBe(address)
  })
})

describe('a set of networks (networkSet)', () => {
  const set = networkSet(['10.244.0.0/16', '10.244.3.7', '192.168.1.8/30', '192.168.1.12/30', 'fd00:10:244::/56'].map((t) => parseCidr(t)!))
  it.each([
    ['10.244.1.5', true],
    ['10.0.0.0/8', true],
    ['10.245.0.1', false],
    ['10.243.255.255', false],
    ['192.168.1.7', false],
    ['192.168.1.8', true],
    ['192.168.1.15', true],
    ['192.168.1.16', false],
    ['192.168.1.0/24', true],
    ['0.0.0.0/0', true],
    ['fd00:10:244:ff::1', true],
    ['fd00:10:245::1', false],
    ['::/0', true],
  ])('%s overlaps a network: %s', (text, want) => {
    expect(set.overlaps(parseCidr(text)!)).toBe(want)
  })

  it('an empty set overlaps nothing', () => {
    expect(networkSet([]).overlaps(parseCidr('0.0.0.0/0')!)).toBe(false)
  })

  // Pod IPs as networks (a cluster without podCIDRs): the set answers as a scan over every network would.
  it('answers as a scan over the networks does', () => {
    const v4 = fc.tuple(
      fc.constantFrom(10, 192),
      fc.integer({min: 0, max: 3}),
      fc.integer({min: 0, max: 255}),
      fc.integer({min: 0, max: 255}),
      fc.integer({min: 16, max: 32}),
    )
    const cidr = v4.map(([a, b, c, d, p]) => parseCidr(`${a}.${b}.${c}.${d}/${p}`)!)
    fc.assert(
      fc.property(fc.array(cidr, {maxLength: 40}), cidr, (networks, probe) => {
        expect(networkSet(networks).overlaps(probe)).toBe(networks.some((n) => cidrsOverlap(n, probe)))
      }),
      {numRuns: 300},
    )
  })
})
