// parseConntrack on lines printed by the real conntrack v1.4.7 (conntrack-tools) in a network
// namespace of this machine (the system test test/integration/conntrack-stale.test.ts makes them), in
// the default format and with `-o extended` / `-o id`: the two directions, the state, the flags; a line
// that is no entry is kept with its line number and why, never thrown.
import {describe, expect, it} from 'vitest'
import {parseConntrack, type ConntrackEntry} from '../../../src/core/conntrack/parse.js'

const UDP_UNREPLIED =
  'udp      17 29 src=10.244.2.7 dst=10.96.0.10 sport=40002 dport=53 [UNREPLIED] src=10.244.1.5 dst=10.244.2.7 sport=53 dport=40002 mark=0 use=2'
const UDP_EXTENDED =
  'ipv4     2 udp      17 29 src=10.244.2.7 dst=10.96.0.10 sport=40001 dport=53 [UNREPLIED] src=10.244.1.5 dst=10.244.2.7 sport=53 dport=40001 mark=0 use=2'
const UDP_ID =
  'udp      17 26 src=10.244.2.7 dst=10.96.0.10 sport=40002 dport=53 [UNREPLIED] src=10.244.1.5 dst=10.244.2.7 sport=53 dport=40002 mark=0 use=2 id=2525851084'
const TCP_SYN_SENT =
  'tcp      6 119 SYN_SENT src=10.244.2.7 dst=10.96.0.10 sport=35160 dport=53 [UNREPLIED] src=10.244.1.5 dst=10.244.2.7 sport=53 dport=35160 mark=0 use=2'
// The shapes conntrack prints with a reply seen, with accounting on (nf_conntrack_acct=1), for IPv6 and ICMP.
const UDP_ASSURED_ACCT =
  'udp      17 117 src=10.244.1.9 dst=10.96.0.10 sport=41234 dport=53 packets=3 bytes=180 src=10.244.2.7 dst=10.244.1.9 sport=53 dport=41234 packets=3 bytes=420 [ASSURED] mark=0 use=1'
const TCP_V6 =
  'ipv6     10 tcp      6 431999 ESTABLISHED src=fd00:10:244:1::9 dst=fd00:10:96::a sport=50000 dport=443 src=fd00:10:244:2::7 dst=fd00:10:244:1::9 sport=8443 dport=50000 [ASSURED] mark=0 use=1'
const ICMP = 'icmp     1 29 src=10.244.1.9 dst=10.96.0.10 type=8 code=0 id=7 src=10.96.0.10 dst=10.244.1.9 type=0 code=0 id=7 mark=0 use=1'

const one = (line: string): ConntrackEntry | undefined => parseConntrack(line, 'node1: conntrack -L').entries[0]

describe('parseConntrack', () => {
  it.each<[string, string, Partial<ConntrackEntry>]>([
    [
      'udp, unreplied',
      UDP_UNREPLIED,
      {
        protocol: 'udp',
        timeout: 29,
        original: {src: '10.244.2.7', dst: '10.96.0.10', sport: 40002, dport: 53},
        reply: {src: '10.244.1.5', dst: '10.244.2.7', sport: 53, dport: 40002},
        flags: ['UNREPLIED'],
      },
    ],
    ['-o extended', UDP_EXTENDED, {protocol: 'udp', original: {src: '10.244.2.7', dst: '10.96.0.10', sport: 40001, dport: 53}, flags: ['UNREPLIED']}],
    ['-o id', UDP_ID, {timeout: 26, reply: {src: '10.244.1.5', dst: '10.244.2.7', sport: 53, dport: 40002}}],
    [
      'tcp with its state',
      TCP_SYN_SENT,
      {protocol: 'tcp', timeout: 119, state: 'SYN_SENT', reply: {src: '10.244.1.5', dst: '10.244.2.7', sport: 53, dport: 35160}},
    ],
    [
      'replied, with counters between the directions',
      UDP_ASSURED_ACCT,
      {
        original: {src: '10.244.1.9', dst: '10.96.0.10', sport: 41234, dport: 53},
        reply: {src: '10.244.2.7', dst: '10.244.1.9', sport: 53, dport: 41234},
        flags: ['ASSURED'],
      },
    ],
    [
      'IPv6, extended, canonical addresses',
      TCP_V6,
      {
        state: 'ESTABLISHED',
        original: {src: 'fd00:10:244:1::9', dst: 'fd00:10:96::a', sport: 50000, dport: 443},
        reply: {src: 'fd00:10:244:2::7', dst: 'fd00:10:244:1::9', sport: 8443, dport: 50000},
      },
    ],
    ['icmp: no ports', ICMP, {protocol: 'icmp', original: {src: '10.244.1.9', dst: '10.96.0.10'}, reply: {src: '10.96.0.10', dst: '10.244.1.9'}}],
  ])('reads %s', (_what, line, expected) => {
    expect(one(line)).toMatchObject({...expected, line: 1})
  })

  it('leaves out UDP state: it has none', () => {
    expect(one(UDP_UNREPLIED)).not.toHaveProperty('state')
  })

  it('keeps lines that are no entry, with the line number and why, and reads the rest', () => {
    const text = [
      UDP_UNREPLIED,
      'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.',
      'conntrack v1.4.7 (conntrack-tools): Operation failed: invalid parameters',
      'udp      17 29 src=10.244.2.7 dst=kube-dns sport=1 dport=53 src=10.244.1.5 dst=10.244.2.7 sport=53 dport=1',
      'udp      17 29 src=10.244.2.7 dst=10.96.0.10 sport=40002 dport=53 [UNREPLIED]',
      '',
      TCP_SYN_SENT,
    ].join('\n')
    const table = parseConntrack(text, 'bundle/nodes/node1/conntrack.txt')
    expect(table.source).toBe('bundle/nodes/node1/conntrack.txt')
    expect(table.entries.map((e) => e.line)).toEqual([1, 7])
    expect(table.unread.map((u) => [u.line, u.reason])).toEqual([
      [3, 'not a conntrack entry (expected: PROTOCOL NUMBER TIMEOUT [STATE] src=… dst=…)'],
      [4, 'original direction: an address is not an IP (src=10.244.2.7 dst=kube-dns)'],
      [5, 'reply direction: expected src='],
    ])
  })

  it('reads CRLF line ends and an empty output', () => {
    expect(parseConntrack(`${UDP_UNREPLIED}\r\n${TCP_SYN_SENT}\r\n`, 's').entries).toHaveLength(2)
    expect(parseConntrack('', 's')).toEqual({source: 's', entries: [], unread: []})
  })
})
