import {describe, expect, it} from 'vitest'
import {isNotRead, isUncertain, uniqueNotes, type Note} from '../../../src/core/trace/notes.js'
import {noteRecord, noteText} from '../../../src/render/notes.js'

// One note of every kind; the `satisfies` makes the compiler list a kind added to Note but not here.
const EXAMPLES = {
  'chain-missing': {kind: 'chain-missing', table: 'nat', chain: 'KUBE-SVC-X'},
  'jump-to-missing-chain': {kind: 'jump-to-missing-chain', chain: 'KUBE-SVC-X'},
  'jump-cycle': {kind: 'jump-cycle', verb: 'jump', chain: 'A', stack: ['PREROUTING', 'A', 'A'], line: 7},
  'jump-cycle-at': {kind: 'jump-cycle-at', line: 7},
  'branch-limit': {kind: 'branch-limit', limit: 4096},
  'walk-limit': {kind: 'walk-limit', limit: 65600},
  'path-limit': {kind: 'path-limit', limit: 256},
  'rule-unreadable': {kind: 'rule-unreadable', line: 3, error: 'unbalanced quote'},
  'rule-skipped': {kind: 'rule-skipped', line: 3},
  'dnat-unreadable': {kind: 'dnat-unreadable', line: 9, text: '--to-destination x'},
  'target-not-understood': {kind: 'target-not-understood', line: 4, target: 'TPROXY'},
  'unknown-target': {kind: 'unknown-target', line: 4, target: 'TPROXY'},
  'hooks-assumed': {kind: 'hooks-assumed', table: 'nat', builtin: 'PREROUTING', hooks: ['KUBE-SERVICES']},
  'no-nat-table': {kind: 'no-nat-table'},
  'no-filter-table': {kind: 'no-filter-table'},
  'family-not-read': {kind: 'family-not-read', family: 6, missing: 'ip6tables-save', read: 'node1: iptables-save'},
  'source-port-unknown': {kind: 'source-port-unknown', line: 2},
  'addrtype-unknown': {kind: 'addrtype-unknown', line: 2, type: 'BROADCAST'},
  'mark-unknown': {kind: 'mark-unknown', line: 2},
  'interface-untraced': {kind: 'interface-untraced', line: 2, name: 'eth0'},
  'ipset-unavailable': {kind: 'ipset-unavailable', line: 2, set: 'KUBE-CLUSTER-IP'},
  'match-not-understood': {kind: 'match-not-understood', line: 2, text: '-m geoip --src-cc XX'},
  'statement-not-understood': {kind: 'statement-not-understood', chain: 'services', line: 0, text: 'limit rate 10/second'},
  'match-undecided': {kind: 'match-undecided', chain: 'services', text: 'meta skuid 0'},
  'map-key-unreadable': {kind: 'map-key-unreadable', chain: 'services', text: 'ip daddr . meta l4proto vmap @x'},
  'redirect-to-local-process': {kind: 'redirect-to-local-process', chain: 'c', text: 'redirect to :8080'},
  'no-kube-proxy-table': {kind: 'no-kube-proxy-table', source: 'node1: nft', family: 'ip6'},
  'ipvs-scheduler': {
    kind: 'ipvs-scheduler',
    server: 'ipvs 10.96.0.10:53/UDP',
    scheduler: 'rr',
    how: 'round robin',
    realServers: [{address: '10.244.0.2:53', weight: 1}],
  },
  'ipvs-draining': {kind: 'ipvs-draining', server: 'ipvs 10.96.0.10:53/UDP', realServer: '10.244.0.3:53'},
  'ipvs-persistent': {kind: 'ipvs-persistent', server: 'ipvs 10.96.0.10:53/UDP', seconds: 600},
  'ipvs-persistent-ticks': {kind: 'ipvs-persistent-ticks', server: 'ipvs 10.96.0.10:53/UDP', ticks: 150000},
  'ipvs-flags': {kind: 'ipvs-flags', server: 'ipvs 10.96.0.10:53/UDP', flags: ['ops']},
  'ipvs-no-virtual-server': {kind: 'ipvs-no-virtual-server', ip: '10.96.0.10', port: 81, protocol: 'TCP'},
  'ipvs-no-real-servers': {kind: 'ipvs-no-real-servers', server: 'ipvs 10.96.0.10:53/UDP', onlyDraining: false},
  'ipvs-hairpin': {kind: 'ipvs-hairpin', ip: '10.244.0.2'},
  'ipvs-local-policy': {kind: 'ipvs-local-policy', address: '192.168.0.2:30080', set: 'KUBE-NODE-PORT-LOCAL-TCP'},
  'ipvs-iptables-not-read': {kind: 'ipvs-iptables-not-read', missing: 'iptables-save'},
  'ipvs-dnat-by-iptables': {kind: 'ipvs-dnat-by-iptables'},
  'userspace-proxy': {kind: 'userspace-proxy', port: 38107},
  'userspace-no-portal': {kind: 'userspace-no-portal', chain: 'KUBE-PORTALS-CONTAINER', source: 'node1: iptables-save'},
  'modes-mixed': {kind: 'modes-mixed', node: 'node1', others: ['nftables'], used: 'iptables', orderUncertain: true},
  assumed: {kind: 'assumed', conditions: ['source not in 203.0.113.0/24'], sourceGiven: false},
  'fall-through': {kind: 'fall-through', share: 0.25},
  'no-service-port': {kind: 'no-service-port', service: 'default/web', ip: '10.96.77.44', port: 81, protocol: 'TCP'},
} satisfies {[K in Note['kind']]: Extract<Note, {kind: K}>}

