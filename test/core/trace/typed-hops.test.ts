import {describe, expect, it} from 'vitest'
import {indexIptablesSave} from '../../../src/core/iptables/dump.js'
import {traceIptables} from '../../../src/core/iptables/trace.js'

// A one-Service nat table as kube-proxy writes it (KUBE-SERVICES → KUBE-SVC → KUBE-SEP → DNAT), and a
// filter table whose FORWARD policy is DROP with no rule for the destination 10.0.0.9.
const DUMP = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAAA - [0:0]
:KUBE-SEP-BBBB - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAA
-A KUBE-SVC-AAAA -m comment --comment "default/web:http -> 10.244.0.5:8080" -j KUBE-SEP-BBBB
-A KUBE-SEP-BBBB -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.0.5:8080
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d 10.244.0.0/16 -j ACCEPT
COMMIT
`

const trace = (ip: string, port: number) =>
  traceIptables(indexIptablesSave(DUMP, 'test'), {
    node: {name: 'n', addresses: ['192.168.0.2']},
    destination: {ip, port, protocol: 'TCP'},
    from: 'pod',
    source: '10.244.1.9',
    podNetworks: ['10.244.0.0/16'],
  })

describe('hops are typed: what each rule does is a value, not text to re-parse', () => {
  it('a DNAT path: jump, jump, jump, dnat, then the filter rule that accepts it', () => {
    const [o] = trace('10.96.0.10', 80).outcomes
    expect(o?.verdict).toBe('dnat')
    expect(o?.hops.map((h) => [h.chain, h.target])).toEqual([
      ['PREROUTING', {kind: 'jump', chain: 'KUBE-SERVICES'}],
      ['KUBE-SERVICES', {kind: 'jump', chain: 'KUBE-SVC-AAAA'}],
      ['KUBE-SVC-AAAA', {kind: 'jump', chain: 'KUBE-SEP-BBBB'}],
      ['KUBE-SEP-BBBB', {kind: 'dnat', ip: '10.244.0.5', port: 8080}],
      ['FORWARD', {kind: 'accept'}],
    ])
    expect(o?.hops[1]?.comment).toBe('default/web:http cluster IP')
    expect(o?.dnat).toEqual({ip: '10.244.0.5', port: 8080, chain: 'KUBE-SEP-BBBB'})
  })

  it('a chain policy that drops is an implicit hop of kind policy', () => {
    const [o] = trace('10.0.0.9', 80).outcomes
    expect(o?.verdict).toBe('drop')
    expect(o?.hops.at(-1)).toMatchObject({chain: 'FORWARD', line: 0, target: {kind: 'policy', policy: 'drop'}})
  })
})
