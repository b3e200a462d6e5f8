// What is equal is printed once: merging is decided on the typed paths of the example bundle.
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../src/adapters/bundle/reader.js'
import {runTrace} from '../../src/app/run-trace.js'
import type {NodeReport, Query} from '../../src/core/model.js'
import {backendLists, mergeNodes, mergeRows} from '../../src/render/merge.js'
import {renderTable} from '../../src/render/table.js'
import {example} from '../support/cli.js'

const bundle = new BundleDir(example)
const report = async (query: Query) => (await runTrace({query, nodes: [], failOn: 'error', ignore: []}, {cluster: bundle, reader: bundle})).report
const service = (name: string): Query => ({kind: 'service', service: name, namespace: 'default'})

describe('mergeNodes', () => {
  it('nodes that trace a Service alike are one block; node ports on each node’s own address count as the same entry', async () => {
    const {nodes} = await report(service('hello-world'))
    const blocks = mergeNodes(nodes)
    expect(blocks.map((b) => b.nodes)).toEqual([['node-a', 'node-b']])
    expect(blocks[0]?.rows.map((r) => [r.path.entry.kind, r.ownNodeAddress, r.from])).toEqual([
      ['cluster-ip', false, ['pod', 'node']],
      ['node-port', true, ['external', 'node']],
      ['node-port', false, ['node']],
    ])
    expect(backendLists(blocks).map((l) => l.length)).toEqual([3])
  })

  it('a node whose outcome differs gets its own block', async () => {
    const {nodes} = await report(service('hello-world'))
    const [a, b] = nodes as [NodeReport, NodeReport]
    const rejecting: NodeReport = {...b, paths: b.paths.map((p) => ({...p, verdict: 'reject', backends: []}))}
    expect(mergeNodes([a, rejecting]).map((x) => x.nodes)).toEqual([['node-a'], ['node-b']])
  })

  it('unreadable nodes stay apart from traced ones', async () => {
    const {nodes} = await report(service('hello-world'))
    const [a, b] = nodes as [NodeReport, NodeReport]
    const broken: NodeReport = {name: b.name, mode: 'unknown', readError: 'no dump', paths: []}
    expect(mergeNodes([a, broken]).map((x) => [x.nodes, x.readError])).toEqual([
      [['node-a'], undefined],
      [['node-b'], 'no dump'],
    ])
  })
})

describe('mergeRows', () => {
  it('keeps rows of the same entry apart when their outcomes differ', async () => {
    const {nodes} = await report(service('web-lb'))
    const rows = mergeRows(nodes[0]?.paths ?? [])
    const lb = rows.filter((r) => r.path.entry.kind === 'load-balancer')
    expect(lb.length).toBeGreaterThan(0)
    expect(new Set(lb.map((r) => r.path.alternatives.length)).size).toBe(lb.length)
  })
})

describe('a healthy Service on 50 nodes', () => {
  it('is one screen: one block naming every node, the same rows as on two', async () => {
    const r = await report(service('hello-world'))
    const [a] = r.nodes as [NodeReport]
    const nodes = Array.from({length: 50}, (_, i): NodeReport => {
      const ip = `192.168.50.${i + 1}`
      const own = (address: string) => address.replace('192.168.49.2', ip)
      return {
        ...a,
        name: `node-${String(i).padStart(2, '0')}`,
        paths: a.paths.map((p) => ({
          ...p,
          entry: {...p.entry, address: own(p.entry.address), destination: {...p.entry.destination, ip: own(p.entry.destination.ip)}},
        })),
      }
    })
    const text = renderTable({...r, nodes}, {color: false, wide: false, width: 80})
    expect(mergeNodes(nodes)).toHaveLength(1)
    expect(text.split('\n').length).toBeLessThanOrEqual(40)
    expect(text).toContain('node-00, node-01')
    expect(text).toContain('node-49')
  })
})
