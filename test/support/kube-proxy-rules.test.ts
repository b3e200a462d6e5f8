// The fixture renderer against kube-proxy v1.26.1's own expected dumps (test/fixtures/samples,
// inputs as described in the reference samples/INDEX.md) and the hash vectors of the reference, 2.3.
import {existsSync, readFileSync} from 'node:fs'
import type {V1EndpointSlice, V1Service} from '@kubernetes/client-node'
import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {
  endpointChainName,
  kubeProxyHash,
  renderKubeProxyRestore,
  servicePortChainName,
  type KubeProxyClusterInput,
  type KubeProxyRulesOptions,
} from './kube-proxy-rules.js'

interface PortSpec {
  name?: string
  port?: number
  nodePort?: number
}
interface ServiceSpec {
  name?: string
  ns?: string
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer'
  clusterIP: string
  ports?: PortSpec[]
  etp?: 'Local' | undefined
  itp?: 'Local'
  externalIPs?: string[]
  lbIPs?: string[]
  sourceRanges?: string[]
  healthCheckNodePort?: number
  affinitySeconds?: number
}

/** A Service as the API returns it; defaults: ns1/svc1, ClusterIP, port p80 80/TCP. */
function service(s: ServiceSpec): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name: s.name ?? 'svc1', namespace: s.ns ?? 'ns1'},
    spec: {
      type: s.type ?? 'ClusterIP',
      clusterIP: s.clusterIP,
      clusterIPs: [s.clusterIP],
      ports: (s.ports ?? [{name: 'p80'}]).map((p) => ({
        ...(p.name !== undefined ? {name: p.name} : {}),
        port: p.port ?? 80,
        protocol: 'TCP',
        targetPort: p.port ?? 80,
        ...(p.nodePort !== undefined ? {nodePort: p.nodePort} : {}),
      })),
      ...(s.etp !== undefined || s.type === 'NodePort' || s.type === 'LoadBalancer' ? {externalTrafficPolicy: s.etp ?? 'Cluster'} : {}),
      internalTrafficPolicy: s.itp ?? 'Cluster',
      ...(s.externalIPs !== undefined ? {externalIPs: s.externalIPs} : {}),
      ...(s.sourceRanges !== undefined ? {loadBalancerSourceRanges: s.sourceRanges} : {}),
      ...(s.healthCheckNodePort !== undefined ? {healthCheckNodePort: s.healthCheckNodePort} : {}),
      sessionAffinity: s.affinitySeconds ? 'ClientIP' : 'None',
      ...(s.affinitySeconds ? {sessionAffinityConfig: {clientIP: {timeoutSeconds: s.affinitySeconds}}} : {}),
    },
    status: {loadBalancer: s.lbIPs !== undefined ? {ingress: s.lbIPs.map((ip) => ({ip}))} : {}},
  }
}

interface EndpointSpec {
  ip: string
  node?: string
  ready?: boolean
  serving?: boolean
  terminating?: boolean
}

/** An EndpointSlice `<svc>-1` with one TCP port (name `p80` unless given; `''` is an unnamed port). */
function slice(endpoints: EndpointSpec[], opts: {svc?: string; ns?: string; portName?: string; port?: number} = {}): V1EndpointSlice {
  const svc = opts.svc ?? 'svc1'
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    addressType: 'IPv4',
    metadata: {name: `${svc}-1`, namespace: opts.ns ?? 'ns1', labels: {'kubernetes.io/service-name': svc}},
    ports: [{name: opts.portName ?? 'p80', port: opts.port ?? 80, protocol: 'TCP'}],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.node !== undefined ? {nodeName: e.node} : {}),
      conditions: {ready: e.ready ?? true, serving: e.serving ?? true, terminating: e.terminating ?? false},
    })),
  }
}

const NODE = 'test-hostname'
const OPTIONS: KubeProxyRulesOptions = {clusterCIDR: '10.0.0.0/8', nodeIPs: ['192.168.0.2'], randomFully: false}
const terminating = (ip: string, node: string, serving = true): EndpointSpec => ({ip, node, ready: false, serving, terminating: true})
const lbLocalUnnamed = (etp?: 'Local'): ServiceSpec => ({
  type: 'LoadBalancer',
  clusterIP: '172.30.1.1',
  ports: [{name: ''}],
  etp,
  lbIPs: ['1.2.3.4'],
  healthCheckNodePort: 30000,
  affinitySeconds: 10800,
})

