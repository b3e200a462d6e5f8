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

  it('without iptables-save: the backends, and a note that masquerade was not checked', () => {
    const t = trace(state(servers('rr', [1])))
    expect(t.outcomes.map((o) => [o.verdict, o.masquerade])).toEqual([['dnat', undefined]])
    expect(noteLines(t.notes)).toMatch(/iptables rules of this IPVS node were not read/)
  })
})
