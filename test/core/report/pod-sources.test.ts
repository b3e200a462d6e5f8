// The "pod" client of a path is a real pod of the node (no endpoint of the traced Service when the
// node has another), never an address no pod has; a node without pods is traced from an address of
// its pod CIDR that the path marks as standing for any pod.
import {describe, expect, it} from 'vitest'
import type {Query, Report} from '../../../src/core/model.js'
import {renderTable} from '../../../src/render/table.js'
import {exampleReport, exampleView} from './example-bundle.js'

const service = (name: string): Query => ({kind: 'service', service: name, namespace: 'default'})
/** `node source sourcePod example? verdict` of every path traced from a pod. */
const podRows = (r: Report) =>
  r.nodes.flatMap((n) =>
    n.paths
      .filter((p) => p.from === 'pod')
      .map((p) => `${n.name} ${p.entry.address} ${p.source} ${p.sourcePod ?? '-'}${p.sourceIsExample ? ' example' : ''} ${p.verdict}`),
  )
/** The example with only the pods the predicate keeps. */
const withPods = (keep: (name: string) => boolean) => ({...exampleView, pods: exampleView.pods.filter((p) => keep(p.metadata?.name ?? ''))})

describe('the pod a path is traced from', () => {
  it('is a running pod of the node that is no endpoint of the Service', () => {
    expect(podRows(exampleReport(service('hello-world')))).toEqual([
      'node-a 10.96.77.44:80/TCP 10.244.0.9 default/redis-0 dnat',
      'node-b 10.96.77.44:80/TCP 10.244.1.4 default/redis-1 dnat',
    ])
    expect(podRows(exampleReport(service('web-lb')))).toEqual([
      'node-a 10.96.200.10:443/TCP 10.244.0.5 default/hello-world-6d4cf56db6-7xkqz dnat',
      'node-a 192.168.49.240:443/TCP 10.244.0.5 default/hello-world-6d4cf56db6-7xkqz drop',
      'node-b 10.96.200.10:443/TCP 10.244.1.7 default/hello-world-6d4cf56db6-t9h5n dnat',
      'node-b 192.168.49.240:443/TCP 10.244.1.7 default/hello-world-6d4cf56db6-t9h5n drop',
    ])
  })

  it("is never one of the Service's own endpoints (a hairpin path) while the pod CIDR gives an address for any pod", () => {
    // What a live one-Service read sees: only the Service's own pods.
    const r = exampleReport(
      service('web-lb'),
      withPods((name) => name.startsWith('web-')),
    )
    expect(podRows(r)).toEqual([
      'node-a 10.96.200.10:443/TCP 10.244.0.254 - example dnat',
      'node-a 192.168.49.240:443/TCP 10.244.0.254 - example drop',
      'node-b 10.96.200.10:443/TCP 10.244.1.254 - example dnat',
      'node-b 192.168.49.240:443/TCP 10.244.1.254 - example drop',
    ])
  })

  it('is an address of the pod CIDR marked as any pod when the node runs none, with the same verdicts', () => {
    const before = exampleReport(service('web-lb'))
    const r = exampleReport(
      service('web-lb'),
      withPods(() => false),
    )
    expect(podRows(r)).toEqual([
      'node-a 10.96.200.10:443/TCP 10.244.0.254 - example dnat',
      'node-a 192.168.49.240:443/TCP 10.244.0.254 - example drop',
      'node-b 10.96.200.10:443/TCP 10.244.1.254 - example dnat',
      'node-b 192.168.49.240:443/TCP 10.244.1.254 - example drop',
    ])
    expect(r.nodes.flatMap((n) => n.paths.map((p) => p.verdict))).toEqual(before.nodes.flatMap((n) => n.paths.map((p) => p.verdict)))
    expect(renderTable(r, {color: false, wide: true})).toContain('from any pod on the node (10.244.0.254)')
    expect(renderTable(before, {color: false, wide: true})).not.toContain('any pod on the node')
  })

  it('--source naming a pod carries the pod', () => {
    const r = exampleReport({...service('hello-world'), source: '10.244.0.20'})
    expect(podRows(r)).toEqual([
      'node-a 10.96.77.44:80/TCP 10.244.0.20 default/web-5b8f7c9d4-hk2vz dnat',
      'node-a 192.168.49.2:30080/TCP 10.244.0.20 default/web-5b8f7c9d4-hk2vz dnat',
    ])
  })
})
