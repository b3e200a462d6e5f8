// The checks that read the Service's own spec: headless, load balancer, node ports, affinity,
// kube-proxy labels, IP families.
import {describe, expect, it} from 'vitest'
import {catalog} from '../../../src/core/checks/catalog.js'
import {dualStack} from '../../../src/core/checks/dual-stack.js'
import {headlessService} from '../../../src/core/checks/headless-service.js'
import {ignoredByKubeProxy} from '../../../src/core/checks/ignored-by-kube-proxy.js'
import {loadBalancerPending} from '../../../src/core/checks/load-balancer-pending.js'
import {nodePortOutsideDefaultRange} from '../../../src/core/checks/node-port-outside-default-range.js'
import {sessionAffinity} from '../../../src/core/checks/session-affinity.js'
import {service, slice} from '../../support/builders.js'
import {first} from '../../support/defined.js'

describe('headless-service', () => {
  const ledger = service({name: 'ledger', clusterIP: 'None', selector: {app: 'ledger'}, ports: [{name: 'postgres', port: 5432, targetPort: 'postgres'}]})

  it('says which pod IPs DNS returns, and the SRV record', () => {
    const slices = [
      slice({
        service: 'ledger',
        endpoints: [
          {ip: '10.244.1.51', node: 'node1', pod: 'ledger-0'},
          {ip: '10.244.1.52', node: 'node1', pod: 'ledger-1', ready: false},
        ],
        ports: [{name: 'postgres', port: 5432}],
      }),
    ]
    expect(headlessService(ledger, {slices})).toEqual([
      {
        id: 'headless-service',
        fix: {text: catalog['headless-service'].fix},
        severity: 'info',
        message: 'Service default/ledger is headless: no virtual IP and no kube-proxy rules; DNS ledger.default.svc returns 10.244.1.51',
        service: 'default/ledger',
        evidence: ['ledger.default.svc → 10.244.1.51 (ledger-0 on node1)', 'SRV _postgres._tcp.ledger.default.svc → port 5432'],
      },
    ])
  })

  it('says port → targetPort is not remapped', () => {
    const svc = service({clusterIP: 'None', ports: [{name: 'http', port: 80, targetPort: 8080}]})
    expect(headlessService(svc, {slices: []})[0]?.evidence).toContain('port 80 → 8080 is not remapped: clients connect straight to the pod, on 8080')
    expect(headlessService(svc, {slices: []})[0]?.message).toContain('returns no address (no ready endpoint)')
  })

  it('is quiet for a Service with a cluster IP', () => {
    expect(headlessService(service(), {slices: []})).toEqual([])
  })
})

describe('load-balancer-pending', () => {
  it('reports a LoadBalancer without ingress, and the node ports that work meanwhile', () => {
    const f = first(loadBalancerPending(service({type: 'LoadBalancer', ingress: [], spec: {loadBalancerClass: 'example.com/lb'}})), 'finding')
    expect(f).toMatchObject({
      id: 'load-balancer-pending',
      severity: 'warning',
      evidence: [
        'status.loadBalancer.ingress is empty',
        'spec.loadBalancerClass: example.com/lb (only that controller will provision it)',
        'meanwhile the node port 30080 and the cluster IP work',
      ],
    })
  })

  it('is quiet once an address is published', () => {
    expect(loadBalancerPending(service({type: 'LoadBalancer', ingress: ['192.0.2.10']}))).toEqual([])
  })
})

describe('node-port-outside-default-range', () => {
  it('lists the ports outside 30000-32767', () => {
    const svc = service({
      type: 'NodePort',
      ports: [
        {name: 'http', port: 80, nodePort: 8080},
        {name: 'https', port: 443, nodePort: 30443},
      ],
    })
    expect(nodePortOutsideDefaultRange(svc)).toEqual([
      {
        id: 'node-port-outside-default-range',
        fix: {text: catalog['node-port-outside-default-range'].fix},
        severity: 'info',
        message: 'Service default/web uses node ports outside the default range 30000-32767',
        service: 'default/web',
        evidence: ['port http 80/TCP: nodePort 8080'],
      },
    ])
  })

  it('accepts the edges of the range', () => {
    expect(
      nodePortOutsideDefaultRange(
        service({
          type: 'NodePort',
          ports: [
            {port: 80, nodePort: 30000},
            {port: 81, nodePort: 32767},
          ],
        }),
      ),
    ).toEqual([])
  })
})

describe('session-affinity', () => {
  it('shows the timeout, with the default when none is set', () => {
    const f = first(sessionAffinity(service({spec: {sessionAffinity: 'ClientIP'}}), {}), 'finding')
    expect(f).toMatchObject({id: 'session-affinity', severity: 'info', message: 'Service default/web has ClientIP session affinity with a 10800 s timeout'})
    expect(f.evidence?.[0]).toBe('sessionAffinity: ClientIP, timeoutSeconds: 10800 (the default)')
  })

  it('is quiet without affinity', () => {
    expect(sessionAffinity(service(), {})).toEqual([])
  })
})

describe('ignored-by-kube-proxy', () => {
  it.each([
    [
      {'service.kubernetes.io/service-proxy-name': 'cilium'},
      'kube-proxy ignores Service default/web (label service.kubernetes.io/service-proxy-name): only a proxy named "cilium" serves it',
    ],
    [
      {'service.kubernetes.io/headless': ''},
      'kube-proxy ignores Service default/web (label service.kubernetes.io/headless): nothing programs its cluster IP unless another proxy does',
    ],
  ])('reports %o', (labels, message) => {
    expect(ignoredByKubeProxy(service({labels}))).toMatchObject([{id: 'ignored-by-kube-proxy', severity: 'warning', message}])
  })

  it('is quiet for ordinary labels', () => {
    expect(ignoredByKubeProxy(service({labels: {app: 'web'}}))).toEqual([])
  })
})

describe('dual-stack', () => {
  it('shows both families, their cluster IPs and endpoints', () => {
    const svc = service({spec: {ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack', clusterIPs: ['10.96.0.10', 'fd00:10:96::a']}})
    const slices = [slice(), slice({name: 'web-v6', addressType: 'IPv6', endpoints: [{ip: 'fd00:10:244::5'}]})]
    expect(dualStack(svc, {slices})).toEqual([
      {
        id: 'dual-stack',
        fix: {text: catalog['dual-stack'].fix},
        severity: 'info',
        message: 'Service default/web is dual-stack (IPv4, IPv6)',
        service: 'default/web',
        evidence: [
          'ipFamilyPolicy: PreferDualStack, ipFamilies: IPv4, IPv6',
          'cluster IPs: 10.96.0.10, fd00:10:96::a',
          'IPv4 endpoints: 1',
          'IPv6 endpoints: 1',
        ],
      },
    ])
  })

  it('says when dual-stack was preferred but one family was given', () => {
    expect(dualStack(service({spec: {ipFamilyPolicy: 'PreferDualStack'}}), {slices: []})[0]?.message).toBe(
      'Service default/web prefers dual-stack but has only IPv4: the cluster (or its Service CIDRs) is single-stack',
    )
  })

  it('is quiet for a single-stack Service', () => {
    expect(dualStack(service(), {slices: []})).toEqual([])
  })
})
