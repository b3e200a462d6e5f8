// --source as a range on the two-node cluster (real kube-proxy v1.26 rules): storefront/gateway lets
// only 172.30.0.100/32 reach its load-balancer address 172.30.0.201, so a range is decided whole or split.
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../../src/adapters/bundle/reader.js'
import {buildReport} from '../../../src/core/report.js'

const dir = fileURLToPath(new URL('../../fixtures/two-node-iptables-v1.26/', import.meta.url))
const bundle = new BundleDir(dir)
const {view} = await bundle.load()
const planes = await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n)))

/** node2's paths to the load-balancer address: traced address, what it stands for, verdict. */
function loadBalancerPaths(source: string): string[] {
  const r = buildReport({kind: 'service', service: 'gateway', namespace: 'storefront', source}, view, planes)
  const node2 = r.nodes.find((n) => n.name === 'node2')
  return (node2?.paths ?? [])
    .filter((p) => p.entry.kind === 'load-balancer')
    .map((p) => `${p.source} ${p.sourceRange?.stands ?? '-'} ${p.sourceRange?.part ?? ''} ${p.verdict}`.replace('  ', ' '))
}

const finding = (source: string) =>
  buildReport({kind: 'service', service: 'gateway', namespace: 'storefront', source}, view, planes).findings.find(
    (f) => f.id === 'source-outside-load-balancer-ranges',
  )?.message

describe('--source as a range at a load balancer with source ranges', () => {
  it.each([
    [
      'a range split by the source ranges: one address for the allowed part, one for the rest',
      '172.30.0.96/29',
      ['172.30.0.100 allowed 172.30.0.100 dnat', '172.30.0.97 rest drop'],
    ],
    ['a /32 is one address, allowed', '172.30.0.100/32', ['172.30.0.100 - dnat']],
    ['a range outside them: decided whole', '198.51.100.0/24', ['198.51.100.1 whole drop']],
  ])('%s (%s)', (_name, source, paths) => {
    expect(loadBalancerPaths(source)).toEqual(paths)
  })

  it.each([
    [
      '172.30.0.96/29',
      '172.30.0.96/29: 172.30.0.100 allowed, the rest rejected by loadBalancerSourceRanges of Service storefront/gateway: connections from the rest to the load-balancer address are dropped',
    ],
    [
      '198.51.100.0/24',
      'every client in 198.51.100.0/24 is outside loadBalancerSourceRanges of Service storefront/gateway: their connections to the load-balancer address are dropped',
    ],
    ['172.30.0.100/32', undefined],
  ])('the finding for %s says which part is allowed', (source, message) => {
    expect(finding(source)).toBe(message)
  })
})