interface SampleCase {
  file: string
  cluster: Pick<KubeProxyClusterInput, 'services' | 'endpointSlices'>
  options?: Partial<KubeProxyRulesOptions>
}

// Inputs of each v1.26.1 test, as described in the reference samples/INDEX.md.
const CASES: SampleCase[] = [
  {
    file: 'iptables-1.26-clusterip-no-endpoints.txt',
    cluster: {services: [service({clusterIP: '172.30.0.41'})], endpointSlices: []},
  },
  {
    file: 'iptables-1.26-clusterip-three-endpoints.txt',
    cluster: {
      services: [service({clusterIP: '172.30.1.1', ports: [{name: ''}]})],
      endpointSlices: [
        slice(
          [
            {ip: '10.0.1.1', node: NODE},
            {ip: '10.0.1.2', node: 'host1'},
            {ip: '10.0.1.3', node: 'host2'},
          ],
          {portName: ''},
        ),
      ],
    },
  },
  {
    file: 'iptables-1.26-internal-traffic-policy-local.txt',
    cluster: {
      services: [service({clusterIP: '172.30.1.1', ports: [{name: ''}], itp: 'Local'})],
      endpointSlices: [
        slice(
          [
            {ip: '10.0.1.1', node: NODE},
            {ip: '10.0.1.2', node: 'host1'},
            {ip: '10.0.1.3', node: 'host2'},
          ],
          {portName: ''},
        ),
      ],
    },
  },
  {
    file: 'iptables-1.26-internal-traffic-policy-local-no-local-endpoints.txt',
    cluster: {
      services: [service({clusterIP: '172.30.1.1', ports: [{name: ''}], itp: 'Local'})],
      endpointSlices: [
        slice(
          [
            {ip: '10.0.1.1', node: 'host0'},
            {ip: '10.0.1.2', node: 'host1'},
            {ip: '10.0.1.3', node: 'host2'},
          ],
          {portName: ''},
        ),
      ],
    },
  },
  {
    file: 'iptables-1.26-nodeport.txt',
    cluster: {
      services: [service({type: 'NodePort', clusterIP: '172.30.0.41', ports: [{name: 'p80', nodePort: 3001}]})],
      endpointSlices: [slice([{ip: '10.180.0.1'}])],
    },
  },
  {
    file: 'iptables-1.26-nodeport-local.txt',
    cluster: {
      services: [service({type: 'NodePort', clusterIP: '172.30.0.41', ports: [{name: 'p80', nodePort: 3001}], etp: 'Local'})],
      endpointSlices: [slice([{ip: '10.180.0.1'}, {ip: '10.180.2.1', node: NODE}])],
    },
    options: {nodePortAddresses: ['192.168.0.0/24']},
  },
  {
    file: 'iptables-1.26-loadbalancer-source-ranges.txt',
    cluster: {
      services: [
        service({
          type: 'LoadBalancer',
          clusterIP: '172.30.0.41',
          ports: [{name: 'p80', nodePort: 3001}],
          lbIPs: ['1.2.3.4', '5.6.7.8'],
          sourceRanges: ['192.168.0.0/24', ' 203.0.113.0/25'],
        }),
      ],
      endpointSlices: [slice([{ip: '10.180.0.1'}])],
    },
  },
  {
    file: 'iptables-1.26-loadbalancer-no-endpoints.txt',
    cluster: {
      services: [
        service({
          type: 'LoadBalancer',
          clusterIP: '172.30.0.41',
          ports: [{name: 'p80', nodePort: 3001}],
          etp: 'Local',
          lbIPs: ['1.2.3.4'],
          healthCheckNodePort: 30000,
          affinitySeconds: 10800,
        }),
      ],
      endpointSlices: [],
    },
  },
  {
    file: 'iptables-1.26-loadbalancer-local-affinity.txt',
    cluster: {
      services: [
        service({
          type: 'LoadBalancer',
          clusterIP: '172.30.0.41',
          ports: [{name: 'p80', nodePort: 3001}],
          etp: 'Local',
          lbIPs: ['1.2.3.4'],
          healthCheckNodePort: 30000,
          affinitySeconds: 10800,
        }),
      ],
      endpointSlices: [slice([{ip: '10.180.0.1'}, {ip: '10.180.2.1', node: NODE}])],
    },
  },
  {
    file: 'iptables-1.26-externalips-local.txt',
    cluster: {
      services: [service({type: 'NodePort', clusterIP: '172.30.0.41', etp: 'Local', externalIPs: ['192.168.99.11']})],
      endpointSlices: [slice([{ip: '10.180.0.1'}, {ip: '10.180.2.1', node: NODE}])],
    },
  },
  {
    file: 'iptables-1.26-terminating-endpoints-local.txt',
    cluster: {
      services: [service(lbLocalUnnamed('Local'))],
      endpointSlices: [
        slice([terminating('10.0.1.2', NODE), terminating('10.0.1.3', NODE), terminating('10.0.1.4', NODE, false), {ip: '10.0.1.5', node: 'host-1'}], {
          portName: '',
        }),
      ],
    },
  },
  {
    file: 'iptables-1.26-terminating-endpoints-cluster.txt',
    cluster: {
      services: [service(lbLocalUnnamed())],
      endpointSlices: [
        slice(
          [
            terminating('10.0.1.2', NODE),
            terminating('10.0.1.3', NODE),
            terminating('10.0.1.4', 'another-host', false),
            terminating('10.0.1.5', 'another-host'),
          ],
          {portName: ''},
        ),
      ],
    },
  },
  {
    file: 'iptables-1.26-overall-mixed.txt',
    cluster: {
      services: [
        service({name: 'svc1', ns: 'ns1', clusterIP: '172.30.0.41'}),
        service({
          name: 'svc2',
          ns: 'ns2',
          type: 'LoadBalancer',
          clusterIP: '172.30.0.42',
          ports: [{name: 'p80', nodePort: 3001}],
          etp: 'Local',
          lbIPs: ['1.2.3.4'],
          externalIPs: ['192.168.99.22'],
          healthCheckNodePort: 30000,
        }),
        service({name: 'svc3', ns: 'ns3', type: 'NodePort', clusterIP: '172.30.0.43', ports: [{name: 'p80', nodePort: 3003}]}),
        service({name: 'svc4', ns: 'ns4', type: 'NodePort', clusterIP: '172.30.0.44', externalIPs: ['192.168.99.33']}),
        service({
          name: 'svc5',
          ns: 'ns5',
          type: 'LoadBalancer',
          clusterIP: '172.30.0.45',
          ports: [{name: 'p80', nodePort: 3002}],
          lbIPs: ['5.6.7.8'],
          healthCheckNodePort: 30000,
          sourceRanges: [' 203.0.113.0/25'],
        }),
        service({name: 'svc6', ns: 'ns6', clusterIP: '172.30.0.46'}),
      ],
      endpointSlices: [
        slice([{ip: '10.180.0.1'}], {svc: 'svc1', ns: 'ns1'}),
        slice([{ip: '10.180.0.2'}], {svc: 'svc2', ns: 'ns2'}),
        slice([{ip: '10.180.0.3'}], {svc: 'svc3', ns: 'ns3'}),
        slice([{ip: '10.180.0.4'}, {ip: '10.180.0.5', node: NODE}], {svc: 'svc4', ns: 'ns4'}),
        slice([{ip: '10.180.0.3'}], {svc: 'svc5', ns: 'ns5'}),
      ],
    },
  },
]

