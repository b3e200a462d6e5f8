// An ip6tables dump indexed and walked like an IPv4 one: a long KUBE-SERVICES chain is looked up by
// destination (one rule per Service is never parsed for another address), and an address matches
// whichever way it is written (ip6tables-save prints it canonical; restore input may not).
import type {V1EndpointSlice, V1Service} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'
import {parseCidr} from '../../../src/core/address.js'
import {chainView, destinationKey, indexIptablesSave} from '../../../src/core/iptables/dump.js'
import {traceIptables} from '../../../src/core/iptables/trace.js'
import {defined} from '../../support/defined.js'
import {renderKubeProxyRestore} from '../../support/kube-proxy-rules.js'

const N = 80
const clusterIP = (i: number) => `fd00:10:96::${(0x100 + i).toString(16)}`
const podIP = (i: number) => `fd00:10:244::${(0x100 + i).toString(16)}`

/** N IPv6-only ClusterIP Services, one endpoint each, as kube-proxy's IPv6 proxier writes them. */
function cluster(): {services: V1Service[]; endpointSlices: V1EndpointSlice[]} {
  const services: V1Service[] = []
  const endpointSlices: V1EndpointSlice[] = []
  for (let i = 0; i < N; i++) {
    const name = `svc${i}`
    services.push({
      metadata: {namespace: 'default', name},
      spec: {type: 'ClusterIP', clusterIP: clusterIP(i), clusterIPs: [clusterIP(i)], ipFamilies: ['IPv6'], ports: [{name: 'http', port: 80, protocol: 'TCP'}]},
    })
    endpointSlices.push({
      metadata: {namespace: 'default', name: `${name}-1`, labels: {'kubernetes.io/service-name': name}},
      addressType: 'IPv6',
      ports: [{name: 'http', port: 8080, protocol: 'TCP'}],
      endpoints: [{addresses: [podIP(i)], conditions: {ready: true}}],
    })
  }
  return {services, endpointSlices}
}

const RULES = renderKubeProxyRestore(cluster(), 'node-a', {clusterCIDR: 'fd00:10:244::/56', nodeIPs: ['fd00:192:168::2'], family: 6})

function trace(text: string, dst: string) {
  return traceIptables(indexIptablesSave(text, 'ip6tables-save'), {
    node: {name: 'node-a', addresses: ['fd00:192:168::2']},
    destination: {ip: dst, port: 80, protocol: 'TCP'},
    from: 'pod',
    source: 'fd00:10:244::99',
    podNetworks: ['fd00:10:244::/56'],
  })
}

describe('an IPv6 dump', () => {
  it.each([0, 41, N - 1])('traces Service %i to its own endpoint', (i) => {
    const t = trace(RULES, clusterIP(i))
    expect(t.outcomes.map((o) => [o.verdict, o.dnat?.ip, o.dnat?.port])).toEqual([['dnat', podIP(i), 8080]])
  })

  it('KUBE-SERVICES is looked up by destination: only the rule for that address and the rules without a plain -d are candidates', () => {
    const dump = indexIptablesSave(RULES, 'ip6tables-save')
    const view = defined(chainView(dump, 'nat', 'KUBE-SERVICES'))
    expect(view.length).toBeGreaterThan(N)
    const picked = view.candidates(destinationKey(defined(parseCidr(clusterIP(41))))).map((k) => view.text(k))
    expect(picked).toEqual([
      expect.stringContaining(`-d ${clusterIP(41)} `),
      expect.stringContaining('-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS'),
    ])
  })

  it.each([
    ['a /128 prefix', (ip: string) => `${ip}/128`],
    ['upper case and zeros written out', (ip: string) => ip.toUpperCase().replace('::', ':0:0:0:0:')],
  ])('matches an address written with %s', (_what, spelled) => {
    const i = 41
    const text = RULES.replace(`-d ${clusterIP(i)} `, `-d ${spelled(clusterIP(i))} `)
    expect(text).not.toBe(RULES)
    expect(trace(text, clusterIP(i)).outcomes.map((o) => [o.verdict, o.dnat?.ip])).toEqual([['dnat', podIP(i)]])
  })
})