const notes: Note[] = Object.values(EXAMPLES)

describe('trace notes: a kind with parameters; the renderer makes the sentence', () => {
  it.each(notes.map((n) => [n.kind, n] as const))('%s has a sentence that names its parameters', (_kind, n) => {
    const text = noteText(n)
    expect(text.length).toBeGreaterThan(10)
    expect(text).not.toMatch(/undefined|\[object Object\]|NaN/)
    for (const v of Object.entries(n)
      .filter(([k]) => k !== 'kind' && k !== 'sourceGiven' && k !== 'onlyDraining' && k !== 'orderUncertain')
      .map(([, v]) => v)) {
      const words = Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))) : [String(v)]
      // Arrays of objects are spelled out field by field; check one field of each instead.
      for (const w of words) if (!w.startsWith('{')) expect(text, `${n.kind}: ${w}`).toContain(n.kind === 'fall-through' ? '25%' : w)
    }
  })

  it("the renderer keeps today's sentences (the table and golden files depend on them)", () => {
    expect(noteText(EXAMPLES.assumed)).toBe('assumed: source not in 203.0.113.0/24 (give --source IP to trace a specific client)')
    expect(noteText({...EXAMPLES.assumed, sourceGiven: true})).toBe('assumed: source not in 203.0.113.0/24')
    expect(noteText(EXAMPLES['ipvs-scheduler'])).toBe('ipvs 10.96.0.10:53/UDP: scheduler rr (round robin); real servers 10.244.0.2:53 weight 1')
    expect(noteText(EXAMPLES['fall-through'])).toBe('25% of new connections fall through the probability rules without DNAT')
  })

  it('uncertainty is a property of the kind: skipped or unreadable rules, cycles, cut-short walks', () => {
    expect(
      notes
        .filter(isUncertain)
        .map((n) => n.kind)
        .sort(),
    ).toEqual([
      'branch-limit',
      'chain-missing',
      'dnat-unreadable',
      'family-not-read',
      'ipset-unavailable',
      'jump-cycle',
      'match-not-understood',
      'no-filter-table',
      'path-limit',
      'rule-skipped',
      'rule-unreadable',
      'statement-not-understood',
      'target-not-understood',
      'walk-limit',
    ])
  })

  it('a path is untraced, not just uncertain, only when the dump of its address family was not read', () => {
    expect(notes.filter(isNotRead).map((n) => n.kind)).toEqual(['family-not-read'])
  })

  it('JSON records keep kind and parameters and add the sentence', () => {
    expect(noteRecord(EXAMPLES['ipvs-hairpin'])).toEqual({
      kind: 'ipvs-hairpin',
      ip: '10.244.0.2',
      text: '10.244.0.2 reaches itself through the Service: KUBE-LOOP-BACK masquerades it',
    })
  })

  it('uniqueNotes drops repeats by value, keeping first-seen order', () => {
    expect(uniqueNotes([EXAMPLES['fall-through'], EXAMPLES['no-nat-table'], {kind: 'fall-through', share: 0.25}])).toEqual([
      EXAMPLES['fall-through'],
      EXAMPLES['no-nat-table'],
    ])
  })
})
