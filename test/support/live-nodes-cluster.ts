// The cluster the live-nodes integration test serves: the two-node reference capture's objects with
// its nodes moved to the test LAN, four more Nodes, and two Services with hostile names and ports
// (kube-apiserver would refuse them; a compromised or buggy one might not). Plus the kube-proxy rules
// of a node that lags behind the API: it still DNATs frontend to a pod that was deleted. And a
// dual-stack Service dual/web with an endpoint per family on node1 and node2, which hold its IPv6 rules.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import type {V1EndpointSlice, V1Node, V1Service} from '@kubernetes/client-node'
import {parseClusterFile} from '../../src/adapters/bundle/cluster-file.js'
import type {ClusterView} from '../../src/core/model.js'
import {defined} from './defined.js'
import {service, slice} from './builders.js'
import {renderKubeProxyRestore} from './kube-proxy-rules.js'
import {root} from './cli.js'

const REFERENCE = path.join(root, 'test/fixtures/two-node-iptables-v1.26')

/** A pod IP no pod has any more: the stale node still forwards to it. */
export const GHOST_POD_IP = '10.244.3.99'

/** Shell words that would do something if any of them reached a shell; `marker` is the file they would create. */
export function hostileWords(marker: string): {serviceName: string; portName: string; multiLineName: string} {
  return {
    serviceName: `x$(touch ${marker})`,
    portName: `\`touch ${marker}\`;rm -rf ${marker}.d`,
    multiLineName: `y\n$(touch ${marker})\n`,
  }
}

function clone<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T
}

function withAddress(n: V1Node, name: string, ip: string, podCIDR: string): V1Node {
  const copy = clone(n)
  copy.metadata = {...copy.metadata, name, labels: {...copy.metadata?.labels, 'kubernetes.io/hostname': name}}
  copy.spec = {...copy.spec, podCIDR, podCIDRs: [podCIDR]}
  copy.status = {
    ...copy.status,
    addresses: [
      {type: 'InternalIP', address: ip},
      {type: 'Hostname', address: name},
    ],
  }
  return copy
}

function hostileService(name: string, portName: string, clusterIP: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name, namespace: 'storefront', annotations: {note: '$(touch /tmp/never); `reboot`'}},
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ports: [{name: portName, port: 80, protocol: 'TCP', targetPort: 8080}],
      selector: {app: 'nothing-here'},
    },
  }
}

export interface LiveNodesCluster {
  /** What the API serves. */
  view: ClusterView
  /** Node name → iptables-restore input (absent: the node has no rules). */
  rules: Record<string, string>
  /** Node name → ip6tables-restore input: dual/web's IPv6 rules (node1 and node2). */
  rules6: Record<string, string>
}

/** dual/web: RequireDualStack, one endpoint per family on node1 and node2 (IPv4 and IPv6 slices). */
function dualStackWeb(): Pick<ClusterView, 'services' | 'endpointSlices'> {
  const web = service({namespace: 'dual', clusterIP: '10.96.77.77', selector: {app: 'dual-web'}})
  web.spec = {...web.spec, clusterIPs: ['10.96.77.77', 'fd00:10:96::77'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack'}
  const endpoints = (ips: [string, string]) => ips.map((ip, i) => ({ip, node: `node${i + 1}`, pod: `web-${i}`}))
  return {
    services: [web],
    endpointSlices: [
      slice({namespace: 'dual', name: 'web-v4', endpoints: endpoints(['10.244.1.77', '10.244.2.77'])}),
      slice({namespace: 'dual', name: 'web-v6', addressType: 'IPv6', endpoints: endpoints(['fd00:10:244:1::77', 'fd00:10:244:2::77'])}),
    ],
  }
}

/**
 * The served view and each node's rules. `ips` gives the test LAN address of node1, node2 and the
 * extra nodes; node-stale's rules are rendered from the view plus a frontend endpoint of a deleted pod.
 */
export function liveNodesCluster(ips: Record<string, string>, extraNodes: string[], marker: string): LiveNodesCluster {
  const view = parseClusterFile(readFileSync(path.join(REFERENCE, 'cluster.yaml'), 'utf8'), 'cluster.yaml')
  const node1 = view.nodes.find((n) => n.metadata?.name === 'node1')!
  const ipOf = (name: string) => defined(ips[name], `the test LAN address of ${name}`)
  view.nodes = view.nodes.map((n) => withAddress(n, n.metadata!.name!, ipOf(n.metadata!.name!), n.spec!.podCIDR!))
  extraNodes.forEach((name, i) => view.nodes.push(withAddress(node1, name, ipOf(name), `10.244.${i + 3}.0/24`)))
  const words = hostileWords(marker)
  view.services.push(hostileService(words.serviceName, words.portName, '10.96.66.66'), hostileService(words.multiLineName, 'p', '10.96.66.67'))
  const dual = dualStackWeb()
  view.services.push(...dual.services)
  view.endpointSlices.push(...dual.endpointSlices)

  // The stale node: kube-proxy there last synced when frontend had a fourth pod.
  const lagging = clone(view)
  lagging.services = lagging.services.filter((s) => s.metadata?.name !== words.multiLineName)
  const slice = lagging.endpointSlices.find(
    (s: V1EndpointSlice) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'frontend' && (s.ports ?? []).length > 0,
  )!
  slice.endpoints.push({
    addresses: [GHOST_POD_IP],
    conditions: {ready: true, serving: true, terminating: false},
    nodeName: 'node-stale',
    targetRef: {kind: 'Pod', name: 'frontend-ghost', namespace: 'storefront'},
  })
  const rules: Record<string, string> = {
    node1: readFileSync(path.join(REFERENCE, 'nodes/node1/iptables-save.txt'), 'utf8'),
    node2: readFileSync(path.join(REFERENCE, 'nodes/node2/iptables-save.txt'), 'utf8'),
    'node-stale': renderKubeProxyRestore(lagging, 'node-stale', {clusterCIDR: '10.244.0.0/16', nodeIPs: [ipOf('node-stale')]}),
  }
  const rules6 = Object.fromEntries(
    ['node1', 'node2'].map((n) => [n, renderKubeProxyRestore(view, n, {clusterCIDR: 'fd00:10:244::/56', nodeIPs: [], family: 6})]),
  )
  return {view, rules, rules6}
}

/** The view as a v1 List (cluster.json of a bundle). */
export function asList(view: ClusterView): string {
  const items = [
    ...view.services.map((o) => ({kind: 'Service', apiVersion: 'v1', ...o})),
    ...view.endpointSlices.map((o) => ({kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', ...o})),
    ...view.endpoints.map((o) => ({kind: 'Endpoints', apiVersion: 'v1', ...o})),
    ...view.pods.map((o) => ({kind: 'Pod', apiVersion: 'v1', ...o})),
    ...view.nodes.map((o) => ({kind: 'Node', apiVersion: 'v1', ...o})),
  ]
  return JSON.stringify({apiVersion: 'v1', kind: 'List', items})
}
