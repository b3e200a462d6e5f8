// `-m set --match-set NAME FLAGS`: parsed as a typed match, printed back unchanged, and evaluated
// against the node's ipsets component by component (address, port+protocol, network).
import {describe, expect, it} from 'vitest'
import {networkSet, parseCidr} from '../../../src/core/address.js'
import {evaluateRule} from '../../../src/core/iptables/match.js'
import type {NodeContext} from '../../../src/core/trace/node.js'
import {noteLines} from '../../support/notes.js'
import type {Packet} from '../../../src/core/trace/packet.js'
import {formatRule, parseRuleLine, type Rule} from '../../../src/core/iptables/rule.js'
import {ipsetMembership} from '../../../src/core/ipvs/ipset-match.js'
import {parseIpset} from '../../../src/core/ipvs/ipset.js'
import {first} from '../../support/defined.js'

function rule(text: string): Rule {
  const r = parseRuleLine(text, 'nat', 1)
  if ('error' in r) throw new Error(r.error)
  return r
}

const SETS = parseIpset(
  [
    'create KUBE-CLUSTER-IP hash:ip,port family inet',
    'add KUBE-CLUSTER-IP 10.96.0.10,udp:53',
    'add KUBE-CLUSTER-IP 10.96.0.1,tcp:443',
    'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535',
    'add KUBE-NODE-PORT-TCP 30080',
    'create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet',
    'add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,203.0.113.0/25',
    'add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,10.0.0.0/8',
    'create KUBE-EMPTY hash:ip family inet',
  ].join('\n'),
  'ipset.txt',
)
const node: NodeContext = {local: [], podNetworks: networkSet([parseCidr('10.0.0.0/8')!]), sets: ipsetMembership(SETS)}

function packet(dst: string, dport: number, protocol: Packet['protocol'] = 'TCP', src?: string): Packet {
  return {...(src ? {src: parseCidr(src)!} : {}), srcLocal: false, dst: parseCidr(dst)!, dport, protocol, mark: 0, dnatted: false}
}

describe('-m set, parsed', () => {
  it.each([
    [
      '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      {name: 'KUBE-CLUSTER-IP', dims: ['dst', 'dst'], negated: false},
    ],
    ['-A KUBE-NODE-PORT -p tcp -m set ! --match-set KUBE-NODE-PORT-TCP dst -j RETURN', {name: 'KUBE-NODE-PORT-TCP', dims: ['dst'], negated: true}],
    [
      '-A KUBE-SOURCE-RANGES-FIREWALL -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN',
      {name: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', dims: ['dst', 'dst', 'src'], negated: false},
    ],
  ])('%s', (text, expected) => {
    const r = rule(text)
    expect(r.matches.find((m) => m.kind === 'set')).toEqual({kind: 'set', ...expected})
    expect(formatRule(r)).toBe(text)
  })

  it('options that change the meaning stay unknown', () => {
    expect(rule('-A X -m set --match-set S dst --return-nomatch -j RETURN').matches).toEqual([
      {kind: 'unknown', text: '-m set --match-set S dst --return-nomatch'},
    ])
    expect(first(rule('-A X -m set --match-set S dst,sideways -j RETURN').matches).kind).toBe('unknown')
  })
})

describe('-m set, evaluated against the ipsets', () => {
  const verdict = (text: string, p: Packet, ctx: NodeContext = node) => {
    const r = evaluateRule(rule(text), p, ctx)
    return r.result === 'maybe' ? `maybe: ${r.conditions.map((c) => c.holds).join('; ')}` : r.result
  }
  const CLUSTER = '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT'

  it.each([
    ['a clusterIP and port in the set', CLUSTER, packet('10.96.0.10', 53, 'UDP'), 'yes'],
    ['the right port with another protocol', CLUSTER, packet('10.96.0.10', 53, 'TCP'), 'no'],
    ['another port', CLUSTER, packet('10.96.0.1', 80), 'no'],
    [
      'a bitmap:port set matches the port whatever the address',
      '-A KUBE-NODE-PORT -p tcp -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ',
      packet('192.168.0.2', 30080),
      'yes',
    ],
    ['negated', '-A X -m set ! --match-set KUBE-NODE-PORT-TCP dst -j RETURN', packet('192.168.0.2', 30080), 'no'],
    ['a set the node does not have counts as empty', '-A X -m set --match-set KUBE-NOT-THERE dst -j RETURN', packet('1.1.1.1', 1), 'no'],
    ['an empty set', '-A X -m set --match-set KUBE-EMPTY dst -j RETURN', packet('1.1.1.1', 1), 'no'],
    [
      'a source inside an allowed range',
      '-A F -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN',
      packet('1.2.3.4', 80, 'TCP', '203.0.113.7'),
      'yes',
    ],
    [
      'a source outside every range',
      '-A F -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN',
      packet('1.2.3.4', 80, 'TCP', '198.51.100.7'),
      'no',
    ],
    // Unnamed outside client: not in the pod network 10.0.0.0/8, undecided for 203.0.113.0/25.
    [
      'an unnamed outside client',
      '-A F -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN',
      packet('1.2.3.4', 80),
      'maybe: source in 203.0.113.0/25 (ipset KUBE-LOAD-BALANCER-SOURCE-CIDR)',
    ],
  ])('%s', (_what, text, p, expected) => {
    expect(verdict(text, p)).toBe(expected)
  })

  it('without the ipsets the match is undecided and reported as not understood', () => {
    const r = evaluateRule(rule(CLUSTER), packet('10.96.0.10', 53, 'UDP'), {local: [], podNetworks: networkSet([])})
    expect(r.result).toBe('maybe')
    expect(first(r.conditions).holds).toBe('packet is in ipset KUBE-CLUSTER-IP')
    expect(noteLines(r.unknown)).toMatch(/is not understood by svctrace without the node's ipsets/)
    expect(r.unknown).toEqual([expect.objectContaining({kind: 'ipset-unavailable', set: 'KUBE-CLUSTER-IP'})])
  })

  it('a large set is looked up by address, with the same answers as a scan', () => {
    const lines = ['create KUBE-CLUSTER-IP hash:ip,port family inet']
    for (let i = 0; i < 2000; i++) lines.push(`add KUBE-CLUSTER-IP 10.96.${i >> 8}.${i & 255},tcp:${80 + (i % 3)}`)
    const ctx: NodeContext = {local: [], podNetworks: networkSet([]), sets: ipsetMembership(parseIpset(lines.join('\n'), 'big'))}
    // Member 1952 is 10.96.7.160,tcp:82 (1952 = 7·256 + 160, 80 + 1952 mod 3).
    expect(verdict(CLUSTER, packet('10.96.7.160', 82), ctx)).toBe('yes')
    expect(verdict(CLUSTER, packet('10.96.7.160', 80), ctx)).toBe('no')
    expect(verdict(CLUSTER, packet('10.96.9.1', 80), ctx)).toBe('no')
  })
})
