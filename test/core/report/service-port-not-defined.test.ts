// A Service's address dialled on a port (or protocol) the Service does not have: kube-proxy is not
// at fault, so the report says what the rules do with the packet and gives an info finding, not
// service-missing-on-node.
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import type {Protocol} from '../../../src/core/model.js'
import {buildReport} from '../../../src/core/report.js'
import {node, pod, service, slice, view} from '../../support/builders.js'
import {dataplane} from '../../support/dataplane.js'
import {noteLines} from '../../support/notes.js'
import {exampleReport} from './example-bundle.js'

const ip = (port: number | undefined, protocol: Protocol) => exampleReport({kind: 'ip', ip: '10.96.77.44', ...(port !== undefined ? {port} : {}), protocol})

describe('--ip on a cluster IP with a port the Service lacks', () => {
  it.each([
    ['10.96.77.44:81', 81, 'TCP', 'port 81/TCP'],
    ['10.96.77.44:80/udp', 80, 'UDP', 'port 80/UDP'],
    ['10.96.77.44:80/sctp', 80, 'SCTP', 'port 80/SCTP'],
    ['10.96.77.44/udp', undefined, 'UDP', 'UDP port'],
  ] as const)('%s: one info finding, no error, and each node routes the packet unchanged', (_arg, port, protocol, wanted) => {
    const r = ip(port, protocol)
    expect(r.resolution).toContain(`it has no ${wanted} (ports: http 80/TCP)`)
    expect(r.findings.map((f) => [f.id, f.severity])).toEqual([['service-port-not-defined', 'info']])
    expect(r.findings[0]?.message).toBe(
      `default/hello-world has no ${wanted}, so kube-proxy forwards ${r.nodes[0]?.paths[0]?.entry.address} to none of its endpoints`,
    )
    expect(r.findings[0]?.evidence).toEqual([
      'node-a: no rule matches, the packet is routed unchanged',
      'node-b: no rule matches, the packet is routed unchanged',
    ])
    const paths = r.nodes.flatMap((n) => n.paths)
    expect(paths.map((p) => p.from)).toEqual(['pod', 'node', 'pod', 'node'])
    for (const p of paths) {
      expect(p.verdict).toBe('no-match')
      expect(p.entry.servicePort).toBeUndefined()
      expect(noteLines(p.notes)).toContain(`default/hello-world has no ${wanted}, so the packet is routed to 10.96.77.44 unchanged`)
    }
  })

  it('a port the Service has is still forwarded, with no finding', () => {
    const r = ip(80, 'TCP')
    expect(r.findings).toEqual([])
    expect(r.nodes.flatMap((n) => n.paths).every((p) => p.verdict === 'dnat' && p.entry.servicePort?.name === 'http')).toBe(true)
  })

  it('without a port, every port of the protocol is traced', () => {
    const r = ip(undefined, 'TCP')
    expect(r.findings).toEqual([])
    expect(r.nodes.flatMap((n) => n.paths.map((p) => `${n.name} ${p.entry.address} ${p.from} ${p.verdict}`))).toEqual([
      'node-a 10.96.77.44:80/TCP pod dnat',
      'node-a 10.96.77.44:80/TCP node dnat',
      'node-b 10.96.77.44:80/TCP pod dnat',
      'node-b 10.96.77.44:80/TCP node dnat',
    ])
  })

  it('nftables mode rejects it (cluster-ips-check): the same info finding, not "has no endpoints"', () => {
    // ns1/svc1 of kube-proxy's own nftables test output: cluster IP 172.30.0.41, port 80/TCP, endpoint 10.180.0.1.
    const nft = readFileSync(new URL('../../fixtures/samples/nftables/nftables-overall-mixed.txt', import.meta.url), 'utf8')
    const cluster = view({
      services: [
        service({name: 'svc1', namespace: 'ns1', clusterIP: '172.30.0.41', selector: {app: 'svc1'}, ports: [{name: 'p80', port: 80, targetPort: 80}]}),
      ],
      endpointSlices: [
        slice({service: 'svc1', namespace: 'ns1', endpoints: [{ip: '10.180.0.1', node: 'test-node', pod: 'svc1-0'}], ports: [{name: 'p80', port: 80}]}),
      ],
      pods: [pod({name: 'svc1-0', namespace: 'ns1', labels: {app: 'svc1'}, ip: '10.180.0.1', node: 'test-node', ports: [{containerPort: 80}]})],
      nodes: [node({name: 'test-node', ip: '192.168.0.2', podCIDR: '10.0.0.0/8'})],
    })
    const r = buildReport({kind: 'ip', ip: '172.30.0.41', port: 81, protocol: 'TCP'}, cluster, [dataplane('test-node', {nft})])
    expect(r.nodes.flatMap((n) => n.paths.map((p) => p.verdict))).toEqual(['reject', 'reject'])
    expect(r.findings.map((f) => f.id)).toEqual(['service-port-not-defined'])
    expect(r.findings[0]?.evidence).toEqual([
      'test-node: reject by ip kube-proxy cluster-ips-check: ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
    ])
  })

  it('a node address on a port that is no node port stays a no-match, without findings', () => {
    const r = exampleReport({kind: 'ip', ip: '192.168.49.2', port: 12345, protocol: 'TCP'})
    expect(r.resolution).toBe('192.168.49.2 is an address of node node-a; no Service has node port 12345/TCP')
    expect(r.findings).toEqual([])
    expect(r.nodes.flatMap((n) => n.paths.map((p) => `${n.name} ${p.entry.kind} ${p.from} ${p.verdict}`))).toEqual([
      'node-a address external no-match',
      'node-a address node no-match',
    ])
  })
})
