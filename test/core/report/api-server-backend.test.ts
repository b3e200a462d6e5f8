// The endpoints of Service default/kubernetes are the API server's addresses: a node IP, or (managed
// clusters) an address outside the cluster. The report names them by role, and backend-ip-unknown
// does not call them unknown.
import {describe, expect, it} from 'vitest'
import type {V1EndpointSlice, V1Service} from '@kubernetes/client-node'
import type {ClusterView, Report} from '../../../src/core/model.js'
import {buildReport} from '../../../src/core/report.js'
import {renderTable} from '../../../src/render/table.js'
import {dataplane} from '../../support/dataplane.js'
import {node, service, slice, view} from '../../support/builders.js'
import {renderKubeProxyRestore} from '../../support/kube-proxy-rules.js'
import {exampleReport} from './example-bundle.js'

const table = (r: Report) => renderTable(r, {color: false, wide: false})
const backends = (r: Report) =>
  r.nodes.flatMap((n) => n.paths.flatMap((p) => p.backends.map((b) => `${b.ip}:${b.port} ${b.role ?? '-'} ${b.pod ?? '-'} ${b.node ?? '-'}`)))

/** A selectorless Service with one endpoint outside the cluster, the rules kube-proxy writes for it on node-a, and the report. */
function outsideEndpoint(name: string, namespace: string, apiReadable: boolean): Report {
  const svc: V1Service = service({name, namespace, clusterIP: '10.96.0.1', selector: null, ports: [{name: 'https', port: 443, targetPort: 6443}]})
  const endpoints: V1EndpointSlice = slice({service: name, name, namespace, endpoints: [{ip: '203.0.113.50'}], ports: [{name: 'https', port: 6443}]})
  const rules = renderKubeProxyRestore({services: [svc], endpointSlices: [endpoints]}, 'node-a', {clusterCIDR: '10.244.0.0/16', nodeIPs: ['192.168.49.2']})
  // Not readable: the slices could not be listed (RBAC), so the API does not show the endpoint.
  const cluster: ClusterView = view({services: [svc], endpointSlices: apiReadable ? [endpoints] : [], nodes: [node()]})
  return buildReport({kind: 'service', service: name, namespace}, cluster, [dataplane('node-a', {'iptables-save': rules})])
}

describe('backends of Service default/kubernetes', () => {
  it('are the API server, on the node that holds its address in the example', () => {
    const r = exampleReport({kind: 'service', service: 'kubernetes', namespace: 'default'})
    expect(new Set(backends(r))).toEqual(new Set(['192.168.49.2:8443 api-server - node-a']))
    expect(table(r)).toMatch(/^API server\s+192\.168\.49\.2:8443\s+node-a\s+100%$/m)
    expect(r.findings).toEqual([])
  })

  it.each([true, false])('outside the cluster are the API server, never "unknown IP" nor backend-ip-unknown (slices readable: %s)', (readable) => {
    const r = outsideEndpoint('kubernetes', 'default', readable)
    expect(new Set(backends(r))).toEqual(new Set(['203.0.113.50:6443 api-server - -']))
    expect(table(r)).toMatch(/^API server\s+203\.0\.113\.50:6443\s+-\s+100%$/m)
    expect(table(r)).not.toContain('unknown IP')
    expect(r.findings.map((f) => f.id)).not.toContain('backend-ip-unknown')
  })

  it('of another Service, an address no pod, node or readable endpoint has is still unknown', () => {
    const r = outsideEndpoint('web', 'default', false)
    expect(new Set(backends(r))).toEqual(new Set(['203.0.113.50:6443 - - -']))
    expect(table(r)).toMatch(/^unknown IP\s+203\.0\.113\.50:6443\s/m)
    expect(r.findings.map((f) => f.id)).toContain('backend-ip-unknown')
  })
})