/** table → chain → rule lines (`-A …` text after the chain name), plus the declared chains. */
interface ParsedRestore {
  chains: Map<string, Set<string>>
  rules: Map<string, Map<string, string[]>>
}

/** Reads restore input (kube-proxy's form). The fake proxier's mark is `0x4000`; kube-proxy writes `%#08x`. */
function parseRestore(text: string): ParsedRestore {
  const chains = new Map<string, Set<string>>()
  const rules = new Map<string, Map<string, string[]>>()
  let table = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim().replaceAll('0x00004000', '0x4000')
    if (line.startsWith('*')) {
      table = line.slice(1)
      chains.set(table, chains.get(table) ?? new Set())
      rules.set(table, rules.get(table) ?? new Map())
    } else if (line.startsWith(':')) {
      const [chain = ''] = line.slice(1).split(' ')
      chains.get(table)!.add(chain)
    } else if (line.startsWith('-A ')) {
      const [, chain = '', ...rest] = line.split(' ')
      const byChain = rules.get(table)!
      byChain.set(chain, [...(byChain.get(chain) ?? []), rest.join(' ')])
    }
  }
  return {chains, rules}
}

const kubeOnly = (names: Iterable<string>) => [...names].filter((c) => c.startsWith('KUBE-') && c !== 'KUBE-PROXY-CANARY').sort()
/** Dispatch chains are sorted by the upstream test helper; per-service chains keep their order. */
const orderInsensitive = (table: string, chain: string) => table === 'filter' || chain === 'KUBE-SERVICES' || chain === 'KUBE-NODEPORTS'

