// 127.0.0.1:NODEPORT (iptables mode's route_localnet) is reached only from the node itself: it is
// traced from the node, never from an outside client or a pod, whatever --source says.
import {describe, expect, it} from 'vitest'
import type {Report} from '../../../src/core/model.js'
import {exampleReport} from './example-bundle.js'

/** `node entry from source` of every path that enters at 127.0.0.1. */
const loopbackRows = (r: Report) =>
  r.nodes.flatMap((n) => n.paths.filter((p) => p.entry.destination.ip === '127.0.0.1').map((p) => `${n.name} ${p.entry.address} ${p.from} ${p.source}`))
const webLB = (source?: string) => exampleReport({kind: 'service', service: 'web-lb', namespace: 'default', ...(source !== undefined ? {source} : {})})

describe('loopback node ports', () => {
  it('are traced from each node itself when no source is given', () => {
    expect(loopbackRows(webLB())).toEqual(['node-a 127.0.0.1:31443/TCP node 127.0.0.1', 'node-b 127.0.0.1:31443/TCP node 127.0.0.1'])
  })

  it.each([
    ['an outside client', '203.0.113.9'],
    ['a pod', '10.244.0.20'],
    ['an address in a pod network', '10.244.1.250'],
  ])('are not traced from %s (--source %s)', (_who, source) => {
    const r = webLB(source)
    expect(r.nodes.flatMap((n) => n.paths).length).toBeGreaterThan(0)
    expect(loopbackRows(r)).toEqual([])
  })

  it('are traced from the node whose address --source is, and from any node for --source 127.0.0.1', () => {
    expect(loopbackRows(webLB('192.168.49.3'))).toEqual(['node-b 127.0.0.1:31443/TCP node 192.168.49.3'])
    expect(loopbackRows(webLB('127.0.0.1'))).toEqual(['node-a 127.0.0.1:31443/TCP node 127.0.0.1', 'node-b 127.0.0.1:31443/TCP node 127.0.0.1'])
  })

  it('--ip 127.0.0.1:NODEPORT with an outside --source traces nothing', () => {
    const r = exampleReport({kind: 'ip', ip: '127.0.0.1', port: 31443, protocol: 'TCP', source: '203.0.113.9'})
    expect(r.nodes.flatMap((n) => n.paths)).toEqual([])
  })
})
