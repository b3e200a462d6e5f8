// ipvsadm -Ln --stats beside the IPVS table: counters land on the real servers, reach the traced
// backends as connections/packets/bytes, and odd text is refused naming the line.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {parseIpvsTable} from '../../../src/core/ipvs/ipvsadm.js'
import {parseIpvsStats, withIpvsStats} from '../../../src/core/ipvs/ipvsadm-stats.js'
import {traceIpvs} from '../../../src/core/ipvs/trace.js'
import {dumpErrorOf} from '../../support/errors.js'

const dir = fileURLToPath(new URL('../../fixtures/samples/ipvs/', import.meta.url))
const save = parseIpvsTable(readFileSync(`${dir}ipvs-1.26-clusterip-multi-endpoints.ipvsadm-save.txt`, 'utf8'), 'ipvsadm.txt')
const statsText = readFileSync(`${dir}derived/ipvs-1.26-clusterip-multi-endpoints.ipvsadm-stats.txt`, 'utf8')

describe('ipvsadm --stats', () => {
  it('reads each real server: Conns, InPkts and InBytes', () => {
    const stats = parseIpvsStats(statsText, 'ipvsadm-stats.txt')
    expect(Object.fromEntries(stats.get('TCP|10.20.30.41|80') ?? [])).toEqual({
      '10.180.0.1|8080': {connections: 9120, packets: 54720, bytes: 3283200},
      '10.180.0.2|8080': {connections: 150, packets: 900, bytes: 54000},
      '10.180.0.3|8080': {connections: 150, packets: 900, bytes: 54000},
    })
    expect(stats.get('UDP|10.20.30.41|53')?.size).toBe(3)
  })

  it('reads the abbreviations ipvsadm prints without --exact (K, M, G: powers of 1000)', () => {
    const text = ['TCP  10.20.30.41:80  12 100 90  123456K 7M', '  -> 10.180.0.1:8080  12 100 90  123456K 7M'].join('\n')
    expect(parseIpvsStats(text, 's').get('TCP|10.20.30.41|80')?.get('10.180.0.1|8080')).toEqual({connections: 12, packets: 100, bytes: 123456000})
  })

  it('reads IPv6 virtual and real servers (bracketed, as ipvsadm -n prints them)', () => {
    const text = [
      'TCP  [fd00:10:96::a]:80                 5       30       25     1800    15000',
      '  -> [fd00:10:244:1::5]:8080         5       30       25     1800    15000',
    ].join('\n')
    expect(parseIpvsStats(text, 's').get('TCP|fd00:10:96::a|80')?.get('fd00:10:244:1::5|8080')).toEqual({connections: 5, packets: 30, bytes: 1800})
  })

  it('adds the counters to the traced backends, by virtual server and real server', () => {
    const table = withIpvsStats(save, parseIpvsStats(statsText, 'ipvsadm-stats.txt'))
    const trace = traceIpvs(
      {table},
      {
        node: {name: 'n1', addresses: ['192.168.0.2']},
        destination: {ip: '10.20.30.41', port: 53, protocol: 'UDP'},
        from: 'pod',
        source: '10.244.0.5',
        podNetworks: ['10.244.0.0/16'],
      },
    )
    const counted = Object.fromEntries(trace.outcomes.map((o) => [`${o.dnat?.ip}:${o.dnat?.port}`, o.dnat?.counters?.connections]))
    expect(counted).toEqual({'10.180.0.1:5353': 40, '10.180.0.2:5353': 41, '10.180.0.3:5353': 39})
  })

  it('leaves real servers the listing does not name without counters', () => {
    const table = withIpvsStats(save, parseIpvsStats('TCP  10.20.30.41:80  1 1 1 60 60\n  -> 10.180.0.1:8080  1 1 1 60 60\n', 's'))
    const servers = table.services.find((vs) => vs.port === 80)?.realServers ?? []
    expect(servers.map((r) => r.counters?.connections)).toEqual([1, undefined, undefined])
  })

  it.each([
    ['the weight listing instead', 'TCP  10.20.30.41:80 rr\n  -> 10.180.0.1:8080  Masq 1 0 0', 1],
    ['a count that is no number', 'TCP  10.20.30.41:80  1 x 1 60 60', 1],
    ['a missing column', 'TCP  10.20.30.41:80  1 1 1 60\n', 1],
  ])('refuses %s, naming the line', (_what, text, line) => {
    expect(dumpErrorOf(() => parseIpvsStats(text, 'ipvsadm-stats.txt')).line).toBe(line)
  })
})
