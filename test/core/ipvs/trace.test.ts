// What the IPVS tracer says beyond the samples: weights and schedulers, draining (weight 0) real
// servers, persistence, hairpin masquerade, Local policy, and a node read without iptables rules.
import {describe, expect, it} from 'vitest'
import {indexIptablesSave} from '../../../src/core/iptables/dump.js'
import type {Outcome} from '../../../src/core/trace/branch.js'
import {parseIpset} from '../../../src/core/ipvs/ipset.js'
import {parseIpvsTable} from '../../../src/core/ipvs/ipvsadm.js'
import {schedulerShares} from '../../../src/core/ipvs/scheduler.js'
import {traceIpvs, type IpvsState} from '../../../src/core/ipvs/trace.js'
import {noteLines} from '../../support/notes.js'
import {at, first} from '../../support/defined.js'

const VIP = '10.96.0.20'

function state(save: string[], ipset?: string[], iptables?: string): IpvsState {
  return {
    table: parseIpvsTable(save.join('\n'), 'ipvsadm.txt'),
    ...(ipset ? {ipsets: parseIpset(ipset.join('\n'), 'ipset.txt')} : {}),
    ...(iptables ? {iptables: indexIptablesSave(iptables, 'iptables-save.txt')} : {}),
  }
}

function trace(s: IpvsState, port = 80, source = '10.244.0.5', ip = VIP) {
  return traceIpvs(s, {
    node: {name: 'n1', addresses: ['192.168.0.2']},
    destination: {ip, port, protocol: 'TCP'},
    from: 'pod',
    source,
    podNetworks: ['10.244.0.0/16'],
  })
}

const shares = (outcomes: Outcome[]) =>
  Object.fromEntries(outcomes.filter((o) => o.dnat).map((o) => [`${o.dnat!.ip}:${o.dnat!.port}`, Math.round(o.probability * 1000) / 1000]))
const notes = (outcomes: Outcome[]) => noteLines(outcomes.flatMap((o) => o.notes))

const servers = (sched: string, weights: number[], flags = '') => [
  `-A -t ${VIP}:80 -s ${sched}${flags}`,
  ...weights.map((w, i) => `-a -t ${VIP}:80 -r 10.244.1.${i + 1}:8080 -m -w ${w}`),
]

describe('real servers and schedulers', () => {
  it('wrr: shares follow the weights; weight 0 is draining and left out', () => {
    const t = trace(state(servers('wrr', [3, 1, 0])))
    expect(shares(t.outcomes)).toEqual({'10.244.1.1:8080': 0.75, '10.244.1.2:8080': 0.25})
    expect(notes(t.outcomes)).toContain(
      'scheduler wrr (weighted round robin: new connections in proportion to the weights); real servers 10.244.1.1:8080 weight 3, 10.244.1.2:8080 weight 1, 10.244.1.3:8080 weight 0',
    )
    expect(notes(t.outcomes)).toContain('real server 10.244.1.3:8080 has weight 0: draining (no new connections; open ones continue)')
  })

  it('rr: an even split whatever the weights', () => {
    expect(shares(trace(state(servers('rr', [3, 1]))).outcomes)).toEqual({'10.244.1.1:8080': 0.5, '10.244.1.2:8080': 0.5})
  })

  it('only draining real servers: refused, and said why', () => {
    const t = trace(state(servers('rr', [0, 0])))
    expect(t.outcomes.map((o) => o.verdict)).toEqual(['reject'])
    expect(notes(t.outcomes)).toMatch(/has only draining real servers \(weight 0\): IPVS answers ICMP port unreachable/)
  })

  it('persistence (-p) is ClientIP affinity for the report', () => {
    const t = trace(state(servers('rr', [1, 1], ' -p 600')))
    expect(t.outcomes.map((o) => o.affinitySeconds)).toEqual([600, 600])
    expect(notes(t.outcomes)).toContain('is persistent (-p 600): a client returns to the same real server within 600 s of its last connection')
  })

  it.each([
    ['rr', [1, 1, 2], [1 / 3, 1 / 3, 1 / 3]],
    ['lc', [5, 1], [0.5, 0.5]],
    ['wlc', [3, 1], [0.75, 0.25]],
    ['sh', [1, 3], [0.25, 0.75]],
    ['fo', [1, 5, 2], [0, 1, 0]],
    ['made-up', [1, 1], [0.5, 0.5]],
  ])('%s shares of weights %j', (sched, weights, expected) => {
    schedulerShares(sched, weights).shares.forEach((s, i) => expect(s).toBeCloseTo(at(expected, i), 10))
  })

  it('weighted failover sends every new connection to the highest weight only', () => {
    expect(shares(trace(state(servers('fo', [1, 5]))).outcomes)).toEqual({'10.244.1.2:8080': 1})
  })
})