describe('renderKubeProxyRestore against the kube-proxy v1.26.1 test expectations', () => {
  for (const {file, cluster, options} of CASES)
    it(file, () => {
      const sample = parseRestore(readFileSync(new URL(`../fixtures/samples/${file}`, import.meta.url), 'utf8'))
      const rendered = parseRestore(renderKubeProxyRestore(cluster, NODE, {...OPTIONS, ...options}))
      for (const table of ['filter', 'nat']) {
        expect(kubeOnly(rendered.chains.get(table)!), `${table} chains`).toEqual(kubeOnly(sample.chains.get(table)!))
        const want = sample.rules.get(table)!
        const got = rendered.rules.get(table)!
        expect(kubeOnly(got.keys()), `${table} chains with rules`).toEqual(kubeOnly(want.keys()))
        for (const chain of kubeOnly(want.keys())) {
          const sorted = (lines: string[]) => (orderInsensitive(table, chain) ? [...lines].sort() : lines)
          expect(sorted(got.get(chain)!), `${table} ${chain}`).toEqual(sorted(want.get(chain)!))
        }
      }
      expect(rendered.rules.get('nat')!.get('KUBE-SERVICES')!.at(-1)).toContain('-j KUBE-NODEPORTS')
    })

  it('writes the masquerade mark as Go "%#08x" and MASQUERADE --random-fully by default', () => {
    const text = renderKubeProxyRestore({services: [], endpointSlices: []}, NODE, {clusterCIDR: '10.0.0.0/8', nodeIPs: ['192.168.0.2']})
    expect(text).toContain('-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000\n')
    expect(text).toContain('-j MASQUERADE --random-fully\n')
  })
})

describe('EnsureChain/EnsureRule set-up', () => {
  // Copied from the reference bundle two-node-iptables-v1.26, nodes/node1/iptables-save.txt.
  const bundleJumps = {
    filter: [
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ],
    nat: [
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    ],
  }

  it('installs the built-in chain jumps in the order a v1.26 node shows them', () => {
    const lines = renderKubeProxyRestore({services: [], endpointSlices: []}, NODE, OPTIONS).split('\n')
    const builtin = /^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) /
    const filterEnd = lines.indexOf('*nat')
    expect(lines.slice(0, filterEnd).filter((l) => builtin.test(l))).toEqual(bundleJumps.filter)
    expect(lines.slice(filterEnd).filter((l) => builtin.test(l))).toEqual(bundleJumps.nat)
    for (const table of ['filter', 'nat', 'mangle']) {
      const section = lines.slice(lines.indexOf(`*${table}`))
      expect(section.slice(0, section.indexOf('COMMIT'))).toContain(':KUBE-PROXY-CANARY - [0:0]')
    }
  })

  it('leaves them out with hookups: false (pure restore data)', () => {
    const text = renderKubeProxyRestore({services: [], endpointSlices: []}, NODE, {...OPTIONS, hookups: false})
    expect(text).not.toMatch(/^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) /m)
    expect(text).not.toContain('KUBE-PROXY-CANARY')
    expect(text).not.toContain('*mangle')
  })
})

