// traffic-skewed: when counters are judged against the configured shares, and when they are not.
import {describe, expect, it} from 'vitest'
import {trafficSkewed, MIN_COUNTED, SKEW_P_VALUE} from '../../../src/core/checks/traffic-skew.js'
import {indexCluster} from '../../../src/core/cluster-index.js'
import type {Backend, NodeReport, TracePath} from '../../../src/core/model.js'
import {service, view} from '../../support/builders.js'

/** A backend of default/web with `packets` counted (undefined: the dump had no counters). */
function backend(i: number, packets: number | undefined, probability: number, extra: Partial<Backend> = {}): Backend {
  return {
    ip: `10.244.1.${i}`,
    port: 8080,
    probability,
    pod: `default/web-${i}`,
    node: 'node-a',
    chain: `KUBE-SEP-${i}`,
    ...(packets !== undefined ? {counters: {packets, bytes: packets * 60}} : {}),
    ...extra,
  }
}

/** The cluster IP path of default/web:http from a pod on node-a, with these backends. */
function path(backends: Backend[], more: Partial<TracePath> = {}): TracePath {
  return {
    entry: {
      address: '10.96.0.10:80/TCP',
      destination: {ip: '10.96.0.10', port: 80, protocol: 'TCP'},
      kind: 'cluster-ip',
      service: 'default/web',
      servicePort: {name: 'http', port: 80},
    },
    from: 'pod',
    verdict: 'dnat',
    hops: [],
    backends,
    masquerade: 'no',
    alternatives: [],
    notes: [],
    uncertain: false,
    ...more,
  }
}

const nodeA = (paths: TracePath[], mode: NodeReport['mode'] = 'iptables'): NodeReport => ({name: 'node-a', mode, paths})
const even = (counts: Array<number | undefined>) => counts.map((n, i) => backend(i + 1, n, 1 / counts.length))
const check = (nodes: NodeReport[], spec: Parameters<typeof service>[0] = {}) => trafficSkewed({idx: indexCluster(view({services: [service(spec)]})), nodes})

describe('traffic-skewed', () => {
  it('flags 9,120 / 150 / 150 against 1/3 each, once per node and Service port (not per entry)', () => {
    const skewed = even([9120, 150, 150])
    const found = check([nodeA([path(skewed), path(skewed, {from: 'node'})])])
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({id: 'traffic-skewed', severity: 'warning', node: 'node-a', service: 'default/web'})
    expect(found[0]?.message).toBe(
      'node-a counted 9,420 new connections to default/web:http, and 10.244.1.1:8080 took 9,120 of them (96.8%, configured 33.3%): chance explains a split this uneven with p < 1e-300',
    )
    expect(found[0]?.evidence?.[1]).toBe('10.244.1.2:8080 (default/web-2) via KUBE-SEP-2: 150 (1.6%), expected 33.3% ≈ 3,140')
  })

  it.each([
    ['an even split', [3140, 3090, 3190]],
    [`fewer than ${MIN_COUNTED} connections, however uneven`, [60, 10, 9]],
    ['no counters in the dump', [undefined, undefined, undefined]],
    ['a backend without counters', [9120, 150, undefined]],
  ])('stays quiet for %s', (_what, counts) => {
    expect(check([nodeA([path(even(counts))])])).toEqual([])
  })

  it('judges against the configured shares, not an even split', () => {
    // 50/25/25 configured, 5,000/2,500/2,500 counted: exactly as configured.
    const shares = [0.5, 0.25, 0.25]
    expect(check([nodeA([path([5000, 2500, 2500].map((n, i) => backend(i + 1, n, shares[i] ?? 0)))])])).toEqual([])
    expect(check([nodeA([path([3334, 3333, 3333].map((n, i) => backend(i + 1, n, shares[i] ?? 0)))])])).toHaveLength(1)
  })

  it('flags a p just under 0.001 and not one just over it', () => {
    expect(SKEW_P_VALUE).toBe(0.001)
    // 1,000 connections, 1/2 each (scipy chisquare): 552/448 is 10.816, p = 0.00101; 553/447 is 11.236, p = 0.00080.
    expect(check([nodeA([path(even([552, 448]))])])).toEqual([])
    expect(check([nodeA([path(even([553, 447]))])])).toHaveLength(1)
  })

  it.each([
    ['ClientIP affinity (a client sticks to one backend)', {affinity: {timeoutSeconds: 10800}}, {}],
    ['externalTrafficPolicy Local (the counters mix two splits)', {}, {spec: {externalTrafficPolicy: 'Local' as const}}],
    ['internalTrafficPolicy Local', {}, {spec: {internalTrafficPolicy: 'Local' as const}}],
    ['an IPVS scheduler that follows load (lc)', {scheduler: 'lc'}, {}],
  ])('does not judge %s', (_what, more, spec) => {
    expect(check([nodeA([path(even([9120, 150, 150]), more)])], spec)).toEqual([])
  })

  it('judges IPVS round robin on connections, not packets', () => {
    const ipvs = (conns: number[]) => conns.map((c, i) => backend(i + 1, undefined, 1 / 3, {counters: {connections: c, packets: 900, bytes: 54000}}))
    expect(check([nodeA([path(ipvs([9120, 150, 150]), {scheduler: 'rr'})], 'ipvs')])[0]?.message).toContain('9,420 connections')
    expect(check([nodeA([path(ipvs([40, 41, 39]), {scheduler: 'rr'})], 'ipvs')])).toEqual([])
  })
})
