// How many rules a packet is compared against before its verdict (TracePath.rulesPassed), checked
// against a count made by hand from the fixture text: for each chain on the packet's way, the rules
// above and including the one that matched (or the whole chain when the packet falls off its end).
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {BundleDir} from '../../../src/adapters/bundle/reader.js'
import {indexIptablesSave} from '../../../src/core/iptables/dump.js'
import {traceIptables} from '../../../src/core/iptables/trace.js'
import type {Destination, SourceKind} from '../../../src/core/model.js'
import {buildReport} from '../../../src/core/report.js'

const samples = fileURLToPath(new URL('../../fixtures/samples/', import.meta.url))
const twoNode = fileURLToPath(new URL('../../fixtures/two-node-iptables-v1.26/', import.meta.url))

/** The `-A CHAIN …` lines of one chain of one table, in order, read straight from the dump text. */
function chainLines(text: string, table: string, chain: string): string[] {
  const section = text.split(`*${table}\n`)[1]?.split('\nCOMMIT')[0] ?? ''
  return section.split('\n').filter((l) => l.startsWith(`-A ${chain} `))
}

/** Rules compared in a chain: up to and including the first line containing `matched`, or all of them. */
function upTo(text: string, table: string, chain: string, matched?: string): number {
  const lines = chainLines(text, table, chain)
  if (matched === undefined) return lines.length
  const i = lines.findIndex((l) => l.includes(matched))
  if (i < 0) throw new Error(`no rule "${matched}" in ${table} ${chain}`)
  return i + 1
}

/** One chain on the packet's way: walked to the rule containing `matched`, or to its end. `hook`: entered by a hook rule the dump does not hold (restore input), itself one rule. */
type Step = {table: string; chain: string; matched?: string; hook?: true}

function handCount(text: string, steps: Step[]): number {
  return steps.reduce((sum, s) => sum + (s.hook ? 1 : 0) + upTo(text, s.table, s.chain, s.matched), 0)
}

