// checkService end to end: a healthy cluster gives nothing; one scenario per finding gives that
// finding; the real captures give exactly the findings their READMEs describe.
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {parseClusterFile} from '../../../src/adapters/bundle/cluster-file.js'
import {checkService, type serviceChecks, type ServiceCheckOptions} from '../../../src/core/checks/service-checks.js'
import {indexCluster, keyOf} from '../../../src/core/cluster-index.js'
import type {ClusterView} from '../../../src/core/model.js'
import {endpoints, pod, service, slice} from '../../support/builders.js'
import {healthy, webPods, webSlice} from './healthy.js'
import {first} from '../../support/defined.js'

/** checkService over every Service of the view: `ns/name` → the slugs it reported (with severity). */
function slugsByService(view: ClusterView, options: ServiceCheckOptions = {}): Record<string, string[]> {
  const idx = indexCluster(view)
  return Object.fromEntries(view.services.map((s) => [keyOf(s), checkService(s, idx, options).map((f) => `${f.id} (${f.severity})`)]))
}

function loadBundle(dir: string): ClusterView {
  const file = fileURLToPath(new URL(`../../../${dir}/cluster.yaml`, import.meta.url))
  return parseClusterFile(readFileSync(file, 'utf8'), file)
}

describe('checkService on a healthy cluster', () => {
  it.each([
    ['ClusterIP', service()],
    ['NodePort', service({type: 'NodePort'})],
    ['LoadBalancer with an address and source ranges', service({type: 'LoadBalancer', spec: {loadBalancerSourceRanges: ['203.0.113.0/24']}})],
    ['named targetPort', service({ports: [{name: 'http', port: 80, targetPort: 'http'}]})],
    ['ETP Local with an endpoint on every node', service({type: 'NodePort', spec: {externalTrafficPolicy: 'Local'}})],
    ['selectorless with manual Endpoints and their mirrored slice', service({name: 'partner', selector: null})],
  ])('reports nothing for a %s Service', (_name, svc) => {
    const view = healthy({
      services: [svc],
      endpoints: [endpoints({name: 'partner'})],
      endpointSlices: [webSlice, slice({service: 'partner', managedBy: 'endpointslicemirroring-controller.k8s.io'})],
    })
    expect(checkService(svc, indexCluster(view), {})).toEqual([])
  })
})

interface Scenario {
  /** The cluster: the healthy one with these objects replaced. */
  view: Partial<ClusterView>
  options?: ServiceCheckOptions
  /** Every slug expected, when the scenario rightly triggers more than its own. */
  expected?: string[]
}