describe('chain-name hashing (reference 2.3)', () => {
  it.each([
    [servicePortChainName('SVC', 'ns1/svc1:p80', 'tcp'), 'KUBE-SVC-XPGD46QRK7WJZT7O'],
    [endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80'), 'KUBE-SEP-SXIVWICOYRO3J4NJ'],
    [servicePortChainName('EXT', 'ns2/svc2:p80', 'TCP'), 'KUBE-EXT-GNZBNJ2PO5MGZ6GT'],
    [servicePortChainName('SVL', 'ns1/svc1', 'tcp'), 'KUBE-SVL-AQI2S6QIMU7PVVRP'],
    [endpointChainName('ns1/svc1', 'tcp', '10.0.1.5:80'), 'KUBE-SEP-EQCHZ7S2PJ72OHAY'],
    [servicePortChainName('FW', 'default/hello-world', 'tcp'), 'KUBE-FW-DZ6LTOHRG6HQWHYE'],
  ])('%s', (got, want) => {
    expect(got).toBe(want)
  })

  it('is 16 characters of the RFC 4648 alphabet', () => {
    expect(kubeProxyHash('')).toMatch(/^[A-Z2-7]{16}$/)
  })
})

// The bundled example must stay in step with the renderer: same chains, same number of rules each.
describe('examples/hello-world dumps', () => {
  const dir = new URL('../../examples/hello-world/', import.meta.url)
  const present = existsSync(new URL('cluster.yaml', dir))
  it.runIf(present).each(['node-a', 'node-b'])('%s matches a fresh rendering', (node) => {
    const list = yaml.load(readFileSync(new URL('cluster.yaml', dir), 'utf8')) as {items: Array<{kind: string}>}
    const ofKind = <T>(kind: string) => list.items.filter((i) => i.kind === kind) as T[]
    const nodeObj = ofKind<{metadata: {name: string}; status: {addresses: Array<{type: string; address: string}>}}>('Node').find(
      (n) => n.metadata.name === node,
    )!
    const nodeIPs = nodeObj.status.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address)
    const cluster = {services: ofKind<V1Service>('Service'), endpointSlices: ofKind<V1EndpointSlice>('EndpointSlice')}
    const rendered = parseRestore(renderKubeProxyRestore(cluster, node, {clusterCIDR: '10.244.0.0/16', nodeIPs}))
    const dumped = parseRestore(readFileSync(new URL(`nodes/${node}/iptables-save.txt`, dir), 'utf8'))
    for (const table of ['filter', 'nat', 'mangle']) {
      expect([...dumped.chains.get(table)!].filter((c) => c.startsWith('KUBE-')).sort()).toEqual([...rendered.chains.get(table)!].sort())
      for (const [chain, lines] of rendered.rules.get(table)!) {
        expect(dumped.rules.get(table)!.get(chain)?.length, `${table} ${chain}`).toBe(lines.length)
      }
    }
  })
})