const FORWARD_HOOKS = ['KUBE-PROXY-FIREWALL', 'KUBE-FORWARD', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']

describe('rules passed on the kube-proxy v1.26 samples (restore input: hook rules assumed)', () => {
  const cases: Array<{name: string; file: string; dst: Destination; from: SourceKind; source: string; steps: Step[]}> = [
    {
      name: 'three endpoints: pod to the cluster IP, the last backend',
      file: 'iptables-1.26-clusterip-three-endpoints.txt',
      dst: {ip: '172.30.1.1', port: 80, protocol: 'TCP'},
      from: 'pod',
      source: '10.244.0.5',
      steps: [
        {table: 'nat', chain: 'KUBE-SERVICES', matched: 'ns1/svc1 cluster IP', hook: true},
        // The pod is inside 10.0.0.0/8: the masquerade rule does not match; the third backend is the last rule.
        {table: 'nat', chain: 'KUBE-SVC-AQI2S6QIMU7PVVRP'},
        {table: 'nat', chain: 'KUBE-SEP-XGJFVO3L2O5SRFNT'},
        // filter FORWARD: every hook chain, none gives a verdict for a new, unmarked connection.
        ...FORWARD_HOOKS.map((chain): Step => ({table: 'filter', chain, hook: true})),
      ],
    },
    {
      name: 'no endpoints: pod to the cluster IP is rejected in filter KUBE-SERVICES',
      file: 'iptables-1.26-clusterip-no-endpoints.txt',
      dst: {ip: '172.30.0.41', port: 80, protocol: 'TCP'},
      from: 'pod',
      source: '10.244.0.5',
      steps: [
        {table: 'nat', chain: 'KUBE-SERVICES', hook: true},
        {table: 'filter', chain: 'KUBE-PROXY-FIREWALL', hook: true},
        {table: 'filter', chain: 'KUBE-FORWARD', hook: true},
        {table: 'filter', chain: 'KUBE-SERVICES', matched: 'has no endpoints', hook: true},
      ],
    },
  ]
  it.each(cases)('$name', (c) => {
    const text = readFileSync(samples + c.file, 'utf8')
    const trace = traceIptables(indexIptablesSave(text, c.file), {
      node: {name: 'node1', addresses: ['192.168.0.2']},
      destination: c.dst,
      from: c.from,
      source: c.source,
      podNetworks: ['10.0.0.0/8'],
    })
    expect(trace.lookup).toBe('rules')
    const settled = trace.outcomes.filter((o) => o.conditions.every((cond) => !cond.holds))
    const most = Math.max(...settled.map((o) => o.rulesPassed ?? -1))
    expect(most).toBe(handCount(text, c.steps))
  })
})

const bundle = new BundleDir(twoNode)
const {view} = await bundle.load()
const planes = await Promise.all((await bundle.nodeNames()).map((n) => bundle.read(n)))
const node1 = readFileSync(`${twoNode}nodes/node1/iptables-save.txt`, 'utf8')

describe('rules passed on the two-node cluster (real iptables-save of kube-proxy v1.26)', () => {
  const report = buildReport({kind: 'service', service: 'frontend', namespace: 'storefront'}, view, planes)
  const rejected = buildReport({kind: 'service', service: 'cache', namespace: 'storefront'}, view, planes)
  const cases: Array<{name: string; path: () => number | undefined; steps: Step[]}> = [
    {
      name: 'node1 itself to frontend:http, the last of three backends',
      path: () => report.nodes.find((n) => n.name === 'node1')?.paths.find((p) => p.from === 'node' && p.entry.destination.port === 80)?.rulesPassed,
      steps: [
        {table: 'nat', chain: 'OUTPUT', matched: 'kubernetes service portals'},
        {table: 'nat', chain: 'KUBE-SERVICES', matched: 'storefront/frontend:http cluster IP'},
        // The node's address is outside 10.244.0.0/16: masquerade (KUBE-MARK-MASQ's one rule), then every backend rule.
        {table: 'nat', chain: 'KUBE-SVC-IO4ZSGTNCDED46CR'},
        {table: 'nat', chain: 'KUBE-MARK-MASQ'},
        {table: 'nat', chain: 'KUBE-SEP-PKGK2ON4U2YJSB5G'},
        {table: 'filter', chain: 'OUTPUT'},
        {table: 'filter', chain: 'KUBE-PROXY-FIREWALL'},
        {table: 'filter', chain: 'KUBE-SERVICES'},
      ],
    },
    {
      name: 'a pod on node1 to cache (no endpoints): REJECT in filter KUBE-SERVICES',
      path: () => rejected.nodes.find((n) => n.name === 'node1')?.paths.find((p) => p.from === 'pod')?.rulesPassed,
      steps: [
        {table: 'nat', chain: 'PREROUTING'},
        {table: 'nat', chain: 'KUBE-SERVICES'},
        {table: 'filter', chain: 'FORWARD', matched: 'conntrack --ctstate NEW -m comment --comment "kubernetes service portals"'},
        {table: 'filter', chain: 'KUBE-PROXY-FIREWALL'},
        {table: 'filter', chain: 'KUBE-FORWARD'},
        {table: 'filter', chain: 'KUBE-SERVICES', matched: 'storefront/cache:redis has no endpoints'},
      ],
    },
  ]
  it.each(cases)('$name', (c) => {
    expect(c.path()).toBe(handCount(node1, c.steps))
  })

  it('check mode: each node reports the length of nat KUBE-SERVICES and the path that passes the most rules', () => {
    const all = buildReport({kind: 'all'}, view, planes)
    for (const node of all.nodes) {
      const text = readFileSync(`${twoNode}nodes/${node.name}/iptables-save.txt`, 'utf8')
      const most = Math.max(...node.paths.map((p) => p.rulesPassed ?? 0))
      const deepest = node.paths.find((p) => p.rulesPassed === most)
      expect(node.ruleWalk).toEqual({
        lookup: 'rules',
        kubeServicesRules: chainLines(text, 'nat', 'KUBE-SERVICES').length,
        deepest: {service: deepest?.entry.service, address: deepest?.entry.address, from: deepest?.from, rulesPassed: most},
      })
    }
    // node2's longest walk: an outside client at api's node port 31500 (externalTrafficPolicy Local), counted by hand.
    const node2 = readFileSync(`${twoNode}nodes/node2/iptables-save.txt`, 'utf8')
    expect(all.nodes.find((n) => n.name === 'node2')?.ruleWalk?.deepest?.address).toBe('172.30.0.12:31500/TCP')
    expect(all.nodes.find((n) => n.name === 'node2')?.ruleWalk?.deepest?.rulesPassed).toBe(
      handCount(node2, [
        {table: 'nat', chain: 'PREROUTING', matched: 'kubernetes service portals'},
        {table: 'nat', chain: 'KUBE-SERVICES', matched: 'kubernetes service nodeports'},
        {table: 'nat', chain: 'KUBE-NODEPORTS', matched: 'storefront/api:http'},
        // No masquerade for an outside client under Local: on through KUBE-SVL to the second backend.
        {table: 'nat', chain: 'KUBE-EXT-SLGWNRI2E2J2HGZV'},
        {table: 'nat', chain: 'KUBE-SVL-SLGWNRI2E2J2HGZV'},
        {table: 'nat', chain: 'KUBE-SEP-FSVEVC7IOJQSJAEX'},
        // The pod is not the node's address: filter FORWARD, every hook chain, none with a verdict.
        {table: 'filter', chain: 'FORWARD'},
        {table: 'filter', chain: 'KUBE-PROXY-FIREWALL'},
        {table: 'filter', chain: 'KUBE-FORWARD'},
        {table: 'filter', chain: 'KUBE-SERVICES'},
        {table: 'filter', chain: 'KUBE-EXTERNAL-SERVICES'},
      ]),
    )
  })
})
