// Bundle inputs the fuzzer found that made the pipeline throw a TypeError, kept as fixed examples.
import {describe, expect, it} from 'vitest'
import {parseClusterFile} from '../../../src/adapters/bundle/cluster-file.js'
import {SourceError} from '../../../src/app/ports.js'
import {buildReport} from '../../../src/core/report.js'

/** A cluster.yaml holding one item. */
const list = (item: string) => `apiVersion: v1\nkind: List\nitems:\n${item}`

describe('bundle regressions found by the fuzzer', () => {
  it.each([
    // Found as: the "- name: redis" line of examples/hello-world/cluster.yaml dropped, so ports became a mapping.
    [
      'a Service whose ports are a mapping',
      '- kind: Service\n  metadata: {name: hello-cache, namespace: default}\n  spec:\n    ports:\n      port: 6379\n',
      /items\[0\] \(Service default\/hello-cache\): spec\.ports is not a list of entries/,
    ],
    [
      'an EndpointSlice endpoint whose addresses are a string',
      '- kind: EndpointSlice\n  metadata: {name: s, namespace: default}\n  endpoints:\n  - addresses: 10.0.0.1\n',
      /endpoints\[0\]\.addresses is not a list of strings/,
    ],
    [
      'a Pod whose containers hold a null',
      '- kind: Pod\n  metadata: {name: p}\n  spec:\n    containers: [null]\n',
      /items\[0\] \(Pod p\): spec\.containers is not a list of entries/,
    ],
    ['a Node whose addresses are a number', '- kind: Node\n  metadata: {name: n}\n  status:\n    addresses: 5\n', /status\.addresses is not a list/],
  ])('%s is refused naming the file, item and field, not a TypeError in the trace', (_, item, message) => {
    expect(() => parseClusterFile(list(item), 'cluster.yaml')).toThrow(SourceError)
    expect(() => parseClusterFile(list(item), 'cluster.yaml')).toThrow(message)
  })

  it('the real example still loads', async () => {
    const {readFileSync} = await import('node:fs')
    const text = readFileSync(new URL('../../../examples/hello-world/cluster.yaml', import.meta.url), 'utf8')
    expect(parseClusterFile(text, 'cluster.yaml').services.length).toBeGreaterThan(0)
  })
})

describe('a Service address that is no IP (found by the fuzzer: "toString  10.96.120.7" in clusterIPs)', () => {
  const service = (field: string) =>
    list(`- kind: Service
  metadata: {name: odd, namespace: default}
  spec:
    type: LoadBalancer
    clusterIPs: ['toString  10.96.120.7', 10.96.120.8]
    ${field}
    ports: [{port: 80, protocol: TCP}]
  status:
    loadBalancer: {ingress: [{ip: 'not-an-ip'}, {ip: 192.0.2.10}]}
`)
  // kube-proxy programs only the addresses that parse; the nftables tracer threw on the other.
  const nft = {name: 'node-a', captures: [{kind: 'nft' as const, text: 'table ip kube-proxy {\n}\n', source: 'nodes/node-a/nft.txt'}]}

  it('is left out, as kube-proxy leaves it out, and the rest is traced', () => {
    const view = parseClusterFile(service("externalIPs: ['1.2.3', 198.51.100.7]"), 'cluster.yaml')
    const report = buildReport({kind: 'all'}, view, [nft])
    // No Node object, so no client on a node: the outside clients' entries are what is traced.
    const addresses = report.nodes[0]?.paths.map((p) => p.entry.destination.ip) ?? []
    expect([...new Set(addresses)].sort()).toEqual(['192.0.2.10', '198.51.100.7'])
    expect(report.services[0]).toMatchObject({clusterIPs: ['10.96.120.8'], externalIPs: ['198.51.100.7'], loadBalancerIPs: ['192.0.2.10']})
  })
})