/** One scenario per finding; each states only what differs from the healthy cluster. */
const scenarios: Record<keyof typeof serviceChecks, Scenario> = {
  'selector-matches-no-pods': {
    view: {
      services: [service({selector: {app: 'web', release: 'stabel'}})],
      pods: webPods.map((p) => ({...p, metadata: {...p.metadata, labels: {app: 'web', release: 'stable'}}})),
      endpointSlices: [],
    },
  },
  'selector-matches-several-owners': {view: {pods: [...webPods, pod({name: 'web-admin-5b8f7c9d4-hk2vz', ip: '10.244.0.99'})]}},
  'no-ready-pods': {view: {pods: [pod({ready: false})], endpointSlices: [slice({endpoints: [{ip: '10.244.0.5', node: 'node-a', ready: false}]})]}},
  'only-terminating-endpoints': {view: {endpointSlices: [slice({endpoints: [{ip: '10.244.0.5', node: 'node-a', terminating: true, serving: true}]})]}},
  'target-port-name-undefined': {view: {services: [service({ports: [{name: 'http', port: 80, targetPort: 'web'}]})]}},
  'target-port-not-declared': {view: {services: [service({ports: [{name: 'http', port: 80, targetPort: 8000}]})]}},
  'target-port-protocol-mismatch': {view: {services: [service({ports: [{name: 'http', port: 80, protocol: 'UDP', targetPort: 8080}]})]}},
  'no-selector-no-endpoints': {view: {services: [service({selector: null})], endpointSlices: []}},
  // The symptom and its cause: both are reported.
  'endpointslice-missing-service-name-label': {
    view: {services: [service({selector: null})], endpointSlices: [slice({service: null, name: 'web-manual'})]},
    expected: ['no-selector-no-endpoints', 'endpointslice-missing-service-name-label'],
  },
  'external-name-is-ip': {view: {services: [service({type: 'ExternalName', selector: null, spec: {externalName: '203.0.113.7'}})]}},
  'external-name-has-selector': {view: {services: [service({type: 'ExternalName'})]}},
  'headless-service': {view: {services: [service({clusterIP: 'None', ports: [{name: 'http', port: 8080}]})]}},
  'load-balancer-pending': {view: {services: [service({type: 'LoadBalancer', ingress: []})]}},
  'source-outside-load-balancer-ranges': {
    view: {services: [service({type: 'LoadBalancer', spec: {loadBalancerSourceRanges: ['203.0.113.0/24']}})]},
    options: {source: '198.51.100.7'},
  },
  'external-traffic-local-node-without-endpoint': {
    view: {services: [service({type: 'NodePort', spec: {externalTrafficPolicy: 'Local'}})], pods: webPods.slice(0, 2), endpointSlices: [slice()]},
  },
  // The client is a pod on node-b (found from --source); every endpoint is on node-a.
  'internal-traffic-local-node-without-endpoint': {
    view: {services: [service({spec: {internalTrafficPolicy: 'Local'}})], endpointSlices: [slice()]},
    options: {source: '10.244.1.7'},
  },
  'node-port-outside-default-range': {view: {services: [service({type: 'NodePort', ports: [{name: 'http', port: 80, targetPort: 8080, nodePort: 8080}]})]}},
  'session-affinity': {view: {services: [service({spec: {sessionAffinity: 'ClientIP', sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}}})]}},
  'ignored-by-kube-proxy': {view: {services: [service({labels: {'service.kubernetes.io/service-proxy-name': 'other-proxy'}})]}},
  'dual-stack': {
    view: {services: [service({spec: {ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', clusterIPs: ['10.96.0.10', 'fd00::a']}})]},
  },
}

describe('checkService: one scenario per finding', () => {
  it.each(Object.entries(scenarios))('%s', (slug, {view, options, expected}) => {
    expect(slugsByService(healthy(view), options)['default/web']?.map((s) => s.split(' ')[0])).toEqual(expected ?? [slug])
  })
})

describe('checkService on the two-node v1.26 capture', () => {
  const view = loadBundle('test/fixtures/two-node-iptables-v1.26')

  it('reports exactly what the README describes, per Service', () => {
    expect(slugsByService(view)).toEqual({
      'default/kubernetes': [],
      'storefront/api': ['external-traffic-local-node-without-endpoint (warning)'],
      'storefront/billing': ['external-name-is-ip (error)'],
      'storefront/cache': ['selector-matches-no-pods (error)'],
      'storefront/frontend': [],
      'storefront/gateway': [],
      'storefront/ledger': ['headless-service (info)'],
      'storefront/metrics': ['target-port-name-undefined (error)'],
      'storefront/partner': [],
      'storefront/sessions': ['session-affinity (info)'],
    })
  })

  it('names node1 for api, the typo for cache and the missing port name for metrics', () => {
    const idx = indexCluster(view)
    const find = (key: string) => first(checkService(idx.serviceByKey.get(key)!, idx), `finding for ${key}`)
    expect(find('storefront/api').message).toBe(
      'externalTrafficPolicy Local on Service storefront/api: node node1 has no local endpoint, so external traffic reaching it (node port 31500) is dropped',
    )
    expect(find('storefront/cache').evidence).toContain('tier=backend (1 edit from backnd: a typo?) on 2 pods: cache-0, cache-1')
    expect(find('storefront/metrics').evidence).toEqual([
      'metrics-exporter-84c9f6d7b-zq5lp: declares metrics 9100/TCP (exporter)',
      'EndpointSlice metrics-4gkqj has no port "prom"',
    ])
    expect(find('storefront/ledger').message).toContain('DNS ledger.storefront.svc returns 10.244.1.51')
  })

  it('with --source, checks the gateway source ranges (the ext client is inside, a node is not)', () => {
    expect(slugsByService(view, {source: '172.30.0.100'})['storefront/gateway']).toEqual([])
    expect(slugsByService(view, {source: '172.30.0.11'})['storefront/gateway']).toEqual(['source-outside-load-balancer-ranges (warning)'])
  })
})

describe('checkService on examples/hello-world', () => {
  it('finds only the typo of hello-cache', () => {
    expect(slugsByService(loadBundle('examples/hello-world'))).toEqual({
      'default/kubernetes': [],
      'default/hello-cache': ['selector-matches-no-pods (error)'],
      'default/hello-world': [],
      'default/web-lb': [],
    })
  })
})