describe('the iptables side and the ipsets', () => {
  const RULES = [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ',
    '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
    '-A KUBE-POSTROUTING -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    'COMMIT',
    '',
  ].join('\n')
  const SETS = ['add KUBE-CLUSTER-IP 10.96.0.20,tcp:80', 'add KUBE-LOOP-BACK 10.244.1.1,tcp:8080,10.244.1.1', 'add KUBE-IPVS-IPS 10.96.0.20']

  it('a pod reaching itself through the Service is masqueraded (KUBE-LOOP-BACK), the others are not', () => {
    const t = trace(state(servers('rr', [1, 1]), SETS, RULES), 80, '10.244.1.1')
    expect(Object.fromEntries(t.outcomes.map((o) => [o.dnat!.ip, o.masquerade]))).toEqual({'10.244.1.1': true, '10.244.1.2': false})
  })

  it('a port the Service does not have on a kube-ipvs0 address is refused', () => {
    const t = trace(state(servers('rr', [1]), SETS, RULES), 81)
    expect(t.outcomes.map((o) => o.verdict)).toEqual(['reject'])
    expect(first(t.outcomes).hops.at(-1)!.rule).toMatch(/is bound to kube-ipvs0 but ipvsadm.txt has no virtual server for this port/)
  })

  it('externalTrafficPolicy Local is noted from the *-LOCAL ipsets', () => {
    const table = ['-A -t 192.168.0.2:30080 -s rr', '-a -t 192.168.0.2:30080 -r 10.244.1.1:8080 -m -w 1']
    const t = traceIpvs(state(table, ['add KUBE-NODE-PORT-TCP 30080', 'add KUBE-NODE-PORT-LOCAL-TCP 30080']), {
      node: {name: 'n1', addresses: ['192.168.0.2']},
      destination: {ip: '192.168.0.2', port: 30080, protocol: 'TCP'},
      from: 'external',
      source: '198.51.100.7',
      podNetworks: [],
    })
    expect(notes(t.outcomes)).toMatch(/externalTrafficPolicy Local \(192.168.0.2:30080 is in ipset KUBE-NODE-PORT-LOCAL-TCP\)/)
  })

  it.each([
    ['TCP', '-t', 'add KUBE-NODE-PORT-LOCAL-TCP 30080', 'KUBE-NODE-PORT-LOCAL-TCP'],
    ['UDP', '-u', 'add KUBE-NODE-PORT-LOCAL-UDP 30080', 'KUBE-NODE-PORT-LOCAL-UDP'],
    // SCTP node ports are hash:ip,port members of KUBE-NODE-PORT-LOCAL-SCTP-HASH, one per node address.
    ['SCTP', '--sctp-service', 'add KUBE-NODE-PORT-LOCAL-SCTP-HASH 192.168.0.2,sctp:30080', 'KUBE-NODE-PORT-LOCAL-SCTP-HASH'],
  ] as const)('a Local %s node port is noted from its own set', (protocol, flag, member, set) => {
    const table = [`-A ${flag} 192.168.0.2:30080 -s rr`, `-a ${flag} 192.168.0.2:30080 -r 10.244.1.1:8080 -m -w 1`]
    const t = traceIpvs(state(table, [member]), {
      node: {name: 'n1', addresses: ['192.168.0.2']},
      destination: {ip: '192.168.0.2', port: 30080, protocol},
      from: 'external',
      source: '198.51.100.7',
      podNetworks: [],
    })
    expect(notes(t.outcomes)).toContain(`externalTrafficPolicy Local (192.168.0.2:30080 is in ipset ${set})`)
  })

  it('without iptables-save: the backends, and a note that masquerade was not checked', () => {
    const t = trace(state(servers('rr', [1])))
    expect(t.outcomes.map((o) => [o.verdict, o.masquerade])).toEqual([['dnat', undefined]])
    expect(noteLines(t.notes)).toMatch(/iptables rules of this IPVS node were not read/)
  })
})