// kube-proxy's IPv6 proxier (`family: 6`): what it writes for ip6tables-restore, per the v1.26 proxier
// and the reference (2.3: `[IPv6]:port` endpoints; 2.4: `! -d ::1/128` on the node-port tail rule).
describe('the IPv6 proxier', () => {
  const dual: V1Service = {
    ...service({clusterIP: '172.30.0.41', externalIPs: ['192.0.2.7', '2001:db8::7'], sourceRanges: ['203.0.113.0/24', '2001:db8:1::/48']}),
  }
  dual.spec = {
    ...dual.spec,
    type: 'LoadBalancer',
    clusterIPs: ['172.30.0.41', 'fd00:10:96::29'],
    ipFamilies: ['IPv4', 'IPv6'],
    ports: [{name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001}],
  }
  dual.status = {loadBalancer: {ingress: [{ip: '1.2.3.4'}, {ip: '2001:db8::4'}]}}
  const v6only = service({name: 'only6', clusterIP: 'fd00:10:96::30'})
  const slices = [
    slice([{ip: '10.180.0.1'}]),
    {...slice([{ip: 'fd00:10:244::1', node: NODE}]), addressType: 'IPv6'},
    {...slice([{ip: 'fd00:10:244::2'}], {svc: 'only6'}), addressType: 'IPv6'},
  ]
  const cluster = {services: [dual, v6only], endpointSlices: slices}
  const V6: KubeProxyRulesOptions = {clusterCIDR: 'fd00:10:244::/56', nodeIPs: ['fd00:192:168::2'], family: 6}
  const v6 = renderKubeProxyRestore(cluster, NODE, V6)
  const v4 = renderKubeProxyRestore(cluster, NODE, OPTIONS)
  const sep = endpointChainName('ns1/svc1:p80', 'tcp', '[fd00:10:244::1]:80')

  it('matches the IPv6 cluster, external and load-balancer IPs, and DNATs to [addr]:port', () => {
    const svc = servicePortChainName('SVC', 'ns1/svc1:p80', 'tcp')
    expect(v6).toContain(`-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d fd00:10:96::29 --dport 80 -j ${svc}\n`)
    expect(v6).toContain('-m tcp -p tcp -d 2001:db8::7 --dport 80 -j KUBE-EXT-')
    expect(v6).toContain('-m tcp -p tcp -d 2001:db8::4 --dport 80 -j KUBE-FW-')
    expect(v6).toContain(`-A ${sep} -m comment --comment ns1/svc1:p80 -s fd00:10:244::1 -j KUBE-MARK-MASQ\n`)
    expect(v6).toContain(`-A ${sep} -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination [fd00:10:244::1]:80\n`)
    expect(v6).toContain(`-A ${svc} -m comment --comment "ns1/svc1:p80 -> [fd00:10:244::1]:80" -j ${sep}\n`)
  })

  it('never answers node ports on ::1', () => {
    expect(v6).toMatch(/-m addrtype --dst-type LOCAL ! -d ::1\/128 -j KUBE-NODEPORTS\n/)
    expect(v4).toMatch(/-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n/)
  })

  it("keeps to its family: the other family's Services, addresses, ranges and endpoints are left out", () => {
    expect(v6).toContain('2001:db8:1::/48')
    expect(v6).not.toMatch(/\b(172\.30\.0\.41|192\.0\.2\.7|1\.2\.3\.4|203\.0\.113\.0|10\.180\.0\.1)\b/)
    expect(v4).not.toMatch(/fd00:|2001:db8/)
    expect(v6).toContain('fd00:10:96::30')
    expect(v4).not.toContain(servicePortChainName('SVC', 'ns1/only6:p80', 'tcp'))
  })
})

// The dual-stack fixture must stay in step with the renderer, in both families.
describe('test/fixtures/dual-stack-iptables-v1.26 dumps', () => {
  const dir = new URL('../fixtures/dual-stack-iptables-v1.26/', import.meta.url)
  const list = yaml.load(readFileSync(new URL('cluster.yaml', dir), 'utf8')) as {items: Array<{kind: string}>}
  const ofKind = <T>(kind: string) => list.items.filter((i) => i.kind === kind) as T[]
  const cluster = {services: ofKind<V1Service>('Service'), endpointSlices: ofKind<V1EndpointSlice>('EndpointSlice')}
  it.each([
    ['node-a', 4, 'iptables-save.txt', '10.244.0.0/16'],
    ['node-a', 6, 'ip6tables-save.txt', 'fd00:10:244::/56'],
    ['node-b', 4, 'iptables-save.txt', '10.244.0.0/16'],
  ] as const)('%s IPv%s (%s) matches a fresh rendering', (node, family, file, clusterCIDR) => {
    const nodeObj = ofKind<{metadata: {name: string}; status: {addresses: Array<{type: string; address: string}>}}>('Node').find(
      (n) => n.metadata.name === node,
    )!
    const nodeIPs = nodeObj.status.addresses.filter((a) => a.type === 'InternalIP' && a.address.includes(':') === (family === 6)).map((a) => a.address)
    const rendered = parseRestore(renderKubeProxyRestore(cluster, node, {clusterCIDR, nodeIPs, family}))
    const dumped = parseRestore(readFileSync(new URL(`nodes/${node}/${file}`, dir), 'utf8'))
    for (const table of ['filter', 'nat', 'mangle']) {
      expect([...dumped.chains.get(table)!].filter((c) => c.startsWith('KUBE-')).sort()).toEqual([...rendered.chains.get(table)!].sort())
      for (const [chain, lines] of rendered.rules.get(table)!) {
        expect(dumped.rules.get(table)!.get(chain)?.length, `${table} ${chain}`).toBe(lines.length)
      }
    }
  })
})