// A dual-stack node: one IPVS table for both families, but each family's proxier writes its own
// iptables rules (ip6tables for IPv6) and its own ipsets (KUBE-6-… for IPv6).
describe('IPv6 destinations on a dual-stack node', () => {
  const VIP6 = 'fd00:10:96::a'
  const rules = (family: 4 | 6) => {
    const [set, lo, pods] = family === 6 ? ['KUBE-6-', '::1/128', 'fd00:10:244::/56'] : ['KUBE-', '127.0.0.0/8', '10.244.0.0/16']
    return [
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      `-A KUBE-SERVICES -s ${lo} -j RETURN`,
      `-A KUBE-SERVICES ! -s ${pods} -m set --match-set ${set}CLUSTER-IP dst,dst -j KUBE-MARK-MASQ`,
      `-A KUBE-SERVICES -m set --match-set ${set}CLUSTER-IP dst,dst -j ACCEPT`,
      `-A KUBE-POSTROUTING -m set --match-set ${set}LOOP-BACK dst,dst,src -j MASQUERADE`,
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
      'COMMIT',
      '',
    ].join('\n')
  }
  const TABLE = [
    ...servers('rr', [1]),
    `-A -t [${VIP6}]:80 -s rr`,
    `-a -t [${VIP6}]:80 -r [fd00:10:244::10]:8080 -m -w 1`,
    `-a -t [${VIP6}]:80 -r [fd00:10:244::11]:8080 -m -w 1`,
    '-A -t [fd00:192:168:49::2]:30080 -s rr',
    '-a -t [fd00:192:168:49::2]:30080 -r [fd00:10:244::10]:8080 -m -w 1',
  ]
  const SETS = [
    `add KUBE-CLUSTER-IP ${VIP},tcp:80`,
    `add KUBE-IPVS-IPS ${VIP}`,
    'add KUBE-NODE-PORT-LOCAL-TCP 30080',
    `add KUBE-6-CLUSTER-IP ${VIP6},tcp:80`,
    `add KUBE-6-IPVS-IPS ${VIP6}`,
    'add KUBE-6-NODE-PORT-TCP 30080',
    'add KUBE-6-LOOP-BACK fd00:10:244::10,tcp:8080,fd00:10:244::10',
  ]
  const dual = (v6 = true): IpvsState => ({
    ...state(TABLE, SETS, rules(4)),
    ...(v6 ? {iptables6: indexIptablesSave(rules(6), 'ip6tables-save.txt')} : {}),
  })
  const trace6 = (s: IpvsState, port = 80, source: string | undefined = 'fd00:10:244::10', ip = VIP6, from: 'pod' | 'external' = 'pod') =>
    traceIpvs(s, {
      node: {name: 'n1', addresses: ['192.168.0.2', 'fd00:192:168:49::2']},
      destination: {ip, port, protocol: 'TCP'},
      from,
      ...(source ? {source} : {}),
      podNetworks: ['10.244.0.0/16', 'fd00:10:244::/56'],
    })

  it("walks the IPv6 proxier's ip6tables rules, then IPVS's IPv6 real servers, split by the scheduler", () => {
    const t = trace6(dual(), 80, 'fd00:10:244::99')
    expect(shares(t.outcomes)).toEqual({'fd00:10:244::10:8080': 0.5, 'fd00:10:244::11:8080': 0.5})
    const hops = first(t.outcomes).hops
    expect(hops.filter((h) => h.chain === 'KUBE-SERVICES').map((h) => h.rule)).toEqual([
      '-A KUBE-SERVICES -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j ACCEPT',
    ])
    expect(hops.slice(-2).map((h) => h.rule)).toEqual([`-A -t [${VIP6}]:80 -s rr`, `-a -t [${VIP6}]:80 -r [fd00:10:244::10]:8080 -m -w 1`])
    expect(t.outcomes.map((o) => o.masquerade)).toEqual([false, false])
  })

  it('an IPv4 destination of the same node still walks the IPv4 rules', () => {
    const t = trace(dual(), 80, '10.244.0.99')
    expect(
      first(t.outcomes)
        .hops.filter((h) => h.chain === 'KUBE-SERVICES')
        .map((h) => h.rule),
    ).toEqual(['-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT'])
  })

  it('a client outside the IPv6 pod network is masqueraded by the ip6tables rule', () => {
    const t = trace6(dual(), 80, '2001:db8:ff::7', VIP6, 'external')
    expect(t.outcomes.map((o) => o.masquerade)).toEqual([true, true])
    expect(first(t.outcomes).hops.map((h) => h.rule)).toContain(
      '-A KUBE-SERVICES ! -s fd00:10:244::/56 -m set --match-set KUBE-6-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
    )
  })

  it('hairpin: KUBE-6-LOOP-BACK masquerades a pod reaching itself', () => {
    const t = trace6(dual(), 80, 'fd00:10:244::10')
    expect(Object.fromEntries(t.outcomes.map((o) => [o.dnat!.ip, o.masquerade]))).toEqual({'fd00:10:244::10': true, 'fd00:10:244::11': false})
  })

  it('a port the IPv6 Service does not have is refused by the ip6tables KUBE-IPVS-FILTER address set (KUBE-6-IPVS-IPS)', () => {
    const t = trace6(dual(), 81)
    expect(t.outcomes.map((o) => o.verdict)).toEqual(['reject'])
    expect(notes(t.outcomes)).toMatch(/fd00:10:96::a is an IPVS address \(kube-ipvs0\) without a virtual server for port 81\/TCP/)
  })

  it("Local policy is read from the IPv6 proxier's sets only: the IPv4 KUBE-NODE-PORT-LOCAL-TCP says nothing about the IPv6 node port", () => {
    const t = trace6(dual(), 30080, '198.51.100.7', 'fd00:192:168:49::2', 'external')
    expect(shares(t.outcomes)).toEqual({'fd00:10:244::10:8080': 1})
    expect(notes(t.outcomes)).not.toMatch(/externalTrafficPolicy Local/)
    const local = state(TABLE, [...SETS, 'add KUBE-6-NODE-PORT-LOCAL-TCP 30080'], rules(4))
    expect(notes(trace6(local, 30080, '198.51.100.7', 'fd00:192:168:49::2', 'external').outcomes)).toMatch(
      /externalTrafficPolicy Local \(\[fd00:192:168:49::2\]:30080 is in ipset KUBE-6-NODE-PORT-LOCAL-TCP\)/,
    )
  })

  it('without ip6tables-save: the IPv6 real servers, and a note naming the missing dump', () => {
    const t = trace6(dual(false))
    expect(shares(t.outcomes)).toEqual({'fd00:10:244::10:8080': 0.5, 'fd00:10:244::11:8080': 0.5})
    expect(noteLines(t.notes)).toMatch(/the IPv6 iptables rules of this IPVS node were not read \(ip6tables-save\)/)
  })
})
